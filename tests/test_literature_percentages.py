"""Issue 28 item 2: counts rebuilt from printed percentages. Each expected value below is worked out by hand in
a comment (or by scipy's independent chi-square), never taken from the code under test."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from leftbehind import literature
from leftbehind.errors import ParameterError
from leftbehind.literature.percentages import (
    counts_from_percentage,
    log_odds_ratio,
    matches_chi2,
    matches_p,
    pearson_chi2,
    rebuild_counts,
    rounding_range_of_effect,
)


def test_the_nearest_count_and_the_range_the_printed_decimals_allow():
    # 7.2 % of 3,359 = 241.85 -> 242; 7.15 % and 7.25 % of 3,359 = 240.17 and 243.53 -> 241 to 243
    r = counts_from_percentage("7.2", 3359)
    assert (r.nearest, r.low, r.high, r.unique) == (242, 241, 243, False)
    # 29.1 % of 643 = 187.11; 29.05 % to 29.15 % of 643 = 186.79 to 187.43 -> 187 only (as ningxia_scared_anx)
    assert counts_from_percentage("29.1", 643).unique and counts_from_percentage("29.1", 643).nearest == 187
    # the decimals printed count: "13" of 388 is 12.5 % to 13.5 % = 48.5 to 52.38 -> 49 to 52 ...
    assert (counts_from_percentage("13", 388).low, counts_from_percentage("13", 388).high) == (49, 52)
    # ... while "13.0" of 388 (12.95 % to 13.05 % = 50.25 to 50.63) fits no whole number: 50/388 = 12.89 %
    with pytest.raises(ParameterError, match=r"no whole number of 388 children gives the printed 13.0 %: 50/388"):
        counts_from_percentage("13.0", 388)
    # both ends of a rounding interval are kept: 13 % of 200 is 12.5 % to 13.5 % -> 25 to 27 (25/200 = 12.5 %)
    r = counts_from_percentage("13", 200)
    assert (r.nearest, r.low, r.high) == (26, 25, 27)


def test_a_percentage_that_no_count_can_give_is_named():
    # anhui_cesdc2008 prints 51.39 % of 893 left-behind children: 458/893 = 51.29 %, 459/893 = 51.40 %
    with pytest.raises(ParameterError, match=r"458/893 = 51.2878 % and 459/893 = 51.3998 %"):
        counts_from_percentage("51.39", 893)
    for pct, n, what in (("101", 10, "between 0 and 100"), ("7,2", 10, "not a number"), ("7.2", 0, "positive")):
        with pytest.raises(ParameterError, match=what):
            counts_from_percentage(pct, n)


def test_chi_square_by_hand_and_against_scipy():
    # 27/110 vs 20/113: N (ad - bc)^2 / (n1 n2 m1 m2) = 223 * (27*93 - 83*20)^2 / (110*113*47*176)
    # = 223 * 851^2 / 102,820,960 = 161,496,823 / 102,820,960 = 1.57066
    assert pearson_chi2(27, 110, 20, 113) == pytest.approx(1.57066, abs=1e-5)
    table = [[27, 83], [20, 93]]
    assert pearson_chi2(27, 110, 20, 113, correction=True) == pytest.approx(chi2_contingency(table)[0], rel=1e-12)
    # ningxia_scared_anx: 187/643 vs 136/812 give the printed Pearson chi-square 31.606; 188 does not
    assert matches_chi2("31.606", 187, 643, 136, 812) and not matches_chi2("31.606", 188, 643, 136, 812)
    # p of a chi-square with 1 df: chi-square 3.841459 is p = 0.05 (the 95th percentile of chi-square(1))
    assert matches_p("<0.001", 187, 643, 136, 812)
    assert not matches_p("0.05", 187, 643, 136, 812)


def test_a_printed_statistic_picks_the_counts_or_says_it_cannot():
    # 10 % of 1,000 fits 95 to 105 (nearest 100) and 5 % of 1,000 fits 45 to 55 (nearest 50). Printed chi-square
    # 20.515 is 104 against 50: N (ad - bc)^2 / (n1 n2 m1 m2) = 2000 (104*950 - 896*50)^2 / (1000*1000*154*1846)
    # = 2000 * 54,000^2 / 284,284,000,000 = 20.5147; the pair nearest to (100, 50) that gives it is (104, 50).
    r = rebuild_counts("10", 1000, "5", 1000, chi2="20.515")
    assert (r.events_lb, r.events_comp, r.check) == (104, 50, "chi2 reproduced")
    # no statistic printed: the nearest counts
    r = rebuild_counts("10", 1000, "5", 1000)
    assert (r.events_lb, r.events_comp, r.check) == (100, 50, "no statistic printed")
    # zhou2022: 7.2 % of 3,359 (241-243) and 5.5 % of 1,667 (91-92, 5.45 % to 5.55 % = 90.85 to 92.52) never give
    # the printed 4.854: the six pairs give 4.94 to 5.66 (Pearson) and 4.67 to 5.38 (Yates) - checked with scipy
    pairs = [(a, c) for a in range(241, 244) for c in range(91, 93)]
    got = [chi2_contingency([[a, 3359 - a], [c, 1667 - c]], correction=k)[0] for a, c in pairs for k in (False, True)]
    assert not any(round(x, 3) == 4.854 for x in got)
    assert rebuild_counts("7.2", 3359, "5.5", 1667, chi2="4.854").check == "not reproduced"


def test_effect_at_the_ends_of_the_rounding_ranges_by_hand():
    # 7.2 % of 3,359 (241-243) and 5.5 % of 1,667 (91-92):
    # low:  ln(241 * 1575 / (3118 * 92)) = ln(379,575 / 286,856) = ln 1.3232249 = 0.280072
    # high: ln(243 * 1576 / (3116 * 91)) = ln(382,968 / 283,556) = ln 1.3505904 = 0.300542
    low, high = rounding_range_of_effect(rebuild_counts("7.2", 3359, "5.5", 1667))
    assert (low, high) == (pytest.approx(0.280072, abs=1e-6), pytest.approx(0.300542, abs=1e-6))
    # Woolf: ln(27*93 / (83*20)) = ln 1.512651 = 0.413864; 1/27 + 1/83 + 1/20 + 1/93 = 0.109838
    y, v = log_odds_ratio(27, 110, 20, 113)
    assert (y, v) == (pytest.approx(0.413864, abs=1e-6), pytest.approx(0.109838, abs=1e-6))


def _row(**kw: object) -> pd.DataFrame:
    cols = ("measure", "estimate", "ci_low", "ci_high", "ci_level", "events_lb", "total_lb", "events_comp",
            "total_comp", "pct_lb", "pct_comp", "chi2", "p_value", "mean_lb", "sd_lb", "n_lb", "mean_comp", "sd_comp",
            "n_comp")  # fmt: skip
    base: dict[str, object] = dict.fromkeys(cols)
    base.update(kw)
    return pd.DataFrame([base])


def test_effect_sizes_rebuilds_counts_from_percentages():
    # 13 % of 200 -> 26 (25-27); 5 % of 100 -> 5 (4.5 to 5.5 -> 5 only). ln(26*95 / (174*5)) = ln(2470/870)
    # = ln 2.839080 = 1.043480; Var = 1/26 + 1/174 + 1/5 + 1/95 = 0.038462 + 0.005747 + 0.2 + 0.010526 = 0.254735
    es = literature.effect_sizes(_row(pct_lb="13", total_lb=200, pct_comp="5", total_comp=100)).iloc[0]
    assert (es.es_measure, es.es_source, es.counts_check) == ("logOR", "percentages", "no statistic printed")
    assert (es.rebuilt_events_lb, es.rebuilt_events_comp) == (26, 5)
    assert (es.events_lb_range, es.events_comp_range) == ("25-27", "5-5")
    assert es.yi == pytest.approx(1.043480, abs=1e-6) and es.vi == pytest.approx(0.254735, abs=1e-6)
    # printed counts win over printed percentages (ningxia-like rows keep their counts)
    es = literature.effect_sizes(_row(events_lb=27, total_lb=110, events_comp=20, total_comp=113, pct_lb="24.5",
                                      pct_comp="17.7")).iloc[0]  # fmt: skip
    assert es.es_source == "2x2"
    # a percentage no count can give, and a statistic no count reproduces: no effect, and the reason
    bad = literature.effect_sizes(_row(pct_lb="51.39", total_lb=893, pct_comp="21.19", total_comp=335)).iloc[0]
    assert math.isnan(bad.yi) and "do not fit the printed group sizes" in bad.es_problem
    bad = literature.effect_sizes(_row(pct_lb="7.2", total_lb=3359, pct_comp="5.5", total_comp=1667,
                                       chi2="4.854")).iloc[0]  # fmt: skip
    assert math.isnan(bad.yi) and "do not reproduce the printed chi-square 4.854" in bad.es_problem


def _rounding_bound(pct: str, n: int) -> float:
    """How far a log odds changes across the counts consistent with a printed percentage, to first order: the
    consistent counts give percentages within h of the printed p (h = half a unit of its last decimal), so any
    two of them differ by at most 2h, and d logit(p) = dp / (p (1 - p)). Ten percent added for the second-order
    term."""
    p = float(pct) / 100
    decimals = len(pct.split(".")[1]) if "." in pct else 0
    h = 0.5 * 10**-decimals / 100
    return 1.1 * 2 * h / (p * (1 - p))


def test_every_rebuilt_effect_moves_less_than_its_rounding_range_allows():
    """Issue 28 item 2: for every row with counts rebuilt from printed percentages, both ends of the ranges of
    consistent counts give log odds ratios within the bound the percentages' rounding allows (the stated
    tolerance, from the two groups' bounds added), and within 0.15 whatever the bound."""
    es = literature.effect_sizes(literature.effects())
    rebuilt = es[es["es_source"] == "percentages"]
    assert len(rebuilt) >= 8
    for r in rebuilt.itertuples():
        bound = _rounding_bound(r.pct_lb, int(r.total_lb)) + _rounding_bound(r.pct_comp, int(r.total_comp))
        for end in (r.yi_low, r.yi_high):
            assert abs(end - r.yi) <= min(bound, 0.15), (r.effect_id, end, r.yi, bound)
        assert r.yi_low <= r.yi <= r.yi_high


@pytest.mark.parametrize("outcome", ["depression", "emotional_behavioural_difficulties"])
def test_pooled_estimate_with_rebuilt_counts_at_either_end(outcome):
    """The pooled log odds ratio with every rebuilt count at the low (high) end of its range: when the rebuilt rows
    print one or more decimals (depression), it changes in the third decimal at most; rows printed in whole
    percentages (adhikari2025, umami2019's 21%) move it by more, bounded by the rows' own bounds, and the sensitivity
    table shows both ends."""
    from leftbehind import meta

    s = literature.analysis_set(outcome, "OR")
    rebuilt = s[s["es_source"] == "percentages"]
    assert len(rebuilt) >= 1
    main = meta.pool(s["yi"], s["vi"], method="REML").estimate
    ends = []
    for end in ("low", "high"):
        moved = literature.rounded_to_range_end(s, "OR", end)
        ends.append(meta.pool(moved["yi"], moved["vi"], method="REML").estimate - main)
    assert ends[0] <= 0 <= ends[1]
    whole = any("." not in p for p in [*rebuilt["pct_lb"], *rebuilt["pct_comp"]])
    if not whole:
        assert max(abs(d) for d in ends) < 0.005, ends
    else:
        bound = max(
            _rounding_bound(r.pct_lb, int(r.total_lb)) + _rounding_bound(r.pct_comp, int(r.total_comp))
            for r in rebuilt.itertuples()
        )
        assert max(abs(d) for d in ends) <= bound, (ends, bound)
    table = literature.sensitivity_table(outcome, "OR").set_index("analysis")
    low, high = (t for t in table.index if t.startswith("rebuilt counts"))
    assert math.log(table.loc[low, "estimate"]) <= math.log(table.loc[high, "estimate"])
