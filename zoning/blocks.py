"""Old industrial blocks and freed land (SPEC §11): frames in, frames out, no files.

- :func:`assign_blocks`: the block of every member plot (retain / consolidate): its
  village park, or the polygon of an optional ``blocks`` layer it overlaps most;
- :func:`enterprise_years`: the enterprise tables of several years as one frame;
- :func:`block_facts`: plots, mu, town, median built year, floor-area ratio, the three
  per-mu indicators per year and the D-graded share;
- :func:`decide_modes`: the mode table B1–B3 with a reason quoting the numbers (a cheap
  table operation: a what-if re-decides without touching geometry);
- :func:`assign_sites`, :func:`site_facts`, :func:`decide_reuse`: freed sites (linked
  vacate plots), their facts and the reuse table F1–F3;
- :func:`town_quota`: freed mu per town and reuse, and the construction-land quota;
- :func:`run`: the whole job, returning :class:`Blocks`.

Missing facts are NaN (written as empty cells); a condition on a missing fact is false.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .config import DEFAULT_PARAMETERS, Config
from .errors import LayerError, ZoningError
from .measures import adjacency_pairs, group_union, largest_overlap, to_mu, village_parks
from .rules import fixed
from .vocab import (
    BLOCK_INDICATORS,
    MODE_RULES,
    MODE_ZH,
    REUSE_RULES,
    REUSE_ZH,
    REUSES,
    UNKNOWN_TOWN,
)

#: Classes whose plots are block members, and the class whose plots are freed.
MEMBER_CLASSES = ("retain", "consolidate")
FREED_CLASS = "vacate"
#: The per-mu indicators of a block: name -> numerator field of the enterprise table.
INDICATORS = BLOCK_INDICATORS
BLOCK_COLUMNS = [
    "block_id",
    "town",
    "plots",
    "mu",
    "built_year",
    "floor_area_ratio",
    "tax_per_mu",
    "output_per_mu",
    "investment_per_mu",
    "d_share",
    "mode",
    "mode_zh",
    "rule",
    "reason",
]
SITE_COLUMNS = [
    "site_id",
    "town",
    "plots",
    "mu",
    "boundary_share",
    "reuse",
    "reuse_zh",
    "rule",
    "reason",
]
HISTORY_COLUMNS = ["block_id", "year", *INDICATORS]
TOWN_COLUMNS = ["town", "reuse", "sites", "mu", "quota_mu"]


def _text(values) -> pd.Series:
    """Cells as stripped text, "" where empty or missing."""
    s = pd.Series(values, dtype=object)
    return s.where(s.notna(), "").astype(str).str.strip()


def _number(values) -> np.ndarray:
    """Cells as finite floats (NaN where empty, not a number or not finite)."""
    from .layers import to_number

    values = pd.Series(values)
    num = (
        pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
        if values.dtype != bool
        else np.full(len(values), np.nan)
    )
    # the few cells plain parsing misses (full-width digits, spaces) as towns type them
    retry = (
        np.isnan(num)
        & values.notna().to_numpy()
        & (values.astype(str).str.strip().ne("").to_numpy())
    )
    if retry.any():
        num[retry] = to_number(values[retry]).to_numpy(dtype=float)
    return np.where(np.isfinite(num), num, np.nan)


def most_common(label: np.ndarray, values, groups: int) -> np.ndarray:
    """Most common non-empty value per group (ties: first in code-point order); "" for a
    group whose values are all empty."""
    text = _text(values).to_numpy(dtype=object)
    out = np.full(groups, "", dtype=object)
    given = text != ""
    if not given.any():
        return out
    frame = pd.DataFrame({"g": label[given], "v": text[given]})
    counts = frame.value_counts().reset_index(name="n")
    counts = counts.sort_values(["g", "n", "v"], ascending=[True, False, True], kind="stable")
    first = counts.drop_duplicates("g")
    out[first["g"].to_numpy()] = first["v"].to_numpy(dtype=object)
    return out


# --- blocks ---------------------------------------------------------------------------------


def assign_blocks(
    parcels: gpd.GeoDataFrame,
    block_polygons: gpd.GeoDataFrame | None = None,
    *,
    gap_m: float = DEFAULT_PARAMETERS.adjacency_gap_m,
) -> pd.Series:
    """The block of every plot ("" for a plot that is no member), aligned to ``parcels``.

    Members are the plots classed retain or consolidate. A member's block is its village
    park (``village_park_id``; computed with ``gap_m`` if a member does not carry one), or,
    with ``block_polygons`` (``block_id``), the polygon it overlaps most (overlap > 0;
    ties: smallest ``block_id``); members overlapping none keep their village park.
    """
    cls = _text(parcels["class"]).to_numpy(dtype=object)
    member = np.isin(cls, MEMBER_CLASSES)
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    park = (
        _text(parcels["village_park_id"]).to_numpy(dtype=object)
        if "village_park_id" in parcels
        else np.full(len(parcels), "", dtype=object)
    )
    if (park[member] == "").any():  # not a classification's plots: group them here
        park = np.full(len(parcels), "", dtype=object)
        usable = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        if usable.any():
            g = geoms[usable]
            ids = _text(parcels["parcel_id"]).to_numpy(dtype=object)[usable]
            pairs = adjacency_pairs(g, float(gap_m))
            park[usable] = village_parks(pairs, ids, shapely.area(g))[1]
    block = np.where(member, park, "").astype(object)
    if block_polygons is not None and len(block_polygons) and member.any():
        where = np.flatnonzero(member)
        found = largest_overlap(
            geoms[where],
            np.asarray(block_polygons.geometry.array, dtype=object),
            _text(block_polygons["block_id"]).to_numpy(dtype=str),
        )
        hit = found != ""
        block[where[hit]] = found[hit]
    return pd.Series(block, index=parcels.index, name="block_id", dtype=object)


def enterprise_years(tables, year: int | None = None) -> pd.DataFrame:
    """Enterprise tables (SPEC §8) as one frame with a whole-number ``year`` per row.

    Each table has a ``year`` column, or is the single table without one and takes
    ``year``. Numbers stay as read (text): :func:`block_facts` converts them.
    """
    if isinstance(tables, pd.DataFrame):
        tables = [tables]
    out = []
    without = [i for i, t in enumerate(tables) if "year" not in t.columns]
    if without and year is None:
        raise ZoningError("an enterprise table has no year column; add one or give --year")
    if len(without) > 1:
        raise ZoningError(
            f"{len(without)} enterprise tables have no year column; --year "
            "names the year of one table only: add a year column to each"
        )
    for table in tables:
        where = table.attrs.get("path")
        attrs, table.attrs = table.attrs, {}  # pandas deep-copies attrs (sheet_rows: a
        try:  # number per row) on every operation
            frame = table.copy()
        finally:
            table.attrs = attrs
        if "year" not in frame.columns:
            frame["year"] = year
        number = _number(frame["year"])
        bad = np.flatnonzero(np.isnan(number) | (number != np.round(number)))
        if bad.size:
            rows = table.attrs.get("sheet_rows")
            shown = [rows[i] if rows is not None and i < len(rows) else i + 2 for i in bad]
            raise LayerError("year is not a whole number", where, "enterprises", rows=shown)
        frame["year"] = number.astype(int)
        out.append(frame)
    if not out:
        return pd.DataFrame(columns=["year"])
    joined = pd.concat(out, ignore_index=True)
    joined.attrs = {}
    return joined


def _pairs(plots: pd.DataFrame) -> pd.DataFrame:
    """Unique (block, enterprise name) pairs of the member plots: an enterprise on several
    members of a block counts once there."""
    pairs = pd.DataFrame(
        {
            "block_id": plots["block_id"].to_numpy(dtype=object),
            "enterprise": _text(plots["enterprise"]).to_numpy(dtype=object)
            if "enterprise" in plots
            else "",
        }
    )
    pairs = pairs[(pairs["enterprise"] != "") & (pairs["block_id"] != "")]
    return pairs.drop_duplicates()


def indicators(plots: pd.DataFrame, enterprises: pd.DataFrame) -> pd.DataFrame:
    """``tax_per_mu``, ``output_per_mu``, ``investment_per_mu`` per (block, year), each
    Σ numerator / Σ ``land_mu`` over the block's enterprises of that year that have the
    numerator and ``land_mu`` > 0 (SPEC §11). Rows only where a block has an enterprise."""
    pairs = _pairs(plots)
    if not len(enterprises) or "enterprise" not in enterprises or not len(pairs):
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    table = pd.DataFrame(
        {
            "enterprise": _text(enterprises["enterprise"]).to_numpy(dtype=object),
            "year": enterprises["year"].to_numpy(dtype=int),
            "land": _number(enterprises.get("land_mu", pd.Series(np.nan, index=enterprises.index))),
        }
    )
    for name, field in INDICATORS.items():
        table[name] = _number(enterprises[field]) if field in enterprises else np.nan
    joined = pairs.merge(table, on="enterprise", how="inner")
    land_ok = joined["land"].to_numpy() > 0
    sums = {"block_id": joined["block_id"], "year": joined["year"]}
    for name in INDICATORS:
        ok = land_ok & ~np.isnan(joined[name].to_numpy())
        sums[f"{name}_num"] = np.where(ok, joined[name].to_numpy(), 0.0)
        sums[f"{name}_den"] = np.where(ok, joined["land"].to_numpy(), 0.0)
        sums[f"{name}_n"] = ok.astype(int)
    agg = pd.DataFrame(sums).groupby(["block_id", "year"], sort=True).sum().reset_index()
    out = agg[["block_id", "year"]].copy()
    for name in INDICATORS:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = agg[f"{name}_num"].to_numpy() / agg[f"{name}_den"].to_numpy()
        out[name] = np.where(agg[f"{name}_n"].to_numpy() > 0, value, np.nan)
    return out


def history(
    plots: pd.DataFrame, enterprises: pd.DataFrame, block_ids, values: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The indicator history: every block × every year of the tables (SPEC §11);
    ``values``: the :func:`indicators` of every year if already computed."""
    years = sorted(set(enterprises["year"].tolist())) if len(enterprises) else []
    full = pd.MultiIndex.from_product([sorted(block_ids), years], names=["block_id", "year"])
    if values is None:
        values = indicators(plots, enterprises)
    values = values.set_index(["block_id", "year"])
    out = values.reindex(full).reset_index()
    out["year"] = out["year"].astype(int)
    return out[HISTORY_COLUMNS]


def block_facts(
    parcels: pd.DataFrame,
    block_id: pd.Series,
    enterprises: pd.DataFrame | None = None,
    grades: pd.Series | None = None,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Facts of every block from its members (SPEC §11), one row per block by block_id.

    ``enterprises`` is one year's table (the latest), ``grades`` the §8 grade per
    enterprise name (None or empty: no grades, ``d_share`` 0). ``values``: the
    :func:`indicators` of that year if already computed.
    """
    member = block_id.to_numpy(dtype=object) != ""
    p = parcels.loc[member]
    ids = block_id.to_numpy(dtype=object)[member]
    codes, uniques = pd.factorize(pd.Series(ids), sort=True)
    n = len(uniques)
    area_m2 = (
        pd.to_numeric(p["area_m2"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if "area_m2" in p
        else shapely.area(np.asarray(p.geometry.array, dtype=object))
    )
    area_mu = to_mu(area_m2)
    out = pd.DataFrame(
        {
            "block_id": np.asarray(uniques, dtype=object),
            "town": most_common(codes, p["town"] if "town" in p else "", n),
            "plots": np.bincount(codes, minlength=n),
            "mu": np.bincount(codes, weights=area_mu, minlength=n),
        }
    )
    year = _number(p["built_year"]) if "built_year" in p else np.full(len(p), np.nan)
    out["built_year"] = pd.Series(year).groupby(codes).median().reindex(range(n)).to_numpy()
    floor = _number(p["floor_area_m2"]) if "floor_area_m2" in p else np.full(len(p), np.nan)
    has = ~np.isnan(floor)
    floor_sum = np.bincount(codes, weights=np.where(has, floor, 0.0), minlength=n)
    area_sum = np.bincount(codes, weights=np.where(has, area_m2, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["floor_area_ratio"] = np.where(
            (np.bincount(codes, weights=has, minlength=n) > 0) & (area_sum > 0),
            floor_sum / area_sum,
            np.nan,
        )
    latest = enterprises if enterprises is not None else pd.DataFrame(columns=["year"])
    plots = pd.DataFrame(
        {
            "block_id": ids,
            "enterprise": p["enterprise"].to_numpy(dtype=object) if "enterprise" in p else "",
        }
    )
    if values is None:
        values = indicators(plots, latest)
    values = values.drop(columns="year").set_index("block_id")
    values = values.reindex(out["block_id"])
    for name in INDICATORS:
        out[name] = values[name].to_numpy(dtype=float)
    if grades is not None and len(grades):
        grade = _text(plots["enterprise"]).map(grades).fillna("").to_numpy(dtype=object)
        d_mu = np.bincount(codes, weights=area_mu * (grade == "D"), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["d_share"] = np.where(out["mu"] > 0, d_mu / out["mu"].to_numpy(), 0.0)
    else:
        out["d_share"] = 0.0
    return out


def _num(values: pd.Series | np.ndarray, decimals: int) -> pd.Series:
    return fixed(pd.Series(np.asarray(values, dtype=float)), decimals).astype(object)


def decide_modes(facts: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The mode table B1–B3 (SPEC §11), first match wins; a condition on a missing fact is
    false. Returns ``mode``, ``mode_zh``, ``rule`` and ``reason`` (Chinese, then English in
    brackets, quoting the numbers), aligned to ``facts``."""
    n = len(facts)
    built = facts["built_year"].to_numpy(dtype=float)
    far = facts["floor_area_ratio"].to_numpy(dtype=float)
    d = facts["d_share"].to_numpy(dtype=float)
    plots = facts["plots"].to_numpy(dtype=int)
    tax = facts["tax_per_mu"].to_numpy(dtype=float)
    before = int(params["rebuild_built_before"])
    far_below = float(params["rebuild_far_below"])
    d_min = float(params["rebuild_d_share_min"])
    min_plots = int(params["reorganise_min_plots"])
    ratio = float(params["reorganise_tax_ratio"])
    have_tax = tax[~np.isnan(tax)]
    median = float(np.median(have_tax)) if len(have_tax) else np.nan
    bar = ratio * median

    old = built <= before
    low_far = far < far_below
    many_d = d >= d_min
    b1 = old & (low_far | many_d)
    many = plots >= min_plots
    low_tax = tax < bar
    b2 = many & low_tax
    rule = np.select([b1, b2], ["B1", "B2"], "B3").astype(object)

    s_built = _num(built, 1).str.removesuffix(".0")
    s_far, s_d, s_tax = _num(far, 2), _num(d, 2), _num(tax, 2)
    s_plots = pd.Series(plots.astype(str), dtype=object)
    thr = {
        "far": f"{far_below:.2f}",
        "d": f"{d_min:.2f}",
        "ratio": f"{ratio:.2f}",
        "median": "nan" if np.isnan(median) else f"{median:.2f}",
    }

    def pick(cond, yes, no):
        return pd.Series(np.where(cond, yes, no), dtype=object)

    # B1 true: the age, then the part(s) that held
    b1_zh = (
        "建成年份 "
        + s_built
        + f" ≤ {before}；"
        + pick(
            low_far,
            "容积率 " + s_far + f" < {thr['far']}",
            "D类企业用地占比 " + s_d + f" ≥ {thr['d']}",
        )
    )
    b1_en = (
        "built_year "
        + s_built
        + f" ≤ {before}; "
        + pick(
            low_far,
            "floor_area_ratio " + s_far + f" < {thr['far']}",
            "d_share " + s_d + f" ≥ {thr['d']}",
        )
    )
    # why B1 failed
    no1_zh = pick(
        np.isnan(built),
        "建成年份缺失",
        pick(
            ~old,
            "建成年份 " + s_built + f" > {before}",
            "容积率 "
            + pick(np.isnan(far), "缺失", s_far + f" ≥ {thr['far']}")
            + "且D类企业用地占比 "
            + s_d
            + f" < {thr['d']}",
        ),
    )
    no1_en = pick(
        np.isnan(built),
        "built_year missing",
        pick(
            ~old,
            "built_year " + s_built + f" > {before}",
            "floor_area_ratio "
            + pick(np.isnan(far), "missing", s_far + f" ≥ {thr['far']}")
            + " and d_share "
            + s_d
            + f" < {thr['d']}",
        ),
    )
    tax_part_zh = "亩均税收 " + s_tax + f" 万元/亩 < {thr['ratio']} × 中位数 {thr['median']}"
    tax_part_en = "tax_per_mu " + s_tax + f" < {thr['ratio']} × median {thr['median']}"
    b2_zh = "地块 " + s_plots + f" ≥ {min_plots}；" + tax_part_zh
    b2_en = "plots " + s_plots + f" ≥ {min_plots}; " + tax_part_en
    no2_zh = pick(
        ~many,
        "地块 " + s_plots + f" < {min_plots}",
        pick(
            np.isnan(tax),
            "亩均税收缺失",
            pick(
                np.isnan(np.full(n, bar)),
                "无区块有亩均税收",
                "亩均税收 " + s_tax + f" ≥ {thr['ratio']} × 中位数 {thr['median']}",
            ),
        ),
    )
    no2_en = pick(
        ~many,
        "plots " + s_plots + f" < {min_plots}",
        pick(
            np.isnan(tax),
            "tax_per_mu missing",
            pick(
                np.isnan(np.full(n, bar)),
                "no block has tax_per_mu",
                "tax_per_mu " + s_tax + f" ≥ {thr['ratio']} × median " + thr["median"],
            ),
        ),
    )
    zh = pick(
        rule == "B1", b1_zh, pick(rule == "B2", no1_zh + "；" + b2_zh, no1_zh + "；" + no2_zh)
    )
    en = pick(
        rule == "B1", b1_en, pick(rule == "B2", no1_en + "; " + b2_en, no1_en + "; " + no2_en)
    )
    mode = pd.Series(rule).map(MODE_RULES).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "mode": mode,
            "mode_zh": pd.Series(mode).map(MODE_ZH).to_numpy(),
            "rule": rule,
            "reason": (zh + "（" + en + "）").to_numpy(dtype=object),
        },
        index=facts.index,
    )


# --- freed land ---------------------------------------------------------------------------


def assign_sites(parcels: gpd.GeoDataFrame, *, gap_m: float) -> pd.Series:
    """The freed site of every vacate plot ("" for other plots): vacate plots within
    ``gap_m`` of each other are linked (only to vacate plots); each connected group is a
    site named by its smallest ``parcel_id``."""
    cls = _text(parcels["class"]).to_numpy(dtype=object)
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    freed = (cls == FREED_CLASS) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    site = np.full(len(parcels), "", dtype=object)
    if freed.any():
        g = geoms[freed]
        ids = _text(parcels["parcel_id"]).to_numpy(dtype=object)[freed]
        site[freed] = village_parks(adjacency_pairs(g, float(gap_m)), ids, shapely.area(g))[1]
    return pd.Series(site, index=parcels.index, name="site_id", dtype=object)


def site_facts(
    parcels: gpd.GeoDataFrame, site_id: pd.Series, scenic: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Facts of every freed site: ``town``, ``plots``, ``mu``, ``boundary_share``
    (area-weighted), ``v1_plots`` (plots with rule V1) and ``scenic_m`` (the smallest
    distance from a plot of the site to a scenic polygon, if one lies within ``within_m``;
    else NaN)."""
    freed = site_id.to_numpy(dtype=object) != ""
    p = parcels.loc[freed]
    codes, uniques = pd.factorize(pd.Series(site_id.to_numpy(dtype=object)[freed]), sort=True)
    n = len(uniques)
    geoms = np.asarray(p.geometry.array, dtype=object)
    area_m2 = shapely.area(geoms)
    share = _number(p["boundary_share"]) if "boundary_share" in p else np.full(len(p), np.nan)
    has = ~np.isnan(share)
    num = np.bincount(codes, weights=np.where(has, share * area_m2, 0.0), minlength=n)
    den = np.bincount(codes, weights=np.where(has, area_m2, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        boundary = np.where(den > 0, num / den, np.nan)
    rule = _text(p["rule"]).to_numpy(dtype=object) if "rule" in p else np.full(len(p), "")
    out = pd.DataFrame(
        {
            "site_id": np.asarray(uniques, dtype=object),
            "town": most_common(codes, p["town"] if "town" in p else "", n),
            "plots": np.bincount(codes, minlength=n),
            "mu": to_mu(np.bincount(codes, weights=area_m2, minlength=n)),
            "boundary_share": np.clip(boundary, 0.0, 1.0),
            "v1_plots": np.bincount(codes, weights=rule == "V1", minlength=n).astype(int),
        }
    )
    scenic_m = np.full(n, np.nan)
    if scenic is not None and len(scenic) and len(geoms):
        layer = np.asarray(scenic.geometry.array, dtype=object)
        layer = layer[~shapely.is_missing(layer) & ~shapely.is_empty(layer)]
        if len(layer):
            # the nearest scenic polygon of every plot, exact: a what-if on the distance
            # re-decides without geometry work
            (plot_idx, _), dist = shapely.STRtree(layer).query_nearest(
                geoms, return_distance=True, all_matches=False
            )
            best = pd.Series(dist).groupby(codes[plot_idx]).min()
            scenic_m[best.index.to_numpy()] = best.to_numpy()
    out["scenic_m"] = scenic_m
    return out


def decide_reuse(sites: pd.DataFrame, params: dict, inside_share_min: float) -> pd.DataFrame:
    """The reuse table F1–F3 (SPEC §11), first match wins. Returns ``reuse``,
    ``reuse_zh``, ``rule``, ``reason`` (Chinese, then English in brackets)."""
    share = sites["boundary_share"].to_numpy(dtype=float)
    mu = sites["mu"].to_numpy(dtype=float)
    v1 = sites["v1_plots"].to_numpy(dtype=int)
    near = sites["scenic_m"].to_numpy(dtype=float)
    min_mu = float(params["reclaim_min_mu"])
    within = float(params["tourism_within_m"])
    outside = share < inside_share_min
    big = mu >= min_mu
    f1 = (v1 > 0) | (outside & big)
    f2 = near <= within
    rule = np.select([f1, f2], ["F1", "F2"], "F3").astype(object)

    s_share, s_mu, s_near = _num(share, 2), _num(mu, 2), _num(near, 1)
    s_v1 = pd.Series(v1.astype(str), dtype=object)
    ins, mmu, win = f"{inside_share_min:.2f}", f"{min_mu:g}", f"{within:g}"

    def pick(cond, yes, no):
        return pd.Series(np.where(cond, yes, no), dtype=object)

    f1_zh = pick(
        v1 > 0,
        "含生态保护红线/永久基本农田地块（规则 V1）" + s_v1 + " 块",
        "开发边界内占比 " + s_share + f" < {ins}；面积 " + s_mu + f" 亩 ≥ {mmu} 亩",
    )
    f1_en = pick(
        v1 > 0,
        "plots with rule V1: " + s_v1,
        "boundary_share " + s_share + f" < {ins}; " + s_mu + f" mu ≥ {mmu} mu",
    )
    no1_zh = "无 V1 地块，" + pick(
        outside,
        "面积 " + s_mu + f" 亩 < {mmu} 亩",
        "开发边界内占比 " + pick(np.isnan(share), "缺失", s_share + f" ≥ {ins}"),
    )
    no1_en = "no V1 plot, " + pick(
        outside,
        s_mu + f" mu < {mmu} mu",
        "boundary_share " + pick(np.isnan(share), "missing", s_share + f" ≥ {ins}"),
    )
    f2_zh = "景区/旅游村/绿道距 " + s_near + f" 米 ≤ {win} 米"
    f2_en = "scenic area at " + s_near + f" m ≤ {win} m"
    zh = pick(
        rule == "F1",
        f1_zh,
        pick(rule == "F2", no1_zh + "；" + f2_zh, no1_zh + f"；{win} 米内无景区/旅游村/绿道"),
    )
    en = pick(
        rule == "F1",
        f1_en,
        pick(rule == "F2", no1_en + "; " + f2_en, no1_en + f"; no scenic area within {win} m"),
    )
    reuse = pd.Series(rule).map(REUSE_RULES).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "reuse": reuse,
            "reuse_zh": pd.Series(reuse).map(REUSE_ZH).to_numpy(),
            "rule": rule,
            "reason": (zh + "（" + en + "）").to_numpy(dtype=object),
        },
        index=sites.index,
    )


def town_quota(sites: pd.DataFrame) -> pd.DataFrame:
    """Freed sites and mu per town and reuse (every reuse listed for every town), and
    ``quota_mu``: the mu of reclaim sites, construction-land quota earned by the town."""
    town = _text(sites["town"]).replace("", UNKNOWN_TOWN)
    frame = pd.DataFrame(
        {
            "town": town.to_numpy(),
            "reuse": sites["reuse"].to_numpy(),
            "mu": sites["mu"].to_numpy(dtype=float),
        }
    )
    towns = sorted(set(frame["town"]))
    full = pd.MultiIndex.from_product([towns, list(REUSES)], names=["town", "reuse"])
    g = frame.groupby(["town", "reuse"]).agg(sites=("mu", "size"), mu=("mu", "sum"))
    g = g.reindex(full, fill_value=0).reset_index()
    g["sites"] = g["sites"].astype(int)
    g["mu"] = g["mu"].astype(float)
    g["quota_mu"] = np.where(g["reuse"] == "reclaim", g["mu"], 0.0)
    return g[TOWN_COLUMNS]


# --- the whole job --------------------------------------------------------------------------


@dataclass
class Blocks:
    """The result of :func:`run` (SPEC §11).

    ``blocks`` and ``freed_sites`` are GeoDataFrames (columns :data:`BLOCK_COLUMNS`,
    :data:`SITE_COLUMNS`, geometry = union of the members); ``history`` has
    :data:`HISTORY_COLUMNS`; ``towns`` has :data:`TOWN_COLUMNS`; ``plots`` has one row
    per input plot (``parcel_id``, ``class``, ``block_id``, ``site_id``); ``facts`` are
    the block facts without geometry (for what-ifs: :meth:`redecide`); ``years`` the
    years of the enterprise tables.
    """

    blocks: gpd.GeoDataFrame
    freed_sites: gpd.GeoDataFrame
    history: pd.DataFrame
    towns: pd.DataFrame
    plots: pd.DataFrame
    facts: pd.DataFrame
    sites: pd.DataFrame
    years: list
    params: dict
    freed_params: dict
    inside_share_min: float
    #: seconds per stage of :func:`run` (and of reading and writing, when
    #: :func:`zoning.outputs.run_blocks` ran it)
    timings: dict = dataclass_field(default_factory=dict, repr=False)

    def redecide(
        self,
        blocks: dict | None = None,
        freed: dict | None = None,
        inside_share_min: float | None = None,
    ) -> Blocks:
        """The same blocks and sites under other [blocks] / [freed] parameters, without
        any geometry work (a what-if). The facts stay; only the tables B1–B3 and F1–F3
        are decided again, so a what-if takes milliseconds.

        >>> from zoning import blocks
        >>> base = blocks.run(plots, enterprises)            # plots of a classification
        >>> older = base.redecide(blocks={"rebuild_built_before": 1995},
        ...                       freed={"tourism_within_m": 1000})
        >>> moved_blocks, moved_sites = blocks.changes(base, older)
        >>> moved_blocks[["block_id", "from_mode", "to_mode", "to_reason"]]

        ``zoning compare --config A.toml --config B.toml --blocks BLOCKS_DIR`` does the
        same from the command line (:func:`zoning.outputs.compare_blocks`).
        """
        params = {**self.params, **(blocks or {})}
        freed_params = {**self.freed_params, **(freed or {})}
        ism = self.inside_share_min if inside_share_min is None else inside_share_min
        b = self.blocks.copy()
        b[["mode", "mode_zh", "rule", "reason"]] = decide_modes(self.facts, params).to_numpy()
        s = self.freed_sites.copy()
        s[["reuse", "reuse_zh", "rule", "reason"]] = decide_reuse(
            self.sites, freed_params, ism
        ).to_numpy()
        return Blocks(
            b,
            s,
            self.history,
            town_quota(s),
            self.plots,
            self.facts,
            self.sites,
            self.years,
            params,
            freed_params,
            ism,
        )


def _geometry(parcels: gpd.GeoDataFrame, label: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Union of the plots of each id (``ids`` sorted, as the facts' rows)."""
    mask = label.to_numpy(dtype=object) != ""
    codes = np.searchsorted(ids, label.to_numpy(dtype=object)[mask].astype(str))
    geoms = np.asarray(parcels.geometry.array, dtype=object)[mask]
    return group_union(geoms, codes, len(ids)) if len(ids) else np.empty(0, dtype=object)


def run_config(
    parcels: gpd.GeoDataFrame,
    enterprises: pd.DataFrame | None,
    config: Config,
    *,
    block_polygons: gpd.GeoDataFrame | None = None,
    scenic: gpd.GeoDataFrame | None = None,
) -> Blocks:
    """:func:`run` with the [blocks], [freed], [parameters] and [grading] tables of
    ``config`` (what ``zoning blocks`` and ``zoning compare --blocks`` decide with)."""
    return run(
        parcels,
        enterprises,
        block_polygons=block_polygons,
        scenic=scenic,
        params=config.blocks,
        freed=config.freed,
        parameters=config.parameters,
        grading=config.grading,
    )


def run(
    parcels: gpd.GeoDataFrame,
    enterprises: pd.DataFrame | None = None,
    *,
    block_polygons: gpd.GeoDataFrame | None = None,
    scenic: gpd.GeoDataFrame | None = None,
    params: Mapping[str, Any] | None = None,
    freed: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    grading: Mapping[str, Any] | None = None,
) -> Blocks:
    """Blocks, modes, history, freed sites, reuse and quota (SPEC §11).

    Parameters
    ----------
    parcels
        The plots of a classification (``parcel_id``, ``class``, ``rule``, ``area_m2``,
        ``boundary_share``, ``village_park_id``, ``town``, ``enterprise``, ``built_year``,
        optional ``floor_area_m2``), in the analysis CRS.
    enterprises
        Enterprise tables of every year (:func:`enterprise_years`: a ``year`` column).
        The latest year gives the facts the modes use and the grades for ``d_share``.
    block_polygons, scenic
        Optional layers in the same CRS (``block_id`` for the blocks).
    params, freed, parameters, grading
        [blocks], [freed], [parameters] and [grading] of the config (defaults if None).
    """
    from .config import DEFAULTS
    from .grading import grade

    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock[0]
        clock[0] = now

    params = {**DEFAULTS["blocks"], **(params or {})}
    freed = {**DEFAULTS["freed"], **(freed or {})}
    parameters = {**DEFAULTS["parameters"], **(parameters or {})}
    gap = float(parameters["adjacency_gap_m"])
    ism = float(parameters["inside_share_min"])
    if enterprises is None:
        enterprises = pd.DataFrame(columns=["year", "enterprise"])
    years = sorted(set(enterprises["year"].tolist())) if len(enterprises) else []
    latest = enterprises[enterprises["year"] == years[-1]] if years else enterprises
    grades = None
    if len(latest) and "enterprise" in latest:
        graded = grade(latest.reset_index(drop=True), grading)
        names = _text(latest["enterprise"]).to_numpy(dtype=object)
        grades = pd.Series(graded["grade"].to_numpy(), index=names)
        grades = grades[grades.index != ""]
        grades = grades[~grades.index.duplicated()]
    lap("grades")

    block_id = assign_blocks(parcels, block_polygons, gap_m=gap)
    lap("assign_blocks")
    member = block_id != ""
    members = pd.DataFrame(
        {
            "block_id": block_id[member].to_numpy(dtype=object),
            "enterprise": parcels.loc[member, "enterprise"].to_numpy(dtype=object)
            if "enterprise" in parcels
            else "",
        }
    )
    values = indicators(members, enterprises)  # every year at once
    lap("indicators")
    facts = block_facts(
        parcels, block_id, latest, grades, values[values["year"] == years[-1]] if years else values
    )
    lap("block_facts")
    modes = decide_modes(facts, params)
    lap("decide")
    ids = facts["block_id"].to_numpy(dtype=str)
    geometry = _geometry(parcels, block_id, ids)
    lap("union")
    blocks = gpd.GeoDataFrame(
        pd.concat([facts, modes], axis=1)[BLOCK_COLUMNS],
        geometry=gpd.GeoSeries(geometry, crs=parcels.crs),
    )
    hist = history(members, enterprises, list(ids), values)
    lap("indicators")

    site_id = assign_sites(parcels, gap_m=gap)
    lap("assign_sites")
    sites = site_facts(parcels, site_id, scenic)
    lap("site_facts")
    reuse = decide_reuse(sites, freed, ism)
    lap("decide")
    site_ids = sites["site_id"].to_numpy(dtype=str)
    geometry = _geometry(parcels, site_id, site_ids)
    lap("union")
    freed_sites = gpd.GeoDataFrame(
        pd.concat([sites, reuse], axis=1)[SITE_COLUMNS],
        geometry=gpd.GeoSeries(geometry, crs=parcels.crs),
    )
    plots = pd.DataFrame(
        {
            "parcel_id": parcels["parcel_id"].to_numpy(dtype=object),
            "class": parcels["class"].to_numpy(dtype=object),
            "block_id": block_id.to_numpy(dtype=object),
            "site_id": site_id.to_numpy(dtype=object),
        }
    )
    result = Blocks(
        blocks,
        freed_sites,
        hist,
        town_quota(freed_sites),
        plots,
        facts,
        sites,
        years,
        params,
        freed,
        ism,
    )
    lap("assemble")
    result.timings = timings
    return result


def change_table(blocks: pd.DataFrame, hist: pd.DataFrame, years: list) -> pd.DataFrame:
    """Per block and indicator: the first year's value (baseline), the latest and the
    change in % (missing where the baseline is missing or not > 0)."""
    out = pd.DataFrame({"block_id": blocks["block_id"].to_numpy(dtype=object)})
    if not years:
        return out
    first = hist[hist["year"] == years[0]].set_index("block_id").reindex(out["block_id"])
    last = hist[hist["year"] == years[-1]].set_index("block_id").reindex(out["block_id"])
    for name in INDICATORS:
        a = first[name].to_numpy(dtype=float)
        b = last[name].to_numpy(dtype=float)
        out[f"{name}_baseline"] = a
        out[f"{name}_latest"] = b
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_change_pct"] = np.where(a > 0, (b - a) / a * 100.0, np.nan)
    return out


def changes(a: Blocks, b: Blocks) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What moved between two runs (e.g. ``b = a.redecide(...)``, a what-if, or two
    ``zoning blocks`` folders read by :func:`zoning.outputs.read_blocks`: anything with
    ``blocks`` and ``freed_sites``): the blocks whose mode changed and the freed sites
    whose reuse changed, matched by id, with the rule of both and the reason after
    (blocks or sites only in one run show an empty side). Columns: ``block_id`` /
    ``site_id``, ``town``, ``mu``, ``from_mode`` / ``from_reuse``, ``to_mode`` /
    ``to_reuse``, ``from_rule``, ``to_rule``, ``to_reason``."""
    out = []
    for key, word, fa, fb in (
        ("block_id", "mode", a.blocks, b.blocks),
        ("site_id", "reuse", a.freed_sites, b.freed_sites),
    ):
        left = pd.DataFrame(fa.drop(columns="geometry"))[
            [key, "town", "mu", word, "rule", "reason"]
        ]
        right = pd.DataFrame(fb.drop(columns="geometry"))[
            [key, "town", "mu", word, "rule", "reason"]
        ]
        both = left.merge(right, on=key, how="outer", suffixes=("_a", "_b"))
        for col in (
            f"{word}_a",
            f"{word}_b",
            "rule_a",
            "rule_b",
            "reason_a",
            "reason_b",
            "town_a",
            "town_b",
        ):
            both[col] = both[col].fillna("")
        moved = both[both[f"{word}_a"] != both[f"{word}_b"]].copy()
        moved["town"] = moved["town_b"].where(moved["town_b"] != "", moved["town_a"])
        moved["mu"] = moved["mu_b"].fillna(moved["mu_a"])
        out.append(
            moved.rename(
                columns={
                    f"{word}_a": f"from_{word}",
                    f"{word}_b": f"to_{word}",
                    "rule_a": "from_rule",
                    "rule_b": "to_rule",
                    "reason_b": "to_reason",
                }
            )[
                [
                    key,
                    "town",
                    "mu",
                    f"from_{word}",
                    f"to_{word}",
                    "from_rule",
                    "to_rule",
                    "to_reason",
                ]
            ]
            .sort_values(key)
            .reset_index(drop=True)
        )
    return out[0], out[1]
