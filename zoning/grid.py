"""The safety grid (安全生产网格化, SPEC §12): safety officers, monthly village meetings,
quarterly town meetings and the bodies of cluster points, as of a date.

Frames in, frames out (HOUSE.md tier T5); :mod:`zoning.outputs` writes the folder.

**Window.** As of a date D: the 12 complete calendar months ending on or before D — D's
month counts only when D is its last day — and the calendar quarters whose three months
all lie in the window. Meetings dated after D are ignored.

**Findings** (one row each, with a Chinese reason):

- ``no_officer``: a village of the ``villages`` table with an empty or missing
  ``safety_officer``;
- ``missed_month``: a village without a village-level meeting in a month of the window
  (``period`` YYYY-MM);
- ``missed_quarter``: a town without a town-level meeting in a quarter of the window
  (``period`` YYYY-Qn); a town meeting that names a village still counts for the town;
- ``cluster_no_body``: a cluster point whose ``management_body`` or ``safety_body`` is
  not true (missing included), with the cluster's own ``town``.

**Rejected meeting rows** (first failing check gives the reason; row 1 is the header): a
date that is not a date; a level other than village/town; a town that is no town of the
``villages`` table; a village that is not a village of that town; a village-level
meeting that names no village (it can count for no village).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import LayerError
from .layers import IssueLog, parse_bool, parse_date
from .vocab import GRID_FINDINGS, MEETING_LEVELS

#: Chinese headers the grid's tables accept besides the canonical names.
VILLAGES_ZH = {"镇街": "town", "村": "village", "村名": "village", "安管员": "safety_officer"}
MEETINGS_ZH = {
    "日期": "date",
    "级别": "level",
    "层级": "level",
    "镇街": "town",
    "村": "village",
    "村名": "village",
}
FINDING_COLUMNS = ["finding", "town", "village", "cluster_id", "period", "reason"]
TOWN_COLUMNS = ["town", "villages", "no_officer", "missed_months", "missed_quarters"]


@dataclass
class GridResult:
    """Findings, the per-town summary, rejected meeting rows and the window."""

    findings: pd.DataFrame
    towns: pd.DataFrame
    rejected: pd.DataFrame
    months: list[str]
    quarters: list[str]
    issues: IssueLog


def window(as_of: str) -> tuple[list[str], list[str]]:
    """The 12 months (YYYY-MM) and the complete quarters (YYYY-Qn) of the window ending on
    or before ``as_of`` (YYYY-MM-DD), oldest first."""
    day = dt.date.fromisoformat(as_of)
    last = pd.Period(day, freq="M")
    if (day + dt.timedelta(days=1)).month == day.month:  # not the last day of its month
        last = last - 1
    months = [last - k for k in range(11, -1, -1)]
    quarters = []
    for p in months:
        if p.month % 3 == 1 and (p + 2) in months:
            quarters.append(f"{p.year}-Q{(p.month - 1) // 3 + 1}")
    return [str(p) for p in months], quarters


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), "").astype(str).str.strip()


def read_villages(villages: pd.DataFrame, source: str = "villages") -> pd.DataFrame:
    """``town``, ``village``, ``safety_officer`` as stripped text. A row without a town or
    village, or a (town, village) listed twice, is one :class:`LayerError` naming the rows
    (the grid is keyed by them)."""
    missing = [c for c in ("town", "village") if c not in villages.columns]
    if missing:
        raise LayerError(
            f"missing column(s) {missing} (columns: {list(villages.columns)}); "
            "name them town, village, safety_officer (or 镇街, 村, 安管员)",
            source,
            "villages",
        )
    rows = villages.attrs.get("sheet_rows")
    rows = (
        np.asarray(rows)
        if rows is not None and len(rows) == len(villages)
        else np.arange(len(villages)) + 2
    )
    out = pd.DataFrame(
        {
            "town": _text(villages, "town"),
            "village": _text(villages, "village"),
            "safety_officer": _text(villages, "safety_officer"),
        }
    )
    blank = (out["town"].eq("") | out["village"].eq("")).to_numpy()
    if blank.any():
        raise LayerError(
            f"rows without a town or village: {', '.join(map(str, rows[blank][:10]))}",
            source,
            "villages",
            rows[blank].tolist(),
        )
    twice = out.duplicated(["town", "village"], keep=False).to_numpy()
    if twice.any():
        raise LayerError(
            "the same town and village listed more than once in rows "
            f"{', '.join(map(str, rows[twice][:10]))}",
            source,
            "villages",
            rows[twice].tolist(),
        )
    return out.reset_index(drop=True)


def check_meetings(
    meetings: pd.DataFrame, villages: pd.DataFrame, as_of: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accepted meetings dated on or before ``as_of`` with ``date``, ``month``, ``level``,
    ``town``, ``village``; rejected rows with ``row``, ``reason`` and the row's cells)."""
    rows = meetings.attrs.get("sheet_rows")
    rows = (
        np.asarray(rows)
        if rows is not None and len(rows) == len(meetings)
        else np.arange(len(meetings)) + 2
    )
    raw_date = (
        meetings["date"]
        if "date" in meetings
        else pd.Series([None] * len(meetings), index=meetings.index, dtype=object)
    )
    date = raw_date.map(parse_date).astype(object)
    level_text = _text(meetings, "level")
    level = level_text.str.lower().map(MEETING_LEVELS)
    town, village = _text(meetings, "town"), _text(meetings, "village")
    known_towns = set(villages["town"])
    known = pd.MultiIndex.from_frame(villages[["town", "village"]])
    village_known = pd.MultiIndex.from_arrays([town, village]).isin(known)
    reasons = np.select(
        [
            date.isna().to_numpy(),
            level.isna().to_numpy(),
            ~town.isin(known_towns).to_numpy(),
            village.ne("").to_numpy() & ~village_known,
            (level.eq("village") & village.eq("")).to_numpy(),
        ],
        [
            "日期不是日期（not a date）: " + _text(meetings, "date"),
            "级别不是村级或镇级（level is not village/town）: " + level_text,
            "镇街不在村庄名单中（unknown town）: " + town,
            "村不在该镇街的村庄名单中（unknown village of the town）: " + town + " " + village,
            pd.Series(
                "村级例会未写村名（a village meeting naming no village）", index=meetings.index
            ),
        ],
        "",
    )
    bad = reasons != ""
    rejected = meetings[bad].copy()
    rejected.insert(0, "reason", reasons[bad])
    rejected.insert(0, "row", rows[bad])
    ok = ~bad & (date.fillna("9999-99-99") <= as_of).to_numpy()
    accepted = pd.DataFrame(
        {
            "date": date[ok],
            "month": date[ok].str[:7],
            "level": level[ok],
            "town": town[ok],
            "village": village[ok],
        }
    )
    return accepted.reset_index(drop=True), rejected.reset_index(drop=True)


def cluster_findings(clusters: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    """Cluster points whose ``management_body`` or ``safety_body`` is not true (missing
    included), with the cluster's own ``town``."""
    ids = _text(clusters, "cluster_id")
    lacks = {}
    for field, word in (("management_body", "园区管理机构"), ("safety_body", "安全监管机构")):
        if field in clusters:
            lacks[word] = ~parse_bool(
                clusters[field], field, "cluster_points", issues, ids
            ).to_numpy(dtype=bool)
        else:
            lacks[word] = np.ones(len(clusters), dtype=bool)
    missing = lacks["园区管理机构"] | lacks["安全监管机构"]
    what = np.select(
        [lacks["园区管理机构"] & lacks["安全监管机构"], lacks["园区管理机构"]],
        ["园区管理机构和安全监管机构", "园区管理机构"],
        "安全监管机构",
    )
    name = _text(clusters, "name")
    label = ids + np.where(name.ne(""), "（" + name + "）", "")
    return pd.DataFrame(
        {
            "finding": "cluster_no_body",
            "town": _text(clusters, "town")[missing],
            "village": "",
            "cluster_id": ids[missing],
            "period": "",
            "reason": (
                "村级工业集聚点 " + label + " 未设" + what + "（cluster point without a "
                "management and a safety supervision body）"
            )[missing],
        }
    )


def safety_grid(
    villages: pd.DataFrame,
    meetings: pd.DataFrame,
    *,
    as_of: str,
    clusters: pd.DataFrame | None = None,
    source: str = "villages",
) -> GridResult:
    """The grid's findings as of ``as_of`` (YYYY-MM-DD); see the module docstring.

    ``villages``, ``meetings``: tables as :func:`zoning.layers.read_table` returns them
    (canonical column names); ``clusters``: the cluster points' attributes (optional).
    """
    issues = IssueLog()
    villages = read_villages(villages, source)
    months, quarters = window(as_of)
    accepted, rejected = check_meetings(meetings, villages, as_of)
    parts = []
    officer = villages[villages["safety_officer"].eq("")]
    parts.append(
        pd.DataFrame(
            {
                "finding": "no_officer",
                "town": officer["town"],
                "village": officer["village"],
                "cluster_id": "",
                "period": "",
                "reason": officer["town"] + officer["village"] + " 未配备安管员（no safety officer "
                "named）",
            }
        )
    )
    held = accepted[accepted["level"].eq("village")]
    held = set(zip(held["town"], held["village"], held["month"], strict=True))
    grid = pd.MultiIndex.from_product([range(len(villages)), months]).to_frame(
        index=False, name=["v", "month"]
    )
    grid["town"] = villages["town"].to_numpy()[grid["v"]]
    grid["village"] = villages["village"].to_numpy()[grid["v"]]
    met = (
        pd.MultiIndex.from_frame(grid[["town", "village", "month"]]).isin(list(held))
        if held
        else np.zeros(len(grid), dtype=bool)
    )
    miss = grid[~met]
    parts.append(
        pd.DataFrame(
            {
                "finding": "missed_month",
                "town": miss["town"],
                "village": miss["village"],
                "cluster_id": "",
                "period": miss["month"],
                "reason": miss["town"]
                + miss["village"]
                + " "
                + miss["month"]
                + " 无村级月度例会记录（no village meeting in the month）",
            }
        )
    )
    town_meetings = accepted[accepted["level"].eq("town")]
    quarter_of = town_meetings["month"].map(lambda m: f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}")
    heard = set(zip(town_meetings["town"], quarter_of, strict=True))
    towns = sorted(set(villages["town"]))
    tq = [(t, q) for t in towns for q in quarters if (t, q) not in heard]
    parts.append(
        pd.DataFrame(
            {
                "finding": "missed_quarter",
                "town": [t for t, _ in tq],
                "village": "",
                "cluster_id": "",
                "period": [q for _, q in tq],
                "reason": [
                    f"{t} {q} 无镇级季度例会（听取各村汇报）记录（no town meeting in the quarter）"
                    for t, q in tq
                ],
            }
        )
    )
    if clusters is not None:
        parts.append(cluster_findings(clusters, issues))
    findings = pd.concat([p.astype(object) for p in parts], ignore_index=True)[FINDING_COLUMNS]
    order = findings["finding"].map({f: i for i, f in enumerate(GRID_FINDINGS)})
    findings = (
        findings.assign(_o=order)
        .sort_values(["town", "_o", "village", "cluster_id", "period"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    summary = pd.DataFrame({"town": towns})
    summary["villages"] = summary["town"].map(villages["town"].value_counts()).astype(int)
    for name, finding in (
        ("no_officer", "no_officer"),
        ("missed_months", "missed_month"),
        ("missed_quarters", "missed_quarter"),
    ):
        per_town = findings.loc[findings["finding"].eq(finding), "town"].value_counts()
        summary[name] = summary["town"].map(per_town).fillna(0).astype(int)
    return GridResult(findings, summary[TOWN_COLUMNS], rejected, months, quarters, issues)
