"""Train the Jazz assignment's reference model exactly as its notebook does, and measure it.

    python bench/bench_jazz.py               # torch threads as the notebook sets them (2)
    python bench/bench_jazz.py --threads 1   # override after the setup cell

The code comes from the solution notebook itself: its setup cell, the ``JazzLSTM`` solution
cell and the cells tagged ``bench`` (corpus, training windows, training loop). Nothing is copied here,
so the figures are those of the notebook. Prints the wall time of building the data and of
training, the peak resident memory of this process, and the final losses (the notebook
reports the same numbers).
"""

import argparse
import json
import resource
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the corpus cell draws a piano roll; keep it off screen

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "jazz_improvisation" / "jazz_improvisation.ipynb"


def notebook_cells() -> list[tuple[str, str]]:
    """(label, source) of the cells the benchmark runs, in notebook order."""
    cells = []
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        tagged = "bench" in cell["metadata"].get("tags", [])
        if cell["cell_type"] == "code" and (grade_id in ("setup", "JazzLSTM") or tagged):
            cells.append((grade_id or "bench", "".join(cell["source"])))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="torch threads (default: what the notebook sets)")
    args = parser.parse_args()

    namespace: dict = {}
    timings = []
    for label, source in notebook_cells():
        start = time.perf_counter()
        exec(compile(source, f"<{NOTEBOOK.name}: {label}>", "exec"), namespace)
        timings.append((label, time.perf_counter() - start))
        if label == "setup" and args.threads:
            namespace["torch"].set_num_threads(args.threads)
    torch, history = namespace["torch"], namespace["history"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is in kB on Linux
    print(f"torch threads: {torch.get_num_threads()}")
    for label, seconds in timings:
        print(f"  {label:10s} {seconds:6.1f} s")
    print(f"epochs: {len(history['training'])}, final loss {history['training'][-1]:.3f} (training), "
          f"{history['validation'][-1]:.3f} (validation)")
    print(f"wall time: {sum(s for _, s in timings):.1f} s; peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
