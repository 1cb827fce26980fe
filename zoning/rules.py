"""The decision table of SPEC §5 over the measures: class, rule, target and reason.

:data:`TABLE` is the table: one row per rule in the order they are tried, each a
vectorised condition over the plots and two small reason functions, Chinese and English
side by side, that quote the numbers that decided. The first condition that holds wins
(``np.select``); each reason function is called once, on the rows its rule decided.

A cheap table operation: no geometry is touched here, so changing a parameter and
re-deciding takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .layers import problem_text
from .vocab import CLASS_ZH, LANGS, RULES

TEXT = pd.StringDtype("pyarrow")


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
    return pd.Series(pd.array(text, dtype=TEXT), index=values.index)


def _f2(values: pd.Series) -> pd.Series:
    return fixed(values, 2)


def _f1(values: pd.Series) -> pd.Series:
    return fixed(values, 1)


def _flag(series: pd.Series | None, index: pd.Index) -> pd.Series:
    if series is None:
        return pd.Series(False, index=index)
    return series.fillna(False).astype(bool)


def _id(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(TEXT)


def _pick(condition: pd.Series, yes, no) -> pd.Series:
    """``yes`` where ``condition`` holds, else ``no`` (texts or series on the same rows)."""
    if not isinstance(yes, pd.Series):
        yes = pd.Series(yes, index=condition.index, dtype=TEXT)
    return yes.where(condition.to_numpy(dtype=bool), no)


def facts(measures: pd.DataFrame, attrs: pd.DataFrame) -> pd.DataFrame:
    """The columns the table reads, one row per plot: the SPEC §4 measures, the distance
    that linked the village park (``linked_m``) and the plot's attributes ``eco_friendly``,
    ``rural_fusion`` (missing: false) and ``built_year`` (missing: not given)."""
    idx = measures.index
    year = (
        attrs["built_year"] if "built_year" in attrs else pd.Series(pd.NA, index=idx, dtype="Int64")
    )
    linked_m = next((c for c in ("linked_park_m", "_linked_m") if c in measures), None)
    out = pd.DataFrame(
        {
            c: measures[c].astype(float)
            for c in (
                "boundary_share",
                "cluster_share",
                "protected_share",
                "nearest_park_m",
                "village_park_mu",
            )
        },
        index=idx,
    )
    for c in ("cluster_id", "linked_park_id", "nearest_park_id", "village_park_id"):
        out[c] = measures[c]
    out["linked_m"] = measures[linked_m].astype(float) if linked_m else np.nan
    out["eco_friendly"] = _flag(attrs.get("eco_friendly"), idx)
    out["rural_fusion"] = _flag(attrs.get("rural_fusion"), idx)
    out["built_year"] = pd.to_numeric(year, errors="coerce").astype("Float64")
    return out


def limits(params: Mapping[str, Any]) -> dict[str, str]:
    """The SPEC §5 parameters as the reasons quote them (shares to 2 decimals)."""
    shown = {
        k: f"{float(v):.2f}"
        for k, v in params.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    shown["scattered_max_mu"] = f"{float(params['scattered_max_mu']):g}"
    shown["park_contact_m"] = f"{float(params['park_contact_m']):g}"
    shown["baseline_year"] = str(int(params["baseline_year"]))
    return shown


# --- conditions: plots (all rows) -> bool per plot ------------------------------------


def _inside(f: pd.DataFrame, p: dict) -> pd.Series:
    return f["boundary_share"] >= p["inside_share_min"]


def _eco_or_fusion(f: pd.DataFrame) -> pd.Series:
    return f["eco_friendly"] | f["rural_fusion"]


def _when_v1(f, p):
    return f["protected_share"] >= p["protected_share_min"]


def _when_v3(f, p):
    return (f["built_year"] > p["baseline_year"]).fillna(False).astype(bool)


def _when_c1(f, p):
    return f["linked_park_id"].fillna("").ne("") & _inside(f, p)


def _when_r1(f, p):
    return f["cluster_share"] >= p["cluster_share_min"]


def _when_r2(f, p):
    return ~_inside(f, p) & _eco_or_fusion(f) & (f["village_park_mu"] <= p["scattered_max_mu"])


def _when_v2(f, p):
    return ~_inside(f, p)


def _when_c2(f, p):
    return pd.Series(True, index=f.index)


# --- reasons: the rows a rule decided, the quoted limits -> one text per row ----------


def _v1_zh(d, t):
    return (
        "保护用地占比 "
        + _f2(d["protected_share"])
        + f" ≥ {t['protected_share_min']}：位于生态保护红线/永久基本农田"
    )


def _v1_en(d, t):
    return (
        "protected_share "
        + _f2(d["protected_share"])
        + f" ≥ {t['protected_share_min']}: in protected land"
    )


def _year(d):
    return d["built_year"].astype("Int64").astype(TEXT)


def _v3_zh(d, t):
    return "建成年份 " + _year(d) + f" > 基准年 {t['baseline_year']}：村内新增工业用地"


def _v3_en(d, t):
    return (
        "built " + _year(d) + f" > baseline {t['baseline_year']}: new industrial land in a village"
    )


def _c1_zh(d, t):
    return (
        "村级园区 "
        + _id(d["village_park_id"])
        + " 距镇级园区 "
        + _id(d["linked_park_id"])
        + " "
        + _f1(d["linked_m"])
        + f" 米 ≤ {t['park_contact_m']} 米（连片）；开发边界内占比 "
        + _f2(d["boundary_share"])
        + f" ≥ {t['inside_share_min']}"
    )


def _c1_en(d, t):
    return (
        "village park "
        + _id(d["village_park_id"])
        + " within "
        + _f1(d["linked_m"])
        + f" m ≤ {t['park_contact_m']} m of township park "
        + _id(d["linked_park_id"])
        + "; boundary_share "
        + _f2(d["boundary_share"])
        + f" ≥ {t['inside_share_min']}"
    )


def _r1_zh(d, t):
    return (
        "集聚点占比 " + _f2(d["cluster_share"]) + f" ≥ {t['cluster_share_min']}，"
        "位于村级工业集聚点 " + _id(d["cluster_id"])
    )


def _r1_en(d, t):
    return (
        "cluster_share " + _f2(d["cluster_share"]) + f" ≥ {t['cluster_share_min']} "
        "in cluster point " + _id(d["cluster_id"])
    )


def _r2_zh(d, t):
    return (
        "开发边界内占比 "
        + _f2(d["boundary_share"])
        + f" < {t['inside_share_min']}；"
        + _pick(d["eco_friendly"], "生态友好", "三产融合")
        + "；村级园区 "
        + _f2(d["village_park_mu"])
        + f" 亩 ≤ {t['scattered_max_mu']} 亩"
    )


def _r2_en(d, t):
    return (
        "boundary_share "
        + _f2(d["boundary_share"])
        + f" < {t['inside_share_min']}; "
        + _pick(d["eco_friendly"], "eco-friendly", "rural fusion")
        + "; village park "
        + _f2(d["village_park_mu"])
        + f" mu ≤ {t['scattered_max_mu']} mu"
    )


def _v2_zh(d, t):
    return (
        "开发边界内占比 "
        + _f2(d["boundary_share"])
        + f" < {t['inside_share_min']}；"
        + _pick(
            _eco_or_fusion(d),
            "村级园区 "
            + _f2(d["village_park_mu"].fillna(0.0))
            + f" 亩 > {t['scattered_max_mu']} 亩",
            "非生态友好、非三产融合",
        )
    )


def _v2_en(d, t):
    return (
        "boundary_share "
        + _f2(d["boundary_share"])
        + f" < {t['inside_share_min']}; "
        + _pick(
            _eco_or_fusion(d),
            "village park "
            + _f2(d["village_park_mu"].fillna(0.0))
            + f" mu > {t['scattered_max_mu']} mu",
            "neither eco-friendly nor rural fusion",
        )
    )


def _has_park(d):
    return d["nearest_park_id"].fillna("").ne("")


def _c2_zh(d, t):
    return (
        "开发边界内占比 " + _f2(d["boundary_share"]) + f" ≥ {t['inside_share_min']}；"
        "集聚点占比 " + _f2(d["cluster_share"]) + f" < {t['cluster_share_min']}；"
        f"村级园区内无地块在镇级园区 {t['park_contact_m']} 米以内；"
        + _pick(
            _has_park(d),
            "最近镇级园区 "
            + _id(d["nearest_park_id"])
            + "，距 "
            + _f1(d["nearest_park_m"].fillna(0.0))
            + " 米",
            "输入中无镇级园区",
        )
    )


def _c2_en(d, t):
    return (
        "boundary_share " + _f2(d["boundary_share"]) + f" ≥ {t['inside_share_min']}; "
        "cluster_share " + _f2(d["cluster_share"]) + f" < {t['cluster_share_min']}; "
        f"no village-park plot within {t['park_contact_m']} m of a township park; "
        + _pick(
            _has_park(d),
            "nearest township park "
            + _id(d["nearest_park_id"])
            + " at "
            + _f1(d["nearest_park_m"].fillna(0.0))
            + " m",
            "no township park in the input",
        )
    )


class Rule(NamedTuple):
    """One row of the SPEC §5 table: when it holds, and why, in Chinese and English."""

    when: Callable[[pd.DataFrame, Mapping[str, Any]], pd.Series]
    zh: Callable[[pd.DataFrame, Mapping[str, Any]], pd.Series]
    en: Callable[[pd.DataFrame, Mapping[str, Any]], pd.Series]


#: The SPEC §5 table in the order the rules are tried (first match wins); the class of
#: each rule is :data:`zoning.vocab.RULES`.
TABLE: dict[str, Rule] = {
    "V1": Rule(_when_v1, _v1_zh, _v1_en),
    "V3": Rule(_when_v3, _v3_zh, _v3_en),
    "C1": Rule(_when_c1, _c1_zh, _c1_en),
    "R1": Rule(_when_r1, _r1_zh, _r1_en),
    "R2": Rule(_when_r2, _r2_zh, _r2_en),
    "V2": Rule(_when_v2, _v2_zh, _v2_en),
    "C2": Rule(_when_c2, _c2_zh, _c2_en),
}
#: Where a rule sends the plot (the rules not named here have no target).
TARGETS = {"C1": "linked_park_id", "R1": "cluster_id", "C2": "nearest_park_id"}


def reasons(
    rule_codes: np.ndarray, f: pd.DataFrame, t: dict[str, str], problem: pd.Series, lang: str
) -> pd.Series:
    """One reason per plot in ``lang``: each rule's reason function on the rows it
    decided, the problem on the rest, put back in row order."""
    pieces: list[pa.Array] = []
    positions: list[np.ndarray] = []
    for code in (*TABLE, ""):
        sel = rule_codes == code
        if not sel.any():
            continue
        if code:
            text = getattr(TABLE[code], lang)(f[sel], t)
        else:
            text = problem_text(problem[sel], lang)
        pieces.append(pa.array(text.astype(TEXT).array, type=pa.large_string()))
        positions.append(np.flatnonzero(sel))
    if not pieces:
        return pd.Series(pd.array([], dtype=TEXT), index=f.index)
    order = np.argsort(np.concatenate(positions), kind="stable")
    texts = pa.concat_arrays(pieces).take(pa.array(order))
    return pd.Series(pd.array(texts, dtype=TEXT), index=f.index)


def decide(
    measures: pd.DataFrame,
    attrs: pd.DataFrame,
    params: Mapping[str, Any],
    problem: pd.Series | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
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
    lang
        ``zh`` (default) or ``en``: the language of ``reason``.

    Returns
    -------
    DataFrame with ``class``, ``class_zh``, ``rule``, ``target_id``, ``reason`` (in
    ``lang``) and the reason in the other language (``reason_en`` or ``reason_zh``).
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
    idx = measures.index
    if problem is None:
        problem = pd.Series("", index=idx)
    usable = problem.fillna("").eq("").to_numpy()
    f = facts(measures, attrs)
    conditions = [rule.when(f, params).to_numpy(dtype=bool) & usable for rule in TABLE.values()]
    rule_codes = np.select(conditions, list(TABLE), default="")
    rule = pd.Series(rule_codes, index=idx, dtype=object)
    cls = rule.map(RULES).fillna("unclassified")

    target = pd.Series("", index=idx, dtype=object)
    for code, col in TARGETS.items():
        sel = rule_codes == code
        target[sel] = f.loc[sel, col].fillna("")

    t = limits(params)
    other = next(x for x in LANGS if x != lang)
    return pd.DataFrame(
        {
            "class": cls,
            "class_zh": cls.map(CLASS_ZH),
            "rule": rule,
            "target_id": target,
            "reason": reasons(rule_codes, f, t, problem, lang),
            f"reason_{other}": reasons(rule_codes, f, t, problem, other),
        },
        index=idx,
    )
