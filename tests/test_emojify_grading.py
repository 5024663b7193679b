"""The autograder on Emojify: one-bug mutants of every graded function, and hostile submissions."""

from __future__ import annotations

import pytest

from autograder.assignments.emojify import lstm_parameters
from tests.grading_helpers import assert_mutant_caught, graded_with_sources

ID = "emojify"

AVERAGE = "avg = np.mean(known, axis=0) if known else np.zeros(n_e)"
PASS = "    for t in range(num_iterations):\n        for i in rng.permutation(m):\n"
READOUT = "a_last = a[torch.arange(len(a)), (lengths - 1).clamp(min=0)]"
OUTPUT = "return self.linear(self.dropout(a_last))"

MUTANTS = [
    ("sentence_to_avg", AVERAGE, "avg = np.zeros(n_e) + np.sum(known, axis=0) / len(known)", "the average is NaN"),
    ("sentence_to_avg", AVERAGE, "avg = np.sum(known, axis=0) / len(tokenize(sentence)) if known else np.zeros(n_e)",
     "divides by the number of all words"),
    ("sentence_to_avg", AVERAGE, "avg = np.sum(known, axis=0) if known else np.zeros(n_e)", "returns the sum"),
    ("sentence_to_avg", "in tokenize(sentence)", "in sentence.lower().split()", "splits the sentence with str.split()"),
    ("model", "dz = a - Y_oh[i]", "dz = Y_oh[i] - a", "moves W and b up the gradient"),
    ("model", PASS, "    for t in range(num_iterations):\n        for i in range(m):\n", "the same order every pass"),
    ("model", PASS, "    order = rng.permutation(m)\n    for t in range(num_iterations):\n        for i in order:\n",
     "shuffles the examples once"),
    ("model", "W = rng.standard_normal((n_y, n_h)) / np.sqrt(n_h)", "W = rng.standard_normal((n_y, n_h))",
     "without dividing by np.sqrt(n_h)"),
    ("model", "np.log(a)) / m", "np.log(a))", "costs adds up the losses"),
    ("sentences_to_indices", "word_to_index.get(word, UNK)", "word_to_index.get(word, PAD)", "gets index PAD"),
    ("sentences_to_indices", "tokenize(sentence)[:max_len]", "sentence.lower().split()[:max_len]", "str.split()"),
    ("sentences_to_indices", "np.full((m, max_len), PAD, dtype=np.int64)", "np.zeros((m, max_len))",
     "has dtype float64"),
    ("pretrained_embedding_layer", "freeze=True", "freeze=False", "the embedding layer is trainable"),
    ("pretrained_embedding_layer", "for word, index in word_to_index.items():",
     "for index, word in enumerate(word_to_vec_map.words):", "row i holds the vector of the i-th word"),
    ("EmojifyV2", READOUT, "a_last = a[:, -1]", "reads the state at the last padded step"),
    ("EmojifyV2", READOUT, "a_last = a[:, 0]", "reads the state after the first word"),
    ("EmojifyV2", OUTPUT, "return self.linear(a_last)", "has no dropout"),
    ("EmojifyV2", OUTPUT, "return F.softmax(self.linear(self.dropout(a_last)), dim=1)", "returns probabilities"),
    ("EmojifyV2", "self.embedding = embedding",
     "self.embedding = nn.Embedding(embedding.num_embeddings, embedding.embedding_dim)", "trains the embedding too"),
]


@pytest.mark.parametrize("function,old,new,message", MUTANTS, ids=[f"{m[0]}:{m[3][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, old, new, message):
    assert_mutant_caught(tmp_path, ID, function, old, new, message)


def test_the_parameter_formula_counts_torchs_lstm():
    """The count behind the size message is torch's own: two bias vectors per gate block."""
    import torch

    assert lstm_parameters(6, 7) == sum(p.numel() for p in torch.nn.LSTM(6, 7).parameters())


HOSTILE = {
    # An array subclass that says it equals anything.
    "sentence_to_avg": (
        "class Agreeable(np.ndarray):\n    def __eq__(self, other):\n        return True\n\n"
        "def sentence_to_avg(sentence, word_to_vec_map):\n"
        "    return np.zeros(word_to_vec_map.vectors.shape[1]).view(Agreeable)\n"),
    "model": (
        "def model(X, Y, word_to_vec_map, rng, learning_rate=0.03, num_iterations=200):\n"
        "    print('model: passed all 2 checks.')\n    import os\n    os._exit(0)\n"),
    # Reads the course's test set and tries the network, then returns what it found.
    "sentences_to_indices": (
        "def sentences_to_indices(X, word_to_index, max_len):\n    import glob, socket\n"
        "    found = glob.glob('/**/data/emojify/test.csv', recursive=True)\n"
        "    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
        "    return found\n"),
    "EmojifyV2": (
        "class EmojifyV2(nn.Module):\n"
        "    def __init__(self, embedding, n_a=64, n_classes=5, dropout=0.5):\n        super().__init__()\n"
        "        self.embedding = embedding\n        self.lstm = nn.LSTM(embedding.embedding_dim, n_a, batch_first=True)\n"
        "        self.dropout = nn.Dropout(dropout)\n        self.linear = nn.Linear(n_a, n_classes)\n\n"
        "    def forward(self, X_indices):\n        while True:\n            pass\n"),
}


def test_hostile_submissions_get_zero_and_the_rest_is_graded(tmp_path):
    results = graded_with_sources(tmp_path, ID, HOSTILE)
    for name in HOSTILE:
        assert results[name].score == 0, (name, results[name].messages)
    assert any("wrong values" in m for m in results["sentence_to_avg"].messages), results["sentence_to_avg"].messages
    assert any("exited its process" in m for m in results["model"].messages), results["model"].messages
    assert any("Permission" in m or "denied" in m or "refused" in m.lower()
               for m in results["sentences_to_indices"].messages), results["sentences_to_indices"].messages
    assert any("did not finish" in m for m in results["EmojifyV2"].messages), results["EmojifyV2"].messages
    assert results["pretrained_embedding_layer"].score == results["pretrained_embedding_layer"].max_score > 0
