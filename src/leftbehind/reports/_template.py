"""The warm kernel template: a process that has imported what reports need and forks one fresh kernel per report.

Run by :class:`leftbehind.reports.warm.Template` as ``python -Xfrozen_modules=off -m
leftbehind.reports._template SOCKET READY_FD``, with the environment report kernels get. It imports
:data:`PRELOAD` (numpy, pandas, matplotlib, scipy, IPython, the kernel machinery, ``leftbehind``) and parses
every data-package table once (and each outcome's default evidence selection, which every country profile
computes), then listens on the Unix socket ``SOCKET``. Each request (one JSON line: the kernel command
jupyter_client built, its environment and working folder), from one of the run's own worker processes, is
answered by forking a *keeper* for that report (:func:`_keep`), which forks the kernel: the kernel starts a new
session, takes the request's environment, folder and ``sys.argv`` and runs ``ipykernel_launcher`` as ``python -m
ipykernel_launcher`` would. So every report starts from the same state (a copy-on-write copy of this process),
and nothing one report does reaches another.

Who keeps what (:mod:`leftbehind.reports.processes`): the keeper is a child subreaper, so everything the kernel
starts stays below it; it tells the worker the kernel's number, exit status and, once it has killed whatever the
kernel left, that the report's processes are gone, and it ends with its report (or with the worker, if the
worker goes first). Once forked, a kernel depends on its keeper only: a template that is stopped or killed
meanwhile stops no report. The template is a subreaper too: a keeper that is killed leaves its kernel and the rest
to the template, which kills them. The template reads requests without ever waiting for one (a connection that
sends half a request holds up nothing) and lives as long as its standard input stays open (the runner holds the
other end, so even a runner killed outright takes the template with it).

Not imported by the package: it is a program. Only what ipykernel reads from the environment *at import
time* is left out of :data:`PRELOAD` (``ipykernel.kernelapp`` reads ``JPY_PARENT_PID`` then), as are
modules that set themselves up against a running IPython when imported (ipywidgets, matplotlib's inline
backend), and pyogrio, which sets GDAL's and PROJ's environment variables when imported (a cold kernel has
them only once it reads a map), so that a forked kernel behaves exactly as a freshly started one. The map's
boundaries are read all the same (:func:`leftbehind.plots.maps.prime`, which takes those variables out of the
template's environment again; a kernel gets them when it draws its first map, as a cold one would).
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import importlib
import json
import os
import random
import runpy
import select
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from leftbehind._io import READS_LOG_ENV, REPORT_ENV
from leftbehind.reports import processes

#: Imported before any fork (each is also what a report's first cell would import).
PRELOAD = (
    "numpy",
    "pandas",
    "scipy.stats",
    "scipy.optimize",
    "matplotlib",
    "matplotlib.pyplot",
    "PIL.Image",
    "PIL.BmpImagePlugin",  # the image formats Pillow registers when it first reads or writes an image, in its order
    "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PpmImagePlugin",
    "PIL.PngImagePlugin",
    "matplotlib.backends.backend_agg",  # what the inline backend draws with (the backend itself is left out)
    "IPython.core.pylabtools",
    "pandas.io.formats.string",  # a table's text and HTML display
    "pandas.io.formats.html",
    "pandas.core.reshape.reshape",
    "yaml",
    "IPython",
    "zmq",
    "tornado.ioloop",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # debugpy: a tenth of a second of imports in every kernel otherwise
    # what the kernel application imports as it starts (about 15 ms of every kernel's start otherwise)
    "ipykernel.control",
    "ipykernel.heartbeat",
    "ipykernel.parentpoller",
    "ipykernel.shellchannel",
    "IPython.core.application",
    "IPython.core.completerlib",
    "IPython.core.crashhandler",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.core.shellapp",
    "IPython.extensions.storemagic",
    "IPython.terminal.pt_inputhooks",
    "IPython.utils.wildcard",
    "tornado.platform.asyncio",
    "leftbehind",
    "leftbehind.data",
    "leftbehind.meta",
    "leftbehind.literature",
    "leftbehind.plots",
    "leftbehind.country",
    "leftbehind.world",
    "leftbehind.narrative",
    "geopandas",
    "fastjsonschema",  # snapshot records (maps)
)

#: Environment variables that differ from one report kernel to the next (the file where the kernel records the
#: data it reads, the report's name); every other variable must be the template's own, since the interpreter and the preloaded
#: modules read them when they started.
PER_REPORT = (READS_LOG_ENV, REPORT_ENV)
PER_REPORT_PREFIX = "JPY_"

#: Longest request (bytes), and seconds a connection may take to send one: a request is a few kilobytes sent at
#: once by a worker, so a longer or slower one is not a worker's.
MAX_REQUEST = 4 << 20
REQUEST_SECONDS = 30.0
#: Connections whose request is not complete yet; beyond this many, the oldest is closed.
MAX_PENDING = 32

#: How a kernel command starts (after the interpreter): what this template stands in for.
LAUNCHER = ["-Xfrozen_modules=off", "-m", "ipykernel_launcher"]


class _InKernel:
    """What ``get_ipython()`` returns to a library imported while preloading: a shell that runs in a kernel."""

    kernel = None


def _preload() -> None:
    # ipykernel would set this before the notebook's first import of matplotlib; matplotlib reads it when imported
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # Inside a kernel, IPython's ``get_ipython`` builtin answers with the shell, which has a ``kernel``; some
    # libraries decide at import time from it (pandas: display.max_columns is 20 in a kernel, 0 in a terminal).
    builtins.get_ipython = _InKernel  # type: ignore[attr-defined]
    try:
        for name in PRELOAD:
            with contextlib.suppress(Exception):  # a report that needs it will say what is wrong, as it would cold
                importlib.import_module(name)
    finally:
        del builtins.get_ipython  # type: ignore[attr-defined]
    prime_caches()


def prime_caches() -> None:
    """Fill the caches of what reports derive from the data package, once, before any kernel is forked (also
    what the benchmark's compute floor starts from, so that both start from the same warm state)."""
    with contextlib.suppress(Exception):
        from leftbehind.data import tabular

        for name in tabular.resource_names():
            tabular.load(name)
    with contextlib.suppress(Exception):  # what every country profile computes: each outcome's default selection
        from leftbehind import literature

        for outcome in literature.outcomes()["outcome"]:
            literature.selection(outcome)
    with contextlib.suppress(Exception):  # derived once per process: the figures joined to their editions, the
        from leftbehind.data.arguments import _known_codes  # valid codes, the snapshot records' validator
        from leftbehind.data.figures import _figures_table
        from leftbehind.data.snapshots import _fast_validator

        _figures_table()
        _known_codes(countries_only=True)
        _known_codes(countries_only=False)
        _fast_validator()
    with contextlib.suppress(Exception):  # what every country profile looks up, the same for each (0.18 s a
        from leftbehind import data  # profile): the figures indexed by geography, the corridors with their shares
        from leftbehind.country.context import COMPARED  # (newest year, by sex; every year), the tables it ranks
        from leftbehind.data.bilateral import _with_shares, corridor_years  # its country in
        from leftbehind.data.figures import _indicator_index

        _indicator_index()
        for sex in ("total", "female"):
            _with_shares(corridor_years()[-1], sex)
        _with_shares(None, "total")
        for indicator, _unit, _what in COMPARED:
            data.table(indicator, data.broad_year(indicator))
    with contextlib.suppress(Exception):  # the world map's boundaries, projected and outlined (0.4 s a profile),
        from leftbehind.plots import maps  # its reader's environment variables left out (see the module's note)

        maps.prime()


#: Suffixes of files in the kernels' folder that ``import`` may find there before the installed module of that
#: name (the folder is first on a kernel's ``sys.path``).
_IMPORTABLE = (".py", ".pyc", ".so", ".pyd")


def folder_state(folder: str) -> dict[str, tuple[int, int, int]]:
    """What in the kernels' folder a kernel reads as it starts and imports: ``matplotlibrc`` (matplotlib reads the
    working folder's first, when imported) and whatever ``import`` finds there (modules, packages), by name, with
    each one's size, modification time and inode. The template read them when it preloaded; a kernel forked from it
    after they changed would not see what a fresh kernel sees (:func:`refusal`).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> before = folder_state(folder)
    >>> _ = Path(folder, "matplotlibrc").write_text("lines.linewidth: 7")
    >>> before, sorted(folder_state(folder))
    ({}, ['matplotlibrc'])
    """
    found: dict[str, tuple[int, int, int]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        path = entry.path
        if entry.name != "matplotlibrc" and not entry.name.endswith(_IMPORTABLE):
            inits = (os.path.join(entry.path, f"__init__{suffix}") for suffix in _IMPORTABLE)
            path = next((p for p in inits if os.path.isfile(p)), "")  # a package: a folder with an __init__
            if not path:
                continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        found[entry.name] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return found


def refusal(
    request: dict[str, Any],
    start_env: dict[str, str],
    start_cwd: str = "",
    start_folder: dict[str, tuple[int, int, int]] | None = None,
) -> str:
    """Why this template cannot stand in for the requested kernel; ``""`` when it can. Given ``start_cwd``, the
    folder the template started in, a kernel must run there too: what is imported reads some files from the
    working folder (matplotlib a ``matplotlibrc``), as a cold kernel would from its own; given ``start_folder``,
    what of those files was there when the template preloaded (:func:`folder_state`), they must not have changed.

    Examples
    --------
    >>> env = {"PATH": "/bin", "JPY_PARENT_PID": "1"}
    >>> cmd = [sys.executable, *LAUNCHER, "-f", "k.json"]
    >>> refusal({"argv": cmd, "env": {"PATH": "/bin", "JPY_PARENT_PID": "7"}, "cwd": "."}, env)
    ''
    >>> refusal({"argv": cmd, "env": {"PATH": "/usr/bin"}, "cwd": "."}, env)
    'environment differs from the template: PATH'
    >>> refusal({"argv": cmd, "env": env, "cwd": "/"}, env, start_cwd="/tmp")
    "working folder differs from the template's (/tmp): /"
    """
    argv = request.get("argv")
    if not isinstance(argv, list) or argv[: 1 + len(LAUNCHER)] != [sys.executable, *LAUNCHER]:
        return f"not a kernel of this interpreter: {str(argv)[:200]}"
    env = request.get("env")
    if not isinstance(env, dict):
        return "no environment given"
    cwd = request.get("cwd")
    if not isinstance(cwd, str):
        return "no working folder given"
    if start_cwd and os.path.realpath(cwd) != os.path.realpath(start_cwd):
        return f"working folder differs from the template's ({start_cwd}): {cwd}"

    def fixed(e: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in e.items() if k not in PER_REPORT and not k.startswith(PER_REPORT_PREFIX)}

    mine, theirs = fixed(start_env), fixed(env)
    differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    if differ:
        return "environment differs from the template: " + ", ".join(differ)
    if start_folder is not None:
        return folder_change(start_folder, folder_state(cwd))
    return ""


def folder_change(before: dict[str, tuple[int, int, int]], now: dict[str, tuple[int, int, int]]) -> str:
    """What changed between two :func:`folder_state` of the kernels' folder, said in a sentence; ``""`` if nothing.

    Examples
    --------
    >>> folder_change({}, {"matplotlibrc": (10, 1, 2)})[:58]
    "matplotlibrc in the kernels' folder changed during the run"
    """
    changed = sorted(k for k in set(now) | set(before) if now.get(k) != before.get(k))
    if not changed:
        return ""
    return (
        f"{', '.join(changed)} in the kernels' folder changed during the run (a report may have written it): a "
        "fresh kernel reads what is there now, the template read what was there before"
    )


def _become_kernel(request: dict[str, Any], preloaded_env: dict[str, str]) -> None:
    """In the forked child: take the request's session, environment, folder and arguments, then run the kernel.
    ``preloaded_env`` is what preloading added to the environment (debugpy sets ``PYDEVD_USE_FRAME_EVAL`` when
    imported): a cold kernel has it from its own imports, so it is added back where the request has none."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        # what `python -m ipykernel_launcher` starts with: its folder first on the path (the launcher removes it)
        sys.path.insert(0, os.getcwd())
        os.environ.clear()
        os.environ.update(request["env"])
        for key, value in preloaded_env.items():
            os.environ.setdefault(key, value)
        random.seed()  # the copy of the template's generator state is not this kernel's
        if "numpy.random" in sys.modules:  # nor is numpy's global generator, seeded when numpy was imported
            sys.modules["numpy.random"].seed()
        sys.argv = ["ipykernel_launcher", *request["argv"][1 + len(LAUNCHER) :]]
        runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def read_message(conn: socket.socket) -> dict[str, Any]:
    """One message of the template's protocol, a JSON object on one line (requests one way, answers the
    other); :class:`ConnectionError` when the other end closed first, :class:`ValueError` for anything else."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the other end closed the connection")
        data += chunk
    return parse_message(data)


def parse_message(data: bytes) -> dict[str, Any]:
    """A message from its line; :class:`ValueError` when it is not a JSON object."""
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError(f"a message is a JSON object, not {type(message).__name__}")
    return message


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode("utf-8") + b"\n"


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.setblocking(True)
        conn.settimeout(5)
        conn.sendall(_line(message))


def _peer(conn: socket.socket) -> int:
    """The process that connected, as the kernel saw it connect (``SO_PEERCRED``); 0 where unknown."""
    try:
        pid, _, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    except (OSError, AttributeError):
        return 0
    return int(pid)


def _from_the_run(pid: int) -> bool:
    """Whether process ``pid`` is the runner that started this template or one of the runner's worker processes:
    the only processes that may ask for kernels (a report's own processes are below a kernel, not the runner)."""
    runner = os.getppid()
    return pid == runner or processes.parent(pid) == runner


def _keep(conn: socket.socket, request: dict[str, Any], preloaded_env: dict[str, str]) -> None:
    """In the keeper forked for one request: fork the kernel, tell the requester its number (with pidfds of the
    kernel and of this keeper, so that it can watch both without asking the template), then wait. When the kernel
    ends: send its exit status, kill whatever is left below this process, say so, and exit. When the requester goes
    first: kill the kernel and everything below, and exit."""
    code = 1
    try:
        processes.set_subreaper(True)
        conn.setblocking(True)
        ready_r, ready_w = os.pipe()
        kernel = os.fork()
        if kernel == 0:
            os.close(ready_r)
            conn.close()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()  # as jupyter_client's launcher does (start_new_session): the kernel's own process group
            os.close(ready_w)
            _become_kernel(request, preloaded_env)
        os.close(ready_w)
        os.read(ready_r, 1)  # EOF once the kernel has its own session: its pid is its process group from now on
        os.close(ready_r)
        processes.set_name(processes.KEEPER_NAME)  # after the fork: the kernel keeps the interpreter's name
        kernel_fd, own_fd = os.pidfd_open(kernel), os.pidfd_open(os.getpid())
        socket.send_fds(conn, [_line({"pid": kernel, "keeper": os.getpid()})], [kernel_fd, own_fd])
        os.close(own_fd)
        while True:
            ready, _, _ = select.select([conn.fileno(), kernel_fd], [], [])
            if kernel_fd in ready:
                _, status = os.waitpid(kernel, 0)
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                break
            if conn.fileno() in ready and not conn.recv(4096):  # the requester is gone: its kernel goes too
                with contextlib.suppress(OSError):
                    os.killpg(kernel, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(kernel_fd, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(kernel, 0)
                break
        processes.sweep()
        _send(conn, {"swept": True})
        code = 0
    finally:
        os._exit(code)


def _fork_keeper(conn: socket.socket, request: dict[str, Any], close: list[Any], preloaded_env: dict[str, str]) -> int:
    """Fork the keeper of one request (:func:`_keep`); in it, close ``close`` (the template's other files)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            for item in close:
                with contextlib.suppress(OSError, ValueError):
                    item.close() if hasattr(item, "close") else os.close(item)
            devnull = os.open(os.devnull, os.O_RDONLY)  # not the template's lifeline
            os.dup2(devnull, 0)
            os.close(devnull)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _keep(conn, request, preloaded_env)
        finally:
            os._exit(1)
    return pid


class _Pending:
    """A connection whose request is not complete yet."""

    def __init__(self) -> None:
        self.data = b""
        self.since = time.monotonic()


def serve(path: str, ready_fd: int) -> None:
    """Preload, then fork a keeper and kernel per request until standard input closes; then stop everything below."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops this process; Ctrl-C is for the runner
    start_env, start_cwd = dict(os.environ), os.getcwd()
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path(start_cwd)):  # as ipykernel_launcher does:
        del sys.path[0]  # `-m` put the working folder first on the path; nothing preloaded may come from it
    start_folder = folder_state(start_cwd)
    _preload()
    if folder_state(start_cwd) != start_folder:  # it changed while preloading: what was read is unknown
        start_folder = {"(changed while the template started)": (0, 0, 0)}
    preloaded_env = {k: v for k, v in os.environ.items() if start_env.get(k) != v}
    gc.collect()
    gc.freeze()  # keep the collector off the preloaded objects, so kernels share their pages
    processes.set_subreaper(True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.setblocking(False)
    sel = selectors.EpollSelector()
    sel.register(listener, selectors.EVENT_READ, ("listener", None))
    sel.register(sys.stdin, selectors.EVENT_READ, ("lifeline", None))
    keepers: dict[int, int] = {}  # pid -> pidfd
    pending: dict[socket.socket, _Pending] = {}

    def drop(conn: socket.socket, error: str = "") -> None:
        pending.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(conn)
        if error:
            _send(conn, {"error": error})
        conn.close()

    os.write(ready_fd, b"ready\n")
    os.close(ready_fd)
    while True:
        waits = [REQUEST_SECONDS - (time.monotonic() - p.since) for p in pending.values()]
        for key, _ in sel.select(max(0.0, min(waits)) if waits else None):
            kind, item = key.data
            if kind == "lifeline" and not os.read(sys.stdin.fileno(), 4096):
                processes.sweep()
                return
            if kind == "listener":
                while True:
                    try:
                        conn, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    if not _from_the_run(_peer(conn)):
                        drop(conn, "only the run's own processes may ask this template for kernels")
                        continue
                    conn.setblocking(False)
                    pending[conn] = _Pending()
                    sel.register(conn, selectors.EVENT_READ, ("request", conn))
                    if len(pending) > MAX_PENDING:
                        drop(min(pending, key=lambda c: pending[c].since), "too many requests at once")
            elif kind == "request" and item in pending:
                conn, waiting = item, pending[item]
                try:
                    chunk = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    drop(conn)
                    continue
                waiting.data += chunk
                if len(waiting.data) > MAX_REQUEST:
                    drop(conn, f"a request is at most {MAX_REQUEST} bytes")
                    continue
                if not waiting.data.endswith(b"\n"):
                    continue
                pending.pop(conn)
                sel.unregister(conn)
                try:
                    request = parse_message(waiting.data)
                except ValueError as exc:
                    drop(conn, f"bad request: {exc}")
                    continue
                why = refusal(request, start_env, start_cwd, start_folder)
                if why:
                    drop(conn, why)
                    continue
                close = [listener, sel, sys.stdin.fileno(), *pending, *keepers.values()]
                keeper = _fork_keeper(conn, request, close, preloaded_env)
                conn.close()
                keepers[keeper] = os.pidfd_open(keeper)
                sel.register(keepers[keeper], selectors.EVENT_READ, ("keeper", keeper))
            elif kind == "keeper" and item in keepers:  # a keeper ended: reap it; kill what a killed one left
                fd = keepers.pop(item)
                sel.unregister(fd)
                os.close(fd)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(item, 0)
                processes.sweep(spare=keepers)
        now = time.monotonic()
        for conn in [c for c, p in pending.items() if now - p.since >= REQUEST_SECONDS]:
            drop(conn, f"the request was not complete after {REQUEST_SECONDS:.0f} s")


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
