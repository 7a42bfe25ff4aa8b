"""The valid values of notebook parameters, by parameter name, and the rules across parameters: each domain
points at the declaration its owner keeps (``meta.METHODS``, ``literature.SCOPES``, the data package's
countries and editions, ...), so no list of choices is typed twice. Used by :func:`leftbehind.reports.check`.

Examples
--------
>>> "REML" in DOMAINS["method"]()
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["DOMAINS", "NOTEBOOK_DOMAINS", "RULES"]


def _seed_topics() -> tuple[str, ...]:
    from .. import data

    return ("all",) + data.SEED_TOPICS


def _ilo_editions() -> tuple[str, ...]:
    from .. import data

    return ("all", "latest") + tuple(data.editions("migrant_workers")["edition_id"])


def _breakdowns() -> tuple[str, ...]:
    from .. import data

    return tuple(data.BREAKDOWNS)


def _countries() -> list[str]:
    from .. import data

    return data.countries(with_figures=False)


def _measures() -> tuple[str, ...]:
    from .. import data

    return tuple(data.REMITTANCE_MEASURES)


#: Allowed values of notebook parameters, by parameter name, whatever the notebook. Each value is a
#: function returning the valid choices (read from the data package where that is their source). For a
#: list-valued parameter (e.g. ``countries``) every element is checked.
def _outcome_domains() -> list[str]:
    from .. import literature

    return ["all"] + literature.domains()


def _regions() -> list[str]:
    from .. import literature

    return ["all"] + list(literature.REGIONS)


def _outcomes() -> list[str]:
    from .. import literature

    return literature.outcomes()["outcome"].tolist()


def _subgroup_columns() -> tuple[str, ...]:
    from .. import literature

    return ("none",) + literature.SUBGROUP_COLUMNS


def _moderators() -> tuple[str, ...]:
    from .. import literature

    return literature.MODERATORS


def _scopes() -> tuple[str, ...]:
    from .. import literature

    return ("all",) + literature.SCOPES


def _pooling_methods() -> tuple[str, ...]:
    from .. import meta

    return meta.METHODS


def _ci_methods() -> tuple[str, ...]:
    from .. import meta

    return meta.CI_METHODS


DOMAINS: dict[str, Callable[[], Iterable[Any]]] = {
    "outcome": _outcomes,
    "method": _pooling_methods,
    "ci": _ci_methods,
    "subgroup_by": _subgroup_columns,
    "moderator": _moderators,
    "outcome_domain": _outcome_domains,
    "region": _regions,
    "migration_scope": _scopes,
    "topic": _seed_topics,
    "breakdown": _breakdowns,
    "edition": _ilo_editions,
    "country": _countries,
    "countries": _countries,
    "measure": _measures,
}


def _scales() -> tuple[str, ...]:
    from .. import literature

    return literature.SCALES


def _world_indicators() -> list[str]:
    from .. import world

    return world.world_indicators()


def _world_editions() -> list[str]:
    from .. import world

    return world.world_editions()


#: Domains that differ for one notebook (by file stem); they take precedence over :data:`DOMAINS`.
NOTEBOOK_DOMAINS: dict[str, dict[str, Callable[[], Iterable[Any]]]] = {
    "06_meta_analysis": {"measure": _scales},
    "08_world": {"indicator": _world_indicators, "edition": _world_editions},
}

#: Rules across parameters: (description, check on the merged parameters) — merged means the notebook's
#: defaults updated with the plan entry's values.
RULES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    (
        "start_year must not be after end_year",
        lambda p: not ("start_year" in p and "end_year" in p) or p["start_year"] <= p["end_year"],
    ),
    (
        "from_year must not be after to_year",
        lambda p: not ("from_year" in p and "to_year" in p) or p["from_year"] <= p["to_year"],
    ),
]
