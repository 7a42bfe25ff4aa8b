"""The world at a glance: one indicator, or the number of studies of children left behind, for every country
with a value in one year and one edition; ranked, grouped by region (UN sub-regions, World Bank regions and
income groups), ready for :func:`leftbehind.plots.choropleth` and :func:`leftbehind.plots.ranking_bars` in the
``08_world`` notebook.

Modules: ``glance`` (parameters checked once, the ranked frame, distributions by group, Markdown tables) and
``corridors`` (the largest and fastest-growing migration corridors, and corridors between regions).

Examples
--------
>>> from leftbehind import world
>>> world.glance("studies").unit
'studies'
"""

from __future__ import annotations

from . import corridors as corridors  # the submodule, as leftbehind.world.corridors
from .glance import (
    GROUPINGS,
    STUDIES,
    Glance,
    by_group,
    glance,
    group_caption,
    group_table,
    overlap_note,
    ranking_markdown,
    ranking_table,
    sources_markdown,
    summary_markdown,
    world_editions,
    world_indicators,
    zeros_note,
)

__all__ = [
    "STUDIES",
    "Glance",
    "glance",
    "by_group",
    "GROUPINGS",
    "group_caption",
    "ranking_markdown",
    "ranking_table",
    "group_table",
    "summary_markdown",
    "sources_markdown",
    "world_indicators",
    "world_editions",
    "overlap_note",
    "zeros_note",
]
