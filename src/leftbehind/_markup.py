"""Safe Markdown from strings that come from data or parameters: the one place where they are escaped.

A data file takes contributions and a plan takes parameters, so either may hold ``<script>``, an
``<img onerror=…>`` or a ``javascript:`` link. Jupyter and nbconvert render a Markdown output's raw HTML as
live HTML, and link whatever a Markdown link points at. So every string that is not the package's own
Markdown goes through :func:`escape_markdown` before it is put into Markdown, and every address through
:func:`markdown_link`, which links only ``http(s)`` URLs and DOIs. The same rule holds in a table cell: a ``|``
is escaped too, so a name such as ``"Kyrgyzstan | 1.23 | "`` stays one cell instead of adding cells to its
row; every Markdown table is built by :func:`markdown_table`, which escapes each cell. Plain-text functions
(``cite``, chart labels, printed tables) are not escaped: they never reach a Markdown renderer.

:func:`find_markup` and :func:`web_address` are what ``python -m leftbehind data validate`` rejects with
(the second line of defence; escaping at render time is the first).

Imports nothing of leftbehind's: a leaf at the level of :mod:`leftbehind._io`.

Examples
--------
>>> escape_markdown('<img src=x onerror=alert(1)>')
'&lt;img src=x onerror=alert(1)&gt;'
>>> markdown_link("javascript:alert(6)"), markdown_link("10.1016/j.socscimed.2014.08.040")
('javascript:alert(6)', '<https://doi.org/10.1016/j.socscimed.2014.08.040>')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

__all__ = [
    "counted",
    "doi_url",
    "end_sentence",
    "escape_markdown",
    "find_markup",
    "markdown_link",
    "markdown_table",
    "minus_sign",
    "web_address",
]

# HTML's three (entities, tags), the characters that open Markdown syntax whose content is not
# escaped again (links and images, code spans, math) or that would undo an escape (the backslash), and the
# pipe, which ends a table cell (GitHub-flavoured Markdown, and nbconvert's and mistune's table plugin, read
# "\|" as a pipe inside the cell; outside a table it is the pipe itself).
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\\": "\\\\",
    "`": "\\`",
    "[": "\\[",
    "]": "\\]",
    "$": "\\$",
    "|": "\\|",
}
_SPECIAL = re.compile(r"[&<>\\`\[\]$|]")
_LINE_BREAK = re.compile(r"\s*[\r\n\v\f\x85\u2028\u2029]\s*")

# An absolute http(s) URL with a host and nothing an autolink or an HTML attribute could end on.
_WEB_URL = re.compile(r"https?://[^\s/<>\"'`\\\x00-\x1f\x7f]+(?:[/?#][^\s<>\"'`\\\x00-\x1f\x7f]*)?", re.IGNORECASE)
_DOI = re.compile(r"(?:doi:\s*)?(10\.\d{4,9}/\S+)", re.IGNORECASE)
_DOI_SAFE = "/:;(),.-_~!*+=@"

_MARKUP = (
    ("an HTML tag", re.compile(r"<\s*/?\s*[a-z!?]", re.IGNORECASE)),
    ("an event-handler attribute", re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE)),
    ("a script URL", re.compile(r"\b(?:java|vb)\s*script\s*:", re.IGNORECASE)),
    ("a data: URL", re.compile(r"\bdata:(?:[\w.+-]+/[\w.+-]+)?[;,]", re.IGNORECASE)),
    ("an HTML character reference", re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.IGNORECASE)),
    ("a Markdown link", re.compile(r"\]\(")),
)


def escape_markdown(value: object) -> str:
    """``value`` as Markdown text that renders as exactly these characters and never as HTML or a link.

    Escapes ``&``, ``<`` and ``>`` as HTML entities, and the backslash, the backtick, ``[``, ``]``, ``$`` and
    ``|`` with a backslash (no link, image, code span or math can start in the text, and no table cell can
    end in it); line breaks become a space, so that the text stays inside the list item, sentence or table row
    it is put in. Everything else is kept: the reader sees the same text as before ("Migration & health"
    renders as "Migration & health"). One rule for every context: a sentence, a list item, a table cell.

    Examples
    --------
    >>> escape_markdown("Migration & health <5 years")
    'Migration &amp; health &lt;5 years'
    >>> escape_markdown("[x](javascript:alert(1))")
    '\\\\[x\\\\](javascript:alert(1))'
    >>> escape_markdown("a\\n\\n<script>b")
    'a &lt;script&gt;b'
    >>> escape_markdown("Kyrgyzstan | 1.23 | ")
    'Kyrgyzstan \\\\| 1.23 \\\\| '
    """
    text = _LINE_BREAK.sub(" ", "" if value is None else str(value))
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], text)


def end_sentence(text: str) -> str:
    """``text`` with one full stop at its end, also where it ends with a name that ends with one (the World
    Bank's "Micronesia, Fed. Sts."): a sentence never ends in "..".

    Examples
    --------
    >>> end_sentence("No study of children left behind in Nepal"), end_sentence("… in Micronesia, Fed. Sts.")
    ('No study of children left behind in Nepal.', '… in Micronesia, Fed. Sts.')
    """
    return text if text.endswith(".") else text + "."


def counted(n: int, noun: str, plural: str | None = None, bold: bool = False) -> str:
    """A count and its noun, singular for one: ``"1 study"``, ``"14 studies"``; the number in bold for an
    explorer's summary line.

    Examples
    --------
    >>> counted(1, "study", "studies"), counted(14, "study", "studies"), counted(1, "country", "countries", bold=True)
    ('1 study', '14 studies', '**1** country')
    >>> counted(0, "corridor"), counted(2, "study"), counted(3, "brief")  # a plural by rule where none is given
    ('0 corridors', '2 studies', '3 briefs')
    """
    import numpy as np

    from .errors import ParameterError

    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(f"counted: n must be a whole number of at least 0, got {n!r} ({type(n).__name__})")
    number = f"**{n:,}**" if bold else f"{n:,}"
    return f"{number} {noun if n == 1 else (plural or _plural(noun))}"


def _plural(noun: str) -> str:
    """The regular English plural of ``noun`` ("study" → "studies", "box" → "boxes", "country" → "countries");
    an irregular one ("child") is given by the caller."""
    if len(noun) > 1 and noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def minus_sign(number: str) -> str:
    """A number as formatted (``f"{x:.2f}"``) as typeset: a minus sign for the hyphen, and no negative zero
    ("-0.00" is "0.00").

    Examples
    --------
    >>> minus_sign("-0.12"), minus_sign("-0.00"), minus_sign("-1,234"), minus_sign("0.50")
    ('−0.12', '0.00', '−1,234', '0.50')
    """
    if number.startswith("-") and not any(c in "123456789" for c in number):
        number = number[1:]
    return number.replace("-", "−")


def doi_url(value: object) -> str | None:
    """The ``https://doi.org/`` address of a DOI (``10.xxxx/…``, optionally written ``doi:10.xxxx/…``), or
    ``None`` when ``value`` is not a DOI. Characters a URL cannot hold are percent-encoded.

    Examples
    --------
    >>> doi_url("10.1016/S0140-6736(12)60398-3")
    'https://doi.org/10.1016/S0140-6736(12)60398-3'
    >>> doi_url("doi:10.1002/(SICI)1097<12::AID>3.0.CO;2-N"), doi_url("javascript:alert(1)")
    ('https://doi.org/10.1002/(SICI)1097%3C12::AID%3E3.0.CO;2-N', None)
    """
    m = _DOI.fullmatch(str(value).strip())
    return None if m is None else "https://doi.org/" + quote(m.group(1), safe=_DOI_SAFE)


def web_address(value: object) -> str | None:
    """The address to link for ``value``: itself when it is an absolute ``http(s)://`` URL without spaces,
    quotes or angle brackets, the doi.org address when it is a DOI, else ``None`` (``javascript:``,
    ``data:``, relative paths, anything else).

    Examples
    --------
    >>> web_address("https://www.iom.int/a?b=1&c=2"), web_address("10.1186/1471-2458-11-62")
    ('https://www.iom.int/a?b=1&c=2', 'https://doi.org/10.1186/1471-2458-11-62')
    >>> web_address("javascript:alert(6)"), web_address("https://x.org/a b"), web_address("github:a/b")
    (None, None, None)
    """
    text = str(value).strip()
    if _WEB_URL.fullmatch(text):
        return text
    return doi_url(text)


def markdown_link(value: object) -> str:
    """A Markdown autolink (``<https://…>``) for an ``http(s)`` URL or a DOI; for anything else, ``value`` as
    escaped text that is not a link (see :func:`escape_markdown`).

    Examples
    --------
    >>> markdown_link("https://www.iom.int/labour-migration")
    '<https://www.iom.int/labour-migration>'
    >>> markdown_link("javascript:alert(6)"), markdown_link("github:owner/repo/a.csv@1a2b")
    ('javascript:alert(6)', 'github:owner/repo/a.csv@1a2b')
    >>> markdown_link('<javascript:alert(1)>')
    '&lt;javascript:alert(1)&gt;'
    """
    address = web_address(value)
    return f"<{address}>" if address is not None else escape_markdown(value)


def markdown_table(header: Sequence[object], rows: Iterable[Sequence[object]], align: str) -> str:
    """A Markdown table (GitHub-flavoured) whose every cell, header included, is :func:`escape_markdown`'s
    text: a cell is what it holds, whatever a data string in it contains.

    ``align`` gives each column's alignment, one letter a column: ``l`` (left) or ``r`` (right, for numbers).
    Numbers are formatted by the caller (a string such as ``"1,234"`` comes out as it went in).

    Raises
    ------
    ValueError
        When a row, or ``align``, does not have one entry per column of ``header``.

    Examples
    --------
    >>> print(markdown_table(["rank", "country", "percent"], [[1, "Kyrgyzstan | 1.23 | ", "2.50"]], "rlr"))
    | rank | country | percent |
    |---:|---|---:|
    | 1 | Kyrgyzstan \\| 1.23 \\| | 2.50 |
    """
    width = len(header)
    if len(align) != width or set(align) - {"l", "r"}:
        raise ValueError(f'align "{align}": one letter, l or r, for each of the {width} columns')
    lines = ["| " + " | ".join(escape_markdown(c) for c in header) + " |"]
    lines.append("|" + "".join("---:|" if a == "r" else "---|" for a in align))
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"row {number} has {len(row)} cells, the header {width}")
        lines.append("| " + " | ".join(escape_markdown(c).strip() for c in row) + " |")
    return "\n".join(lines)


def find_markup(text: str) -> str | None:
    """What makes ``text`` markup rather than plain text, e.g. ``'an HTML tag ("<img")'``, or ``None``.

    Markup is an HTML tag, comment or closing tag (``<`` followed by a letter, ``/``, ``!`` or ``?``), an
    event-handler attribute (``onerror=``), a ``javascript:``/``vbscript:`` or ``data:`` URL, an HTML
    character reference (``&amp;``, ``&#60;``) or a Markdown link (``](``). A lone ``<`` or ``>`` before a
    digit or a space ("<5 years", "p < 0.05") is plain text.

    Examples
    --------
    >>> find_markup("children <5 years, p < 0.05, a > b"), find_markup("Parental migration & health")
    (None, None)
    >>> find_markup("<img src=x onerror=alert(1)>")
    'an HTML tag ("<i")'
    >>> find_markup("see javascript:alert(6)"), find_markup("Social Science &amp; Medicine")
    ('a script URL ("javascript:")', 'an HTML character reference ("&amp;")')
    """
    for what, pattern in _MARKUP:
        m = pattern.search(text)
        if m:
            return f'{what} ("{m.group(0)}")'
    return None
