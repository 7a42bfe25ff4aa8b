"""Which processes belong to a report, and stopping them: everything below the report's *keeper*.

A report's processes are found by ancestry, never by anything the report can change (its environment, session or
process group). On Linux the process that starts a report's kernel, its keeper (the worker process of a cold
kernel, the keeper the template forks for a warm one: :mod:`._template`), is a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``): whatever the kernel starts stays below the keeper even once its own parent
has ended, since the kernel hands orphans to the nearest subreaper above them instead of to init. A child with an
empty environment, a program run with ``execve`` and a new environment, a new session, a double-forked daemon:
all stay below the keeper, which kills them when the report ends (:func:`sweep`). The run itself is a subreaper
too (:func:`keeper`), so that what a keeper leaves when it is killed is still the run's, and nothing the run
started outlives it.

Why not the alternatives: a cgroup holds a process and its descendants just as firmly, but an unprivileged user
may create one only where systemd has delegated a subtree to them, which a container, CI runner or SSH session
often has not; tracking each process with a pidfd needs to learn of every fork, which only ptrace or the
netlink process connector (root) can. A subreaper needs neither, and Linux has had it since 3.4. Elsewhere (no
``prctl``), a keeper still kills every process below it, but a daemon whose parent ended is no longer below it.

Processes are killed through pidfds (:func:`os.pidfd_open`) opened while they are known to be below this process,
so a process number that is reused meanwhile is never signalled. Stdlib only: the template program uses it too.

Examples
--------
>>> state(os.getpid())
'R'
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Collection, Iterator

__all__ = [
    "exit_status",
    "KEEPER_NAME",
    "StopWatch",
    "children",
    "keeper",
    "name",
    "parent",
    "set_name",
    "set_subreaper",
    "state",
    "sweep",
]

_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37

#: The name (``/proc/<pid>/comm``) of the template's per-report keepers: the run adopts those of a template that
#: ended, and lets them finish their reports (:func:`sweep` spares them when given ``keepers=True``).
KEEPER_NAME = "lb-keeper"

#: Rounds of :func:`sweep` before it gives up on processes that keep appearing (each round kills every process
#: found below this one; their children come to this process and are killed in the next).
ROUNDS = 200

#: Seconds a process must stay stopped (state ``T`` or ``t``) before :class:`StopWatch` calls it stopped: a
#: debugger's brief stop, or job control stopping and continuing a whole process group, is not a stop.
STOP_GRACE = 1.0


def _prctl(option: int, arg: int) -> int | None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    if option == _PR_GET_CHILD_SUBREAPER:
        value = ctypes.c_int(0)
        return None if prctl(option, ctypes.byref(value), 0, 0, 0) != 0 else value.value
    return None if prctl(option, arg, 0, 0, 0) != 0 else 0


def set_name(text: str) -> None:
    """Name this process (its ``/proc/<pid>/comm``, 15 bytes at most), where Linux's ``prctl`` allows."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, ctypes.c_char_p(text.encode()[:15]), 0, 0, 0)


def name(pid: int) -> str:
    """The name of process ``pid`` (``/proc/<pid>/comm``), ``""`` when it is gone."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as fh:
            return fh.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def set_subreaper(on: bool) -> bool | None:
    """Make this process a child subreaper, or stop being one; whether it was one before, or ``None`` where Linux's
    ``prctl`` is missing (nothing changed). Not inherited by forked children."""
    before = _prctl(_PR_GET_CHILD_SUBREAPER, 0)
    if before is None or _prctl(_PR_SET_CHILD_SUBREAPER, int(on)) is None:
        return None
    return bool(before)


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name; ``[]`` when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return []
    return raw[raw.rfind(b")") + 2 :].decode("ascii", "replace").split()


def state(pid: int) -> str:
    """The state letter of process ``pid`` (``R``, ``S``, ``D``, ``T`` stopped, ``t`` stopped by a debugger, ``Z``
    zombie…), ``""`` when there is no such process."""
    fields = _stat(pid)
    return fields[0] if fields else ""


def parent(pid: int) -> int | None:
    """The parent of process ``pid``, ``None`` when there is no such process."""
    fields = _stat(pid)
    return int(fields[1]) if len(fields) > 1 else None


def _identity(pid: int) -> tuple[int, str]:
    """``pid`` with its start time (field 22 of ``/proc/<pid>/stat``): one process, even once its number is reused."""
    fields = _stat(pid)
    return pid, fields[19] if len(fields) > 19 else ""


def children(pid: int) -> list[int]:
    """The children of process ``pid`` (of all its threads), from ``/proc``; ``[]`` when it has none or is gone."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return _children_by_scan(pid)
    found: list[int] = []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                found.extend(int(p) for p in fh.read().split())
        except FileNotFoundError:  # a thread that ended, or a kernel without CONFIG_PROC_CHILDREN
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue
            return _children_by_scan(pid)
        except OSError:
            continue
    return found


def _children_by_scan(pid: int) -> list[int]:
    """Children by every process's parent (where ``/proc/<pid>/task/*/children`` is missing)."""
    try:
        import psutil
    except ImportError:
        return []
    with contextlib.suppress(psutil.Error):
        return [c.pid for c in psutil.Process(pid).children()]
    return []


def _pidfd(pid: int) -> int | None:
    """A pidfd of ``pid``, ``None`` when the process is gone or pidfds are missing (then ``-1``: use its number)."""
    if not hasattr(os, "pidfd_open"):
        return -1
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    except OSError:
        return -1


def _ended(fd: int) -> bool:
    return fd >= 0 and bool(select.select([fd], [], [], 0)[0])


def _below(spare: Collection[int]) -> list[tuple[int, int]]:
    """Every process below this one, except below the children in ``spare``, as (pid, pidfd or -1): each known to
    be the child of a process found before it while its pidfd was opened."""
    found: list[tuple[int, int]] = []
    queue: list[tuple[int, int]] = [(os.getpid(), -1)]
    while queue:
        above, above_fd = queue.pop()
        for pid in children(above):
            if above == os.getpid() and pid in spare:
                continue
            fd = _pidfd(pid)
            if fd is None:
                continue
            if parent(pid) != above or _ended(above_fd):  # not (or no longer) that process's child
                if fd >= 0:
                    os.close(fd)
                continue
            found.append((pid, fd))
            queue.append((pid, fd))
    return found


def _kill(pid: int, fd: int) -> None:
    with contextlib.suppress(OSError):
        if fd >= 0:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


def _reap(pids: Collection[int], seconds: float = 5.0) -> None:
    """Reap those of ``pids`` that are this process's children, once they have ended (at most ``seconds``)."""
    waiting = set(pids)
    deadline = time.monotonic() + seconds
    pause = 0.001
    while waiting:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not a child of this process (any more), or reaped already
                done = pid
            if done:
                waiting.discard(pid)
        if not waiting or time.monotonic() > deadline:
            return
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def sweep(spare: Collection[int] = (), keepers: bool = False) -> int:
    """Kill every process below this one, except the children in ``spare`` and what is below them, and reap the
    killed children; repeat until none is left (a subreaper receives the children of each process it kills, and
    kills them in the next round). ``keepers``: spare children named :data:`KEEPER_NAME` too (the keepers of a
    template that ended, finishing their reports). The number of processes killed. (A killed child is reaped here:
    a :class:`subprocess.Popen` still holding it would find it gone, with exit status 0.)

    Examples
    --------
    >>> import subprocess
    >>> others = children(os.getpid())  # what this process had started before: spared
    >>> child = subprocess.Popen(["sleep", "60"])
    >>> sweep(spare=others), state(child.pid)
    (1, '')
    """
    me = os.getpid()
    spare = set(spare)
    killed = 0
    for _ in range(ROUNDS):
        if keepers:
            spare |= {pid for pid in children(me) if name(pid) == KEEPER_NAME}
        found = _below(spare)
        if not found:
            return killed
        for pid, fd in found:
            _kill(pid, fd)
        for _, fd in found:
            if fd >= 0:
                os.close(fd)
        killed += len(found)
        _reap([pid for pid in children(me) if pid not in spare])
    return killed


class StopWatch:
    """Tells whether a process has been stopped (``T``, ``t``) for at least :data:`STOP_GRACE` seconds, as seen by
    successive calls; and whether it has ended."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._since: float | None = None

    def ended(self) -> bool:
        return state(self.pid) in ("", "Z", "X")

    def stopped(self) -> bool:
        if state(self.pid) not in ("T", "t"):
            self._since = None
            return False
        now = time.monotonic()
        if self._since is None:
            self._since = now
        return now - self._since >= STOP_GRACE


_REPORT_LOCK = threading.Lock()


@contextlib.contextmanager
def keeper(one_report: bool = True) -> Iterator[None]:
    """Keep the processes started in the block: this process becomes a child subreaper for the block (where Linux
    allows) and, when it ends, kills every process below it that was not below one of its children of before the
    block. ``one_report``: the block is one report's execution; such blocks take turns in a process (a thread pool
    running several reports in one process runs them one after the other), since processes left by one report
    could not be told from another's."""
    lock = _REPORT_LOCK if one_report else contextlib.nullcontext()
    with lock:
        me = os.getpid()
        before = {_identity(pid) for pid in children(me)}
        previous = set_subreaper(True)
        try:
            yield
        finally:
            sweep(spare=[pid for pid in children(me) if _identity(pid) in before])
            if previous is False:
                set_subreaper(False)


def exit_status(code: int | None) -> str:
    """How a process ended, from its exit code as :mod:`subprocess` gives it: ``""`` when unknown.

    Examples
    --------
    >>> exit_status(1), exit_status(-9), exit_status(-99), exit_status(None)
    ('exit code 1', 'killed by SIGKILL', 'killed by signal 99', '')
    """
    if code is None:
        return ""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"
