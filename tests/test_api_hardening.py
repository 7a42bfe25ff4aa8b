"""Issue 17, items 12-14: the library answers or fails, never answers wrongly.

* item 13: pooling does not depend on the units of the effects (scale invariance, REML on currency-sized effects),
  and extreme inputs give finite, exactly checked results or a MetaAnalysisError, never NaN or a silent tau^2 = 0;
* item 12: unknown codes, non-integer years and wrong types raise a LeftbehindError (with did-you-mean), and a
  missing data file raises a DataError naming it;
* item 14: a UTF-8 byte-order mark in a CSV header is accepted.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from leftbehind import country, data, literature, meta
from leftbehind.errors import DataError, LeftbehindError, MetaAnalysisError, ParameterError

# --------------------------------------------------------------------------------------------------------------
# item 13: scale invariance of pooling
# --------------------------------------------------------------------------------------------------------------
_Y0 = np.array([0.12, 0.55, -0.31, 0.93, 0.40, 0.05])
_V0 = np.array([0.021, 0.052, 0.043, 0.11, 0.015, 0.08])
_DATASETS = {
    "heterogeneous": (_Y0, _V0),
    "homogeneous": (np.array([0.30, 0.31, 0.29, 0.30]), np.array([0.05, 0.04, 0.06, 0.05])),  # tau^2 = 0
    "currency": (np.array([4100.0, 5230.0, 2980.0, 6120.0, 3870.0]), np.array([2.1e5, 4.0e5, 1.3e5, 8.8e5, 3.2e5])),
}
_SCALED = ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high")
_SAME = ("I2", "H2", "Q", "Q_pval", "z_or_t", "pval")


def _assert_scaled(r: meta.PoolResult, base: meta.PoolResult, c: float, rtol: float = 1e-7) -> None:
    unit = base.se  # differences are judged against the SE, so that an estimate near 0 is no problem
    for key in _SCALED:
        got, want = getattr(r, key) / c, getattr(base, key)
        if math.isnan(want):
            assert math.isnan(got), key
        else:
            assert abs(got - want) <= rtol * (abs(want) + unit), (key, got, want)
    assert abs(r.tau2 / c**2 - base.tau2) <= rtol * (base.tau2 + unit**2), ("tau2", r.tau2 / c**2, base.tau2)
    for key in _SAME:
        got, want = getattr(r, key), getattr(base, key)
        assert (math.isnan(got) and math.isnan(want)) or abs(got - want) <= rtol * (abs(want) + 1e-12), key
    assert np.allclose(r.weights, base.weights, rtol=rtol, atol=0)


@pytest.mark.parametrize("c", [1e-6, 1e-3, 0.37, 3.0, 1e3, 1e6])
@pytest.mark.parametrize(
    ("method", "ci"),
    [("DL", "normal"), ("PM", "normal"), ("REML", "normal"), ("REML", "hksj"), ("PM", "hksj"), ("FE", "normal")],
)
@pytest.mark.parametrize("dataset", sorted(_DATASETS))
def test_pooling_c_y_c2_v_gives_c_mu_and_c2_tau2(dataset, method, ci, c):
    y, v = _DATASETS[dataset]
    base = meta.pool(y, v, method=method, ci=ci)
    _assert_scaled(meta.pool(c * y, c * c * v, method=method, ci=ci), base, c)


def test_reml_converges_on_effects_in_currency_units():
    """The issue's case: 200 random datasets of mean differences of order 1e3-1e4 (73 failed with an absolute
    tolerance); each converges and equals the pooling of the same data in thousands, times 1000."""
    for seed in range(200):
        rng = np.random.default_rng(seed)
        k = int(rng.integers(3, 15))
        v = rng.uniform(1e4, 1e6, k)
        y = rng.normal(5000, 2000, k) + rng.normal(0, np.sqrt(v))
        r = meta.pool(y, v, method="REML")
        _assert_scaled(r, meta.pool(y / 1000, v / 1e6, method="REML"), 1000.0)


def test_subgroups_and_leave_one_out_are_scale_invariant():
    y, v = _DATASETS["heterogeneous"]
    labels = list("ABCDEF")
    base = meta.leave_one_out(y, v, labels, method="REML")
    big = meta.leave_one_out(1e4 * y, 1e8 * v, labels, method="REML")
    assert np.allclose(big["tau2"] / 1e8, base["tau2"], rtol=1e-7, atol=0)
    assert np.allclose(big["I2"], base["I2"], rtol=1e-7, atol=0)


# --------------------------------------------------------------------------------------------------------------
# item 13: extreme inputs are pooled exactly or refused
# --------------------------------------------------------------------------------------------------------------
def _exact(y: np.ndarray, v: np.ndarray, t2: Fraction) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """Exact (rational) ``(mu, Q, REML score, sum w - sum w^2 / sum w)`` at tau^2 = ``t2``."""
    w = [1 / (Fraction(float(vi)) + t2) for vi in v]
    sw = sum(w)
    sw2 = sum(wi * wi for wi in w)
    mu = sum(wi * Fraction(float(yi)) for wi, yi in zip(w, y)) / sw
    r2 = [(Fraction(float(yi)) - mu) ** 2 for yi in y]
    Q = sum(wi * ri for wi, ri in zip(w, r2))
    score = sum(wi * wi * ri for wi, ri in zip(w, r2)) - (sw - sw2 / sw)
    return mu, Q, score, sw - sw2 / sw


def _assert_exactly_right(r: meta.PoolResult, y: np.ndarray, v: np.ndarray) -> None:
    """Check a pooled result against exact rational arithmetic: Q, tau^2 (the estimating equation changes sign
    within 1e-7 of the returned tau^2, or tau^2 = 0 is the right boundary) and the weighted mean at that tau^2."""
    k = len(y)
    _, Q0, score0, c0 = _exact(y, v, Fraction(0))
    assert math.isclose(r.Q, float(Q0), rel_tol=1e-9), (r.Q, float(Q0))
    t2 = Fraction(r.tau2)
    if r.method == "DL":
        want = max(Fraction(0), (Q0 - (k - 1)) / c0)
        assert math.isclose(r.tau2, float(want), rel_tol=1e-9, abs_tol=0.0), (r.tau2, float(want))
    elif r.method in ("PM", "REML"):

        def equation(t: Fraction) -> Fraction:
            mu, Q, score, _ = _exact(y, v, t)
            return Q - (k - 1) if r.method == "PM" else score

        if r.tau2 == 0:
            assert equation(Fraction(0)) <= 0, "tau^2 = 0 but the estimating equation says it is positive"
        else:
            lo, hi = t2 * Fraction(1 - 1e-7), t2 * Fraction(1 + 1e-7)
            assert equation(lo) > 0 > equation(hi), (r.method, r.tau2)
    mu = _exact(y, v, t2)[0]
    assert abs(Fraction(r.estimate) - mu) <= Fraction(1e-9) * (abs(mu) + Fraction(r.se))


_EXTREME = {
    # a pure rescaling of _Y0/_V0: must pool, and equal c times the moderate fit
    "y*1e150, v*1e300": (_Y0 * 1e150, _V0 * 1e300, 1e150),
    "y*1e-150, v*1e-300": (_Y0 * 1e-150, _V0 * 1e-300, 1e-150),
    "y*1e-155, v*1e-310 (subnormal v)": (_Y0 * 1e-155, _V0 * 1e-310, 1e-155),
    "y*1e100, v*1e200": (_Y0 * 1e100, _V0 * 1e200, 1e100),
    # not a rescaling: pooled exactly right, or refused
    "y, v*1e-300": (_Y0, _V0 * 1e-300, None),
    "y, v = 5e-324": (_Y0, np.full(6, 5e-324), None),
    "y*1e150, v": (_Y0 * 1e150, _V0, None),
    "y*1e160, v": (_Y0 * 1e160, _V0, None),
    "y + 1e150, v": (_Y0 + 1e150, _V0, None),
    "y + 1e16, v": (_Y0 + 1e16, _V0, None),
    "y + 1e10, v": (_Y0 + 1e10, _V0, None),
    "y*1e-200, v": (_Y0 * 1e-200, _V0, None),
    "y, v*1e300": (_Y0, _V0 * 1e300, None),
    "v mix 1e-300 and 1": (_Y0, np.array([1e-300, 1.0, 1.0, 1.0, 1.0, 1.0]), None),
    "v mix 1e-20 and 1": (_Y0, np.array([1e-20, 1.0, 1.0, 1.0, 1.0, 1.0]), None),
    "v mix 1e-15 and 1": (_Y0, np.array([1e-15, 1.0, 1.0, 1.0, 1.0, 1.0]), None),
    "v mix 1e300 and 1e-300": (_Y0, np.array([1e300, 1e-300, 1.0, 1e300, 1e-300, 1.0]), None),
    "y mix 1e150 and 0.1": (np.array([1e150, 0.1, 0.2, 0.3, -0.2, 0.0]), _V0, None),
    "y mix 1e150, v mix 1e-300": (np.array([1e150, 0.1, 0.2, 0.3, -0.2, 0.0]), _V0 * [1, 1e-300, 1, 1, 1, 1], None),
}
#: Inputs whose results are representable: these must pool (not be refused).
_MUST_POOL = {
    "y*1e150, v*1e300",
    "y*1e-150, v*1e-300",
    "y*1e100, v*1e200",
    "y, v*1e-300",
    "y + 1e150, v",
    "y*1e-200, v",
    "y, v*1e300",
    "v mix 1e-15 and 1",
    "v mix 1e-20 and 1",
    "y + 1e16, v",
    "y + 1e10, v",
    "y*1e150, v",
    "y mix 1e150 and 0.1",
    "v mix 1e300 and 1e-300",
}


@pytest.mark.parametrize(
    ("method", "ci"), [("FE", "normal"), ("DL", "normal"), ("PM", "normal"), ("REML", "normal"), ("REML", "hksj")]
)
@pytest.mark.parametrize("case", list(_EXTREME))
def test_extreme_inputs_pool_exactly_or_raise(case, method, ci):
    y, v, c = _EXTREME[case]
    try:
        r = meta.pool(y, v, method=method, ci=ci)
    except MetaAnalysisError as exc:
        assert case not in _MUST_POOL, f"{case}: refused although representable: {exc}"
        assert "double precision" in str(exc) or "converge" in str(exc), str(exc)
        return
    fields = ["estimate", "se", "ci_low", "ci_high", "tau2", "tau", "I2", "H2", "Q", "Q_pval"]
    fields += [] if method == "FE" else ["pi_low", "pi_high"]
    fields += ["z_or_t", "pval"] if r.se > 0 else []
    assert all(math.isfinite(getattr(r, f)) for f in fields), {f: getattr(r, f) for f in fields}
    assert all(math.isfinite(w) for w in r.weights) and math.isclose(sum(r.weights), 100.0, rel_tol=1e-9)
    _assert_exactly_right(r, y, v)
    if c is not None:
        _assert_scaled(r, meta.pool(_Y0, _V0, method=method, ci=ci), c, rtol=1e-9)


# --------------------------------------------------------------------------------------------------------------
# item 12: codes, years and types are checked, never answered with an empty or partial table
# --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: data.figures("migrant_stock", geography="WDL", year=2020), r'geography "WDL" .*Did you mean "WLD"\?'),
        (lambda: data.figures("migrant_stock", geography="wld", year=2020), r'geography "wld" .*Did you mean "WLD"\?'),
        (lambda: data.figures("migrant_stock", geography=["WLD", "NLP"]), r'geography "NLP" .*Did you mean "NPL"\?'),
        (lambda: literature.studies(country="NLP"), r'country "NLP" is not an ISO3 country code.*Did you mean "NPL"'),
        (lambda: literature.studies(country="WLD"), r'country "WLD" is not an ISO3 country code'),
        (lambda: literature.region_of("npl"), r'iso3 "npl" .*Did you mean "NPL"\?'),
        (lambda: data.remittances(["NPL", "LKX"]), r'countries "LKX" .*Valid: ABW, AFG'),
        (lambda: data.country_name("kgz"), r'"kgz" .*Did you mean "KGZ"\?'),
        (lambda: country.emigrants("LKa"), r'iso3 "LKa" .*Did you mean "LKA"\?'),
        (lambda: country.pooled_by_outcome("NLP"), r'iso3 "NLP" .*Did you mean "NPL"\?'),
        (lambda: country.remittance_comparison("NLP"), r'iso3 "NLP"'),
        (lambda: literature.effects(["wickramage2105"]), r'study_id "wickramage2105" .*"wickramage2015"'),
        (lambda: literature.direction_table(["wickramage2015", "nope"]), r'study_id "nope"'),
    ],
)
def test_unknown_codes_raise_with_did_you_mean(call, match):
    with pytest.raises(ParameterError, match=match) as info:
        call()
    valid = str(info.value).split("Valid: ")[1]
    assert valid.count(",") <= 41 and " in all)" in valid  # a long list of choices is cut to its first 40


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: data.figures("migrant_stock", geography="WLD", year="2020"), r"year must be a whole number.*'2020'"),
        (lambda: data.figures("migrant_stock", year=2020.0), r"year must be a whole number.*2020\.0 \(float\)"),
        (lambda: data.figures("migrant_stock", year=True), r"year must be a whole number.*True \(bool\)"),
        (lambda: data.figures("migrant_stock", years=(2020,)), r"years must be a \(first, last\) pair"),
        (lambda: data.figures("migrant_stock", years="2020"), r"years must be a \(first, last\) pair"),
        (lambda: data.figures("migrant_stock", years=(2000, "2020")), r"years\[1\] must be a whole number"),
        (lambda: data.figures("migrant_stock", years=(2020, 2010)), r"first year 2020 is after the last year 2010"),
        (lambda: data.remittances(["NPL"], years=(2020,)), r"years must be a \(first, last\) pair"),
        (lambda: data.lmy_remittance_flows([2019.0, 2020]), r"years\[0\] must be a whole number"),
        (lambda: country.remittance_comparison("NPL", years=2020), r"years must be a \(first, last\) pair"),
        (lambda: literature.studies(from_year="2010"), r"from_year must be a whole number.*'2010'"),
        (lambda: literature.studies(to_year=2015.5), r"to_year must be a whole number"),
        (lambda: literature.select(from_year=None, to_year="2020"), r"to_year must be a whole number"),
    ],
)
def test_years_must_be_whole_numbers(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: data.figures("migrant_stock", geography=123), r"geography must be a code .*123 \(int\)"),
        (lambda: data.figures("migrant_stock", geography=["WLD", 123]), r"each code must be a string, got 123"),
        (lambda: data.figures("migrant_stock", geography=[]), r"geography: an empty list selects nothing"),
        (lambda: data.figures("migrant_stock", unit=["USD"]), r"unit must be one value, got a list"),
        (lambda: data.figures("migrant_stock", edition=np.array(["x"])), r"edition .* is not an edition"),
        (lambda: data.figures(["migrant_stock"]), r"indicator must be one value, got a list"),
        (lambda: data.breakdown("migrant_workers", ["sex"]), r"breakdown must be one value, got a list"),
        (lambda: data.country_name(["NPL"]), r'must be one code such as "NPL"'),
        (lambda: data.editions(5), r'indicator "5" is not an indicator'),
        (lambda: data.remittances(42), r"countries must be a code"),
        (lambda: literature.studies(country=["NPL"]), r"country must be one code"),
        (lambda: literature.effects(5), r"study_ids must be a list of study ids"),
        (lambda: country.pooled_by_outcome("NPL", min_studies="2"), r"min_studies must be a whole number"),
    ],
)
def test_wrong_types_raise_a_leftbehind_error(call, match):
    with pytest.raises(LeftbehindError, match=match):
        call()


def test_valid_codes_and_years_in_other_containers_still_work():
    want = data.figures("migrant_stock", geography=["WLD", "NPL"], years=(2015, 2020))
    got = data.figures("migrant_stock", geography=np.array(["WLD", "NPL"]), years=[np.int64(2015), np.int64(2020)])
    assert len(want) > 0 and got.equals(want)
    # UN DESA 2024 revision, World, 2020: summed by the build from its destination x origin table (not typed)
    assert data.figures("migrant_stock", geography="WLD", year=np.int64(2020))["value"].tolist() == [275284032.0]
    assert data.remittances("NPL", "pct_gdp", (2019, 2020)).equals(data.remittances(["NPL"], "pct_gdp", (2019, 2020)))
    one = literature.effects("wickramage2015")
    assert len(one) > 0 and one.equals(literature.effects(["wickramage2015"]))
    assert literature.direction_table([]).empty


# --------------------------------------------------------------------------------------------------------------
# item 12: a missing data file is a DataError naming it
# --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("remove", "call", "match"),
    [
        ("figures.csv", lambda: data.figures("migrant_stock", geography="WLD"), r"data/figures\.csv: file not found"),
        ("editions.csv", lambda: data.figures("migrant_stock", geography="WLD"), r"data/editions\.csv: file not found"),
        ("geographies.csv", lambda: data.country_name("NPL"), r"data/geographies\.csv: file not found"),
        ("sources.csv", lambda: data.package_info(), r"data/sources\.csv: file not found"),
        ("sources.csv", lambda: data.file_sha256("sources"), r"data/sources\.csv: file not found"),
        ("literature/studies.csv", lambda: literature.studies(), r"data/literature/studies\.csv: file not found"),
    ],
)
def test_a_missing_data_file_is_a_data_error_naming_it(data_copy, remove, call, match):
    (data_copy / remove).unlink()
    with pytest.raises(DataError, match=match):
        call()


def test_a_data_file_that_is_a_folder_is_a_data_error(data_copy):
    (data_copy / "figures.csv").unlink()
    (data_copy / "figures.csv").mkdir()
    with pytest.raises(DataError, match=r"data/figures\.csv: cannot be read"):
        data.load("figures")


def test_a_data_dir_without_datapackage_json_is_refused_not_replaced(data_copy):
    """LEFTBEHIND_DATA_DIR is an explicit choice: without its datapackage.json, the repository's data/ must not
    be used in its place."""
    (data_copy / "datapackage.json").unlink()
    with pytest.raises(DataError, match=r"no data package found in .*LEFTBEHIND_DATA_DIR names it"):
        data.figures("migrant_stock", geography="WLD")
    with pytest.raises(DataError, match="no data package found"):
        data.package_info()


# --------------------------------------------------------------------------------------------------------------
# item 14 (part): a UTF-8 byte-order mark in a CSV header is accepted
# --------------------------------------------------------------------------------------------------------------
def test_a_utf8_bom_in_a_csv_header_is_accepted(data_copy):
    before = data.load("seed_figures")
    path = data_copy / "seed_figures.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    after = data.load("seed_figures")
    assert after.equals(before)
    desc = data_copy / "datapackage.json"
    desc.write_bytes(b"\xef\xbb\xbf" + desc.read_bytes())
    assert data.descriptor()["name"] == "leftbehind"
