"""The evidence base on children left behind by migrant parents: filter studies, cite them, compute effect sizes.

Four resources of the data package hold it (``data/literature/``): ``studies`` (one row per study),
``effects`` (one row per study × outcome × comparison, numbers as the paper prints them), ``reviews``
(pooled estimates published by systematic reviews) and ``outcomes`` (the outcome vocabulary). The
bibliography ``references.bib`` is generated from ``studies`` (:func:`build_bibliography`), never edited.

Modules: ``studies`` (the tables, filters, regions, evidence map), ``effect_sizes`` (numbers as printed →
analysis scale), ``comparability`` (construct, definition and exposure of each row: only like with like), ``analysis``
(one comparable effect per study, excluded rows with reasons, comparison with reviews, counts), ``trust``
(the "how far to trust this" panel),
``bibliography`` (citations, BibTeX, reference lists).

Examples
--------
>>> from leftbehind import literature
>>> s = literature.studies(country="LKA")
>>> "wickramage2015" in set(s["study_id"])
True
"""

from __future__ import annotations

from .analysis import SCALES, SUBGROUP_COLUMNS, analysis_set, compare_with_reviews, excluded_rows, summary
from .bibliography import bibliography_markdown, bibtex, build_bibliography, cite
from .comparability import EXPOSURES
from .effect_sizes import effect_sizes, to_smd
from .studies import (
    REGIONS,
    SCOPES,
    direction_table,
    domains,
    effects,
    evidence_map,
    outcomes,
    region_of,
    reviews,
    select,
    studies,
    studies_per_country,
)
from .trust import sensitivity_table, trust_panel

__all__ = [
    "REGIONS",
    "studies",
    "studies_per_country",
    "effects",
    "reviews",
    "outcomes",
    "domains",
    "region_of",
    "cite",
    "effect_sizes",
    "to_smd",
    "evidence_map",
    "summary",
    "bibtex",
    "build_bibliography",
    "select",
    "direction_table",
    "bibliography_markdown",
    "SCALES",
    "analysis_set",
    "excluded_rows",
    "trust_panel",
    "sensitivity_table",
    "EXPOSURES",
    "compare_with_reviews",
    "SCOPES",
    "SUBGROUP_COLUMNS",
]
