"""A class's worst submission: two honest solutions of Building an RNN step by step plus one hostile notebook,
graded by ``python -m autograder batch`` (in this process, so the fork server and the reference results are
shared between the tests). Whatever the hostile one does, the batch exits 0, writes grades.csv, and gives the
honest students full marks; the hostile one gets a row of its own, a zero with the reason where it cannot be
graded. Each test names the protection it checks."""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder import cli, escape, notebook, removal, submissions
from autograder import grade as grade_module
from autograder.runtime import REPO, solution_path
from tests.grading_helpers import cell_of, in_child, solution_notebook, with_cell_source

ID = "rnn_step_by_step"
HONEST = ("honest1", "honest2")


@pytest.fixture(autouse=True)
def own_temporary_folder(tmp_path, monkeypatch) -> Path:
    """The grader's working folders go here, so a test can see what is left of them (and parallel tests cannot)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def grade_class(tmp_path: Path, hostile: dict[str, bytes | str | dict], zipped: bool = False,
                links: dict[str, Path] | None = None) -> tuple[int, dict, Path]:
    """Grade a class of the two honest students and the ``hostile`` files ({file name: content}; a dict is a
    notebook) and ``links`` ({name: target}): (exit status, grades.csv rows by student, OUT)."""
    source = tmp_path / "class"
    source.mkdir()
    files = {f"{name}.ipynb": solution_path(ID).read_text() for name in HONEST}
    files.update({name: json.dumps(content) if isinstance(content, dict) else content for name, content in hostile.items()})
    for name, content in files.items():
        (source / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    for name, target in (links or {}).items():
        (source / name).symlink_to(target)
    if zipped:
        archive = tmp_path / "class.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for path in sorted(source.iterdir()):
                zf.write(path, f"export/{path.name}")
                path.unlink()  # a bomb's 100 MB need not stay on disk beside its zip
        source = archive
    out = tmp_path / "out"
    code = cli.main(["batch", str(source), "--assignment", ID, "--out", str(out)])
    rows = {}
    if (out / "grades.csv").is_file():
        rows = {row[0]: row for row in list(csv.reader((out / "grades.csv").read_text().splitlines()))[1:]}
    return code, rows, out


def assert_honest_full_marks(code: int, rows: dict) -> None:
    assert code == 0, "the batch must finish"
    for student in HONEST:
        assert rows[student][1:3] == ["100", "100"], rows[student]


def assert_zero_with_reason(rows: dict, student: str, reason: str) -> None:
    row = rows[student]
    assert row[1] == "0" and escape.markdown(reason) in row[-1], row


def solution_with(change) -> dict:
    nb = solution_notebook(ID)
    change(nb)
    return nb


def peak_growth_mb(action) -> tuple[int, object]:
    """How far this process's resident memory rose while ``action`` ran (MB), and what it returned."""
    def status(field: str) -> int:
        return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from the current size
    before = status("VmRSS")
    result = action()
    return status("VmHWM") - before, result


# Part 4: structure validated before use (notebook.checked, in the reader).
MALFORMED = {
    "a cell that is a number": (lambda nb: nb["cells"].insert(2, 42), "cell 3 is a number, not an object"),
    "a cell that is text": (lambda nb: nb["cells"].insert(2, "print(1)"), "cell 3 is text, not an object"),
    "a grade_id that is a number": (lambda nb: cell_of(nb, "rnn_forward")["metadata"]["nbgrader"].update(grade_id=7),
                                    "its nbgrader grade_id is a number, not text"),
    "a grade_id that is a list": (lambda nb: cell_of(nb, "rnn_forward")["metadata"]["nbgrader"].update(grade_id=["x"]),
                                  "its nbgrader grade_id is a list, not text"),
    "a source that is an object": (lambda nb: cell_of(nb, "rnn_forward").update(source={"a": 1}),
                                   "its source is an object, not text or a list of text"),
    "a source that is a list of numbers": (lambda nb: cell_of(nb, "rnn_forward").update(source=[1, 2]),
                                           "its source is a list, not text or a list of text"),
    "metadata that is a list": (lambda nb: nb["cells"][0].update(metadata=[]), "its metadata is a list, not an object"),
    "nbgrader metadata that is text": (lambda nb: nb["cells"][0].update(metadata={"nbgrader": "x"}),
                                       "its nbgrader metadata is text, not an object"),
    "points that are text": (lambda nb: cell_of(nb, "test_rnn_forward")["metadata"]["nbgrader"].update(points="10"),
                             "its nbgrader points is text, not a number"),
    "too many cells": (lambda nb: nb["cells"].extend([{"cell_type": "markdown", "source": ""}] * notebook.MAX_CELLS),
                       "more than the grader reads"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_notebook_is_a_zero_with_its_reason(tmp_path, case):
    """Protection: the reader checks every cell's structure (notebook.checked) before anything uses it."""
    change, reason = MALFORMED[case]
    code, rows, _ = grade_class(tmp_path, {"mallory.ipynb": solution_with(change)})
    assert_honest_full_marks(code, rows)
    assert_zero_with_reason(rows, "mallory", reason)


def test_json_nested_very_deep_is_a_zero_with_its_reason(tmp_path):
    """Protection: the JSON is parsed in the reader process, whose RecursionError becomes the reason."""
    deep = '{"cells": [], "metadata": ' + "[" * 200_000 + "]" * 200_000 + "}"
    code, rows, _ = grade_class(tmp_path, {"mallory.ipynb": deep})
    assert_honest_full_marks(code, rows)
    assert_zero_with_reason(rows, "mallory", "nested too deeply")


@pytest.mark.parametrize("terms", [20_000, 1_000_000])
def test_an_expression_with_very_many_terms_costs_only_its_own_points(tmp_path, terms):
    """Protection: code is parsed in the reader (a cell too deep for the parser is kept whole and fails in its own
    sandbox), and a cell over MAX_CELL_CHARS is not read at all (the notebook is refused, with the reason)."""
    source = ("def helper():\n    return " + "+".join(["1"] * terms) + "\n\n"
              + "".join(cell_of(solution_notebook(ID), "rnn_forward")["source"]))
    code, rows, out = grade_class(tmp_path, {"mallory.ipynb": with_cell_source(solution_notebook(ID), "rnn_forward",
                                                                                source)})
    assert_honest_full_marks(code, rows)
    if len(source) > notebook.MAX_CELL_CHARS:
        assert_zero_with_reason(rows, "mallory", "cell rnn_forward was not read")
    else:  # the cell reaches the child, whose compile fails: that function alone loses its points
        result = json.loads((out / "students" / "mallory" / "results.json").read_text())
        tests = {t["name"]: t for t in result["tests"]}
        assert tests["rnn_forward"]["score"] == 0 and "RecursionError" in tests["rnn_forward"]["output"]
        assert tests["rnn_cell_forward"]["score"] == tests["rnn_cell_forward"]["max_score"] > 0


DEEP_TREE = '''
def rnn_cell_forward(xt, a_prev, parameters):
    import os
    home = os.getcwd()
    if not os.path.exists("deep"):
        os.mkdir("deep")
        os.chdir("deep")
        for _ in range(3000):
            os.mkdir("d")
            os.chdir("d")
        os.chdir(home)
    raise RuntimeError("built a tree 3000 folders deep")
'''


def test_a_folder_tree_3000_deep_is_removed_and_costs_only_its_own_points(tmp_path, own_temporary_folder):
    """Protection: the working folder is removed without recursion (removal.remove_tree)."""
    code, rows, _ = grade_class(tmp_path, {"mallory.ipynb": with_cell_source(solution_notebook(ID), "rnn_cell_forward",
                                                                              DEEP_TREE)})
    assert_honest_full_marks(code, rows)
    assert rows["mallory"][3] == "0" and rows["mallory"][1] == "90" and rows["mallory"][-1] == "", rows["mallory"]
    assert list(own_temporary_folder.iterdir()) == [], "the working folders must be gone"


@pytest.mark.parametrize("name", ["grades.csv", "summary.md", "totals.png", "students"])
def test_a_student_named_like_a_class_file_is_graded_beside_it(tmp_path, name):
    """Protection: results go to OUT/students/<id>/, beside the class files, not among them."""
    code, rows, out = grade_class(tmp_path, {f"{name}.ipynb": solution_path(ID).read_text()})
    assert_honest_full_marks(code, rows)
    assert rows[submissions.student_id(name)][1] == "100"
    assert (out / "grades.csv").is_file() and (out / "summary.md").is_file() and (out / "totals.png").is_file()


def test_a_huge_ungraded_cell_costs_the_grader_no_memory(tmp_path):
    """Protection: the reader keeps at most MAX_CELL_CHARS of a cell (a larger one is skipped, unparsed) and runs
    in its own process; the grader sees only the checked form. Unprotected: 2 GB and 20 s for 4 MB of code."""
    big = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
           "source": "data = [" + ",".join(["1"] * 2_000_000) + "]\n"}
    nb = solution_with(lambda nb: nb["cells"].append(big))
    growth, (code, rows, _) = peak_growth_mb(lambda: grade_class(tmp_path, {"mallory.ipynb": nb}))
    assert_honest_full_marks(code, rows)
    assert rows["mallory"][1] == "100"  # the cell is not graded: it is not needed
    assert growth < 250, f"the grader grew by {growth} MB"


BIG_OUTPUT = '''
import numpy as np
def rnn_cell_forward(xt, a_prev, parameters, calls=[]):  # only definitions are kept: the count lives in a default
    calls.append(1)
    if len(calls) == 1:  # one probe's result is large and of the wrong shape
        return np.ones(SIZE, dtype=np.uint8), np.zeros((2, 10)), None
    raise ValueError("only the first call matters")
'''


@pytest.mark.parametrize("megabytes, read", [(40, True), (100, False)])
def test_a_large_output_is_checked_before_it_is_converted(tmp_path, megabytes, read):
    """Protections: wire refuses an output over MAX_ARRAY_BYTES (64 MB) unread; below that, the verdict compares
    shapes before converting anything to float64 (verdict.close). Unprotected: 8 times the output's size."""
    attack = BIG_OUTPUT.replace("SIZE", str(megabytes * 2**20))
    nb = with_cell_source(solution_notebook(ID), "rnn_cell_forward", attack)
    growth, (code, rows, out) = peak_growth_mb(lambda: grade_class(tmp_path, {"mallory.ipynb": nb}))
    assert_honest_full_marks(code, rows)
    assert rows["mallory"][3] == "0" and rows["mallory"][1] == "90", rows["mallory"]
    result = json.loads((out / "students" / "mallory" / "results.json").read_text())
    # Read, it is judged by its shape; refused, it is as if the function had left no result.
    assert ("has shape" if read else "does not read") in result["tests"][0]["output"], result["tests"][0]["output"]
    assert growth < (3 * megabytes if read else 0) + 60, f"the grader grew by {growth} MB"


FORGED = '''
def rnn_cell_forward(xt, a_prev, parameters):
    import json, os
    import numpy as np
    np.savez("out_1.npz", a0=np.ones(20 * 2**20, dtype=np.uint8))  # 20 MB, referred to 30 times
    with open("out_1.json", "w") as f:
        json.dump({"t": "list", "items": [{"t": "array", "key": "a0"}] * 30}, f)
    with open("status_1.json", "w") as f:
        json.dump({"ok": True}, f)
    os._exit(0)  # before the child writes its own result for the next probe
'''


def test_a_forged_result_cannot_copy_one_array_many_times(tmp_path):
    """Protection: wire.unpack hands each array out once. Unprotected: 30 copies of 20 MB."""
    nb = with_cell_source(solution_notebook(ID), "rnn_cell_forward", FORGED)
    growth, (code, rows, _) = peak_growth_mb(lambda: grade_class(tmp_path, {"mallory.ipynb": nb}))
    assert_honest_full_marks(code, rows)
    assert rows["mallory"][3] == "0", rows["mallory"]
    assert growth < 150, f"the grader grew by {growth} MB"


def test_an_error_in_the_grader_on_one_notebook_is_that_students_row(tmp_path, monkeypatch):
    """Protection: batch.grade_submission turns any exception while one submission is graded into its row."""
    real = grade_module.grade

    def grade_with_a_bug(path, *args, **kwargs):
        if Path(path).stem == "mallory":
            raise ZeroDivisionError("a bug in the grader")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(grade_module, "grade", grade_with_a_bug)
    code, rows, _ = grade_class(tmp_path, {"mallory.ipynb": solution_path(ID).read_text()})
    assert_honest_full_marks(code, rows)
    assert_zero_with_reason(rows, "mallory", "the grader failed on this notebook (ZeroDivisionError")


# Part 5: input hygiene.
@pytest.mark.parametrize("target", ["classmate", "solution", "solutions folder"])
def test_a_symbolic_link_is_not_graded_as_the_students_work(tmp_path, target):
    """Protection: submissions refuses links (and paths that resolve outside the student's folder)."""
    name = "mallory" if target == "solutions folder" else "mallory.ipynb"
    code, rows, _ = grade_class(tmp_path, {}, links={name: {"classmate": tmp_path / "class" / "honest1.ipynb",
                                                            "solution": solution_path(ID),
                                                            "solutions folder": solution_path(ID).parent}[target]})
    assert_honest_full_marks(code, rows)
    assert_zero_with_reason(rows, "mallory", "is a symbolic link")


def test_a_zip_bomb_among_the_notebooks_unpacks_no_further_than_one_notebook(tmp_path):
    """Protection: only notebooks are unpacked from a zip, each cut just past MAX_NOTEBOOK_BYTES."""
    bomb = b'{"cells": [' + b" " * (notebook.MAX_NOTEBOOK_BYTES + 10 * 2**20) + b"]}"
    code, rows, out = grade_class(tmp_path, {"mallory.ipynb": bomb, "data.bin": bytes(100 * 2**20)}, zipped=True)
    assert (tmp_path / "class.zip").stat().st_size < 2**20
    assert_honest_full_marks(code, rows)
    assert_zero_with_reason(rows, "mallory", "over 50 MB")
    unpacked = sum(p.stat().st_size for p in (out / ".unpacked").rglob("*") if p.is_file())
    assert unpacked <= notebook.MAX_NOTEBOOK_BYTES + 2**20, unpacked
    assert not list((out / ".unpacked").rglob("data.bin"))


def test_a_zip_of_many_bombs_is_refused_before_grading_with_one_line(tmp_path, capsys, monkeypatch):
    """Protection: submissions.unpacked_limit, on the sizes the zip declares (and on the bytes written). The
    notebooks' cap is lowered to 1 MB, to keep the test quick: the limit is then 5 MB plus 50 times the zip."""
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK_BYTES", 2**20)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(8):  # 8 x 1 MB from a zip of a few kB
            zf.writestr(f"s{i}.ipynb", bytes(2**20))
    code = cli.main(["batch", str(archive), "--assignment", ID, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "zip bomb" in err and len(err.strip().splitlines()) == 1, err
    assert sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()) == 0


def test_names_that_would_share_an_id_stay_two_students(tmp_path):
    """Protection: submissions.student_id is injective (alice and alice. used to both be alice, and alice got 0)."""
    code, rows, _ = grade_class(tmp_path, {"alice.ipynb": solution_path(ID).read_text(),
                                           "alice..ipynb": (REPO / "assignments" / ID / f"{ID}.ipynb").read_text()})
    assert_honest_full_marks(code, rows)
    assert rows["alice"][1] == "100" and rows["alice%2E"][1] == "0", rows


@pytest.mark.parametrize("first", ["=", "+", "-", "@"])
def test_grades_csv_holds_no_formulas(tmp_path, first):
    """Protection: escape.spreadsheet on every cell of grades.csv (OWASP's CSV-injection rule)."""
    code, rows, _ = grade_class(tmp_path, {f"{first}1+cmd.ipynb": "not json"})
    assert_honest_full_marks(code, rows)
    assert len(rows) == 3
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


MARKUP = ("<img src=x onerror=alert(1)> <script>alert(2) [click](javascript:alert(3)) "  # no '/': a file name
          "![tracker](http:evil.example) \x1b[2J\x1b]0;owned\x07 \u202eevil")
RAISES_MARKUP = f'''
def rnn_cell_forward(xt, a_prev, parameters):
    raise ValueError({"# Heading " + MARKUP!r})
'''


@pytest.mark.parametrize("where", ["file name", "error message"])
def test_markup_and_terminal_escapes_stay_text(tmp_path, where):
    """Protection: escape.markdown on every text taken from a submission into results.json (and so summary.md)."""
    hostile = ({f"# {MARKUP} \udcff.ipynb": "not json"} if where == "file name" else  # and a byte that is not UTF-8
               {"mallory.ipynb": with_cell_source(solution_notebook(ID), "rnn_cell_forward", RAISES_MARKUP)})
    code, rows, out = grade_class(tmp_path, hostile)
    assert_honest_full_marks(code, rows)
    summary = (out / "summary.md").read_text()
    texts = [summary.replace("![Histogram of totals](totals.png)", "")]  # the summary's own image
    texts += [s for p in (out / "students").glob("*/results.json") for s in strings(json.loads(p.read_text()))]
    assert "alert" in summary, "the hostile text must reach the summary, escaped"
    for text in texts:
        assert not re.search(r"<[A-Za-z/!?]", text), text  # no HTML tag
        assert not re.search(r"(?<!\\)\]\(", text), text  # no link or image: "](" only escaped
        for bad in ("\x1b", "\x07", "\u202e"):  # no terminal escape, no bidi override
            assert bad not in text, (bad, text)
    headings = [line for line in summary.splitlines() if line.startswith("#")]
    assert headings == [f"# {ID}: 3 submissions", "## By function"] + \
        (["## Submissions that could not be graded"] if where == "file name" else []), headings


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# Part 6: one answer everywhere.
def test_a_notebook_without_nbgrader_metadata_gets_from_batch_what_grade_gives(tmp_path):
    """Protection: batch grades it, as grade does, rather than calling it another assignment's."""
    def strip(nb: dict) -> None:
        # Without grade_ids every code cell is scanned: the plotting cell's pyplot import would only slow each child.
        nb["cells"] = [cell for cell in nb["cells"] if "matplotlib" not in "".join(cell["source"])]
        for cell in nb["cells"]:
            cell["metadata"].pop("nbgrader", None)

    bare = solution_with(strip)
    code, rows, _ = grade_class(tmp_path, {"bare.ipynb": bare})
    assert_honest_full_marks(code, rows)
    assert rows["bare"][1] == "100", rows["bare"]
    (alone,) = grade_module.grade(tmp_path / "class" / "bare.ipynb", ID, only={"rnn_cell_forward"}).results
    assert rows["bare"][3] == f"{alone.score:g}" == "10"


def test_an_ordinary_user_removes_a_deep_tree_its_graded_code_made_unreadable():
    """Protection: remove_tree makes the folders it owns listable and writable again before emptying them (root
    needs no permission: this runs as nobody, in a forked child, when the tests run as root)."""
    box = Path(tempfile.mkdtemp(dir="/tmp", prefix="removal-test-"))
    try:
        if os.geteuid() == 0:
            os.chown(box, 65534, 65534)

        def make_and_remove() -> bool:
            os.chdir(box)
            for _ in range(1500):  # deeper than shutil.rmtree can go
                os.mkdir("d")
                Path("d/file").write_text("x")
                os.chdir("d")
            os.chdir(box)
            for depth, mode in [(1000, 0o500), (500, 0o500), (0, 0)]:  # locked folders on the way: the deepest first
                os.chmod("d/" * (depth + 1), mode)
            assert not os.access(box / "d", os.R_OK)
            return removal.remove_tree(box) and not box.exists()

        assert in_child(make_and_remove, as_nobody=os.geteuid() == 0)
    finally:
        removal.remove_tree(box)
