"""The data package: find it, read its descriptor, load resources as validated, typed DataFrames.

The schema of every resource lives in ``data/datapackage.json`` (a Frictionless Data Package); this package
reads it from there and keeps no second copy. Loading checks each value against its field's type and
constraints and raises :class:`~leftbehind.errors.DataError` naming the file, the row (data rows counted
from 1, the header excluded) and the field.

Modules: ``tabular`` (the descriptor, typed loading, hashes), ``figures`` (figures by edition, geographies,
citations), ``series`` (breakdowns and remittance series), ``seeds`` (the IOM headline figures),
``checks`` (cross-table rules), ``build`` (tables derived by code), ``snapshots`` (publishers' files as read),
``derive`` (the tables derived from snapshots), ``classification`` (the World Bank's income groups and regions),
``bilateral`` (the corridors: migrants by destination and origin).
Only ``build`` and ``derive`` write to ``data/``.

Examples
--------
>>> from leftbehind import data
>>> "seed_figures" in data.resource_names()
True
>>> seeds = data.load("seed_figures")
>>> int(seeds.loc[seeds.figure_id == "persons_working_abroad", "value"].iloc[0])
105
"""

from __future__ import annotations

from .._io import data_dir
from .bilateral import OTHER_ORIGIN, corridor_years, corridors, top_destinations, top_origins
from .build import build_geographies
from .checks import validate_package
from .classification import classification, classification_table
from .figures import (
    SEX_WORDS,
    all_editions,
    all_sources,
    cite,
    countries,
    country_name,
    editions,
    figures,
    geographies,
    indicators,
    source_labels,
    sources_markdown,
)
from .seeds import SEED_TOPICS, seed_figures, seed_narrative, seed_rows, seed_sources, seed_table
from .series import (
    BREAKDOWNS,
    BROAD_COVERAGE,
    REMITTANCE_MEASURES,
    ZERO_MAY_BE_UNREPORTED,
    ZERO_NOTE,
    breakdown,
    broad_year,
    comparison_edition,
    edition_differences,
    indicator_label,
    lmy_remittance_flows,
    published_zeros,
    ranking,
    ranking_years,
    remittances,
    single_edition,
    table,
    without_published_zeros,
)
from .tabular import descriptor, field_label, file_sha256, load, package_info, resource_names, schema

__all__ = [
    "data_dir",
    "descriptor",
    "resource_names",
    "schema",
    "load",
    "file_sha256",
    "package_info",
    "indicators",
    "figures",
    "editions",
    "cite",
    "geographies",
    "countries",
    "country_name",
    "validate_package",
    "build_geographies",
    "BREAKDOWNS",
    "breakdown",
    "sources_markdown",
    "source_labels",
    "REMITTANCE_MEASURES",
    "remittances",
    "lmy_remittance_flows",
    "seed_figures",
    "seed_table",
    "seed_rows",
    "field_label",
    "seed_narrative",
    "seed_sources",
    "SEED_TOPICS",
    "indicator_label",
    "ranking",
    "ranking_years",
    "table",
    "classification",
    "classification_table",
    "edition_differences",
    "all_editions",
    "all_sources",
    "corridors",
    "corridor_years",
    "top_destinations",
    "top_origins",
    "OTHER_ORIGIN",
    "SEX_WORDS",
    "single_edition",
    "comparison_edition",
    "broad_year",
    "BROAD_COVERAGE",
    "ZERO_MAY_BE_UNREPORTED",
    "ZERO_NOTE",
    "published_zeros",
    "without_published_zeros",
]
