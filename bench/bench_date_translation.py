"""Train the date-translation model exactly as the solution notebook does, and measure it.

    python bench/bench_date_translation.py

The code comes from the solution notebook itself: its setup cell, its solution cells and the cells tagged
``bench`` (data and training loop); nothing is copied here. Prints the training time against the 3-minute
target, exact match with greedy decoding on the held-out dates (target: at least 99%) and on the two formats
never seen in training, how many answers beam search (B = 3) changes there, and the grading latency.
"""

import time
from pathlib import Path

from solution_cells import print_grading_latency, solution_namespace  # bench/ is on the path when a script runs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "date_translation" / "date_translation.ipynb"



def main() -> None:
    ns = solution_namespace(NOTEBOOK)
    torch = ns["torch"]
    print(f"torch threads: {torch.get_num_threads()}; {len(ns['X_train'])} training dates, {ns['EPOCHS']} epochs")
    torch.manual_seed(0)
    model = ns["NMTModel"]()
    start = time.perf_counter()
    ns["train"](model, ns["EPOCHS"])
    seconds = time.perf_counter() - start
    print(f"training: {seconds:.0f} s (target <= 180 s: {'met' if seconds <= 180 else 'NOT met'})")

    def accuracy(X, pairs, beam_width: int) -> tuple[float, list[str]]:
        decoded = [ns["decode_machine"](ns["greedy_decode"](model, x)[0] if beam_width == 1
                                        else ns["beam_search"](model, x, beam_width)[0][0]) for x in X]
        return sum(d == iso for d, (_, iso) in zip(decoded, pairs)) / len(pairs), decoded

    dates, _ = accuracy(ns["X_test"], ns["test_pairs"], 1)
    print(f"held-out dates, greedy: {dates:.1%} (target >= 99%: {'met' if dates >= 0.99 else 'NOT met'})")
    greedy, greedy_out = accuracy(ns["X_new"], ns["new_format_pairs"], 1)
    beam, beam_out = accuracy(ns["X_new"], ns["new_format_pairs"], 3)
    changed = sum(g != b for g, b in zip(greedy_out, beam_out))
    print(f"held-out formats: greedy {greedy:.1%}, beam (B=3) {beam:.1%}; beam search changes {changed} answers")

    print_grading_latency(NOTEBOOK)


if __name__ == "__main__":
    main()
