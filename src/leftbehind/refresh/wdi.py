"""World Development Indicators: parse the World Bank's bulk CSV and add a new release to the data package.

``python -m leftbehind data refresh`` downloads personal remittances received (``BX.TRF.PWKR.CD.DT``, current
US$, and ``BX.TRF.PWKR.DT.GD.ZS``, % of GDP) and paid (``BM.TRF.PWKR.CD.DT``) from the World Bank's API in its
bulk-download format, and writes them as a **new edition** (``wdi_YYYY_MM_DD``, from the file's "Last Updated
Date"), with the retrieval date and the file's SHA-256 in the source row. The downloaded CSV itself is kept as a
snapshot (``data/snapshots/wdi/<date>.<code>/``) and every economy's values are derived from it into
``data/derived/figures.csv``. Earlier editions stay in place. Offline, it fails with a clear message and changes
nothing.

The bulk CSV has four preamble lines (``"Data Source",…``, blank, ``"Last Updated Date",…``, blank), then
``"Country Name","Country Code","Indicator Name","Indicator Code","1960",…`` and one row per country.

Parsing the bulk CSV lives in :mod:`leftbehind.data.derive` (``parse_bulk_csv``, with an example there).

Examples
--------
>>> INDICATORS["BX.TRF.PWKR.DT.GD.ZS"]
('remittances_received_pct_gdp', 'percent')
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

from .. import data
from .._io import write_atomic
from ..country import PROFILE_COUNTRIES
from ..data.derive import WDI_SERIES, parse_bulk_csv
from ..errors import DataError
from .snapshots import write_and_derive

__all__ = ["INDICATORS", "LABOUR_SENDING", "API_URL", "parse_bulk_csv", "fetch", "refresh"]

#: WDI series code → (indicator id in the data package, unit): the series the builders derive, too.
INDICATORS: dict[str, tuple[str, str]] = WDI_SERIES
#: Labour-sending countries the collection follows, plus the low- and middle-income and world aggregates.
LABOUR_SENDING: tuple[str, ...] = (*PROFILE_COUNTRIES, "LMY", "WLD")
#: The World Bank API's bulk-download address for one indicator.
API_URL = "https://api.worldbank.org/v2/en/indicator/{code}?downloadformat=csv"


def fetch(code: str, timeout: float = 60.0) -> bytes:
    """Download the bulk-CSV zip of one WDI indicator from the World Bank API.

    Raises
    ------
    DataError
        When the World Bank cannot be reached (offline, blocked, timed out) or answers with an error.
    """
    url = API_URL.format(code=code)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DataError(
            f"cannot download {code} from {url} ({exc}); check the network connection. Nothing was changed in data/."
        ) from None


def _csv_from_zip(blob: bytes, code: str) -> tuple[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
    except zipfile.BadZipFile:
        raise DataError(f"the download for {code} is not a zip file; nothing was changed in data/.") from None
    names = [n for n in archive.namelist() if n.startswith("API_") and n.endswith(".csv")]
    if not names:
        raise DataError(f"the download for {code} holds no API_*.csv file ({archive.namelist()}); nothing was changed.")
    return names[0], archive.read(names[0])


def _append_csv(path: str, header: list[str], new_rows: list[list[str]], key: Callable[[dict[str, str]], Any]) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows += [dict(zip(header, r)) for r in new_rows]
    rows.sort(key=key)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[r[h] for h in header] for r in rows])
    return buf.getvalue()


def refresh(
    codes: Iterable[str] = tuple(INDICATORS),
    countries: Iterable[str] = LABOUR_SENDING,
    fetcher: Callable[[str], bytes] = fetch,
    today: _dt.date | None = None,
) -> list[str]:
    """Download each WDI indicator and add its release as a new edition; return one line per indicator.

    A release already in the package (same edition and source) is skipped. All files are written only after
    every download and parse succeeded, and the package is validated afterwards; on any failure the data files
    are left exactly as they were.
    """
    today = today or _dt.date.today()
    folder = data.data_dir()
    paths = {n: folder / f"{n}.csv" for n in ("figures", "sources", "editions")}
    originals = {n: p.read_bytes() for n, p in paths.items()}
    sources = data.load("sources")
    editions = data.load("editions")
    new_fig: list[list[str]] = []
    new_src: list[list[str]] = []
    new_ed: list[list[str]] = []
    new_snap: list[tuple[str, str, bytes, dict[str, Any]]] = []
    report: list[str] = []
    wanted = list(countries)
    for code in codes:
        if code not in INDICATORS:
            raise DataError(f'unknown WDI indicator "{code}"; valid: {", ".join(INDICATORS)}')
        blob = fetcher(code)
        name, raw = _csv_from_zip(blob, code)
        digest = hashlib.sha256(raw).hexdigest()
        updated, table = parse_bulk_csv(raw.decode("utf-8-sig"), name)
        edition_id = "wdi_" + updated.replace("-", "_")
        source_id = f"wdi_{code.lower().replace('.', '_')}_{updated.replace('-', '')}"
        if source_id in set(sources["source_id"]) or source_id in {s[0] for s in new_src}:
            report.append(f"{code}: release {updated} is already in the data package; skipped")
            continue
        indicator, unit = INDICATORS[code]
        part = table[(table["indicator_code"] == code) & table["code"].isin(wanted)]
        for r in part.itertuples():
            quote = f'"{r.country}","{r.code}",…,"{r.year}": "{r.raw}"'
            new_fig.append(
                [
                    indicator,
                    r.code,
                    str(r.year),
                    "total",
                    r.raw,
                    unit,
                    "",
                    source_id,
                    edition_id,
                    f"WDI bulk download retrieved {today.isoformat()}; file sha256 {digest[:16]}…",
                    quote,
                ]
            )
        url = f"https://data.worldbank.org/indicator/{code}"
        new_snap.append(("wdi", f"{updated}.{code}", raw, _snapshot_record(code, name, updated, edition_id, today)))
        new_src.append(
            [
                source_id,
                edition_id,
                "World Bank",
                f"World Development Indicators: {code} ({name})",
                updated[:4],
                f"series {code}, bulk CSV, all years",
                url,
                "",
                API_URL.format(code=code),
                "primary",
                today.isoformat(),
            ]
        )
        if edition_id not in set(editions["edition_id"]) and edition_id not in {e[0] for e in new_ed}:
            new_ed.append(
                [
                    edition_id,
                    "World Bank World Development Indicators",
                    "World Bank",
                    f"World Development Indicators, release of {updated}",
                    updated,
                ]
            )
        report.append(
            f"{code}: release {updated}, {len(part)} values for {part['code'].nunique()} geographies (sha256 {digest})"
        )
    if not new_src:
        return report
    released = dict(zip(editions["edition_id"], editions["released"])) | {e[0]: e[4] for e in new_ed}
    contents = {
        "figures": _append_csv(
            str(paths["figures"]),
            [f["name"] for f in data.schema("figures")["fields"]],
            new_fig,
            key=lambda r: (
                r["indicator"],
                r["geography"],
                int(r["year"]),
                r["sex"],
                released.get(r["edition_id"], ""),
                r["source_id"],
            ),
        ),
        "sources": _append_csv(
            str(paths["sources"]),
            [f["name"] for f in data.schema("sources")["fields"]],
            new_src,
            key=lambda r: r["source_id"],
        ),
        "editions": _append_csv(
            str(paths["editions"]),
            [f["name"] for f in data.schema("editions")["fields"]],
            new_ed,
            key=lambda r: r["edition_id"],
        ),
    }
    undo: Callable[[], None] | None = None
    try:
        for n in ("editions", "sources", "figures"):
            write_atomic(paths[n], contents[n])
        undo = write_and_derive(new_snap)  # the file as downloaded, and every economy derived from it
        data.validate_package()
    except Exception:
        for n, p in paths.items():
            write_atomic(p, originals[n])
        if undo is not None:
            undo()
        raise
    return report


def _snapshot_record(code: str, name: str, updated: str, edition_id: str, today: _dt.date) -> dict[str, Any]:
    """The snapshot record of one downloaded bulk CSV (its SHA-256 is added when it is written)."""
    return {
        "producer": "World Bank",
        "title": f"World Development Indicators: {code} ({name})",
        "edition": f"Last Updated Date {updated}",
        "edition_id": edition_id,
        "citation": f"World Bank ({updated[:4]}). World Development Indicators, series {code}, release of {updated}.",
        "url": API_URL.format(code=code),
        "read_at": None,
        "accessed": today.isoformat(),
        "licence": {"name": "CC-BY-4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        "file": name,
        "format": "csv",
        "parser": "wdi_bulk_csv",
        "trimmed": "the CSV of the downloaded zip, bytes unchanged; the zip's two metadata CSVs are not kept",
    }
