"""Source notebooks are stored clean and follow the papermill conventions."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from conftest import NOTEBOOKS
from leftbehind.notebooks import CHECK_TAG, dumps, strip_for_storage

PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_stored_without_run_noise(path):
    text = path.read_text(encoding="utf-8")
    nb = nbformat.read(path, as_version=4)
    # stored exactly as strip_for_storage would write it: outputs only in key-result cells
    assert text == dumps(strip_for_storage(nb)), f"{path.name}: run `make refresh-notebooks` to store it clean"
    for key in ('"start_time"', '"end_time"', '"duration"', '"iopub.execute_input"'):
        assert key not in text
    checked = [c for c in nb.cells if CHECK_TAG in c.metadata.get("tags", [])]
    assert checked and all(c.outputs for c in checked), f"{path.name}: needs key-result cells with stored outputs"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_parameters_cell_first_and_documented(path):
    nb = nbformat.read(path, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first = nb.cells[code[0]]
    assert "parameters" in first.metadata.get("tags", []), "the first code cell must be tagged `parameters`"
    declared = papermill.inspect_notebook(str(path))
    assert declared, "parameters cell declares nothing"
    below = nb.cells[code[0] + 1]
    assert below.cell_type == "markdown" and "Parameters" in below.source
    for name, info in declared.items():
        assert name == name.lower() and " " not in name, f"parameter {name} is not snake_case"
        assert f"`{name}`" in below.source, f"parameter {name} is not explained under the parameters cell"
        assert info["help"], f"parameter {name} has no help comment"
