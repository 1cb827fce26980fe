"""Industry campaigns (一行业一方案, SPEC §12): each campaign's workshops and their progress
as of a date, from the ledger's statuses (§8). Frames in, frames out (tier T5).

A workshop belongs to every campaign whose ``industries`` list matches its ``industry``:
an entry ending in ``*`` matches any continuation of the text before it (none included),
any other entry the whole value only (no trimming, no case folding); a workshop without
an industry is in no campaign, and counts once per campaign however many entries match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CAMPAIGN_COLUMNS = [
    "campaign",
    "workshops",
    "final",
    "closed",
    "target_closed",
    "share_final",
    "deadline",
]
#: Statuses that count against ``target_closed``.
CLOSED_STATUSES = ("closed", "demolished")


def members(industry: pd.Series, industries) -> np.ndarray:
    """True where ``industry`` matches one of the campaign's entries."""
    text = industry.astype(object).where(industry.notna(), "").astype(str)
    hit = np.zeros(len(text), dtype=bool)
    for entry in industries:
        if entry.endswith("*"):
            hit |= text.str.startswith(entry[:-1]).to_numpy()
        else:
            hit |= text.eq(entry).to_numpy()
    return hit & text.ne("").to_numpy()


def campaign_items(state: pd.DataFrame, campaign: dict) -> pd.DataFrame:
    """The workshop items of one campaign (rows of ``state``: a ledger's state as of a
    date with ``kind``, ``item_id``, ``industry``, ``class``, ``status``)."""
    ws = state[state["kind"].eq("workshop")]
    industry = ws["industry"] if "industry" in ws else pd.Series("", index=ws.index)
    return ws[members(industry, campaign["industries"])]


def campaign_table(state: pd.DataFrame, campaigns) -> pd.DataFrame:
    """Per campaign: ``workshops``, ``final`` (status is the final status of the class in
    force), ``closed`` (status closed or demolished), ``target_closed`` (empty if not
    given), ``share_final`` = final / workshops (empty without members), ``deadline``
    (shown only)."""
    rows = []
    for campaign in campaigns:
        items = campaign_items(state, campaign)
        final = int(items["final"].astype(bool).sum())
        n = len(items)
        rows.append(
            {
                "campaign": campaign["name"],
                "workshops": n,
                "final": final,
                "closed": int(items["status"].isin(CLOSED_STATUSES).sum()),
                "target_closed": campaign.get("target_closed"),
                "share_final": round(final / n, 4) if n else np.nan,
                "deadline": campaign.get("deadline") or "",
            }
        )
    out = pd.DataFrame(rows, columns=CAMPAIGN_COLUMNS)
    out["target_closed"] = out["target_closed"].astype("Int64")
    out["share_final"] = out["share_final"].astype(float)
    return out


def campaign_progress(state: pd.DataFrame, campaigns) -> pd.DataFrame:
    """Per campaign, class (in force) and status: the number of workshops."""
    parts = []
    for campaign in campaigns:
        items = campaign_items(state, campaign)
        g = items.groupby(["class", "status"], sort=True).size().rename("workshops")
        parts.append(g.reset_index().assign(campaign=campaign["name"]))
    if not parts:
        return pd.DataFrame(columns=["campaign", "class", "status", "workshops"])
    out = pd.concat(parts, ignore_index=True)
    return out[["campaign", "class", "status", "workshops"]]
