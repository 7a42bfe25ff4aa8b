"""The environment files agree: pyproject.toml, environment.yml (conda/Binder) and the lock file."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import REPO

BUILD_ONLY = {"setuptools", "wheel"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    """Package names of the runtime and dev requirements; an extra such as dask[distributed] names a package
    (distributed) that conda lists on its own."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    names = {_name(r) for r in reqs}
    for r in reqs:
        if "[" in r:
            names |= {e.strip().lower() for e in r.split("[", 1)[1].split("]", 1)[0].split(",")}
    return names - BUILD_ONLY


def test_environment_yml_names_the_same_packages_as_pyproject():
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    assert "conda-forge" in env["channels"]
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == _pyproject_names()
    assert any(d.startswith("python=3.11") for d in env["dependencies"] if isinstance(d, str))
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_part


def test_lock_pins_every_declared_package_with_hashes():
    lock = (REPO / "requirements" / "lock.txt").read_text(encoding="utf-8")
    pinned = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    assert _pyproject_names() | BUILD_ONLY <= pinned
    # every pin carries at least one hash, so `pip install --require-hashes` accepts the file
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("==", 1)[0] + "==" + lock.split("==", 1)[1])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make test" in ci
    head = readme[:600]
    assert "make reports" in head and "make test" in head
