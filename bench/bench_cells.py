"""Print the parameter counts and single-step times of torch's RNN, GRU and LSTM cells.

    python bench/bench_cells.py --n-x 16 --n-a 64 128 256 --m 8

Counts are measured from the modules and compared with the formula; times are the
mean +- standard deviation over several repeats of many forward calls, without gradients.
"""

import argparse

import torch

from seqmodels.toy_tasks import SINGLE_STEP_CELLS, seconds_per_step, torch_parameter_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-x", type=int, default=16, help="input size")
    parser.add_argument("--n-a", type=int, nargs="+", default=[32, 128, 512], help="hidden sizes")
    parser.add_argument("--m", type=int, default=8, help="batch size")
    parser.add_argument("--number", type=int, default=500, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {args.threads} thread(s), n_x={args.n_x}, batch m={args.m}")
    print(f"{'cell':>5} {'n_a':>5} {'params':>9} {'formula':>9} {'us/step':>9} {'+-':>6} {'vs rnn':>7}")
    for n_a in args.n_a:
        for cell, module in SINGLE_STEP_CELLS.items():
            measured = sum(p.numel() for p in module(args.n_x, n_a).parameters())
            times = seconds_per_step(cell, args.n_x, n_a, args.m, args.number, args.repeats) * 1e6
            if cell == "rnn":
                rnn_time = times.mean()  # SINGLE_STEP_CELLS lists the RNN first: the baseline
            print(f"{cell:>5} {n_a:>5} {measured:>9} {torch_parameter_count(cell, args.n_x, n_a):>9} "
                  f"{times.mean():>9.1f} {times.std():>6.1f} {times.mean() / rnn_time:>6.2f}x")


if __name__ == "__main__":
    main()
