"""What one chart of a country profile costs to draw, step by step, and what a layout without measuring would save.

    python benchmarks/chart_costs.py [--country NPL] [--repeat 20]

A country profile's cells are mostly matplotlib drawing its charts (benchmarks/README.md), and the report runner
cannot go below its cells. This times, in CPU seconds of this process, on the profile's first chart (the
emigrants time series, ``plots.timeseries``) built ``--repeat`` times:

- **build**: ``plots.timeseries`` as the notebook calls it; it ends with ``Figure.tight_layout`` (a layout pass
  that measures every tick label, label and title) and the source line;
- **print, as the inline backend does**: ``print_figure(format="png", bbox_inches="tight")``, what IPython's inline
  backend does to show a figure. It is three passes: a draw with rendering disabled (so that the layout is
  final), measuring the tight bounding box, and the real draw into a new renderer of the cropped size, then
  the PNG encoding;
- the first two of those passes on their own (**disabled draw**, **tight box**), on figures built afresh;
- **a layout that measures nothing**: the same chart with fixed margins (``subplots_adjust``, no
  ``tight_layout``) printed without a tight box: one draw. It is not what the profiles draw (long tick labels or
  a source line of three lines would be cut off or crowded); it is the cost a redesign of the charts could come
  down to, for the maintainers to weigh against the pictures changing.

Nothing here is asserted; the numbers vary with the machine. benchmarks/README.md reports a run.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from unittest import mock

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from leftbehind import country, data, plots


def _chart(code: str, measured: bool = True) -> Figure:
    series = country.emigrants(code)
    name = data.country_name(code)
    title, source = f"Emigrants from {name} living abroad", plots.source_line(data.source_labels(series))
    if measured:
        return plots.timeseries(series, title=title, source=source)
    # the prototype: the same chart with fixed margins instead of the measured layout
    with mock.patch.object(Figure, "tight_layout", lambda self, *args, **kwargs: None):
        fig = plots.timeseries(series, title=title, source=source)
    fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.2)
    return fig


def _cpu(step: Callable[[], object], repeat: int) -> float:
    """Milliseconds of CPU per call of ``step``."""
    start = time.process_time()
    for _ in range(repeat):
        step()
    return (time.process_time() - start) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", default="NPL", help="ISO3 code of the profile whose chart is drawn")
    parser.add_argument("--repeat", type=int, default=20, help="charts built and printed per step")
    args = parser.parse_args()
    for _ in range(3):  # imports, caches and fonts loaded before anything is timed
        plt.close(_chart(args.country))

    def printed(fig: Figure, **kwargs: object) -> None:
        fig.canvas.print_figure(io.BytesIO(), format="png", **kwargs)
        plt.close(fig)

    def disabled_draw() -> None:
        fig = _chart(args.country)
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # an Agg canvas
        with renderer._draw_disabled():
            fig.draw(renderer)
        plt.close(fig)

    def tight_box() -> None:
        fig = _chart(args.country)
        fig.get_tightbbox(fig.canvas.get_renderer())  # type: ignore[attr-defined]
        plt.close(fig)

    build = _cpu(lambda: plt.close(_chart(args.country)), args.repeat)
    rows = [
        ("build (plots.timeseries, with tight_layout)", build),
        ("print as the inline backend does (bbox_inches='tight')", _cpu(lambda: printed(_chart(args.country), bbox_inches="tight"), args.repeat) - build),
        ("  of which the disabled draw", _cpu(disabled_draw, args.repeat) - build),
        ("  of which the tight box", _cpu(tight_box, args.repeat) - build),
        ("a layout that measures nothing: build and one draw", _cpu(lambda: printed(_chart(args.country, False)), args.repeat)),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    print(f"One chart of the {args.country} profile, CPU milliseconds per chart ({args.repeat} each):")
    for label, ms in rows:
        print(f"  {label:<{width}}  {ms:7.1f}")
    print(f"  {'build and print, as the profiles do':<{width}}  {rows[0][1] + rows[1][1]:7.1f}")


if __name__ == "__main__":
    main()
