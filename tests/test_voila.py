"""The start notebook as a web app (``make explore`` = ``python -m leftbehind explore``): Voila on a loopback port,
for its user only, driven by headless Chromium.

The server is started exactly as ``make explore`` starts it. The browser needs Debian's ``chromium`` (``.ci/run``
installs it); that test is skipped with a clear reason where it is missing. The browser is offline: every request
that does not go to the local server is aborted, as on a machine with no internet access. The other tests speak
HTTP and the websocket protocol to the server directly (issue 29, item 4: who may reach it, and kernels that end).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from test_browser import ARGS, CHROMIUM

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium found (install Debian's chromium; .ci/run does)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``python -m leftbehind explore``: its base address, the address with the token it printed."""

    proc: subprocess.Popen[str]
    port: int
    base: str
    url: str
    token: str
    lines: list[str] = field(default_factory=list)

    def kernels(self) -> list[psutil.Process]:
        """The kernels this server started (its own descendants only)."""
        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        alive = []
        for p in family:
            try:
                if "ipykernel" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        return alive


def _start(tmp_path: Path, cull_after: int | None = None) -> Server:
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
    }
    env.pop("MPLBACKEND", None)
    env.pop("JUPYTER_TOKEN", None)  # the token is the one the server makes and prints
    # started outside the repository: the command finds its notebook wherever it is run from (it looked for
    # notebooks/00_start_here.ipynb in the working folder and stopped with a ValueError elsewhere)
    command = [sys.executable, "-m", "leftbehind", "explore", f"--port={port}"]
    if cull_after is not None:
        command.append(f"--cull-after={cull_after}")
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    found = threading.Event()

    def drain() -> None:  # the server's log, read all along (a full pipe would stop the server)
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.search(r"^http://127\.0\.0\.1:\d+/\?token=[0-9a-f]+$", line.strip()):
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    if not found.wait(60):
        proc.kill()
        pytest.fail(f"the server printed no address with a token within 60 s: {''.join(lines)[-2000:]}")
    url = next(line.strip() for line in lines if "?token=" in line)
    base = f"http://127.0.0.1:{port}/"
    assert url.startswith(base), url  # the port asked for, on the loopback address
    return Server(proc, port, base, url, url.split("?token=")[1], lines)


def _stop(server: Server) -> None:
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)


@pytest.fixture
def voila_app(tmp_path: Path) -> Iterator[Server]:
    server = _start(tmp_path)
    try:
        yield server
    finally:
        _stop(server)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose idle kernels with no page connected are shut down after 4 s."""
    server = _start(tmp_path_factory.mktemp("voila"), cull_after=4)
    try:
        yield server
    finally:
        _stop(server)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=120) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return bool(condition())


def _kernel_id(page: str) -> str:
    match = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page)
    assert match, page[:2000]
    return match.group(1)


def _websocket(server: Server, kernel: str, headers: dict[str, str], token: bool) -> int:
    """The status with which the server answers a websocket request for ``kernel``'s channels (101: opened)."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel}/channels" + (f"?token={server.token}" if token else "")

    async def connect() -> int:
        try:
            conn = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=30, request_timeout=60))
        except HTTPClientError as exc:
            return exc.code
        conn.close()
        return 101

    return asyncio.run(connect())


# --- who may reach the server --------------------------------------------------------------------------


def test_without_the_token_the_server_starts_no_kernel(guarded):
    """Before: no token; every GET / started a kernel of about 220 MB."""
    status, _, headers = _get(guarded.base)
    assert status in (302, 403), status
    assert status == 403 or "/login" in headers.get("Location", "")
    assert _get(guarded.base + "?token=not-the-token")[0] in (302, 403)
    time.sleep(1)
    assert guarded.kernels() == []


def test_a_foreign_host_header_is_refused(guarded):
    """DNS rebinding: a page at evil.example whose name now points at 127.0.0.1 sends Host: evil.example.
    Refused even with the token (before: served, allow_remote_access was on)."""
    for host in (f"evil.example:{guarded.port}", "evil.example", f"192.168.1.20:{guarded.port}"):
        assert _get(guarded.url, {"Host": host})[0] == 403, host
    assert guarded.kernels() == []
    for host in (f"localhost:{guarded.port}", f"127.0.0.1:{guarded.port}"):  # the server's own names
        assert _get(guarded.base + "voila/static/voila.js", {"Host": host})[0] in (200, 404), host


def test_the_kernel_websocket_takes_only_its_own_page(guarded):
    """The websocket of a kernel started with the token: refused to a foreign Host with a matching Origin (DNS
    rebinding, accepted before), to a foreign Origin carrying the user's cookie, and without the token; opened
    for the page itself."""
    status, page, headers = _get(guarded.url)
    assert status == 200
    kernel = _kernel_id(page)
    cookie = "; ".join(c.split(";", 1)[0] for k, c in headers.items() if k.lower() == "set-cookie")
    own = f"127.0.0.1:{guarded.port}"
    evil = f"evil.example:{guarded.port}"
    assert _websocket(guarded, kernel, {"Host": evil, "Origin": f"http://{evil}"}, token=True) == 403
    assert _websocket(guarded, kernel, {"Host": evil, "Origin": f"http://{evil}"}, token=False) == 403
    assert cookie, "the page with the token logs the browser in (a cookie)"
    cross_site = {"Host": own, "Origin": "http://evil.example", "Cookie": cookie}  # a page elsewhere, your cookie
    assert _websocket(guarded, kernel, cross_site, token=False) == 403
    assert _websocket(guarded, kernel, {"Host": own, "Origin": f"http://{own}"}, token=False) == 403
    assert _websocket(guarded, kernel, {"Host": own, "Origin": f"http://{own}"}, token=True) == 101


def test_a_kernel_no_page_is_connected_to_is_shut_down(guarded):
    """A GET / that never opens its websocket leaves an idle kernel: shut down after 4 s idle (here), where before
    it stayed until the server stopped. The bound below is generous: it catches a kernel that is never culled."""
    assert _get(guarded.url)[0] == 200
    assert _wait_for(lambda: len(guarded.kernels()) >= 1, 30)
    assert _wait_for(lambda: guarded.kernels() == [], 60), "an idle kernel with no page was not shut down"
    assert any("Culling 'idle' kernel" in line for line in guarded.lines)


# --- the explorers in a browser ------------------------------------------------------------------------


@needs_chromium
def test_start_notebook_served_by_voila_responds_to_the_country_selector(voila_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            blocked: list[str] = []

            def offline(route):
                if route.request.url.startswith(voila_app.base):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(voila_app.url, timeout=180_000)  # the address make explore prints, with its token
            page.wait_for_selector("h2:text-is('Nepal')", timeout=180_000)  # the country explorer has rendered
            combo = page.locator("input[placeholder='type a name or an ISO3 code']").first
            combo.fill("Sri Lanka (LKA)")
            combo.press("Enter")
            page.wait_for_selector("h2:text-is('Sri Lanka')", timeout=60_000)
            assert page.locator("h2:text-is('Nepal')").count() == 0
            headline = page.locator("text=Sri Lanka").first.inner_text()
            assert "Sri Lanka" in headline
            shown = page.eval_on_selector_all(
                "img",
                "els => els.filter(e => e.complete && e.naturalWidth > 0 && e.clientWidth > 0)"
                ".map(e => [e.naturalWidth, e.clientWidth])",
            )
            assert len(shown) >= 3  # charts of the explorers rendered as images
            # sharp, not scaled up: at least two pixels of the image for each pixel it takes on the page
            assert all(natural >= 2 * width - 1 for natural, width in shown), shown
            own = [e for e in errors if "net::ERR_FAILED" not in e and "Failed to load resource" not in e]
            assert own == [], own
        finally:
            browser.close()
    kernels = voila_app.kernels()
    assert kernels, "the page should have started a kernel"
    started = "".join(voila_app.lines)
    assert "Warning" not in started and "WARNING" not in started, started  # the server starts and serves quietly
    os.killpg(voila_app.proc.pid, signal.SIGINT)  # Ctrl-C, as a person stops `make explore`
    voila_app.proc.wait(timeout=30)
    time.sleep(0.5)
    assert not [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE], "a kernel outlived voila"


def test_a_port_in_use_is_refused_before_voila_starts(capsys):
    """On a busy port Voilà printed "trying another port" and then that no port could be found, and exited 1; the
    command now says which address is taken and what to do, as a usage error (exit code 2)."""
    from leftbehind import cli
    from leftbehind.errors import ParameterError
    from leftbehind.explore.serve import check_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        with pytest.raises(ParameterError, match=rf"127.0.0.1:{port} is in use .*give another port \(e.g. --port"):
            check_port(port)
        with pytest.raises(SystemExit) as stopped:
            cli.main(["explore", "--port", str(port)])
        assert stopped.value.code == 2
        assert f"explore: error: argument --port: 127.0.0.1:{port} is in use" in capsys.readouterr().err
    check_port(port)  # free again once the other server is gone
