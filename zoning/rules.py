"""The decision table of SPEC §5 over the measures: class, rule, target and reason.

A cheap table operation: no geometry is touched here, so changing a parameter and
re-deciding takes milliseconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .vocab import CLASS_ZH, RULES


def fixed(values: pd.Series, decimals: int) -> pd.Series:
    """Numbers as text with a fixed number of decimals, vectorised (display only).

    Same text as ``f"{v:.{decimals}f}"`` (up to ties at the last digit); NaN gives "nan".
    """
    v = values.to_numpy(dtype=float)
    nan = np.isnan(v)
    scaled = np.round(np.abs(np.where(nan, 0.0, v)) * 10**decimals).astype(np.int64)
    whole = pc.cast(pa.array(scaled // 10**decimals), pa.string())
    text = whole
    if decimals:
        frac = pc.utf8_lpad(pc.cast(pa.array(scaled % 10**decimals), pa.string()), decimals, "0")
        text = pc.binary_join_element_wise(whole, frac, ".")
    sign = pa.array(np.where((v < 0) & (scaled > 0), "-", ""))
    text = pc.binary_join_element_wise(sign, text, "")
    text = pc.if_else(pa.array(nan), "nan", text)
    return pd.Series(pd.array(text, dtype=pd.StringDtype("pyarrow")), index=values.index)


def _f2(values: pd.Series) -> pd.Series:
    return fixed(values, 2)


def _f1(values: pd.Series) -> pd.Series:
    return fixed(values, 1)


def _flag(series: pd.Series | None, index: pd.Index) -> pd.Series:
    if series is None:
        return pd.Series(False, index=index)
    return series.fillna(False).astype(bool)


def decide(measures: pd.DataFrame, attrs: pd.DataFrame, params: dict,
           problem: pd.Series | None = None) -> pd.DataFrame:
    """Apply the SPEC §5 table, first matching rule wins.

    Parameters
    ----------
    measures
        Output of :func:`zoning.measures.measure` (SPEC §4 columns).
    attrs
        Plot attributes: ``eco_friendly``, ``rural_fusion`` (bool), ``built_year`` (Int64);
        missing columns count as false / not given.
    params
        The SPEC §5 parameters.
    problem
        Non-empty text for rows that cannot be classified (class ``unclassified``).

    Returns
    -------
    DataFrame with ``class``, ``class_zh``, ``rule``, ``target_id``, ``reason``.
    """
    idx = measures.index
    m = measures
    if problem is None:
        problem = pd.Series("", index=idx)
    usable = problem.fillna("").eq("").to_numpy()
    eco = _flag(attrs.get("eco_friendly"), idx)
    fusion = _flag(attrs.get("rural_fusion"), idx)
    year = attrs["built_year"] if "built_year" in attrs else pd.Series(pd.NA, index=idx,
                                                                        dtype="Int64")
    year = pd.to_numeric(year, errors="coerce").astype("Float64")

    inside_min = params["inside_share_min"]
    boundary = m["boundary_share"].astype(float)
    inside = (boundary >= inside_min).to_numpy()
    linked = m["linked_park_id"].fillna("").ne("").to_numpy()
    small_group = (m["village_park_mu"].astype(float) <= params["scattered_max_mu"]).to_numpy()
    eco_or_fusion = (eco | fusion).to_numpy()
    new_land = (year > params["baseline_year"]).fillna(False).to_numpy(dtype=bool)

    conditions = {
        "V1": (m["protected_share"].astype(float) >= params["protected_share_min"]).to_numpy(),
        "V3": new_land,
        "C1": linked & inside,
        "R1": (m["cluster_share"].astype(float) >= params["cluster_share_min"]).to_numpy(),
        "R2": ~inside & eco_or_fusion & small_group,
        "V2": ~inside,
        "C2": np.ones(len(idx), dtype=bool),
    }
    rule_codes = np.select([c & usable for c in conditions.values()], list(conditions),
                           default="")
    rule = pd.Series(rule_codes, index=idx, dtype=object)
    cls = rule.map(RULES).fillna("unclassified")

    target = pd.Series("", index=idx, dtype=object)
    for r, col in (("C1", "linked_park_id"), ("R1", "cluster_id"), ("C2", "nearest_park_id")):
        sel = rule_codes == r
        target[sel] = m.loc[sel, col].fillna("")

    text_dtype = pd.StringDtype("pyarrow")
    pieces: list[pa.Array] = []
    positions: list[np.ndarray] = []
    thr = {k: f"{float(v):.2f}" for k, v in params.items()}
    scat = f"{float(params['scattered_max_mu']):g}"
    contact = f"{float(params['park_contact_m']):g}"

    def col(name, s):
        return m.loc[s, name].fillna("").astype(text_dtype)

    def put(r, text):
        sel = rule_codes == r
        if sel.any():
            pieces.append(pa.array(text(sel).astype(text_dtype).array, type=pa.large_string()))
            positions.append(np.flatnonzero(sel))

    def choose(s, condition, yes, no):
        return yes.where(pd.Series(condition[s], index=yes.index), no)

    put("V1", lambda s: "protected_share " + _f2(m.loc[s, "protected_share"])
        + f" ≥ {thr['protected_share_min']}: in protected land")
    put("V3", lambda s: "built " + year[s].astype("Int64").astype(text_dtype)
        + f" > baseline {int(params['baseline_year'])}: new industrial land in a village")
    put("C1", lambda s: "village park " + col("village_park_id", s)
        + " within " + _f1(m.loc[s, "_linked_m"]) + f" m ≤ {contact} m of township park "
        + col("linked_park_id", s)
        + "; boundary_share " + _f2(boundary[s]) + f" ≥ {thr['inside_share_min']}")
    put("R1", lambda s: "cluster_share " + _f2(m.loc[s, "cluster_share"])
        + f" ≥ {thr['cluster_share_min']} in cluster point " + col("cluster_id", s))
    put("R2", lambda s: "boundary_share " + _f2(boundary[s]) + f" < {thr['inside_share_min']}; "
        + choose(s, eco.to_numpy(), pd.Series("eco-friendly", index=idx[s], dtype=text_dtype),
                 "rural fusion")
        + "; village park " + _f2(m.loc[s, "village_park_mu"]) + f" mu ≤ {scat} mu")
    put("V2", lambda s: "boundary_share " + _f2(boundary[s])
        + f" < {thr['inside_share_min']}; "
        + choose(s, eco_or_fusion,
                 "village park " + _f2(m.loc[s, "village_park_mu"].fillna(0.0))
                 + f" mu > {scat} mu", "neither eco-friendly nor rural fusion"))
    put("C2", lambda s: "boundary_share " + _f2(boundary[s]) + f" ≥ {thr['inside_share_min']}; "
        + "cluster_share " + _f2(m.loc[s, "cluster_share"]) + f" < {thr['cluster_share_min']}; "
        + f"no village-park plot within {contact} m of a township park; "
        + choose(s, m["nearest_park_id"].fillna("").ne("").to_numpy(),
                 "nearest township park " + col("nearest_park_id", s) + " at "
                 + _f1(m.loc[s, "nearest_park_m"].fillna(0.0)) + " m",
                 "no township park in the input"))
    put("", lambda s: "cannot classify: " + problem[s].astype(text_dtype))
    # every row got exactly one text: put them back in row order
    order = np.argsort(np.concatenate(positions), kind="stable") if positions else []
    texts = pa.concat_arrays(pieces).take(pa.array(order)) if pieces else pa.array([], pa.string())
    reason = pd.Series(pd.array(texts, dtype=text_dtype), index=idx)

    return pd.DataFrame({"class": cls, "class_zh": cls.map(CLASS_ZH), "rule": rule,
                         "target_id": target, "reason": reason}, index=idx)
