"""`data fetch` (issue 26 item 1): the local store is filled from a mirror or the publishers' addresses, every
file's size and SHA-256 checked, a mismatch refused with both digests named, all or nothing, offline a clear
error and nothing changed; the store's bytes are git-ignored, their records committed."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from conftest import DATA, REPO
from leftbehind.errors import DataError
from leftbehind.refresh.fetch import fetch_snapshots

FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"


def _store_and_mirror(tmp_path: Path) -> tuple[Path, Path]:
    """A store holding only the fixture records, and a mirror holding only their files, laid out as records
    of several files are (<publisher>/<release>/<file>)."""
    store, mirror = tmp_path / "store", tmp_path / "mirror"
    for record in FIXTURES.glob("*/*/snapshot.json"):
        rel = record.parent.relative_to(FIXTURES)
        (store / rel).mkdir(parents=True)
        shutil.copy(record, store / rel)
        (mirror / rel).mkdir(parents=True)
        for f in record.parent.iterdir():
            if f.name != "snapshot.json":
                shutil.copy(f, mirror / rel)
    return store, mirror


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_fetch_from_a_mirror_checks_and_fills_the_store(tmp_path):
    store, mirror = _store_and_mirror(tmp_path)
    results = fetch_snapshots(mirror, store)
    assert sorted(r.status for r in results) == ["fetched"] * 5
    for record in store.glob("*/*/snapshot.json"):
        meta = json.loads(record.read_text(encoding="utf-8"))
        blob = (record.parent / meta["file"]).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == meta["sha256"]  # recomputed here
    again = fetch_snapshots(mirror, store)
    assert {r.status for r in again} == {"present"}
    assert not list(store.rglob("*.partial"))


def test_a_tampered_byte_is_refused_with_both_digests_and_nothing_is_written(tmp_path):
    store, mirror = _store_and_mirror(tmp_path)
    target = mirror / "wb_class" / "FY2099" / "CLASS.csv"
    target.write_bytes(target.read_bytes().replace(b"IDA", b"IDB"))
    expected = json.loads((store / "wb_class" / "FY2099" / "snapshot.json").read_text(encoding="utf-8"))["sha256"]
    tampered = hashlib.sha256(target.read_bytes()).hexdigest()
    before = _files(store)
    with pytest.raises(
        DataError,
        match=rf"wb_class/FY2099: the file from .*CLASS\.csv has SHA-256 {tampered} .* records {expected}.*refused, nothing written",
    ):
        fetch_snapshots(mirror, store)
    assert _files(store) == before  # the other four files, fetched before the check failed, were not written


def test_a_file_missing_from_the_mirror_is_named(tmp_path):
    store, mirror = _store_and_mirror(tmp_path)
    (mirror / "undesa" / "ims_fixture" / "undesa_ims_destination_origin_fixture.csv").unlink()
    with pytest.raises(
        DataError, match=r"undesa/ims_fixture: not in the mirror .*laid out <publisher>/<release>/<file>"
    ):
        fetch_snapshots(mirror, store)
    with pytest.raises(DataError, match=r"no such mirror folder"):
        fetch_snapshots(tmp_path / "nowhere", store)


def test_a_wrong_file_in_the_store_is_replaced_by_the_recorded_one(tmp_path):
    store, mirror = _store_and_mirror(tmp_path)
    fetch_snapshots(mirror, store)
    local = store / "wb_class" / "FY2099" / "CLASS.csv"
    local.write_bytes(b"tampered")
    results = {r.key: r.status for r in fetch_snapshots(mirror, store)}
    assert results["wb_class/FY2099"].startswith("replaced")
    assert local.read_bytes() == (mirror / "wb_class" / "FY2099" / "CLASS.csv").read_bytes()


class _Server(http.server.ThreadingHTTPServer):
    routes: dict[str, bytes] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.routes.get(self.path)  # type: ignore[attr-defined]
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _one_record(store: Path, url: str, member: str | None, read_at: object = None) -> Path:
    folder = store / "wdi" / "2099-01-01.BX.TRF.PWKR.CD.DT"
    record = folder / "snapshot.json"
    meta = json.loads(record.read_text(encoding="utf-8"))
    meta.update({"url": url, "read_at": read_at})
    if member:
        meta["member"] = member
    for other in store.glob("*/*/snapshot.json"):
        if other != record:
            shutil.rmtree(other.parent)
    record.write_text(json.dumps(meta), encoding="utf-8")
    return folder / meta["file"]


def test_fetch_from_the_publisher_takes_the_member_of_its_zip(tmp_path, server):
    store, mirror = _store_and_mirror(tmp_path)
    name = "API_BX.TRF.PWKR.CD.DT_DS2_en_csv_v2_fixture.csv"
    blob = (mirror / "wdi" / "2099-01-01.BX.TRF.PWKR.CD.DT" / name).read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:  # the World Bank's download: the data file and its metadata
        z.writestr("Metadata_Country_fixture.csv", "Country Code,Region\n")
        z.writestr(name, blob)
    server.routes = {"/bulk.zip": archive.getvalue()}
    port = server.server_address[1]
    target = _one_record(store, f"http://127.0.0.1:{port}/bulk.zip", name)
    [result] = fetch_snapshots(None, store)
    assert result.status == "fetched" and result.origin.endswith("/bulk.zip")
    assert target.read_bytes() == blob


def test_the_publisher_serving_a_newer_release_falls_back_to_the_recorded_copy(tmp_path, server, monkeypatch):
    """The World Bank's API serves only its newest release: its bytes are refused (both digests named), and the
    copy the record names (a repository at a commit) is tried next; here both are served locally."""
    from leftbehind.refresh import fetch

    store, mirror = _store_and_mirror(tmp_path)
    name = "API_BX.TRF.PWKR.CD.DT_DS2_en_csv_v2_fixture.csv"
    blob = (mirror / "wdi" / "2099-01-01.BX.TRF.PWKR.CD.DT" / name).read_bytes()
    port = server.server_address[1]
    server.routes = {"/bulk.csv": blob.replace(b"2099-01-01", b"2100-01-01")}
    copy = {"repository": "owner/repo", "commit": "0" * 40, "path": name}
    target = _one_record(store, f"http://127.0.0.1:{port}/bulk.csv", None, copy)
    assert fetch.raw_address(copy) == f"https://raw.githubusercontent.com/owner/repo/{'0' * 40}/{name}"
    monkeypatch.setattr(fetch, "raw_address", lambda read_at: f"http://127.0.0.1:{port}/copy/{read_at['path']}")
    with pytest.raises(
        DataError,
        match=r"no source gave the recorded file:\n  .*bulk\.csv has SHA-256 [0-9a-f]{64}.*\n  .*/copy/.* 404",
    ):
        fetch_snapshots(None, store)
    assert not target.exists()
    server.routes[f"/copy/{name}"] = blob
    [result] = fetch_snapshots(None, store)
    assert result.origin.endswith(f"/copy/{name}") and target.read_bytes() == blob


def test_offline_is_a_clear_error_and_nothing_changes(tmp_path):
    store, _ = _store_and_mirror(tmp_path)
    with socket_closed() as port:
        _one_record(store, f"http://127.0.0.1:{port}/bulk.zip", None)
        before = _files(store)
        with pytest.raises(DataError, match=r"cannot be reached .*offline\? Fetch from a mirror with --from DIR"):
            fetch_snapshots(None, store)
    assert _files(store) == before


class socket_closed:
    """A local port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])  # bound but not listening: connections are refused

    def __exit__(self, *args: object) -> None:
        self.sock.close()


def test_the_command_and_the_store_is_ignored_by_git(tmp_path):
    store, mirror = _store_and_mirror(tmp_path)
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "leftbehind", "data", "fetch", "--from", str(tmp_path / "nowhere")]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert run.returncode == 1 and "no such mirror folder" in run.stderr and "Traceback" not in run.stderr
    # every publisher's file of the store is ignored, every record is not (Natural Earth stays committed)
    records = sorted(DATA.glob("snapshots/*/*/snapshot.json"))
    files = [r.parent / json.loads(r.read_text(encoding="utf-8")).get("file", "x") for r in records]
    listed = [r.parent / f["file"] for r in records for f in json.loads(r.read_text(encoding="utf-8")).get("files", [])]
    check = subprocess.run(
        ["git", "check-ignore", "--no-index", *map(str, files + listed + records)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    ignored = set(check.stdout.split())
    assert not {str(r) for r in records} & ignored
    assert {str(f) for f in listed} <= ignored and listed
    committed = [f for f, r in zip(files, records) if json.loads(r.read_text(encoding="utf-8")).get("committed")]
    assert committed and not {str(f) for f in committed} & ignored
