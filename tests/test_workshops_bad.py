"""Bad workshop and micro-park input (issue 12, SPEC §6, §7): every output is written with
finite numbers, every repair is listed with the row's id, rows in = rows out, and what
cannot be repaired is one line naming the file, the layer and the rows, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from conftest import X0, Y0, rect, tiny_layers, write_gpkg
from zoning.config import load_config
from zoning.layers import IssueLog
from zoning.workshops import classify_and_place

OUTPUTS = (
    "workshops.gpkg",
    "workshops.xlsx",
    "workshop_towns.csv",
    "workshop_issues.csv",
    "workshop_run.json",
)


def pt(x, y):
    return shapely.Point(X0 + x, Y0 + y)


def parks_frame(**columns):
    data = {
        "micro_park_id": ["M1"],
        "town": ["浒山街道"],
        "floor_area_m2": [1000.0],
        "occupied_m2": [0.0],
    }
    data.update(columns)
    geometry = data.pop("geometry", [rect(500, 500, 50, 50)])
    return gpd.GeoDataFrame(data, geometry=geometry, crs=4549)


def run(rows, parks=None, config=None):
    """classify_and_place on the tiny county; rows are dicts with a geometry."""
    from zoning import classify

    layers = tiny_layers()
    ws = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=4549)
        if rows
        else gpd.GeoDataFrame(
            {"workshop_id": pd.Series([], dtype=object)}, geometry=gpd.GeoSeries([], crs=4549)
        )
    )
    return classify_and_place(
        ws,
        parks if parks is not None else parks_frame(),
        classify(layers).parcels,
        layers["protected"],
        layers["towns"],
        config or load_config(),
        IssueLog(),
    )


def listed(issues: pd.DataFrame) -> dict[str, str]:
    """Reasons per id, joined."""
    return issues.groupby("id")["reason"].apply(" | ".join).to_dict()


def cli(*args, tmp_path):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "workshops",
            *map(str, args),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_every_number_finite(out: Path) -> None:
    """No number of any workshop output is NaN-as-text or infinite; missing is empty."""
    for layer in ("workshops", "micro_parks"):
        frame = gpd.read_file(out / "workshops.gpkg", layer=layer)
        for c in frame.columns.drop("geometry"):
            if frame[c].dtype.kind in "fiu":
                values = frame[c].to_numpy(dtype=float)
                assert not np.isinf(values).any(), (layer, c)
    book = openpyxl.load_workbook(out / "workshops.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=3, values_only=True):
            for v in row:
                if isinstance(v, float):
                    assert np.isfinite(v), sheet.title
                assert not (isinstance(v, str) and v.lower() in ("nan", "inf", "-inf", "<na>"))
    for name in ("workshop_towns.csv", "workshop_issues.csv"):
        table = pd.read_csv(out / name, keep_default_na=False, dtype=str)
        for c in table.columns:
            assert not table[c].str.lower().isin(["inf", "-inf", "nan", "<na>"]).any(), (name, c)


def county_with(
    tmp_path, workshops: gpd.GeoDataFrame, parks: gpd.GeoDataFrame | None = None
) -> str:
    return write_gpkg(
        tmp_path / "in.gpkg",
        {
            **tiny_layers(),
            "workshops": workshops,
            "micro_parks": parks if parks is not None else parks_frame(),
        },
    )


# --- case 1: a moving workshop without floor area --------------------------------------


def test_moving_workshop_without_floor_area_writes_every_output(tmp_path):
    ws = gpd.GeoDataFrame(
        {
            "workshop_id": ["A", "B", "C"],
            "floor_area_m2": [np.nan, 100.0, np.inf],
            "hazards_found": [0, 2, 1],
            "hazards_open": [3, 1, 0],
        },
        geometry=[pt(700, 700), pt(710, 700), pt(720, 700)],
        crs=4549,
    )
    res = cli(county_with(tmp_path, ws), tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    assert all((out / name).is_file() for name in OUTPUTS)
    assert_every_number_finite(out)
    got = gpd.read_file(out / "workshops.gpkg", layer="workshops").set_index("workshop_id")
    assert list(got.index) == ["A", "B", "C"]  # rows in = rows out
    assert got.loc["A", "class"] == "to_park" and got.loc["A", "target_micro_park_id"] == ""
    assert "unplaceable" in got.loc["A", "reason_en"] and np.isnan(got.loc["A", "floor_area_m2"])
    assert "无法安置：未给出建筑面积" in got.loc["A", "reason"]
    assert np.isnan(got.loc["C", "floor_area_m2"])  # inf: left empty
    assert got.loc["B", "target_micro_park_id"] == "M1"
    # the list in Excel: A's floor area is an empty cell, not NaN or inf
    sheet = openpyxl.load_workbook(out / "workshops.xlsx")["清单"]
    head = [c.value for c in sheet[2]]
    rows = {
        r[0]: dict(zip(head, r, strict=True)) for r in sheet.iter_rows(min_row=3, values_only=True)
    }
    assert rows["A"]["面积（平方米）"] is None and rows["B"]["面积（平方米）"] == 100
    issues = pd.read_csv(out / "workshop_issues.csv", dtype=str, keep_default_na=False)
    why = listed(issues)
    assert "无法安置" in why["A"] and "unplaceable" in why["A"]
    assert "不是有限数" in why["C"]
    run_log = json.loads((out / "workshop_run.json").read_text(encoding="utf-8"))
    assert run_log["rows"]["workshops_in"] == run_log["rows"]["workshops_out"] == 3
    towns = pd.read_csv(out / "workshop_towns.csv").set_index("town")
    assert 0 <= towns.loc["合计", "rectification_rate"] <= 1


def test_unplaceable_is_not_in_the_objective():
    rows = [
        {"workshop_id": "A", "floor_area_m2": None, "geometry": pt(700, 700)},
        {"workshop_id": "B", "floor_area_m2": 100.0, "geometry": pt(700, 700)},
    ]
    res = run(rows)
    # only B was offered to the solver: one candidate pair, B placed at its distance
    assert res.placement.candidates == 1
    assert res.placement.objective == pytest.approx(
        res.workshops.set_index("workshop_id").loc["B", "distance_m"], abs=0.1
    )
    assert res.towns.set_index("town").loc["合计", "shortfall_m2"] == 0


# --- case 2: zero workshops ----------------------------------------------------------------


def test_zero_workshops_in_frames():
    res = run([])
    assert len(res.workshops) == 0
    total = res.towns.set_index("town")
    assert list(total.index) == ["合计"] and total.loc["合计", "found"] == 0
    assert np.isnan(total.loc["合计", "rectification_rate"])
    assert res.micro_parks["placed_workshops"].tolist() == [0]


@pytest.mark.parametrize("content", ["编号,经度,纬度\n", ""], ids=["header-only", "empty-file"])
def test_zero_workshops_from_a_list(tmp_path, content):
    path = write_gpkg(tmp_path / "in.gpkg", {**tiny_layers(), "micro_parks": parks_frame()})
    (tmp_path / "list.csv").write_text(content, encoding="utf-8")
    (tmp_path / "c.toml").write_text(
        '[crs]\nworkshops = "EPSG:4490"\n[workshops]\nx = "经度"\ny = "纬度"\n'
        '[fields.workshops]\n"编号" = "workshop_id"\n',
        encoding="utf-8",
    )
    res = cli(
        path,
        "--workshops",
        tmp_path / "list.csv",
        "--config",
        tmp_path / "c.toml",
        tmp_path=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "done: 0 workshop(s)" in res.stderr
    assert "placed 0 of 0" in res.stderr
    out = tmp_path / "out"
    assert all((out / name).is_file() for name in OUTPUTS)
    assert len(gpd.read_file(out / "workshops.gpkg", layer="workshops")) == 0
    towns = pd.read_csv(out / "workshop_towns.csv")
    assert towns["town"].tolist() == ["合计"] and towns["found"].tolist() == [0]
    run_log = json.loads((out / "workshop_run.json").read_text(encoding="utf-8"))
    assert run_log["rows"]["workshops_in"] == 0 and run_log["placement"]["placed"] == 0
    assert pd.ExcelFile(out / "workshops.xlsx").sheet_names == [
        "清单",
        "镇街",
        "小微园",
        "三合一检查",
        "不予供电",
    ]
    assert_every_number_finite(out)


# --- case 3: impossible numbers ------------------------------------------------------------


def test_bad_floor_areas_are_missing_and_listed():
    max_area = load_config().workshops["max_floor_area_m2"]  # from defaults.toml
    rows = [
        {"workshop_id": wid, "floor_area_m2": area, "geometry": pt(700, 700)}
        for wid, area in [
            ("NEG", -5.0),
            ("ZERO", 0.0),
            ("HUGE", max_area * 2),
            ("TEXTINF", "inf"),
            ("BIG", "1e400"),
            ("FULLW", "１２０"),
            ("SPACED", " 1 20 "),
            ("OK", 120.0),
        ]
    ]
    res = run(rows)
    out = res.workshops.set_index("workshop_id")
    assert len(out) == len(rows)
    for wid in ("NEG", "ZERO", "HUGE", "TEXTINF", "BIG"):
        assert np.isnan(out.loc[wid, "floor_area_m2"]), wid
        assert (
            out.loc[wid, "target_micro_park_id"] == ""
            and "unplaceable" in out.loc[wid, "reason_en"]
        )
        assert "无法安置" in out.loc[wid, "reason"]
    assert out.loc["FULLW", "floor_area_m2"] == 120 and out.loc["SPACED", "floor_area_m2"] == 120
    why = listed(res.issues.frame())
    assert why["NEG"].startswith("建筑面积 -5") and "按缺失处理" in why["NEG"]
    assert "≤ 0" in why["ZERO"] and f"{max_area:,.0f}" in why["HUGE"]
    assert "不是有限数" in why["TEXTINF"] and "不是有限数" in why["BIG"]
    assert "FULLW" not in why and "OK" not in why


def test_the_largest_floor_area_is_a_config_value(tmp_path):
    """[workshops] max_floor_area_m2 of a user's TOML is the limit the repair uses."""
    (tmp_path / "c.toml").write_text("[workshops]\nmax_floor_area_m2 = 500\n")
    rows = [
        {"workshop_id": wid, "floor_area_m2": area, "geometry": pt(700, 700)}
        for wid, area in [("SMALL", 400.0), ("EDGE", 500.0), ("LARGE", 600.0)]
    ]
    res = run(rows, config=load_config(tmp_path / "c.toml"))
    out = res.workshops.set_index("workshop_id")["floor_area_m2"]
    assert out["SMALL"] == 400 and out["EDGE"] == 500 and np.isnan(out["LARGE"])
    why = listed(res.issues.frame())
    assert "上限 500" in why["LARGE"] and "EDGE" not in why
    assert run(rows).workshops.set_index("workshop_id")["floor_area_m2"]["LARGE"] == 600


def test_hazards_and_employees_repaired_and_listed():
    rows = [
        {"workshop_id": "OVER", "hazards_found": 2, "hazards_open": 5, "geometry": pt(700, 700)},
        {
            "workshop_id": "NOFOUND",
            "hazards_found": None,
            "hazards_open": 1,
            "geometry": pt(700, 700),
        },
        {"workshop_id": "NEGH", "hazards_found": -4, "hazards_open": -1, "geometry": pt(700, 700)},
        {"workshop_id": "NEGE", "employees": -3, "geometry": pt(700, 700)},
        {
            "workshop_id": "FINE",
            "hazards_found": 10,
            "hazards_open": 0,
            "employees": 4,
            "geometry": pt(700, 700),
        },
    ]
    res = run([{**r, "floor_area_m2": 100.0} for r in rows])
    out = res.workshops.set_index("workshop_id")
    # an open hazard is a found one: found raised to open, open kept as given
    assert out.loc["OVER", "hazards_found"] == 5 and out.loc["OVER", "hazards_open"] == 5
    assert out.loc["NOFOUND", "hazards_found"] == 1
    assert pd.isna(out.loc["NEGH", "hazards_found"]) and pd.isna(out.loc["NEGH", "hazards_open"])
    assert pd.isna(out.loc["NEGE", "employees"]) and out.loc["FINE", "employees"] == 4
    total = res.towns.set_index("town").loc["合计"]
    assert total["hazards_found"] == 16 and total["hazards_open"] == 6
    assert total["hazards_rectified"] == 10
    assert total["rectification_rate"] == pytest.approx(1 - 6 / 16, abs=1e-4)
    why = listed(res.issues.frame())
    assert why["OVER"].startswith("未整改隐患 5 多于排查隐患 2")
    assert "（空）" in why["NOFOUND"]
    assert "hazards_found 为负数" in why["NEGH"] and "hazards_open 为负数" in why["NEGH"]
    assert why["NEGE"].startswith("employees 为负数 -3，留空") and "FINE" not in why


def test_open_above_found_alone_gives_a_rate_in_range():
    res = run(
        [{"workshop_id": "A", "hazards_found": 0, "hazards_open": 3, "geometry": pt(700, 700)}]
    )
    rate = res.towns.set_index("town")["rectification_rate"]
    assert ((rate >= 0) & (rate <= 1)).all()


# --- case 4: town-office lists -------------------------------------------------------------

LIST_CONFIG = (
    '[crs]\nworkshops = "EPSG:4490"\n[workshops]\nx = "经度"\ny = "纬度"\n'
    '[fields.workshops]\n"编号" = "workshop_id"\n"面积" = "floor_area_m2"\n'
)


def lonlat(x, y):
    g = gpd.GeoSeries([pt(x, y)], crs=4549).to_crs(4490)
    return float(g.x.iloc[0]), float(g.y.iloc[0])


def write_list(tmp_path, table: pd.DataFrame) -> tuple[str, Path, Path]:
    path = write_gpkg(tmp_path / "in.gpkg", {**tiny_layers(), "micro_parks": parks_frame()})
    (tmp_path / "c.toml").write_text(LIST_CONFIG, encoding="utf-8")
    target = tmp_path / "list.csv"
    table.to_csv(target, index=False, encoding="utf-8-sig")
    return path, target, tmp_path / "c.toml"


@pytest.mark.parametrize(
    "ids, rows",
    [(["A1", "", "A3", ""], "rows 2, 4"), (["A1", "A2", "A1", "A2 "], "rows 1, 2, 3, 4")],
    ids=["missing", "duplicate"],
)
def test_missing_or_duplicate_ids_are_one_line(tmp_path, ids, rows):
    lon, lat = lonlat(700, 700)
    path, target, config = write_list(
        tmp_path, pd.DataFrame({"编号": ids, "经度": [lon] * 4, "纬度": [lat] * 4})
    )
    res = cli(path, "--workshops", target, "--config", config, "--quiet", tmp_path=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.stderr
    assert str(target) in lines[0] and "'workshops'" in lines[0] and rows in lines[0]
    assert not (tmp_path / "out" / "workshops.gpkg").exists()


def test_town_list_ids_coordinates_as_typed(tmp_path):
    lon, lat = lonlat(700, 700)
    full = str.maketrans("0123456789.-", "０１２３４５６７８９．－")
    table = pd.DataFrame(
        {
            "编号": ["007", "008", "009", "010", "011"],
            "经度": [f"{lon:.7f}", f" {lon:.7f} ", f"{lon:.7f}".translate(full), "nan", "inf"],
            "纬度": [
                f"{lat:.7f}",
                f"{lat:.7f}\u3000",
                f"{lat:.7f}".translate(full),
                f"{lat}",
                f"{lat}",
            ],
            "面积": ["100", "100", "１００", "100", "100"],
        }
    )
    path, target, config = write_list(tmp_path, table)
    res = cli(path, "--workshops", target, "--config", config, tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "out" / "workshops.gpkg", layer="workshops")
    assert out["workshop_id"].tolist() == ["007", "008", "009", "010", "011"]  # text, in order
    got = out.set_index("workshop_id")
    for wid in ("007", "008", "009"):
        assert got.loc[wid, "class"] == "to_park" and got.loc[wid, "target_micro_park_id"] == "M1"
        assert got.loc[wid, "floor_area_m2"] == 100
    assert got.loc["007"].geometry.distance(got.loc["009"].geometry) < 0.01
    for wid in ("010", "011"):
        assert got.loc[wid, "class"] == "unclassified" and got.loc[wid].geometry is None
    issues = pd.read_csv(tmp_path / "out" / "workshop_issues.csv", dtype=str, keep_default_na=False)
    why = listed(issues)
    assert "全角" in why["008"] and "全角" in why["009"] and "007" not in why
    assert "无法定位" in why["010"] and "无法定位" in why["011"]
    assert_every_number_finite(tmp_path / "out")


def test_excel_list_keeps_text_ids_and_notes_other_sheets(tmp_path):
    lon, lat = lonlat(700, 700)
    path, _, config = write_list(tmp_path, pd.DataFrame())
    target = tmp_path / "list.xlsx"
    with pd.ExcelWriter(target) as xl:
        pd.DataFrame(
            {"编号": ["007", "0100"], "经度": [lon, lon], "纬度": [lat, lat], "面积": [50, 60]}
        ).to_excel(xl, sheet_name="作坊", index=False)
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="说明", index=False)
    res = cli(path, "--workshops", target, "--config", config, tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "out" / "workshops.gpkg", layer="workshops")
    assert out["workshop_id"].tolist() == ["007", "0100"]
    issues = pd.read_csv(tmp_path / "out" / "workshop_issues.csv", dtype=str)
    assert issues["reason"].str.contains("只读取第一个工作表").any()


def test_layer_with_infinite_coordinates_is_kept_and_listed(tmp_path):
    ws = gpd.GeoDataFrame(
        {"workshop_id": ["OK", "BAD"], "floor_area_m2": [100.0, 100.0]},
        geometry=[pt(700, 700), shapely.Point(X0, np.inf)],
        crs=4549,
    )
    res = cli(county_with(tmp_path, ws), tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    got = gpd.read_file(tmp_path / "out" / "workshops.gpkg", layer="workshops").set_index(
        "workshop_id"
    )
    assert list(got.index) == ["OK", "BAD"]
    assert got.loc["BAD", "class"] == "unclassified" and got.loc["OK", "class"] == "to_park"
    issues = pd.read_csv(tmp_path / "out" / "workshop_issues.csv", dtype=str)
    assert issues[issues["id"] == "BAD"]["reason"].str.contains("NaN 或无穷大").any()


# --- case 5: micro parks -------------------------------------------------------------------


def test_micro_park_free_space_clipped_and_listed():
    parks = parks_frame(
        micro_park_id=["NOFLOOR", "NEGFLOOR", "OVERFULL", "NOOCC", "NOGEOM", "GOOD"],
        town=["浒山街道"] * 6,
        floor_area_m2=[None, -100.0, 500.0, 300.0, 5000.0, 400.0],
        occupied_m2=[0.0, 0.0, 800.0, None, 0.0, 100.0],
        geometry=[pt(700, 700)] * 4 + [None, pt(2000, 2000)],
    )
    rows = [
        {"workshop_id": f"W{i}", "floor_area_m2": 150.0, "geometry": pt(700, 700)} for i in range(4)
    ]
    res = run(rows, parks)
    mp = res.micro_parks.set_index("micro_park_id")
    assert mp["capacity_m2"].to_dict() == {
        "NOFLOOR": 0.0,
        "NEGFLOOR": 0.0,
        "OVERFULL": 0.0,
        "NOOCC": 300.0,
        "NOGEOM": 0.0,
        "GOOD": 300.0,
    }
    assert (mp["remaining_m2"] >= 0).all() and len(mp) == 6
    placed = res.workshops["target_micro_park_id"].value_counts().to_dict()
    assert placed == {"NOOCC": 2, "GOOD": 2}
    why = listed(res.issues.frame())
    assert "建筑面积缺失" in why["NOFLOOR"] and "建筑面积为负" in why["NEGFLOOR"]
    assert "已使用面积 800 大于建筑面积 500" in why["OVERFULL"]
    assert "已使用面积缺失" in why["NOOCC"] and "无几何图形" in why["NOGEOM"]
    assert "GOOD" not in why


def test_micro_parks_without_occupied_column(tmp_path):
    parks = parks_frame().drop(columns="occupied_m2")
    ws = gpd.GeoDataFrame(
        {"workshop_id": ["A"], "floor_area_m2": [100.0]}, geometry=[pt(700, 700)], crs=4549
    )
    res = cli(county_with(tmp_path, ws, parks), tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    got = gpd.read_file(tmp_path / "out" / "workshops.gpkg", layer="workshops")
    assert got["target_micro_park_id"].tolist() == ["M1"]
    issues = pd.read_csv(tmp_path / "out" / "workshop_issues.csv", dtype=str)
    assert (issues[issues["layer"] == "micro_parks"]["id"] == "M1").any()
