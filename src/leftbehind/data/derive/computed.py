"""Series computed here from two derived series, each as an edition of its own whose citation names both
inputs and says it was computed: remittances received as a percentage of GDP from the newest remittances and
GDP releases, and emigrants as a percentage of the population of their country from one UN DESA revision.

Examples
--------
>>> ratio(Decimal("66237847600"), Decimal("1789114556889"), Decimal(100))  # 6.62e10 / 1.79e12 = 3.70 %
'3.70227'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .common import Figure, number

__all__ = ["Ratio", "COMPUTED", "ratio", "computed_rows"]


@dataclass(frozen=True)
class Ratio:
    """``indicator`` = ``numerator`` ÷ ``denominator`` × ``scale``, geography by geography, year by year.

    ``same_edition``: both inputs from one edition (the newest that has both, e.g. a UN DESA revision's stocks
    over that revision's population); otherwise each from its newest edition (remittances from the newest WDI
    release, GDP from the newest GDP release)."""

    indicator: str
    numerator: str
    denominator: str
    scale: Decimal
    same_edition: bool
    title: str
    numerator_label: str
    denominator_label: str


#: The computed series, declared once.
COMPUTED: tuple[Ratio, ...] = (
    Ratio(
        "remittances_received_pct_gdp",
        "remittances_received_usd",
        "gdp_usd",
        Decimal(100),
        same_edition=False,
        title="Personal remittances received (% of GDP), computed here: remittances received (current US$) ÷ GDP "
        "(current US$) × 100",
        numerator_label="remittances received",
        denominator_label="GDP",
    ),
    Ratio(
        "emigrant_stock_share_population",
        "emigrant_stock",
        "population",
        Decimal(100),
        same_edition=True,
        title="Emigrants as a percentage of the population of their country of origin, computed here: emigrant "
        "stock ÷ total population at mid-year × 100",
        numerator_label="emigrant stock",
        denominator_label="population",
    ),
)
#: Decimal places of a computed percentage (a published WDI percentage has about as many significant digits).
PLACES = Decimal("0.000001")


def ratio(numerator: Decimal, denominator: Decimal, scale: Decimal) -> str:
    """``numerator / denominator × scale`` to :data:`PLACES`, in its shortest exact form."""
    return number((numerator / denominator * scale).quantize(PLACES))


def computed_rows(
    figures: Sequence[Figure], edition_of: dict[str, str], released: dict[str, str]
) -> list[tuple[Ratio, str, str, list[Figure]]]:
    """For each :data:`COMPUTED` series: ``(ratio, numerator source, denominator source, rows)``, its rows citing
    the edition ``computed_<numerator edition>_<denominator edition>`` (the caller writes its source and
    edition). ``edition_of`` maps a source to its edition, ``released`` an edition to its release date.
    Only geographies and years (and sexes) that both inputs have, with a positive denominator."""
    out = []
    for spec in COMPUTED:
        num = [f for f in figures if f.indicator == spec.numerator and f.sex == "total"]
        den = [f for f in figures if f.indicator == spec.denominator and f.sex == "total"]
        pair = _pick(spec, num, den, edition_of, released)
        if pair is None:
            continue
        num_source, den_source = pair
        bottom = {(f.geography, f.year): f for f in den if f.source_id == den_source}
        sid = f"computed_{edition_of[num_source]}_{edition_of[den_source]}"
        rows = []
        for top in (f for f in num if f.source_id == num_source):
            under = bottom.get((top.geography, top.year))
            if under is None or Decimal(under.value) <= 0:
                continue
            value = ratio(Decimal(top.value), Decimal(under.value), spec.scale)
            rows.append(
                Figure(
                    spec.indicator, top.geography, top.year, "total", value, sid, f"{top.location} / {under.location}"
                )
            )
        out.append((spec, num_source, den_source, rows))
    return out


def _newest(sources: set[str], edition_of: dict[str, str], released: dict[str, str]) -> str | None:
    return max(sources, key=lambda s: (released[edition_of[s]], s), default=None)


def _pick(
    spec: Ratio, num: list[Figure], den: list[Figure], edition_of: dict[str, str], released: dict[str, str]
) -> tuple[str, str] | None:
    num_sources, den_sources = {f.source_id for f in num}, {f.source_id for f in den}
    if spec.same_edition:
        shared = {edition_of[s] for s in num_sources} & {edition_of[s] for s in den_sources}
        if not shared:
            return None
        edition = max(shared, key=lambda e: (released[e], e))
        top = _newest({s for s in num_sources if edition_of[s] == edition}, edition_of, released)
        bottom = _newest({s for s in den_sources if edition_of[s] == edition}, edition_of, released)
    else:
        top, bottom = _newest(num_sources, edition_of, released), _newest(den_sources, edition_of, released)
    return None if top is None or bottom is None else (top, bottom)
