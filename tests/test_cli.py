"""The CLI end to end on real files, and every kind of bad input of SPEC §7."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from conftest import EXPECTED_TINY, frame, tiny_layers, write_gpkg

PY = sys.executable


def zoning(*args, cwd=None):
    """Run the real console entry point (python -m zoning) and capture its output."""
    return subprocess.run(
        [PY, "-m", "zoning", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def rules_of(out_dir) -> dict[str, str]:
    p = gpd.read_file(os.path.join(out_dir, "classified.gpkg"), layer="parcels")
    return dict(zip(p["parcel_id"], p["rule"].fillna(""), strict=True))


def test_classify_writes_every_output(tiny_gpkg, tmp_path):
    out = tmp_path / "nested" / "out"  # missing parent folders are created
    res = zoning("classify", tiny_gpkg, "--out", out)
    assert res.returncode == 0, res.stderr
    for name in ("classified.gpkg", "summary.csv", "summary.xlsx", "issues.csv", "run.json"):
        assert (out / name).is_file(), name
    layers = {n for n, _ in pyogrio.list_layers(out / "classified.gpkg")}
    assert {
        "parcels",
        "village_parks",
        "dev_boundary",
        "township_parks",
        "cluster_points",
        "protected",
        "towns",
    } <= layers
    assert rules_of(out) == EXPECTED_TINY
    parcels = gpd.read_file(out / "classified.gpkg", layer="parcels")
    assert parcels.crs.to_epsg() == 4549
    assert list(parcels.columns[:6]) == [
        "parcel_id",
        "class",
        "class_zh",
        "rule",
        "target_id",
        "reason",
    ]
    assert parcels.set_index("parcel_id").loc["P001", "target_id"] == "T1"
    assert parcels.set_index("parcel_id").loc["P001", "enterprise"] == "甲厂"  # attrs kept
    checker = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "contract", "check.py")
    if os.path.exists(checker):  # the shared contract checker sits beside the repo in CI
        check = subprocess.run(
            [PY, checker, "classify", tiny_gpkg, str(out)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout


def test_summary_reads_back(tiny_gpkg, tmp_path):
    zoning("classify", tiny_gpkg, "--out", tmp_path)
    s = pd.read_csv(tmp_path / "summary.csv")
    total = s[(s["town"] == "合计") & (s["class"] == "total")].iloc[0]
    assert total["plots"] == 7
    vacate = s[(s["town"] == "合计") & (s["class"] == "vacate")].iloc[0]
    assert vacate["plots"] == 3  # V1, V2, V3
    xl = pd.read_excel(tmp_path / "summary.xlsx", sheet_name="明细", header=1)
    assert list(xl.columns) == [
        "镇街",
        "类别代码",
        "类别",
        "地块数",
        "面积（平方米）",
        "面积（亩）",
    ]
    assert xl["地块数"].sum() == s["plots"].sum()


def test_layers_from_separate_files_and_config(tmp_path):
    layers = tiny_layers()
    parcels = layers.pop("parcels").rename(columns={"parcel_id": "TBBH", "village": "ZLDWMC"})
    main = write_gpkg(tmp_path / "ctx.gpkg", layers)
    parcels.to_file(tmp_path / "plots.geojson", driver="GeoJSON")
    (tmp_path / "cfg.toml").write_text(
        '[parameters]\npark_contact_m = 10\n[fields.parcels]\nTBBH = "parcel_id"\n'
        'ZLDWMC = "village"\n',
        encoding="utf-8",
    )
    res = zoning(
        "classify",
        main,
        "--parcels",
        tmp_path / "plots.geojson",
        "--config",
        tmp_path / "cfg.toml",
        "--out",
        tmp_path / "out",
    )
    assert res.returncode == 0, res.stderr
    expected = dict(EXPECTED_TINY, P001="C2")  # 30 m from T1 > park_contact_m 10
    assert rules_of(tmp_path / "out") == expected


def test_two_runs_give_identical_outputs(tiny_gpkg, tmp_path):
    for name in ("a", "b"):
        assert zoning("classify", tiny_gpkg, "--out", tmp_path / name).returncode == 0
    for layer in ("parcels", "village_parks"):
        a = gpd.read_file(tmp_path / "a" / "classified.gpkg", layer=layer)
        b = gpd.read_file(tmp_path / "b" / "classified.gpkg", layer=layer)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert shapely.equals_exact(a.geometry.array, b.geometry.array, tolerance=0).all()
    assert sha(tmp_path / "a" / "summary.csv") == sha(tmp_path / "b" / "summary.csv")


# --- bad input: one clear line, non-zero exit, no partial output -----------------------


def assert_one_line_error(res, *words):
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.startswith("error")]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_missing_file(tmp_path):
    res = zoning("classify", tmp_path / "nope.gpkg", "--out", tmp_path / "o")
    assert_one_line_error(res, "nope.gpkg", "not found")


def test_missing_layer(tmp_path):
    layers = tiny_layers()
    del layers["cluster_points"]
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert_one_line_error(res, "in.gpkg", "cluster_points")
    assert not (tmp_path / "o" / "classified.gpkg").exists()


def test_missing_crs(tmp_path):
    layers = tiny_layers()
    layers["parcels"] = layers["parcels"].set_crs(None, allow_override=True)
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert_one_line_error(res, "in.gpkg", "parcels", "no CRS")
    (tmp_path / "c.toml").write_text('[crs]\nparcels = "EPSG:4549"\n')
    res = zoning("classify", path, "--config", tmp_path / "c.toml", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert rules_of(tmp_path / "o") == EXPECTED_TINY


def test_missing_parcel_id_field(tmp_path):
    layers = tiny_layers()
    layers["parcels"] = layers["parcels"].rename(columns={"parcel_id": "TBBH"})
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert_one_line_error(res, "parcels", "parcel_id", "TBBH")


def test_duplicate_ids_name_the_rows(tmp_path):
    layers = tiny_layers()
    layers["parcels"].loc[4, "parcel_id"] = "P002"
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert_one_line_error(res, "parcels", "duplicate", "P002", "rows 2, 5")


def test_points_where_polygons_expected(tmp_path):
    layers = tiny_layers()
    layers["township_parks"] = layers["township_parks"].set_geometry(
        layers["township_parks"].centroid
    )
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert_one_line_error(res, "township_parks", "expected polygons", "Point")


def test_invalid_and_empty_geometries_are_kept_and_reported(tmp_path):
    layers = tiny_layers()
    p = layers["parcels"]
    bowtie = shapely.Polygon(
        [(620000, 3340000), (620010, 3340010), (620010, 3340000), (620000, 3340010)]
    )
    extra = frame(
        [
            {"parcel_id": "BOW", "geometry": bowtie},
            {"parcel_id": "EMPTY", "geometry": shapely.Polygon()},
            {"parcel_id": "NULL", "geometry": None},
            {
                "parcel_id": "LINE",
                "geometry": shapely.LineString([(620000, 3340000), (620010, 3340000)]),
            },
        ]
    )
    layers["parcels"] = pd.concat([p, extra], ignore_index=True)
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "o" / "classified.gpkg", layer="parcels").set_index("parcel_id")
    assert len(out) == len(layers["parcels"])  # rows in = rows out
    assert out.loc["BOW", "class"] in ("vacate", "retain", "consolidate")
    assert out.loc["BOW", "area_m2"] == pytest.approx(50.0)  # both triangles kept
    for pid in ("EMPTY", "NULL", "LINE"):
        assert out.loc[pid, "class"] == "unclassified"
        assert out.loc[pid, "reason"]
    issues = pd.read_csv(tmp_path / "o" / "issues.csv", dtype={"id": str}, keep_default_na=False)
    listed = dict(zip(issues["id"], issues["action"], strict=False))
    # BOW also lies outside every town polygon: listed as a check after its repair
    assert "repaired" in set(issues.loc[issues["id"] == "BOW", "action"])
    assert {listed["EMPTY"], listed["NULL"], listed["LINE"]} == {"unclassified"}


def test_failed_run_keeps_the_good_output(tiny_gpkg, tmp_path):
    out = tmp_path / "o"
    assert zoning("classify", tiny_gpkg, "--out", out).returncode == 0
    before = {f: sha(out / f) for f in os.listdir(out)}
    layers = tiny_layers()
    layers["parcels"].loc[1, "parcel_id"] = "P001"
    bad = write_gpkg(tmp_path / "bad.gpkg", layers)
    assert zoning("classify", bad, "--out", out).returncode != 0
    assert {f: sha(out / f) for f in os.listdir(out)} == before


def test_gbk_shapefile_without_cpg(tmp_path):
    layers = tiny_layers()
    shp = tmp_path / "plots.shp"
    pyogrio.write_dataframe(layers.pop("parcels"), shp, encoding="gbk")
    (tmp_path / "plots.cpg").unlink(missing_ok=True)
    assert pyogrio.read_info(shp)["encoding"] == "ISO-8859-1"  # the trap is real
    main = write_gpkg(tmp_path / "ctx.gpkg", layers)
    # Shapefile names are cut to 10 bytes: the [fields] table maps them back.
    (tmp_path / "c.toml").write_text(
        '[fields.parcels]\neco_friend = "eco_friendly"\nrural_fusi = "rural_fusion"\n',
        encoding="utf-8",
    )
    res = zoning(
        "classify", main, "--parcels", shp, "--config", tmp_path / "c.toml", "--out", tmp_path / "o"
    )
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "o" / "classified.gpkg", layer="parcels")
    assert set(out["town"]) == {"浒山街道", "宗汉街道"}
    assert rules_of(tmp_path / "o") == EXPECTED_TINY


def test_lon_lat_swapped_is_repaired_and_reported(tmp_path):
    layers = tiny_layers()
    ll = layers["parcels"].to_crs(4490)
    ll["geometry"] = shapely.transform(ll.geometry.array, lambda c: c[:, ::-1])
    layers["parcels"] = ll
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert rules_of(tmp_path / "o") == EXPECTED_TINY
    issues = pd.read_csv(tmp_path / "o" / "issues.csv")
    assert issues["reason"].str.contains("swapped").any()


@pytest.mark.parametrize("declared", [4549, 4528])
def test_zone_prefixed_eastings(tmp_path, declared):
    """Eastings like 40 620 000 (GK zone 40), declared right (4528) or as 4549."""
    layers = tiny_layers()
    pre = layers["parcels"].to_crs(4528)
    assert pre.total_bounds[0] > 40_000_000
    layers["parcels"] = pre.set_crs(declared, allow_override=True)
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert rules_of(tmp_path / "o") == EXPECTED_TINY
    issues = pd.read_csv(tmp_path / "o" / "issues.csv")
    assert issues["reason"].str.contains("zone prefix").any() == (declared == 4549)


def test_gcj02_declared_layer(tmp_path):
    from zoning.crs import geoms_wgs84_to_gcj02

    layers = tiny_layers()
    wgs = layers["parcels"].to_crs(4326)
    wgs["geometry"] = geoms_wgs84_to_gcj02(wgs.geometry.array)
    layers["parcels"] = wgs
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", path, "--out", tmp_path / "plain")
    # Read as if WGS84, the plots sit ~500 m off: the outcome differs.
    assert rules_of(tmp_path / "plain") != EXPECTED_TINY
    (tmp_path / "c.toml").write_text('[crs]\nparcels = "GCJ-02"\n')
    res = zoning("classify", path, "--config", tmp_path / "c.toml", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert rules_of(tmp_path / "o") == EXPECTED_TINY


def test_bad_config_is_one_line(tiny_gpkg, tmp_path):
    (tmp_path / "c.toml").write_text("[parameters]\nadjacency_gap = 30\n")
    res = zoning("classify", tiny_gpkg, "--config", tmp_path / "c.toml", "--out", tmp_path / "o")
    assert_one_line_error(res, "c.toml", "adjacency_gap")


def test_map_command(tiny_gpkg, tmp_path):
    out = tmp_path / "o"
    assert zoning("classify", tiny_gpkg, "--out", out).returncode == 0
    res = zoning("map", out, "--out", tmp_path / "m" / "map.html", "--lang", "en")
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "m" / "map.html").read_text(encoding="utf-8")
    assert "Village industrial land" in page and "Leaflet 1.9.3" in page
    assert (tmp_path / "m" / "overview.png").exists()  # beside the map, not in the
    assert not (out / "overview.png").exists()  # classification's folder
    res = zoning(
        "map",
        out / "classified.gpkg",
        "--by-town",
        "--out",
        tmp_path / "maps",
        "--basemap",
        "gaode",
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "maps" / "index.html").exists()
    assert sorted(p.name for p in (tmp_path / "maps").glob("*.html")) == [
        "county.html",
        "index.html",
        "宗汉街道.html",
        "浒山街道.html",
    ]


def test_map_tianditu_without_token_is_one_line(tiny_gpkg, tmp_path):
    out = tmp_path / "o"
    assert zoning("classify", tiny_gpkg, "--out", out).returncode == 0
    env_free = {k: v for k, v in os.environ.items() if k != "TIANDITU_TOKEN"}
    res = subprocess.run(
        [
            PY,
            "-m",
            "zoning",
            "map",
            str(out),
            "--out",
            str(tmp_path / "m.html"),
            "--basemap",
            "tianditu",
        ],
        capture_output=True,
        text=True,
        env=env_free,
    )
    assert_one_line_error(res, "TIANDITU_TOKEN")


def test_failed_classify_leaves_previous_output_set_whole(tiny_gpkg, tmp_path, monkeypatch):
    """A later writer failing must not leave the folder mixing two runs (issue 12)."""
    from zoning import outputs, report

    out = tmp_path / "out"
    assert zoning("classify", tiny_gpkg, "--out", out).returncode == 0
    before = {p.name: sha(p) for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report, "write_summary_xlsx", broken)
    changed = tiny_layers()
    changed["parcels"]["built_year"] = 2030  # every plot would now be V3 / V1
    path = write_gpkg(tmp_path / "changed.gpkg", changed)
    with pytest.raises(OSError, match="disk full"):
        outputs.run_classify(path, str(out), (), {}, lambda message: None)
    assert {p.name: sha(p) for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changed.gpkg", "out", "tiny.gpkg"]
