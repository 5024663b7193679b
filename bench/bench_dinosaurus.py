"""Time the full Dinosaurus Island training: 22,000 SGD steps, one name each, n_a = 50.

The training loop is the reference solution's ``model`` (with its ``optimize``, ``clip`` and
``sample``), taken from the setup and solution cells of the solution notebook, on top of the
``seqmodels.char_rnn`` helpers. Prints wall and CPU time, peak memory, the final smoothed
per-character loss and perplexity, the per-character loss over all names, and the unigram
baseline.

    python bench/bench_dinosaurus.py [--steps 22000] [--repeats 1]
"""

import os

# One BLAS thread: the matrices are 50 x 50, where threading costs more than it saves.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from autograder.assignments import get_assignment  # noqa: E402
from autograder.runtime import load_reference  # noqa: E402
from seqmodels.char_rnn import corpus_per_char_loss, perplexity  # noqa: E402
from seqmodels.names import load_names, name_to_example, unigram_loss, vocabulary  # noqa: E402



def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=22000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    # The solution notebook's own functions, loaded the way the grader loads its reference.
    model = load_reference(get_assignment("dinosaurus_island"))["model"]
    names = load_names()
    char_to_ix, ix_to_char = vocabulary()
    rss_before = peak_rss_mib()
    for repeat in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        parameters, history = model(names, ix_to_char, char_to_ix, num_iterations=args.steps, n_a=50,
                                    rng=np.random.default_rng(0), sample_every=0)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"run {repeat + 1}: {args.steps} steps in {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"({1e6 * wall / args.steps:.0f} us per step)")
    total_chars = sum(len(n) + 1 for n in names)
    print(f"names {len(names)}, {total_chars} characters with end tokens; "
          f"{args.steps / len(names):.1f} passes over the list")
    print(f"peak RSS {peak_rss_mib():.0f} MiB (before training {rss_before:.0f} MiB)")
    print(f"final smoothed loss per character {history['loss'][-1]:.3f}, perplexity {history['perplexity'][-1]:.2f}")
    full = corpus_per_char_loss(parameters, [name_to_example(n, char_to_ix) for n in names])
    print(f"loss per character over all names after training {full:.3f}, perplexity {perplexity(full):.2f}")
    baseline = unigram_loss(names, char_to_ix)
    print(f"unigram baseline {baseline:.3f}, perplexity {perplexity(baseline):.2f}; "
          f"uniform {np.log(len(char_to_ix)):.3f}, perplexity {len(char_to_ix)}")


if __name__ == "__main__":
    main()
