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

Nothing shared can stall or fail a report (issue 29): the template forks a keeper per report, which forks the
kernel, so that once started a kernel depends on its own keeper only (:class:`ForkedKernel`, watched through
pidfds); asking the template for a kernel has a deadline and looks at the template while it waits
(:meth:`Template.fork`); and the runner gives up a template that ended, was stopped, or would no longer start a
kernel as a fresh interpreter would (:func:`check`), after which reports start cold, the run having said why.

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

from . import processes
from ._template import folder_change, folder_state, parse_message

__all__ = [
    "START_ENV",
    "ForkedKernel",
    "Template",
    "check",
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

#: Seconds a worker waits for the template to fork a kernel (it takes milliseconds) before starting a cold one;
#: a template found stopped or ended meanwhile is given up at once.
FORK_TIMEOUT = 60.0

#: Seconds a worker waits for a kernel's keeper to give the kernel's exit status once the kernel has ended, and to
#: say that it has killed what the kernel left (it takes milliseconds); a keeper found stopped is given up at once.
KEEPER_TIMEOUT = 30.0

#: Seconds between two looks at a process being waited for (is it stopped, has it ended?).
LOOK = 0.25


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

    def __init__(self, folder: Path, cwd: Path | None = None) -> None:
        self.socket_path = str(folder / "warm.sock")
        self.owner = os.getpid()
        self.ready = False
        self.cwd = str(cwd or Path.cwd())
        self.folder = folder_state(self.cwd)  # what in the kernels' folder the template reads as it preloads
        ready_r, ready_w = os.pipe()
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
            env=dict(os.environ),  # Python's view, as kernels get it (a C library may have set more in the C one)
            cwd=cwd,  # the kernels' folder: what it imports reads files there as a cold kernel's imports would
            start_new_session=True,  # Ctrl-C is for the runner, which stops the template itself
        )
        os.close(ready_w)
        self._ready_pipe: int | None = ready_r
        self._started = time.monotonic()
        self._watch = processes.StopWatch(self.process.pid)

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
        """Started and not known to have stopped (only the process that started it knows its exit status; a
        worker forked from that process looks at its state)."""
        if not self.ready:
            return False
        if os.getpid() == self.owner:
            return self.process.poll() is None
        return not self._watch.ended()

    def trouble(self) -> str:
        """Why the template cannot serve (it has ended, it has been stopped by a signal for a while, or the files
        of the kernels' folder it read have changed); ``""`` when it can."""
        if (os.getpid() == self.owner and self.process.poll() is not None) or self._watch.ended():
            code = self.process.returncode if os.getpid() == self.owner else None
            return "the kernel template ended during the run" + (
                f" ({processes.exit_status(code)})" if code is not None else ""
            )
        if self._watch.stopped():
            return "the kernel template was stopped by a signal such as SIGSTOP during the run"
        return folder_change(self.folder, folder_state(self.cwd))

    def _close_ready_pipe(self) -> None:
        if self._ready_pipe is not None:
            os.close(self._ready_pipe)
            self._ready_pipe = None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
        """A new kernel process for ``argv`` (jupyter_client's kernel command), or :class:`RuntimeError` saying why
        the template would not (or could not) start it: the template is asked with a deadline
        (:data:`FORK_TIMEOUT`), and given up at once when it is found stopped or ended (:meth:`trouble`)."""
        why = self.trouble()
        if why:
            raise RuntimeError(why)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + FORK_TIMEOUT
        fds: list[int] = []  # the pidfds that come with the answer
        try:
            conn.settimeout(LOOK)
            request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode("utf-8") + b"\n"
            while True:
                try:
                    conn.connect(self.socket_path)
                    break
                except (TimeoutError, BlockingIOError):
                    self._waiting(deadline)
            sent = 0
            while sent < len(request):
                try:
                    sent += conn.send(request[sent:])
                except TimeoutError:
                    self._waiting(deadline)
            data = b""
            while not data.endswith(b"\n"):
                try:
                    chunk, more, _, _ = socket.recv_fds(conn, 65536, 2)
                except TimeoutError:
                    self._waiting(deadline)
                    continue
                fds += more
                if not chunk:
                    raise ConnectionError(self.trouble() or "the template closed the connection")
                data += chunk
            reply = parse_message(data)
        except (OSError, ValueError) as exc:
            conn.close()
            for fd in fds:
                os.close(fd)
            raise RuntimeError(f"the kernel template did not answer: {exc}") from None
        if "pid" not in reply or len(fds) != 2:
            conn.close()
            for fd in fds:
                os.close(fd)
            raise RuntimeError(str(reply.get("error", f"unexpected answer {reply!r}")))
        return ForkedKernel(conn, int(reply["pid"]), fds[0], int(reply["keeper"]), fds[1])

    def _waiting(self, deadline: float) -> None:
        """Between two looks at a template that has not answered yet: :class:`OSError` once it is stopped or ended,
        or past the deadline."""
        why = self.trouble()
        if why:
            raise OSError(why)
        if time.monotonic() > deadline:
            raise OSError(f"no answer within {FORK_TIMEOUT:.0f} s")

    def close(self) -> None:
        """Stop the template and every kernel it forked (at once if it is stopped: it would not notice)."""
        self._close_ready_pipe()
        with contextlib.suppress(OSError):
            if self.process.stdin:
                self.process.stdin.close()
        if not self.ready or processes.state(self.process.pid) in ("T", "t"):
            self.process.kill()  # still importing (it would notice the lifeline only once done), or stopped
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)


def _readable(fd: int, timeout: float = 0) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


class ForkedKernel:
    """A kernel forked by the template, seen through :class:`subprocess.Popen`'s interface (what
    jupyter_client's provisioner uses): ``pid``, ``poll``, ``wait``, ``send_signal``, ``kill``, ``terminate``.

    It is watched through two pidfds its keeper sent with its number (the kernel's and the keeper's own), so that
    nothing about it depends on the template once it is forked, and signals never reach a process that reused its
    number. Its exit status comes from its keeper, which reaps it; a keeper that is stopped (a process of the report
    sent it SIGSTOP) or ended first is given up: the kernel is killed and ``reason`` says why. :meth:`finish` waits
    for the keeper to have killed what the kernel left."""

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int, pidfd: int, keeper: int, keeper_fd: int) -> None:
        self.conn = conn
        self.pid = pid
        self.pidfd = pidfd
        self.keeper = keeper
        self.keeper_fd = keeper_fd
        self.returncode: int | None = None
        self.reason = ""  # why the kernel was given up, when it was
        self.swept = False  # the keeper said that nothing the kernel started is left
        self._data = b""
        self._closed = False
        self._watch = processes.StopWatch(keeper)
        conn.setblocking(False)

    def _read(self) -> bool:
        """Take the keeper's messages sent so far; ``False`` once it has closed the connection."""
        if self._closed:
            return False
        while True:
            try:
                chunk = self.conn.recv(4096)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                chunk = b""
            if not chunk:
                self._closed = True
                return False
            self._data += chunk
            while b"\n" in self._data:
                line, self._data = self._data.split(b"\n", 1)
                with contextlib.suppress(ValueError):
                    message = parse_message(line)
                    if "exit" in message and self.returncode is None:
                        self.returncode = int(message["exit"])
                    if message.get("swept"):
                        self.swept = True

    def _keeper_trouble(self) -> str:
        """Why the keeper can no longer keep the kernel (it is stopped, or it ended before saying that the report's
        processes are gone); ``""`` while it can."""
        ended = _readable(self.keeper_fd)  # looked at first: whatever it sent before it ended is read next
        open_ = self._read()
        if self.swept:
            return ""
        if ended or not open_:
            return "ended before it"
        if self._watch.stopped():
            return "was stopped by a signal such as SIGSTOP"
        return ""

    def _give_up(self, why: str) -> None:
        """Kill the kernel and its keeper (what the keeper leaves goes to the template, which kills it)."""
        for fd in (self.pidfd, self.keeper_fd):
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        if not self.reason:
            self.reason = f"the process keeping this report's kernel {why}"
        if self.returncode is None:
            self.returncode = -signal.SIGKILL

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        self._read()
        if self.returncode is None:
            why = self._keeper_trouble()
            if why:
                self._give_up(why)
            elif _readable(self.pidfd):  # it has ended: its keeper, which reaps it, says how at once
                self._await(lambda: self.returncode is not None)
        return self.returncode

    def _await(self, done: Any, timeout: float = KEEPER_TIMEOUT) -> bool:
        """Wait until ``done()`` while the keeper answers; give it up when it is stopped, ends or takes too long."""
        deadline = time.monotonic() + timeout
        while not done():
            why = self._keeper_trouble()
            if not why and time.monotonic() > deadline:
                why = f"did not answer within {timeout:.0f} s"
            if why:
                self._give_up(why)
                return False
            if not self._closed:
                select.select([self.conn.fileno(), self.keeper_fd], [], [], LOOK)
            self._read()
        return True

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = LOOK if deadline is None else min(LOOK, deadline - time.monotonic())
            if left <= 0:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            select.select([self.conn.fileno(), self.pidfd, self.keeper_fd], [], [], left)
        assert self.returncode is not None
        return self.returncode

    def finish(self) -> bool:
        """Once the kernel has ended: wait for its keeper to say that nothing the kernel started is left (or give
        the keeper up, see :meth:`poll`); close the connection and pidfds. Whether the keeper said so."""
        if self.pidfd < 0:
            return self.swept
        if not _readable(self.pidfd):  # jupyter_client could not end it
            self.kill()
        self._await(lambda: self.swept)
        self.conn.close()
        for fd in (self.pidfd, self.keeper_fd):
            os.close(fd)
        self.pidfd = self.keeper_fd = -1
        return self.swept

    def send_signal(self, signum: int) -> None:
        if self.returncode is None and self.pidfd >= 0:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


@contextlib.contextmanager
def template(folder: Path, notice: Any = None, cwd: Path | None = None) -> Iterator[Template | None]:
    """Start a kernel template for the duration of the block, in the background: kernels started in the block
    (and in worker processes forked in it) in folder ``cwd`` are warm once :func:`ready` has found it ready.
    ``None`` and a one-line ``notice(text)`` where it cannot run."""
    global _CURRENT
    why = unavailable()
    if why and notice is not None:
        notice(why)
    started = None if why else Template(folder, cwd)
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


def check(notice: Any = None) -> bool:
    """In the process that started the template, while reports run: stop using it once it has ended, has been
    stopped by a signal (it is then killed: a stopped template would not notice its lifeline), or would no longer
    start kernels as a fresh interpreter would (:meth:`Template.trouble`), saying why once in one line; reports
    started from then on use cold kernels. Kernels it forked before go on: each depends on its own keeper only.
    Whether it was given up now."""
    global _CURRENT
    started = _CURRENT
    if started is None or not started.ready or os.getpid() != started.owner:
        return False
    why = started.trouble()
    if not why:
        return False
    _CURRENT = None
    if processes.state(started.process.pid) in ("T", "t"):
        started.process.kill()
        started.process.wait()
    if notice is not None:
        notice(f"{why}; reports started from now on use cold kernels")
    return True
