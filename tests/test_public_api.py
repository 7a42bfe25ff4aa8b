"""The public surface is stable: a public name never disappears without a deprecation, every public module
has runnable examples, and every public function is documented."""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
from pathlib import Path

import pytest

API = json.loads((Path(__file__).parent / "public_api.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", sorted(API))
def test_public_names_are_kept(module):
    mod = importlib.import_module(module)
    deprecated = getattr(mod, "_DEPRECATED", {})
    missing = [n for n in API[module] if n not in mod.__all__ and n not in deprecated]
    assert not missing, f"{module}: public names removed without deprecation: {missing}"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ lists {name}, which does not exist"
    added = sorted(set(mod.__all__) - set(API[module]))
    assert not added, f"{module}: new public names {added}: add them to tests/public_api.json"


@pytest.mark.parametrize("module", sorted(m for m in API if m not in ("leftbehind.cli", "leftbehind.errors")))
def test_every_public_module_has_runnable_examples(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for t in finder.find(mod))
    assert examples >= 1, f"{module} has no docstring example"


@pytest.mark.parametrize("module", sorted(API))
def test_public_functions_have_docstrings(module):
    mod = importlib.import_module(module)
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert (obj.__doc__ or "").strip(), f"{module}.{name} has no docstring"
