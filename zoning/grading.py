"""亩均效益评价: the per-mu grading of enterprises as Zhejiang counties do it (SPEC §8).

Each indicator scores weight × min(max(value / mean, 0), 1.5), the mean taken over the
enterprises that have the indicator; a missing indicator (inputs missing or denominator
not > 0) scores 0 and is flagged; an indicator whose mean is ≤ 0 scores 0 for everyone.
Enterprises are ranked by total score (ties: enterprise_id) and graded A/B/C/D by quota.

Input values that are no number give a missing indicator, flagged with the reason in the
enterprise's ``flags`` (Chinese) and ``flags_en`` (English): an empty cell, text ('n/a', '约5'), inf, or a denominator not > 0
(a negative or zero ``land_mu``). A negative numerator (a tax refund) is a real value:
its ratio clips to a score of 0. Scores are always finite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import ZoningError
from .vocab import ENTERPRISE_FIELD_ZH, GRADING_INDICATORS

#: indicator -> (numerator, denominator, Chinese name) (:data:`zoning.vocab.GRADING_INDICATORS`)
INDICATORS = GRADING_INDICATORS
INPUTS = sorted({f for num, den, _ in INDICATORS.values() for f in (num, den)})


def default_profile() -> dict[str, float]:
    """Weights and quotas from the packaged defaults.toml ([grading])."""
    from .config import Config

    return dict(Config().grading)


def grade(enterprises: pd.DataFrame, profile: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Scores and grades, one row per enterprise in input order.

    Columns: ``enterprise_id``, ``score``, ``grade``, ``rank``, ``score_<indicator>`` and
    ``<indicator>`` (the value) for each indicator, ``flags`` (missing indicators, in
    Chinese) and ``flags_en`` (the same in English).
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
    flags = pd.Series("", index=enterprises.index, dtype=object)
    flags_en = flags.copy()
    for name, (num, den, name_zh) in INDICATORS.items():
        n, n_why, n_zh = _number(enterprises, num)
        d, d_why, d_zh = _number(enterprises, den)
        shown = d.astype(str).str.removesuffix(".0")
        not_positive = (d.notna() & (d <= 0)).to_numpy()
        d_why = d_why.where(d_why != "", np.where(not_positive, den + " " + shown + " not > 0", ""))
        d_zh = d_zh.where(
            d_zh != "",
            np.where(
                not_positive, ENTERPRISE_FIELD_ZH.get(den, den) + " " + shown + " 不大于 0", ""
            ),
        )
        why = n_why.where(n_why != "", d_why)
        why_zh = n_zh.where(n_zh != "", d_zh)
        ok = (why == "").to_numpy()
        value = np.full(len(out), np.nan)
        with np.errstate(over="ignore", under="ignore"):
            value[ok] = n.to_numpy(dtype=float)[ok] / d.to_numpy(dtype=float)[ok]
        ok = ok & np.isfinite(value)  # a huge ratio that overflows is no value either
        mean = value[ok].mean() if ok.any() else 0.0
        weight = float(profile[name])
        if np.isfinite(mean) and mean > 0:
            score = weight * np.clip(np.where(ok, value, 0.0) / mean, 0.0, 1.5)
        else:
            score = np.zeros(len(out))
        score[~ok] = 0.0
        value[~ok] = np.nan
        text = np.where(ok, "", f"no {name} (" + why.where(why != "", "overflow") + ")")
        flags_en = flags_en + np.where((flags_en != "") & ~ok, ";", "") + text
        text = np.where(ok, "", f"缺{name_zh}（" + why_zh.where(why_zh != "", "数值溢出") + "）")
        flags = flags + np.where((flags != "") & ~ok, "；", "") + text
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
    out["grade"] = np.select(
        [rank <= cuts[0], rank <= cuts[1], rank <= cuts[2]], ["A", "B", "C"], "D"
    )
    out["flags"] = flags.to_numpy()
    out["flags_en"] = flags_en.to_numpy()
    first = [
        "enterprise_id",
        "score",
        "grade",
        "rank",
        *[f"score_{k}" for k in INDICATORS],
        "flags",
        "flags_en",
    ]
    return out[first + [c for c in out.columns if c not in first]]


def _number(table: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A column as finite numbers (NaN where there is none) and, aligned, why a value is
    missing, in English and in Chinese: the column absent, the cell empty, text that is
    not a number ('n/a', '约5'), or a number that is not finite (inf); '' where the number
    is fine."""
    zh = ENTERPRISE_FIELD_ZH.get(column, column)
    if column not in table:
        return (
            pd.Series(np.nan, index=table.index),
            pd.Series(f"{column} not given", index=table.index),
            pd.Series(f"未提供{zh}", index=table.index),
        )
    raw = table[column]
    number = pd.to_numeric(raw, errors="coerce").astype(float)
    text = raw.astype("string").str.strip().fillna("")
    finite = np.isfinite(number.to_numpy())
    cases = [text.eq("").to_numpy() | raw.isna().to_numpy(), number.isna().to_numpy(), ~finite]
    quoted = text.str.slice(0, 20).map(repr)
    why = np.select(
        cases,
        [
            f"{column} missing",
            f"{column} " + quoted + " not a number",
            f"{column} " + text + " not finite",
        ],
        "",
    )
    why_zh = np.select(
        cases, [f"{zh}为空", f"{zh} " + quoted + " 不是数字", f"{zh} " + text + " 不是有限数"], ""
    )
    return (
        number.where(finite),
        pd.Series(why, index=table.index, dtype=object),
        pd.Series(why_zh, index=table.index, dtype=object),
    )
