"""The runner against hostile plans, misuse and faults (issue 17 items 3, 5–9, 14, 15): every refusal is a
one-line message naming the file or option, and a run always leaves the index and manifest describing what is
on disk."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import errno
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import REPO
from leftbehind import cli, reports
from leftbehind.errors import ParameterError, PlanError, ReportError
from test_reports import _hashes, _notebook, _one_step_notebook, _plan


def _cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run the command line in this process: (exit code, standard error)."""
    monkeypatch.setitem(sys.modules, "rfc3987_syntax", None)  # as cli.main does, undone after the test
    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err


def _echo_notebook(path: Path) -> None:
    _one_step_notebook(path, 'label: str = "a"  # a text to print', "print(label)")


# --- item 3: plan files are bounded before they are trusted -----------------------------------------------


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("reports:")
    lines.append(f"  - {{name: x, notebook: echo.ipynb, parameters: {{label: *a{levels - 1}}}}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_alias_bomb(), "expands to more than 250000 values"),  # 9**9 strings once expanded
        ("reports: &r [{name: x, notebook: echo.ipynb, parameters: {label: *r}}]\n", "expands to more than"),
        ("reports: " + "[" * 100_000 + "]" * 100_000 + "\n", "not valid YAML"),
        ("# " + "x" * (1 << 20) + "\nreports: []\n", "larger than 1048576 bytes (1 MiB)"),
    ],
    ids=["alias-bomb", "recursive-alias", "deep-nesting", "over-1MiB"],
)
def test_hostile_plan_is_refused_fast(tmp_path, text, message):
    _echo_notebook(tmp_path / "echo.ipynb")
    plan = tmp_path / "bomb.yaml"
    plan.write_text(text, encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(PlanError) as info:
        reports.load_plan(plan)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert str(info.value).startswith("bomb.yaml: ") and message in str(info.value)


def test_grid_expansion_and_title_formats_are_bounded(tmp_path):
    _echo_notebook(tmp_path / "echo.ipynb")
    grid = {"name": "g", "notebook": "echo.ipynb", "grid": {"label": [f"v{i}" for i in range(10_001)]}}
    start = time.monotonic()
    with pytest.raises(PlanError, match=r'entry "g": the plan makes more than 10000 reports, the limit'):
        reports.load_plan(_plan(tmp_path, [grid]))
    assert time.monotonic() - start < 5
    wide = {"name": "w", "notebook": "echo.ipynb", "title": "{label:>999999999}", "parameters": {"label": "x"}}
    with pytest.raises(PlanError, match=r"title .* must name parameters the entry sets, as \{name\}"):
        reports.load_plan(_plan(tmp_path, [wide]))


# --- item 5: the output folder may not be one whose files a run would overwrite ---------------------------


def test_out_that_would_overwrite_sources_is_refused(tmp_path, capsys, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _echo_notebook(nbs / "echo.ipynb")
    plan = _plan(nbs, [{"name": "echo", "notebook": "echo.ipynb"}])
    before = _hashes(nbs)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    for out, message in [
        (nbs, "is the plan's notebooks folder"),
        (nbs / "sub", "is inside the plan's notebooks folder"),
        (tmp_path, "contains the plan's notebooks folder (notebooks/)"),
        (REPO / "src", "is the repository's src/ folder"),
        (REPO / "data" / "x", "is inside the repository's data/ folder"),
        (REPO / "notebooks", "is the repository's notebooks/ folder"),
        (REPO, "contains the repository's notebooks/ folder"),
        (not_a_folder, "exists and is not a folder"),
    ]:
        code, err = _cli(["reports", "--plan", str(plan), "--out", str(out)], capsys, monkeypatch)
        assert code == 2 and "argument --out" in err and message in err, (out, err)
        assert len(err.strip().splitlines()) == 1, err
        with pytest.raises(ReportError, match=re.escape(message)):
            reports.run(plan, out, log=lambda line: None)
    assert _hashes(nbs) == before and not (nbs / "sub").exists() and not (REPO / "data" / "x").exists()


# --- item 6: a second plan into the same folder keeps the first plan's reports ----------------------------


def test_second_plan_keeps_the_first_plans_entries(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _echo_notebook(nbs / "echo.ipynb")
    out = tmp_path / "reports"
    main = _plan(nbs, [{"name": "a", "notebook": "echo.ipynb"}, {"name": "b", "notebook": "echo.ipynb"}])
    reports.run(main, out, log=lambda line: None)
    other = nbs / "other.yaml"
    other.write_text("reports:\n  - {name: c, notebook: echo.ipynb, parameters: {label: c}}\n", encoding="utf-8")
    reports.run(other, out, log=lambda line: None)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    plans = {e["name"]: e["plan"] for e in manifest["reports"]}
    assert plans == {"a": "notebooks/reports.yaml", "b": "notebooks/reports.yaml", "c": "notebooks/other.yaml"}
    assert all(e["status"] == "ok" and e["inputs"] for e in manifest["reports"])
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{n}.html"' in index for n in "abc")

    # the first plan's incremental records survived: running it again re-executes nothing, keeps c
    outcomes = reports.run(main, out, log=lambda line: None)
    assert [o.skipped for o in outcomes] == [True, True]
    names = [e["name"] for e in json.loads((out / "manifest.json").read_text())["reports"]]
    assert sorted(names) == ["a", "b", "c"]

    # a plan that would overwrite another plan's report is refused before anything runs
    clash = nbs / "clash.yaml"
    clash.write_text("reports:\n  - {name: a, notebook: echo.ipynb}\n", encoding="utf-8")
    before = _hashes(out)
    with pytest.raises(ReportError, match=r'report name\(s\) "a" \(from notebooks/reports.yaml\) already in reports/'):
        reports.run(clash, out, log=lambda line: None)
    assert _hashes(out) == before


# --- item 7: a report whose output cannot be rendered fails alone -----------------------------------------


def _giant_png() -> str:
    """A valid PNG of 20000×10000 pixels (200 megapixels; 1 bit each, so it compresses to a few KiB)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (20000, 10000)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_unrenderable_outputs_fail_their_report_only(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _echo_notebook(nbs / "echo.ipynb")
    for name, data in [("invalid", "aGVsbG8="), ("giant", _giant_png())]:
        _one_step_notebook(
            nbs / f"{name}.ipynb",
            "n: int = 1  # unused",
            f"from IPython.display import display\ndisplay({{'image/png': {data!r}}}, raw=True)",
        )
    plan = _plan(
        nbs,
        [
            {"name": "first", "notebook": "echo.ipynb"},
            {"name": "invalid", "notebook": "invalid.ipynb"},
            {"name": "giant", "notebook": "giant.ipynb"},
            {"name": "last", "notebook": "echo.ipynb"},
        ],
    )
    out = tmp_path / "reports"
    start = time.monotonic()
    with pytest.raises(ReportError) as info:
        reports.run(plan, out, jobs=1, log=lambda line: None)
    message = str(info.value)
    assert "2 of 4 report(s) failed" in message
    assert "invalid (invalid.ipynb), output of cell 3 ('from IPython.display import display')" in message
    assert "could not be rendered: image/png output is not a valid image" in message
    assert "could not be rendered: image/png output" in message.split("giant (giant.ipynb)")[1]
    assert "larger than 89478485 pixels" in message
    assert time.monotonic() - start < 120
    assert (out / "first.html").exists() and (out / "last.html").exists()
    assert not (out / "invalid.html").exists() and (out / "_failed" / "invalid.ipynb").exists()
    manifest = {e["name"]: e for e in json.loads((out / "manifest.json").read_text())["reports"]}
    assert {n: e["status"] for n, e in manifest.items()} == {
        "first": "ok",
        "invalid": "failed",
        "giant": "failed",
        "last": "ok",
    }
    assert manifest["invalid"]["failed_cell"] == 3 and manifest["giant"]["failed_ipynb"] == "_failed/giant.ipynb"
    _assert_links_resolve(out)


def _assert_links_resolve(out: Path) -> None:
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)="([^"]+)"', index)
    local = [link for link in links if not link.startswith(("data:", "http"))]
    assert local, index
    missing = [link for link in local if not (out / link).is_file()]
    assert missing == [], missing


# --- item 8: the index and manifest describe what is on disk ---------------------------------------------


def test_index_matches_disk_after_only_with_a_corrupt_notebook_elsewhere(tmp_path, capsys, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(
        nbs / "other.ipynb", "fail: bool = False  # raise", "if fail:\n    raise ValueError('planted failure')"
    )
    (nbs / "corrupt.ipynb").write_text('{"cells": [', encoding="utf-8")
    out = tmp_path / "reports"
    entries = [
        {"name": "corrupt", "notebook": "corrupt.ipynb"},
        {"name": "other", "notebook": "other.ipynb", "parameters": {"fail": True}},
    ]
    plan = _plan(nbs, entries)
    code, err = _cli(["reports", "--plan", str(plan), "--out", str(out), "--only", "other"], capsys, monkeypatch)
    assert code == 1 and "other (other.ipynb), cell 3" in err, err
    assert (out / "_failed" / "other.ipynb").exists()
    _assert_links_resolve(out)

    entries[1]["parameters"] = {"fail": False}
    plan = _plan(nbs, entries)
    code, err = _cli(["reports", "--plan", str(plan), "--out", str(out), "--only", "other"], capsys, monkeypatch)
    assert code == 0, err
    assert not (out / "_failed" / "other.ipynb").exists()
    manifest = {e["name"]: e for e in json.loads((out / "manifest.json").read_text())["reports"]}
    assert manifest["other"]["status"] == "ok" and manifest["other"]["failed_ipynb"] is None
    assert manifest["corrupt"]["status"] == "not run" and manifest["corrupt"]["notebook_sha256"] is None
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "_failed/" not in index and 'class="failed"' not in index
    _assert_links_resolve(out)


# --- item 9: every option that changes a report's bytes is part of its incremental-build key --------------


def test_show_code_and_title_changes_rerun_the_report(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _echo_notebook(nbs / "echo.ipynb")
    out = tmp_path / "reports"
    entry = {"name": "echo", "notebook": "echo.ipynb", "title": "First title"}
    reports.run(_plan(nbs, [entry]), out, log=lambda line: None)
    html = (out / "echo.html").read_text(encoding="utf-8")
    assert "<title>First title</title>" in html and "hl-ipython3" not in html

    [outcome] = reports.run(_plan(nbs, [entry]), out, show_code=True, log=lambda line: None)
    assert not outcome.skipped
    assert "hl-ipython3" in (out / "echo.html").read_text(encoding="utf-8")

    [outcome] = reports.run(_plan(nbs, [{**entry, "title": "Second title"}]), out, log=lambda line: None)
    assert not outcome.skipped
    html = (out / "echo.html").read_text(encoding="utf-8")
    assert "<title>Second title</title>" in html and "hl-ipython3" not in html

    nb = nbformat.read(nbs / "echo.ipynb", as_version=4)
    nb.metadata["language_info"] = {"name": "python", "version": "3"}  # lands in the executed notebook
    nbformat.write(nb, nbs / "echo.ipynb")
    [outcome] = reports.run(_plan(nbs, [{**entry, "title": "Second title"}]), out, log=lambda line: None)
    assert not outcome.skipped
    [outcome] = reports.run(_plan(nbs, [{**entry, "title": "Second title"}]), out, log=lambda line: None)
    assert outcome.skipped  # and nothing changed: skipped


# --- item 14: one-line messages and exit codes instead of tracebacks --------------------------------------


def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch):
    _echo_notebook(tmp_path / "echo.ipynb")
    plan = _plan(tmp_path, [{"name": "echo", "notebook": "echo.ipynb"}])
    for args, message in [
        (["--jobs", "-1"], "argument --jobs: must be a whole number of at least 1, not '-1'"),
        (["--jobs", "0"], "argument --jobs: must be a whole number of at least 1, not '0'"),
        (["--jobs", "two"], "argument --jobs: must be a whole number of at least 1, not 'two'"),
        (["--timeout", "-1"], "argument --timeout: must be a whole number of at least 0, not '-1'"),
        (["--plan", str(tmp_path)], "argument --plan: " + str(tmp_path) + ": is a folder, not a plan file"),
        (["--plan", str(tmp_path / "nope.yaml")], "nope.yaml: plan file not found"),
    ]:
        code, err = _cli(["reports", "--check", *args], capsys, monkeypatch)
        assert code == 2 and message in err, (args, err)
    code, err = _cli(["explore", "--port", "99999"], capsys, monkeypatch)  # a port is at most 65535
    assert code == 2 and "argument --port: must be a whole number from 1 to 65535, not '99999'" in err, err
    with pytest.raises(SystemExit):
        cli.main(["reports", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default 600; 0: no limit)" in shown and "1 or more (default: number of cores)" in shown
    code, err = _cli(["reports", "--check", "--plan", str(plan), "--timeout", "0"], capsys, monkeypatch)
    assert code == 0, err


def test_bad_files_give_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    _echo_notebook(tmp_path / "echo.ipynb")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("reports:\n  - {name: caf\xe9, notebook: echo.ipynb}\n".encode("latin-1"))
    code, err = _cli(["reports", "--check", "--plan", str(latin)], capsys, monkeypatch)
    assert code == 1 and "latin.yaml: not UTF-8 text (byte 0xe9 on line 2, at offset 23)" in err, err

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / "broken.ipynb").write_text("{not json", encoding="utf-8")
    plan = _plan(nbs, [{"name": "broken", "notebook": "broken.ipynb"}])
    for extra in (["--check"], ["--out", str(tmp_path / "out")]):
        code, err = _cli(["reports", "--plan", str(plan), *extra], capsys, monkeypatch)
        assert code == 1 and 'plan entry "broken": broken.ipynb is not a valid notebook' in err, err
        assert len(err.strip().splitlines()) == 1
    with pytest.raises(ParameterError):
        cli.main(["reports", "--check", "--plan", str(plan), "--debug"])  # --debug: the exception itself


def test_read_only_and_full_disk_lose_nothing(tmp_path, capsys, monkeypatch):
    import tempfile

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _echo_notebook(nbs / "echo.ipynb")
    plan = _plan(nbs, [{"name": "echo", "notebook": "echo.ipynb"}])
    out = tmp_path / "reports"
    args = ["reports", "--plan", str(plan), "--out", str(out), "--force", "--jobs", "1"]
    assert _cli(args, capsys, monkeypatch)[0] == 0
    before = _hashes(out)

    def denied(*a: object, **k: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(out))

    with monkeypatch.context() as m:  # a read-only folder (root ignores file modes, so it is simulated)
        m.setattr(tempfile, "TemporaryFile", denied)
        code, err = _cli(args, capsys, monkeypatch)
    assert code == 1 and f"output folder {out.as_posix()}: cannot write there (Permission denied)" in err, err
    assert _hashes(out) == before

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:  # the disk fills up: every atomic write fails before its rename
        m.setattr(os, "fsync", full)
        code, err = _cli(args, capsys, monkeypatch)
    said = f"could not write {(out / 'manifest.json').as_posix()}: No space left on device (it keeps its previous state"
    assert code == 1 and said in err, err
    assert len(err.strip().splitlines()) <= 2  # the report's line and the one-line error
    assert _hashes(out) == before  # the earlier good files, manifest and index intact; no partial files


def test_check_refuses_an_empty_list_the_notebook_cannot_handle():
    plan = {r.name: r for r in reports.load_plan(reports.default_plan_path())}
    for name in ("03_remittances", "07_reuse_in_your_analysis"):
        entry = dataclasses.replace(plan[name], parameters={**plan[name].parameters, "countries": []})
        with pytest.raises(ParameterError, match=r'parameter "countries": an empty list selects nothing'):
            reports.check([entry])


# --- item 15: notebooks papermill runs, the runner runs (and fails the same ones) -------------------------


def test_runner_agrees_with_papermill_on_plain_notebooks(tmp_path, caplog):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    plain = {
        "noparams": ["x = 1", "print(x)"],
        "exit0": ["import sys", "sys.exit(0)", "print('not reached')"],
        "systemexit": ["raise SystemExit", "print('not reached')"],
        "exit1": ["import sys", "sys.exit(1)"],
        "assertion": ["x = 1", "assert x == 2, 'x is not 2'"],
        "magic": ["%nope", "print('not reached')"],
    }
    for name, sources in plain.items():
        _notebook(nbs / f"{name}.ipynb", [new_code_cell(s) for s in sources])
    # VS Code writes notebooks without a kernelspec; this one also has a line papermill cannot parse
    nb = new_notebook(
        cells=[
            new_code_cell("n = 1  # a number\nd = n == 3", metadata={"tags": ["parameters"]}),
            new_markdown_cell("**Parameters.** `n`."),
            new_code_cell("print(n)"),
        ],
        metadata={},
    )
    nbformat.write(nb, nbs / "vscode.ipynb")
    entries = [{"name": name, "notebook": f"{name}.ipynb"} for name in plain]
    entries.append({"name": "vscode", "notebook": "vscode.ipynb", "parameters": {"n": 2}})
    plan = _plan(nbs, entries)
    with caplog.at_level("WARNING"):
        reports.check(reports.load_plan(plan))
    assert "vscode.ipynb, parameters cell: Unable to parse line 2 'd = n == 3'" in caplog.text

    with pytest.raises(ReportError) as info:
        reports.run(plan, tmp_path / "out", jobs=2, log=lambda line: None)
    message = str(info.value)
    assert "3 of 7 report(s) failed" in message
    assert "exit1 (exit1.ipynb), cell 2 ('sys.exit(1)'): SystemExit: 1" in message
    assert "assertion (assertion.ipynb), cell 2 (" in message and "AssertionError: x is not 2" in message
    assert "magic (magic.ipynb), cell 1 ('%nope')" in message
    manifest = {e["name"]: e["status"] for e in json.loads((tmp_path / "out" / "manifest.json").read_text())["reports"]}
    assert [n for n, s in manifest.items() if s == "ok"] == ["noparams", "exit0", "systemexit", "vscode"]
    executed = nbformat.read(tmp_path / "out" / "vscode.ipynb", as_version=4)
    assert "2\n" in [o.get("text") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]

    with_parameters = _plan(nbs, [{"name": "noparams", "notebook": "noparams.ipynb", "parameters": {"x": 2}}])
    with pytest.raises(ParameterError, match=r'noparams.ipynb has no cell tagged "parameters" .* given: x'):
        reports.check(reports.load_plan(with_parameters))


# --- issue 29 item 9: reserved names, file contents in errors, --check refusing what the run would not write ---


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"name": "index"}], "name 'index' is reserved: its file would take the place of index.html"),
        ([{"name": "INDEX"}], "name 'INDEX' is reserved"),
        ([{"name": "NPL"}, {"name": "npl"}], 'entry "npl": the name is used twice; report names must be unique'),
        ([{"name": "x" * 201}], "is longer than 200 characters, too long for the names of its files"),
        ([{"name": "con"}], "is the name of a device on Windows"),
        ([{"name": "g", "grid": {"label": ["a", "A"]}}], 'grid values of "label" give the same report name twice'),
        ([{"name": "in", "grid": {"label": ["dex"]}}, {"name": "index_x"}], None),
        ([{"name": "g", "grid": {"label": ["x" * 200]}}], "which is longer than 200 characters"),
        ([{"name": "d", "parameters": {"label": datetime.date(2020, 1, 1)}}], "a date is not a plain value"),
        ([{"name": "k", "parameters": {"label": {1: "a"}}}], "the key 1 is not text (quote it)"),
        ([{"name": "n", "parameters": {"label": float("nan")}}], "nan is not a finite number"),
        ([{"name": "b", "grid": {"label": [b"raw"]}}], "a bytes is not a plain value"),
    ],
    ids=[
        "index",
        "INDEX",
        "case-twins",
        "too-long",
        "device",
        "grid-case-twins",
        "fine",
        "grid-too-long",
        "date",
        "number-key",
        "nan",
        "bytes",
    ],
)
def test_check_refuses_names_and_values_the_run_could_not_write(tmp_path, capsys, monkeypatch, entries, message):
    """A report named ``index`` would write ``index.html`` over the index (and on macOS so would ``INDEX``); names
    that differ only in case are one file there; a name too long for the file system, or a parameter the manifest
    cannot record (a YAML date, a number as a key, NaN), passed ``--check`` and then failed the run when it wrote.
    ``--check`` and the run now refuse them alike, before anything runs."""
    _echo_notebook(tmp_path / "echo.ipynb")
    plan = _plan(tmp_path, [{"notebook": "echo.ipynb", **e} for e in entries])
    code, err = _cli(["reports", "--check", "--plan", str(plan)], capsys, monkeypatch)
    if message is None:
        assert code == 0, err
        return
    assert code == 1 and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    with pytest.raises(PlanError):
        reports.run(plan, tmp_path / "out", log=lambda line: None)
    assert not (tmp_path / "out").exists()


def test_check_refuses_an_output_folder_the_run_would_refuse(tmp_path, capsys, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _echo_notebook(nbs / "echo.ipynb")
    plan = _plan(nbs, [{"name": "echo", "notebook": "echo.ipynb"}])
    code, err = _cli(["reports", "--check", "--plan", str(plan), "--out", str(nbs)], capsys, monkeypatch)
    assert code == 2 and "argument --out" in err and "is the plan's notebooks folder" in err, err
    code, err = _cli(["reports", "--check", "--plan", str(plan), "--out", str(tmp_path / "out")], capsys, monkeypatch)
    assert code == 0, err


SECRET = "hunter2-not-for-messages"


@pytest.mark.parametrize(
    "text",
    [
        f"token: {SECRET}\n  reports: [",
        f"reports: *{SECRET}\n",
        f"reports: [{{name: a, notebook: !<tag:{SECRET}> echo.ipynb}}]\nx: !{SECRET}! y\n",
        f'reports: "{SECRET}\n',
        f"reports:\n  - {{name: a, notebook: echo.ipynb}}\n\t{SECRET}: x\n",
    ],
    ids=["mapping", "alias", "tag", "unterminated", "tab"],
)
def test_a_plan_that_is_not_yaml_is_refused_without_quoting_it(tmp_path, capsys, monkeypatch, text):
    """``--plan`` can name any file (a key, a password file): the message says where the YAML is wrong, in one
    line, never what the file holds."""
    _echo_notebook(tmp_path / "echo.ipynb")
    plan = tmp_path / "secret.yaml"
    plan.write_text(text, encoding="utf-8")
    for loader in ("CSafeLoader", "SafeLoader"):  # libyaml's messages, and PyYAML's own (which quote the line)
        if hasattr(yaml, loader):
            monkeypatch.setattr(yaml, "CSafeLoader", getattr(yaml, loader))
        code, err = _cli(["reports", "--check", "--plan", str(plan)], capsys, monkeypatch)
        assert code == 1 and "secret.yaml: not valid YAML (" in err and ", at line " in err, err
        assert SECRET not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (f"TOKEN={SECRET}\n".encode(), "not JSON: Expecting value at line 1, column 1"),
        (f'{{"cells": "{SECRET}", "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}}'.encode(), "notebook format"),
        (b"\xff\xfe" + SECRET.encode(), "not UTF-8 text, at byte 0"),
        (f'["{SECRET}"]'.encode(), "notebook format"),
    ],
    ids=["text", "wrong-structure", "not-utf8", "a-list"],
)
def test_a_notebook_that_cannot_be_read_is_refused_without_quoting_it(tmp_path, capsys, monkeypatch, content, reason):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / "secret.ipynb").write_bytes(content)
    plan = _plan(nbs, [{"name": "s", "notebook": "secret.ipynb"}])
    code, err = _cli(["reports", "--check", "--plan", str(plan)], capsys, monkeypatch)
    assert code == 1 and 'plan entry "s": secret.ipynb is not a valid notebook (' in err and reason in err, err
    assert SECRET not in err and len(err.strip().splitlines()) == 1, err


# --- found by a red-team pass over the command line (stop 39) ---------------------------------------------
def test_a_corrected_map_snapshot_runs_the_map_reports_again():
    """The boundaries a map reads were keyed with an empty hash: a corrected boundaries file left every map
    report "unchanged", drawn from the old file."""
    import hashlib

    from leftbehind.plots.maps import BOUNDARIES
    from leftbehind.reports.inputs import _read_digest

    folder = REPO / "data" / "snapshots" / BOUNDARIES
    (file,) = [p for p in folder.iterdir() if p.name != "snapshot.json"]
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    assert _read_digest(BOUNDARIES, {}) == f"snapshot:{digest}"
    assert _read_digest("figures", {"figures": "abc"}) == "abc"


def test_an_output_folder_with_files_leftbehind_did_not_write_is_refused(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>my own site</h1>", encoding="utf-8")
    with pytest.raises(ReportError, match=r"index.html: a page that leftbehind did not write"):
        reports.run(out_dir=site, only=["06_meta_anxiety"])
    assert (site / "index.html").read_text(encoding="utf-8") == "<h1>my own site</h1>"
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]  # nothing written beside it
    (site / "manifest.json").write_text('{"reports": [{"name": "x"', encoding="utf-8")  # truncated
    with pytest.raises(ReportError, match=r"manifest.json: cannot be read as the manifest of a leftbehind run"):
        reports.run(out_dir=site, only=["06_meta_anxiety"])
    (site / "manifest.json").write_text('{"mine": true}', encoding="utf-8")  # another tool's
    with pytest.raises(ReportError, match=r"not a leftbehind manifest"):
        reports.run(out_dir=site, only=["06_meta_anxiety"])


def test_an_output_folder_of_other_files_is_refused_and_a_run_s_own_are_not(tmp_path):
    """`--out ~` (for `--out reports`) ran the plan into the home folder, its 800 files among the user's own."""
    from leftbehind.reports.site import check_site_files

    home = tmp_path / "home"
    home.mkdir()
    for name in ("notes.txt", "thesis", "data.csv", "photo.png"):
        (home / name).write_text("mine", encoding="utf-8")
    (home / ".bashrc").write_text("", encoding="utf-8")
    with pytest.raises(
        ReportError,
        match=r"home: holds files that leftbehind did not write \(data.csv, notes.txt, "
        r"photo.png and 1 more\) and no manifest.json",
    ):
        reports.run(out_dir=home, only=["06_meta_anxiety"])
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", "data.csv", "notes.txt", "photo.png", "thesis"]
    # what a first run stopped before its manifest leaves, the repository's reports/ folder, hidden files: accepted
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    for name in ("06_meta_anxiety.html", "06_meta_anxiety.ipynb", "06_meta_anxiety.data", "thumbs", ".lock",
                 "screenshots", "x.html.partial", ".gitkeep"):  # fmt: skip
        (stopped / name).mkdir()
    check_site_files(stopped, ["06_meta_anxiety"])
    check_site_files(REPO / "reports", [])
    with pytest.raises(ReportError, match=r"\(06_meta_anxiety.data, 06_meta_anxiety.html, 06_meta_anxiety.ipynb\)"):
        check_site_files(stopped, ["06_meta_depression"])  # not a report of the plan run


def test_a_value_given_twice_in_a_list_parameter_is_refused():
    plan = {r.name: r for r in reports.load_plan(reports.default_plan_path())}
    entry = next(r for r in plan.values() if isinstance(r.parameters.get("countries"), list))
    twice = dataclasses.replace(entry, parameters={**entry.parameters, "countries": ["NPL", "NPL"]})
    with pytest.raises(ParameterError, match=r'parameter "countries": NPL given more than once'):
        reports.check([twice])


def test_a_syntax_error_in_the_parameters_cell_is_named_as_one(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "broken.ipynb", 'outcome: str = "depression', "print(outcome)")
    plan = _plan(nbs, [{"name": "broken", "notebook": "broken.ipynb", "parameters": {"outcome": "anxiety"}}])
    with pytest.raises(ParameterError, match=r"broken.ipynb, parameters cell: a syntax error at line 1"):
        reports.check(reports.load_plan(plan))


def test_debug_is_taken_after_the_action_as_the_messages_say():
    parser = cli._build_parser()
    for args in (
        ["data", "validate", "--debug"],
        ["data", "--debug", "validate"],
        ["literature", "summary", "--debug"],
    ):
        assert parser.parse_args(args).debug is True
    assert parser.parse_args(["data", "validate"]).debug is False


def test_an_option_is_never_taken_by_its_prefix():
    parser = cli._build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["reports", "--fo"])  # "--force" only when spelt out
    with pytest.raises(SystemExit):
        parser.parse_args(["data", "validate", "--deb"])
    assert parser.parse_args(["reports", "--force"]).force is True
