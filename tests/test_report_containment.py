"""One report cannot stall or break a run, nor leave processes behind (issue 29 items 1 and 2).

Each hostile report here runs in a real run of the command line (a process of its own, so that a hang fails the
test instead of stopping the suite), beside innocent reports whose results must not change: it stops or kills
the process that started its kernel, stops or kills the kernel template, holds a half-sent request on the
template's socket, or starts children that leave the environment their kernel had. The run must end, the hostile
report alone may fail (with a message that names what happened), the others must succeed, and nothing a report
started may be left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO
from leftbehind.reports import warm
from test_reports import _alive, _one_step_notebook, _plan

linux_only = pytest.mark.skipif(bool(warm.unavailable()), reason="warm kernels and child subreapers are Linux's")

#: Seconds a whole run of these small plans may take before the test calls it a hang (each takes 10 to 30 s
#: alone; a stalled run would take until the hostile report's helpers gave up, 240 s or never).
HANG = 200

#: The code a hostile notebook uses to find the kernel template among its kernel's ancestors: the topmost
#: process running the template's program (a process the template forks shows the same command line).
FIND_TEMPLATE = textwrap.dedent(
    """\
    import psutil
    def template_pid():
        found, process = None, psutil.Process().parent()
        while process is not None:
            if "leftbehind.reports._template" in " ".join(process.cmdline()):
                found = process.pid
            process = process.parent()
        assert found is not None, "no template among the kernel's ancestors"
        return found
    """
)


def _run(plan: Path, out: Path, *args: str, start: str = "warm") -> tuple[int, str, float]:
    """Run the plan with the command line; (exit code, standard error, seconds). Killed (with its session) after
    :data:`HANG` seconds: the test then fails. Its output goes to a file, not a pipe: a process the run left behind
    (a stopped template, say) would hold a pipe open and keep the test waiting."""
    env = {**os.environ, warm.START_ENV: start}
    log = out.parent / f"{out.name}.stderr"
    began = time.monotonic()
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(out), *args],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"the run did not end within {HANG} s (a report stalled it):\n{log.read_text()}")
    return proc.returncode, log.read_text(), time.monotonic() - began


def _entries(out: Path) -> dict[str, dict]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {e["name"]: e for e in manifest["reports"]}


def _plain(nbs: Path) -> None:
    """An innocent report: a few seconds of work, then one line of output that must be the same in every run."""
    _one_step_notebook(
        nbs / "plain.ipynb",
        "x: int = 1  # printed\nseconds: float = 0  # how long to work first",
        "import time\ntime.sleep(seconds)\nprint(x * 7)",
    )


def _innocents(out: Path, names: list[str]) -> None:
    """The innocent reports all succeeded and say what they should."""
    entries = _entries(out)
    for name in names:
        assert entries[name]["status"] == "ok", (name, entries[name]["error"])
        nb = json.loads((out / f"{name}.ipynb").read_text(encoding="utf-8"))
        printed = ["".join(o["text"]) for c in nb["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout"]
        assert printed == [f"{entries[name]['parameters']['x'] * 7}\n"], name


def _pids(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()]


def _gone(pids: list[int], seconds: float = 5) -> list[int]:
    """The processes of ``pids`` still alive after up to ``seconds`` (killed processes take a moment to end)."""
    deadline = time.monotonic() + seconds
    while [p for p in pids if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


# --- item 1: one report can stall or break the warm run -----------------------------------------------------


@linux_only
@pytest.mark.parametrize("start", ["warm", "cold"])
def test_a_report_that_stops_the_process_that_started_its_kernel_fails_alone(tmp_path, start):
    """``os.kill(os.getppid(), SIGSTOP)``: the kernel's parent (the report's keeper, warm, or its worker, cold)
    is stopped. The run does not wait for a stopped process: that report fails, saying so, and the others run."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _plain(nbs)
    marker = tmp_path / "stopper.pid"
    _one_step_notebook(
        nbs / "stopper.ipynb",
        "runner: int = 0  # PID that must not be stopped",
        f"import os, pathlib, signal, time\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\n"
        "assert os.getppid() not in (runner, 1)\nos.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(1)\nprint('went on')",
    )
    entries = [{"name": "stopper", "notebook": "stopper.ipynb", "parameters": {"runner": os.getpid()}}]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(4)]
    out = tmp_path / "out"
    code, stderr, _ = _run(_plan(nbs, entries), out, "--jobs", "2", start=start)
    assert code == 1, stderr
    _innocents(out, [f"plain{i}" for i in range(4)])
    error = _entries(out)["stopper"]["error"]
    assert "was stopped by a signal" in error and "cell 3" in error, error
    assert _gone(_pids(marker)) == []


@linux_only
def test_a_report_that_stops_the_template_stalls_nothing(tmp_path):
    """The template stopped (SIGSTOP): reports asking it for a kernel start cold ones, saying why; the run says
    once that the template was stopped; no report is blamed and all of them succeed."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _plain(nbs)
    _one_step_notebook(
        nbs / "freeze.ipynb",
        "x: int = 1  # unused",
        FIND_TEMPLATE + "import os, signal\nos.kill(template_pid(), signal.SIGSTOP)\nprint('stopped it')",
    )
    entries = [{"name": "freeze", "notebook": "freeze.ipynb"}]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(4)]
    out = tmp_path / "out"
    code, stderr, _ = _run(_plan(nbs, entries), out, "--jobs", "1")
    assert code == 0, stderr
    _innocents(out, [f"plain{i}" for i in range(4)])
    assert "the kernel template was stopped by a signal" in stderr, stderr
    starts = {n: e["generated_with"]["kernel"]["start"] for n, e in _entries(out).items()}
    assert starts == {"freeze": "warm", **{f"plain{i}": "cold" for i in range(4)}}


@linux_only
def test_a_report_that_kills_the_template_fails_no_other_report(tmp_path):
    """The template killed while another report runs on a kernel it forked: that report goes on (its kernel
    does not depend on the template once started) and succeeds; later reports start cold; nobody is blamed."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    running = tmp_path / "running"
    _one_step_notebook(
        nbs / "plain.ipynb",
        'x: int = 1  # printed\nseconds: float = 0  # how long to work first\nmarker: str = ""  # written first',
        "import pathlib, time\nif marker:\n    pathlib.Path(marker).write_text('1')\ntime.sleep(seconds)\nprint(x * 7)",
    )
    _one_step_notebook(
        nbs / "killer.ipynb",
        'marker: str = ""  # what to wait for',
        FIND_TEMPLATE + "import os, pathlib, signal, time\n"
        "while not pathlib.Path(marker).exists():\n    time.sleep(0.05)\n"
        "os.kill(template_pid(), signal.SIGKILL)\nprint('killed it')",
    )
    entries = [
        {"name": "plain0", "notebook": "plain.ipynb", "parameters": {"x": 0, "seconds": 4, "marker": str(running)}},
        {"name": "killer", "notebook": "killer.ipynb", "parameters": {"marker": str(running)}},
    ]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(1, 4)]
    out = tmp_path / "out"
    code, stderr, _ = _run(_plan(nbs, entries), out, "--jobs", "2")
    assert "SIGKILL" not in "".join(str(e["error"]) for e in _entries(out).values())
    assert code == 0, stderr
    _innocents(out, [f"plain{i}" for i in range(4)])
    assert _entries(out)["plain0"]["generated_with"]["kernel"]["start"] == "warm"  # it ran through the kill
    assert "the kernel template ended during the run" in stderr, stderr


@linux_only
def test_a_half_sent_request_on_the_template_socket_stalls_nothing(tmp_path):
    """A process of a report connects to the template's socket, sends half a request and holds the connection
    (for four minutes, in a process that leaves its kernel's environment and session). Other reports still get
    warm kernels at once (the template refuses a connection from a process that is not the run's), and the holder
    is stopped with its report."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _plain(nbs)
    holder = tmp_path / "holder.pid"
    code = textwrap.dedent(
        f"""\
        import os, pathlib, subprocess, sys, time
        sock = pathlib.Path(os.environ["LEFTBEHIND_READS_LOG"]).parent / "warm.sock"
        assert sock.exists(), sock
        hold = (
            "import os, socket, sys, time\\n"
            "open(sys.argv[2], 'w').write(str(os.getpid()))\\n"
            "s = socket.socket(socket.AF_UNIX)\\n"
            "s.connect(sys.argv[1])\\n"
            "try:\\n"
            "    s.sendall(b'{{\\"argv\\": [')\\n"
            "except OSError:\\n"
            "    pass\\n"
            "time.sleep(240)\\n"
        )
        subprocess.Popen([sys.executable, "-c", hold, str(sock), {str(holder)!r}], env={{}}, start_new_session=True)
        for _ in range(600):
            if pathlib.Path({str(holder)!r}).exists():
                break
            time.sleep(0.05)
        time.sleep(1)  # connected, half a request sent
        print("holding")
        """
    )
    _one_step_notebook(nbs / "holder.ipynb", "x: int = 1  # unused", code)
    entries = [{"name": "holder", "notebook": "holder.ipynb"}]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(4)]
    out = tmp_path / "out"
    status, stderr, seconds = _run(_plan(nbs, entries), out, "--jobs", "1", "--timeout", "120")
    assert status == 0, stderr
    _innocents(out, [f"plain{i}" for i in range(4)])
    starts = {n: e["generated_with"]["kernel"]["start"] for n, e in _entries(out).items()}
    assert set(starts.values()) == {"warm"}, starts
    assert seconds < 180, f"the run took {seconds:.0f} s: it waited for the holder"
    assert _gone(_pids(holder)) == []


@linux_only
def test_the_template_serves_a_request_while_another_connection_holds_half_of_one(tmp_path):
    """Even a connection the template accepts (here from the process that started it) cannot hold it up by sending
    half a request and waiting: the template reads requests as they come, never waiting for one, and drops a
    connection whose request is not complete within its deadline."""
    import socket

    from leftbehind.reports import _template
    from leftbehind.reports.kernel import runner_kernel_spec

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    with warm.template(tmp_path, cwd=nbs) as started:
        assert started is not None and warm.ready() is started
        holder = socket.socket(socket.AF_UNIX)
        holder.connect(started.socket_path)
        holder.sendall(b'{"argv": [')
        spec = runner_kernel_spec()
        argv = [a.replace("{connection_file}", str(tmp_path / "k.json")) for a in spec.argv]
        forked: list[warm.ForkedKernel] = []
        asking = threading.Thread(
            target=lambda: forked.append(
                started.fork(argv, {**os.environ, "JPY_PARENT_PID": str(os.getpid())}, str(nbs))
            ),
            daemon=True,
        )
        asking.start()
        asking.join(timeout=30)
        if asking.is_alive():  # a template waiting for the holder: let it go, then fail
            holder.close()
        assert forked, "the template did not fork a kernel within 30 s while a connection held half a request"
        kernel = forked[0]
        kernel.kill()
        kernel.wait(30)
        assert kernel.finish()
        assert _gone([kernel.pid]) == []
        holder.settimeout(_template.REQUEST_SECONDS + 30)
        assert b"not complete after" in holder.recv(4096)  # then dropped, with a word why
        holder.close()


# --- item 2: every process a report starts ends with it, whatever its environment ---------------------------


ESCAPES = textwrap.dedent(
    """\
    import os, pathlib, subprocess, time
    started = []
    started.append(subprocess.Popen(["sleep", "300"], env={}).pid)  # no environment at all
    started.append(subprocess.Popen(["sleep", "301"], env={"LEFTBEHIND_REPORT_KERNEL": "x/other"},
                                    start_new_session=True).pid)  # another report's tag, another session
    read, write = os.pipe()
    if os.fork() == 0:  # a daemon that replaces itself with a program and a new environment
        os.setsid()
        if os.fork() == 0:
            os.write(write, str(os.getpid()).encode())
            os.execve("/bin/sleep", ["sleep", "302"], {"PATH": "/bin"})
        os._exit(0)
    started.append(int(os.read(read, 20).decode()))
    os.environ.pop("LEFTBEHIND_REPORT_KERNEL", None)  # the kernel's own environment, changed
    started.append(subprocess.Popen(["sleep", "303"], start_new_session=True).pid)
    time.sleep(0.5)
    pathlib.Path(MARKER).write_text(" ".join(map(str, started)))
    """
)


@linux_only
@pytest.mark.parametrize("start", ["warm", "cold"])
def test_children_that_leave_the_kernels_environment_end_with_their_report(tmp_path, start):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _plain(nbs)
    marker = tmp_path / "started.pids"
    _one_step_notebook(nbs / "escape.ipynb", "x: int = 1  # unused", f"MARKER = {str(marker)!r}\n" + ESCAPES)
    entries = [{"name": "escape", "notebook": "escape.ipynb"}]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(3)]
    out = tmp_path / "out"
    code, stderr, _ = _run(_plan(nbs, entries), out, "--jobs", "2", start=start)
    assert code == 0, stderr
    started = _pids(marker)
    assert len(started) == 4
    assert _gone(started, seconds=1) == []


# --- item 10: tests look only at processes their own run started -------------------------------------------


def test_no_test_and_no_runner_code_reads_the_whole_process_table():
    """Another ``make reports`` (in another clone, or by another user) may run while the tests do: a test that
    looks at every process on the machine finds that run's kernels and fails. Tests look at the processes their
    own run started (their PIDs, recorded by the kernels or the run, or this process's descendants), and the
    runner finds a report's processes by ancestry (:mod:`leftbehind.reports.processes`), not by scanning."""
    needles = ("process_iter(", "psutil.pids(")
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in (REPO / "tests", REPO / "src" / "leftbehind")
        for path in sorted(folder.rglob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(needle in line for needle in needles)
    ]
    assert found == []
