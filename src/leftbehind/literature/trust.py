""" "How far to trust this": one plain sentence per item, generated from the numbers of a pooled analysis
(issue 15 item 5). Public names are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> from leftbehind import literature, meta
>>> s = literature.analysis_set("depression")
>>> fit = meta.pool(s["yi"], s["vi"], labels=s["label"], measure="SMD")
>>> print(trust_panel(fit, s, "depression").splitlines()[0])  # doctest: +ELLIPSIS
- **Size.** ... studies, ... children in the compared groups (sample sizes recorded for ... of ... studies).
"""

from __future__ import annotations

import math

import pandas as pd

from .._markup import escape_markdown
from ..errors import ParameterError
from ..meta import PoolResult, egger_test, format_p
from .analysis import MIN_NATIVE, Selection, reselect, selection
from .published import compare_with_reviews, review_estimates
from .studies import count_studies, outcome_name

#: Fewer studies than this and a small-study (Egger) test cannot tell asymmetry from chance (Cochrane Handbook
#: 10.4.3.1; Sterne et al. 2011).
MIN_K_SMALL_STUDY = 10


def small_study_effects(result: PoolResult) -> str:
    """One sentence on funnel-plot asymmetry: Egger's regression test where the fit pools at least
    :data:`MIN_K_SMALL_STUDY` studies, else why it is not run. The 06 report and its trust panel say the same.

    Examples
    --------
    >>> from leftbehind import meta
    >>> print(small_study_effects(meta.pool([0.1, 0.3, 0.2], [0.01, 0.02, 0.015])))
    Egger's test not run: k = 3 is below 10, too few to tell funnel asymmetry from chance.
    """
    k = result.k
    if k < MIN_K_SMALL_STUDY:
        return (
            f"Egger's test not run: k = {k} is below {MIN_K_SMALL_STUDY}, too few to tell funnel asymmetry from chance."
        )
    e = egger_test(result)
    return f"Egger's test: intercept {e.intercept:.2f} (SE {e.intercept_se:.2f}), {format_p(e.pval)}, {e.df} df."


def _children(studies: pd.DataFrame) -> tuple[int, int]:
    """Total children in the compared groups, and the number of rows whose sample sizes are recorded."""
    cols = [("total_lb", "total_comp"), ("n_lb", "n_comp")]
    total, known = 0, 0
    for _, row in studies.iterrows():
        for a, b in cols:
            if a in row and b in row and not pd.isna(row[a]) and not pd.isna(row[b]):
                total += int(row[a]) + int(row[b])
                known += 1
                break
    return total, known


def _share(flags: pd.Series, k: int) -> str:
    n = int(flags.fillna(False).astype(bool).sum())
    return f"{n} of {k} ({100 * n / k:.0f}%)"


def _scale_text(x: float, ratio: bool) -> str:
    return f"{math.exp(x):.2f}" if ratio else f"{x:.2f}"


def trust_panel(result: PoolResult, studies: pd.DataFrame, outcome: str) -> str:
    """A Markdown list, one plain sentence per item: size (k, children), adjustment for confounders, what was
    read only in abstracts, heterogeneity (I² and the prediction interval), small-study effects (Egger's test
    only where k >= 10, else why not) and agreement with published reviews (overlapping CIs, same direction).

    Parameters
    ----------
    result : PoolResult
        The fit, made with ``measure=`` ("SMD" or "OR") so that effects are shown on the reporting scale.
    studies : pandas.DataFrame
        The rows pooled: :func:`analysis_set` (columns ``adjusted``, ``abstract_only`` and sample sizes).
    outcome : str
        The outcome, for the comparison with reviews.

    Returns
    -------
    str
        Markdown; data strings are escaped.

    Raises
    ------
    leftbehind.errors.MetaAnalysisError
        If the fit has no measure, or ``studies`` does not have one row per study of the fit.

    Examples
    --------
    >>> from leftbehind import literature, meta
    >>> s = literature.analysis_set("depression")
    >>> text = trust_panel(meta.pool(s["yi"], s["vi"], measure="SMD"), s, "depression")
    >>> "not run" in text.splitlines()[4]
    True
    """
    from ..errors import MetaAnalysisError

    if result.measure is None or len(studies) != result.k:
        raise MetaAnalysisError(
            f"trust_panel needs a fit made with measure= and the {result.k} pooled rows; got measure "
            f"{result.measure!r} and {len(studies)} rows"
        )
    pooled_of = sorted(set(studies["outcome"])) if "outcome" in studies.columns else [outcome]
    if pooled_of != [outcome]:  # else the panel sets one outcome's pool beside another outcome's reviews
        raise MetaAnalysisError(f"trust_panel: the rows pooled are of {', '.join(pooled_of)}, not of {outcome}")
    k, ratio, pct = result.k, result.measure in ("OR", "RR"), f"{100 * result.level:g}%"
    children, known = _children(studies)
    lines = [
        f"**Size.** {k} studies, {children:,} children in the compared groups (sample sizes recorded for "
        f"{known} of {k} studies).",
        f"**Confounding.** {_share(studies['adjusted'] == 'yes', k)} pooled effects are adjusted for confounders; the "
        "others are crude comparisons.",
    ]
    if "abstract_only" in studies:
        lines.append(
            f"**Reading.** {_share(studies['abstract_only'], k)} pooled effects were read only in an abstract, "
            "not in the full text" + _secondary_and_rebuilt(result, studies) + "."
        )
    else:
        lines.append("**Reading.** Whether effects were read only in abstracts is not recorded for these rows.")
    het = f"**Heterogeneity.** I² = {result.I2:.0f}%"
    if math.isfinite(result.pi_low):
        het += (
            f"; the {pct} prediction interval, where the effect of a new comparable study may fall, runs from "
            f"{_scale_text(result.pi_low, ratio)} to {_scale_text(result.pi_high, ratio)} ({result.measure})."
        )
    else:
        het += " (fixed-effect model: no prediction interval)."
    lines.append(het)
    lines.append(f"**Small-study effects.** {small_study_effects(result)}")
    construct = str(studies["construct"].iloc[0]) if "construct" in studies and len(studies) else None
    lines.append(_agreement(result, outcome, construct))
    return "\n".join(f"- {line}" for line in lines)


def _secondary_and_rebuilt(result: PoolResult, studies: pd.DataFrame) -> str:
    """The rest of the reading sentence: how many pooled effects were read in a secondary source (a published
    review's table) and the pool without them; how many have counts rebuilt from printed percentages and how far
    the ends of their rounding ranges move the pooled estimate. Empty for rows that do not record these."""
    from ..meta import pool

    text = ""
    k, scale = result.k, str(result.measure)
    if "secondary_source" in studies:
        secondary = studies["secondary_source"].fillna(False).astype(bool).to_numpy()
        n = int(secondary.sum())
        if n == 0:
            text += "; none was read in a secondary source"
        else:
            text += f"; {_share(pd.Series(secondary), k)} were read in a secondary source (a published review's table)"
            rest = studies[~secondary]
            if len(rest) >= 2:
                f = pool(rest["yi"], rest["vi"], method=result.method, ci=result.ci_method, measure=scale)
                row = f.to_frame().iloc[0]
                text += (
                    f", and without them {len(rest)} studies give {_shown(float(row['estimate']))} "
                    f"({_shown(float(row['ci_low']))} to {_shown(float(row['ci_high']))})"
                )
            else:
                text += f", and without them {len(rest)} {'study remains' if len(rest) == 1 else 'studies remain'}"
    if "es_source" in studies and (studies["es_source"] == "percentages").any():
        rebuilt = int((studies["es_source"] == "percentages").sum())
        ends = []
        for end in ("low", "high"):
            moved = rounded_to_range_end(studies, scale, end)
            fit = pool(moved["yi"], moved["vi"], method=result.method, ci=result.ci_method, measure=scale)
            ends.append(fit.to_frame().iloc[0]["estimate"])
        text += (
            f"; {rebuilt} of {k} have counts rebuilt from printed percentages, and with every such count at either "
            f"end of its rounding range the pooled estimate runs from {_shown(float(ends[0]), 3)} to "
            f"{_shown(float(ends[1]), 3)} ({scale})"
        )
    return text


def _shown(x: float, decimals: int = 2) -> str:
    """A pooled value on the reporting scale (``PoolResult.to_frame`` gives it there)."""
    return f"{x:.{decimals}f}"


def measure_note(chosen: Selection, method: str = "REML", ci: str = "normal") -> str:
    """What a pool holds, in one Markdown paragraph: one measure (and the other measure's own pool beside it), or
    both measures combined on one scale with Chinn's conversion, said in so many words (issue 28 item 2).

    Parameters
    ----------
    chosen : Selection
        :func:`~leftbehind.literature.selection` of an outcome on a scale.
    method, ci : str
        Passed to :func:`leftbehind.meta.pool` for the other measure's pool.

    Examples
    --------
    >>> from leftbehind import literature
    >>> print(measure_note(literature.selection("suicidal_ideation", "OR")))  # doctest: +ELLIPSIS
    **One measure.** ... report suicidal ideation and self-harm as a share above a cut-off: pooled as odds ratios, none converted...
    >>> print(measure_note(literature.selection("wasting")))  # one comparable study: no pool
    **No pool.** Only 1 study has a comparable effect for wasting (read as a score): a pool needs at least 2, so its effect is shown on its own.
    """
    from ..meta import pool
    from ..meta.validation import _check_ci, _check_method

    method, ci = _check_method(method), _check_ci(ci)  # checked here too: with one measure they are not used
    what = {"SMD": "a score", "OR": "a share above a cut-off"}
    named = {"SMD": "standardised mean differences", "OR": "odds ratios"}
    outcome = escape_markdown(outcome_name(chosen.outcome, in_sentence=True))
    scale, k = chosen.scale, len(chosen.pooled)
    other_scale = "OR" if scale == "SMD" else "SMD"
    m = len(chosen.other)
    if not k:
        return f"**No pool.** No study has a comparable effect for {outcome}."
    if k == 1:  # one study is shown on its own, never called a pool
        read = "a score" if chosen.pooled["es_measure_read"].iloc[0] == "SMD" else "a share above a cut-off"
        return (
            f"**No pool.** Only 1 study has a comparable effect for {outcome} (read as {read}): a pool needs at "
            "least 2, so its effect is shown on its own."
        )
    if chosen.measure == scale:
        text = f"**One measure.** {count_studies(k)} report {outcome} as {what[scale]}: pooled as {named[scale]}, none converted."
        if m >= MIN_NATIVE:
            row = pool(chosen.other["yi"], chosen.other["vi"], method=method, ci=ci, measure=other_scale)
            f = row.to_frame().iloc[0]
            text += (
                f" {count_studies(m)} report it as {what[other_scale]}; pooled on their own scale they give {other_scale} "
                f"{float(f['estimate']):.2f} ({float(f['ci_low']):.2f} to {float(f['ci_high']):.2f})."
            )
        elif m:
            text += f" 1 study reports it as {what[other_scale]} (too few to pool on its own)."
        return text + " Both measures together, converted with SMD = ln OR × √3/π, are in the sensitivity table."
    read = chosen.pooled["es_measure_read"]
    n_or, n_smd = int((read == "logOR").sum()), int((read == "SMD").sum())
    native = n_smd if scale == "SMD" else n_or
    text = (
        f"**Two measures combined.** {count_studies(native, first=True)} report{'s' if native <= 1 else ''} {outcome} "
        f"as {what[scale]}, "
        f"fewer than {MIN_NATIVE}, so "
        f"this pool puts {n_or} odds ratio{'s' if n_or != 1 else ''} and {n_smd} standardised mean "
        f"difference{'s' if n_smd != 1 else ''} on the {scale} scale with Chinn's conversion, SMD = ln OR × √3/π; "
        "each converted study says so in its label."
    )
    if m >= MIN_NATIVE:
        text += f" On one measure, the {other_scale} scale pools {m} studies."
    return text


def _agreement(result: PoolResult, outcome: str, construct: str | None) -> str:
    f = result.to_frame().iloc[0]
    est, lo, hi = (float(f[c]) for c in ("estimate", "ci_low", "ci_high"))
    table = compare_with_reviews(est, lo, hi, outcome, str(result.measure), construct=construct)
    # a review of another construct (e.g. dental caries beside self-rated health) is not compared
    n_other = len(review_estimates(outcome)) - len(table)
    other = (
        " 1 published estimate of another construct is not compared."
        if n_other == 1
        else f" {n_other} published estimates of other constructs are not compared."
        if n_other
        else ""
    )
    if table.empty:
        what = escape_markdown(outcome_name(outcome, in_sentence=True))
        return f"**Published reviews.** No published pooled estimate of the same construct for {what}.{other}"
    v = table["verdict"]
    same_scale = v.str.startswith(("agrees", "differs"))
    agree, differ = int(v.str.startswith("agrees").sum()), int(v.str.startswith("differs").sum())
    direction = v[~same_scale & v.str.contains("direction only")]
    same_dir = int(direction.str.startswith("same direction").sum())
    n = int(same_scale.sum())
    if n == 1:
        text = "**Published reviews.** The one published pooled estimate on our scale " + (
            "agrees (intervals overlap, same direction)" if agree else "differs"
        )
    elif n:
        text = (
            f"**Published reviews.** Of {n} published pooled estimates on our scale, {agree} "
            f"{'agrees' if agree == 1 else 'agree'} (intervals overlap, same direction) and {differ} "
            f"{'differs' if differ == 1 else 'differ'}"
        )
    else:
        text = "**Published reviews.** No published pooled estimate is on our scale"
    if len(direction) == 1:
        text += f"; the one on another scale {'points' if same_dir else 'does not point'} the same way"
    elif len(direction):
        text += (
            f"; of {len(direction)} on another scale, {same_dir} {'points' if same_dir == 1 else 'point'} the same way"
        )
    return text + "." + other


#: The sensitivity analyses a reader expects: options of :func:`analysis_set` (computed by
#: :func:`~leftbehind.literature.reselect`), and three computed from the main selection itself (``combined``: the
#: pool of both measures on one scale; ``rounding``: counts rebuilt from percentages at either end of their
#: rounding ranges). Effects derived by us include counts rebuilt from printed percentages; secondary sources
#: include study-level numbers read in a published review's table.
SENSITIVITY: dict[str, dict[str, bool]] = {
    "all comparable rows": {},
    "adjusted estimates only": {"adjusted_only": True},
    "without effects derived by us": {"exclude_derived": True},
    "without secondary sources": {"exclude_secondary": True},
    "ORs and SMDs combined on one scale (SMD = ln OR × √3/π)": {"combined": True},
    "rebuilt counts at the ends of their rounding ranges: smallest effects": {"rounding_low": True},
    "rebuilt counts at the ends of their rounding ranges: largest effects": {"rounding_high": True},
}


def sensitivity_table(
    outcome: str, scale: str = "SMD", method: str = "REML", ci: str = "normal", *, main: Selection | None = None
) -> pd.DataFrame:
    """The pooled estimate of ``outcome`` under each sensitivity analysis of :data:`SENSITIVITY`, for the
    construct that the main analysis pools, on the reporting scale (ratios for OR).

    Parameters
    ----------
    outcome : str
        An outcome id.
    scale : {"SMD", "OR"}
        Scale of the pooled effect.
    method, ci : str
        Passed to :func:`leftbehind.meta.pool`.
    main : Selection, optional
        The main analysis, :func:`~leftbehind.literature.selection` of ``outcome`` and ``scale`` without
        sensitivity options, when the caller has it already (it is then not computed again).

    Returns
    -------
    pandas.DataFrame
        One row per analysis: ``analysis``, ``k``, ``estimate``, ``ci_low``, ``ci_high``, ``I2``, ``note``
        (why an analysis is not pooled: fewer than 2 studies).

    Raises
    ------
    leftbehind.errors.LeftbehindError
        If an argument is not valid, or ``main`` is not the main selection of ``outcome`` on ``scale``.

    Examples
    --------
    >>> t = sensitivity_table("depression")
    >>> t["analysis"].tolist()[:2], int(t["k"].iloc[0])
    (['all comparable rows', 'adjusted estimates only'], 3)
    """
    from ..meta import pool

    if main is None:
        main = selection(outcome, scale)
    elif (main.outcome, main.scale) != (outcome, scale) or any(main.options.values()):
        raise ParameterError(
            f"sensitivity_table: main must be the selection of outcome {outcome!r} on scale {scale!r} without "
            f"sensitivity options; got outcome {main.outcome!r}, scale {main.scale!r}, options {main.options}"
        )
    rows = []
    for name, options in SENSITIVITY.items():
        note = ""
        if "combined" in options:
            s = main.combined
            if main.measure != scale:
                note = "the main pool is this combined pool (fewer than 2 studies report the scale itself)"
        elif "rounding_low" in options or "rounding_high" in options:
            s = rounded_to_range_end(main.pooled, scale, "low" if "rounding_low" in options else "high")
            rebuilt = int((main.pooled["es_source"] == "percentages").sum()) if "es_source" in main.pooled else 0
            note = f"{rebuilt} of {len(s)} effects rebuilt from printed percentages" if len(s) else ""
        else:
            s = reselect(main, **options).pooled if options else main.pooled
        row: dict[str, object] = {"analysis": name, "k": len(s)}
        if len(s) >= 2:
            f = pool(s["yi"], s["vi"], method=method, ci=ci, measure=scale).to_frame().iloc[0]
            row.update({c: float(f[c]) for c in ("estimate", "ci_low", "ci_high", "I2")}, note=note)
        else:
            row.update({c: float("nan") for c in ("estimate", "ci_low", "ci_high", "I2")})
            row["note"] = f"not pooled: {count_studies(len(s))}"
        rows.append(row)
    return pd.DataFrame(rows)


def rounded_to_range_end(pooled: pd.DataFrame, scale: str, end: str) -> pd.DataFrame:
    """The pooled rows with every effect whose counts were rebuilt from printed percentages moved to one end of
    its rounding range: ``"low"`` the smallest effect the consistent counts give (once oriented so that positive
    means worse for left-behind children), ``"high"`` the largest; other rows unchanged. On the SMD scale the log odds ratio is converted as in the pool (× √3/π); its
    variance is the one of the counts at that end.

    Parameters
    ----------
    pooled : pandas.DataFrame
        Rows of :func:`~leftbehind.literature.analysis_set` (columns ``es_source``, ``yi_low``, ``yi_high``,
        ``events_lb_range``, ``events_comp_range``, ``total_lb``, ``total_comp``, ``higher_is_worse``).
    scale : {"SMD", "OR"}
        The scale of ``pooled``.
    end : {"low", "high"}

    Examples
    --------
    >>> import pandas as pd
    >>> row = pd.DataFrame({"es_source": ["percentages"], "yi": [0.29], "vi": [0.016], "yi_low": [0.2801],
    ...     "yi_high": [0.3005], "events_lb_range": ["241-243"], "events_comp_range": ["91-92"],
    ...     "total_lb": [3359], "total_comp": [1667], "higher_is_worse": ["yes"]})
    >>> float(rounded_to_range_end(row, "OR", "high")["yi"].iloc[0])
    0.3005
    """
    from .percentages import log_odds_ratio

    if end not in ("low", "high"):
        raise ParameterError(f'end "{end}" is not valid. Valid: low, high')
    out = pooled.copy()
    if out.empty or "es_source" not in out:
        return out
    factor = 1.0 if scale == "OR" else math.sqrt(3) / math.pi
    for index, row in out[out["es_source"] == "percentages"].iterrows():
        (a_low, a_high), (c_low, c_high) = (
            (int(x) for x in str(row[col]).split("-")) for col in ("events_lb_range", "events_comp_range")
        )
        sign = 1.0 if row["higher_is_worse"] in (True, "yes") else -1.0
        # the end of the raw log OR range that gives the smallest (largest) effect once oriented
        raw_low = (end == "low") == (sign > 0)
        a, c = (a_low, c_high) if raw_low else (a_high, c_low)
        _, v = log_odds_ratio(a, int(row["total_lb"]), c, int(row["total_comp"]))
        out.loc[index, "yi"] = sign * float(row["yi_low" if raw_low else "yi_high"]) * factor
        out.loc[index, "vi"] = v * factor**2
    return out
