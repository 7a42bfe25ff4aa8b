"""The warm kernel template: a process that has imported what reports need and forks one fresh kernel per report.

Run by :class:`leftbehind.reports.warm.Template` as ``python -Xfrozen_modules=off -m
leftbehind.reports._template SOCKET READY_FD``, with the environment report kernels get. It imports
:data:`PRELOAD` (numpy, pandas, matplotlib, scipy, IPython, the kernel machinery, ``leftbehind``) and parses
every data-package table once (and each outcome's default evidence selection, which every country profile
computes), then listens on the Unix socket ``SOCKET``. Each request (one JSON line:
the kernel command jupyter_client built, its environment and working folder) is answered by forking: the
child starts a new session, takes the request's environment, folder and ``sys.argv`` and runs
``ipykernel_launcher`` as ``python -m ipykernel_launcher`` would. So every report starts from the same
state (a copy-on-write copy of this process), and nothing one report does reaches another.

Lifetimes: a kernel lives as long as the connection that asked for it (the requester gone, its kernel's
process group is killed); the template lives as long as its standard input stays open (the runner holds
the other end, so even a runner killed outright takes the template and its kernels with it).

Not imported by the package: it is a program. Only what ipykernel reads from the environment *at import
time* is left out of :data:`PRELOAD` (``ipykernel.kernelapp`` reads ``JPY_PARENT_PID`` then), as are
modules that set themselves up against a running IPython when imported (ipywidgets, matplotlib's inline
backend), and pyogrio, which sets GDAL's and PROJ's environment variables when imported (a cold kernel has
them only once it reads a map), so that a forked kernel behaves exactly as a freshly started one.
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
import selectors
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from leftbehind._io import READS_LOG_ENV

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

#: Environment variable naming a report kernel's run and report (re-exported as ``kernel.KERNEL_ENV``;
#: declared here so that this program and the light ``warm`` module need not import the kernel machinery).
KERNEL_ENV = "LEFTBEHIND_REPORT_KERNEL"
#: Environment variables that differ from one report kernel to the next (this tag, and the file where the
#: kernel records the data it reads); every other variable must be the template's own, since the interpreter
#: and the preloaded modules read them when they started.
PER_REPORT = (KERNEL_ENV, READS_LOG_ENV)
PER_REPORT_PREFIX = "JPY_"

#: Characters the template's own ``LEFTBEHIND_REPORT_KERNEL`` value is padded to, so that each kernel can write
#: its report's tag over it (:func:`retag`).
TAG_ROOM = 1024

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


def refusal(request: dict[str, Any], start_env: dict[str, str], start_cwd: str = "") -> str:
    """Why this template cannot stand in for the requested kernel; ``""`` when it can. Given ``start_cwd``, the
    folder the template started in, a kernel must run there too: what is imported reads some files from the
    working folder (matplotlib a ``matplotlibrc``), as a cold kernel would from its own.

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
        return f"not a kernel of this interpreter: {argv!r}"
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
    return ""


def retag(tag: str) -> bool:
    """Write ``tag`` over the value of ``LEFTBEHIND_REPORT_KERNEL`` in this process's *original* environment
    block, the one Linux shows in ``/proc/<pid>/environ``; ``False`` where that cannot be done.

    A forked kernel changes ``os.environ``, which every program it starts inherits, but ``/proc`` still
    shows the template's block, and that is what :func:`leftbehind.reports.kernel.stop_processes` reads to
    find a report's processes, including those the kernel forks without starting a program. The template
    starts with a value long enough to hold any report's tag (:data:`TAG_ROOM`); the rest is padded with
    NUL bytes, which readers of ``/proc/<pid>/environ`` skip as empty entries.
    """
    import ctypes

    prefix = KERNEL_ENV.encode() + b"="
    new = tag.encode("utf-8")
    try:
        environ = ctypes.POINTER(ctypes.c_void_p).in_dll(ctypes.CDLL(None), "environ")
    except (OSError, ValueError):
        return False
    i = 0
    while environ[i]:
        address = environ[i]
        entry = ctypes.string_at(address)
        if entry.startswith(prefix):
            room = len(entry) - len(prefix)
            if len(new) > room:
                return False
            ctypes.memmove(address + len(prefix), new + b"\0" * (room - len(new)), room)
            return True
        i += 1
    return False


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
        retag(request["env"].get(KERNEL_ENV, ""))
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
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError(f"a message is a JSON object, not {message!r}")
    return message


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode("utf-8") + b"\n")


def _fork(request: dict[str, Any], listener: socket.socket, others: list[int], preloaded_env: dict[str, str]) -> int:
    """Fork a kernel for ``request``; return its pid once it has its own session."""
    sys.stdout.flush()
    sys.stderr.flush()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        listener.close()
        for fd in others:
            with contextlib.suppress(OSError):
                os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # as jupyter_client's launcher does (start_new_session): the kernel's own process group
        os.close(ready_w)
        _become_kernel(request, preloaded_env)
    os.close(ready_w)
    os.read(ready_r, 1)  # EOF once the child has its own session: its pid is its process group from now on
    os.close(ready_r)
    return pid


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def serve(path: str, ready_fd: int) -> None:
    """Preload, then fork kernels on request until standard input closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops this process; Ctrl-C is for the runner
    start_env, start_cwd = dict(os.environ), os.getcwd()
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path(start_cwd)):  # as ipykernel_launcher does:
        del sys.path[0]  # `-m` put the working folder first on the path; nothing preloaded may come from it
    _preload()
    preloaded_env = {k: v for k, v in os.environ.items() if start_env.get(k) != v}
    gc.collect()
    gc.freeze()  # keep the collector off the preloaded objects, so kernels share their pages
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    sel = selectors.EpollSelector()
    sel.register(listener, selectors.EVENT_READ, ("listener", None))
    sel.register(sys.stdin, selectors.EVENT_READ, ("lifeline", None))
    kernels: dict[int, tuple[socket.socket, int]] = {}  # pid -> (connection, pidfd)
    os.write(ready_fd, b"ready\n")
    os.close(ready_fd)
    while True:
        for key, _ in sel.select():
            kind, pid = key.data
            if kind == "lifeline" and not os.read(sys.stdin.fileno(), 4096):
                for child in list(kernels):
                    _kill_group(child)
                for child in list(kernels):
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(child, 0)
                return
            if kind == "listener":
                conn, _ = listener.accept()
                try:
                    request = read_message(conn)
                except (OSError, ValueError) as exc:
                    _send(conn, {"error": f"bad request: {exc}"})
                    conn.close()
                    continue
                why = refusal(request, start_env, start_cwd)
                if why:
                    _send(conn, {"error": why})
                    conn.close()
                    continue
                others = [conn.fileno(), sys.stdin.fileno(), sel.fileno()] + [c.fileno() for c, _ in kernels.values()]
                others += [fd for _, fd in kernels.values()]
                child = _fork(request, listener, others, preloaded_env)
                pidfd = os.pidfd_open(child)
                kernels[child] = (conn, pidfd)
                sel.register(pidfd, selectors.EVENT_READ, ("exited", child))
                sel.register(conn, selectors.EVENT_READ, ("requester", child))
                _send(conn, {"pid": child})
            elif kind == "requester" and pid in kernels:  # the requester closed its end: its kernel goes too
                conn = kernels[pid][0]
                with contextlib.suppress(OSError):
                    if conn.recv(1):
                        continue
                _kill_group(pid)
                sel.unregister(conn)
            elif kind == "exited" and pid in kernels:
                conn, pidfd = kernels.pop(pid)
                _, status = os.waitpid(pid, 0)
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                sel.unregister(pidfd)
                os.close(pidfd)
                with contextlib.suppress(KeyError, ValueError):
                    sel.unregister(conn)
                conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
