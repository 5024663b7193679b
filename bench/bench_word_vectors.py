"""The analogy search of "Operations on word vectors": the Python loop against the array version, and grading.

    python bench/bench_word_vectors.py            # 3 questions, each timed once per version
    python bench/bench_word_vectors.py --repeat 3

Both versions come from the solution notebook: ``complete_analogy`` (its solution cell) and
``complete_analogy_loop`` (the cell that times them), run on the full 400,000-word GloVe vocabulary.
Prints each version's median time per question, checks that they give the same answers, then the
wall time of grading the solution notebook.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from solution_cells import print_grading_latency  # bench/ is on the path when a script runs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "word_vectors" / "word_vectors.ipynb"
QUESTIONS = [("man", "woman", "king"), ("italy", "italian", "spain"), ("small", "smaller", "large")]


def notebook_namespace() -> dict:
    """The setup cell, the cosine and analogy solution cells, and the loop version, without running the timing."""
    namespace: dict = {}
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        source = "".join(cell["source"])
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in ("setup", "cosine_similarity", "complete_analogy"):
            exec(compile(source, f"<{NOTEBOOK.name}: {grade_id}>", "exec"), namespace)
        elif source.startswith("def complete_analogy_loop"):
            definition = source.split("\n\n\n")[0]  # the function only; the cell goes on to time it
            exec(compile(definition, f"<{NOTEBOOK.name}: loop>", "exec"), namespace)
    return namespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    ns = notebook_namespace()
    glove = ns["load_glove"]()
    times: dict[str, list[float]] = {"complete_analogy_loop": [], "complete_analogy": []}
    for question in QUESTIONS:
        answers = set()
        for name in times:
            for _ in range(args.repeat):
                start = time.perf_counter()
                answers.add(ns[name](*question, glove))
                times[name].append(time.perf_counter() - start)
        assert len(answers) == 1, (question, answers)
        print(f"{' : '.join(question)} -> {answers.pop()}")
    loop, arrays = (statistics.median(times[n]) for n in times)
    print(f"per question over {len(glove):,} words: loop {loop:.2f} s, arrays {arrays * 1e3:.0f} ms "
          f"({loop / arrays:.0f}x faster)")

    print_grading_latency(NOTEBOOK)


if __name__ == "__main__":
    main()
