"""The evidence base on children left behind by migrant parents: filter studies, cite them, compute effect sizes.

Four resources of the data package hold it (``data/literature/``): ``studies`` (one row per study),
``effects`` (one row per study × outcome × comparison, numbers as the paper prints them), ``reviews``
(pooled estimates published by systematic reviews) and ``outcomes`` (the outcome vocabulary). The
bibliography ``references.bib`` is generated from ``studies`` (:func:`build_bibliography`), never edited.

Modules: ``studies`` (the tables, filters, regions, evidence map, record gaps), ``effect_sizes`` (numbers as
printed → analysis scale), ``percentages`` (counts rebuilt from printed percentages, their rounding ranges and
the check against a printed chi-square or p value), ``comparability`` (construct, definition and exposure of each row: only like with like), ``analysis``
(one comparable effect per study, excluded rows with reasons, counts), ``published`` (comparison with the
published reviews' estimates of the same construct), ``trust``
(the "how far to trust this" panel), ``moderators``
(meta-regression on one moderator where enough studies allow it),
``bibliography`` (citations, BibTeX, reference lists).

Examples
--------
>>> from leftbehind import literature
>>> s = literature.studies(country="LKA")
>>> "wickramage2015" in set(s["study_id"])
True
"""

from __future__ import annotations

from .analysis import (
    COMBINED,
    MIN_NATIVE,
    SCALES,
    SUBGROUP_COLUMNS,
    Selection,
    analysis_set,
    excluded_rows,
    reselect,
    selection,
    summary,
)
from .bibliography import bibliography_markdown, bibtex, build_bibliography, cite
from .comparability import EXPOSURES
from .effect_sizes import effect_sizes, to_smd
from .moderators import CONTINUOUS_MODERATORS, MODERATORS, ModeratorAnalysis, meta_regression
from .percentages import CountRange, RebuiltCounts, counts_from_percentage, rebuild_counts, rounding_range_of_effect
from .published import compare_with_reviews, review_estimates
from .studies import (
    RECORD_FIELDS,
    REGIONS,
    SCOPES,
    direction_table,
    domain_name,
    domains,
    effects,
    evidence_map,
    outcome_name,
    outcomes,
    record_gaps,
    region_of,
    reviews,
    select,
    studies,
    studies_per_country,
    studies_per_year,
    year_filter_sentence,
)
from .trust import (
    SENSITIVITY,
    measure_note,
    rounded_to_range_end,
    sensitivity_table,
    small_study_effects,
    trust_panel,
)

__all__ = [
    "REGIONS",
    "domain_name",
    "outcome_name",
    "studies",
    "studies_per_country",
    "studies_per_year",
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
    "selection",
    "reselect",
    "Selection",
    "excluded_rows",
    "trust_panel",
    "small_study_effects",
    "sensitivity_table",
    "EXPOSURES",
    "compare_with_reviews",
    "review_estimates",
    "SCOPES",
    "SUBGROUP_COLUMNS",
    "MODERATORS",
    "CONTINUOUS_MODERATORS",
    "ModeratorAnalysis",
    "meta_regression",
    "COMBINED",
    "MIN_NATIVE",
    "CountRange",
    "RebuiltCounts",
    "counts_from_percentage",
    "rebuild_counts",
    "rounding_range_of_effect",
    "RECORD_FIELDS",
    "record_gaps",
    "SENSITIVITY",
    "rounded_to_range_end",
    "year_filter_sentence",
    "measure_note",
]
