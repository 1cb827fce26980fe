"""Sample data for the list + ledger + assessment (SPEC §8), seeded.

``write_ledger_sample(data_dir)`` writes, beside the sample county:

- ``enterprises.csv``: one row per enterprise of the sample plots with the six 亩均
  indicator inputs (plausible Cixi figures);
- ``progress/YYYY-MM_<town code>.csv|xlsx``: a few months of town update sheets, in the
  forms towns send them (English or Chinese headers and statuses, CSV or Excel), with the
  usual mistakes: unknown ids, statuses that do not fit the class, dates out of order,
  final statuses without a note, and one sheet sent twice.

The sheets follow the default classification of the sample county.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .vocab import FINAL_STATUS, STATUS_ZH

MONTHS = ("2026-03", "2026-04", "2026-05")
DEFAULT_SEED = 2021


def enterprises(parcels: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The enterprise table: land from their plots, the rest drawn around Cixi's levels."""
    g = parcels.groupby("enterprise", sort=True).agg(town=("town", "first"),
                                                     land_mu=("area_mu", "sum"))
    n = len(g)
    land = g["land_mu"].to_numpy().round(2)
    tax_per_mu = rng.lognormal(np.log(8.0), 0.8, n)            # 万元 per mu
    va_per_mu = tax_per_mu * rng.lognormal(np.log(5.0), 0.3, n)
    value_added = (va_per_mu * land).round(1)
    out = pd.DataFrame({
        "enterprise_id": [f"ENT{i:05d}" for i in range(1, n + 1)],
        "enterprise": g.index.to_numpy(), "town": g["town"].to_numpy(), "land_mu": land,
        "tax_10k_yuan": (tax_per_mu * land).round(1),
        "value_added_10k_yuan": value_added,
        "energy_tce": (value_added / rng.lognormal(np.log(2.5), 0.5, n)).round(1),
        "emissions_t": (value_added / rng.lognormal(np.log(40.0), 0.6, n)).round(2),
        "employees": np.maximum(1, (land * rng.lognormal(np.log(6.0), 0.5, n))).astype(int),
        "revenue_10k_yuan": (value_added * rng.lognormal(np.log(4.0), 0.3, n)).round(1),
        "rd_10k_yuan": (value_added * rng.uniform(0.0, 0.08, n)).round(1),
    })
    gaps = rng.random(n) < 0.03  # a few enterprises never reported their energy use
    out.loc[gaps, "energy_tce"] = np.nan
    return out


def progress_sheets(items: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Update sheets per month and town (canonical columns; forms applied when written)."""
    sheets: dict[str, pd.DataFrame] = {}
    stage = pd.Series(0, index=items.index)  # 0 pending, 1 in progress, 2 final
    last = pd.Series("", index=items.index)
    for month in MONTHS:
        for town, block in items.groupby("town", sort=True):
            rows = []
            pick = block.index[rng.random(len(block)) < 0.12]
            for i in pick:
                kind, cls = items.at[i, "kind"], items.at[i, "class"]
                final = FINAL_STATUS.get((kind, cls))
                step = 1 if stage[i] == 0 or final is None else 2
                if stage[i] >= 2:
                    continue
                status = "in_progress" if step == 1 else final
                day = f"{month}-{rng.integers(1, 28):02d}"
                if last[i] and day < last[i]:
                    day = last[i]
                note = "" if step == 1 else rng.choice(["已完成", "已验收", "整改到位"])
                rows.append([kind, items.at[i, "item_id"], status, day, note])
                stage[i], last[i] = step, day
            for row in rows:  # the usual mistakes
                r = rng.random()
                if r < 0.02:
                    row[1] = row[1] + "X"                       # unknown id
                elif r < 0.04:
                    row[2] = "cleared" if row[2] != "cleared" else "moved"  # wrong status
                elif r < 0.06 and month != MONTHS[0]:
                    row[3] = f"{MONTHS[0]}-01"                  # out of order
                elif r < 0.07 and row[2] not in ("in_progress",):
                    row[4] = ""                                 # final without a note
            if rows:
                sheets[f"{month}|{town}"] = pd.DataFrame(
                    rows, columns=["kind", "item_id", "status", "date", "note"])
    return sheets


def write_ledger_sample(data_dir: str | os.PathLike, classified_parcels: pd.DataFrame,
                        workshops: pd.DataFrame, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write enterprises.csv and progress/ sheets into ``data_dir`` (files returned)."""
    rng = np.random.default_rng(seed)
    data_dir = Path(data_dir)
    written = []
    ent = enterprises(classified_parcels, rng)
    target = data_dir / "enterprises.csv"
    ent.to_csv(target, index=False, encoding="utf-8-sig")
    written.append(target)
    items = pd.concat([
        pd.DataFrame({"kind": "parcel", "item_id": classified_parcels["parcel_id"],
                      "town": classified_parcels["town"], "class": classified_parcels["class"]}),
        pd.DataFrame({"kind": "workshop", "item_id": workshops["workshop_id"],
                      "town": workshops["town"], "class": workshops["class"]}),
    ], ignore_index=True)
    folder = data_dir / "progress"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    towns = sorted(items["town"].unique())
    for key, sheet in progress_sheets(items, rng).items():
        month, town = key.split("|")
        code = f"T{towns.index(town) + 1:02d}"
        form = towns.index(town) % 3  # 0: CSV English, 1: CSV Chinese, 2: Excel Chinese
        if form:
            sheet = sheet.assign(kind=sheet["kind"].map({"parcel": "地块", "workshop": "作坊"}),
                                 status=sheet["status"].map(STATUS_ZH).fillna(sheet["status"]))
            sheet = sheet.rename(columns={"kind": "类型", "item_id": "编号", "status": "状态",
                                          "date": "日期", "note": "备注"})
            sheet["填报人"] = f"{town}填报员"
        path = folder / f"{month}_{code}.{'xlsx' if form == 2 else 'csv'}"
        if form == 2:
            with pd.ExcelWriter(path, engine="openpyxl") as xl:
                sheet.to_excel(xl, index=False)
        else:
            sheet.to_csv(path, index=False, encoding="utf-8-sig")
        written.append(path)
    resent = folder / f"{MONTHS[1]}_T01_resent.csv"  # the same sheet sent twice
    first = folder / f"{MONTHS[1]}_T01.csv"
    if first.exists():
        resent.write_bytes(first.read_bytes())
        written.append(resent)
    return written
