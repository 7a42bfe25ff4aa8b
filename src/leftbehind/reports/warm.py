"""Warm report kernels: each report's kernel forked from a template that has already imported what reports
need, instead of a fresh interpreter importing pandas, matplotlib and ``leftbehind`` once per report.

The design (issue 18): one template process per run (:class:`Template`, the program
:mod:`leftbehind.reports._template`) imports the heavy modules and parses the data package, then forks a
new kernel process for every report. Each report therefore starts from the same clean state, a
copy-on-write copy of the template, and nothing one report does can reach another: no kernel is ever
reused. The hook is jupyter_client's own: a kernel *provisioner* (:class:`.kernel.WarmProvisioner`) that asks
the template for a kernel where the standard one would start a process; papermill, nbclient and the
kernel itself are unchanged, and a report's bytes do not depend on how its kernel started (tested
against cold kernels).

The template belongs to one run, so it always holds the code, lock and data of that run; a run of fewer
than :data:`MIN_REPORTS` reports starts none (it would cost more than it saves) unless asked to. Where ``fork``
or Linux's ``pidfd_open`` is missing, or the template cannot start, reports run with cold kernels and
the run says so in one line (:func:`unavailable`). ``--cold`` asks for cold kernels.

Examples
--------
>>> unavailable() in ("", "warm kernels need fork and pidfd_open (Linux); using cold kernels")
True
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._template import KERNEL_ENV, TAG_ROOM, read_message

__all__ = [
    "START_ENV",
    "ForkedKernel",
    "Template",
    "current",
    "ready",
    "template",
    "unavailable",
    "wants_warm",
]

#: The template serving this process's kernels (inherited by forked report workers), if any.
_CURRENT: Template | None = None

#: Environment variable choosing how report kernels start when the caller does not say: ``warm`` (the
#: default) or ``cold``; e.g. ``LEFTBEHIND_KERNEL_START=cold make test`` runs every runner test cold.
START_ENV = "LEFTBEHIND_KERNEL_START"
STARTS = ("warm", "cold")

#: Seconds the template may take to import and preload before the run goes on with cold kernels.
START_TIMEOUT = 120


def unavailable() -> str:
    """``""`` where warm kernels can run; otherwise the one-line reason the run uses cold kernels."""
    if os.name != "posix" or not hasattr(os, "fork") or not hasattr(os, "pidfd_open"):
        return "warm kernels need fork and pidfd_open (Linux); using cold kernels"
    return ""


#: Reports a run must execute before it starts a template by itself: the template's imports cost about as
#: much as two or three cold kernels' own, so a run of fewer reports gains nothing from it.
MIN_REPORTS = 4


def wants_warm(cold: bool | None, reports: int = MIN_REPORTS) -> bool:
    """Whether a run of ``reports`` executions should fork its kernels from a template: ``not cold`` when the
    caller says, else what :data:`START_ENV` says, else whether there are at least :data:`MIN_REPORTS`.

    Examples
    --------
    >>> wants_warm(True), wants_warm(False, reports=1), wants_warm(None, reports=40), wants_warm(None, reports=1)
    (False, True, True, False)
    """
    if cold is not None:
        return not cold
    from ..errors import check_choice

    value = os.environ.get(START_ENV, "").strip()
    if value:
        return (
            check_choice(f"environment variable {START_ENV}", value, STARTS, "a kernel start", fold=str.lower) == "warm"
        )
    return reports >= MIN_REPORTS


def current() -> Template | None:
    """The running template that report kernels are forked from in this process, if any."""
    return _CURRENT if _CURRENT is not None and _CURRENT.alive() else None


class Template:
    """The template process of one run (see :mod:`leftbehind.reports._template`), started in ``cwd``, the folder
    its kernels run in (it forks no kernel for another). It starts preloading at once; :meth:`await_ready`
    waits for it to finish (the run checks its plan meanwhile)."""

    def __init__(self, folder: Path, tag: str, cwd: Path | None = None) -> None:
        self.socket_path = str(folder / "warm.sock")
        self.owner = os.getpid()
        self.ready = False
        ready_r, ready_w = os.pipe()
        env = dict(os.environ)
        # found by kernel.stop_processes(run prefix) on interrupt; room for each kernel's own tag (_template.retag)
        env[KERNEL_ENV] = tag.ljust(TAG_ROOM, "~")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-Xfrozen_modules=off",
                "-m",
                "leftbehind.reports._template",
                self.socket_path,
                str(ready_w),
            ],
            stdin=subprocess.PIPE,  # the lifeline: closed, the template stops with every kernel it forked
            pass_fds=(ready_w,),
            env=env,
            cwd=cwd,  # the kernels' folder: what it imports reads files there as a cold kernel's imports would
            start_new_session=True,  # Ctrl-C is for the runner, which stops the template itself
        )
        os.close(ready_w)
        self._ready_pipe: int | None = ready_r
        self._started = time.monotonic()

    def await_ready(self) -> bool:
        """Wait until the template has preloaded, at most :data:`START_TIMEOUT` seconds after it started; stop
        it if it has not. Whether it is ready."""
        if self._ready_pipe is not None:
            try:
                left = max(0.0, START_TIMEOUT - (time.monotonic() - self._started))
                ready, _, _ = select.select([self._ready_pipe], [], [], left)
                self.ready = bool(ready) and os.read(self._ready_pipe, 16) == b"ready\n"
            finally:
                self._close_ready_pipe()
            if not self.ready:
                self.close()
        return self.ready

    def alive(self) -> bool:
        """Started and not known to have stopped (only the process that started it can tell the latter;
        a report worker forked from it finds out when it asks for a kernel)."""
        return self.ready and (
            self.process.returncode is None if os.getpid() != self.owner else self.process.poll() is None
        )

    def _close_ready_pipe(self) -> None:
        if self._ready_pipe is not None:
            os.close(self._ready_pipe)
            self._ready_pipe = None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
        """A new kernel process for ``argv`` (jupyter_client's kernel command), or :class:`RuntimeError`
        saying why the template would not start it."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.socket_path)
            conn.sendall(json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode("utf-8") + b"\n")
            reply = read_message(conn)
        except (OSError, ValueError) as exc:
            conn.close()
            raise RuntimeError(f"the kernel template did not answer: {exc}") from None
        if "pid" not in reply:
            conn.close()
            raise RuntimeError(reply.get("error", f"unexpected answer {reply!r}"))
        return ForkedKernel(conn, int(reply["pid"]))

    def close(self) -> None:
        """Stop the template and every kernel it forked."""
        self._close_ready_pipe()
        with contextlib.suppress(OSError):
            if self.process.stdin:
                self.process.stdin.close()
        if not self.ready:  # still importing: it would notice the closed lifeline only once done
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)


class ForkedKernel:
    """A kernel forked by the template, seen through :class:`subprocess.Popen`'s interface (what
    jupyter_client's provisioner uses): ``pid``, ``poll``, ``wait``, ``send_signal``, ``kill``,
    ``terminate``. Its exit status comes from the template, which reaps it."""

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int) -> None:
        self.conn = conn
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.conn], [], [], 0)[0]:
            self._collect()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self.conn], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            self._collect()
        assert self.returncode is not None
        return self.returncode

    def _collect(self) -> None:
        try:
            self.returncode = int(read_message(self.conn)["exit"])
        except (OSError, ValueError, KeyError):
            self.returncode = -signal.SIGKILL  # the template is gone, and its kernels with it
        self.conn.close()

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


@contextlib.contextmanager
def template(folder: Path, tag: str, notice: Any = None, cwd: Path | None = None) -> Iterator[Template | None]:
    """Start a kernel template for the duration of the block, in the background: kernels started in the block
    (and in worker processes forked in it) in folder ``cwd`` are warm once :func:`ready` has found it ready.
    ``None`` and a one-line ``notice(text)`` where it cannot run."""
    global _CURRENT
    why = unavailable()
    if why and notice is not None:
        notice(why)
    started = None if why else Template(folder, tag, cwd)
    previous, _CURRENT = _CURRENT, started
    try:
        yield started
    finally:
        _CURRENT = previous
        if started is not None:
            started.close()


def ready(notice: Any = None) -> Template | None:
    """This process's template once it has preloaded (waiting for it), or ``None``: there is none, or it did
    not start in time (``notice`` is then told so in one line, and kernels start cold)."""
    global _CURRENT
    if _CURRENT is not None and not _CURRENT.await_ready():
        _CURRENT = None
        if notice is not None:
            notice("the kernel template did not start; using cold kernels")
    return current()
