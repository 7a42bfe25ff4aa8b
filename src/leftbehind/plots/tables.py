"""Tables for readers: one way to show a table in reports, explorers and briefs (issue 27 item 1).

:func:`table` turns a DataFrame into a :class:`Table`; :func:`show_table` displays one in a notebook. Every table
a notebook or an explorer shows goes through them, so that every table reads the same way:

- no index column (a named index becomes a first column, an unnamed one is dropped);
- column labels in words: the caller's, else the title the data package's descriptor gives the field
  (:func:`leftbehind.data.field_label`), else the known label of a computed column (:data:`LABELS`);
- ids shown as words: outcomes and indicators by their names (``outcomes.csv``, ``indicators.csv``), countries
  by name, studies and reviews by author and year (:func:`leftbehind.literature.cite`), editions by their name;
- numbers right-aligned with thousands separators and a fixed number of decimals per column (years without a
  separator); text left-aligned and wrapped, never cut with "…";
- a missing value as "–", and, where the caller knows why it is missing, the reason in a note under the table;
- the source line under it.

The HTML is pandas' :class:`~pandas.io.formats.style.Styler` (part of pandas, a dependency already: no new
package, and no per-table stylesheet of several kilobytes as great_tables writes), with a table id derived from
the table's content, so that a report regenerated with nothing changed is byte-identical; the plain-text form
(what ``repr`` and the ``text/plain`` output of a notebook cell show, which nbval compares) is a fixed-width
table with no memory address in it.

Examples
--------
>>> import pandas as pd
>>> t = table(pd.DataFrame({"country": ["Nepal", "Tonga"], "value": [1234.56, None]}),
...           columns={"country": "Country", "value": "USD million"}, decimals={"value": 1},
...           reasons={"value": "no WDI value for that year"}, source="Source: World Bank")
>>> print(t)
Country  USD million
Nepal        1,234.6
Tonga              –
– USD million: no WDI value for that year.
Source: World Bank
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import data, literature
from .._io import DATA_MIME
from .._markup import escape_markdown, markdown_table, minus_sign

__all__ = [
    "LABELS",
    "DECIMALS",
    "FORMATS",
    "MISSING",
    "Table",
    "table",
    "show_table",
    "column_label",
    "words",
    "p_value",
]

#: How a missing value is shown.
MISSING = "–"

#: Labels of columns that are computed (not fields of the data package): results of the meta-analysis engine,
#: rankings, corridors. A field of the data package is labelled by its descriptor's ``title`` instead.
LABELS: dict[str, str] = {
    "estimate": "Estimate",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "pi_low": "Prediction interval, low",
    "pi_high": "Prediction interval, high",
    "se": "SE",
    "se_log": "SE (log scale)",
    "z_or_t": "z or t",
    "pval": "p",
    "Q_pval": "p (Q)",
    "k": "Studies (k)",
    "tau2": "τ²",
    "tau": "τ",
    "I2": "I² (%)",
    "i2": "I² (%)",
    "H2": "H²",
    "Q": "Q",
    "Q_df": "Q df",
    "df": "df",
    "omitted": "Study left out",
    "smd": "SMD",
    "rank": "Rank",
    "name": "Country",
    "persons": "Persons",
    "share": "Share (%)",
    "women_share": "Women (%)",
    "reason": "Why not pooled",
    "verdict": "Compared with ours",
    "exposure_type": "Exposure",
    "n_studies": "Studies",
    "n_children": "Children",
    "citation": "Study",
    "group": "Group",
    "review_id": "Review",
    "study_id": "Study",
    "effect_id": "Effect row",
    "harm": "Harm",
    "no_difference": "No difference",
    "benefit": "Benefit",
    "unclear": "Unclear",
    "coefficient": "Coefficient",
    "moderator": "Moderator",
    "term": "Term",
}

#: Decimals of computed columns (effects and their intervals 2, standard errors and τ² 3, I² 0, …), used where the
#: caller gives none.
DECIMALS: dict[str, int] = {
    "estimate": 2, "ci_low": 2, "ci_high": 2, "pi_low": 2, "pi_high": 2, "smd": 2, "coefficient": 2,
    "se": 3, "se_log": 3, "tau2": 3, "tau": 3, "z_or_t": 2, "Q": 2, "H2": 2, "I2": 0, "i2": 0,
}  # fmt: skip


def p_value(p: object) -> str:
    """A p-value in a table's p column: three decimals, or "< 0.001".

    Examples
    --------
    >>> p_value(0.0312), p_value(0.00002)
    ('0.031', '< 0.001')
    """
    value = float(p)  # type: ignore[arg-type]
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


#: How computed columns are written where the caller gives no format: p-values as "0.031" or "< 0.001".
FORMATS: dict[str, Callable[[Any], str]] = {"pval": p_value, "Q_pval": p_value, "p_value": p_value}

_YEARISH = ("year", "since")


def column_label(column: object) -> str:
    """The label a table gives ``column``: the known label of a computed column (:data:`LABELS`), else the title
    of the data package's field of that name, else the name with spaces for underscores.

    Examples
    --------
    >>> column_label("n_left_behind"), column_label("ci_low"), column_label("something_else")
    ('Left-behind children', 'CI low', 'Something else')
    """
    name = str(column)
    if name in LABELS:
        return LABELS[name]
    titled = data.field_label(name)
    if titled is not None:
        return titled
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


# --- words, not ids --------------------------------------------------------------------------------------


def _names(kind: str) -> dict[str, str]:
    if kind == "outcome":
        frame = literature.outcomes()
        return dict(zip(frame["outcome"], frame["name"]))
    if kind == "indicator":
        frame = data.load("indicators")
        return dict(zip(frame["indicator"], frame["name"]))
    if kind == "geography":
        frame = data.geographies()
        return dict(zip(frame["code"], frame["name"]))
    if kind == "edition":
        frame = data.all_editions()
        return dict(zip(frame["edition_id"], frame["edition"]))
    if kind == "construct":
        frame = data.load("constructs")
        return dict(zip(frame["construct"], frame["definition"]))
    raise KeyError(kind)


#: Columns whose values are ids of a vocabulary, shown by their words: column → vocabulary.
WORD_COLUMNS: dict[str, str] = {
    "outcome": "outcome",
    "indicator": "indicator",
    "geography": "geography",
    "iso3": "geography",
    "origin": "geography",
    "destination": "geography",
    "countries": "geography",
    "edition_id": "edition",
    "construct": "construct",
    "study_id": "study",
    "review_id": "study",
    "domain": "domain",
    "outcome_domains": "outcome",
    "direction": "domain",
    "exposure_type": "domain",
}


def words(column: str, values: pd.Series) -> pd.Series:
    """``values`` of ``column`` with ids replaced by words (see :data:`WORD_COLUMNS`): outcome and indicator
    names, country names (a ``;``-separated list of codes too), studies and reviews as author and year, edition
    names, construct definitions, domains without underscores. A value that is no id of the vocabulary is kept.

    Examples
    --------
    >>> words("outcome", pd.Series(["suicidal_ideation"])).tolist()
    ['Suicidal ideation and self-harm']
    >>> words("countries", pd.Series(["NPL;IND"])).tolist(), words("study_id", pd.Series(["wickramage2015"])).tolist()
    (['Nepal; India'], ['Wickramage et al. 2015'])
    """
    kind = WORD_COLUMNS.get(column)
    if kind is None:
        return values
    if kind == "study":
        known = set(data.load("studies")["study_id"])
        return values.map(lambda v: literature.cite(v) if isinstance(v, str) and v in known else v)
    if kind == "domain":
        return values.map(lambda v: literature.domain_name(v) if isinstance(v, str) else v)
    names = _names(kind)

    def one(value: object) -> object:
        if not isinstance(value, str):
            return value
        if ";" in value:
            return "; ".join(names.get(part.strip(), part.strip()) for part in value.split(";") if part.strip())
        return names.get(value, value)

    return values.map(one)


# --- the table -------------------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _number_formatter(decimals: int, separator: bool) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        number = float(value)
        if not math.isfinite(number):
            return MISSING if math.isnan(number) else ("∞" if number > 0 else "−∞")
        return minus_sign(f"{number:,.{decimals}f}" if separator else f"{number:.{decimals}f}")

    return fmt


def _text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return " ".join(str(value).split())  # one line: no line break or tab from the data reaches a cell


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _default_decimals(series: pd.Series) -> int:
    if pd.api.types.is_integer_dtype(series.dtype):
        return 0
    present = pd.to_numeric(series, errors="coerce").dropna()
    if len(present) and all(float(v).is_integer() for v in present):
        return 0
    return 2


@dataclass(frozen=True)
class Table:
    """A table for readers: its column labels, its cells as text, which columns are numbers, the notes and the
    source under it. Build one with :func:`table`; it shows itself in a notebook (``_repr_html_``) and as text
    (``repr``), and writes itself as HTML (:meth:`to_html`), Markdown (:meth:`to_markdown`) or a frame of its
    cells (:meth:`to_frame`)."""

    labels: tuple[str, ...]
    cells: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    notes: tuple[str, ...] = ()
    source: str = ""
    caption: str = ""
    key: str = field(default="", compare=False)
    #: What the table shows in a few words: its CSV's file name (default: the caption, else the first labels).
    name: str = field(default="", compare=False)
    #: What the table shows, as data (:func:`leftbehind.plots.datafiles.for_table`): published as its CSV.
    data: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.key:
            digest = hashlib.sha256(repr((self.labels, self.cells, self.notes, self.source, self.caption)).encode())
            object.__setattr__(self, "key", "lb" + digest.hexdigest()[:10])

    # --- forms --------------------------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """The cells as shown (text), under their labels.

        Examples
        --------
        >>> table(pd.DataFrame({"year": [2024], "persons": [1500000]})).to_frame().to_dict("records")
        [{'Year': '2024', 'Persons': '1,500,000'}]
        """
        return pd.DataFrame(list(self.cells), columns=list(self.labels), dtype="object")

    def to_html(self) -> str:
        """The table as HTML: pandas' Styler, no index, numbers right-aligned, text wrapped; notes and source
        under it. Every string is escaped; the table id is derived from the content (byte-identical when
        regenerated).

        Examples
        --------
        >>> t = table(pd.DataFrame({"name": ["A & <b>"], "value": [1.5]}))
        >>> "A &amp; &lt;b&gt;" in t.to_html(), t.to_html() == t.to_html()
        (True, True)
        """
        from pandas.io.formats.style import Styler

        shown = self.to_frame()
        shown.columns = pd.RangeIndex(len(self.labels))  # labels may repeat; written below, escaped
        styler = Styler(shown, uuid=self.key, cell_ids=False, escape="html")
        styler.hide(axis="index")
        styler.format_index(lambda i: self.labels[i], axis=1, escape="html")
        styles: list[dict[str, Any]] = [
            {"selector": "", "props": "border-collapse: collapse; margin: 0.4em 0 0.2em 0; font-size: 0.92em;"},
            {
                "selector": "th, td",
                "props": "padding: 0.25em 0.6em; vertical-align: top; border: none; line-height: 1.35;",
            },
            {"selector": "thead th", "props": "border-bottom: 1px solid #555; font-weight: bold;"},
            {"selector": "tbody tr:nth-child(even)", "props": "background: #f5f5f5;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold;"},
        ]
        for i, numeric in enumerate(self.numeric):
            if numeric:  # a number is never broken; its heading wraps only where the table needs the room
                styles.append(
                    {
                        "selector": f"td.col{i}",
                        "props": "text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums;",
                    }
                )
                styles.append({"selector": f"th.col{i}", "props": "text-align: right; white-space: normal;"})
            else:
                props = "text-align: left; white-space: normal; overflow-wrap: break-word; max-width: 32em;"
                styles.append({"selector": f"td.col{i}, th.col{i}", "props": props})
        styler.set_table_styles(styles)
        if self.caption:
            styler.set_caption(html.escape(self.caption))
        body = styler.to_html()
        small = 'style="font-size: 0.85em; color: #555555; margin: 0.1em 0; overflow-wrap: anywhere;"'
        under = "".join(f"<p {small}>{html.escape(n)}</p>\n" for n in (*self.notes, self.source) if n)
        return f'<div class="lb-table">\n{body}{under}</div>\n'

    def to_text(self) -> str:
        """The table as fixed-width text: numbers right-aligned, text left-aligned, nothing cut; notes and
        source on the lines under it."""
        widths = [max([len(label)] + [len(row[i]) for row in self.cells]) for i, label in enumerate(self.labels)]

        def line(values: Iterable[str]) -> str:
            parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, self.numeric)]
            return "  ".join(parts).rstrip()

        lines = [self.caption] if self.caption else []
        lines.append(line(self.labels))
        lines += [line(row) for row in self.cells]
        lines += [n for n in (*self.notes, self.source) if n]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The table in Markdown (a pipe table: labels and cells escaped, numbers right-aligned); notes and
        source as paragraphs under it.

        Examples
        --------
        >>> print(table(pd.DataFrame({"name": ["A | B"], "persons": [2500]})).to_markdown())
        | Country | Persons |
        |---|---:|
        | A \\| B | 2,500 |
        """

        lines = [f"**{escape_markdown(self.caption)}**", ""] if self.caption else []
        align = "".join("r" if num else "l" for num in self.numeric)
        lines.append(markdown_table(self.labels, self.cells, align))  # one escaping rule, table cells included
        under = [escape_markdown(n) for n in (*self.notes, self.source) if n]
        return "\n".join(lines + ([""] + under if under else []))

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, str], dict[str, Any]]:
        """HTML and text; in a report kernel also the CSV of :attr:`data`, linked under the table ("Data: CSV")
        and published by the runner beside the report (:mod:`leftbehind.plots.datafiles`)."""
        from .datafiles import LINK, in_report, next_file

        bundle = {"text/plain": self.to_text(), "text/html": self.to_html()}
        if self.data is None or not in_report():
            return bundle, {}
        file, link, csv = next_file(self.name or self.caption or " ".join(["table", *self.labels[:3]]), self.data)
        bundle["text/html"] += LINK.format(html.escape(link))
        return {**bundle, DATA_MIME: csv}, {DATA_MIME: {"file": file}}

    def __len__(self) -> int:
        return len(self.cells)


def table(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    decimals: Mapping[str, int] | int | None = None,
    source: str | Iterable[str] | None = None,
    missing: str = MISSING,
    reasons: Mapping[str, str] | None = None,
    notes: Iterable[str] = (),
    caption: str = "",
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    max_rows: int | None = None,
    ids: bool = False,
    right: Iterable[str] = (),
    data: pd.DataFrame | None = None,
    name: str = "",
) -> Table:
    """A :class:`Table` of ``frame`` for readers.

    Parameters
    ----------
    frame
        The rows to show. A named index becomes the first column; an unnamed one is dropped.
    columns
        Which columns to show, in order: a mapping column → label, or a list of columns (labelled by
        :func:`column_label`). Default: every column.
    decimals
        Decimals per numeric column (or one number for all); default 0 for whole numbers, else 2.
    source
        The source line under the table (a string, or source descriptions joined as "Source: a; b").
    missing
        How a missing value is shown ("–").
    reasons
        Column → why its values are missing where they are: a note "– <label>: <reason>." under the table when
        the column has a missing value.
    notes
        Further notes under the table.
    caption
        A title above the table.
    formats
        Column → function writing one value (for values such as p-values); a missing value is still ``missing``.
    max_rows
        Show at most this many rows, with a note saying how many there are.
    ids
        Keep ids as they are (default: outcomes, indicators, countries, studies, editions shown by their words).
    right
        Text columns to right-align as numbers are (a value written with its qualifier, "more than 350").
    data
        The data the table shows, as its CSV is to give it (default: ``frame``'s rows and the columns shown,
        unformatted, with the context columns it has; :func:`leftbehind.plots.datafiles.for_table`). Give it
        when ``frame`` holds values already scaled for reading, so that the CSV keeps the values and their unit.
    name
        What the table shows, in a few words, for its CSV's file name (default: the caption, else the first labels).

    Examples
    --------
    >>> t = table(pd.DataFrame({"outcome": ["depression"], "k": [4], "estimate": [1.234567]}),
    ...           decimals={"estimate": 2})
    >>> print(t)
    Outcome  Studies (k)  Estimate
    Depression             4      1.23
    """
    from .style import source_line

    if frame.index.names != [None]:
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True)
    if columns is None:
        chosen = {str(c): column_label(c) for c in frame.columns}
    elif isinstance(columns, Mapping):
        chosen = {str(c): str(label) for c, label in columns.items()}
    else:
        chosen = {str(c): column_label(c) for c in columns}
    unknown = [c for c in chosen if c not in frame.columns]
    if unknown:
        from ..errors import choice_error

        raise choice_error("columns", unknown[0], [str(c) for c in frame.columns], "a column of the frame")
    total = len(frame)
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
        from ..errors import ParameterError

        raise ParameterError(f"max_rows must be a whole number of at least 1 (or None: every row), got {max_rows!r}")
    if max_rows is not None and total > max_rows:
        frame = frame.head(max_rows)
    per = {**DECIMALS, **(decimals if isinstance(decimals, Mapping) else {})}
    own = {**{c: f for c, f in FORMATS.items() if c in chosen}, **(formats or {})}
    aligned = set(right)
    labels, numeric, texts, note_lines = [], [], [], []
    for column, label in chosen.items():
        values = frame[column]
        is_number = _numeric(values) and column not in own
        if not ids and not is_number:
            values = words(column, values)
        if column in own:
            write = own[column]
        elif is_number:
            fallback = decimals if isinstance(decimals, int) else _default_decimals(values)
            places = int(per[column]) if column in per and not isinstance(decimals, int) else int(fallback)
            write = _number_formatter(places, separator=not any(y in column.lower() for y in _YEARISH))
        else:
            write = _text
        texts.append([missing if _is_missing(v) else _text(write(v)) for v in values])
        labels.append(label)
        numeric.append(is_number or column in aligned or (column in own and _numeric(frame[column])))
        if reasons and column in reasons and any(_is_missing(v) for v in values):
            note_lines.append(f"{missing} {label}: {reasons[column]}.")
    if max_rows is not None and total > max_rows:
        note_lines.append(f"The first {max_rows:,} of {total:,} rows are shown.")
    line = source if isinstance(source, str) or source is None else source_line(source)
    rows = tuple(tuple(col[i] for col in texts) for i in range(len(frame)))
    from .datafiles import for_table

    return Table(
        labels=tuple(labels),
        cells=rows,
        numeric=tuple(numeric),
        notes=tuple(note_lines) + tuple(n for n in notes if n),
        source=line or "",
        caption=caption,
        name=name,
        data=for_table(frame, list(chosen), line or "", max_rows)
        if data is None
        else for_table(data, None, line or ""),
    )


def show_table(frame: pd.DataFrame, **options: Any) -> None:
    """Display :func:`table` ``(frame, **options)`` in a notebook (HTML, with its text form as ``text/plain``);
    in a report, the data it shows comes with it as a CSV (:meth:`Table._repr_mimebundle_`).

    Examples
    --------
    >>> show_table(pd.DataFrame({"year": [2024], "value": [1.5]}), columns={"year": "Year", "value": "%"})
    Year    %
    2024  1.50
    """
    from IPython.display import display

    display(table(frame, **options))
