"""Acceptance suite for SPEC §11 (old industrial blocks and freed land), issue 18.

Written from SPEC.md §3–§5, §8, §11 and the issue alone, without reading zoning/blocks.py.
Every expected value is a literal with a comment deriving it by hand from the fixture.

The fixture is a hand-made ``zoning classify`` output folder (classified.gpkg with the
SPEC §5 output columns on ``parcels``, a ``village_parks`` layer and context layers that
agree with the shares), three enterprise tables (2022: UTF-8 CSV with `year`, no
investment column; 2023: GBK CSV with Chinese headers renamed by [fields.enterprises],
`年份` as year; 2023 again as an Excel table without year, run with --year), a ``blocks``
layer and a ``scenic`` layer, all in EPSG:4549. The CLI runs in a temporary working
directory, so the zoning on PYTHONPATH (or the installed one) is the one under test. Rectangles are axis-aligned with integer (or .5) coordinates, so
areas and distances are exact. Most plots are 40 m × 50 m = 2000 m² = 3 mu.

Layout (x, y relative metres; gaps between linked plots are 10 m unless noted):

blocks row, y 0..50 (members: consolidate C2 / retain R2)
  A1 A2 A3 A4   x 0..190    village park A1    towns 甲 甲 乙 乙
  B1 B2 B3      x 400..540  village park B1
  C1 C2 C3      x 800..940  village park C1
  D1            x 1200      village park D1
  E1 E2 E3      x 1500..1640 village park E1
  F1 F2         x 1900..1990 village park F1
  G1 G2         x 2200..2290 village park G1
  Z1 Z5 Z9      x 2600..2740 village park Z1: Z1, Z9 vacate, Z5 retain between them
blocks-layer row, y 1000..1050
  M1 M2 M3      x 0..140    village park M1; block polygons K10 and K2 (see BLOCK_POLYS)
freed row, y 2900..3150 (vacate)
  V01 (V1, 1.5 mu), W1 (3 mu) - W2 (1.5 mu; gap exactly 20 m), W3 (20.5 m from W2), T1 (500 m from
  scenic), T2 (500.5 m from scenic), U1 (1.5 mu, 50 m from scenic), Q1 (6 mu),
  N1-N2 (x 4000..4090; a second scenic polygon 480 m from N2, 530 m from N1)
  scenic polygon x 1540..1640, y 3000..3050

Readings of SPEC where it can be read two ways (also in the report):
- R-a "A block is a village park with at least one member; its id is the village park
  id": the id is the classification's village_park_id even when that id is a vacated
  plot's (Z1) or a plot that moved to a block polygon (M1); members that overlap no
  block polygon keep that id.
- R-b "d_share ... (0 when no grades are given)": a block none of whose members'
  enterprises is graded D (or has none) has d_share 0, not missing.
- R-c "each over the block's enterprises that have both values and land_mu > 0": each
  indicator uses its own set (an enterprise without revenue still counts for tax).
- R-d freed_towns.csv has a row per (town, reuse) with sites (rows with 0 sites and 0 mu
  may be listed too); quota_mu is the town's reclaim mu on its reclaim row, and on other
  rows either 0/empty or the same figure.
- R-e change % in blocks.xlsx may be written as 100 (number), 1.0 in a % format, or text
  containing "100".
- R-f a [parameters] adjacency_gap_m in the config of `zoning blocks` re-links freed
  plots (§11: "adjacency_gap_m ... are the [parameters] of the same config"); blocks are
  not asserted under a changed gap (whether village parks are recomputed is open).
- R-g "most common town of its plots/members" counts plots, not mu.
- R-h a reason "quotes the numbers": every reason holds at least one number; the
  deciding figures are asserted where they are unambiguous (median year, ratio, shares,
  mu, the 500 m distance, the tax median).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

CRS = 4549
X0, Y0 = 620_000.0, 3_342_000.0
MU = 10000 / 15  # m² per mu (SPEC §2)


def rect(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


# id, x, y, w, h, class, rule, town, enterprise, built_year, floor_area_m2, boundary_share, village_park_id
M, V = ("consolidate", "C2"), ("vacate",)
PLOTS = [
    # block A1: built 1990/1996/2004/2010 -> median (1996+2004)/2 = 2000; floor only on A1, A2
    ("A1", 0, 0, 40, 50, *M, "甲镇", "甲一厂", 1990, 1000.0, 1.0, "A1"),
    ("A2", 50, 0, 40, 50, *M, "甲镇", None, 1996, 1000.0, 1.0, "A1"),
    ("A3", 100, 0, 40, 50, *M, "乙镇", None, 2004, None, 1.0, "A1"),
    ("A4", 150, 0, 40, 50, *M, "乙镇", None, 2010, None, 1.0, "A1"),
    # block B1: 乙一厂 on two members, 乙二厂 on one
    ("B1", 400, 0, 40, 50, *M, "甲镇", "乙一厂", 2005, 4000.0, 1.0, "B1"),
    ("B2", 450, 0, 40, 50, *M, "甲镇", "乙一厂", 2005, None, 1.0, "B1"),
    ("B3", 500, 0, 40, 50, *M, "甲镇", "乙二厂", 2005, None, 1.0, "B1"),
    # block C1: 丙二厂 has land_mu 0 in 2022 and is missing in 2023; 丙无厂 in no table
    ("C1", 800, 0, 40, 50, *M, "甲镇", "丙一厂", None, 3000.0, 1.0, "C1"),
    ("C2", 850, 0, 40, 50, *M, "甲镇", "丙二厂", None, None, 1.0, "C1"),
    ("C3", 900, 0, 40, 50, *M, "甲镇", "丙无厂", None, None, 1.0, "C1"),
    # block D1: old, but no floor area and no enterprise
    ("D1", 1200, 0, 40, 50, *M, "甲镇", None, 1980, None, 1.0, "D1"),
    # block E1: three plots, enterprise in no table -> no tax_per_mu
    ("E1", 1500, 0, 40, 50, *M, "甲镇", "戊无厂", 2010, None, 1.0, "E1"),
    ("E2", 1550, 0, 40, 50, *M, "甲镇", "戊无厂", 2010, None, 1.0, "E1"),
    ("E3", 1600, 0, 40, 50, *M, "甲镇", "戊无厂", 2010, None, 1.0, "E1"),
    # block F1: built 1995/1999 -> 1997; F1's enterprise is graded D
    ("F1", 1900, 0, 40, 50, *M, "甲镇", "己一厂", 1995, None, 1.0, "F1"),
    ("F2", 1950, 0, 40, 50, *M, "甲镇", "己二厂", 1999, None, 1.0, "F1"),
    # block G1: two plots, low tax
    ("G1", 2200, 0, 40, 50, *M, "甲镇", "辛厂", 2010, None, 1.0, "G1"),
    ("G2", 2250, 0, 40, 50, *M, "甲镇", "辛厂", 2010, None, 1.0, "G1"),
    # village park Z1: vacate Z1, retain Z5, vacate Z9 (Z1-Z9 40 m apart)
    ("Z1", 2600, 0, 40, 50, *V, "V3", "甲镇", None, 2023, None, 1.0, "Z1"),
    ("Z5", 2650, 0, 40, 50, "retain", "R2", "甲镇", None, 2010, None, 0.0, "Z1"),
    ("Z9", 2700, 0, 40, 50, *V, "V3", "甲镇", None, 2023, None, 1.0, "Z1"),
    # blocks-layer row
    ("M1", 0, 1000, 40, 50, *M, "甲镇", None, 2010, None, 1.0, "M1"),
    ("M2", 50, 1000, 40, 50, *M, "乙镇", None, 2010, None, 1.0, "M1"),
    ("M3", 100, 1000, 40, 50, *M, "甲镇", None, 2010, None, 1.0, "M1"),
    # freed row
    ("V01", 1560, 2900, 40, 25, *V, "V1", "丙镇", None, 2010, None, 1.0, "V01"),
    ("W1", 500, 3000, 40, 50, *V, "V2", "丙镇", None, 2010, None, 0.0, "W1"),
    ("W2", 560, 3000, 40, 25, *V, "V3", "丁镇", None, 2023, None, 0.5, "W1"),  # 1.5 mu
    ("W3", 620.5, 3000, 40, 50, *V, "V2", "丁镇", None, 2010, None, 0.0, "W3"),
    ("T1", 1000, 3000, 40, 50, *V, "V3", "丙镇", None, 2023, None, 1.0, "T1"),
    ("T2", 2140.5, 3000, 40, 50, *V, "V3", "丁镇", None, 2023, None, 1.0, "T2"),
    ("U1", 1560, 3100, 40, 25, *V, "V2", "丙镇", None, 2010, None, 0.0, "U1"),
    ("Q1", 3000, 3000, 80, 50, *V, "V2", "乙镇", None, 2010, None, 0.0, "Q1"),
    ("N1", 4000, 3000, 40, 50, *V, "V3", "甲镇", None, 2023, None, 1.0, "N1"),
    ("N2", 4050, 3000, 40, 50, *V, "V3", "甲镇", None, 2023, None, 1.0, "N1"),
]
SCENIC = rect(1540, 3000, 100, 50)
SCENIC2 = rect(4570, 3000, 100, 50)  # 480 m east of N2 (x 4090), 530 m from N1 (x 4040)
# K10 covers M1's left half (x 0..20) and 16 m of M2 (x 50..66, 40 %); K2 covers M1's
# right half (x 20..40) and 24 m of M2 (x 66..90, 60 %) and reaches x 100, where it
# touches M3 (x 100..140) along an edge: overlap 0, so M3 belongs to no polygon.
BLOCK_POLYS = [
    ("K10", "西区", "错镇", shapely.union(rect(-100, 990, 120, 70), rect(50, 990, 16, 70))),
    ("K2", "东区", "错镇", shapely.union(rect(20, 990, 30, 70), rect(66, 990, 34, 70))),
]

ENT_2022 = """enterprise_id,enterprise,land_mu,tax_10k_yuan,revenue_10k_yuan,year
E01,甲一厂,2,10,100,2022
E02,乙一厂,1,1,20,2022
E03,乙二厂,2,2,10,2022
E04,丙一厂,2,8,40,2022
E09,丙二厂,0,5,10,2022
"""
# 2023, the latest year: GBK, Chinese headers, renamed by [fields.enterprises]
ENT_2023_ROWS = [
    # id, name, land_mu, tax, revenue, investment
    ("E01", "甲一厂", 2, 20, 60, 200),
    ("E02", "乙一厂", 1, 3, 50, 100),
    ("E03", "乙二厂", 2, 3, None, 40),
    ("E04", "丙一厂", 2, 12, 30, None),
    ("E05", "己一厂", 1, 0.5, 10, 5),
    ("E06", "己二厂", 1, 15.5, 20, 5),
    ("E07", "辛厂", 2, 2, 8, 10),
    ("E08", "庚厂", 2, 8, 40, 20),
]
ZH_HEADERS = [
    "企业编号",
    "企业名称",
    "用地面积（亩）",
    "税收（万元）",
    "营业收入（万元）",
    "固定资产投资（万元）",
    "年份",
]
FIELDS = """[fields.enterprises]
"企业编号" = "enterprise_id"
"企业名称" = "enterprise"
"用地面积（亩）" = "land_mu"
"税收（万元）" = "tax_10k_yuan"
"营业收入（万元）" = "revenue_10k_yuan"
"固定资产投资（万元）" = "investment_10k_yuan"
"年份" = "year"
"""
OVERRIDES = """
[parameters]
adjacency_gap_m = 21

[blocks]
rebuild_built_before = 1999
reorganise_tax_ratio = 0.25
reorganise_min_plots = 2

[freed]
reclaim_min_mu = 6.5
tourism_within_m = 600
"""

THRESHOLDS = """
[blocks]
rebuild_far_below = 0.5
rebuild_d_share_min = 0.6
"""

BLOCK_COLUMNS = [
    "block_id",
    "town",
    "plots",
    "mu",
    "built_year",
    "floor_area_ratio",
    "tax_per_mu",
    "output_per_mu",
    "investment_per_mu",
    "d_share",
    "mode",
    "mode_zh",
    "rule",
    "reason",
    "geometry",
]
SITE_COLUMNS = [
    "site_id",
    "town",
    "plots",
    "mu",
    "boundary_share",
    "reuse",
    "reuse_zh",
    "rule",
    "reason",
    "geometry",
]
MODE_ZH = {"rebuild": "拆除式", "reorganise": "梳理式", "manage": "管理提升式"}
REUSE_ZH = {"reclaim": "复垦", "tourism": "乡村旅游", "amenity": "村庄配套"}


# ----------------------------------------------------------------------------- builders


def parcels_frame() -> gpd.GeoDataFrame:
    rows = []
    for pid, x, y, w, h, cls, rule, town, ent, built, floor, bshare, vp in PLOTS:
        g = rect(x, y, w, h)
        rows.append(
            {
                "parcel_id": pid,
                "class": cls,
                "class_zh": {
                    "consolidate": "纳入镇级园区",
                    "retain": "保留提升",
                    "vacate": "腾挪清退",
                }[cls],
                "rule": rule,
                "target_id": "P9" if rule == "C2" else "",
                "reason": f"hand-made {rule}",
                "area_m2": g.area,
                "area_mu": g.area / MU,
                "boundary_share": bshare,
                "cluster_share": 0.0,
                "cluster_id": "",
                "protected_share": 1.0 if rule == "V1" else 0.0,
                "nearest_park_id": "P9",
                "nearest_park_m": g.distance(rect(-5000, -5000, 100, 100)),
                "village_park_id": vp,
                "linked_park_id": "",
                "town": town,
                "village": "某村",
                "enterprise": ent,
                "built_year": built,
                "floor_area_m2": floor,
                "geometry": g,
            }
        )
    p = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    p["village_park_mu"] = p.groupby("village_park_id")["area_mu"].transform("sum")
    p["built_year"] = p["built_year"].astype("Int64")
    return p


def village_parks_frame(p: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = p.dissolve(
        "village_park_id",
        aggfunc={"area_m2": "sum", "area_mu": "sum", "parcel_id": "count", "town": "first"},
    )
    g = g.rename(columns={"parcel_id": "plots"}).reset_index()
    g["linked_park_id"] = ""
    return g


def write_classified(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = parcels_frame()
    gpkg = folder / "classified.gpkg"
    p.to_file(gpkg, layer="parcels", driver="GPKG")
    village_parks_frame(p).to_file(gpkg, layer="village_parks", driver="GPKG")
    # context layers that agree with the shares: the boundary is every plot with share 1
    # plus W2's left half (share 0.5); the protected land is V01 (rule V1)
    inside = shapely.union_all([*p.geometry[p["boundary_share"] == 1.0], rect(560, 3000, 20, 25)])
    ctx = {
        "dev_boundary": [{"geometry": inside}],
        "township_parks": [
            {"park_id": "P9", "name": "远园", "geometry": rect(-5000, -5000, 100, 100)}
        ],
        "cluster_points": [
            {"cluster_id": "K0", "name": "远点", "geometry": rect(-6000, -6000, 10, 10)}
        ],
        "protected": [{"kind": "生态保护红线", "geometry": rect(1560, 2900, 40, 25)}],
    }
    for name, rows in ctx.items():
        gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS).to_file(
            gpkg, layer=name, driver="GPKG"
        )
    return folder


def write_inputs(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    f = {"classified": write_classified(root / "classified")}
    f["e2022"] = root / "e2022.csv"
    f["e2022"].write_text(ENT_2022, encoding="utf-8")
    lines = [",".join(ZH_HEADERS)] + [
        ",".join("" if v is None else str(v) for v in (*r, 2023)) for r in ENT_2023_ROWS
    ]
    f["e2023"] = root / "企业2023.csv"
    f["e2023"].write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    f["e2023_noyear"] = root / "e2023_noyear.xlsx"  # Excel, no year column
    pd.DataFrame(
        ENT_2023_ROWS,
        columns=[
            "enterprise_id",
            "enterprise",
            "land_mu",
            "tax_10k_yuan",
            "revenue_10k_yuan",
            "investment_10k_yuan",
        ],
    ).to_excel(f["e2023_noyear"], index=False, sheet_name="企业")
    f["blocks"] = root / "gaizao.gpkg"
    gpd.GeoDataFrame(
        [{"block_id": b, "name": n, "town": t, "geometry": g} for b, n, t, g in BLOCK_POLYS],
        geometry="geometry",
        crs=CRS,
    ).to_file(f["blocks"], layer="blocks", driver="GPKG")
    f["scenic"] = root / "scenic.gpkg"
    gpd.GeoDataFrame(
        [{"name": "某景区", "geometry": SCENIC}, {"name": "某绿道", "geometry": SCENIC2}],
        geometry="geometry",
        crs=CRS,
    ).to_file(f["scenic"], layer="scenic", driver="GPKG")
    f["config"] = root / "fields.toml"
    f["config"].write_text(FIELDS, encoding="utf-8")
    f["overrides"] = root / "overrides.toml"
    f["overrides"].write_text(FIELDS + OVERRIDES, encoding="utf-8")
    f["thresholds"] = root / "thresholds.toml"
    f["thresholds"].write_text(FIELDS + THRESHOLDS, encoding="utf-8")
    return f


def zoning(*args, cwd) -> subprocess.CompletedProcess:
    # run outside the checkout: `python -m` puts the working directory first on sys.path,
    # so from a worktree root its own zoning would shadow PYTHONPATH
    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


class Out:
    """One `zoning blocks` output folder read back."""

    def __init__(self, folder: Path):
        self.dir = folder
        gpkg = folder / "blocks.gpkg"
        self.blocks = gpd.read_file(gpkg, layer="blocks")
        self.sites = gpd.read_file(gpkg, layer="freed_sites")
        self.blocks["block_id"] = self.blocks["block_id"].astype(str)
        self.sites["site_id"] = self.sites["site_id"].astype(str)
        self.history = pd.read_csv(
            folder / "history.csv", encoding="utf-8-sig", dtype={"block_id": str}
        )
        self.towns = pd.read_csv(
            folder / "freed_towns.csv", encoding="utf-8-sig", dtype={"town": str, "reuse": str}
        )

    def block(self, bid):
        rows = self.blocks[self.blocks["block_id"] == bid]
        assert len(rows) == 1, (
            f"block {bid}: {len(rows)} rows; have {sorted(self.blocks['block_id'])}"
        )
        return rows.iloc[0]

    def site(self, sid):
        rows = self.sites[self.sites["site_id"] == sid]
        assert len(rows) == 1, f"site {sid}: {len(rows)} rows; have {sorted(self.sites['site_id'])}"
        return rows.iloc[0]

    def hist(self, bid, year):
        rows = self.history[
            (self.history["block_id"] == bid) & (pd.to_numeric(self.history["year"]) == year)
        ]
        assert len(rows) == 1, f"history {bid} {year}: {len(rows)} rows"
        return rows.iloc[0]


def run_blocks(tmp: Path, name: str, *args) -> Out:
    out = tmp / name
    res = zoning("blocks", *args, "--out", out, cwd=tmp)
    assert res.returncode == 0, res.stderr[-2000:]
    return Out(out)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("blocks_in"))


@pytest.fixture(scope="module")
def main(inputs, tmp_path_factory):
    """Two years (2022 UTF-8 with `year`, no investment; 2023 GBK with Chinese headers),
    the blocks layer and the scenic layer (PATH:LAYER), default parameters."""
    f = inputs
    return run_blocks(
        tmp_path_factory.mktemp("blocks_main"),
        "out",
        f["classified"],
        "--enterprises",
        f["e2022"],
        "--enterprises",
        f["e2023"],
        "--blocks",
        f["blocks"],
        "--scenic",
        f"{f['scenic']}:scenic",
        "--config",
        f["config"],
    )


@pytest.fixture(scope="module")
def overridden(inputs, tmp_path_factory):
    f = inputs
    return run_blocks(
        tmp_path_factory.mktemp("blocks_over"),
        "out",
        f["classified"],
        "--enterprises",
        f["e2022"],
        "--enterprises",
        f["e2023"],
        "--blocks",
        f["blocks"],
        "--scenic",
        f["scenic"],
        "--config",
        f["overrides"],
    )


@pytest.fixture(scope="module")
def thresholds(inputs, tmp_path_factory):
    f = inputs
    return run_blocks(
        tmp_path_factory.mktemp("blocks_thr"),
        "out",
        f["classified"],
        "--enterprises",
        f["e2022"],
        "--enterprises",
        f["e2023"],
        "--config",
        f["thresholds"],
    )


@pytest.fixture(scope="module")
def single(inputs, tmp_path_factory):
    """One Excel table without `year` and --year 2023; no blocks layer, no scenic layer."""
    f = inputs
    return run_blocks(
        tmp_path_factory.mktemp("blocks_single"),
        "out",
        f["classified"],
        "--enterprises",
        f["e2023_noyear"],
        "--year",
        "2023",
    )


def numbers(text) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", str(text))]


def quotes(text, value, tol=0.006) -> bool:
    return any(abs(n - value) <= tol for n in numbers(text))


def chinese(text) -> bool:
    return re.search(r"[\u4e00-\u9fff]", str(text)) is not None


def missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or str(v) == ""


# ----------------------------------------------------------------------------- fixture sanity


def test_fixture_village_parks_agree_with_geometry():
    # the literal village_park_id of PLOTS is the §4 grouping at adjacency_gap_m 20
    p = parcels_frame()
    geoms = p.geometry.to_numpy()
    ids = p["parcel_id"].tolist()
    parent = list(range(len(ids)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if geoms[i].distance(geoms[j]) <= 20:
                parent[find(i)] = find(j)
    groups: dict[int, list[str]] = {}
    for i, pid in enumerate(ids):
        groups.setdefault(find(i), []).append(pid)
    want = {pid: min(g) for g in groups.values() for pid in g}
    assert dict(zip(ids, p["village_park_id"], strict=True)) == want
    assert p.loc[p["parcel_id"] == "A1", "area_mu"].item() == 3.0  # 2000 / (10000/15)


# ----------------------------------------------------------------------------- shape of the outputs


def test_outputs_and_columns(main):
    assert set(BLOCK_COLUMNS) <= set(main.blocks.columns)
    assert set(SITE_COLUMNS) <= set(main.sites.columns)
    assert {"block_id", "year", "tax_per_mu", "output_per_mu", "investment_per_mu"} <= set(
        main.history.columns
    )
    assert {"town", "reuse", "sites", "mu", "quota_mu"} <= set(main.towns.columns)
    assert (main.dir / "blocks.xlsx").is_file()
    # blocks: village parks A1 B1 C1 D1 E1 F1 G1 Z1 M1 (M3 only) + polygons K10, K2
    assert sorted(main.blocks["block_id"]) == sorted(
        ["A1", "B1", "C1", "D1", "E1", "F1", "G1", "Z1", "M1", "K10", "K2"]
    )
    # members: 4+3+3+1+3+2+2+1 (Z5) + 3 (M1, M2, M3) = 22 plots classed retain/consolidate
    assert int(main.blocks["plots"].sum()) == 22
    # freed: 12 vacate plots in 10 sites (W1+W2 and N1+N2 linked)
    assert sorted(main.sites["site_id"]) == sorted(
        ["V01", "W1", "W3", "T1", "T2", "U1", "Q1", "N1", "Z1", "Z9"]
    )
    assert int(main.sites["plots"].sum()) == 12
    for _, r in main.blocks.iterrows():
        assert r["mode_zh"] == MODE_ZH[r["mode"]]
        assert r["rule"] == {"rebuild": "B1", "reorganise": "B2", "manage": "B3"}[r["mode"]]
        assert chinese(r["reason"]) and numbers(r["reason"]), r["reason"]
    for _, r in main.sites.iterrows():
        assert REUSE_ZH[r["reuse"]] in r["reuse_zh"]
        assert r["rule"] == {"reclaim": "F1", "tourism": "F2", "amenity": "F3"}[r["reuse"]]
        assert chinese(r["reason"]) and numbers(r["reason"]), r["reason"]


# ----------------------------------------------------------------------------- block facts


def test_block_facts_median_even_count_and_far_over_members_with_floor_area(main):
    a = main.block("A1")
    assert a["plots"] == 4
    assert a["mu"] == pytest.approx(12.0)  # 4 × 3 mu
    assert a["built_year"] == pytest.approx(2000.0)  # median of 1990 1996 2004 2010 = (1996+2004)/2
    # Σ floor / Σ area over A1, A2 only: (1000 + 1000) / (2000 + 2000) = 0.5 (not 2000/8000)
    assert a["floor_area_ratio"] == pytest.approx(0.5)
    c = main.block("C1")
    assert missing(c["built_year"])  # no member has built_year
    assert c["floor_area_ratio"] == pytest.approx(1.5)  # C1 only: 3000 / 2000
    d = main.block("D1")
    assert missing(d["floor_area_ratio"])  # no member has floor_area_m2
    assert d["built_year"] == pytest.approx(1980.0)  # median of one value


def test_block_town_tie_is_code_point_first(main):
    # A1: 甲镇 ×2 (A1, A2), 乙镇 ×2 (A3, A4); tie -> 乙 (U+4E59) before 甲 (U+7532)
    assert main.block("A1")["town"] == "乙镇"


def test_enterprise_on_two_members_counts_once(main):
    b = main.block("B1")
    # 2023: 乙一厂 (on B1 and B2) tax 3, land 1; 乙二厂 tax 3, land 2 -> (3+3)/(1+2) = 2.0
    # (counting 乙一厂 twice would give 9/4 = 2.25)
    assert b["tax_per_mu"] == pytest.approx(2.0)
    # output: 乙二厂 has no revenue -> only 乙一厂: 50 / 1 = 50.0 (not 50/3)
    assert b["output_per_mu"] == pytest.approx(50.0)
    # investment: (100 + 40) / (1 + 2) = 46.667
    assert b["investment_per_mu"] == pytest.approx(140 / 3)


def test_land_zero_and_missing_enterprise_are_left_out(main):
    c = main.block("C1")
    # 2023: 丙一厂 tax 12 land 2; 丙二厂 absent in 2023; 丙无厂 in no table -> 12/2 = 6.0
    assert c["tax_per_mu"] == pytest.approx(6.0)
    assert c["output_per_mu"] == pytest.approx(15.0)  # 30 / 2
    assert missing(c["investment_per_mu"])  # 丙一厂 has no investment figure
    # 2022: 丙一厂 tax 8 land 2; 丙二厂 tax 5 land 0 (left out) -> 8/2 = 4.0 (not 13/2)
    h = main.hist("C1", 2022)
    assert h["tax_per_mu"] == pytest.approx(4.0)
    assert h["output_per_mu"] == pytest.approx(20.0)  # 40 / 2 (丙二厂's 10 left out)
    e = main.block("E1")
    for col in ("tax_per_mu", "output_per_mu", "investment_per_mu"):
        assert missing(e[col])  # 戊无厂 is in no table


def test_d_share_from_grades_of_latest_table(main):
    # 2023 table, only tax_per_mu present (other §8 indicators missing -> 0):
    # tax/land = 10, 3, 1.5, 6, 0.5, 15.5, 1, 4 -> 己一厂 (0.5) ranks 8th of 8;
    # ⌊0.95 × 8⌋ = 7 < 8 -> D (the only D). F1 (3 mu, 己一厂) of F1+F2 (6 mu): 3/6 = 0.5
    assert main.block("F1")["d_share"] == pytest.approx(0.5)
    # no member graded D (R-b): 0, also where no member has an enterprise at all.
    # C1: in 2022 丙二厂 (on C2) would be D (land_mu 0 -> score 0, rank 5 of 5), but the
    # grades are the latest year's, where 丙二厂 is absent -> 0 (not 3/9)
    for bid in ("A1", "B1", "C1", "D1", "E1"):
        assert main.block(bid)["d_share"] == pytest.approx(0.0), bid


# ----------------------------------------------------------------------------- modes


def test_b1_built_year_exactly_2000_and_far(main):
    a = main.block("A1")
    # median 2000 ≤ 2000 and floor_area_ratio 0.5 < 1.0 -> B1
    assert (a["mode"], a["rule"], a["mode_zh"]) == ("rebuild", "B1", "拆除式")
    assert quotes(a["reason"], 2000) and quotes(a["reason"], 0.5), a["reason"]


def test_b1_via_d_share_at_threshold(main):
    f = main.block("F1")
    # built 1997 ≤ 2000; floor_area_ratio missing (false); d_share 0.5 ≥ 0.5 -> B1
    assert (f["mode"], f["rule"]) == ("rebuild", "B1")
    assert quotes(f["reason"], 0.5), f["reason"]


def test_b1_missing_facts_are_false(main):
    # D1: built 1980 but no floor area (condition false) and d_share 0 -> not B1;
    # 1 plot < 3 -> not B2 -> manage
    assert (main.block("D1")["mode"], main.block("D1")["rule"]) == ("manage", "B3")


def test_b2_median_over_blocks_with_tax(main):
    # tax_per_mu of the blocks that have one: G1 1.0 (2/2), B1 2.0, C1 6.0, F1 8.0
    # ((0.5+15.5)/2), A1 10.0 (20/2) -> median 6.0. Blocks without (D1 E1 Z1 M1 K10 K2)
    # do not count (with them as 0 the median would be 0).
    b = main.block("B1")
    assert (b["mode"], b["rule"], b["mode_zh"]) == (
        "reorganise",
        "B2",
        "梳理式",
    )  # 3 plots, 2.0 < 6.0
    assert quotes(b["reason"], 2.0) and quotes(b["reason"], 6.0), b["reason"]
    # C1: 3 plots but 6.0 < 1.0 × 6.0 is false (strict) -> manage
    c = main.block("C1")
    assert (c["mode"], c["rule"]) == ("manage", "B3")
    assert quotes(c["reason"], 6.0), c["reason"]
    # G1: 1.0 < 6.0 but 2 plots < 3 -> manage
    assert main.block("G1")["mode"] == "manage"
    # E1: 3 plots, tax_per_mu missing -> condition false -> manage
    assert main.block("E1")["mode"] == "manage"
    for bid in ("C1", "G1", "E1", "D1"):
        assert chinese(main.block(bid)["reason"])


# ----------------------------------------------------------------------------- blocks layer


def test_member_tie_between_two_polygons_goes_to_smallest_block_id(main):
    # M1 overlaps K10 and K2 by 1000 m² each; "K10" < "K2" in code points
    k10 = main.block("K10")
    assert k10["plots"] == 1 and k10["mu"] == pytest.approx(3.0)
    assert k10.geometry.area == pytest.approx(2000.0)  # union of members = M1 only
    assert k10.geometry.equals(rect(0, 1000, 40, 50))


def test_member_goes_to_polygon_it_overlaps_most(main):
    # M2 (x 50..90): K2 covers x 66..90 = 24 m × 50 m = 1200 m² (60 %), K10 covers
    # x 50..66 = 16 m × 50 m = 800 m² (40 %) -> K2
    k2 = main.block("K2")
    assert k2["plots"] == 1
    assert k2.geometry.equals(rect(50, 1000, 40, 50))


def test_blocks_layer_town_is_ignored(main):
    # block polygons say 错镇; the members say 甲镇 (M1) and 乙镇 (M2)
    assert main.block("K10")["town"] == "甲镇"
    assert main.block("K2")["town"] == "乙镇"


def test_member_overlapping_no_polygon_stays_in_its_village_park_block(main):
    # M3 only touches K2 (overlap 0 m², not > 0) -> village-park block, id = village_park_id
    # "M1" (R-a)
    m = main.block("M1")
    assert m["plots"] == 1
    assert m.geometry.equals(rect(100, 1000, 40, 50))
    assert m["town"] == "甲镇"


def test_without_blocks_layer_the_village_park_is_the_block(single):
    m = single.block("M1")
    assert m["plots"] == 3 and m["mu"] == pytest.approx(9.0)
    assert "K10" not in set(single.blocks["block_id"])


def test_block_id_is_village_park_id_even_if_a_vacated_plot_names_it(main):
    # village park Z1 = {Z1 vacate, Z5 retain, Z9 vacate}: block "Z1" with Z5 only (R-a)
    z = main.block("Z1")
    assert z["plots"] == 1 and z["mu"] == pytest.approx(3.0)
    assert z.geometry.equals(rect(2650, 0, 40, 50))


# ----------------------------------------------------------------------------- history


def test_history_every_block_every_year(main):
    # 11 blocks × years 2022, 2023
    assert len(main.history) == 22
    assert sorted(set(pd.to_numeric(main.history["year"]).astype(int))) == [2022, 2023]
    a22, a23 = main.hist("A1", 2022), main.hist("A1", 2023)
    assert a22["tax_per_mu"] == pytest.approx(5.0)  # 10 / 2
    assert a22["output_per_mu"] == pytest.approx(50.0)  # 100 / 2
    assert missing(a22["investment_per_mu"])  # 2022 table has no investment column
    assert a23["tax_per_mu"] == pytest.approx(10.0)  # 20 / 2
    assert a23["output_per_mu"] == pytest.approx(30.0)  # 60 / 2
    assert a23["investment_per_mu"] == pytest.approx(100.0)  # 200 / 2
    b22 = main.hist("B1", 2022)
    assert b22["tax_per_mu"] == pytest.approx(1.0)  # (1 + 2) / (1 + 2), 乙一厂 once
    assert b22["output_per_mu"] == pytest.approx(10.0)  # (20 + 10) / 3
    assert missing(main.hist("E1", 2022)["tax_per_mu"])


def test_single_table_with_year_option(single):
    assert sorted(set(pd.to_numeric(single.history["year"]).astype(int))) == [2023]
    # same 2023 figures as the GBK table
    assert single.block("B1")["tax_per_mu"] == pytest.approx(2.0)
    assert single.block("F1")["d_share"] == pytest.approx(0.5)
    # blocks without a polygon layer: A1 B1 C1 D1 E1 F1 G1 Z1 M1
    assert len(single.history) == 9
    assert single.block("B1")["mode"] == "reorganise"


def test_workbook_baseline_latest_change(main):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(main.dir / "blocks.xlsx")
    texts = []
    found_change = False
    for ws in wb.worksheets:
        texts.append(ws.title)
        for row in ws.iter_rows():
            vals = [c.value for c in row]
            texts += [str(v) for v in vals if v is not None]
            line = " ".join(str(v) for v in vals if v is not None)
            if "A1" in line.split() or any(str(v) == "A1" for v in vals):
                # A1 tax per mu 5.0 (2022) -> 10.0 (2023): +100 % (R-e)
                for c in row:
                    v = c.value
                    if isinstance(v, (int, float)) and (
                        abs(v - 100) < 0.01 or (abs(v - 1.0) < 1e-9 and "%" in c.number_format)
                    ):
                        found_change = True
                    if isinstance(v, str) and "100" in v:
                        found_change = True
    assert any(chinese(t) for t in texts)
    assert any("拆除式" in t for t in texts)
    assert found_change, "no change of +100 % for block A1's tax per mu"
    # quota table: 丁镇 earns 7.5 mu (sites W1 4.5 + W3 3)
    assert any("丁镇" in t for t in texts)


# ----------------------------------------------------------------------------- freed sites


def test_freed_plots_linked_exactly_at_gap(main):
    w = main.site("W1")
    # W1 and W2 are exactly 20 m apart (≤ 20 links); W3 is 20.5 m from W2
    assert w["plots"] == 2 and w["mu"] == pytest.approx(4.5)  # 3 + 1.5
    # area-weighted: (0 × 2000 + 0.5 × 1000) / 3000 = 1/6 (the plain mean would be 0.25)
    assert w["boundary_share"] == pytest.approx(1 / 6)
    assert w.geometry.area == pytest.approx(3000.0)
    assert main.site("W3")["plots"] == 1


def test_freed_town_tie_code_point_first(main):
    # W1 in 丙镇, W2 in 丁镇: one plot each, a tie (by plots, not mu: W1 has more mu)
    # -> 丁 (U+4E01) before 丙 (U+4E19)
    assert main.site("W1")["town"] == "丁镇"


def test_freed_plots_not_linked_through_a_retained_plot(main):
    # Z1 - Z5 (retain) - Z9: 10 m gaps, but Z1 to Z9 is 40 m -> two sites
    for sid in ("Z1", "Z9"):
        s = main.site(sid)
        assert s["plots"] == 1 and s["mu"] == pytest.approx(3.0)
        # inside (share 1.0), no scenic within 500 m -> F3
        assert (s["reuse"], s["rule"]) == ("amenity", "F3")


def test_f1_via_v1_plot(main):
    v = main.site("V01")
    # rule V1; 1.5 mu < 3 and share 1.0: only the V1 plot makes it reclaim, ahead of
    # the scenic area 75 m away
    assert (v["reuse"], v["rule"]) == ("reclaim", "F1")
    assert v["mu"] == pytest.approx(1.5)
    assert chinese(v["reason"])


def test_f1_via_boundary_share_and_reclaim_min_mu(main):
    w = main.site("W1")
    assert (w["reuse"], w["rule"]) == ("reclaim", "F1")  # 0.17 < 0.5 and 4.5 ≥ 3
    assert quotes(w["reason"], 1 / 6, tol=0.0051) and quotes(w["reason"], 4.5), w["reason"]
    w3 = main.site("W3")
    assert (w3["reuse"], w3["rule"]) == ("reclaim", "F1")  # share 0 < 0.5 and 3.0 ≥ 3 exactly
    assert quotes(w3["reason"], 3.0), w3["reason"]
    q = main.site("Q1")
    assert (q["reuse"], q["mu"]) == ("reclaim", pytest.approx(6.0))  # 4000 m² = 6 mu


def test_f1_needs_enough_mu_then_f2(main):
    u = main.site("U1")
    # share 0 < 0.5 but 1.5 mu < 3 -> not F1; scenic 50 m away -> F2
    assert (u["reuse"], u["rule"], u["reuse_zh"].startswith("乡村旅游")) == ("tourism", "F2", True)


def test_f2_scenic_at_exactly_tourism_within_m(main):
    t1 = main.site("T1")
    # T1's east edge x 1040, scenic's west edge x 1540: 500 m ≤ 500 -> F2
    assert (t1["reuse"], t1["rule"]) == ("tourism", "F2")
    assert quotes(t1["reason"], 500), t1["reason"]
    t2 = main.site("T2")
    # scenic's east edge x 1640, T2 from x 2140.5: 500.5 m > 500 -> F3
    assert (t2["reuse"], t2["rule"], t2["reuse_zh"].startswith("村庄配套")) == (
        "amenity",
        "F3",
        True,
    )


def test_f2_scenic_near_any_plot_of_the_site(main):
    n = main.site("N1")
    # N2 is 480 m from the second scenic polygon (≤ 500), N1 530 m: a plot of the site
    # is within -> F2 (share 1.0 -> no F1)
    assert (n["plots"], n["reuse"], n["rule"]) == (2, "tourism", "F2")
    assert quotes(n["reason"], 480), n["reason"]


def test_no_scenic_layer_no_tourism(single):
    assert single.site("N1")["reuse"] == "amenity"
    assert single.site("T1")["reuse"] == "amenity"
    assert single.site("U1")["reuse"] == "amenity"
    assert single.site("V01")["reuse"] == "reclaim"


def test_freed_towns_quota_is_reclaim_mu(main):
    t = main.towns.copy()
    t = t[t["town"].isin(["甲镇", "乙镇", "丙镇", "丁镇"])]
    # rows for a (town, reuse) without sites may be listed with 0 sites and 0 mu (R-d)
    empty = pd.to_numeric(t["sites"]).fillna(0).eq(0)
    assert pd.to_numeric(t.loc[empty, "mu"]).fillna(0).eq(0).all()
    t = t[~empty]
    got = {(r.town, r.reuse): (int(r.sites), float(r.mu)) for r in t.itertuples()}
    # 丙镇: V01 reclaim 1.5; T1 + U1 tourism 3 + 1.5
    # 丁镇: W1 + W3 reclaim 4.5 + 3; T2 amenity 3
    # 乙镇: Q1 reclaim 6;  甲镇: Z1 + Z9 amenity 3 + 3, N1 tourism 6
    assert got == {
        ("丙镇", "reclaim"): (1, 1.5),
        ("丙镇", "tourism"): (2, 4.5),
        ("丁镇", "reclaim"): (2, 7.5),
        ("丁镇", "amenity"): (1, 3.0),
        ("乙镇", "reclaim"): (1, 6.0),
        ("甲镇", "amenity"): (2, 6.0),
        ("甲镇", "tourism"): (1, 6.0),
    }
    quota = {"丙镇": 1.5, "丁镇": 7.5, "乙镇": 6.0, "甲镇": 0.0}
    for r in t.itertuples():
        q = 0.0 if missing(r.quota_mu) else float(r.quota_mu)
        if r.reuse == "reclaim":
            assert q == pytest.approx(r.mu), r
        assert q == pytest.approx(quota[r.town]) or q == pytest.approx(0.0), r  # R-d


# ----------------------------------------------------------------------------- config overrides


def test_overrides_blocks(overridden):
    o = overridden
    # rebuild_built_before 1999: A1's 2000 > 1999 -> not B1; 4 plots, 10.0 < 0.25 × 6.0 no -> B3
    assert o.block("A1")["mode"] == "manage"
    # F1: 1997 ≤ 1999 and d_share 0.5 -> still B1
    assert o.block("F1")["mode"] == "rebuild"
    # reorganise_tax_ratio 0.25: B1 2.0 < 1.5 no -> manage
    assert o.block("B1")["mode"] == "manage"
    # reorganise_min_plots 2: G1 2 plots, 1.0 < 1.5 -> B2
    g = o.block("G1")
    assert (g["mode"], g["rule"]) == ("reorganise", "B2")
    # the threshold may be quoted as 1.5 or as 0.25 × 6.00
    assert quotes(g["reason"], 1.0), g["reason"]
    assert quotes(g["reason"], 1.5) or (quotes(g["reason"], 0.25) and quotes(g["reason"], 6.0)), g[
        "reason"
    ]


def test_overrides_far_and_d_share_thresholds(thresholds):
    o = thresholds
    # rebuild_far_below 0.5: A1's 0.50 < 0.50 is false; d_share 0 -> not B1;
    # 4 plots but 10.0 ≥ 6.0 -> B3
    a = o.block("A1")
    assert (a["mode"], a["rule"]) == ("manage", "B3")
    assert quotes(a["reason"], 0.5), a["reason"]
    # rebuild_d_share_min 0.6: F1's 0.50 < 0.60, FAR missing -> not B1; 2 plots -> B3
    f = o.block("F1")
    assert (f["mode"], f["rule"]) == ("manage", "B3")
    # unchanged: B1 (median 6.0 over G1 1, B1 2, C1 6, F1 8, A1 10 still) -> B2
    assert o.block("B1")["mode"] == "reorganise"


def test_overrides_freed(overridden):
    o = overridden
    # adjacency_gap_m 21: W3 (20.5 m from W2) joins -> site W1 = W1 W2 W3, 3 + 1.5 + 3 = 7.5 mu,
    # share 0.5 × 1000 / (2000 + 1000 + 2000) = 0.1; 7.5 ≥ reclaim_min_mu 6.5 -> F1; town 丙 1, 丁 2 -> 丁镇
    w = o.site("W1")
    assert w["plots"] == 3 and w["mu"] == pytest.approx(7.5)
    assert w["boundary_share"] == pytest.approx(0.1)
    assert (w["reuse"], w["town"]) == ("reclaim", "丁镇")
    assert "W3" not in set(o.sites["site_id"])
    # Q1: 6 mu < 6.5 -> not F1; scenic 1360 m away > 600 -> F3
    assert o.site("Q1")["reuse"] == "amenity"
    # tourism_within_m 600: T2 at 500.5 m -> F2
    assert o.site("T2")["reuse"] == "tourism"
    assert o.site("V01")["reuse"] == "reclaim"


# ----------------------------------------------------------------------------- errors


def test_without_enterprise_table_is_an_error_without_output(inputs, tmp_path):
    # the synopsis makes --enterprises required: no table, no output folder
    res = zoning("blocks", inputs["classified"], "--out", tmp_path / "x", cwd=tmp_path)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x" / "blocks.gpkg").exists()


def one_line_error(res):
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    assert [ln for ln in res.stderr.splitlines() if ln.startswith("error:")] != []
    assert len([ln for ln in res.stderr.splitlines() if "error" in ln.lower()]) == 1, res.stderr


def test_table_without_year_needs_year_option(inputs, tmp_path):
    # issue 18: "a single table without one [a year column] and --year YYYY"
    res = zoning(
        "blocks",
        inputs["classified"],
        "--enterprises",
        inputs["e2023_noyear"],
        "--out",
        tmp_path / "x",
        cwd=tmp_path,
    )
    one_line_error(res)
    assert not (tmp_path / "x" / "blocks.gpkg").exists()


def test_folder_without_classification_is_one_line_error(inputs, tmp_path):
    (tmp_path / "empty").mkdir()
    res = zoning(
        "blocks",
        tmp_path / "empty",
        "--enterprises",
        inputs["e2022"],
        "--out",
        tmp_path / "x",
        cwd=tmp_path,
    )
    one_line_error(res)
    assert not (tmp_path / "x" / "blocks.gpkg").exists()


def test_layers_have_crs_and_finite_mu(main):
    assert main.blocks.crs is not None and main.sites.crs is not None
    assert np.isfinite(main.blocks["mu"].astype(float)).all()
