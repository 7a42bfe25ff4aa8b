"""World Development Indicators: parse the World Bank's bulk CSV and add a new release to the data package.

``python -m leftbehind data refresh`` downloads personal remittances received (``BX.TRF.PWKR.CD.DT``, current
US$, and ``BX.TRF.PWKR.DT.GD.ZS``, % of GDP) and paid (``BM.TRF.PWKR.CD.DT``) from the World Bank's API in its
bulk-download format, and writes them as a **new edition** (``wdi_YYYY_MM_DD``, from the file's "Last Updated
Date"): the downloaded CSV is kept as a snapshot (``data/snapshots/worldbank-wdi/<date>.<code>/``: its record,
with the retrieval date and the file's SHA-256, and the file in the local store) and every economy's values are
derived from it into ``data/derived/``. Earlier editions stay in place. Offline, it fails with a clear message
and changes nothing.

The bulk CSV has four preamble lines (``"Data Source",…``, blank, ``"Last Updated Date",…``, blank), then
``"Country Name","Country Code","Indicator Name","Indicator Code","1960",…`` and one row per country.

Parsing the bulk CSV lives in :mod:`leftbehind.data.derive` (``parse_bulk_csv``, with an example there).

Examples
--------
>>> INDICATORS["BX.TRF.PWKR.DT.GD.ZS"]
('remittances_received_pct_gdp', 'percent')
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

from .. import data
from ..country import PROFILE_COUNTRIES
from ..data.derive import WDI_SERIES, parse_bulk_csv
from ..data.snapshots import list_snapshots
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


def _source_id(code: str, updated: str) -> str:
    """The id a release's figures cite: ``wdi_<YYYYMMDD>_<series code>``, as the committed records name theirs."""
    return f"wdi_{updated.replace('-', '')}_{code.lower().replace('.', '_')}"


def refresh(
    codes: Iterable[str] = tuple(INDICATORS),
    fetcher: Callable[[str], bytes] = fetch,
    today: _dt.date | None = None,
) -> list[str]:
    """Download each WDI series and add its release as a new edition; return one line per series.

    Each downloaded bulk CSV becomes a snapshot (``data/snapshots/worldbank-wdi/<release>.<code>/``: its record,
    committed, and the file, in the git-ignored local store), and ``data/derived/`` is rebuilt from every
    snapshot, so that the new release's figures for every economy appear as an edition of their own. A release
    already in the package (same source) is skipped. Nothing is written until every download and parse
    succeeded, and the package is validated afterwards; on any failure the data package is left as it was.
    """
    today = today or _dt.date.today()
    known = {str(s.meta.get("source_id")) for s in list_snapshots()}
    new_snap: list[tuple[str, str, bytes, dict[str, Any]]] = []
    report: list[str] = []
    for code in codes:
        if code not in INDICATORS:
            raise DataError(f'unknown WDI indicator "{code}"; valid: {", ".join(INDICATORS)}')
        blob = fetcher(code)
        name, raw = _csv_from_zip(blob, code)
        digest = hashlib.sha256(raw).hexdigest()
        updated, table = parse_bulk_csv(raw.decode("utf-8-sig"), name)
        source_id = _source_id(code, updated)
        if source_id in known or source_id in {m["source_id"] for *_, m in new_snap}:
            report.append(f"{code}: release {updated} is already in the data package; skipped")
            continue
        part = table[table["indicator_code"] == code]
        new_snap.append(
            ("worldbank-wdi", f"{updated}.{code}", raw, _snapshot_record(code, name, updated, source_id, today))
        )
        report.append(
            f"{code}: release {updated}, {len(part)} values for {part['code'].nunique()} geographies (sha256 {digest})"
        )
    if not new_snap:
        return report
    undo = write_and_derive(new_snap)  # the files as downloaded, and every economy derived from them
    try:
        data.validate_package()
    except Exception:
        undo()
        raise
    return report


def _snapshot_record(code: str, name: str, updated: str, source_id: str, today: _dt.date) -> dict[str, Any]:
    """The snapshot record of one downloaded bulk CSV (its SHA-256 is added when it is written)."""
    return {
        "producer": "World Bank",
        "title": f"World Development Indicators: {code} ({name})",
        "edition": f"World Development Indicators, release of {updated}",
        "edition_id": "wdi_" + updated.replace("-", "_"),
        "series": "World Bank World Development Indicators",
        "released": updated,
        "source_id": source_id,
        "citation": f"World Bank ({updated[:4]}). World Development Indicators, series {code}, release of {updated}.",
        "url": API_URL.format(code=code),
        "member": name,
        "page": f"https://data.worldbank.org/indicator/{code}",
        "read_at": None,
        "accessed": today.isoformat(),
        "licence": {"name": "CC BY 4.0 (World Bank data)", "url": "https://creativecommons.org/licenses/by/4.0/"},
        "file": name,
        "format": "csv",
        "parser": "wdi_bulk_csv",
        "trimmed": None,
    }
