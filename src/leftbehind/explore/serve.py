"""The explorers as a web app for their user only: Voilà serving ``notebooks/00_start_here.ipynb``.

``python -m leftbehind explore`` (``make explore``) runs Voilà in this process with the settings below, declared
once here (the test in ``tests/test_voila.py`` starts the server the same way). What is promised:

- **Loopback only.** The server listens on 127.0.0.1; a request whose ``Host`` is not a loopback address or
  ``localhost`` is refused (403; ``allow_remote_access`` off), so a web page elsewhere whose name is made to point
  at 127.0.0.1 (DNS rebinding) reaches nothing.
- **A token.** Every page and the kernels' websocket need the token that is printed with the address
  (``http://127.0.0.1:8866/?token=…``, then a cookie); set ``JUPYTER_TOKEN`` to choose it. A request without it
  starts no kernel. The websocket also refuses an ``Origin`` other than the server's own address.
- **Kernels end.** Each page has its kernel, shut down when the page is closed; a kernel that no page is
  connected to is shut down after :data:`CULL_AFTER` seconds idle (a page that was requested but never
  opened its connection); Ctrl-C stops the server and every kernel.
- **Kernels on Unix sockets.** The server speaks to its kernels over sockets in its own connection folder,
  not over loopback TCP ports that any local process could try.
- Only the notebook and its PNG images are served; tracebacks are not shown in the page. The server starts and
  serves a page without a warning in its log (``tests/test_voila.py`` checks).

Examples
--------
>>> c = voila_config(port=8866)
>>> c.Voila.tornado_settings["allow_remote_access"], c.Voila.ip, c.MappingKernelManager.cull_connected
(False, '127.0.0.1', False)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .._io import REPO_ROOT
from ..errors import ParameterError

__all__ = ["CULL_AFTER", "START_NOTEBOOK", "TORNADO_SETTINGS", "voila_config", "serve"]

#: The notebook served: the front door, with the explorers (the repository's, wherever the command is run from).
START_NOTEBOOK = REPO_ROOT / "notebooks" / "00_start_here.ipynb"
#: Seconds a kernel that no page is connected to may stay idle before it is shut down.
CULL_AFTER = 300
#: Settings of the server's Tornado application, over Voilà's own (which allow any ``Host``).
TORNADO_SETTINGS: dict[str, Any] = {
    "allow_remote_access": False,  # check the Host header: a loopback address or one of local_hostnames
    "local_hostnames": ["localhost"],
    "allow_origin": "",  # no cross-origin request or websocket (an Origin must be the server's own address)
    "allow_origin_pat": "",
    # Jupyter Server's default wait for a websocket's pong (three pings) is longer than Tornado allows, which
    # Tornado corrects with a warning at every page; the wait Tornado would use, declared
    "ws_ping_timeout": 30000,
}


def voila_config(port: int = 8866, cull_after: int = CULL_AFTER, cull_interval: int | None = None) -> Any:
    """The traitlets configuration of the Voilà server (see the module's docstring for what it promises).

    ``cull_interval``: how often idle kernels are looked for (default: a tenth of ``cull_after``, at least
    1 s and at most 60 s).
    """
    from traitlets.config import Config

    c = Config()
    c.Voila.ip = "127.0.0.1"
    c.Voila.port = port
    c.Voila.port_retries = 0  # the address printed is the one asked for, or the server does not start
    c.Voila.open_browser = False
    c.Voila.auto_token = True  # a random token (or $JUPYTER_TOKEN), printed with the address
    c.Voila.tornado_settings = dict(TORNADO_SETTINGS)
    c.VoilaConfiguration.file_allowlist = [r".*\.png"]
    c.VoilaConfiguration.show_tracebacks = False
    c.MappingKernelManager.cull_idle_timeout = cull_after
    c.MappingKernelManager.cull_interval = cull_interval or max(1, min(60, cull_after // 10))
    c.MappingKernelManager.cull_connected = False  # a page that is open keeps its kernel
    c.MappingKernelManager.cull_busy = False
    # the kernels speak to the server over Unix sockets in the server's own connection folder, which only this
    # user can open, rather than over loopback TCP ports any local process can reach (ipykernel warns of that)
    c.KernelManager.transport = "ipc"
    return c


class _UntrustedIsExpected(logging.Filter):
    """Drops Jupyter's "Notebook … is not trusted" from the server's log.

    The signature it speaks of marks a notebook's *saved* outputs as made by this user; Voilà never shows saved
    outputs (it runs the notebook afresh and shows what that run produces), and a clone's notebooks are signed by
    nobody, so the line would alarm every user at every page with nothing to act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Notebook %s is not trusted"


def check_port(port: int) -> None:
    """Refuse a port that another server listens on at 127.0.0.1, before Voilà starts: Voilà itself prints
    "trying another port" and then that no port could be found (it may try no other, see :func:`voila_config`).

    Raises
    ------
    ParameterError
        Naming the port and another one to try.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no obstacle
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ParameterError(
                f"127.0.0.1:{port} is in use ({exc.strerror or exc}): another explorer or Jupyter server may be "
                f"running there; open it, or give another port (e.g. --port {port + 1 if port < 65535 else 8866})"
            ) from None


def serve(port: int = 8866, cull_after: int = CULL_AFTER, notebook: Path = START_NOTEBOOK) -> None:
    """Serve ``notebook`` with Voilà until Ctrl-C (then every kernel is shut down); a port in use is refused
    first (:func:`check_port`)."""
    check_port(port)
    from voila.app import Voila

    logging.getLogger(Voila.__name__).addFilter(_UntrustedIsExpected())
    Voila.launch_instance(argv=[str(notebook)], config=voila_config(port, cull_after))
