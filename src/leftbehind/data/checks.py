"""Cross-table rules of the data package: what a single table's schema cannot say.

Examples
--------
>>> validate_package()["figures"] > 250
True
"""

from __future__ import annotations

import json
import re

import pandas as pd

from .._io import data_dir
from .._markup import doi_url, find_markup, web_address
from ..errors import DataError
from .figures import geographies
from .tabular import _display, _resource, descriptor, load, resource_names, schema, split_list

#: Fields that hold an address, by field name in any resource: what they may hold. ``read_at`` may also name
#: a file in a GitHub repository (``github:owner/repo/path@commit``), where a figure was read in a copy.
#: (``studies.verified_from`` is a note that cites addresses, not an address: it is checked as text.)
ADDRESS_FIELDS: dict[str, str] = {
    "url": "an http:// or https:// URL",
    "read_at": "an http:// or https:// URL or a github:owner/repo/path@commit locator",
    "doi": "a DOI (10.<registrant>/<suffix>)",
}
_GITHUB_LOCATOR = re.compile(r"github:[\w.-]+/[\w.-]+/\S+")

#: Text fields that are prose, by field name in any resource: quotes of a publisher's table, notes, definitions,
#: a regular expression. They may hold a ``|`` (a quoted table row) or a line break. Every other text field is
#: a name, label, code or unit that a report may put in a table cell, a heading or a list item, so it holds
#: neither: a ``|`` ends a Markdown table cell and a line break ends the row (reports escape both anyway; this
#: keeps such strings out of the data package, as :func:`check_plain_text` does for markup).
PROSE_FIELDS: frozenset[str] = frozenset(
    {"quote", "note", "notes", "definition", "verification", "verified_from", "outcome_detail", "pattern"}
)
_CELL_BREAKER = re.compile(r"[|\r\n\v\f\x85\u2028\u2029]")


def present_resources() -> list[str]:
    """The resources of the descriptor, but for a derived table (``derived/…``) whose file is absent: a data
    package without snapshots of a kind has no table derived from them (``data build`` removes it)."""
    return [
        name
        for name in resource_names()
        if not _resource(name)["path"].startswith("derived/") or (data_dir() / _resource(name)["path"]).is_file()
    ]


def check_editions_agree() -> None:
    """An edition described both by hand (``editions.csv``) and by a snapshot record (``derived/editions.csv``)
    is described identically.

    Raises
    ------
    DataError
        Naming the edition and the field that differs.

    Examples
    --------
    >>> check_editions_agree()
    """
    if "derived_editions" not in present_resources():
        return
    hand = load("editions").set_index("edition_id")
    derived = load("derived_editions").set_index("edition_id")
    for edition in hand.index.intersection(derived.index):
        for field in hand.columns:
            if hand.loc[edition, field] != derived.loc[edition, field]:
                raise DataError(
                    f'data/editions.csv, edition "{edition}", field "{field}": "{hand.loc[edition, field]}", but the '
                    f'snapshot records give "{derived.loc[edition, field]}" (data/derived/editions.csv); make them agree'
                )


def check_base_units() -> None:
    """Each figure is stored in its indicator's ``base_unit`` (the indicators resource): one unit per indicator.

    Raises
    ------
    DataError
        Naming the row, its unit and the indicator's base unit.
    """
    figs = load("figures")
    base = load("indicators").set_index("indicator")["base_unit"]
    wrong = figs["unit"] != figs["indicator"].map(base)
    if wrong.any():
        i = int(wrong.to_numpy().nonzero()[0][0])
        ind = figs.loc[i, "indicator"]
        raise DataError(
            f'{_display(data_dir() / _resource("figures")["path"])}, row {i + 1}, field "unit": "{figs.loc[i, "unit"]}" '
            f'is not the base unit of {ind} ("{base[ind]}" in indicators.csv); store the value in the base unit '
            "and the published unit in published_unit (data.build.rebase_figures does this)"
        )


def validate_package() -> dict[str, int]:
    """Load every resource (types, constraints, keys, foreign keys) and check cross-table rules.

    Every text cell is plain text and every address an http(s) URL or a DOI (:func:`check_plain_text`).
    Cross-table rules: each figure's ``edition_id`` is its source's edition; where a value has several
    editions, their release dates can be ordered (neither is a prefix of the other, so "latest" is defined).

    Returns the number of rows per resource.

    Examples
    --------
    >>> validate_package()["figures"] > 250
    True
    """
    counts = {name: len(load(name)) for name in present_resources()}
    figs = load("figures")
    src = load("sources").set_index("source_id")["edition_id"]
    shown = _display(data_dir() / _resource("figures")["path"])
    mismatch = figs["edition_id"] != figs["source_id"].map(src)
    if mismatch.any():
        i = int(mismatch.to_numpy().nonzero()[0][0])
        raise DataError(
            f'{shown}, row {i + 1}, field "edition_id": "{figs.loc[i, "edition_id"]}" is not the edition of '
            f'source "{figs.loc[i, "source_id"]}" ("{src[figs.loc[i, "source_id"]]}" in sources.csv)'
        )
    check_base_units()
    check_editions_agree()
    check_plain_text()
    check_field_titles()
    if "studies" in counts:
        check_study_vocabularies()
    if "effects" in counts:
        check_effect_rows()
    released = load("editions").set_index("edition_id")["released"]
    figs = figs.assign(released=figs["edition_id"].map(released))
    for key, group in figs.groupby(["indicator", "geography", "year", "sex"]):
        dates = sorted(set(group["released"]))
        for a, b in zip(dates, dates[1:]):
            if b.startswith(a):
                raise DataError(
                    f"data/editions.csv: releases {a} and {b} both publish {'/'.join(map(str, key))}; "
                    f"give the earlier one a month so that the latest edition is defined"
                )
    return counts


def check_field_titles() -> None:
    """A field name that several resources share has one title (tables label a column by it,
    :func:`leftbehind.data.field_label`): a second, different title is an error naming both resources.

    Examples
    --------
    >>> check_field_titles()
    """
    seen: dict[str, tuple[str, str]] = {}
    for res in descriptor()["resources"]:
        for f in res.get("schema", {}).get("fields", []):
            if "title" not in f:
                continue
            first = seen.setdefault(f["name"], (res["name"], str(f["title"])))
            if first[1] != f["title"]:
                raise DataError(
                    f'data/datapackage.json, resource "{res["name"]}", field "{f["name"]}": title "{f["title"]}" '
                    f'differs from "{first[1]}" (resource "{first[0]}"); a field name has one title in every resource'
                )


def check_study_vocabularies() -> None:
    """Every outcome a study lists is in ``outcomes.csv`` and every country is an ISO3 country code.

    Examples
    --------
    >>> check_study_vocabularies()
    """
    st = load("studies")
    voc = set(load("outcomes")["outcome"])
    iso = set(geographies().query("kind == 'country'")["code"])
    for i, r in enumerate(st.itertuples(), start=1):
        for o in split_list(r.outcome_domains):
            if o not in voc:
                raise DataError(
                    f'data/literature/studies.csv, row {i}, field "outcome_domains": "{o}" is not an outcome in outcomes.csv'
                )
        for c in split_list(r.countries):
            if c not in iso:
                raise DataError(
                    f'data/literature/studies.csv, row {i}, field "countries": "{c}" is not an ISO3 country code'
                )


def check_effect_rows() -> None:
    """Rules across the fields of an effect row (issue 28): a printed percentage is at most 100 and comes with its
    group's size (so that a count can be rebuilt from it); a row read in a review's table is a ``secondary`` row
    and names a study of the base whose design is ``systematic-review``.

    Raises
    ------
    DataError
        Naming the file, the row (data rows from 1), the field, the value and what would be valid.

    Examples
    --------
    >>> check_effect_rows()
    """
    eff = load("effects")
    designs = load("studies").set_index("study_id")["design"]
    shown = _display(data_dir() / _resource("effects")["path"])
    for i, r in enumerate(eff.itertuples(), start=1):
        for pct, total in (("pct_lb", "total_lb"), ("pct_comp", "total_comp")):
            value = getattr(r, pct)
            if pd.isna(value):
                continue
            if float(value) > 100:
                raise DataError(f'{shown}, row {i}, field "{pct}": "{value}" is above 100 (a percentage as printed)')
            if pd.isna(getattr(r, total)):
                raise DataError(
                    f'{shown}, row {i}, field "{total}": empty, but {pct} is "{value}"; a printed percentage needs '
                    "its group's size as printed, or leave the percentage in the quote only"
                )
        review = r.read_in_review
        if not pd.isna(review):
            if r.read_in != "secondary":
                raise DataError(
                    f'{shown}, row {i}, field "read_in": "{r.read_in}", but read_in_review names the review "{review}"; '
                    "a row read in a review's table is secondary"
                )
            if designs.get(review) != "systematic-review":
                raise DataError(
                    f'{shown}, row {i}, field "read_in_review": "{review}" is a study of design '
                    f'"{designs.get(review)}", not a systematic-review'
                )


def _address_problem(field: str, value: str) -> bool:
    """Whether ``value`` is not what address field ``field`` may hold (see :data:`ADDRESS_FIELDS`)."""
    if field == "doi":
        return doi_url(value) is None or value.strip().lower().startswith("doi:")
    if field == "read_at" and _GITHUB_LOCATOR.match(value):
        return False
    return web_address(value) != value


def check_plain_text() -> None:
    """Every text cell of every resource is plain text, with no markup (HTML tags, event-handler attributes,
    ``javascript:``/``vbscript:``/``data:`` URLs, character references, Markdown links); no text cell but the
    prose fields (:data:`PROSE_FIELDS`) holds a ``|`` or a line break, which would change a table; and every
    address field (:data:`ADDRESS_FIELDS`) holds an http(s) URL or a DOI. Reports escape what they show anyway;
    this keeps such strings out of the data package. A lone ``<`` before a digit or a space ("<5 years") is
    plain text.

    Raises
    ------
    DataError
        Naming the file, row (data rows from 1), field and value, and what the field may hold.

    Examples
    --------
    >>> check_plain_text()
    """
    for name in present_resources():
        text_fields = [f["name"] for f in schema(name)["fields"] if f.get("type", "string") in ("string", "any")]
        frame = load(name)
        shown = _display(data_dir() / _resource(name)["path"])
        for field in text_fields:
            for index, cell in frame[field].dropna().items():
                problem = text_problem(field, str(cell))
                if problem is not None:
                    raise DataError(f'{shown}, row {int(index) + 1}, field "{field}": {problem}')


def text_problem(field: str, value: str) -> str | None:
    """What is wrong with ``value`` as the text of field ``field`` of the data package (markup, a ``|`` or a
    line break outside :data:`PROSE_FIELDS`, an address that an address field may not hold), starting with the
    value itself, or ``None``: the rule of :func:`check_plain_text`, for one cell (``data build`` checks the
    tables it derives with it before writing them).

    Examples
    --------
    >>> text_problem("name", "Côte d'Ivoire"), text_problem("quote", "Region | 2017")
    (None, None)
    >>> text_problem("name", "Kyrgyzstan | 1.23")  # doctest: +ELLIPSIS
    '"Kyrgyzstan | 1.23" contains a pipe ("|"), which would end a table cell or row where a report shows it...'
    """
    markup = find_markup(value)
    if markup is not None:
        return (
            f'"{value}" contains markup: {markup}. Text in the data package is plain text: write the characters '
            "themselves, with no HTML, character references or Markdown links"
        )
    breaker = None if field in PROSE_FIELDS else _CELL_BREAKER.search(value)
    if breaker is not None:
        what = "a pipe" if breaker.group(0) == "|" else "a line break"
        return (
            f"{json.dumps(value, ensure_ascii=False)} contains {what} ({json.dumps(breaker.group(0))}), which would "
            'end a table cell or row where a report shows it. A name, label, code or unit is one line without "|" '
            f'(write "/" or "," instead); only the prose fields ({", ".join(sorted(PROSE_FIELDS))}) may hold them'
        )
    if field in ADDRESS_FIELDS and _address_problem(field, value):
        return f'"{value}" is not {ADDRESS_FIELDS[field]} (no spaces, quotes or angle brackets)'
    return None
