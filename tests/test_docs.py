"""The API reference builds from the docstrings without a warning and documents every public name."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys

from conftest import REPO


def _modules() -> list[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    block = re.search(r"^API_MODULES := (.*?)(?:\n\n|\n[A-Za-z#.])", text, re.S | re.M).group(1)
    return block.replace("\\", " ").split()


def test_docs_build_and_list_every_public_name(tmp_path):
    modules = _modules()
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-m", "pdoc", *modules, "--docformat", "numpy", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PDOC_ALLOW_EXEC": "1"},
    )  # matplotlib's first import runs fc-list
    assert proc.returncode == 0, proc.stderr[-2000:]
    for module in modules:
        page = tmp_path / (module.replace(".", "/") + ".html")
        html = page.read_text(encoding="utf-8")
        for name in importlib.import_module(module).__all__:
            assert f'id="{name}"' in html, f"{module}.{name} is missing from the API reference"
