"""Token encoding: exact round trips, hand-worked examples, and notes that honour their category."""

import numpy as np
import pytest

from seqmodels.music.corpus import make_corpus
from seqmodels.music.theory import Note, ii_v_i, jazz_blues, progression_length
from seqmodels.music.tokens import HIGH, LOW, N_VALUES, START_PITCH, TOKEN_ID, VOCAB, decode, encode, token_name

C, Db, D, Eb, E, F, Gb, G, Ab, A, Bb, B = range(12)

# Blues in E-flat, spelled by hand: chord tones and scale of every chord in it.
EB_BLUES_SETS = {
    "E-7": ({Eb, G, Bb, Db}, {Eb, F, G, Ab, Bb, C, Db}),
    "A-7": ({Ab, C, Eb, Gb}, {Ab, Bb, C, Db, Eb, F, Gb}),
    "C7": ({C, E, G, Bb}, {C, D, E, F, G, A, Bb}),
    "Fm7": ({F, Ab, C, Eb}, {F, G, Ab, Bb, C, D, Eb}),
    "B-7": ({Bb, D, F, Ab}, {Bb, C, D, Eb, F, G, Ab}),
}


def test_vocabulary_is_small_and_unique():
    assert 50 <= N_VALUES <= 100
    assert len(set(VOCAB)) == N_VALUES == len(TOKEN_ID)
    assert len({token_name(i) for i in range(N_VALUES)}) == N_VALUES


def test_hand_worked_example():
    # Over Dm7 (D F A C; tensions E G B), starting from G4 = 67:
    notes = [Note(69, 0, 1),  # A4: the next chord tone up
             Note(71, 1, 1),  # B4: the next tension up
             Note(72, 2, 2),  # C5: the next chord tone up, a quarter
             Note(68, 4, 1),  # G#4: chromatic, the second such note down from C5 (B-flat 70 is the first)
             Note(69, 6, 2)]  # after an eighth rest, A4: the next chord tone up from G#
    expected = [("C", 1, 1), ("S", 1, 1), ("C", 1, 2), ("A", -2, 1), ("R", 0, 1), ("C", 1, 2)]
    assert START_PITCH == 67
    assert encode(notes, ii_v_i("C")) == [TOKEN_ID[t] for t in expected]
    assert decode([TOKEN_ID[t] for t in expected], ii_v_i("C")) == notes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_on_generated_solos(seed):
    for progression, notes in make_corpus(10, seed):
        ids = encode(notes, progression, progression_length(progression))
        assert decode(ids, progression) == notes
        assert sum(VOCAB[i][2] for i in ids) == progression_length(progression)  # rests fill the chorus


def test_long_rests_are_split():
    ids = encode([Note(65, 9, 1)], ii_v_i("C"), length=12)  # F4 over G7: the next chord tone below G4
    assert [VOCAB[i] for i in ids] == [("R", 0, 4), ("R", 0, 4), ("R", 0, 1), ("C", -1, 1), ("R", 0, 2)]


def test_encode_rejects_what_the_vocabulary_cannot_say():
    with pytest.raises(ValueError):
        encode([Note(60, 0, 2), Note(62, 1, 1)], ii_v_i("C"))  # overlapping notes
    with pytest.raises(ValueError):
        encode([Note(90, 0, 1)], ii_v_i("C"))  # a leap far beyond three chord tones
    with pytest.raises(ValueError):
        encode([Note(67, 0, 5)], ii_v_i("C"))  # no token lasts five eighths


def test_random_tokens_decode_to_notes_of_their_category():
    blues = jazz_blues("E-")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, N_VALUES, size=2000).tolist()
    notes = decode(ids, blues)
    by_start = {n.start: n for n in notes}
    position, previous = 0, START_PITCH
    for i in ids:
        category, steps, duration = VOCAB[i]
        if category != "R":
            note = by_start[position]
            tones, scale = EB_BLUES_SETS[_chord(blues, position)]
            allowed = {"C": tones, "S": scale - tones, "A": set(range(12)) - scale}[category]
            assert note.pitch % 12 in allowed
            assert LOW <= note.pitch <= HIGH
            members = [p for p in range(previous - 24, previous + 25) if p % 12 in allowed]
            if steps == 0:  # stay if possible, else the nearest member (the lower one on a tie)
                nearest = min(members, key=lambda p: (abs(p - previous), p))
                inwards = _nth_member(members, previous, 1 if nearest < LOW else -1)
                assert note.pitch == (nearest if LOW <= nearest <= HIGH else inwards)
            else:
                # |steps| members of the category lie between the two notes, the new one included;
                # the step goes the other way only if the asked-for note is off the range.
                wanted = _nth_member(members, previous, steps)
                assert note.pitch == (wanted if LOW <= wanted <= HIGH else _nth_member(members, previous, -steps))
            previous = note.pitch
        position += duration


def _nth_member(members, start, steps):
    side = [p for p in members if p > start] if steps > 0 else [p for p in members if p < start][::-1]
    return side[abs(steps) - 1]


def _chord(progression, position):
    position %= progression_length(progression)
    for symbol, length in progression:
        if position < length:
            return symbol
        position -= length


def test_decode_stops_at_the_requested_length():
    ids = [TOKEN_ID[("C", 1, 4)]] * 10
    notes = decode(ids, ii_v_i("C"), length=10)
    assert [n.duration for n in notes] == [4, 4, 2]
