"""JupyterLab starts on a free loopback port, serves the notebooks folder, and shuts down cleanly."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from conftest import NOTEBOOKS, REPO


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_lab_lists_the_notebooks(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={REPO}",
        ]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = _get(f"{base}/api/status", token)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            time.sleep(0.5)
        status, body = _get(f"{base}/api/contents/notebooks", token)
        assert status == 200
        listing = json.loads(body)
        served = {item["name"] for item in listing["content"] if item["type"] == "notebook"}
        assert served == {p.name for p in NOTEBOOKS.glob("*.ipynb")}
        # the lab UI itself is served too
        status, page = _get(f"{base}/lab", token)
        assert status == 200 and b"JupyterLab" in page
        # no news pop-up and no update check: the environment's settings override, not the user's home
        status, body = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification", token)
        defaults = json.loads(body)["schema"]["properties"]  # overrides.json replaces the schema's defaults
        assert status == 200 and defaults["fetchNews"]["default"] == "false"
        assert defaults["checkForUpdates"]["default"] is False
        # the start notebook opens with this environment's kernel
        status, body = _get(f"{base}/api/contents/notebooks/00_start_here.ipynb", token)
        assert json.loads(body)["content"]["metadata"]["kernelspec"]["display_name"] == "Python 3 (leftbehind)"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode is not None


def test_make_lab_lands_on_the_start_notebook(tmp_path):
    """``make lab`` opens the browser at the start notebook, in a lab whose root is the project (so that data/ and
    reports/ are one click away): the address it hands the browser is followed here, as a browser would."""
    port, token = _free_port(), secrets.token_hex(16)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"  # stands in for the user's browser: notes the address it is asked to open
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    env = dict(
        os.environ,
        BROWSER=f"{browser} %s",
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
    )
    proc = subprocess.Popen(
        [
            "make",
            "-s",
            "-o",
            ".venv/.installed",  # the environment as it is: this test does not install anything
            "lab",
            f"LAB_ARGS=--port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not (opened.exists() and opened.read_text(encoding="utf-8").strip()):
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "make lab opened no browser within 90 s"
            time.sleep(0.5)
        target = opened.read_text(encoding="utf-8").split()[0]
        if target.startswith("file://"):  # Jupyter hands the browser a page that redirects to the lab
            page = Path(urllib.parse.urlparse(target).path).read_text(encoding="utf-8")
            target = re.search(r'url=([^"]+)"', page).group(1)
        address = urllib.parse.urlparse(target)
        assert address.path == "/lab/tree/notebooks/00_start_here.ipynb", target
        status, body = _get(f"http://127.0.0.1:{port}{address.path}", token)
        config = json.loads(re.search(rb'id="jupyter-config-data"[^>]*>(.*?)</script>', body, re.S).group(1))
        assert status == 200 and config["treePath"] == "notebooks/00_start_here.ipynb"
        status, body = _get(f"http://127.0.0.1:{port}/api/contents/notebooks/00_start_here.ipynb", token)
        assert status == 200 and json.loads(body)["type"] == "notebook"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
