"""Issue 12: bad layers and bad config through the real CLI (``python -m zoning classify``).

Each bad input gives either one clear line (file, layer/key, rows, the fix) and exit 1,
or a repair listed in issues.csv with the row id, rows in = rows out.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pytest

from conftest import tiny_layers, write_gpkg

PY = sys.executable


def zoning(*args):
    return subprocess.run(
        [PY, "-m", "zoning", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def one_line_error(res) -> str:
    """The CLI refused with exit 1 and one line on stderr, no traceback."""
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.fixture
def context_gpkg(tmp_path):
    """The tiny county's context layers (no parcels) in one GeoPackage."""
    layers = tiny_layers()
    layers.pop("parcels")
    return write_gpkg(tmp_path / "context.gpkg", layers)


def classify_parcels(tmp_path, context_gpkg, parcels, suffix="gpkg", *extra):
    """Run ``zoning classify`` with the parcels from their own file (a GeoDataFrame or the
    text of a GeoJSON file)."""
    path = tmp_path / f"parcels.{suffix}"
    if isinstance(parcels, str):
        path.write_text(parcels, encoding="utf-8")
    else:
        parcels.to_file(path, layer="parcels")
    out = tmp_path / "out"
    return zoning("classify", context_gpkg, "--parcels", path, "--out", out, "--quiet", *extra), out


def outputs(out):
    parcels = gpd.read_file(out / "classified.gpkg", layer="parcels")
    issues = pd.read_csv(out / "issues.csv", dtype={"id": str})
    return parcels, issues


# --- config -------------------------------------------------------------------------


def test_a_folder_as_config(tmp_path, tiny_gpkg):
    line = one_line_error(
        zoning("classify", tiny_gpkg, "--config", tmp_path, "--out", tmp_path / "out")
    )
    assert f"{tmp_path}: is a folder, not a config file" in line
    assert not (tmp_path / "out").exists()


def test_a_huge_adjacency_gap_is_refused_at_once(tmp_path, tiny_gpkg):
    cfg = tmp_path / "gap.toml"
    cfg.write_text("[parameters]\nadjacency_gap_m = 1e9\n", encoding="utf-8")
    t0 = time.perf_counter()
    line = one_line_error(zoning("classify", tiny_gpkg, "--config", cfg, "--out", tmp_path / "out"))
    assert time.perf_counter() - t0 < 60
    assert "gap.toml: [parameters] adjacency_gap_m is out of range" in line
    assert "0 to 1000 m" in line


def test_a_geographic_analysis_crs_is_refused(tmp_path, tiny_gpkg):
    cfg = tmp_path / "deg.toml"
    cfg.write_text('[crs]\nanalysis = "EPSG:4490"\n', encoding="utf-8")
    line = one_line_error(zoning("classify", tiny_gpkg, "--config", cfg, "--out", tmp_path / "out"))
    assert "deg.toml: [crs] analysis = 'EPSG:4490' is geographic (degrees)" in line


def test_a_config_with_a_bom_is_used(tmp_path, tiny_gpkg):
    cfg = tmp_path / "bom.toml"
    cfg.write_text("[parameters]\nbaseline_year = 2030\n", encoding="utf-8-sig")
    res = zoning("classify", tiny_gpkg, "--config", cfg, "--out", tmp_path / "out", "--quiet")
    assert res.returncode == 0, res.stderr
    rules = dict(zip(*outputs(tmp_path / "out")[0][["parcel_id", "rule"]].T.values, strict=True))
    assert rules["P006"] != "V3"  # built 2023 is not after 2030: the file's value was used
    assert (
        json.loads((tmp_path / "out" / "run.json").read_text())["parameters"]["baseline_year"]
        == 2030
    )


# --- layers -------------------------------------------------------------------------


def test_an_empty_parcels_layer(tmp_path, context_gpkg):
    res, out = classify_parcels(tmp_path, context_gpkg, tiny_layers()["parcels"].iloc[:0])
    line = one_line_error(res)
    assert "parcels.gpkg layer 'parcels': the layer has no rows" in line
    assert not out.exists()


def test_parcels_without_any_geometry(tmp_path, context_gpkg):
    parcels = tiny_layers()["parcels"]
    parcels["geometry"] = None
    line = one_line_error(classify_parcels(tmp_path, context_gpkg, parcels)[0])
    assert "layer 'parcels': none of the 7 rows has a geometry" in line


def _geojson(edit) -> str:
    data = json.loads(tiny_layers()["parcels"].to_crs(4326).to_json())
    for i, feature in enumerate(data["features"]):
        edit(i, feature["properties"])
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize("fid", [lambda i: f"甲{i}", lambda i: 1])
def test_a_text_or_repeated_fid_attribute_in_geojson(tmp_path, context_gpkg, fid):
    text = _geojson(lambda i, p: p.update(fid=fid(i)))
    res, out = classify_parcels(tmp_path, context_gpkg, text, "geojson")
    assert res.returncode == 0, res.stderr
    parcels, issues = outputs(out)
    assert len(parcels) == 7 and "fid" not in parcels.columns
    assert parcels["fid_input"].astype(str).tolist() == [str(fid(i)) for i in range(7)]
    assert issues["reason"].str.contains("'fid' is reserved, kept as 'fid_input'").any()


def test_town_and_TOWN_both_present(tmp_path, context_gpkg):
    text = _geojson(lambda i, p: p.update(TOWN=f"大写{i}"))
    res, out = classify_parcels(tmp_path, context_gpkg, text, "geojson")
    assert res.returncode == 0, res.stderr
    parcels, issues = outputs(out)
    assert parcels["town"].tolist() == tiny_layers()["parcels"]["town"].tolist()
    assert parcels["TOWN_input"].tolist() == [f"大写{i}" for i in range(7)]
    assert issues["reason"].str.contains("'TOWN' differs only in case").any()


def test_a_field_renamed_onto_a_name_the_file_has(tmp_path, context_gpkg):
    parcels = tiny_layers()["parcels"]
    parcels["TBBH"] = [f"T{i}" for i in range(7)]  # the survey's number, mapped to parcel_id
    cfg = tmp_path / "f.toml"
    cfg.write_text('[fields.parcels]\nTBBH = "parcel_id"\n', encoding="utf-8")
    res, out = classify_parcels(tmp_path, context_gpkg, parcels, "gpkg", "--config", cfg)
    assert res.returncode == 0, res.stderr
    got, issues = outputs(out)
    assert got["parcel_id"].tolist() == [f"T{i}" for i in range(7)]
    assert got["parcel_id_input"].tolist() == [f"P00{i}" for i in range(1, 8)]
    assert issues["reason"].str.contains("kept as \\['parcel_id_input'\\]").any()


def test_input_columns_named_like_outputs_are_kept(tmp_path, context_gpkg):
    parcels = tiny_layers()["parcels"]
    names = ("class", "area_mu", "_problem", "rule", "reason", "Class_ZH", "_group")
    for name in names:
        parcels[name] = f"mine-{name}"
    res, out = classify_parcels(tmp_path, context_gpkg, parcels)
    assert res.returncode == 0, res.stderr
    got, issues = outputs(out)
    for name in names:
        assert (got[f"{name}_input"] == f"mine-{name}").all(), name
    assert set(got["class"]) <= {"retain", "consolidate", "vacate"}  # _problem read as data
    assert not (issues["action"] == "unclassified").any()
    assert issues["reason"].str.contains("'_problem' is reserved").any()


def test_nan_and_inf_coordinates_are_unclassified_not_repaired(tmp_path, context_gpkg):
    import numpy as np
    import shapely

    parcels = tiny_layers()["parcels"]
    for row, bad in ((0, np.nan), (3, np.inf)):
        coords = shapely.get_coordinates(parcels.geometry.iloc[row])
        coords[1, 0] = bad  # one vertex: make_valid would keep half the plot
        parcels.loc[row, "geometry"] = shapely.Polygon(coords)
    res, out = classify_parcels(tmp_path, context_gpkg, parcels)
    assert res.returncode == 0, res.stderr
    got, issues = outputs(out)
    assert len(got) == 7
    bad = got.set_index("parcel_id").loc[["P001", "P004"]]
    assert (bad["class"] == "unclassified").all()
    assert bad["reason_en"].str.contains("coordinates are not finite").all()
    assert (bad["reason"] == "无法分类：坐标不是有限数（NaN 或 inf）；请修正节点").all()
    assert bad["area_m2"].isna().all()  # not a repaired half
    listed = issues[issues["action"] == "unclassified"]
    assert sorted(listed["id"]) == ["P001", "P004"] and sorted(listed["row"]) == [1, 4]
    assert got.set_index("parcel_id").loc["P002", "class"] == "consolidate"


def test_one_row_outside_china_is_unclassified_and_listed(tmp_path, context_gpkg):
    import shapely

    parcels = tiny_layers()["parcels"]
    parcels.loc[4, "geometry"] = shapely.box(0, 0, 10, 10)  # easting 0: far west of China
    res, out = classify_parcels(tmp_path, context_gpkg, parcels)
    assert res.returncode == 0, res.stderr
    got, issues = outputs(out)
    assert len(got) == 7
    row = got.set_index("parcel_id").loc["P005"]
    assert row["class"] == "unclassified" and "lies outside China" in row["reason_en"]
    assert "fix its coordinates" in row["reason_en"]
    assert row["reason"].startswith("无法分类：位于中国境外（") and "请修正坐标" in row["reason"]
    listed = issues[(issues["action"] == "unclassified")]
    assert listed["id"].tolist() == ["P005"] and listed["row"].tolist() == [5]
    assert (got.loc[got["parcel_id"] != "P005", "class"] != "unclassified").all()
    assert json.loads((out / "run.json").read_text())["analysis_crs"] == "EPSG:4549"


def test_most_rows_outside_china_refuse_the_layer_naming_the_rows(tmp_path, context_gpkg):
    parcels = tiny_layers()["parcels"]
    parcels = parcels.set_crs(4326, allow_override=True)  # metres read as degrees
    line = one_line_error(classify_parcels(tmp_path, context_gpkg, parcels)[0])
    assert "layer 'parcels': coordinates in EPSG:4326 do not fall in China" in line
    assert "[crs] parcels" in line and "(rows 1, 2, 3, 4, 5, 6, 7)" in line


def test_real_ids_above_int64_stay_distinct_and_exact(tmp_path, context_gpkg):
    parcels = tiny_layers()["parcels"]
    ids = [1e20, 2e20, 9.3e18, 9.300000000000002e18, 9.4e18, 12.5, 7.0]
    parcels["parcel_id"] = ids  # a REAL column in the GeoPackage
    res, out = classify_parcels(tmp_path, context_gpkg, parcels)
    assert res.returncode == 0, res.stderr
    got = outputs(out)[0]["parcel_id"].astype(str).tolist()
    assert got[:3] == ["100000000000000000000", "200000000000000000000", "9300000000000000000"]
    assert got[5:] == ["12.5", "7"]
    assert len(set(got)) == 7 and [float(v) for v in got] == ids  # exactly what the file has


def test_an_infinite_id_is_one_line(tmp_path, context_gpkg):
    parcels = tiny_layers()["parcels"]
    parcels["parcel_id"] = [1.0, 2.0, float("inf"), 4.0, 5.0, 6.0, 7.0]
    line = one_line_error(classify_parcels(tmp_path, context_gpkg, parcels)[0])
    assert "layer 'parcels': parcel_id is not a finite number (inf)" in line
    assert "(rows 3)" in line
