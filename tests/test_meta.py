"""Tests for leftbehind.meta and the forest/funnel plots in leftbehind.plots.

The reference values come from three places:
* metafor's published results for dat.bcg (log risk ratios), rounded to 4 dp
  (I^2 and Q to 2 dp) as printed;
* a separate plain-numpy/scipy implementation in this file (``ref_*``).
  It uses other algorithms: Brent root-finding for PM, direct maximisation
  of the restricted likelihood for REML, and lstsq with an explicit
  covariance for Egger. It does not import the module's helpers;
* hand calculations on a 3-study toy example, shown in comments.
"""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Polygon
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

import leftbehind.meta as meta
import leftbehind.meta.pooling as _pooling
import leftbehind.plots.metaplots as meta_plots
from leftbehind.errors import LeftbehindError, MetaAnalysisError
from leftbehind.meta import (
    back_transform,
    cumulative,
    effect_from_ci,
    egger_test,
    leave_one_out,
    pool,
    subgroups,
)
from leftbehind.plots import forest_plot, funnel_plot, source_text

HERE = Path(__file__).resolve().parent / "reference"
TOL = 5e-5


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    d = pd.read_csv(HERE / "bcg.csv")
    n1 = d.tpos + d.tneg
    n2 = d.cpos + d.cneg
    d["yi"] = np.log((d.tpos / n1) / (d.cpos / n2))
    d["vi"] = 1 / d.tpos - 1 / n1 + 1 / d.cpos - 1 / n2
    d["label"] = d.author + " " + d.year.astype(str)
    return d


def test_bcg_csv_shape(bcg):
    assert list(bcg.columns[:9]) == ["trial", "author", "year", "tpos", "tneg", "cpos", "cneg", "ablat", "alloc"]
    assert len(bcg) == 13
    assert bcg.alloc.value_counts().to_dict() == {"random": 7, "systematic": 4, "alternate": 2}


# --------------------------------------------------------------------------
# independent reference implementation (plain numpy / scipy)
# --------------------------------------------------------------------------
def ref_fe(y, v):
    w = 1 / v
    est = np.sum(w * y) / np.sum(w)
    Q = np.sum(w * (y - est) ** 2)
    return est, math.sqrt(1 / np.sum(w)), Q


def ref_tau2_dl(y, v):
    w = 1 / v
    _, _, Q = ref_fe(y, v)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return max(0.0, (Q - (len(y) - 1)) / c)


def ref_tau2_pm(y, v):
    k = len(y)

    def f(t2):
        w = 1 / (v + t2)
        m = np.sum(w * y) / np.sum(w)
        return np.sum(w * (y - m) ** 2) - (k - 1)

    if f(0.0) <= 0:
        return 0.0
    hi = 1.0
    while f(hi) > 0:
        hi *= 2
    return optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-14)


def ref_tau2_reml(y, v):
    def nll(t2):  # minus restricted log-likelihood (constants dropped)
        w = 1 / (v + t2)
        m = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + t2)) + math.log(np.sum(w)) + np.sum(w * (y - m) ** 2))

    res = optimize.minimize_scalar(nll, bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-12})
    return max(0.0, res.x)


def ref_summary(y, v, tau2, hksj=False, level=0.95):
    k = len(y)
    w = 1 / (v + tau2)
    est = np.sum(w * y) / np.sum(w)
    se = math.sqrt(1 / np.sum(w))
    if hksj:
        q = np.sum(w * (y - est) ** 2) / (k - 1)
        se = se * math.sqrt(q)
        crit = stats.t.ppf(1 - (1 - level) / 2, k - 1)
    else:
        crit = stats.norm.ppf(1 - (1 - level) / 2)
    w0 = 1 / v
    s2 = (k - 1) * np.sum(w0) / (np.sum(w0) ** 2 - np.sum(w0**2))
    return {
        "estimate": est,
        "se": se,
        "ci_low": est - crit * se,
        "ci_high": est + crit * se,
        "pi_low": est - crit * math.sqrt(se**2 + tau2),
        "pi_high": est + crit * math.sqrt(se**2 + tau2),
        "I2": 100 * tau2 / (tau2 + s2),
        "H2": (tau2 + s2) / s2,
        "weights": 100 * w / np.sum(w),
    }


REF_TAU2 = {"DL": ref_tau2_dl, "PM": ref_tau2_pm, "REML": ref_tau2_reml}


def close(a, b, tol=1e-6):
    return abs(a - b) <= tol


# --------------------------------------------------------------------------
# metafor's published dat.bcg results (log risk ratios)
# --------------------------------------------------------------------------
def test_reml_matches_metafor(bcg):
    r = pool(bcg.yi, bcg.vi, method="REML")
    assert abs(round(r.estimate, 4) - (-0.7145)) <= TOL
    assert abs(round(r.se, 4) - 0.1798) <= TOL
    assert abs(round(r.ci_low, 4) - (-1.0669)) <= TOL
    assert abs(round(r.ci_high, 4) - (-0.3622)) <= TOL
    assert abs(round(r.tau2, 4) - 0.3132) <= TOL
    assert abs(round(r.I2, 2) - 92.22) <= 0.005
    assert abs(round(r.Q, 2) - 152.23) <= 0.005
    assert r.Q_df == 12
    assert r.k == 13 and r.method == "REML" and r.ci_method == "normal"


def test_reml_prediction_interval_matches_metafor(bcg):
    r = pool(bcg.yi, bcg.vi, method="REML")
    assert abs(round(r.pi_low, 4) - (-1.8667)) <= TOL
    assert abs(round(r.pi_high, 4) - 0.4376) <= TOL


def test_dl_matches_metafor(bcg):
    r = pool(bcg.yi, bcg.vi, method="DL")
    assert abs(round(r.estimate, 4) - (-0.7141)) <= TOL
    assert abs(round(r.se, 4) - 0.1787) <= TOL
    assert abs(round(r.tau2, 4) - 0.3088) <= TOL


# --------------------------------------------------------------------------
# against the independent implementation
# --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["DL", "PM", "REML"])
@pytest.mark.parametrize("ci", ["normal", "hksj"])
def test_random_effects_match_reference(bcg, method, ci):
    y, v = bcg.yi.to_numpy(), bcg.vi.to_numpy()
    t2 = REF_TAU2[method](y, v)
    ref = ref_summary(y, v, t2, hksj=(ci == "hksj"))
    r = pool(y, v, method=method, ci=ci)
    assert close(r.tau2, t2, 1e-8)
    for key in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "I2", "H2"):
        assert close(getattr(r, key), ref[key], 1e-6), key
    assert np.allclose(r.weights, ref["weights"], atol=1e-8)
    assert close(sum(r.weights), 100.0, 1e-9)
    df = 12
    stat = ref["estimate"] / ref["se"]
    p = 2 * (stats.t.sf(abs(stat), df) if ci == "hksj" else stats.norm.sf(abs(stat)))
    assert close(r.z_or_t, stat, 1e-6) and close(r.pval, p, 1e-9)


def test_fe_matches_reference(bcg):
    y, v = bcg.yi.to_numpy(), bcg.vi.to_numpy()
    est, se, Q = ref_fe(y, v)
    r = pool(y, v, method="FE")
    assert close(r.estimate, est, 1e-10) and close(r.se, se, 1e-10) and close(r.Q, Q, 1e-8)
    assert r.tau2 == 0.0
    assert close(r.I2, 100 * (Q - 12) / Q, 1e-8) and close(r.H2, Q / 12, 1e-8)
    assert math.isnan(r.pi_low) and math.isnan(r.pi_high)
    assert close(r.Q_pval, stats.chi2.sf(Q, 12), 1e-12)
    # FE with HKSJ: se * sqrt(Q/(k-1)), t(k-1)
    rh = pool(y, v, method="FE", ci="hksj")
    assert close(rh.se, se * math.sqrt(Q / 12), 1e-10)
    assert close(rh.ci_high, est + stats.t.ppf(0.975, 12) * se * math.sqrt(Q / 12), 1e-10)


def test_statsmodels_dl_pm_agree_with_own_formulas(bcg):
    """statsmodels' combine_effects (which pool uses for DL/PM) matches the numpy formulas."""
    y, v = bcg.yi.to_numpy(), bcg.vi.to_numpy()
    for method_re, ref in (("dl", ref_tau2_dl), ("pm", ref_tau2_pm)):
        res = (
            combine_effects(y, v, method_re=method_re, atol=1e-12, maxiter=1000)
            if method_re == "pm"
            else combine_effects(y, v, method_re=method_re)
        )
        t2 = ref(y, v)
        s = ref_summary(y, v, t2)
        sh = ref_summary(y, v, t2, hksj=True)
        assert close(res.tau2, t2, 1e-8)
        assert close(res.mean_effect_re, s["estimate"], 1e-8)
        assert close(res.sd_eff_w_re, s["se"], 1e-8)
        assert close(res.sd_eff_w_re_hksj, sh["se"], 1e-8)
        assert close(res.q, ref_fe(y, v)[2], 1e-8)


def test_level_changes_interval(bcg):
    r90 = pool(bcg.yi, bcg.vi, level=0.90)
    ref = ref_summary(bcg.yi.to_numpy(), bcg.vi.to_numpy(), r90.tau2, level=0.90)
    assert close(r90.ci_low, ref["ci_low"]) and close(r90.pi_high, ref["pi_high"])
    assert r90.level == 0.90


def test_toy_hand_calculation():
    # yi = 0, 0.5, 1; vi = 0.1 each -> w = 10 each.
    # FE est = 0.5; Q = 10*(0.25 + 0 + 0.25) = 5; df = 2.
    # DL: C = 30 - 300/30 = 20 -> tau2 = (5 - 2)/20 = 0.15.
    # PM: sum (y-m)^2/(0.1 + t2) = 0.5/(0.1 + t2) = 2 -> t2 = 0.15.
    # REML (equal vi): t2 = sum (y-ybar)^2/(k-1) - v = 0.25 - 0.1 = 0.15.
    # RE weights 1/0.25 = 4 each -> est 0.5, se = sqrt(1/12) = 0.288675.
    # s2 = 2*30/(900 - 300) = 0.1 -> I2 = 100*0.15/0.25 = 60 %, H2 = 2.5.
    # HKSJ: q = 4*0.5/2 = 1 -> same se; CI = 0.5 +/- t(0.975, 2)*0.288675,
    #   t(0.975, 2) = 4.302653 -> [-0.742078, 1.742078].
    # PI (normal) = 0.5 +/- 1.959964*sqrt(1/12 + 0.15) = 0.5 +/- 1.959964*0.483046 = 0.5 +/- 0.946752.
    y, v = [0.0, 0.5, 1.0], [0.1, 0.1, 0.1]
    for m in ("DL", "PM", "REML"):
        r = pool(y, v, method=m)
        assert close(r.tau2, 0.15, 1e-9), m
        assert close(r.estimate, 0.5, 1e-12) and close(r.se, 0.288675, 1e-6)
        assert close(r.I2, 60.0, 1e-7) and close(r.H2, 2.5, 1e-9)
        assert close(r.pi_low, 0.5 - 0.946752, 1e-5)
        rh = pool(y, v, method=m, ci="hksj")
        assert close(rh.ci_low, -0.742078, 1e-5) and close(rh.ci_high, 1.742078, 1e-5)
    fe = pool(y, v, method="FE")
    assert close(fe.Q, 5.0, 1e-12) and close(fe.I2, 60.0, 1e-9)  # (5-2)/5


def test_dl_truncated_at_zero_and_reml_boundary():
    # Homogeneous studies: Q < df, so tau2 = 0 and the RE results equal FE.
    y, v = [0.10, 0.12, 0.11, 0.09], [0.04, 0.05, 0.03, 0.06]
    fe = pool(y, v, method="FE")
    for m in ("DL", "PM", "REML"):
        r = pool(y, v, method=m)
        assert r.tau2 == 0.0 and r.I2 == 0.0, m
        assert close(r.estimate, fe.estimate, 1e-12) and close(r.se, fe.se, 1e-12)
        assert close(r.pi_low, fe.ci_low, 1e-12)  # tau2 = 0 -> PI == CI (metafor's design)
    assert fe.I2 == 0.0


def test_pool_accepts_lists_series_and_case():
    r1 = pool([0.0, 0.5, 1.0], [0.1, 0.2, 0.3], method="reml", ci="HKSJ")
    r2 = pool(pd.Series([0.0, 0.5, 1.0]), np.array([0.1, 0.2, 0.3]), method="REML", ci="hksj")
    assert r1 == r2 and r1.method == "REML" and r1.ci_method == "hksj"
    one = pool([0.3], [0.04], method="FE")
    assert one.k == 1 and one.estimate == 0.3 and close(one.se, 0.2) and one.Q_df == 0
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        one.estimate = 1.0  # frozen


# --------------------------------------------------------------------------
# subgroups
# --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
@pytest.mark.parametrize("ci", ["normal", "hksj"])
def test_subgroups_by_alloc(bcg, method, ci):
    out = subgroups(bcg, "alloc", method=method, ci=ci)
    assert list(out["alloc"]) == ["alternate", "random", "systematic"]
    ests, ses = [], []
    for g, row in zip(out["alloc"], out.itertuples()):
        sub = bcg[bcg.alloc == g]
        y, v = sub.yi.to_numpy(), sub.vi.to_numpy()
        t2 = REF_TAU2[method](y, v)
        ref = ref_summary(y, v, t2, hksj=(ci == "hksj"))
        assert row.k == len(sub)
        assert close(row.tau2, t2, 1e-7)
        assert close(row.estimate, ref["estimate"], 1e-6) and close(row.se, ref["se"], 1e-6)
        assert close(row.ci_low, ref["ci_low"], 1e-6) and close(row.pi_high, ref["pi_high"], 1e-6)
        ests.append(ref["estimate"])
        ses.append(ref["se"])
    w = 1 / np.array(ses) ** 2
    e = np.array(ests)
    qb = np.sum(w * (e - np.sum(w * e) / np.sum(w)) ** 2)
    assert close(out.attrs["Q_between"], qb, 1e-6)
    assert out.attrs["Q_between_df"] == 2
    assert close(out.attrs["Q_between_pval"], stats.chi2.sf(qb, 2), 1e-8)


def test_subgroups_fe_hand_and_single_study():
    # group a: 0.1, 0.3 (v .04) -> 0.2, se^2 = .02; group b: 0.8, 1.0 -> 0.9, se^2 = .02
    # Q_between = 50*(0.2-0.55)^2 + 50*(0.9-0.55)^2 = 12.25
    d = pd.DataFrame(
        {"g": ["a", "a", "b", "b", "c"], "yi": [0.1, 0.3, 0.8, 1.0, 0.5], "vi": [0.04, 0.04, 0.04, 0.04, 0.02]}
    )
    out = subgroups(d.iloc[:4], "g", method="FE")
    assert close(out.attrs["Q_between"], 12.25, 1e-10)
    out2 = subgroups(d, "g", method="REML")
    c = out2.set_index("g").loc["c"]
    assert c["k"] == 1 and c["estimate"] == 0.5 and c["method"] == "FE" and "one study" in c["note"]


# --------------------------------------------------------------------------
# leave-one-out and cumulative
# --------------------------------------------------------------------------
@pytest.mark.parametrize("method,ci", [("REML", "normal"), ("DL", "hksj"), ("FE", "normal")])
def test_leave_one_out_matches_repooling(bcg, method, ci):
    out = leave_one_out(bcg.yi, bcg.vi, bcg.label, method=method, ci=ci)
    assert list(out["omitted"]) == list(bcg.label) and (out["k"] == 12).all()
    y, v = bcg.yi.to_numpy(), bcg.vi.to_numpy()
    for i, row in enumerate(out.itertuples()):
        keep = np.arange(13) != i
        r = pool(y[keep], v[keep], method=method, ci=ci)
        assert close(row.estimate, r.estimate, 1e-12) and close(row.tau2, r.tau2, 1e-12)
        assert close(row.ci_low, r.ci_low, 1e-12) and close(row.I2, r.I2, 1e-10)
        if method != "FE":  # and against the independent implementation
            t2 = REF_TAU2[method](y[keep], v[keep])
            ref = ref_summary(y[keep], v[keep], t2, hksj=(ci == "hksj"))
            assert close(row.estimate, ref["estimate"], 1e-6) and close(row.ci_high, ref["ci_high"], 1e-6)


def test_cumulative_by_year(bcg):
    out = cumulative(bcg, by="year", label="label", method="REML")
    order = bcg.sort_values("year", kind="stable")
    assert list(out["k"]) == list(range(2, 14))
    assert list(out["added"]) == list(order.label)[1:]
    assert list(out["year"]) == list(order.year)[1:]
    y, v = order.yi.to_numpy(), order.vi.to_numpy()
    for j, row in zip(range(2, 14), out.itertuples()):
        t2 = ref_tau2_reml(y[:j], v[:j])
        ref = ref_summary(y[:j], v[:j], t2)
        assert close(row.estimate, ref["estimate"], 1e-6), j
    last = out.iloc[-1]
    assert abs(round(last["estimate"], 4) - (-0.7145)) <= TOL
    fe = cumulative(bcg, by="year", method="FE")
    assert fe["k"].iloc[0] == 1 and close(fe["estimate"].iloc[0], order.yi.iloc[0], 1e-12)


# --------------------------------------------------------------------------
# Egger test
# --------------------------------------------------------------------------
def test_egger_against_lstsq():
    y = np.array([0.10, 0.35, 0.20, 0.60, 0.45, -0.05])
    v = np.array([0.010, 0.040, 0.020, 0.090, 0.060, 0.015])
    sei = np.sqrt(v)
    X = np.column_stack([np.ones(6), 1 / sei])
    z = y / sei
    beta, rss, *_ = np.linalg.lstsq(X, z, rcond=None)
    sigma2 = rss[0] / 4
    cov = sigma2 * np.linalg.inv(X.T @ X)
    t = beta[0] / math.sqrt(cov[0, 0])
    e = egger_test(y, v)
    assert e.k == 6 and e.df == 4
    assert close(e.intercept, beta[0], 1e-10) and close(e.intercept_se, math.sqrt(cov[0, 0]), 1e-10)
    assert close(e.t, t, 1e-9) and close(e.pval, 2 * stats.t.sf(abs(t), 4), 1e-10)
    assert close(e.slope, beta[1], 1e-10) and close(e.slope_se, math.sqrt(cov[1, 1]), 1e-10)


def test_egger_on_bcg_runs(bcg):
    e = egger_test(bcg.yi, bcg.vi)
    assert e.df == 11 and 0 <= e.pval <= 1


# --------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------
def test_back_transform():
    assert close(back_transform(math.log(0.5), "RR"), 0.5, 1e-12)
    assert close(back_transform(math.log(2.0), "or"), 2.0, 1e-12)
    assert back_transform(0.3, "SMD") == 0.3 and back_transform(-2.0, "MD") == -2.0
    arr = back_transform([0.0, math.log(3)], "OR")
    assert isinstance(arr, np.ndarray) and np.allclose(arr, [1.0, 3.0])
    assert isinstance(back_transform(0.1, "RR"), float)


def test_on_reporting_scale_ratios_and_differences(bcg):
    # FE subgroups of the hand example above: group a pools to 0.2 (CI 0.2 -/+ 1.959964*sqrt(.02)),
    # group b to 0.9; as odds ratios exp(0.2) = 1.22140, exp(0.9) = 2.45960.
    d = pd.DataFrame({"g": ["a", "a", "b", "b"], "yi": [0.1, 0.3, 0.8, 1.0], "vi": [0.04] * 4})
    raw = subgroups(d, "g", method="FE")
    shown = meta.on_reporting_scale(raw, "or")
    half = 1.959964 * math.sqrt(0.02)
    assert close(shown["estimate"].iloc[0], 1.22140, 1e-5) and close(shown["estimate"].iloc[1], 2.45960, 1e-5)
    assert close(shown["ci_low"].iloc[0], math.exp(0.2 - half), 1e-6)
    assert close(shown["ci_high"].iloc[1], math.exp(0.9 + half), 1e-6)
    assert "se" not in shown.columns and close(shown["se_log"].iloc[0], math.sqrt(0.02), 1e-10)
    assert close(shown.attrs["Q_between"], 12.25, 1e-10) and shown.attrs["scale"] == "ratio"
    assert close(raw["estimate"].iloc[0], 0.2, 1e-12) and "se" in raw.columns  # the input is untouched
    # BCG leave-one-out on the risk-ratio scale: every bound is exp() of the log-scale table
    loo = leave_one_out(bcg.yi, bcg.vi, bcg.label, method="REML")
    rr = meta.on_reporting_scale(loo, "RR")
    for col in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert np.allclose(rr[col], np.exp(loo[col]), rtol=1e-12)
    assert list(rr["omitted"]) == list(loo["omitted"]) and (rr["tau2"] == loo["tau2"]).all()
    same = meta.on_reporting_scale(loo, "SMD")
    assert same.equals(loo) and same is not loo and same.attrs["scale"] == "difference"
    with pytest.raises(MetaAnalysisError, match='measure "HR" is not an effect measure'):
        meta.on_reporting_scale(loo, "HR")
    with pytest.raises(MetaAnalysisError, match="must be a pandas DataFrame"):
        meta.on_reporting_scale([1, 2], "OR")


def test_effect_from_ci_roundtrip():
    yi, vi = -0.7, 0.04
    lo, hi = math.exp(yi - 1.959964 * 0.2), math.exp(yi + 1.959964 * 0.2)
    y2, v2 = effect_from_ci(math.exp(yi), lo, hi, "RR")
    assert close(y2, yi, 1e-12) and close(v2, vi, 1e-8)
    # MD, 90 % CI: se = (hi - lo)/(2*1.644854)
    y3, v3 = effect_from_ci(2.0, 1.0, 3.0, "MD", level=0.90)
    assert y3 == 2.0 and close(v3, (1 / 1.644854) ** 2, 1e-6)


# --------------------------------------------------------------------------
# input errors
# --------------------------------------------------------------------------
def test_error_class():
    assert issubclass(MetaAnalysisError, LeftbehindError) and issubclass(MetaAnalysisError, ValueError)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(yi=[0.1, 0.2, 0.3], vi=[0.1, 0.1]), r"same length.*3 and 2"),
        (dict(yi=[0.1, float("nan"), 0.3, float("inf")], vi=[0.1] * 4), r"yi has non-finite.*\[1, 3\]"),
        (dict(yi=[0.1, 0.2, 0.3], vi=[0.1, float("inf"), 0.1]), r"vi has non-finite.*\[1\]"),
        (dict(yi=[0.1, 0.2, 0.3], vi=[0.1, 0.0, -0.2]), r"vi must be > 0.*\[1, 2\]"),
        (dict(yi=[0.1, "a", 0.3], vi=[0.1, 0.1, 0.1]), r"yi must contain numbers.*\[1\]"),
        (dict(yi="0.1", vi=[0.1]), r"yi must be a sequence"),
        (dict(yi=[[0.1, 0.2]], vi=[[0.1, 0.2]]), r"one-dimensional"),
        (
            dict(yi=[0.1, 0.2], vi=[0.1, 0.1], method="ML"),
            r'method "ML" is not a pooling method.*Valid: FE, DL, PM, REML',
        ),
        (
            dict(yi=[0.1, 0.2], vi=[0.1, 0.1], ci="wald"),
            r'ci "wald" is not a confidence-interval method.*Valid: normal, hksj',
        ),
        (dict(yi=[0.1, 0.2], vi=[0.1, 0.1], level=95), r"level must be strictly between 0 and 1"),
        (dict(yi=[0.1, 0.2], vi=[0.1, 0.1], level=0.0), r"level must be strictly between 0 and 1"),
        (dict(yi=[0.1, 0.2], vi=[0.1, 0.1], level="0.95"), r"level must be a number"),
        (dict(yi=[0.1, 0.2], vi=[0.1, 0.1], level=True), r"level must be a number"),
        (dict(yi=[0.1], vi=[0.1], method="REML"), r"k = 1 study is too few.*random-effects.*k >= 2"),
        (dict(yi=[0.1], vi=[0.1], method="DL"), r"k >= 2"),
        (dict(yi=[], vi=[], method="FE"), r"k = 0 studies is too few.*fixed-effect.*k >= 1"),
        (dict(yi=[0.1], vi=[0.1], method="FE", ci="hksj"), r"HKSJ.*k >= 2"),
    ],
)
def test_pool_input_errors(kwargs, match):
    with pytest.raises(MetaAnalysisError, match=match):
        pool(**kwargs)


def test_other_input_errors(bcg):
    with pytest.raises(MetaAnalysisError, match=r"column\(s\) \['nope'\] not found"):
        subgroups(bcg, "nope")
    with pytest.raises(MetaAnalysisError, match=r"at least 2 subgroups"):
        subgroups(bcg.assign(one="x"), "one")
    with pytest.raises(MetaAnalysisError, match=r"missing values at position\(s\) \[0\]"):
        subgroups(bcg.assign(g=[None] + ["a"] * 12), "g")
    with pytest.raises(MetaAnalysisError, match=r"df must be a pandas DataFrame"):
        subgroups({"a": 1}, "a")
    with pytest.raises(MetaAnalysisError, match=r"subgroup alloc='alternate'.*vi must be > 0"):
        subgroups(bcg.assign(vi=np.where(bcg.alloc == "alternate", -1.0, bcg.vi)), "alloc")
    with pytest.raises(MetaAnalysisError, match=r'method "XX" is not a pooling method'):
        subgroups(bcg, "alloc", method="XX")
    with pytest.raises(MetaAnalysisError, match=r"labels must have one entry per study"):
        leave_one_out(bcg.yi, bcg.vi, ["a"])
    with pytest.raises(MetaAnalysisError, match=r"leave-one-out needs k >= 3"):
        leave_one_out([0.1, 0.2], [0.1, 0.1], ["a", "b"])
    with pytest.raises(MetaAnalysisError, match=r"column\(s\) \['when'\] not found"):
        cumulative(bcg, by="when")
    with pytest.raises(MetaAnalysisError, match=r'ci "z" is not a confidence-interval method'):
        cumulative(bcg, ci="z")
    with pytest.raises(MetaAnalysisError, match=r"k >= 3.*k = 2"):
        egger_test([0.1, 0.2], [0.1, 0.2])
    with pytest.raises(MetaAnalysisError, match=r"all vi are equal"):
        egger_test([0.1, 0.2, 0.3], [0.1, 0.1, 0.1])
    with pytest.raises(MetaAnalysisError, match=r"vi must be > 0.*\[2\]"):
        egger_test([0.1, 0.2, 0.3], [0.1, 0.1, 0.0])
    with pytest.raises(MetaAnalysisError, match=r'measure "HR" is not an effect measure.*Valid: OR, RR, SMD, MD'):
        back_transform(0.1, "HR")
    with pytest.raises(MetaAnalysisError, match=r"x must be numeric"):
        back_transform("a", "RR")
    with pytest.raises(MetaAnalysisError, match=r"ratio measure: ci_low must be > 0"):
        effect_from_ci(0.5, 0.0, 1.0, "OR")
    with pytest.raises(MetaAnalysisError, match=r"ci_low must be < ci_high"):
        effect_from_ci(0.5, 1.0, 0.2, "MD")
    with pytest.raises(MetaAnalysisError, match=r"outside its interval"):
        effect_from_ci(2.0, 0.5, 1.0, "RR")
    with pytest.raises(MetaAnalysisError, match=r"estimate must be a finite number"):
        effect_from_ci(float("nan"), 0.5, 1.0, "SMD")
    with pytest.raises(MetaAnalysisError, match=r"level must be strictly between"):
        effect_from_ci(0.8, 0.5, 1.0, "RR", level=1.5)
    with pytest.raises(MetaAnalysisError, match=r'measure "logOR" is not an effect measure'):
        effect_from_ci(0.8, 0.5, 1.0, "logOR")


def test_plot_input_errors(bcg):
    r = pool(bcg.yi, bcg.vi)
    with pytest.raises(MetaAnalysisError, match=r"labels must have one entry"):
        forest_plot(r, bcg.yi, bcg.vi, ["a"], "RR")
    with pytest.raises(MetaAnalysisError, match=r"pooled from k = 13.*yi has 12"):
        forest_plot(r, bcg.yi[:12], bcg.vi[:12], list(bcg.label[:12]), "RR")
    with pytest.raises(MetaAnalysisError, match=r'measure "X" is not an effect measure'):
        forest_plot(r, bcg.yi, bcg.vi, bcg.label, "X")
    with pytest.raises(MetaAnalysisError, match=r"result must be a PoolResult"):
        forest_plot({}, bcg.yi, bcg.vi, bcg.label, "RR")
    with pytest.raises(MetaAnalysisError, match=r"vi must be > 0"):
        funnel_plot([0.1, 0.2], [0.1, -0.1], "SMD")


# --------------------------------------------------------------------------
# plots (smoke)
# --------------------------------------------------------------------------
def _by_gid(ax, gid):
    arts = list(ax.collections) + list(ax.patches) + list(ax.lines) + list(ax.texts)
    return [a for a in arts if a.get_gid() == gid]


def test_forest_plot_smoke(bcg):
    r = pool(bcg.yi, bcg.vi)
    labels = [f"{lab} (country)" for lab in bcg.label]
    fig = forest_plot(r, bcg.yi, bcg.vi, labels, "RR", source="Colditz et al. 1994")
    ax = fig.axes[0]
    markers = _by_gid(ax, "study_markers")
    assert len(markers) == 1 and len(markers[0].get_offsets()) == 13
    diamonds = _by_gid(ax, "pooled_diamond")
    assert len(diamonds) == 1 and isinstance(diamonds[0], Polygon)
    xs = diamonds[0].get_xy()[:, 0]
    assert close(xs.min(), math.exp(r.ci_low), 1e-9) and close(xs.max(), math.exp(r.ci_high), 1e-9)
    pi = _by_gid(ax, "prediction_interval")
    assert len(pi) == 1 and np.allclose(pi[0].get_xdata(), np.exp([r.pi_low, r.pi_high]))
    assert ax.get_xscale() == "log" and "Risk ratio" in ax.get_xlabel()
    assert [t.get_text() for t in _by_gid(ax, "weight_text")][0] == f"{r.weights[0]:.1f}%"
    assert labels[0] in [t.get_text() for t in ax.get_yticklabels()]
    assert source_text(fig) == "Source: Colditz et al. 1994"
    fig.canvas.draw()
    plt.close(fig)


def test_forest_plot_fe_linear_and_given_ax():
    y, v = [0.2, 0.5, -0.1], [0.05, 0.02, 0.08]
    r = pool(y, v, method="FE")
    fig0, ax0 = plt.subplots()
    fig = forest_plot(r, y, v, ["A", "B", "C"], "SMD", ax=ax0)
    assert fig is fig0 and ax0.get_xscale() == "linear"
    assert _by_gid(ax0, "prediction_interval") == []  # no PI for FE
    assert len(_by_gid(ax0, "pooled_diamond")) == 1
    assert not fig.texts  # no source line
    plt.close(fig)


def test_funnel_plot_smoke(bcg):
    fig = funnel_plot(bcg.yi, bcg.vi, "OR", source="metafor dat.bcg")
    ax = fig.axes[0]
    pts = _by_gid(ax, "study_points")
    assert len(pts) == 1 and len(pts[0].get_offsets()) == 13
    assert ax.yaxis_inverted() and ax.get_xscale() == "log"
    assert len(ax.collections) >= 7  # 6 shaded contour regions + points
    assert source_text(fig) == "Source: metafor dat.bcg"
    fig.canvas.draw()
    plt.close(fig)
    fig2 = funnel_plot(bcg.yi, bcg.vi, "MD")
    assert fig2.axes[0].get_xscale() == "linear"
    plt.close(fig2)


# --------------------------------------------------------------------------
# docstring examples
# --------------------------------------------------------------------------
@pytest.mark.parametrize("mod", [meta, meta_plots])
def test_doctests(mod):
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_public_functions_documented():
    for mod, names in ((meta, meta.__all__), (meta_plots, ["forest_plot", "funnel_plot"])):
        for name in names:
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type):
                doc = obj.__doc__ or ""
                for section in ("Parameters", "Returns", "Raises", "Examples"):
                    assert section in doc, (name, section)


@pytest.mark.parametrize("seed", range(25))
def test_random_datasets_match_reference(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 15))
    v = rng.uniform(0.005, 0.5, k)
    y = rng.normal(0.2, math.sqrt(rng.uniform(0, 0.6)), k) + rng.normal(0, np.sqrt(v))
    for method in ("DL", "PM", "REML"):
        t2 = REF_TAU2[method](y, v)
        r = pool(y, v, method=method, ci="hksj")
        assert close(r.tau2, t2, 1e-7), (method, r.tau2, t2)
        ref = ref_summary(y, v, t2, hksj=True)
        assert close(r.estimate, ref["estimate"], 1e-6) and close(r.ci_low, ref["ci_low"], 1e-5)


def test_pm_fallback_agrees():
    # private fallback solver agrees with the statsmodels-based path
    y = np.array([0.1, 0.9, -0.4, 0.5, 1.2])
    v = np.array([0.02, 0.05, 0.04, 0.1, 0.03])
    assert close(_pooling._tau2_pm_brent(y, v), pool(y, v, method="PM").tau2, 1e-8)
    assert close(_pooling._tau2_pm_brent(y, v), ref_tau2_pm(y, v), 1e-8)
