"""Household workshops (SPEC §6): classes, fixes, placement optimality and capacity,
bad rows reported with their row."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from conftest import X0, Y0, rect, tiny_layers, write_gpkg
from zoning.config import load_config
from zoning.layers import IssueLog
from zoning.placement import solve_placement
from zoning.workshops import classify_and_place, place

CHECK = Path(__file__).resolve().parents[2] / "shared" / "contract" / "check.py"


def pt(x, y):
    return shapely.Point(X0 + x, Y0 + y)


def workshop(wid, geom, **kw):
    row = {
        "workshop_id": wid,
        "licensed": True,
        "env_permit": "yes",
        "pollution": False,
        "three_in_one": False,
        "illegal_building": False,
        "backward_capacity": False,
        "hazards_found": 0,
        "hazards_open": 0,
        "floor_area_m2": 100.0,
        "geometry": geom,
    }
    row.update(kw)
    return row


def parcels_classified():
    from zoning import classify

    return classify(tiny_layers()).parcels


def run(rows, parks=None, config=None, lang="zh"):
    ws = gpd.GeoDataFrame(rows, geometry="geometry", crs=4549)
    parks = (
        parks
        if parks is not None
        else gpd.GeoDataFrame(
            {
                "micro_park_id": ["M1"],
                "town": ["浒山街道"],
                "floor_area_m2": [1000.0],
                "occupied_m2": [0.0],
            },
            geometry=[rect(500, 500, 50, 50)],
            crs=4549,
        )
    )
    layers = tiny_layers()
    return classify_and_place(
        ws,
        parks,
        parcels_classified(),
        layers["protected"],
        layers["towns"],
        config or load_config(),
        IssueLog(),
        lang,
    )


def test_four_classes_first_match_wins():
    # P001 (C1, consolidate) at (0..100, 0..50); P004 (V2, vacate) at (3000.., 1000..);
    # protected land at (2990..3090, 2990..3090)
    rows = [
        workshop("E1", pt(50, 25), backward_capacity=True, illegal_building=True),
        workshop("E2", pt(50, 25), pollution=True, env_permit="no"),
        workshop("D1", pt(50, 25), illegal_building=True, three_in_one=True),
        workshop("D2", pt(3050, 1050)),  # on a vacate plot
        workshop("D3", pt(2990, 3000)),  # on the protected boundary
        workshop("T1", pt(700, 700)),  # on no plot
        workshop("T2", pt(50, 25), three_in_one=True),
        workshop("U1", pt(100, 25)),  # on P001's edge: touches
        workshop("U2", pt(50, 25), pollution=True, env_permit="exempt"),
    ]
    out = run(rows).workshops.set_index("workshop_id")
    assert out["class"].to_dict() == {
        "E1": "eliminate",
        "E2": "eliminate",
        "D1": "demolish",
        "D2": "demolish",
        "D3": "demolish",
        "T1": "to_park",
        "T2": "to_park",
        "U1": "upgrade",
        "U2": "upgrade",
    }
    assert out.loc["U1", "parcel_id"] == "P001" and out.loc["T1", "parcel_id"] == ""
    assert out.loc["D2", "parcel_id"] == "P004"
    assert out.loc["E1", "class_zh"] == "整治淘汰"


def test_fixes_owed():
    rows = [
        workshop(
            "A", pt(50, 25), licensed=False, env_permit="no", hazards_open=2, three_in_one=True
        ),
        workshop("B", pt(50, 25)),
    ]
    out = run(rows).workshops.set_index("workshop_id")
    assert out.loc["A", "fixes"] == "licence;permit;hazards;separation"
    assert out.loc["B", "fixes"] == ""


def test_plot_under_several_takes_the_smallest_id():
    layers = tiny_layers()
    from zoning import classify

    extra = gpd.GeoDataFrame(
        [{"parcel_id": "P0000", "geometry": rect(100, 0, 20, 50)}], geometry="geometry", crs=4549
    )
    layers["parcels"] = pd.concat([layers["parcels"], extra], ignore_index=True)
    parcels = classify(layers).parcels
    ws = gpd.GeoDataFrame([workshop("W", pt(100, 25))], geometry="geometry", crs=4549)
    parks = gpd.GeoDataFrame(
        {"micro_park_id": ["M1"], "floor_area_m2": [0.0], "occupied_m2": [0.0]},
        geometry=[pt(0, 0)],
        crs=4549,
    )
    res = classify_and_place(ws, parks, parcels, None, None, load_config(), IssueLog())
    assert res.workshops["parcel_id"].iat[0] == "P0000"  # touches P0000 and P001


def brute_force(cost: np.ndarray, area, free, unplaced):
    """Every assignment of workshops to parks or 'unplaced' (-1)."""
    best = (np.inf, None)
    n_w, n_p = cost.shape
    for choice in itertools.product(range(-1, n_p), repeat=n_w):
        used = np.zeros(n_p)
        total = 0.0
        ok = True
        for w, p in enumerate(choice):
            if p < 0:
                total += unplaced
            elif np.isnan(cost[w, p]):
                ok = False
                break
            else:
                used[p] += area[w]
                total += cost[w, p]
        if ok and (used <= free + 1e-9).all() and total < best[0] - 1e-9:
            best = (total, choice)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_placement_is_optimal_on_small_cases(seed):
    rng = np.random.default_rng(seed)
    n_w, n_p = 6, 3
    cost = rng.uniform(100, 5000, (n_w, n_p)).round(1)
    area = rng.integers(50, 400, n_w).astype(float)
    free = rng.integers(100, 600, n_p).astype(float)
    allowed = area[:, None] <= free[None, :]
    cost_allowed = np.where(allowed, cost, np.nan)
    w, p = np.nonzero(allowed)
    matrix = sp.coo_matrix((cost[w, p], (w, p)), shape=(n_w, n_p))
    park, status, gap, objective = solve_placement(matrix, area, free, 100_000.0, 0.0)
    best, _ = brute_force(cost_allowed, area, free, 100_000.0)
    assert objective == pytest.approx(best, rel=1e-9)
    used = np.bincount(park[park >= 0], weights=area[park >= 0], minlength=n_p)
    assert (used <= free + 1e-9).all()


def test_capacity_never_exceeded_and_shortfall():
    rng = np.random.default_rng(1)
    rows = [
        workshop(f"W{i:03d}", pt(*rng.uniform(500, 2500, 2)), floor_area_m2=a)
        for i, a in enumerate(rng.integers(100, 900, 40))
    ]
    parks = gpd.GeoDataFrame(
        {
            "micro_park_id": ["M1", "M2"],
            "town": ["浒山街道", "宗汉街道"],
            "floor_area_m2": [3000.0, 5000.0],
            "occupied_m2": [1000.0, 500.0],
        },
        geometry=[rect(600, 600, 50, 50), pt(2000, 2000)],
        crs=4549,
    )
    res = run(rows, parks)
    ws, mp = res.workshops, res.micro_parks.set_index("micro_park_id")
    used = (
        ws[ws["target_micro_park_id"] != ""].groupby("target_micro_park_id")["floor_area_m2"].sum()
    )
    for park_id, u in used.items():
        assert u <= mp.loc[park_id, "capacity_m2"] + 1e-6
        assert mp.loc[park_id, "used_m2"] == pytest.approx(u)
    unplaced = ws[(ws["target_micro_park_id"] == "") & ws["class"].isin(["to_park", "demolish"])]
    assert len(unplaced) > 0
    assert res.towns.set_index("town").loc["合计", "shortfall_m2"] == pytest.approx(
        unplaced["floor_area_m2"].sum(), abs=0.1
    )
    placed = ws[ws["target_micro_park_id"] != ""]
    assert (placed["distance_m"] >= 0).all()
    inside = placed[placed["target_micro_park_id"] == "M1"]
    assert np.allclose(
        inside["distance_m"],
        shapely.distance(inside.geometry.array, parks.geometry.iloc[0]),
        atol=0.1,
    )


def test_no_floor_area_is_unplaceable_and_not_placed():
    rows = [
        workshop("A", pt(700, 700), floor_area_m2=None),
        workshop("B", pt(700, 700), floor_area_m2=5000.0),
    ]
    out = run(rows).workshops.set_index("workshop_id")
    assert out.loc["A", "target_micro_park_id"] == ""
    assert out.loc["A", "reason"] == "不在工业地块上；无法安置：未给出建筑面积"
    assert "no floor area" in out.loc["A", "reason_en"]
    assert (
        out.loc["B", "reason"]
        == "不在工业地块上；未安置：面积大于任何小微园的剩余空间（1000 平方米）"
    )
    assert "larger than any park's free space (1000 m²)" in out.loc["B", "reason_en"]


def test_same_town_penalty_moves_a_workshop_home():
    parks = gpd.GeoDataFrame(
        {
            "micro_park_id": ["NEAR", "HOME"],
            "town": ["宗汉街道", "浒山街道"],
            "floor_area_m2": [1000.0, 1000.0],
            "occupied_m2": [0.0, 0.0],
        },
        geometry=[pt(1600, 700), pt(900, 700)],
        crs=4549,
    )
    row = [workshop("W", pt(1400, 700), town="浒山街道")]
    assert run(row, parks).workshops["target_micro_park_id"].iat[0] == "NEAR"
    cfg = load_config().with_table("workshops", other_town_penalty_m=1000.0)
    assert run(row, parks, cfg).workshops["target_micro_park_id"].iat[0] == "HOME"


def test_bad_rows_are_reported_not_dropped():
    rows = [
        workshop("NOXY", None),
        workshop("FAR", shapely.Point(X0 + 90_000, Y0)),
        workshop("TOWN", pt(700, 700), town="火星镇"),
        workshop("TEXT", pt(700, 700), floor_area_m2="大约200", hazards_open="两个"),
        workshop("OK", pt(700, 700)),
    ]
    res = run(rows)
    out = res.workshops.set_index("workshop_id")
    assert len(out) == 5
    assert (
        out.loc["NOXY", "class"] == "unclassified"
        and "no coordinates" in out.loc["NOXY", "reason_en"]
    )
    assert out.loc["NOXY", "reason"] == "无法分类：无坐标（缺失、为空、NaN 或无穷大）"
    assert out.loc["FAR", "class"] == "unclassified" and "outside" in out.loc["FAR", "reason_en"]
    assert out.loc["FAR", "reason"] == "无法分类：位于县域外（不在任何镇街范围内）"
    assert out.loc["TOWN", "town"] == "浒山街道"
    issues = res.issues.frame()
    listed = issues.groupby("id")["reason"].apply(" | ".join).to_dict()
    assert "火星镇" in listed["TOWN"]
    assert "大约200" in listed["TEXT"] and "两个" in listed["TEXT"]
    assert {"NOXY", "FAR"} <= set(issues["id"])
    assert issues.set_index("id").loc["NOXY", "row"] == 1


def test_workshop_list_from_csv_in_gcj02(tmp_path):
    from zoning.crs import wgs84_to_gcj02

    layers = tiny_layers()
    path = write_gpkg(
        tmp_path / "in.gpkg",
        {
            **layers,
            "micro_parks": gpd.GeoDataFrame(
                {"micro_park_id": ["M1"], "floor_area_m2": [1000.0], "occupied_m2": [0.0]},
                geometry=[rect(500, 500, 50, 50)],
                crs=4549,
            ),
        },
    )
    wgs = gpd.GeoSeries([pt(50, 25), pt(700, 700)], crs=4549).to_crs(4326)
    lon, lat = wgs84_to_gcj02(wgs.x.to_numpy(), wgs.y.to_numpy())
    pd.DataFrame(
        {
            "编号": ["001", "002", "003"],
            "经度": [*lon, ""],
            "纬度": [*lat, ""],
            "面积": ["100", "200", "50"],
            "三合一": ["否", "是", "否"],
        }
    ).to_csv(tmp_path / "list.csv", index=False, encoding="utf-8-sig")
    (tmp_path / "c.toml").write_text(
        '[crs]\nworkshops = "GCJ-02"\n[workshops]\nx = "经度"\ny = "纬度"\n'
        '[fields.workshops]\n"编号" = "workshop_id"\n"面积" = "floor_area_m2"\n'
        '"三合一" = "three_in_one"\n',
        encoding="utf-8",
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "workshops",
            path,
            "--workshops",
            str(tmp_path / "list.csv"),
            "--config",
            str(tmp_path / "c.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "out" / "workshops.gpkg", layer="workshops")
    assert out["workshop_id"].tolist() == ["001", "002", "003"]  # leading zeros kept
    got = out.set_index("workshop_id")
    assert got.loc["001", "parcel_id"] == "P001"  # GCJ-02 shifted back onto its plot
    assert got.loc["002", "class"] == "to_park" and got.loc["002", "target_micro_park_id"] == "M1"
    assert got.loc["003", "class"] == "unclassified"
    xl = pd.ExcelFile(tmp_path / "out" / "workshops.xlsx")
    assert xl.sheet_names == ["清单", "镇街", "小微园", "三合一检查", "不予供电"]  # + SPEC §12
    assert got.loc["002", "reason"].startswith("不在工业地块上；安置到小微园 M1，距 ")
    # --lang en: the reason in English, the Chinese one kept beside it
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "workshops",
            path,
            "--workshops",
            str(tmp_path / "list.csv"),
            "--config",
            str(tmp_path / "c.toml"),
            "--out",
            str(tmp_path / "en"),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    en = gpd.read_file(tmp_path / "en" / "workshops.gpkg", layer="workshops").set_index(
        "workshop_id"
    )
    assert en.loc["002", "reason"].startswith("on no industrial plot; to micro park M1 at ")
    assert en["reason_zh"].tolist() == got["reason"].tolist()
    assert en["reason"].tolist() == got["reason_en"].tolist()


def test_ledger_rate_matches_the_city_formula():
    rows = [
        workshop("A", pt(700, 700), hazards_found=10, hazards_open=1),
        workshop("B", pt(800, 700), hazards_found=30, hazards_open=0),
    ]
    towns = run(rows).towns.set_index("town")
    assert towns.loc["合计", "rectification_rate"] == pytest.approx(1 - 1 / 40, abs=1e-4)
    assert towns.loc["合计", "share_no_open_hazard"] == pytest.approx(0.5)
    assert towns.loc["合计", "hazards_rectified"] == 39


@pytest.mark.skipif(not CHECK.exists(), reason="shared contract checker not beside the repo")
def test_sample_contract(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "sample_county.gpkg"
    (tmp_path / "c.toml").write_text("[workshops]\ntime_limit_s = 5\n")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "workshops",
            str(sample),
            "--config",
            str(tmp_path / "c.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    check = subprocess.run(
        [sys.executable, str(CHECK), "workshops", str(sample), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    # Chinese first (issue 16): no English words in the sample's reasons, ids and units aside
    ws = gpd.read_file(tmp_path / "out" / "workshops.gpkg", layer="workshops")
    words = ws["reason"].str.findall(r"[A-Za-z_]{3,}").explode().dropna()
    assert words.empty, words.value_counts().head().to_dict()
    assert (
        ws["reason_en"]
        .str.contains("plot|protected|illegal|backward|pollution|three-in-one|cannot classify")
        .all()
    )


def test_place_handles_no_movers():
    empty = gpd.GeoDataFrame({"floor_area_m2": [], "town": []}, geometry=[], crs=4549)
    parks = gpd.GeoDataFrame(
        {"micro_park_id": ["M"], "floor_area_m2": [1.0], "occupied_m2": [0.0]},
        geometry=[pt(0, 0)],
        crs=4549,
    )
    p = place(empty, parks, load_config().workshops)
    assert p.status == "nothing to place"


def scarce_instance(seed, n_w=60, n_p=4):
    """Movers and parks with far less room than demand: a hard packing."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(50, 600, n_w).round(1)
    free = rng.uniform(800, 2500, n_p).round(0)
    w, p = np.nonzero(area[:, None] <= free[None, :])
    cost = sp.coo_matrix((rng.uniform(100, 30_000, len(w)).round(1), (w, p)), shape=(n_w, n_p))
    return cost, area, free


def exact_by_milp(cost, area, free, unplaced):
    """The same integer program written out for scipy.milp, solved to optimality."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_w, n_p = cost.shape
    k = cost.nnz
    one = sp.coo_matrix(
        (np.ones(k + n_w), (np.r_[cost.row, np.arange(n_w)], np.arange(k + n_w))),
        shape=(n_w, k + n_w),
    )
    cap = sp.coo_matrix((area[cost.row], (cost.col, np.arange(k))), shape=(n_p, k + n_w))
    res = milp(
        np.r_[cost.data, np.full(n_w, unplaced)],
        integrality=np.ones(k + n_w),
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(one.tocsr(), 1, 1),
            LinearConstraint(cap.tocsr(), -np.inf, free),
        ],
        options={"mip_rel_gap": 0.0, "time_limit": 120},
    )
    assert res.status == 0
    return res.fun


@pytest.mark.parametrize("seed", range(3))
def test_placement_matches_an_independent_exact_solve(seed):
    cost, area, free = scarce_instance(seed)
    best = exact_by_milp(cost, area, free, 100_000.0)
    park, status, gap, objective = solve_placement(cost, area, free, 100_000.0, 0.0, 60.0)
    assert status == "optimal within gap"
    assert objective == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_reported_gap_is_a_true_bound_when_stopped_early(seed, monkeypatch):
    """Solved in small neighbourhoods and stopped early, the gap still bounds the truth."""
    import zoning.placement

    cost, area, free = scarce_instance(seed)
    best = exact_by_milp(cost, area, free, 100_000.0)
    monkeypatch.setattr(zoning.placement, "NEIGHBOURHOOD", 5)
    for limit in (1e-3, 0.05, 0.5):
        park, status, gap, objective = solve_placement(cost, area, free, 100_000.0, 1e-9, limit)
        used = np.bincount(park[park >= 0], weights=area[park >= 0], minlength=len(free))
        assert (used <= free + 1e-9).all()
        placed = park >= 0
        table = cost.toarray()
        assert objective == pytest.approx(
            table[np.flatnonzero(placed), park[placed]].sum() + 100_000.0 * (~placed).sum()
        )
        assert objective >= best - 1e-6
        assert (objective - best) / objective <= gap + 1e-12


def test_lagrangian_bound_is_below_the_optimum_for_any_prices():
    from zoning.placement import _Columns, _lagrangian

    rng = np.random.default_rng(3)
    for seed in range(5):
        n_w, n_p = 6, 3
        r = np.random.default_rng(seed)
        cost = r.uniform(100, 50_000, (n_w, n_p)).round(1)
        area = r.integers(50, 400, n_w).astype(float)
        free = r.integers(100, 600, n_p).astype(float)
        allowed = area[:, None] <= free[None, :]
        w, p = np.nonzero(allowed)
        cols = _Columns(sp.coo_matrix((cost[w, p], (w, p)), shape=(n_w, n_p)), area, 100_000.0)
        best, _ = brute_force(np.where(allowed, cost, np.nan), area, free, 100_000.0)
        for _ in range(20):
            bound, reduced = _lagrangian(cols, rng.uniform(0, 500, n_p), free)
            assert bound <= best + 1e-6
            assert reduced.min() >= -1e-9


def test_fill_places_into_room_left_until_nothing_fits():
    from zoning.placement import _Columns, _fill

    cost, area, free = scarce_instance(4, n_w=80, n_p=5)
    cols = _Columns(cost, area, 100_000.0)
    park = _fill(cols, np.full(80, -1), free)
    used = np.bincount(park[park >= 0], weights=area[park >= 0], minlength=5)
    assert (used <= free + 1e-9).all() and (park >= 0).sum() > 0
    table = cost.toarray()
    assert (table[np.flatnonzero(park >= 0), park[park >= 0]] > 0).all()  # allowed pairs only
    left = free - used
    unplaced = np.flatnonzero(park < 0)
    assert not (area[unplaced, None] <= left[None, :]).any()


def test_town_penalty_and_own_town_counts():
    """A workshop nearer another town's park goes there at penalty 0, home at 5 km;
    workshop_towns.csv counts own-town and other-town placements (issue 13)."""
    parks = gpd.GeoDataFrame(
        {
            "micro_park_id": ["M1", "M2"],
            "town": ["浒山街道", "宗汉街道"],
            "floor_area_m2": [1000.0, 1000.0],
            "occupied_m2": [0.0, 0.0],
        },
        geometry=[rect(0, 3300, 50, 50), rect(1600, 3300, 50, 50)],
        crs=4549,
    )
    rows = [
        workshop("A", pt(1400, 3300), town="浒山街道", illegal_building=True),
        workshop("B", pt(100, 3300), town="浒山街道", illegal_building=True),
        workshop("C", pt(1700, 3300), town="宗汉街道", illegal_building=True),
    ]
    for penalty, a_goes_to in ((0.0, "M2"), (5000.0, "M1")):
        config = load_config().with_table("workshops", other_town_penalty_m=penalty)
        res = run(rows, parks, config)
        out = res.workshops.set_index("workshop_id")["target_micro_park_id"]
        assert out.to_dict() == {"A": a_goes_to, "B": "M1", "C": "M2"}
        towns = res.towns.set_index("town")
        own_a = int(a_goes_to == "M1")
        assert towns.loc["浒山街道", "placed_own_town"] == 1 + own_a
        assert towns.loc["浒山街道", "placed_other_town"] == 1 - own_a
        assert towns.loc["宗汉街道", ["placed_own_town", "placed_other_town"]].tolist() == [1, 0]
        assert towns.loc["合计", "placed_own_town"] == 2 + own_a
    assert "placed_own_town" not in res.workshops and "_placed_own_town" not in res.workshops


def test_demo_profile_prefers_the_own_town():
    from zoning.outputs import SAMPLE

    config = load_config(SAMPLE.parent / "cixi.toml")
    assert config.workshops["other_town_penalty_m"] > 0
    assert load_config().workshops["other_town_penalty_m"] == 0.0  # SPEC default


#: One workshop per class and reason, the Chinese and English texts its reason must hold.
EVERY_REASON = [
    (
        workshop("E1", pt(50, 25), backward_capacity=True),
        "eliminate",
        "落后产能",
        "backward capacity",
    ),
    (
        workshop("E2", pt(50, 25), pollution=True, env_permit="no"),
        "eliminate",
        "有污染且无环评/排污许可",
        "pollution without an environmental permit",
    ),
    (workshop("D1", pt(50, 25), illegal_building=True), "demolish", "违法建筑", "illegal building"),
    (
        workshop("D2", pt(3050, 1050)),
        "demolish",
        "所在地块 P004 分类为腾挪清退",
        "on plot P004 classed vacate",
    ),
    (
        workshop("D3", pt(2990, 3000)),
        "demolish",
        "位于生态保护红线/永久基本农田",
        "in protected land",
    ),
    (workshop("T1", pt(700, 700)), "to_park", "不在工业地块上", "on no industrial plot"),
    (workshop("T2", pt(50, 25), three_in_one=True), "to_park", "三合一场所", "three-in-one"),
    (
        workshop("U1", pt(100, 25)),
        "upgrade",
        "所在地块 P001（纳入镇级园区），不符合其他规则",
        "on plot P001 (consolidate), no other rule applies",
    ),
]


def test_every_workshop_reason_in_chinese_and_english():
    rows = [w for w, _, _, _ in EVERY_REASON]
    zh = run(rows).workshops.set_index("workshop_id")
    en = run(rows, lang="en").workshops.set_index("workshop_id")
    for w, cls, text_zh, text_en in EVERY_REASON:
        wid = w["workshop_id"]
        assert zh.loc[wid, "class"] == cls
        assert zh.loc[wid, "reason"].startswith(text_zh), zh.loc[wid, "reason"]
        assert zh.loc[wid, "reason_en"].startswith(text_en)
        assert en.loc[wid, "reason"] == zh.loc[wid, "reason_en"]
        assert en.loc[wid, "reason_zh"] == zh.loc[wid, "reason"]
    assert "reason_zh" not in zh and "reason_en" not in en
    # a placed workshop's reason names its park and quotes the distance in both languages
    placed = zh[zh["target_micro_park_id"] == "M1"]
    assert len(placed)
    for wid, r in placed.iterrows():
        metres = f"{r['distance_m']:.0f}"
        assert r["reason"].endswith(f"；安置到小微园 M1，距 {metres} 米"), wid
        assert r["reason_en"].endswith(f"; to micro park M1 at {metres} m"), wid
