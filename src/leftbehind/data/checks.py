"""Cross-table rules of the data package: what a single table's schema cannot say.

Examples
--------
>>> validate_package()["figures"] > 250
True
"""

from __future__ import annotations

from .._io import data_dir
from ..errors import DataError
from .figures import geographies
from .tabular import _display, _resource, load, resource_names, split_list


def validate_package() -> dict[str, int]:
    """Load every resource (types, constraints, keys, foreign keys) and check cross-table rules.

    Cross-table rules: each figure's ``edition_id`` is its source's edition; where a value has several
    editions, their release dates can be ordered (neither is a prefix of the other, so "latest" is defined).

    Returns the number of rows per resource.

    Examples
    --------
    >>> validate_package()["figures"] > 250
    True
    """
    counts = {name: len(load(name)) for name in resource_names()}
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
    if "studies" in counts:
        check_study_vocabularies()
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
