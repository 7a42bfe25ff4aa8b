"""The World Bank's country classification (income group, region, lending category, fiscal year), read from
``derived/classification.csv`` (the ``classification`` resource), which ``python -m leftbehind data build``
derives from a ``wb_class`` snapshot (the CLASS file) or a ``wdi_metadata_country`` one (the Metadata_Country
file of a WDI bulk download).

Without such a snapshot, asking for the classification raises a DataError that says so.
"""

from __future__ import annotations

import pandas as pd

from .._io import data_dir
from ..errors import DataError, check_choice, choice_error
from .arguments import _known_codes, check_code, name_of
from .tabular import _resource, load

__all__ = ["classification", "classification_table"]

_MISSING = (
    "the World Bank classification is not in the data package yet ({path} is missing): add the World Bank's "
    "CLASS file as a wb_class snapshot, or a WDI bulk download's Metadata_Country file as a wdi_metadata_country "
    "snapshot (data/snapshots/), and run `python -m leftbehind data build`"
)


def classification_table() -> pd.DataFrame:
    """Every economy's classification, newest fiscal year per economy (strings; empty where the World Bank
    gives none, e.g. an economy not classified by income).

    Raises
    ------
    DataError
        When the classification has not been derived yet.
    """
    path = data_dir() / _resource("classification")["path"]
    if not path.is_file():
        raise DataError(_MISSING.format(path=f"{data_dir().name}/{_resource('classification')['path']}"))
    table = load("classification").fillna("").astype(str)
    return table.sort_values(["code", "fiscal_year"]).drop_duplicates("code", keep="last").reset_index(drop=True)


def classification(code: str) -> dict[str, str]:
    """The World Bank's classification of one economy: economy, region, income_group, lending_category,
    fiscal_year, and the snapshot it was read in.

    Raises
    ------
    ParameterError
        For a code that is not a geography of the data package.
    DataError
        When the classification has not been derived yet, or the World Bank does not classify ``code``.
    """
    code = check_code("code", code, countries_only=True)  # an aggregate ("WLD", "LMY") is not an economy
    table = classification_table().set_index("code")
    if code not in table.index:
        raise DataError(f'"{code}" is not an economy in the World Bank classification ({len(table)} economies)')
    return {"code": code} | {k: str(v) for k, v in table.loc[code].items()}


def _checked_group(what: str, value: object, valid: list[str], how: str) -> str:
    """``value`` if it is one of ``valid`` (names such as "High income"); an aggregate's code ("HIC") whose name
    is one of them gets that name as the hint."""
    if isinstance(value, str) and value not in valid:
        code = value.strip().upper()
        if code in _known_codes(False)[1]:
            plain = name_of(code).casefold().replace("-", " ").removesuffix(" countries")
            named = [v for v in valid if v.casefold() == plain]
            if named:
                hint = f'"{code}" is the code of the aggregate "{name_of(code)}": give {what}="{named[0]}".'
                raise choice_error(what, value, valid, how, hint=hint)
    return check_choice(what, value, valid, how)


def filter_codes(codes: list[str], income_group: str | None, region: str | None) -> list[str]:
    """``codes`` restricted to an income group and/or World Bank region (values checked against the table)."""
    if income_group is None and region is None:
        return codes
    table = classification_table()
    keep = table
    if income_group is not None:
        groups = sorted(g for g in table["income_group"].unique() if g)
        keep = keep[keep["income_group"] == _checked_group("income_group", income_group, groups, "an income group")]
    if region is not None:
        regions = sorted(r for r in table["region"].unique() if r)
        keep = keep[keep["region"] == _checked_group("region", region, regions, "a World Bank region")]
    wanted = set(keep["code"])
    return [c for c in codes if c in wanted]
