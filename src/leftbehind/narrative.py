"""Sentences generated from figures, so that a notebook's text never carries a typed number.

The stable import path of :mod:`leftbehind.country.sentences`, where the code lives.

Examples
--------
>>> fmt_value(4.9, "percent")
'4.9 %'
"""

from __future__ import annotations

from .country.sentences import edition_sentences, fmt_value, latest_sentence, pooled_sentence

__all__ = ["fmt_value", "edition_sentences", "latest_sentence", "pooled_sentence"]
