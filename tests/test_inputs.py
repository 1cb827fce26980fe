"""One way to name inputs (issue 15): classify, compare and workshops take a multi-layer
file, the per-layer flags or a classify output folder; a layer they need and did not get
is one line naming it and its flag."""

from __future__ import annotations

import subprocess
import sys
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import EXPECTED_TINY, X0, Y0, rect, tiny_layers

FLAGS = {
    "parcels": "--parcels",
    "dev_boundary": "--boundary",
    "township_parks": "--parks",
    "cluster_points": "--clusters",
    "protected": "--protected",
    "towns": "--towns",
}
#: Shapefile field names are cut to 10 characters: a config maps them back.
SHAPEFILE_CONFIG = """
[fields.parcels]
eco_friend = "eco_friendly"
rural_fusi = "rural_fusion"
[fields.workshops]
workshop_i = "workshop_id"
floor_area = "floor_area_m2"
[fields.micro_parks]
micro_park = "micro_park_id"
floor_area = "floor_area_m2"
occupied_m = "occupied_m2"
"""


def zoning(*args):
    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def shapefiles(tmp_path_factory):
    """The tiny county, workshops and a micro park as one GBK shapefile per layer."""
    root = tmp_path_factory.mktemp("shp")
    layers = tiny_layers()
    layers["workshops"] = gpd.GeoDataFrame(
        {
            "workshop_id": ["W1", "W2", "W3"],
            "floor_area_m2": [100.0, 200.0, 300.0],
            "licensed": ["有", "无", "√"],
        },
        geometry=[
            shapely.Point(X0 + 10, Y0 + 10),
            shapely.Point(X0 + 3020, Y0 + 3020),
            shapely.Point(X0 + 5000, Y0 + 500),
        ],
        crs=4549,
    )
    layers["micro_parks"] = gpd.GeoDataFrame(
        {"micro_park_id": ["M1"], "floor_area_m2": [1000.0], "occupied_m2": [0.0]},
        geometry=[rect(500, 500, 50, 50)],
        crs=4549,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # field names cut to 10 characters
        for name, gdf in layers.items():
            gdf.to_file(root / f"{name}.shp", encoding="gbk")
    (root / "c.toml").write_text(SHAPEFILE_CONFIG, encoding="utf-8")
    return root


def flags(root, names=FLAGS):
    return [a for n in names for a in (FLAGS[n], root / f"{n}.shp")]


def test_classify_on_a_shapefile_set_and_its_output_folder(shapefiles, tmp_path):
    res = zoning(
        "classify",
        *flags(shapefiles),
        "--config",
        shapefiles / "c.toml",
        "--out",
        tmp_path / "a",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "a" / "classified.gpkg", layer="parcels")
    assert dict(zip(out["parcel_id"], out["rule"], strict=True)) == EXPECTED_TINY
    # the output folder is an input too: its old class/rule/measure columns are no clash
    res = zoning("classify", tmp_path / "a", "--out", tmp_path / "b", "--quiet")
    assert res.returncode == 0, res.stderr
    again = gpd.read_file(tmp_path / "b" / "classified.gpkg", layer="parcels")
    assert dict(zip(again["parcel_id"], again["rule"], strict=True)) == EXPECTED_TINY
    assert not any(c.endswith("_input") for c in again.columns)
    issues = pd.read_csv(tmp_path / "b" / "issues.csv")
    assert not issues["reason"].str.contains("clash").any()


def test_compare_on_a_shapefile_set(shapefiles, tmp_path):
    for name, mu in (("a", 15), ("b", 1)):
        (tmp_path / f"{name}.toml").write_text(
            f"[parameters]\nscattered_max_mu = {mu}\n{SHAPEFILE_CONFIG}", encoding="utf-8"
        )
    res = zoning(
        "compare",
        *flags(shapefiles),
        "--config",
        tmp_path / "a.toml",
        "--config",
        tmp_path / "b.toml",
        "--out",
        tmp_path / "cmp",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    changed = gpd.read_file(tmp_path / "cmp" / "changed.gpkg")
    assert changed["parcel_id"].tolist() == ["P003"]  # R2 needs ≤ 15 mu, not ≤ 1


@pytest.mark.parametrize("form", ["flags", "output folder"])
def test_workshops_on_a_shapefile_set(shapefiles, tmp_path, form):
    ws = [
        "--workshops",
        shapefiles / "workshops.shp",
        "--micro-parks",
        shapefiles / "micro_parks.shp",
    ]
    if form == "flags":
        county = flags(shapefiles)
    else:
        assert (
            zoning(
                "classify",
                *flags(shapefiles),
                "--config",
                shapefiles / "c.toml",
                "--out",
                tmp_path / "cls",
                "--quiet",
            ).returncode
            == 0
        )
        county = [tmp_path / "cls"]
    res = zoning(
        "workshops",
        *county,
        *ws,
        "--config",
        shapefiles / "c.toml",
        "--out",
        tmp_path / "w",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "w" / "workshops.gpkg", layer="workshops").fillna("")
    got = dict(
        zip(
            out["workshop_id"],
            zip(out["class"], out["parcel_id"], out["fixes"], strict=True),
            strict=True,
        )
    )
    # 有/√ licensed, 无 not: only W2 owes a licence; W2 lies in protected land
    assert got == {
        "W1": ("upgrade", "P001", ""),
        "W2": ("demolish", "P007", "licence"),
        "W3": ("to_park", "", ""),
    }
    issues = pd.read_csv(tmp_path / "w" / "workshop_issues.csv")
    assert not issues["reason"].astype(str).str.contains("clash").any()


@pytest.mark.parametrize("command", ["classify", "compare", "workshops"])
def test_a_single_shapefile_is_not_the_whole_input(shapefiles, tmp_path, command):
    extra = {
        "compare": ["--config", shapefiles / "c.toml", "--config", shapefiles / "c.toml"],
        "workshops": ["--workshops", shapefiles / "workshops.shp"],
    }.get(command, [])
    res = zoning(command, shapefiles / "parcels.shp", *extra, "--out", tmp_path / "o")
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    line = res.stderr
    for name in ("dev_boundary", "township_parks", "cluster_points"):
        assert f"{FLAGS[name]} for {name}" in line
    assert "single-layer file" in line and "Traceback" not in line
    assert ("--micro-parks for micro_parks" in line) == (command == "workshops")
    assert not (tmp_path / "o").exists()


def test_flags_without_input_name_every_missing_layer(shapefiles, tmp_path):
    res = zoning(
        "classify", *flags(shapefiles, ["parcels", "dev_boundary"]), "--out", tmp_path / "o"
    )
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "no input for layer township_parks, cluster_points" in res.stderr
    assert "--parks for township_parks, --clusters for cluster_points" in res.stderr
    res = zoning("workshops", tmp_path, "--out", tmp_path / "o")  # a folder, no output
    assert res.returncode == 1 and "without classified.gpkg" in res.stderr
