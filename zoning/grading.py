"""亩均效益评价: the per-mu grading of enterprises as Zhejiang counties do it (SPEC §8).

Each indicator scores weight × min(max(value / mean, 0), 1.5), the mean taken over the
enterprises that have the indicator; a missing indicator (inputs missing or denominator
not > 0) scores 0 and is flagged; an indicator whose mean is ≤ 0 scores 0 for everyone.
Enterprises are ranked by total score (ties: enterprise_id) and graded A/B/C/D by quota.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ZoningError

#: indicator -> (numerator, denominator, Chinese name)
INDICATORS = {
    "tax_per_mu": ("tax_10k_yuan", "land_mu", "亩均税收"),
    "value_added_per_mu": ("value_added_10k_yuan", "land_mu", "亩均增加值"),
    "value_added_per_tce": ("value_added_10k_yuan", "energy_tce", "单位能耗增加值"),
    "value_added_per_emission": ("value_added_10k_yuan", "emissions_t", "单位排放增加值"),
    "labour_productivity": ("value_added_10k_yuan", "employees", "全员劳动生产率"),
    "rd_share": ("rd_10k_yuan", "revenue_10k_yuan", "研发经费占比"),
}
INPUTS = sorted({f for num, den, _ in INDICATORS.values() for f in (num, den)})


def default_profile() -> dict[str, float]:
    """Weights and quotas from the packaged defaults.toml ([grading])."""
    from .config import Config

    return dict(Config().grading)


def grade(enterprises: pd.DataFrame, profile: dict | None = None) -> pd.DataFrame:
    """Scores and grades, one row per enterprise in input order.

    Columns: ``enterprise_id``, ``score``, ``grade``, ``rank``, ``score_<indicator>`` and
    ``<indicator>`` (the value) for each indicator, ``flags`` (missing indicators).
    """
    profile = {**default_profile(), **(profile or {})}
    if "enterprise_id" not in enterprises:
        raise ZoningError("the enterprise table has no enterprise_id column")
    ids = enterprises["enterprise_id"].astype(str).str.strip()
    if ids.duplicated().any():
        dup = sorted(set(ids[ids.duplicated()]))[:5]
        raise ZoningError(f"duplicate enterprise_id {dup}")
    out = pd.DataFrame({"enterprise_id": ids})
    for extra in ("enterprise", "town"):
        if extra in enterprises:
            out[extra] = enterprises[extra].to_numpy()
    total = np.zeros(len(out))
    flags = [[] for _ in range(len(out))]
    for name, (num, den, _) in INDICATORS.items():
        n = pd.to_numeric(enterprises.get(num), errors="coerce") if num in enterprises else \
            pd.Series(np.nan, index=enterprises.index)
        d = pd.to_numeric(enterprises.get(den), errors="coerce") if den in enterprises else \
            pd.Series(np.nan, index=enterprises.index)
        ok = (n.notna() & d.notna() & (d > 0)).to_numpy()
        value = np.full(len(out), np.nan)
        value[ok] = (n.to_numpy(dtype=float)[ok] / d.to_numpy(dtype=float)[ok])
        mean = value[ok].mean() if ok.any() else 0.0
        weight = float(profile[name])
        if mean > 0:
            score = weight * np.clip(np.where(ok, value, 0.0) / mean, 0.0, 1.5)
        else:
            score = np.zeros(len(out))
        score[~ok] = 0.0
        for i in np.flatnonzero(~ok):
            flags[i].append(f"no {name}")
        out[name] = value
        out[f"score_{name}"] = score
        total += score
    out["score"] = total
    order = np.lexsort((out["enterprise_id"].to_numpy(dtype=str), -total))
    rank = np.empty(len(out), dtype=int)
    rank[order] = np.arange(1, len(out) + 1)
    n = len(out)
    cuts = [int(np.floor(profile[q] * n)) for q in ("quota_a", "quota_b", "quota_c")]
    out["rank"] = rank
    out["grade"] = np.select([rank <= cuts[0], rank <= cuts[1], rank <= cuts[2]],
                             ["A", "B", "C"], "D")
    out["flags"] = [";".join(f) for f in flags]
    first = ["enterprise_id", "score", "grade", "rank",
             *[f"score_{k}" for k in INDICATORS], "flags"]
    return out[first + [c for c in out.columns if c not in first]]


def grades_by_enterprise(path) -> pd.Series | None:
    """Grade per enterprise name from a ``zoning grade`` grades.csv (None if there is none):
    how the grades join the plot list, the maps and the 清单."""
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype={"enterprise_id": str, "enterprise": str},
                        encoding="utf-8-sig")
    if "enterprise" not in table or "grade" not in table:
        return None
    from ._io import formula_unescape

    table["enterprise"] = formula_unescape(table["enterprise"])  # '=x in the CSV is =x
    return table.dropna(subset=["enterprise"]).drop_duplicates("enterprise").set_index(
        "enterprise")["grade"]
