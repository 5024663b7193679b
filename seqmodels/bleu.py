"""BLEU (Papineni et al., 2002): clipped n-gram precisions and a brevity penalty.

Sentences come already tokenised, as lists of strings. `corpus_bleu` follows the standard
corpus-level definition (the one sacrebleu computes with ``tokenize="none"`` and no smoothing, on
a 0-1 scale instead of 0-100): clipped matches and n-gram totals are summed over the whole corpus
before dividing, and so are the candidate lengths and the effective reference lengths. Without
smoothing, BLEU is 0 as soon as one order n has no match at all.
"""

import math
from collections import Counter


def ngrams(tokens: list[str], n: int) -> Counter:
    """Count the n-grams of a sentence.

    tokens: (T,) words. Returns a Counter from n-tuples of words to how often each occurs
    (T - n + 1 n-grams in all, none if T < n).
    """
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def modified_precision(candidate: list[str], references: list[list[str]], n: int) -> tuple[int, int]:
    """Clipped n-gram matches of one candidate, and its number of n-grams.

    candidate: (c,) words; references: one or more sentences of words. Each n-gram of the candidate
    counts at most as often as it occurs in the single reference that contains it most often.
    Returns (clipped matches, total), so that p_n = matches / total for this sentence.
    """
    counts = ngrams(candidate, n)
    max_ref_counts = Counter()
    for reference in references:
        max_ref_counts |= ngrams(reference, n)  # | keeps the larger count of each n-gram
    matches = sum(min(count, max_ref_counts[gram]) for gram, count in counts.items())
    return matches, sum(counts.values())


def closest_reference_length(c: int, reference_lengths: list[int]) -> int:
    """The effective reference length r of one sentence: the reference length closest to the
    candidate length c, the shorter one when two are equally close."""
    return min(reference_lengths, key=lambda r: (abs(r - c), r))


def brevity_penalty(c: int, r: int) -> float:
    """BP = 1 if c > r, else exp(1 - r / c); 0 for an empty candidate (c = 0)."""
    if c > r:
        return 1.0
    return math.exp(1 - r / c) if c > 0 else 0.0


def corpus_bleu(candidates: list[list[str]], references: list[list[list[str]]], max_n: int = 4) -> float:
    """Corpus-level BLEU, between 0 and 1.

    candidates: (m,) sentences; references: (m,) lists of one or more reference sentences each.
    BLEU = BP * exp(sum_{n=1}^{max_n} (1 / max_n) log p_n), where p_n divides the clipped n-gram
    matches summed over the corpus by the candidate n-grams summed over the corpus, and BP compares
    the total candidate length c with the total of the effective reference lengths r.
    """
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0
    for candidate, refs in zip(candidates, references, strict=True):
        for n in range(1, max_n + 1):
            m, t = modified_precision(candidate, refs, n)
            matches[n - 1] += m
            totals[n - 1] += t
        c += len(candidate)
        r += closest_reference_length(len(candidate), [len(ref) for ref in refs])
    if min(matches) == 0:  # some p_n is 0 (or undefined): log p_n = -inf
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    return brevity_penalty(c, r) * math.exp(log_p)


def sentence_bleu(candidate: list[str], references: list[list[str]], max_n: int = 4) -> float:
    """BLEU of a single sentence: the corpus BLEU of a one-sentence corpus, without smoothing,
    so it is 0 whenever the candidate shares no n-gram of some order n <= max_n with the references."""
    return corpus_bleu([candidate], [references], max_n)
