"""Build the spoken-digit data, train the CTC recogniser and decode, exactly as the solution notebook does (full
setting); then check the numpy CTC against PyTorch and time the grader.

    python bench/bench_ctc_speech.py

The code comes from the solution notebook itself: its setup cell, its solution cells and the cells tagged
``bench`` (data, settings, error rates); nothing is copied here. Prints the data build time, the training time
against the 5-minute target, the digit error rate on held-out voices with greedy decoding and with prefix beam
search against the 5 % target, the largest differences between the numpy loss and gradient and PyTorch's, and
the grading latency.
"""

import os
import time
from pathlib import Path

import numpy as np

from solution_cells import print_grading_latency, solution_namespace  # bench/ is on the path when a script runs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "ctc_speech" / "ctc_speech.ipynb"


def torch_agreement(ns: dict) -> tuple[float, float]:
    """The largest differences from PyTorch's loss (relative) and autograd gradient, on 50 random utterances."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    worst_loss = worst_grad = 0.0
    for _ in range(50):
        T, C = int(rng.integers(20, 400)), 11
        logits = rng.standard_normal((T, C)) * 3
        target = [int(k) for k in rng.integers(1, C, int(rng.integers(1, T // 4)))]
        z = torch.tensor(logits, requires_grad=True)
        loss = F.ctc_loss(torch.log_softmax(z, 1)[:, None], torch.tensor([target]), torch.tensor([T]),
                          torch.tensor([len(target)]), reduction="sum")
        loss.backward()
        log_probs = ns["log_softmax"](logits)
        ours = ns["ctc_forward"](log_probs, target)[1]
        worst_loss = max(worst_loss, abs(ours - loss.item()) / loss.item())
        worst_grad = max(worst_grad, float(np.abs(ns["ctc_backward"](log_probs, target) - z.grad.numpy()).max()))
    return worst_loss, worst_grad


def main() -> None:
    os.environ.pop("SEQMODELS_QUICK", None)  # the full setting
    start = time.perf_counter()
    ns = solution_namespace(NOTEBOOK)
    print(f"{len(ns['train_split'])} training and {len(ns['test_split'])} test utterances, built in "
          f"{time.perf_counter() - start:.0f} s")
    torch = ns["torch"]
    torch.manual_seed(0)
    model = ns["CTCRecogniser"]()
    start = time.perf_counter()
    losses = ns["train_recogniser"](model, ns["train_split"], ns["EPOCHS"], seed=0)
    seconds = time.perf_counter() - start
    print(f"training, {ns['EPOCHS']} epochs: {seconds:.0f} s (target <= 300 s: {'met' if seconds <= 300 else 'NOT met'}); "
          f"last loss {losses[-1]:.3f}")
    start = time.perf_counter()
    rates = ns["digit_error_rates"](model, ns["test_split"])
    print("digit error rate on held-out voices: " + ", ".join(f"{k} {v:.2%}" for k, v in rates.items())
          + f" (target <= 5%: {'met' if max(rates.values()) <= 0.05 else 'NOT met'}); decoding took "
          f"{time.perf_counter() - start:.1f} s")
    loss_diff, grad_diff = torch_agreement(ns)
    print(f"numpy CTC against PyTorch on 50 random utterances: loss {loss_diff:.1e} (relative), gradient {grad_diff:.1e}")

    print_grading_latency(NOTEBOOK)


if __name__ == "__main__":
    main()
