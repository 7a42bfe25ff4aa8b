"""The explorers as ipywidgets apps: controls on top, the view of :mod:`leftbehind.explore.views` below,
redrawn in place whenever a control changes.

Each app is an :class:`Explorer` (an ``ipywidgets.VBox``): show it as the last expression of a cell in
JupyterLab or Voila. From code, ``app.set(country="NPL")`` changes controls with the same checks a person's
choice gets; a value that is not valid (not one of the choices, not a whole number in the control's range, not
True or False) is explained in the app's message line, never raised as a traceback, and so is a value given
when the app is made (``meta_analysis("bogus")``): the app opens with its defaults and says why.

Examples
--------
>>> app = country("KGZ")
>>> app.heading_text()
'Kyrgyzstan'
"""

from __future__ import annotations

import html
import io
import numbers
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import mistune

from .. import data, literature, meta, plots
from ..errors import LeftbehindError, ParameterError, choice_error, is_number, years_listed
from . import views

__all__ = ["Explorer", "country", "indicator", "evidence", "meta_analysis"]


class _EscapingRenderer(mistune.HTMLRenderer):
    """Raw HTML escaped, so that a string from data can never become markup; but an entity the package wrote
    (:func:`leftbehind._markup.escape_markdown` writes "&" as ``&amp;``) is kept as one, as nbconvert keeps it in
    the reports: "Europe &amp; Central Asia" shows as "Europe & Central Asia", not with "&amp;" spelled out."""

    def text(self, text: str) -> str:
        return str(mistune.util.safe_entity(text))


# Markdown from the package is rendered with raw HTML escaped: a string from data can never become markup.
_markdown = mistune.create_markdown(renderer=_EscapingRenderer(escape=True), plugins=["table"])


def _markdown_html(text: str) -> str:
    return str(_markdown(text))


#: Pixels of a figure's PNG per CSS pixel shown: twice, so that a chart stays sharp on a high-density screen
#: (and when the browser zooms) rather than being scaled up from 100 dpi.
PIXEL_RATIO = 2


def _figure_png(figure: Any) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", bbox_inches="tight", dpi=100 * PIXEL_RATIO)
    return buf.getvalue()


def _png_width(png: bytes) -> int:
    """The width in pixels a PNG's header gives (bytes 16-20 of the IHDR chunk)."""
    return int.from_bytes(png[16:20], "big")


def render(section: views.Section) -> widgets.Widget:
    """The widget showing one section: HTML for Markdown and tables (the table a reader sees,
    :func:`leftbehind.plots.table`), a PNG image for a figure, drawn at :data:`PIXEL_RATIO` pixels per pixel shown."""
    if section.kind == "figure":
        png = _figure_png(section.content)
        return widgets.Image(
            value=png,
            format="png",
            width=str(_png_width(png) // PIXEL_RATIO),
            layout=widgets.Layout(max_width="100%", height="auto"),
        )
    if section.kind == "table":
        shown = section.shown if section.shown is not None else plots.table(section.content)
        return widgets.HTML(shown.to_html())
    return widgets.HTML(_markdown_html(section.content))


class Explorer(widgets.VBox):
    """Controls, a message line and the rendered view; redraws when a control's value changes.

    Parameters
    ----------
    title
        Shown above the controls.
    controls
        Name → widget; each name is a keyword argument of ``view``.
    view
        A function of :mod:`leftbehind.explore.views` returning the sections to show.
    requested
        Values asked for when the app was made (``meta_analysis("anxiety")``), set after the controls were built
        with valid defaults: a value that is not valid is explained in :attr:`message`, as by :meth:`set`.
    adjust
        Called with a control's name when a person changes it, before the view is drawn again: it may change
        the choices of other controls (an indicator's years), and the view is then drawn once, not once per
        control changed.
    """

    def __init__(
        self,
        title: str,
        controls: dict[str, widgets.ValueWidget],
        view: Callable[..., list[views.Section]],
        requested: dict[str, Any] | None = None,
        adjust: Callable[[str], None] | None = None,
    ):
        self.controls = controls
        self.view = view
        self.adjust = adjust
        self._holding = False
        self.sections: list[views.Section] = []
        self.message = widgets.HTML("")
        self.body = widgets.VBox([])
        header = widgets.HTML(f"<h3>{html.escape(title)}</h3>")
        super().__init__(
            [
                header,
                widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                self.message,
                self.body,
            ]
        )
        problems = []
        for name, value in (requested or {}).items():  # before the first drawing: the view is drawn once
            problem = _problem(name, value, controls)
            if problem is None:
                controls[name].value = value
                if adjust is not None:
                    adjust(name)  # e.g. the years of the indicator asked for, before its year is checked
            else:
                problems.append(problem)
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.refresh()
        if problems:
            self._say(" ".join(problems) + " (shown instead: the explorer's default)")

    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values: Any) -> None:
        """Set controls by name, as a person would; an invalid value is explained in :attr:`message`, and then no
        control changes (all the values are checked before any is set)."""
        for name, value in values.items():
            problem = _problem(name, value, self.controls)
            if problem is not None:
                self._say(problem)
                return
        if all(self.controls[name].value == value for name, value in values.items()):
            self.refresh()  # nothing changes: the view stays, and an earlier message goes
            return
        for name, value in values.items():
            self.controls[name].value = value

    def heading_text(self) -> str:
        """The text of the view's first heading (e.g. the country's name), for a quick check."""
        for s in self.sections:
            if s.kind == "markdown" and s.content.startswith("#"):
                return str(s.content.lstrip("#").strip())
        return ""

    def refresh(self) -> None:
        """Rebuild the view from the controls' values; a problem is shown in :attr:`message`."""
        try:
            sections = self.view(**self.values())
        except LeftbehindError as exc:
            self._say(self._in_words(str(exc)))
            return
        except Exception as exc:  # a fault of ours: said, never a stale view that looks like the one asked for
            self._say(
                f"something went wrong drawing this view ({type(exc).__name__}: {exc}); the view below is the "
                "last one drawn. Please report it with the choices above."
            )
            return
        try:
            self.body.children = [render(s) for s in sections]
        finally:
            views.close_figures(sections)
        self.sections = sections
        self.message.value = ""

    def _in_words(self, text: str) -> str:
        """A view's message with its controls' ids as the reader sees them: "from_year 2027 is after to_year
        2026" under the boxes labelled From and To reads "“From” 2027 is after “To” 2026"."""
        for name, control in self.controls.items():
            label = str(getattr(control, "description", "") or "")
            if "_" in name and label and not isinstance(control, widgets.Checkbox):
                text = re.sub(rf"\b{re.escape(name)}\b", f"“{label}”", text)
        return text

    def _say(self, text: str) -> None:
        self.message.value = f'<p style="color:#D55E00"><b>Not shown:</b> {html.escape(text)}</p>'

    def _changed(self, change: dict[str, Any]) -> None:
        if self._holding:  # a control set by adjust: the view is drawn once, after it
            return
        if self.adjust is not None:
            name = next(n for n, c in self.controls.items() if c is change["owner"])
            self._holding = True
            try:
                self.adjust(name)
            finally:
                self._holding = False
        self.refresh()


def _problem(name: str, value: Any, controls: dict[str, widgets.ValueWidget]) -> str | None:
    """Why ``value`` cannot be set on the control ``name`` (one sentence naming both and what would do), or
    ``None``: what a widget would refuse with a bare ``TraitError`` or quietly clamp into its bounds."""
    if name not in controls:
        return str(choice_error("control", name, list(controls), "a control of this explorer"))
    control = controls[name]
    options = _option_values(control)
    if options is not None:
        if isinstance(value, bool) or value not in options:
            years_offered = [o for o in options if isinstance(o, int) and not isinstance(o, bool)]
            hint = None
            # a slider of years: the nearest year with data, not a close spelling ("2030": did you mean "2003"?)
            if years_offered and len(years_offered) == len(options):
                if is_number(value):
                    hint = f"The nearest is {min(years_offered, key=lambda o: (abs(o - value), o))}."
                else:
                    hint = f"Give a whole number such as {years_offered[-1]}, not {type(value).__name__}."
            shown = [years_listed(years_offered)] if hint is not None else [str(o) for o in options]  # "1970–2024"
            return str(choice_error(name, value, shown, "one of the choices", hint=hint))
        return None
    if isinstance(control, widgets.Checkbox):
        return None if isinstance(value, bool) else f'{name} "{value}" is not True or False'
    if isinstance(control, (widgets.IntText, widgets.BoundedIntText, widgets.IntSlider)):
        low, high = getattr(control, "min", None), getattr(control, "max", None)
        bounded = low is not None and high is not None
        span = f" from {low} to {high}" if bounded else ""
        whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if not whole or (bounded and not low <= value <= high):
            return f'{name} "{value}" is not a whole number{span}'
        return None
    if isinstance(control, (widgets.Text, widgets.Combobox)):
        return None if isinstance(value, str) else f'{name} "{value}" is not text'
    return None


def _option_values(control: widgets.Widget) -> list[Any] | None:
    if isinstance(control, (widgets.Dropdown, widgets.SelectionSlider)):
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    return None


def _words(value: str) -> str:
    """An id as words for a dropdown: underscores as spaces ("mental_health" → "mental health")."""
    return value.replace("_", " ")


#: What each choice of the meta-analysis explorer means, for its dropdowns (the value stays the id).
MEASURE_WORDS: dict[str, str] = {
    "SMD": "standardised mean difference (SMD)",
    "OR": "odds ratio (OR)",
}
METHOD_WORDS: dict[str, str] = {
    "FE": "fixed effect (FE)",
    "DL": "DerSimonian–Laird (DL)",
    "PM": "Paule–Mandel (PM)",
    "REML": "restricted maximum likelihood (REML)",
}
CI_WORDS: dict[str, str] = {"normal": "normal (Wald)", "hksj": "Hartung–Knapp–Sidik–Jonkman (t)"}


def _labelled(values: Any, words: dict[str, str] | Callable[[str], str]) -> list[tuple[str, Any]]:
    """Dropdown options as (words, id) pairs: a person reads the words, the app keeps the id."""
    say = words if callable(words) else (lambda v: words.get(v, _words(str(v))))
    return [(say(v), v) for v in values]


def _dropdown(description: str, options: Any, value: Any) -> widgets.Dropdown:
    return widgets.Dropdown(
        description=description, options=options, value=value, style={"description_width": "initial"}
    )


def country(iso3: str = "LKA") -> Explorer:
    """Pick any country of the data package (type to search) and see its profile.

    Examples
    --------
    >>> app = country()
    >>> app.set(country="NPL")
    >>> app.heading_text()
    'Nepal'
    """
    names = data.geographies().set_index("code")["name"]
    options = [f"{names[c]} ({c})" for c in data.countries(with_figures=False)]
    selector = widgets.Combobox(
        description="Country",
        value=f"{names['LKA']} (LKA)",
        options=sorted(options),
        placeholder="type a name or an ISO3 code",
        ensure_option=False,
        continuous_update=False,  # redraw on Enter or when the box loses focus, not on every keystroke
        style={"description_width": "initial"},
    )
    shown = f"{names[iso3]} ({iso3})" if isinstance(iso3, str) and iso3 in names.index else iso3
    return Explorer("Country profile", {"country": selector}, _country_view, {"country": shown})


def _country_view(country: str) -> list[views.Section]:
    """The country view for a selector text: "Nepal (NPL)", a bare ISO3 code or a country's name, in any case."""
    match = re.search(r"\(([A-Za-z]{3})\)\s*$", country)
    return views.country_view(match.group(1).upper() if match else _typed_code(country))


def _typed_code(text: str) -> str:
    """The ISO3 code of what was typed in the country box: a code, or a country's name (case and accents as the
    data write them, or not); else a ParameterError suggesting names, not a list of codes."""
    import difflib
    import unicodedata

    typed = text.strip()
    geo = data.geographies()
    aggregates = geo[geo["kind"] != "country"].set_index("code")["name"]
    if typed.upper() in aggregates.index:  # in words a Voilà user can act on, not a Python function's name
        raise ParameterError(
            f'"{typed}" is {aggregates[typed.upper()]}, a group of countries; this explorer shows one country at a '
            "time: type a country's name or ISO3 code"
        )
    if re.fullmatch(r"[A-Za-z]{3}", typed):
        return typed.upper()

    def plain(name: str) -> str:
        letters = unicodedata.normalize("NFKD", name.casefold())
        return "".join(c for c in letters if not unicodedata.combining(c))

    geo = geo[geo["kind"] == "country"]
    by_name = {plain(str(n)): str(c) for n, c in zip(geo["name"], geo["code"])}
    if plain(typed) in by_name:
        return by_name[plain(typed)]
    close = difflib.get_close_matches(plain(typed), list(by_name), n=3, cutoff=0.6)
    names = geo.set_index("code")["name"]
    hint = " or ".join(f"{names[by_name[c]]} ({by_name[c]})" for c in close)
    shown = typed if len(typed) <= 60 else typed[:60] + "…"
    raise ParameterError(
        f'no country named "{shown}".'
        + (f" Did you mean {hint}?" if hint else "")
        + " Type a name as the list gives it, or an ISO3 code."
    )


def _broad(indicator: str, years: list[int]) -> int:
    """The year an indicator opens on: the newest year most countries have a value for (the maps' default,
    :func:`leftbehind.data.broad_year`), not the newest year with any value, which may hold a handful of
    early estimates."""
    if not years:
        return 2020
    try:
        broad = data.broad_year(indicator)
    except ParameterError:
        return years[-1]
    return broad if broad in years else years[-1]


def indicator(name: str = "remittances_received_pct_gdp", year: int | None = None) -> Explorer:
    """Pick an indicator and a year and see the countries ranked.

    Examples
    --------
    >>> app = indicator()
    >>> app.sections[0].label
    'summary'
    """
    default = "remittances_received_pct_gdp"
    years = views.indicator_years(default)
    chosen = _broad(default, years)
    # only indicators published for countries: the others (the ILO's world and regional series) rank nothing
    labels = [(data.indicator_label(i), i) for i in data.indicators() if data.ranking_years(i)]
    pick = _dropdown("Indicator", labels, default)
    slider = widgets.SelectionSlider(description="Year", options=years, value=chosen)
    editions = _dropdown("Edition", _edition_options(default), "latest")

    def adjust(name: str) -> None:  # the editions of the indicator, and the years of the edition, with values
        if name == "indicator":
            editions.options = _edition_options(pick.value)
            editions.value = "latest"
        if name in ("indicator", "edition"):
            new = views.indicator_years(pick.value, editions.value)
            year = slider.value
            slider.options = new
            slider.value = year if year in new and name == "edition" else _broad(pick.value, new)

    requested: dict[str, Any] = {"indicator": name} if year is None else {"indicator": name, "year": year}
    return Explorer(
        "Indicators by country",
        {"indicator": pick, "year": slider, "edition": editions},
        views.indicator_view,
        requested,
        adjust,
    )


def _edition_options(indicator: str) -> list[tuple[str, str]]:
    """The editions a ranking of ``indicator`` can be drawn from: the latest value of each country and year, or
    one edition that has values for countries (in words, newest release first)."""
    found = data.editions(indicator).sort_values("released", ascending=False, kind="stable")
    own = [
        (e.edition if str(e.released) in e.edition else f"{e.edition} ({e.released})", e.edition_id)
        for e in found.itertuples()
        if data.ranking_years(indicator, e.edition_id)
    ]
    return [("latest of each year", "latest"), *own]


def corridors(iso3: str = "NPL", direction: str = "emigrants") -> Explorer:
    """Pick a country, a direction (where its people live, or where its immigrants come from), a year and a sex,
    and see its largest corridors.

    Examples
    --------
    >>> app = corridors()
    >>> app.set(direction="immigrants")
    >>> app.sections[0].content.startswith("In 2024, UN DESA counts")
    True
    """
    names = data.geographies().set_index("code")["name"]
    options = [(f"{names[c]} ({c})", c) for c in data.countries(with_figures=True)]
    years = data.corridor_years()
    controls = {
        "country": _dropdown("Country", sorted(options), "NPL"),
        "direction": _dropdown("Show", [(label, key) for key, label in views.DIRECTIONS.items()], "emigrants"),
        "year": widgets.SelectionSlider(description="Year", options=years, value=years[-1]),
        "sex": _dropdown("Sex", [(words, sex) for sex, words in data.SEX_WORDS.items()], "total"),
    }
    return Explorer("Migration corridors", controls, views.corridors_view, {"country": iso3, "direction": direction})


def evidence() -> Explorer:
    """Filter the evidence base on children left behind and see the evidence map and the studies.

    Examples
    --------
    >>> app = evidence()
    >>> app.set(region="South Asia")
    >>> app.sections[0].content.startswith("**")
    True
    """
    studies = literature.studies()
    designs = sorted(studies["design"].dropna().unique())
    first, last = int(studies["year"].min()), int(studies["year"].max())
    controls = {
        "outcome_domain": _dropdown(
            "Outcome domain", _labelled(["all", *literature.domains()], literature.domain_name), "all"
        ),
        "region": _dropdown("Region", ["all", *literature.REGIONS], "all"),
        "migration_scope": _dropdown("Migration", _labelled(["all", *literature.SCOPES], _words), "all"),
        "design": _dropdown("Design", _labelled(["all", *designs], _words), "all"),
        "from_year": widgets.BoundedIntText(description="From", value=first, min=1900, max=2100),
        "to_year": widgets.BoundedIntText(description="To", value=last, min=1900, max=2100),
        "include_undated": widgets.Checkbox(description="include studies with no known year", value=True),
        "sort_by": _dropdown(
            "Sort by", _labelled(views.SORT_KEYS, lambda c: plots.tables.column_label(c).lower()), "year"
        ),
    }
    return Explorer("Evidence on children left behind", controls, views.evidence_view)


def meta_analysis(outcome: str = "depression") -> Explorer:
    """Pool the comparable studies of one outcome and see the forest plot and heterogeneity.

    Examples
    --------
    >>> app = meta_analysis()
    >>> app.set(method="DL")
    >>> "DL" in app.sections[-1].content
    True
    """
    vocabulary = literature.outcomes()
    controls = {
        "outcome": _dropdown("Outcome", list(zip(vocabulary["name"], vocabulary["outcome"])), "depression"),
        "measure": _dropdown("Scale", _labelled(literature.SCALES, MEASURE_WORDS), "OR"),  # as the 06 reports pool
        "method": _dropdown("τ² method", _labelled(meta.METHODS, METHOD_WORDS), "REML"),
        "ci": _dropdown("Interval", _labelled(meta.CI_METHODS, CI_WORDS), "normal"),
        "subgroup_by": _dropdown("Subgroups", _labelled(["none", *literature.SUBGROUP_COLUMNS], _words), "none"),
    }
    return Explorer("Meta-analysis", controls, views.meta_view, {"outcome": outcome})
