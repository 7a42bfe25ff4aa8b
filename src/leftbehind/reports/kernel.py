"""Report kernels: started with the runner's own interpreter, asked what they really ran, and stopped together
with every process they started. Used by :mod:`leftbehind.reports.execute`.

Jupyter resolves a kernel *name* through kernelspecs, the user's folder first: asking for ``python3`` could
start the user's system Python, or the interpreter a moved environment's ``kernel.json`` still names, and
the report would silently run other code on other data. Here no kernelspec is looked up: the kernel is
``sys.executable -m ipykernel_launcher`` of the process that runs the report (:class:`ReportKernelManager`).
After the last cell the kernel is asked, without touching the notebook, which interpreter, ``leftbehind``
and data folder it used (:func:`mismatch`, :func:`record`).

Whatever a kernel starts is stopped with its report by the kernel's keeper (:mod:`.processes`): found by
ancestry, not by anything the report could change.

Examples
--------
>>> spec = runner_kernel_spec()
>>> spec.argv[0] == sys.executable and spec.argv[-2:] == ["-f", "{connection_file}"]
True
>>> mismatch(runner_answers(), runner_answers())
''
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_async, run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.log import logger
from traitlets import Any as AnyTrait
from traitlets import default

from .._io import PACKAGE_DIR, REPO_ROOT, data_dir
from .inputs import _relative

__all__ = [
    "ENGINE",
    "ReportKernelClient",
    "ReportKernelManager",
    "WarmProvisioner",
    "mismatch",
    "record",
    "running_cell",
    "runner_answers",
]

#: The papermill engine name under which :class:`ReportEngine` is registered.
ENGINE = "leftbehind"

#: What the kernel is asked after the last cell (IPython user expressions: no output, no execution count).
QUESTIONS = {
    "executable": "__import__('sys').executable",
    "prefix": "__import__('sys').prefix",
    "python": "__import__('platform').python_version()",
    "leftbehind": "__import__('leftbehind').__file__",
    "data": "str(__import__('leftbehind._io', fromlist=['data_dir']).data_dir())",
}
LABELS = {
    "executable": "interpreter",
    "prefix": "environment (sys.prefix)",
    "leftbehind": "leftbehind",
    "data": "data folder",
}


def runner_kernel_spec() -> KernelSpec:
    """The ipykernel kernelspec of this very interpreter, as ``python -m ipykernel install`` would write it."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict

    frozen_off = ["-Xfrozen_modules=off"] if platform.python_implementation() == "CPython" else None
    spec = get_kernel_dict(python_arguments=frozen_off)
    if not sys.executable:
        from ..errors import ReportError

        raise ReportError("cannot start report kernels: this Python does not know its own executable")
    return KernelSpec(
        argv=spec["argv"],
        display_name=spec["display_name"],
        language=spec["language"],
        metadata=spec["metadata"],
        resource_dir=RESOURCES,
    )


class RunnerKernelSpecManager(KernelSpecManager):
    """Answers every kernel name with :func:`runner_kernel_spec`: no kernelspec folder is consulted."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return runner_kernel_spec()


class WarmProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, except that the kernel process is forked by the run's template
    (:func:`.warm.current`). Everything else (connection file, interrupts, process-group signals, shutdown) is
    the local provisioner's."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        from .warm import current

        warm = current()
        if warm is None:
            return await super().launch_kernel(cmd, **kwargs)
        env = kwargs.get("env")
        env = dict(os.environ if env is None else env)
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        try:
            forked = warm.fork([os.path.expanduser(s) for s in cmd], env, str(kwargs.get("cwd") or os.getcwd()))
        except RuntimeError as exc:  # the report still runs, on a cold kernel, and its manifest entry says so
            print(f"leftbehind: {exc}; starting a cold kernel", file=sys.stderr, flush=True)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = forked  # type: ignore[assignment]  # Popen's interface, as the provisioner uses it
        self.pid = forked.pid
        self.pgid = forked.pid  # the kernel started its own session before the template answered
        self.cwd = kwargs.get("cwd", Path.cwd())
        return self.connection_info


class ReportKernelClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, except for how it ends waiting for a new kernel."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        """Wait for the kernel's answer to ``kernel_info`` with IOPub connected, as jupyter_client 8 does; then,
        where jupyter_client drains IOPub until it has been quiet for 0.2 s (a fixed fifth of a second per
        report), ask once more and drain up to that request's own ``idle`` status: IOPub is in order, so
        nothing older than it is left. Falls back to the quiet period if that status does not come."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # some IOPub message arrives once IOPub is connected; until then, start over
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        asked = self.kernel_info()
        await self._drain("shell", lambda m: m["parent_header"].get("msg_id") == asked)
        await self._drain(
            "iopub",
            lambda m: m["parent_header"].get("msg_id") == asked and m["content"].get("execution_state") == "idle",
        )

    async def _drain(self, channel: str, last: Any) -> None:
        """Discard messages of ``channel`` up to and including the one ``last`` accepts, or until it has been
        quiet for 0.2 s."""
        while True:
            try:
                msg = await ensure_async(getattr(self, f"{channel}_channel").get_msg(timeout=0.2))
            except Empty:
                return
            if last(msg):
                return

    wait_for_ready = _async_wait_for_ready  # the asynchronous client's public name (jupyter_client binds it so)


class ReportKernelManager(AsyncKernelManager):
    """A kernel manager that launches :func:`runner_kernel_spec` whatever kernel name it is given, forked
    from the run's warm template when there is one (:mod:`.warm`), and talks to it with
    :class:`ReportKernelClient`."""

    @default("kernel_spec_manager")
    def _runner_specs(self) -> KernelSpecManager:
        return RunnerKernelSpecManager(parent=self)

    @default("client_factory")
    def _report_client(self) -> type[ReportKernelClient]:
        return ReportKernelClient

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        from . import warm

        if self.provisioner is None and warm.current() is not None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        """Wait for a killed kernel to end, looking after 2, 4, 8 … ms (at most every ``pollinterval`` s) where
        jupyter_client looks every 100 ms: a kernel killed at the end of its report is gone within a few."""
        pause = 0.002
        while await self._async_is_alive():
            await asyncio.sleep(pause)
            pause = min(2 * pause, pollinterval)


class ReportClient(PapermillNotebookClient):
    """papermill's notebook client, keeping ``state`` (a dict shared with the caller) up to date: ``cell``,
    the index of the cell being executed; ``pgid``, the kernel's process group; ``start``, ``warm`` or ``cold``;
    ``forked``, the :class:`.warm.ForkedKernel` of a warm kernel; ``exit``, the kernel's exit status if it had
    ended by cleanup, and ``exit_reason``, why the runner ended it, when it did; ``answers``, what the kernel said
    after the last cell. A callable ``state["kernel_gone"]`` is called once the kernel it started is shut down
    (possibly more than once)."""

    state = AnyTrait()

    @default("kernel_manager_class")
    def _report_kernels(self) -> type[ReportKernelManager]:
        return ReportKernelManager

    def execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
        self.state["cell"] = cell_index
        return super().execute_cell(cell, cell_index, *args, **kwargs)

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        from .warm import ForkedKernel

        await super().async_start_new_kernel(**kwargs)
        self.state["pgid"] = getattr(self.km.provisioner, "pgid", None)
        process = getattr(self.km.provisioner, "process", None)
        if isinstance(process, ForkedKernel):
            self.state["forked"] = process
        self.state["start"] = "warm" if isinstance(process, ForkedKernel) else "cold"

    start_new_kernel = run_sync(async_start_new_kernel)

    def papermill_execute_cells(self) -> None:
        super().papermill_execute_cells()
        self.state["answers"] = self._ask_kernel()

    async def _async_cleanup_kernel(self) -> None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            self.state["exit"] = process.poll()
            self.state["exit_reason"] = getattr(process, "reason", "")
        await super()._async_cleanup_kernel()
        gone = self.state.get("kernel_gone")
        if gone is not None and "pgid" in self.state:  # the kernel this client started is shut down
            gone()

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    def _ask_kernel(self) -> dict[str, str]:
        """Evaluate :data:`QUESTIONS` in the kernel, silently (the notebook and its numbering are untouched)."""
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions=QUESTIONS)
        reply = self.wait_for_reply(msg_id) or {}
        answers = {}
        for key, value in reply.get("content", {}).get("user_expressions", {}).items():
            if value.get("status") == "ok":
                answers[key] = str(ast.literal_eval(value["data"]["text/plain"]))
            else:
                answers[key] = f"<{value.get('ename')}: {value.get('evalue')}>"
        return answers


#: Characters a cell mark takes (:meth:`ReportExecutionManager._mark`): any index, space-padded.
CELL_MARK_WIDTH = 20


class ReportExecutionManager(NotebookExecutionManager):
    """papermill's execution manager, except that it writes the executed notebook when execution starts and,
    if execution stopped early, when it ends (papermill itself writes it once more after a normal end), and
    between cells only as often as papermill's ``autosave_cell_every`` allows (every 30 s), where papermill
    writes it before and after every cell (the JSON of a notebook and its figures, validated and written twice
    per cell: about 0.4 s per report). What the runner needs meanwhile, the cell being executed should the
    worker die, goes to a small file beside it (:func:`running_cell`), overwritten in place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unsaved = False
        self._cell_fd: int | None = None

    def save(self, **kwargs: Any) -> None:
        if not self._unsaved:
            super().save(**kwargs)

    def _quietly(self, step: Any, *args: Any, **kwargs: Any) -> None:
        self._unsaved = True
        try:
            step(*args, **kwargs)
        finally:
            self._unsaved = False

    def notebook_complete(self, save: bool = True, **kwargs: Any) -> None:
        """Finish the notebook's metadata; write it only when ``save`` (papermill writes it after a normal end)."""
        if save:
            super().notebook_complete(**kwargs)
        else:
            self._quietly(super().notebook_complete, **kwargs)

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        if self.output_path and cell_index is not None:
            self._mark(cell_index)
        self._quietly(super().cell_start, cell, cell_index, **kwargs)
        self.autosave_cell()

    def _mark(self, cell_index: int) -> None:
        """Write ``cell_index`` over the start of ``<output>.cell``, padded to a fixed width: never truncated, since
        on ext4 rewriting a truncated file makes its closing wait for the disk (1 to 3 ms on every cell, with the
        kernel idle meanwhile, where writing in place costs microseconds)."""
        if self._cell_fd is None:
            self._cell_fd = os.open(f"{self.output_path}.cell", os.O_WRONLY | os.O_CREAT, 0o644)
        os.pwrite(self._cell_fd, f"{cell_index:<{CELL_MARK_WIDTH}}".encode(), 0)

    def close_marks(self) -> None:
        """Close the file the running cell is marked in (the marks stay readable)."""
        if self._cell_fd is not None:
            os.close(self._cell_fd)
            self._cell_fd = None

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self._quietly(super().cell_complete, cell, cell_index, **kwargs)
        self.autosave_cell()


def running_cell(output_path: Path) -> int | None:
    """Index, in the executed notebook at ``output_path``, of the cell its execution started last (``None``
    before any), as :class:`ReportExecutionManager` records it."""
    from .._io import read_limited

    with contextlib.suppress(OSError, ValueError):
        return int(read_limited(Path(f"{output_path}.cell"), 4 * CELL_MARK_WIDTH).decode("ascii"))
    return None


class ReportEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`ReportClient` and :class:`ReportExecutionManager` (the rest as
    in papermill)."""

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: Any = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        nb_man = ReportExecutionManager(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        ended = False
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            ended = True
        finally:
            nb_man.close_marks()
            nb_man.cleanup_pbar()
            nb_man.notebook_complete(save=not ended)  # after a normal end, papermill writes the notebook next
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("input_path", None)
        return ReportClient(
            nb_man,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        ).execute()


papermill_engines.register(ENGINE, ReportEngine)


def runner_answers() -> dict[str, str]:
    """This process's answers to :data:`QUESTIONS`: what every report kernel must answer too."""
    return {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "python": platform.python_version(),
        "leftbehind": str(PACKAGE_DIR / "__init__.py"),
        "data": str(data_dir()),
    }


def _same(key: str, found: str, expected: str) -> bool:
    if key == "python":
        return found == expected
    return os.path.realpath(found) == os.path.realpath(expected)


def mismatch(found: dict[str, str], expected: dict[str, str]) -> str:
    """``""`` when the kernel ran this interpreter, environment, leftbehind and data; otherwise a sentence
    naming what the kernel used and what the runner uses."""
    wrong = [
        f"{LABELS[key]} {found.get(key, '<no answer>')} (the runner's: {expected[key]})"
        for key in LABELS
        if not _same(key, found.get(key, "<no answer>"), expected[key])
    ]
    if not wrong:
        return ""
    return "the kernel did not run the runner's interpreter, code and data: it used " + "; ".join(wrong)


def record(found: dict[str, str]) -> dict[str, Any]:
    """What the manifest says about a report's kernel: no absolute path, nothing that changes between runs.

    Examples
    --------
    >>> r = record(runner_answers())
    >>> r["same_interpreter_as_runner"], r["leftbehind"] == _relative(PACKAGE_DIR, REPO_ROOT)
    (True, True)
    """
    return {
        "python": found["python"],
        "same_interpreter_as_runner": not mismatch(found, runner_answers()),
        "leftbehind": _relative(Path(found["leftbehind"]).parent, REPO_ROOT),
        "data": _relative(Path(found["data"]), REPO_ROOT),
    }
