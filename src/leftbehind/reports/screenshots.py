"""Screenshots of the published reports for README (``make screenshots``, after ``make reports`` and
``make briefs``): the index, a country profile, and the first page of its brief as printed, made with the same
system Chromium (driven by Playwright, offline) that prints the briefs. The PNG files go to
``reports/screenshots/``, the one folder of ``reports/`` kept in git.

Examples
--------
>>> [shot.file for shot in SHOTS]
['index.png', 'profile.png', 'brief.png']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import write_atomic
from ..errors import ReportError
from .briefs import _ORIGIN, _launch, _with_print_css

__all__ = ["Shot", "SHOTS", "PROFILE", "write_screenshots"]

#: The country whose profile and brief are shown.
PROFILE = "NPL"


@dataclass(frozen=True)
class Shot:
    """One screenshot: the PNG written, the report page it shows, the viewport (CSS pixels) and whether the
    page is shown as printed (the brief's stylesheet, A4 width)."""

    file: str
    page: str
    width: int
    height: int
    printed: bool = False


SHOTS: tuple[Shot, ...] = (
    Shot("index.png", "index.html", 1200, 900),
    Shot("profile.png", f"05_country_profile_{PROFILE}.html", 1200, 1500),
    Shot("brief.png", f"05_country_profile_{PROFILE}.html", 794, 1123, printed=True),  # A4 at 96 dpi
)


def _files_of(out_dir: Path, shot: Shot) -> Any:
    """Playwright's route serving the reports folder's own files (the page, its thumbnails) at the briefs'
    address, as the briefs are printed: JavaScript is off, and nothing outside the folder can be read."""
    root = out_dir.resolve()

    def route(request_route: Any) -> None:
        url = request_route.request.url
        path = (root / url[len(_ORIGIN) :].split("?")[0]).resolve() if url.startswith(_ORIGIN) else None
        if path is None or root not in path.parents or not path.is_file():
            request_route.abort()
            return
        body = path.read_bytes()
        if shot.printed and path.name == shot.page:
            body = _with_print_css(body)
        kind = (
            "text/html; charset=utf-8"
            if path.suffix == ".html"
            else "image/png"
            if path.suffix == ".png"
            else "application/octet-stream"
        )
        request_route.fulfill(status=200, body=body, headers={"Content-Type": kind})

    return route


def write_screenshots(
    out_dir: Path | None = None, log: Callable[[str], None] = print, shots: tuple[Shot, ...] = SHOTS
) -> list[Path]:
    """Write every one of ``shots`` (default :data:`SHOTS`) as a PNG into ``<out_dir>/screenshots/``; return their
    paths.

    Raises
    ------
    ReportError
        When a page is missing (run ``make reports`` first) or Chromium is not installed.
    """
    from playwright.sync_api import sync_playwright

    from .run import default_output_dir

    out_dir = Path(out_dir or default_output_dir())
    missing = [s.page for s in shots if not (out_dir / s.page).is_file()]
    if missing:
        raise ReportError(f"{out_dir.name}/{missing[0]}: not found; run `make reports` first")
    written = []
    with sync_playwright() as pw:
        browser = _launch(pw, log)
        try:
            context = browser.new_context(java_script_enabled=False, accept_downloads=False)
            for shot in shots:
                page = context.new_page()
                page.set_viewport_size({"width": shot.width, "height": shot.height})
                try:
                    page.route("**/*", _files_of(out_dir, shot))
                    page.goto(_ORIGIN + shot.page, wait_until="load")
                    if shot.printed:
                        page.emulate_media(media="print")
                    png = page.screenshot(full_page=False, animations="disabled", caret="hide")
                finally:
                    page.close()
                target = out_dir / "screenshots" / shot.file
                write_atomic(target, png)
                written.append(target)
                log(f"screenshot {target.relative_to(out_dir).as_posix()}")
        finally:
            browser.close()
    return written
