"""The start notebook as a web app: Voila on a loopback port, driven by headless Chromium.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with a clear reason where it is missing. The
browser is offline: every request that does not go to the local server is aborted, as on a machine with no
internet access.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from conftest import REPO
from test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium found (install Debian's chromium; .ci/run does)"
)
VOILA = Path(sys.executable).parent / "voila"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def voila_app(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
    }
    env.pop("MPLBACKEND", None)
    proc = subprocess.Popen(
        [
            str(VOILA),
            "notebooks/00_start_here.ipynb",
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=False",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:  # up once it answers over HTTP at all (Voila serves no api/status: 404 counts as up)
        try:
            urllib.request.urlopen(url + "api/status", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"voila exited: {proc.stdout.read().decode()[-2000:] if proc.stdout else ''}")
            if time.monotonic() > deadline:
                pytest.fail("voila did not answer on its port within 60 s")
            time.sleep(0.5)
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_start_notebook_served_by_voila_responds_to_the_country_selector(voila_app):
    from playwright.sync_api import sync_playwright

    url, proc = voila_app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            blocked: list[str] = []

            def offline(route):
                if route.request.url.startswith(url):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, timeout=180_000)
            page.wait_for_selector("h2:text-is('Nepal')", timeout=180_000)  # the country explorer has rendered
            combo = page.locator("input[placeholder='type a name or an ISO3 code']").first
            combo.fill("Sri Lanka (LKA)")
            combo.press("Enter")
            page.wait_for_selector("h2:text-is('Sri Lanka')", timeout=60_000)
            assert page.locator("h2:text-is('Nepal')").count() == 0
            headline = page.locator("text=Sri Lanka").first.inner_text()
            assert "Sri Lanka" in headline
            images = page.eval_on_selector_all("img", "els => els.filter(e => e.complete && e.naturalWidth > 0).length")
            assert images >= 3  # charts of the explorers rendered as images
            own = [e for e in errors if "net::ERR_FAILED" not in e and "Failed to load resource" not in e]
            assert own == [], own
        finally:
            browser.close()
    kernels = [p for p in psutil.Process(proc.pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
    assert kernels, "the page should have started a kernel"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, as a person stops `make explore`
    proc.wait(timeout=30)
    time.sleep(0.5)
    assert not [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE], "a kernel outlived voila"
