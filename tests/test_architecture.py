"""The package's architecture is checked, not hoped for: imports flow one way (the import-linter contracts in
pyproject.toml, run by `make lint`), and the import graph has no cycle at all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from conftest import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of pyproject.toml over the package found in ``src`` (a copy, or the real one)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_the_contracts_hold():
    proc = _lint_imports(REPO / "src")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        ("data/figures.py", "from ..reports import run as _upward", "leftbehind.data.figures -> leftbehind.reports"),
        (
            "meta/pooling.py",
            "from ..literature import studies as _upward",
            "leftbehind.meta.pooling -> leftbehind.literature",
        ),
        ("plots/style.py", "from ..meta import pooling as _leaf_breach", "leftbehind.plots.style -> leftbehind.meta"),
    ],
)
def test_a_wrong_way_import_breaks_the_contract_and_is_named(tmp_path, module, line, named):
    src = tmp_path / "src"
    shutil.copytree(REPO / "src" / "leftbehind", src / "leftbehind", symlinks=True)
    target = src / "leftbehind" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    proc = _lint_imports(src)
    assert proc.returncode != 0
    assert named in proc.stdout, proc.stdout[-3000:]


def test_no_import_cycles_anywhere_in_the_package():
    graph = grimp.build_graph("leftbehind")
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported != importer and graph.chain_exists(imported, importer):
                cycles.append(f"{importer} -> {imported} -> ... -> {importer}")
    assert not cycles, "\n".join(cycles)
