"""The decision table of SPEC §5 over the measures: class, rule, target and reason.

A cheap table operation: no geometry is touched here, so changing a parameter and
re-deciding takes milliseconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CLASSES = ("retain", "consolidate", "vacate", "unclassified")
CLASS_ZH = {"retain": "保留提升", "consolidate": "纳入镇级园区", "vacate": "腾挪清退",
            "unclassified": "未分类"}
#: Rules in the order they are tried (first match wins), with their class.
RULES = {"V1": "vacate", "V3": "vacate", "C1": "consolidate", "R1": "retain", "R2": "retain",
         "V2": "vacate", "C2": "consolidate"}
RULE_ZH = {
    "V1": "位于生态保护红线/永久基本农田",
    "V3": "基准年后村内新增工业用地",
    "C1": "与镇级工业园区连片且在城镇开发边界内",
    "R1": "位于村级工业集聚点",
    "R2": "开发边界外零星生态友好/三产融合用地",
    "V2": "位于城镇开发边界外",
    "C2": "开发边界内未连片、不在集聚点：就近纳入镇级园区",
}
RULE_TEXT = {
    "V1": "in protected land (生态保护红线/永久基本农田)",
    "V3": "new industrial land in a village after the baseline year",
    "C1": "contiguous with a township park, inside the development boundary",
    "R1": "in a village industrial cluster point",
    "R2": "scattered eco-friendly or rural-fusion plot outside the boundary",
    "V2": "outside the urban development boundary",
    "C2": "inside the boundary, not contiguous, not in a cluster point: nearest township park",
}


def _f2(values: pd.Series) -> pd.Series:
    """Numbers to text with 2 decimals (display only)."""
    return values.map("{:.2f}".format)


def _f1(values: pd.Series) -> pd.Series:
    return values.map("{:.1f}".format)


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
    rule = np.select([c & usable for c in conditions.values()], list(conditions), default="")
    rule = pd.Series(rule, index=idx, dtype=object)
    cls = rule.map(RULES).fillna("unclassified")

    target = pd.Series("", index=idx, dtype=object)
    for r, col in (("C1", "linked_park_id"), ("R1", "cluster_id"), ("C2", "nearest_park_id")):
        sel = rule.eq(r)
        target[sel] = m.loc[sel, col].fillna("")

    reason = pd.Series("", index=idx, dtype=object)
    thr = {k: f"{float(v):.2f}" for k, v in params.items()}
    scat = f"{float(params['scattered_max_mu']):g}"

    def put(r, text):
        sel = rule.eq(r)
        if sel.any():
            reason[sel] = text(sel)

    put("V1", lambda s: "protected_share " + _f2(m.loc[s, "protected_share"])
        + f" ≥ {thr['protected_share_min']}: in protected land")
    put("V3", lambda s: "built " + year[s].astype("Int64").astype(str)
        + f" > baseline {int(params['baseline_year'])}: new industrial land in a village")
    put("C1", lambda s: "village park " + m.loc[s, "village_park_id"].astype(str)
        + " within " + _f1(m.loc[s, "_linked_m"])
        + f" m ≤ {float(params['park_contact_m']):g} m of township park "
        + m.loc[s, "linked_park_id"].astype(str)
        + "; boundary_share " + _f2(boundary[s]) + f" ≥ {thr['inside_share_min']}")
    put("R1", lambda s: "cluster_share " + _f2(m.loc[s, "cluster_share"])
        + f" ≥ {thr['cluster_share_min']} in cluster point " + m.loc[s, "cluster_id"].astype(str))
    kind = pd.Series(np.where(eco, "eco-friendly", "rural fusion"), index=idx)
    put("R2", lambda s: "boundary_share " + _f2(boundary[s]) + f" < {thr['inside_share_min']}; "
        + kind[s] + "; village park " + _f2(m.loc[s, "village_park_mu"]) + f" mu ≤ {scat} mu")
    why_v2 = pd.Series(
        np.where(eco_or_fusion,
                 "village park " + _f2(m["village_park_mu"].fillna(0.0)) + f" mu > {scat} mu",
                 "neither eco-friendly nor rural fusion"), index=idx)
    put("V2", lambda s: "boundary_share " + _f2(boundary[s])
        + f" < {thr['inside_share_min']}; " + why_v2[s])
    near = pd.Series(
        np.where(m["nearest_park_id"].fillna("").ne(""),
                 "nearest township park " + m["nearest_park_id"].fillna("").astype(str)
                 + " at " + _f1(m["nearest_park_m"].fillna(0.0)) + " m",
                 "no township park in the input"), index=idx)
    put("C2", lambda s: "boundary_share " + _f2(boundary[s]) + f" ≥ {thr['inside_share_min']}; "
        + "cluster_share " + _f2(m.loc[s, "cluster_share"]) + f" < {thr['cluster_share_min']}; "
        + f"no village-park plot within {float(params['park_contact_m']):g} m of a township "
        + "park; " + near[s])
    unusable = ~usable
    reason[unusable] = "cannot classify: " + problem[unusable].astype(str)

    return pd.DataFrame({"class": cls, "class_zh": cls.map(CLASS_ZH), "rule": rule,
                         "target_id": target, "reason": reason}, index=idx)
