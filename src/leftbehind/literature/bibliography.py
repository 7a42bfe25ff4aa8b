"""Citations and the bibliography of the evidence base: short and full citations, BibTeX, the generated
``references.bib`` and Markdown reference lists. Public names are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> from leftbehind.literature.bibliography import cite
>>> cite("wickramage2015")
'Wickramage et al. 2015'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .. import data
from .._io import write_atomic
from .._markup import escape_markdown, markdown_link
from ..errors import ParameterError, choice_error


def _surname(authors: str) -> str:
    """The first author's surname: authors are separated by commas, institutions by semicolons ("OECD; …")."""
    first = re.split(r"[,;]", str(authors))[0].strip()
    return first.split(" ")[0] if first else ""


#: Words a short title does not end on ("Research on children's depression and" reads as a cut title).
_TRAILING = frozenset("a an and at between by for from in into of on or the to vs with among".split())  # noqa: SIM905


def _short_title(title: object, words: int = 5) -> str:
    """The first ``words`` words of a verified title, in quotes, as a short title is cited (no ellipsis: a short
    title is not a cut one), never ending on a word such as "and" or "of"; "" for a missing or unread title.

    Examples
    --------
    >>> _short_title("Research on children's depression and the influence of left-behind status")
    "“Research on children's depression”"
    """
    if pd.isna(title) or str(title).startswith("[title not"):
        return ""
    parts = str(title).replace("[", "").replace("]", "").split()[:words]
    while len(parts) > 1 and parts[-1].lower().rstrip(",:;.") in _TRAILING:
        parts.pop()
    return "“" + " ".join(parts).rstrip(",:;.") + "”"


def cite(study_id: str, style: str = "short") -> str:
    """Citation of a study or review, as plain text: ``"short"`` (Author et al. Year) or ``"full"``
    (authors, year, title, journal, DOI or URL). For Markdown, use :func:`bibliography_markdown` (it escapes
    the data's strings).

    Where the authors could not be verified, the short form names the study by the first words of its
    title, else by its journal or publisher, else by its design ("Untitled cross-sectional study"), never by its
    ``study_id``; a missing year shows as "n.d.".

    Examples
    --------
    >>> cite("wickramage2015")
    'Wickramage et al. 2015'
    >>> cite("davis2016")  # authors not verified: named by its title
    '“Migration, remittances and nutrition outcomes” 2016'
    >>> cite("anhui_cesdc2008")  # nothing but the abstract was read
    'Untitled cross-sectional study n.d.'
    """
    r, year, authors = _study(study_id)
    if style == "short":
        journal = "" if pd.isna(r["journal"]) else str(r["journal"])
        design = "" if pd.isna(r["design"]) else f"{r['design']} ".replace("_", " ")
        name = _surname(authors) or _short_title(r["title"]) or journal or f"Untitled {design}study"
        many = bool(re.search(r"[,;]", authors)) or "et al" in authors
        return f"{name}{' et al.' if many else ''} {year}"
    if style != "full":
        raise ParameterError(f'style "{style}" is not valid. Valid: short, full')
    return _full_citation(r, year, authors, markdown=False)


def _study(study_id: str) -> tuple[pd.Series, str, str]:
    """A study's row, its year ("n.d." when missing) and its authors ("" when not verified)."""
    df = data.load("studies").set_index("study_id")
    if study_id not in df.index:
        raise choice_error("study_id", study_id, sorted(df.index), "valid")
    r = df.loc[study_id]
    year = "n.d." if pd.isna(r["year"]) else str(int(r["year"]))
    return r, year, "" if pd.isna(r["authors"]) else str(r["authors"])


def _full_citation(r: pd.Series, year: str, authors: str, markdown: bool) -> str:
    """Authors (year). Title. *Journal*. Address — as plain text, or as Markdown with every data string
    escaped and the address linked only when it is a DOI or an http(s) URL. A field that was not read in a source
    is left out, and the citation ends by naming what is missing ("Record incomplete: …"), never with a
    placeholder standing in for the field."""
    from .studies import record_gaps

    text = escape_markdown if markdown else str
    if not pd.isna(r["doi"]):
        link = markdown_link(r["doi"]) if markdown else f"https://doi.org/{r['doi']}"
    elif not pd.isna(r["url"]):
        link = markdown_link(r["url"]) if markdown else str(r["url"])
    else:
        link = ""
    gaps = record_gaps(r.to_frame().T.assign(study_id=[r.name]))[r.name]
    title = "" if pd.isna(r["title"]) or "title" in gaps else _ended(text(r["title"]))  # "… Asia?", not "?."
    lead = (text(authors), f"({year})" if year != "n.d." else "", title)
    if not authors:  # no author read: the title leads (as bibliographies cite an anonymous work), never the id
        lead = (title or "Untitled study.", f"({year})" if year != "n.d." else "", "")
    parts = [
        p
        for p in (
            *lead,
            "" if pd.isna(r["journal"]) else _ended(f"*{text(r['journal'])}*" if markdown else str(r["journal"])),
            link,
            f"Record incomplete: {gaps} not read in a source; left out of pooled analyses." if gaps else "",
        )
        if p
    ]
    return " ".join(parts)


def _ended(text: str) -> str:
    """``text`` ending with one mark: a full stop added unless it ends with one, a question or an exclamation
    mark (inside Markdown's closing ``*`` too).

    Examples
    --------
    >>> _ended("Does it?"), _ended("*J. Affect. Disord.*"), _ended("*BMC Psychiatry*"), _ended("Title")
    ('Does it?', '*J. Affect. Disord.*', '*BMC Psychiatry*.', 'Title.')
    """
    return text if text.rstrip("*").endswith((".", "?", "!")) else text + "."


def _bib_escape(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def bibtex(study_ids: Iterable[str] | None = None) -> str:
    """BibTeX entries for studies (all when ``study_ids`` is None), sorted by key.

    Examples
    --------
    >>> print(bibtex(["wickramage2015"]).splitlines()[0])
    @article{wickramage2015,
    """
    df = data.load("studies").sort_values("study_id")
    if study_ids is not None:
        from .studies import _check_study_ids  # here: studies imports this module

        df = df[df["study_id"].isin(_check_study_ids(study_ids))]
    entries = []
    for r in df.itertuples():
        fields = []
        if not pd.isna(r.authors):
            names = [a.strip() for a in str(r.authors).replace("et al.", "").split(",") if a.strip()]
            more = " and others" if "et al" in str(r.authors) else ""
            fields.append(("author", " and ".join(names) + more))
        fields.append(("title", "Title not read in a source" if pd.isna(r.title) else str(r.title)))
        if not pd.isna(r.journal):
            fields.append(("journal", str(r.journal)))
        if not pd.isna(r.year):
            fields.append(("year", str(int(r.year))))
        if not pd.isna(r.doi):
            fields.append(("doi", str(r.doi)))
        if not pd.isna(r.url):
            fields.append(("url", str(r.url)))
        body = ",\n".join(f"  {k} = {{{_bib_escape(v) if k not in ('url', 'doi') else v}}}" for k, v in fields)
        kind = "misc" if pd.isna(r.journal) else "article"
        entries.append(f"@{kind}{{{r.study_id},\n{body}\n}}\n")
    return "\n".join(entries)


def build_bibliography(path: Path | None = None) -> Path:
    """Write ``data/literature/references.bib`` from the ``studies`` resource (generated, never edited).

    Examples
    --------
    >>> build_bibliography().name
    'references.bib'
    """
    path = path or data.data_dir() / "literature" / "references.bib"
    header = "% Generated from data/literature/studies.csv by `python -m leftbehind literature bib`; do not edit.\n\n"
    write_atomic(path, header + bibtex())
    return path


def bibliography_markdown(study_ids: Iterable[str]) -> str:
    """A Markdown list of full citations, sorted by study id: the data's strings escaped, and only a DOI or
    an http(s) URL linked, so that no markup in the evidence base reaches a report as live HTML.

    Examples
    --------
    >>> bibliography_markdown(["wickramage2015"]).startswith("1. Wickramage K")
    True
    """
    from .studies import _check_study_ids  # here: studies imports this module

    ids = _check_study_ids(study_ids)
    return "\n".join(
        f"{i}. {_full_citation(*_study(s), markdown=True)}" for i, s in enumerate(sorted(set(ids)), start=1)
    )
