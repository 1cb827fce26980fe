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
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from .vocab import FINAL_STATUS, STATUS_ZH

MONTHS = ("2026-03", "2026-04", "2026-05")
DEFAULT_SEED = 2021


def enterprises(parcels: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The enterprise table: land from their plots, the rest drawn around Cixi's levels."""
    g = parcels.groupby("enterprise", sort=True).agg(
        town=("town", "first"), land_mu=("area_mu", "sum")
    )
    n = len(g)
    land = g["land_mu"].to_numpy().round(2)
    tax_per_mu = rng.lognormal(np.log(8.0), 0.8, n)  # 万元 per mu
    va_per_mu = tax_per_mu * rng.lognormal(np.log(5.0), 0.3, n)
    value_added = (va_per_mu * land).round(1)
    out = pd.DataFrame(
        {
            "enterprise_id": [f"ENT{i:05d}" for i in range(1, n + 1)],
            "enterprise": g.index.to_numpy(),
            "town": g["town"].to_numpy(),
            "land_mu": land,
            "tax_10k_yuan": (tax_per_mu * land).round(1),
            "value_added_10k_yuan": value_added,
            "energy_tce": (value_added / rng.lognormal(np.log(2.5), 0.5, n)).round(1),
            "emissions_t": (value_added / rng.lognormal(np.log(40.0), 0.6, n)).round(2),
            "employees": np.maximum(1, (land * rng.lognormal(np.log(6.0), 0.5, n))).astype(int),
            "revenue_10k_yuan": (value_added * rng.lognormal(np.log(4.0), 0.3, n)).round(1),
            "rd_10k_yuan": (value_added * rng.uniform(0.0, 0.08, n)).round(1),
        }
    )
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
                    row[1] = row[1] + "X"  # unknown id
                elif r < 0.04:
                    row[2] = "cleared" if row[2] != "cleared" else "moved"  # wrong status
                elif r < 0.06 and month != MONTHS[0]:
                    row[3] = f"{MONTHS[0]}-01"  # out of order
                elif r < 0.07 and row[2] not in ("in_progress",):
                    row[4] = ""  # final without a note
            if rows:
                sheets[f"{month}|{town}"] = pd.DataFrame(
                    rows, columns=["kind", "item_id", "status", "date", "note"]
                )
    return sheets


def write_ledger_sample(
    data_dir: str | os.PathLike,
    classified_parcels: pd.DataFrame,
    workshops: pd.DataFrame,
    seed: int = DEFAULT_SEED,
) -> list[Path]:
    """Write enterprises.csv and progress/ sheets into ``data_dir`` (files returned)."""
    rng = np.random.default_rng(seed)
    data_dir = Path(data_dir)
    written = []
    ent = enterprises(classified_parcels, rng)
    target = data_dir / "enterprises.csv"
    ent.to_csv(target, index=False, encoding="utf-8-sig")
    written.append(target)
    items = pd.concat(
        [
            pd.DataFrame(
                {
                    "kind": "parcel",
                    "item_id": classified_parcels["parcel_id"],
                    "town": classified_parcels["town"],
                    "class": classified_parcels["class"],
                }
            ),
            pd.DataFrame(
                {
                    "kind": "workshop",
                    "item_id": workshops["workshop_id"],
                    "town": workshops["town"],
                    "class": workshops["class"],
                }
            ),
        ],
        ignore_index=True,
    )
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
            sheet = sheet.assign(
                kind=sheet["kind"].map({"parcel": "地块", "workshop": "作坊"}),
                status=sheet["status"].map(STATUS_ZH).fillna(sheet["status"]),
            )
            sheet = sheet.rename(
                columns={
                    "kind": "类型",
                    "item_id": "编号",
                    "status": "状态",
                    "date": "日期",
                    "note": "备注",
                }
            )
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


# --- old industrial blocks and freed land (SPEC §11) ---------------------------------------

#: Years of the sample's enterprise history; the last is data/enterprises.csv itself.
BLOCK_YEARS = (2022, 2023, 2024)


def enterprise_history(
    latest: pd.DataFrame, rng: np.random.Generator, years=BLOCK_YEARS
) -> dict[int, pd.DataFrame]:
    """Enterprise tables of several years from the latest one (seeded, plausible).

    Each enterprise grows by its own rate (about 6 % a year, some shrink); earlier years
    are the latest figures divided by that growth. ``investment_10k_yuan`` (cumulative
    fixed-asset investment) is drawn around 250 万元 per mu of land and rises year by year.
    """
    n = len(latest)
    land = pd.to_numeric(latest["land_mu"], errors="coerce").to_numpy(dtype=float)
    growth = rng.lognormal(np.log(1.06), 0.08, n)
    invest_per_mu = rng.lognormal(np.log(250.0), 0.5, n)
    invest_growth = rng.lognormal(np.log(1.04), 0.05, n)
    flows = ("tax_10k_yuan", "value_added_10k_yuan", "revenue_10k_yuan", "rd_10k_yuan")
    out = {}
    last = years[-1]
    for year in years:
        back = last - year
        table = latest.copy()
        for column in flows:
            value = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
            table[column] = (value / growth**back).round(1)
        table["investment_10k_yuan"] = (land * invest_per_mu / invest_growth**back).round(1)
        table.insert(0, "year", year)
        out[year] = table
    return out


def block_layers(
    parcels: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A ``blocks`` layer for two towns and a ``scenic`` layer for the sample (seeded).

    Blocks: in the two towns with the most retain/consolidate mu, the village park with the
    most such mu widened by 150 m (its neighbours within reach join it). Scenic areas:
    200 m squares 300 m east of eight freed plots inside the development boundary.
    """
    import shapely

    members = parcels[parcels["class"].isin(["retain", "consolidate"])]
    towns = members.groupby("town")["area_mu"].sum().sort_values(ascending=False)
    rows = []
    for i, town in enumerate(sorted(towns.index[:2])):
        own = members[members["town"] == town]
        park = own.groupby("village_park_id")["area_mu"].sum().idxmax()
        shape = shapely.union_all(own.loc[own["village_park_id"] == park].geometry.array)
        rows.append(
            {
                "block_id": f"BLK{i + 1:02d}",
                "name": f"{town}老旧工业区块",
                "town": town,
                "geometry": shapely.buffer(shape, 150.0),
            }
        )
    blocks = gpd.GeoDataFrame(rows, geometry="geometry", crs=parcels.crs)
    freed = parcels[(parcels["class"] == "vacate") & (parcels["boundary_share"] >= 0.5)]
    pick = freed.iloc[np.sort(rng.choice(len(freed), size=min(8, len(freed)), replace=False))]
    box = {k: v.to_numpy() for k, v in pick.geometry.bounds.items()}
    scenic = gpd.GeoDataFrame(
        {"name": [f"乡村旅游点{i + 1}" for i in range(len(pick))]},
        geometry=shapely.box(box["maxx"] + 300, box["miny"], box["maxx"] + 500, box["miny"] + 200),
        crs=parcels.crs,
    )
    return blocks, scenic


class BlocksSample(TypedDict):
    """The paths :func:`write_blocks_sample` writes."""

    enterprises: list[Path]
    blocks: Path
    scenic: Path


def write_blocks_sample(
    folder: str | os.PathLike,
    parcels: gpd.GeoDataFrame,
    enterprises_csv: str | os.PathLike,
    seed: int = DEFAULT_SEED,
) -> BlocksSample:
    """The inputs of the sample's ``zoning blocks`` run into ``folder``: one enterprise
    table per year of :data:`BLOCK_YEARS` (the first in GBK, as a town's Excel saves it),
    blocks.gpkg and scenic.gpkg. Returns the paths (``enterprises``, ``blocks``,
    ``scenic``)."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    latest = pd.read_csv(enterprises_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    tables = []
    for year, table in enterprise_history(latest, rng).items():
        path = folder / f"enterprises_{year}.csv"
        encoding = "gbk" if year == BLOCK_YEARS[0] else "utf-8-sig"
        table.to_csv(path, index=False, encoding=encoding)
        tables.append(path)
    blocks, scenic = block_layers(parcels, rng)
    for name, gdf in (("blocks", blocks), ("scenic", scenic)):
        (folder / f"{name}.gpkg").unlink(missing_ok=True)
        gdf.to_file(folder / f"{name}.gpkg", layer=name, driver="GPKG")
    return {
        "enterprises": tables,
        "blocks": folder / "blocks.gpkg",
        "scenic": folder / "scenic.gpkg",
    }
