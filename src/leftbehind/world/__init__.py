"""The world at a glance: one indicator, or the number of studies of children left behind, for every country
with a value; ranked, grouped by region (and income group once the World Bank classification is in the data
package), ready for :func:`leftbehind.plots.choropleth` and :func:`leftbehind.plots.ranking_bars` in the
``08_world`` notebook.

Modules: ``glance`` (parameters checked once, the ranked frame, distributions by group, Markdown tables).

Examples
--------
>>> from leftbehind import world
>>> world.glance("studies").unit
'studies'
"""

from __future__ import annotations

from .glance import (
    STUDIES,
    Glance,
    by_group,
    glance,
    ranking_markdown,
    sources_markdown,
    summary_markdown,
    world_editions,
    world_indicators,
)

__all__ = [
    "STUDIES",
    "Glance",
    "glance",
    "by_group",
    "ranking_markdown",
    "summary_markdown",
    "sources_markdown",
    "world_indicators",
    "world_editions",
]
