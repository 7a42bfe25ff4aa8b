"""Explore without editing code: interactive apps for JupyterLab and Voila, built on the package's functions.

``country()`` (a country's profile), ``indicator()`` (countries ranked by an indicator in a year),
``corridors()`` (where a country's people live, or where its immigrants come from),
``evidence()`` (the evidence base filtered, mapped and listed) and ``meta_analysis()`` (a pooled estimate
with its forest plot) each return a widget: show it as the last expression of a notebook cell.

Modules: ``views`` (what each app shows, as plain sections: tested without a browser) and ``apps`` (the
widgets that lay the views out and redraw them when a control changes).

Examples
--------
>>> from leftbehind import explore
>>> app = explore.country("NPL")
>>> app.heading_text()
'Nepal'
"""

from __future__ import annotations

from .apps import Explorer, corridors, country, evidence, indicator, meta_analysis

__all__ = ["Explorer", "country", "indicator", "corridors", "evidence", "meta_analysis"]
