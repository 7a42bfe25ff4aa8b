"""Publishing one executed report, isolated like its execution: check its image outputs, export the HTML with
the provenance header, make the thumbnail (:func:`render`, done by the worker process that executed the report,
so that reports render in parallel), then write the files (:func:`publish`, in the runner). Whatever goes wrong
for one report (an output that cannot be rendered, a failing export, a full disk) fails that report with a
message naming the cell, or else the step, keeps its executed notebook in ``_failed/`` and leaves its last good
files in place; the run goes on with the others. Used by :mod:`leftbehind.reports.run` and
:mod:`leftbehind.reports.execute`.

Examples
--------
>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", outputs=[
...     nbformat.v4.new_output("display_data", data={"image/png": "aGVsbG8="})])])
>>> _check_outputs(nb)
Traceback (most recent call last):
...
leftbehind.reports.publish._OutputError: (0, 'image/png output is not a valid image (cannot identify image file)')
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import io
from pathlib import Path
from typing import Any

from .._io import write_atomic
from . import datafiles
from .inputs import _relative
from .notebooks import dumps, normalise
from .outcomes import Outcome, _source_cell_number
from .plan import Report
from .site import _with_provenance

#: Largest image output (in pixels) a report may have: larger ones (e.g. a 20000×10000 figure) fail the report
#: instead of costing minutes and gigabytes to decode. Pillow's own bound for suspected decompression bombs.
MAX_IMAGE_PIXELS = 89_478_485

_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")


class _OutputError(Exception):
    """An output that cannot be rendered: (index of the cell in the executed notebook, what is wrong)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(index, reason)
        self.index = index
        self.reason = reason


def _open_image(data: Any, mime: str) -> Any:
    """Decode an image output (base64 text) and open it with Pillow, refusing what is not an image or is larger
    than :data:`MAX_IMAGE_PIXELS`; raises ``ValueError`` saying which."""
    import base64
    import binascii
    import warnings

    from PIL import Image

    text = "".join(data) if isinstance(data, list) else str(data)
    try:
        raw = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{mime} output is not base64 data ({exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{mime} output is larger than {MAX_IMAGE_PIXELS} pixels ({exc})") from None
    except Exception as exc:  # UnidentifiedImageError, truncated or malformed headers
        raise ValueError(f"{mime} output is not a valid image ({_reason(exc)})") from None
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"{mime} output of {width}×{height} pixels is larger than {MAX_IMAGE_PIXELS} pixels, the limit for a "
            "figure in a report; make it smaller (figsize, dpi)"
        )
    return image


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(" <_io.BytesIO")[0]


def _thumbnail(image: Any) -> bytes:
    """A PNG at most 320 pixels wide and high of an opened image."""
    image.thumbnail((320, 320))
    small = io.BytesIO()
    image.convert("RGB").save(small, format="PNG")
    return small.getvalue()


#: The cell tag that chooses a report's thumbnail: the first PNG of the first cell so tagged that drew one (a
#: notebook whose first chart is the same in every report of it tags the chart its parameters change).
THUMBNAIL_TAG = "thumbnail"


def _check_outputs(nb: Any) -> bytes | None:
    """Check every image output of an executed notebook; return the thumbnail of its first PNG in a cell tagged
    :data:`THUMBNAIL_TAG`, else of its first PNG (None if none).

    Raises
    ------
    _OutputError
        For the first output that is not a valid image or is too large.
    """
    first = tagged = None
    for index, cell in enumerate(nb.cells):
        chosen = THUMBNAIL_TAG in (cell.get("metadata", {}).get("tags") or [])
        for output in cell.get("outputs", []):
            for mime in _IMAGE_TYPES:
                data = output.get("data", {}).get(mime)
                if data is None:
                    continue
                try:
                    image = _open_image(data, mime)
                    if mime == "image/png" and (first is None or (chosen and tagged is None)):
                        thumb = _thumbnail(image)
                        first = thumb if first is None else first
                        tagged = thumb if chosen and tagged is None else tagged
                    else:
                        image.verify()
                except ValueError as exc:
                    raise _OutputError(index, str(exc)) from None
                except Exception as exc:  # decoding failed past the header
                    raise _OutputError(index, f"{mime} output is not a valid image ({_reason(exc)})") from None
    return tagged if tagged is not None else first


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A report's files, made from its executed notebook: what :func:`publish` writes."""

    ipynb: str
    html: str
    thumb: bytes | None  # PNG of the first figure, if any
    data: tuple[tuple[str, bytes], ...] = ()  # the CSV files behind its charts and tables (:mod:`.datafiles`)


@dataclasses.dataclass(frozen=True)
class Publishing:
    """How a run renders its reports: its project root, whether code is shown, the provenance of the run."""

    root: Path
    show_code: bool
    prov: dict[str, Any]


#: The cell tag of cells shown in JupyterLab but left out of the HTML reports and briefs (README: "Add a notebook").
NOTEBOOK_ONLY = "notebook-only"


@functools.lru_cache(maxsize=2)
def _exporter(show_code: bool) -> Any:
    """The HTML exporter, one per process and ``show_code``: building one compiles its Jinja templates, a
    third of a second of every export otherwise. Exporting keeps no state between notebooks. It validates the
    notebook once, after all its preprocessors, not after each of them (eleven validations of the whole notebook
    fewer per report; the notebook was validated when its ``.ipynb`` was written, just before)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    templates = Path(__file__).parent / "templates" / "nbconvert"
    exporter = HTMLExporter(
        template_name="leftbehind",
        extra_template_basedirs=[str(templates)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        optimistic_validation=True,
    )
    # cells for JupyterLab users only (the parameters' documentation) are left out of published pages
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY}), enabled=True)
    return exporter


def _export_html(nb: Any, title: str, show_code: bool) -> str:
    body, _ = _exporter(show_code).from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


#: Markdown that exercises what reports' narrative cells use (headings, emphasis, lists, links, tables, code,
#: maths, entities, raw HTML), so that :func:`preload` compiles the Markdown parser's and the HTML post-processing's
#: regular expressions (and Beautiful Soup's table of named entities) once, before workers fork.
_SAMPLE_MARKDOWN = """# Title &amp; subtitle

Some *emphasis*, **strong**, `code`, a [link](https://example.org "title") and <https://example.org>; maths
$x^2 + \\sqrt{y}$ and $$\\sum_i w_i$$; entities &nbsp;&lt;&gt;&copy;&#8212;&#x2014; and <b>HTML</b>.

- a list
  1. nested, numbered
> a quote

| column | value |
|---|---:|
| a | 1.0 |

```python
print("fenced")
```
---
"""


def _sample_notebook() -> Any:
    """A small executed notebook with what reports contain: Markdown, code, stream, HTML table and PNG outputs."""
    import base64

    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, format="PNG")
    table = (
        '<table class="dataframe"><thead><tr><th>a &amp; b</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
    )
    outputs = [
        new_output("stream", name="stdout", text="text\n"),
        new_output(
            "display_data", data={"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": "<Figure>"}
        ),
        new_output("execute_result", data={"text/html": table, "text/plain": "a"}, execution_count=1),
    ]
    nb = new_notebook(
        cells=[new_markdown_cell(_SAMPLE_MARKDOWN), new_code_cell("x = 1", outputs=outputs, execution_count=1)],
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
    )
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def preload(show_code: bool = False) -> None:
    """Import and compile what rendering needs (nbconvert and its templates, Pillow, the Markdown parser's and Beautiful
    Soup's regular expressions, notebook validation), by rendering a small sample notebook as a worker renders a
    report, in the runner before it forks its workers: each then renders without importing or compiling them again
    (about a tenth of a second of every report otherwise). ``show_code``: which of the two exporters the run uses.

    Examples
    --------
    >>> preload()
    >>> _exporter(False) is _exporter(False)  # built once, then reused
    True
    """
    nb = _sample_notebook()
    dumps(nb)
    _check_outputs(nb)
    _export_html(nb, "", show_code)


def _export(nb: Any, title: str, show_code: bool) -> str:
    """The report's HTML; when the export fails, find the cell it fails on (exporting cells one by one)."""
    try:
        return _export_html(nb, title, show_code)
    except Exception:
        for index, cell in enumerate(nb.cells):
            single = copy.copy(nb)
            single.cells = [cell]
            try:
                _export_html(single, title, show_code)
            except Exception as exc:
                raise _OutputError(index, f"HTML export failed ({type(exc).__name__}: {_reason(exc)})") from None
        raise


def _save_failed(report: Report, nb: Any, rel_in: str, out_dir: Path) -> str:
    """Keep a failed execution as ``_failed/<name>.ipynb``; return "" or what prevented it."""
    if nb is None:
        return ""
    with contextlib.suppress(datafiles.DataOutputError):  # a failed run publishes no data, nor does its notebook
        datafiles.take(nb)
    try:
        normalise(nb, input_path=rel_in, output_path=f"reports/_failed/{report.name}.ipynb")
        write_atomic(out_dir / "_failed" / f"{report.name}.ipynb", dumps(nb))
    except OSError as exc:
        return f" (the failed notebook could not be saved in _failed/: {exc.strerror or exc})"
    return ""


def render(report: Report, nb: Any, outcome: Outcome, how: Publishing) -> tuple[Rendered | None, Outcome]:
    """The files of one executed report, or ``None`` and the report's failure (an output that cannot be rendered,
    the cell named; a failing export, the step named). A report that failed to execute is passed through."""
    if outcome.status != "ok":
        return None, outcome
    rel_in = _relative(report.notebook, how.root)
    step = "preparing the executed notebook"
    try:
        data = tuple(datafiles.take(nb))
        normalise(nb, input_path=rel_in, output_path=f"reports/{report.name}.ipynb")
        ipynb = dumps(nb)
        step = "checking its image outputs"
        thumb = _check_outputs(nb)
        step = "exporting HTML"
        html = _export(nb, report.title, how.show_code)
        step = "adding the provenance header"
        html = _with_provenance(html, report, rel_in, how.prov)
    except (_OutputError, datafiles.DataOutputError) as exc:
        number = _source_cell_number(nb, exc.index)
        source = str(nb.cells[exc.index].get("source", ""))
        return None, Outcome(
            report,
            "failed",
            error=f"output of cell {number} could not be rendered: {exc.reason}",
            cell_index=number,
            cell_source=next((ln for ln in source.splitlines() if ln.strip()), ""),
        )
    except Exception as exc:
        return None, Outcome(report, "failed", error=f"{step} failed: {type(exc).__name__}: {_reason(exc)}")
    return Rendered(ipynb, html, thumb, data), outcome


def publish(
    report: Report,
    nb: Any,
    outcome: Outcome,
    out_dir: Path,
    how: Publishing,
    rendered: Rendered | None = None,
) -> Outcome:
    """Write one executed report's files (``<name>.data/*.csv``, ``<name>.ipynb``, ``.html``, ``thumbs/<name>.png``),
    rendering them first unless ``rendered`` is given, or, when it failed or cannot be published, its
    ``_failed/<name>.ipynb``; return its final outcome. Never raises for a problem of this report alone."""
    if rendered is None:
        rendered, outcome = render(report, nb, outcome, how)
    if rendered is None or outcome.status != "ok":
        note = _save_failed(report, nb, _relative(report.notebook, how.root), out_dir)
        return dataclasses.replace(outcome, error=outcome.error + note) if note else outcome
    target = out_dir / datafiles.folder(report.name)
    try:  # the data first: a page never links a CSV that is not there yet
        datafiles.write(out_dir, report.name, list(rendered.data))
        target = out_dir / f"{report.name}.ipynb"
        write_atomic(target, rendered.ipynb)
        target = out_dir / f"{report.name}.html"
        write_atomic(target, rendered.html)
        target = out_dir / "thumbs" / f"{report.name}.png"
        if rendered.thumb is not None:
            write_atomic(target, rendered.thumb)
        elif target.exists():
            target.unlink()  # a stale thumbnail of an earlier figure
        target = out_dir / "_failed" / f"{report.name}.ipynb"
        if target.exists():
            target.unlink()
    except OSError as exc:
        shown = _relative(target, out_dir)
        return Outcome(report, "failed", error=f"could not write {shown}: {exc.strerror or exc}")
    return outcome
