"""Build the trigger-word data set and train the detector exactly as the solution notebook does (full setting).

    python bench/bench_trigger_word.py

The code comes from the solution notebook itself: its setup cell, its solution cells and the cells tagged
``bench`` (word banks, data set, training loop, scores); nothing is copied here. Prints the data set build
time, the training time against the 5-minute target, precision, recall and F1 on the held-out voices against
the 0.9 target, and the grading latency.
"""

import os
import time
from pathlib import Path

import matplotlib

from solution_cells import print_grading_latency, solution_namespace  # bench/ is on the path when a script runs

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "trigger_word" / "trigger_word.ipynb"


def main() -> None:
    os.environ.pop("SEQMODELS_QUICK", None)  # the full setting
    start = time.perf_counter()
    ns = solution_namespace(NOTEBOOK)
    print(f"word banks and {len(ns['X_train'])} + {len(ns['X_test'])} clips built in {time.perf_counter() - start:.0f} s")
    torch = ns["torch"]
    torch.manual_seed(0)
    model = ns["TriggerModel"]()
    start = time.perf_counter()
    ns["train"](model, ns["EPOCHS"])
    seconds = time.perf_counter() - start
    print(f"training, {ns['EPOCHS']} epochs: {seconds:.0f} s (target <= 300 s: {'met' if seconds <= 300 else 'NOT met'})")
    with torch.no_grad():
        probabilities = torch.sigmoid(model(ns["X_test"])).numpy()
    result = ns["scores"](probabilities, ns["Y_test"].numpy())
    print("held-out voices: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items())
          + f" (target F1 >= 0.9: {'met' if result['f1'] >= 0.9 else 'NOT met'})")

    print_grading_latency(NOTEBOOK)


if __name__ == "__main__":
    main()
