"""binder/ gives mybinder.org the environment the course is tested in: requirements.txt's pins, Python 3.11,
and PyTorch's CPU build.

The files are read with pip's rules for requirement files (a nested ``-r`` path is relative to the file that
names it; repo2docker runs pip from the repository's root). Building the image needs Docker and the network,
which tests do not have: the README says what was checked by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def read_requirements(path: Path) -> tuple[list[tuple[str, str]], list[str], list[Path]]:
    """((name, pinned version) of each requirement, option lines, files read) of a requirements file and the files
    it includes, in pip's order."""
    pins, options, files = [], [], [path.resolve()]
    for raw in path.read_text().splitlines():
        line = "" if raw.lstrip().startswith("#") else raw.split(" #")[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            nested = read_requirements(path.parent / line.split(maxsplit=1)[1])
            pins, options, files = pins + nested[0], options + nested[1], files + nested[2]
        elif line.startswith("-"):
            options.append(line)
        else:
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
            assert match, f"{path.relative_to(ROOT)}: not pinned with ==: {line}"
            pins.append((re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2)))
    return pins, options, files


def test_binder_installs_requirements_txt_with_the_cpu_build_of_torch():
    binder, options, files = read_requirements(BINDER / "requirements.txt")
    tested, tested_options, _ = read_requirements(ROOT / "requirements.txt")
    assert (ROOT / "requirements.txt").resolve() in files, "binder/requirements.txt does not include requirements.txt"
    assert "-e ." in tested_options, "requirements.txt no longer installs the course itself"
    assert f"--extra-index-url {CPU_INDEX}" in options, "torch would come from PyPI, with its CUDA libraries"
    # pip installs what satisfies every line: requirements.txt's pins, and for torch also the CPU build of the
    # same version (PEP 440's local label +cpu; `torch==2.13.0` accepts 2.13.0+cpu). Nothing else is added.
    assert set(binder) - set(tested) == {("torch", f"{dict(tested)['torch']}+cpu")}
    assert set(tested) <= set(binder)


def test_binder_uses_the_python_the_course_is_tested_with():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    versions = {step["with"]["python-version"] for job in workflow["jobs"].values() for step in job.get("steps", [])
                if step.get("uses", "").startswith("actions/setup-python")}
    assert versions == {runtime.removeprefix("python-")}, f"binder/runtime.txt says {runtime}, the book's build {versions}"
    assert f"Python {runtime.removeprefix('python-')}" in (ROOT / "README.md").read_text()


def test_binder_holds_only_what_repo2docker_reads():
    # Any file repo2docker knows in binder/ changes the build (environment.yml would switch to conda and ignore
    # requirements.txt; a Dockerfile would replace everything): only these two are meant to be there.
    assert sorted(p.name for p in BINDER.iterdir()) == ["requirements.txt", "runtime.txt"]
