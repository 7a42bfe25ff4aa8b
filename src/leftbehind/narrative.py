"""Sentences generated from figures, so that a notebook's text never carries a typed number.

The stable import path of :mod:`leftbehind.country.sentences`, where the code lives. A notebook that puts a
string from the data or from a parameter into its own Markdown escapes it with :func:`escape_markdown` (and
links an address with :func:`markdown_link`), as every function here does, so that no markup in the data
reaches a report as live HTML.

Examples
--------
>>> fmt_value(4.9, "percent")
'4.9 %'
>>> escape_markdown("<script>alert(1)</script>")
'&lt;script&gt;alert(1)&lt;/script&gt;'
"""

from __future__ import annotations

from .country import sentences
from .country.sentences import *  # noqa: F403  (this module is sentences' stable import path: the same names)

__all__ = list(sentences.__all__)
