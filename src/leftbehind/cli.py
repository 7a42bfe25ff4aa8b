"""Command line: ``python -m leftbehind <command>`` (also installed as ``leftbehind``).

Commands
--------
reports               run the report plan (``--only NAME``, ``--show-code``, ``--check``, ``--plan``, ``--out``)
notebooks refresh     re-execute source notebooks and store their key-result outputs
data refresh          download the WDI remittance series as a new edition (online)
data fetch            fill the local snapshot store (``--from DIR``: a mirror <publisher>/<release>/<file>)
data build            verify data/snapshots and derive data/derived/ from them (``make build-data``)
data validate         load every resource of the data package and report the first problem
literature summary    counts of the evidence base; ``literature bib`` regenerates references.bib
briefs                print each country report to reports/briefs/<ISO3>.pdf (``--only``, ``--force``)
explore               serve the explorers as a web app on 127.0.0.1 with a token (``--port``, ``--cull-after``)
screenshots           the index, a profile and its brief's first page as PNG for README (reports/screenshots/)

Errors are one line naming the file, option or report (``--debug`` shows the traceback); exit codes: 0 ok,
1 failure (a bad plan, a failed report, a folder that cannot be written), 2 usage error (an option's value:
``--jobs 0``, ``--out`` naming a file or a source folder, ``--plan`` naming a folder, ``--only`` naming no
report of the plan), 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import LeftbehindError, ParameterError, PlanError, ReportError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse without prefix matching: "--fo" is not taken for "--force" (a script that works today by a prefix
    would change meaning when an option with the same start is added). Sub-commands inherit the class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m leftbehind", description="Reports, data and notebooks of the leftbehind collection."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reports", help="run the report plan into reports/")
    rep.add_argument("--only", action="append", metavar="NAME", help="run only this report (repeatable)")
    rep.add_argument("--show-code", action="store_true", help="keep code cells in the HTML reports")
    rep.add_argument("--check", action="store_true", help="validate the plan and parameters, run nothing")
    rep.add_argument("--plan", type=Path, help="plan file (default: notebooks/reports.yaml)")
    rep.add_argument(
        "--out",
        type=Path,
        help="output folder (default: reports/); never the notebooks', src/ or data/ folders, nor one holding them",
    )
    rep.add_argument(
        "--timeout",
        type=_count(0),
        default=600,
        metavar="SECONDS",
        help="seconds a single cell may run (default 600; 0: no limit)",
    )
    rep.add_argument("--wait", action="store_true", help="if another run is writing reports/, wait for it")
    rep.add_argument(
        "--jobs",
        type=_count(1),
        default=None,
        metavar="N",
        help="reports executed at once, one kernel per report: 1 or more (default: number of cores)",
    )
    rep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster, e.g. tcp://host:8786 (needs leftbehind[dask])",
    )
    rep.add_argument(
        "--force", action="store_true", help="re-execute every report, even those whose inputs did not change"
    )
    rep.add_argument(
        "--cold",
        action="store_true",
        help="start each report's kernel as a fresh interpreter instead of forking it from a warm template "
        "(same reports, slower; the default where fork is available)",
    )

    nbs = sub.add_parser("notebooks", help="maintain the source notebooks")
    nbs_sub = nbs.add_subparsers(dest="action", required=True)
    refresh = nbs_sub.add_parser("refresh", help="re-execute notebooks and store their key-result outputs")
    refresh.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all in notebooks/)")

    dat = sub.add_parser("data", help="the data package")
    dat_sub = dat.add_subparsers(dest="action", required=True)
    validate = dat_sub.add_parser("validate", help="load and check every resource and the cross-table rules")
    fetch = dat_sub.add_parser(
        "fetch", help="bring each recorded publisher's file into the local store (data/snapshots), SHA-256 checked"
    )
    fetch.add_argument(
        "--from",
        dest="mirror",
        type=Path,
        help="a mirror folder laid out <publisher>/<release>/<file> (default: the publishers' addresses, online)",
    )
    build = dat_sub.add_parser(
        "build", help="derive figures and the classification from data/snapshots (data/derived/)"
    )
    geos = dat_sub.add_parser("build-geographies", help="regenerate data/geographies.csv (needs country_converter)")
    wdi = dat_sub.add_parser(
        "refresh", help="download the World Development Indicators remittance series as a new edition"
    )

    lit = sub.add_parser("literature", help="the evidence base on children left behind")
    lit_sub = lit.add_subparsers(dest="action", required=True)
    summary = lit_sub.add_parser("summary", help="count studies, effect rows, countries and reviews")
    bib = lit_sub.add_parser("bib", help="regenerate data/literature/references.bib from studies.csv")
    exp = sub.add_parser(
        "explore", help="serve the start notebook's explorers as a web app on 127.0.0.1, for you only (Voila)"
    )
    exp.add_argument("--port", type=_count(1, 65535), default=8866, help="port on 127.0.0.1 (default 8866)")
    exp.add_argument(
        "--cull-after",
        type=_count(1),
        default=None,
        metavar="SECONDS",
        help="shut down a kernel no page is connected to after this many seconds idle (default 300)",
    )
    brief = sub.add_parser("briefs", help="print each country report to an A4 PDF brief (needs Chromium)")
    brief.add_argument("--out", type=Path, help="reports folder (default: reports/)")
    brief.add_argument("--only", action="append", metavar="NAME", help="a report name or ISO3 code (repeatable)")
    brief.add_argument("--force", action="store_true", help="print again even briefs that match their report")
    shots = sub.add_parser("screenshots", help="screenshots of the index, a profile and a brief for README (Chromium)")
    shots.add_argument("--out", type=Path, help="reports folder (default: reports/)")
    for command in (rep, nbs, dat, lit, brief, exp, shots):
        command.add_argument("--debug", action="store_true", help="on an error, show the full traceback")
    for action in (refresh, validate, fetch, build, geos, wdi, summary, bib):  # after the action too, as messages say
        # SUPPRESS: given before the action ("data --debug fetch"), the action's default must not undo it
        action.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback")
    return parser


def _count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (and at most ``maximum``; argparse names the
    option when it is not)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not {text!r}")
        return value

    return parse


class _UsageError(Exception):
    """A command-line argument names something that cannot be used (exit code 2)."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 failure, 2 usage error, 130 interrupted).

    Errors are reported in one line (no traceback unless ``--debug``): the file, option or report concerned
    and what went wrong.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    if "rfc3987_syntax" not in sys.modules:
        # jsonschema (via nbformat) builds an IRI grammar at import when rfc3987-syntax is installed, which
        # costs ~2.5 s and is never used by notebook validation; this process does without it.
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        if args.command == "reports":
            return _reports(args)
        if args.command == "notebooks":
            return _notebooks(args)
        if args.command == "data":
            return _data(args)
        if args.command == "literature":
            return _literature(args)
        if args.command == "explore":
            from .explore.serve import CULL_AFTER, check_port, serve

            try:
                check_port(args.port)
            except ParameterError as exc:
                raise _UsageError(f"argument --port: {exc}") from None
            serve(port=args.port, cull_after=args.cull_after or CULL_AFTER)
            return 0
        if args.command == "briefs":
            from .reports.briefs import write_briefs

            write_briefs(args.out, only=args.only, force=args.force)
            return 0
        if args.command == "screenshots":
            from .reports.screenshots import write_screenshots

            write_screenshots(args.out)
            return 0
    except _UsageError as exc:
        if args.debug:
            raise
        parser.exit(2, f"{parser.prog} {args.command}: error: {exc}\n")
    except LeftbehindError as exc:
        if args.debug:
            raise
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        after = ": the reports that had finished are published and in the index; the others are as they were"
        print(f"interrupted{after if args.command == 'reports' else ''}", file=sys.stderr)
        return 130
    except OSError as exc:
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc} (--debug shows the traceback)", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc} (--debug shows the traceback)", file=sys.stderr)
        return 1
    return 2


def _reports(args: argparse.Namespace) -> int:
    from . import reports
    from .reports import guards

    plan_path = args.plan or reports.default_plan_path()
    try:
        guards.check_plan_path(plan_path)  # a missing file, a folder, a device: the option is wrong
    except PlanError as exc:
        raise _UsageError(f"argument --plan: {exc}") from None
    loaded = functools.cache(lambda: reports.load_plan(plan_path))  # read once, and only if an option needs it
    if args.out is not None:  # with --check too: a check passes only what the run would accept
        try:
            guards.check_output_dir(args.out, plan_path, [r.notebook for r in loaded()])
        except ReportError as exc:
            raise _UsageError(f"argument --out: {exc}") from None
    if args.only:  # a name that is no report of the plan is a wrong option value, as --jobs 0 is
        try:
            reports.select(loaded(), args.only)
        except PlanError as exc:
            raise _UsageError(f"argument --only: {exc}") from None
    if args.check:
        plan = reports.select(loaded(), args.only)
        reports.check(plan)
        print(f"plan ok: {len(plan)} report(s), parameters valid")
        return 0
    client = None
    executor = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise ReportError("--scheduler needs Dask: pip install 'leftbehind[dask]'") from None
        client = Client(args.scheduler)
        executor = client.get_executor()
    try:
        outcomes = reports.run(
            plan_path,
            args.out,
            only=args.only,
            show_code=args.show_code,
            timeout=args.timeout,
            wait=args.wait,
            jobs=args.jobs,
            force=args.force,
            executor=executor,
            cold=True if args.cold else None,
        )
    finally:
        if client is not None:
            client.close()
    print(reports.run_summary(outcomes, args.out or Path("reports")))
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from . import reports
    from .reports import notebooks

    paths = args.paths or sorted(reports.default_plan_path().parent.glob("*.ipynb"))
    changed = notebooks.refresh(paths)
    for p in paths:
        print(f"{'refreshed' if p in changed else 'unchanged'}  {p.name}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from . import data

    if args.action == "refresh":
        from .refresh import wdi

        for line in wdi.refresh():
            print(line)
        return 0
    if args.action == "fetch":
        from .refresh.fetch import fetch_snapshots

        for result in fetch_snapshots(args.mirror):
            print(result)
        return 0
    if args.action == "build":
        from .data import derive

        for line in derive.build_data():
            print(line)
        return 0
    if args.action == "build-geographies":
        print(f"wrote {data.build_geographies().name}")
        return 0
    for name, rows in data.validate_package().items():
        print(f"{name}: {rows} rows ok")
    return 0


def _literature(args: argparse.Namespace) -> int:
    from . import literature

    if args.action == "bib":
        print(f"wrote {literature.build_bibliography().name}")
        return 0
    labels = {
        "studies": "primary studies",
        "reviews": "systematic reviews",
        "review_estimates": "pooled estimates from reviews",
        "effect_rows": "effect rows",
        "effect_rows_with_numbers": "effect rows with numbers (estimate, 2x2 counts or means/SDs/ns)",
        "effect_rows_analysable": "effect rows convertible to log OR / log RR / SMD / MD with a variance",
        "countries": "countries (primary studies)",
        "outcomes_covered": "outcomes with at least one effect row",
    }
    for key, value in literature.summary().items():
        print(f"{value:6d}  {labels[key]}")
    return 0
