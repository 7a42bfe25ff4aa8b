"""The CI workflow is valid YAML, runs only make targets that exist, and caches the environment on the lock."""

from __future__ import annotations

import re

import yaml

from conftest import REPO


def _targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


def test_workflow_runs_existing_make_targets_and_caches_on_the_lock():
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "reports.yml").read_text(encoding="utf-8"))
    triggers = wf[True] if True in wf else wf["on"]  # PyYAML reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "schedule" in triggers
    steps = [s for job in wf["jobs"].values() for s in job.get("steps", [])]
    commands = [line.strip() for s in steps for line in str(s.get("run", "")).splitlines() if line.strip()]
    made = [c.split()[1] for c in commands if c.startswith("make ")]
    assert made == ["test", "reports"]
    assert set(made) <= _targets()
    assert all(c.startswith("make ") for c in commands), commands
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    assert "hashFiles('requirements/lock.txt'" in cache["with"]["key"] and cache["with"]["path"] == ".venv"
    assert any(str(s.get("uses", "")).startswith("actions/upload-pages-artifact") for s in steps)


def test_every_phony_target_has_a_rule():
    """A name in .PHONY without a rule is a trap: `make test-unit` said "Nothing to be done" and exited 0, as if
    the unit tests had passed, when there was no such target."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    phony = set(re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split())  # type: ignore[union-attr]
    assert {"test", "test-unit", "test-notebooks"} <= phony
    assert phony - _targets() == set()


def test_readme_lists_every_make_target():
    """README's list of make targets is the Makefile's: a target missing there is one a user does not find."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^make ([a-z][a-z-]*) ", readme, re.M))
    assert listed == _targets()
