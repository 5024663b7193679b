"""Train both Emojify models as the solution notebook does, over several seeds, and time the grader.

    python bench/bench_emojify.py              # 5 seeds
    python bench/bench_emojify.py --seeds 2

The code comes from the solution notebook itself: its setup cell, its solution cells and the cells
tagged ``bench`` (data, prediction and training helpers); nothing is copied here. Prints, for each
model, the test accuracy and training time of every seed, their mean, and whether the issue's
targets (85% for V1, 90% for V2, each trained in at most 30 s) are met; then the wall time of
grading the solution notebook.
"""

import argparse
import statistics
import time
from pathlib import Path

from solution_cells import print_grading_latency, solution_namespace  # bench/ is on the path when a script runs

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "emojify" / "emojify.ipynb"
TARGETS = {"V1": 0.85, "V2": 0.90}
SECONDS = 30.0



def run_v1(ns: dict, seed: int) -> tuple[float, float]:
    start = time.perf_counter()
    W, b, _ = ns["model"](ns["X_train"], ns["Y_train"], ns["word_to_vec_map"], ns["np"].random.default_rng(seed))
    seconds = time.perf_counter() - start
    return float((ns["predict_v1"](ns["X_test"], W, b) == ns["Y_test"]).mean()), seconds


def run_v2(ns: dict, seed: int, embedding) -> tuple[float, float]:
    torch = ns["torch"]
    X_train, X_test = ns["as_indices"](ns["X_train"]), ns["as_indices"](ns["X_test"])
    torch.manual_seed(seed)
    net = ns["EmojifyV2"](embedding, n_a=64)
    start = time.perf_counter()
    ns["train_v2"](net, X_train, torch.from_numpy(ns["Y_train"]), seed=seed)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = net(X_test).argmax(dim=1).numpy()
    return float((predicted == ns["Y_test"]).mean()), seconds


def report(name: str, runs: list[tuple[float, float]]) -> None:
    accuracies, seconds = [a for a, _ in runs], [s for _, s in runs]
    print(f"{name}: test accuracy " + ", ".join(f"{a:.1%}" for a in accuracies)
          + f"; mean {statistics.mean(accuracies):.1%} (target {TARGETS[name]:.0%}: "
          + ("met" if statistics.mean(accuracies) >= TARGETS[name] else "NOT met") + ")")
    print(f"{name}: training time " + ", ".join(f"{s:.1f}" for s in seconds)
          + f" s; max {max(seconds):.1f} s (target <= {SECONDS:.0f} s: " + ("met" if max(seconds) <= SECONDS else "NOT met")
          + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    ns = solution_namespace(NOTEBOOK)
    print(f"torch threads: {ns['torch'].get_num_threads()}; {len(ns['X_train'])} training, {len(ns['X_test'])} test "
          "sentences")
    report("V1", [run_v1(ns, seed) for seed in range(args.seeds)])
    embedding = ns["pretrained_embedding_layer"](ns["word_to_vec_map"], ns["word_to_index"])
    report("V2", [run_v2(ns, seed, embedding) for seed in range(args.seeds)])

    print_grading_latency(NOTEBOOK)


if __name__ == "__main__":
    main()
