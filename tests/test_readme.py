"""The README's two commands are what a new user runs; CI must run the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("python3 -m venv")]


def test_readme_has_a_quickstart_and_a_test_command() -> None:
    commands = readme_commands()
    assert any(c.endswith("coordinator standalone") for c in commands)
    assert any(c.endswith("pytest") for c in commands)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = next(c for c in readme_commands() if c.endswith("pytest"))
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_the_assets_example_is_the_example_dag_that_the_integration_test_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n# dags/example_assets.py\n(.*?)```", readme, re.S)
    assert block is not None
    source = (ROOT / "dags" / "example_assets.py").read_text()
    assert source.split('"""', 2)[2].lstrip("\n") == block.group(1)


def test_the_asset_watcher_example_is_the_example_dag_that_the_integration_test_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n# dags/example_asset_watcher.py\n(.*?)```", readme, re.S)
    assert block is not None
    source = (ROOT / "dags" / "example_asset_watcher.py").read_text()
    assert source.split('"""', 2)[2].lstrip("\n") == block.group(1)
