"""Only like with like: each effect row's comparability key (construct + definition, from the ``constructs``
rules of the data package) and exposure type, flags for sensitivity analyses (adjusted, derived by us,
secondary source, read only in an abstract), and the choice of one effect per study with every excluded row
and its reason. :func:`leftbehind.literature.analysis_set` and :func:`excluded_rows` build on it.

Examples
--------
>>> exposure_type("left_behind_vs_not", "households receiving remittances vs households not receiving them")
'remittance_receipt'
>>> exposure_type("left_behind_vs_not", "left-behind vs non-left-behind children")
'left_behind_vs_not'
"""

from __future__ import annotations

import re

import pandas as pd

from .. import data

#: Exposure types: what the row compares. Only rows of one exposure type are pooled together.
EXPOSURES: tuple[str, ...] = (
    "left_behind_vs_not", "within_left_behind", "caregiver_type", "remittance_receipt", "household_migrant", "other",
)  # fmt: skip
#: Comparisons that the effects table labels ``left_behind_vs_not`` but that compare something else (first match).
_EXPOSURE_RULES: tuple[tuple[str, str], ...] = (
    (r"remittance", "remittance_receipt"),
    (r"cared for primarily by|guardian|grandparent care|skipped-generation", "caregiver_type"),
    (r"members of .*households|any household (member|migrant)|household migrant", "household_migrant"),
    (r"no non-lbc group|within left-behind", "within_left_behind"),
)
_DERIVED = re.compile(r"\bderived\b|reconstructed|computed by us|not printed:")
_SECONDARY = re.compile(r"secondary|citing|as reproduced|reproduction")


def exposure_type(comparison_type: object, comparison: object) -> str:
    """The exposure a row compares: for a ``comparison_type`` of ``left_behind_vs_not`` or ``other``, the first
    rule of ``_EXPOSURE_RULES`` that matches the comparison text (remittance receipt, caregiver type, any
    household migrant, within left-behind children), else the ``comparison_type`` itself.

    Examples
    --------
    >>> exposure_type("left_behind_vs_not", "children cared for primarily by fathers vs by mothers")
    'caregiver_type'
    """
    kind = "other" if pd.isna(comparison_type) else str(comparison_type)
    if kind not in ("left_behind_vs_not", "other"):
        return kind if kind in EXPOSURES else "other"
    text = "" if pd.isna(comparison) else str(comparison).lower()
    return next((exp for pattern, exp in _EXPOSURE_RULES if re.search(pattern, text)), kind)


#: One outcome's construct rules in the order they are tried: (pattern, construct, definition).
_Rules = list[tuple[str, str, str]]


def _rules_by_outcome(rules: pd.DataFrame) -> dict[str, _Rules]:
    """The ``constructs`` table as each outcome's rules in priority order (ties: table order), read once per
    table rather than filtered and sorted again for every row it classifies."""
    return {
        str(outcome): [
            (str(r.pattern), str(r.construct), str(r.definition)) for r in group.sort_values("priority").itertuples()
        ]
        for outcome, group in rules.groupby("outcome", sort=False)
    }


def _construct(outcome: str, detail: str, effect_id: str, rules: dict[str, _Rules]) -> tuple[str, str]:
    mine = rules.get(outcome)
    if not mine:
        return outcome, "as defined in the outcome vocabulary (outcomes.csv)"
    text = f"{detail.lower()} {effect_id.lower()}"
    for pattern, construct, definition in mine:
        if re.search(pattern, text):
            return construct, definition
    return "unclassified", "no construct rule matches this row"


def possible_constructs(outcome: str) -> list[str]:
    """Every construct a row of ``outcome`` can be given: its rules' constructs and "unclassified", or the outcome
    itself where it has no rules (read from the ``constructs`` table; no row is classified)."""
    rules = _rules_by_outcome(data.load("constructs")).get(outcome)
    return sorted({c for _, c, _ in rules} | {"unclassified"}) if rules else [outcome]


def review_keys(rv: pd.DataFrame) -> pd.DataFrame:
    """``rv`` (rows of the ``reviews`` table) plus ``construct`` and ``definition``, by the same ``constructs``
    rules as effect rows (each row's outcome, its ``outcome_detail`` and ``review_id``), so that a published
    pooled estimate is set only beside a pool of the same construct.

    Examples
    --------
    >>> from leftbehind.literature import reviews
    >>> k = review_keys(reviews("physical_health"))
    >>> sorted(set(k.loc[k.review_id == "liu2023b", "construct"]))
    ['dental_caries']
    """
    rules = _rules_by_outcome(data.load("constructs"))
    keys = [
        _construct(str(o), "" if pd.isna(d) else str(d), str(r), rules)
        for o, d, r in zip(rv["outcome"], rv["outcome_detail"], rv["review_id"])
    ]
    return rv.assign(construct=[k[0] for k in keys], definition=[k[1] for k in keys])


def with_keys(es: pd.DataFrame) -> pd.DataFrame:
    """``es`` (effect rows) plus ``construct``, ``definition``, ``exposure_type``, ``derived_by_us`` (the row
    says its numbers were derived by us, or its counts are rebuilt from printed percentages), ``secondary_source``
    (``read_in`` is secondary: read in a review's table or another reproduction, not the study's own text) and
    ``abstract_only``.

    Examples
    --------
    >>> from leftbehind.literature import effects
    >>> k = with_keys(effects(outcome="physical_health"))
    >>> k.loc[k.effect_id == "pingliang_lbc_diarrhoea", "construct"].item()
    'diarrhoea'
    """
    rules = _rules_by_outcome(data.load("constructs"))
    keys = [
        _construct(str(o), "" if pd.isna(d) else str(d), str(e), rules)
        for o, d, e in zip(es["outcome"], es["outcome_detail"], es["effect_id"])
    ]
    text = (es["outcome_detail"].fillna("") + " " + es["measure_detail"].fillna("")).str.lower()
    loc = es["location"].fillna("").str.lower()
    # counts rebuilt from printed percentages by effect_sizes() are derived by us too, whatever the text says
    rebuilt = es["es_source"] == "percentages" if "es_source" in es else pd.Series(False, index=es.index)
    read_in = es["read_in"] if "read_in" in es else pd.Series(pd.NA, index=es.index)
    secondary = (read_in == "secondary").fillna(False) | loc.map(lambda t: bool(_SECONDARY.search(t)))
    return es.assign(
        construct=[k[0] for k in keys],
        definition=[k[1] for k in keys],
        exposure_type=[exposure_type(t, c) for t, c in zip(es["comparison_type"], es["comparison"])],
        derived_by_us=text.map(lambda t: bool(_DERIVED.search(t))) | rebuilt.fillna(False).astype(bool),
        secondary_source=secondary.astype(bool),
        abstract_only=loc.map(lambda t: "abstract" in t and "table" not in t),
    )
