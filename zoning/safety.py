"""Workshop safety and source control (SPEC §12): the three-in-one checks S1–S6, the risk
level, and the workshops denied three-phase industrial power.

Frames in, frames out (HOUSE.md tier T5), vectorised over the workshop frame. Check
fields are read as SPEC §12 says: booleans in the words of §3, but an empty or missing
cell is *unknown*, not false; a value that is no yes/no word is reported and read as
false (§3). A check is ``pass``, ``fail`` or ``unknown``:

====  ===========================================================================
S1    fails when ``hazardous_goods`` is true (甲乙类物品)
S2    fails when ``fire_separation`` is false
S3    fails when ``separate_exit`` is false
S4    fails when ``smoke_alarm`` is false
S5    fails when ``window_escape`` is false
S6    fails when ``residents`` ≥ ``sprinkler_residents_min`` and ``sprinkler`` is false;
      passes below the threshold whatever ``sprinkler`` says; unknown when
      ``residents`` is missing, or at/above the threshold with ``sprinkler`` missing
====  ===========================================================================

Risk level: ``high`` if S1 fails or ≥ 3 checks fail, ``medium`` if 1–2 fail,
``unknown`` if none fails and any is unknown, ``low`` otherwise; ``none`` for a workshop
that is not three-in-one (no checks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .layers import IssueLog, is_given, parse_bool, parse_count
from .vocab import NO_POWER_ZH, SAFETY_CHECKS

#: Check fields read as true / false / unknown (pd.NA).
CHECK_BOOLEANS = (
    "hazardous_goods",
    "fire_separation",
    "separate_exit",
    "smoke_alarm",
    "window_escape",
    "sprinkler",
)
#: Whole-number fields of SPEC §12.
SAFETY_INTEGERS = ("residents", "registered_year")
#: Columns :func:`three_in_one_checks` adds to the workshops layer.
CHECK_COLUMNS = ("risk_level", "checks_failed", "checks_unknown")


def read_check_fields(ws: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    """The optional fields of SPEC §12 as nullable booleans / integers.

    A missing column or an empty cell is ``<NA>`` (unknown); a value that is no yes/no
    word is listed in ``issues`` with its workshop id and read as false (SPEC §3); a
    negative ``residents`` or a ``registered_year`` that is not a whole number is listed
    and left empty.
    """
    ws = ws.copy()
    ids = ws["workshop_id"] if "workshop_id" in ws else None
    for f in CHECK_BOOLEANS:
        if f not in ws:
            ws[f] = pd.array([pd.NA] * len(ws), dtype="boolean")
            continue
        given = is_given(ws[f].astype(object).where(ws[f].notna(), None))
        value = parse_bool(ws[f], f, "workshops", issues, ids)
        ws[f] = pd.Series(value.to_numpy(dtype=bool), index=ws.index, dtype="boolean").mask(~given)
    for f in SAFETY_INTEGERS:
        if f not in ws:
            ws[f] = pd.array([pd.NA] * len(ws), dtype="Int64")
            continue
        ws[f] = parse_count(ws[f], f, "workshops", issues, ids)
    return ws


def check_states(ws: pd.DataFrame, *, sprinkler_residents_min: int) -> pd.DataFrame:
    """``pass`` / ``fail`` / ``unknown`` per check S1–S6 (columns), for every workshop;
    empty text where the workshop is not three-in-one. ``ws`` as
    :func:`read_check_fields` returns it, with ``three_in_one`` a plain boolean."""
    three = (
        ws["three_in_one"].fillna(False).to_numpy(dtype=bool)
        if "three_in_one" in ws
        else np.zeros(len(ws), dtype=bool)
    )

    def state(fail: np.ndarray, unknown: np.ndarray) -> np.ndarray:
        out = np.select([unknown, fail], ["unknown", "fail"], "pass").astype(object)
        return np.where(three, out, "")

    def known(f: str) -> tuple[np.ndarray, np.ndarray]:  # (value, is missing)
        col = ws[f]
        return col.fillna(False).to_numpy(dtype=bool), col.isna().to_numpy()

    states = {}
    value, missing = known("hazardous_goods")
    states["S1"] = state(value, missing)
    for code in ("S2", "S3", "S4", "S5"):
        value, missing = known(SAFETY_CHECKS[code][0])
        states[code] = state(~value, missing)
    residents = ws["residents"]
    no_count = residents.isna().to_numpy()
    many = residents.fillna(0).to_numpy(dtype=float) >= sprinkler_residents_min
    sprinkler, no_sprinkler = known("sprinkler")
    states["S6"] = state(
        many & ~no_count & ~sprinkler & ~no_sprinkler, no_count | (many & no_sprinkler)
    )
    return pd.DataFrame(states, index=ws.index)


def risk_levels(states: pd.DataFrame) -> pd.DataFrame:
    """From :func:`check_states`: ``risk_level``, ``checks_failed`` and ``checks_unknown``
    (codes separated by spaces, e.g. ``S2 S4``; empty when none)."""
    codes = np.array(list(states.columns), dtype=object)
    fail = (states == "fail").to_numpy()
    unknown = (states == "unknown").to_numpy()
    checked = (states != "").any(axis=1).to_numpy()
    n_fail = fail.sum(axis=1)
    level = np.select(
        [
            ~checked,
            fail[:, list(codes).index("S1")] | (n_fail >= 3),
            n_fail >= 1,
            unknown.any(axis=1),
        ],
        ["none", "high", "medium", "unknown"],
        "low",
    )

    def joined(mask: np.ndarray) -> np.ndarray:
        text = np.where(mask, codes[None, :] + " ", "")
        return (
            np.array(["".join(row).strip() for row in text], dtype=object)
            if len(mask)
            else np.empty(0, dtype=object)
        )

    return pd.DataFrame(
        {
            "risk_level": level.astype(object),
            "checks_failed": joined(fail),
            "checks_unknown": joined(unknown),
        },
        index=states.index,
    )


def three_in_one_checks(ws: pd.DataFrame, *, sprinkler_residents_min: int) -> pd.DataFrame:
    """Checks S1–S6 (columns ``S1`` … ``S6``), ``risk_level``, ``checks_failed`` and
    ``checks_unknown`` per workshop (SPEC §12)."""
    states = check_states(ws, sprinkler_residents_min=sprinkler_residents_min)
    return pd.concat([states, risk_levels(states)], axis=1)


def failed_fixes(checks_failed: pd.Series) -> pd.Series:
    """The failed checks as fix codes joined by ';' (the form of the ``fixes`` column)."""
    return checks_failed.fillna("").astype(str).str.split().str.join(";")


def no_industrial_power(ws: pd.DataFrame, *, baseline_year: int) -> np.ndarray:
    """Source control (SPEC §12): ``registered_year`` > ``baseline_year`` and on no
    industrial plot (§6's plot under the workshop, whatever its class: ``parcel_id``
    empty). A workshop without a usable point (class ``unclassified``) is not flagged:
    where it lies is not known."""
    year = ws["registered_year"]
    new = (year.notna() & year.fillna(0).gt(baseline_year)).to_numpy(dtype=bool)
    off_plot = ws["parcel_id"].fillna("").astype(str).eq("").to_numpy()
    located = (
        ws["class"].ne("unclassified").to_numpy() if "class" in ws else np.ones(len(ws), dtype=bool)
    )
    return new & off_plot & located


def power_list(ws: pd.DataFrame, *, baseline_year: int) -> pd.DataFrame:
    """The list for the power company: flagged workshops with ``workshop_id``, ``town``,
    ``village``, ``registered_year`` and ``reason`` (Chinese), in workshop order."""
    flagged = ws[ws["no_industrial_power"].astype(bool)]

    def col(name):
        return (
            flagged[name].fillna("").astype(str)
            if name in flagged
            else pd.Series("", index=flagged.index, dtype=object)
        )

    year = flagged["registered_year"].astype("Int64")
    reason = (
        "登记年份 "
        + year.astype(str)
        + f" 晚于基准年 {baseline_year}，且不在村级工业用地上："
        + NO_POWER_ZH
    )
    return pd.DataFrame(
        {
            "workshop_id": col("workshop_id"),
            "town": col("town"),
            "village": col("village"),
            "registered_year": year,
            "reason": reason,
        }
    ).reset_index(drop=True)
