"""Country profiles: what the data package and the evidence base hold for one labour-sending country.

Each function returns data (or Markdown sentences generated from data) for the country-profile notebook, and
says plainly what is missing instead of failing: a country with no UN DESA estimate, no remittance series or
no study gets a shorter, honest profile.

Examples
--------
>>> p = emigrants("LKA")
>>> p["geography"].unique().tolist()
['LKA']

Modules: ``profiles`` (what the data package and the evidence base hold for one country), ``latest`` (the
newest figures a profile headlines), ``abroad`` (where its emigrants live, where its immigrants come from),
``context`` (the country as a destination, and against its region and income group) and ``sentences``
(Markdown sentences generated from figures; also importable as :mod:`leftbehind.narrative`).
"""

from __future__ import annotations

from .abroad import (
    destination_map_frame,
    destinations,
    destinations_over_time,
    destinations_sentence,
    destinations_table,
    largest,
    origins,
)
from .context import briefs_remittances, comparison, destination, rank_among
from .latest import HEADLINE, headline
from .profiles import (
    PROFILE_COUNTRIES,
    as_of,
    emigrants,
    evidence,
    findings_note,
    immigrants,
    narrative,
    pooled_by_outcome,
    remittance_comparison,
    sources,
    studies_in_print_note,
    study_sources,
    zeros_note,
)

__all__ = [
    "PROFILE_COUNTRIES",
    "emigrants",
    "immigrants",
    "remittance_comparison",
    "evidence",
    "findings_note",
    "pooled_by_outcome",
    "narrative",
    "sources",
    "study_sources",
    "studies_in_print_note",
    "as_of",
    "destination",
    "briefs_remittances",
    "comparison",
    "rank_among",
    "HEADLINE",
    "headline",
    "destinations",
    "origins",
    "destinations_sentence",
    "destinations_table",
    "destination_map_frame",
    "destinations_over_time",
    "largest",
    "zeros_note",
]
