"""The seeded sample county (zoning.sample): layers, totals, ids, geometry, determinism.

The county is written once per module and read back, so the tests check the GeoPackage a
user gets, not only the in-memory frames.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from zoning.sample import (
    LAYERS,
    MICRO_PARK_FLOOR_M2,
    MICRO_PARK_LAND_MU,
    MU_M2,
    TOWN_NAMES,
    build_sample,
    load_outline,
    write_sample,
)

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "sample_county.gpkg"
TOWNS = {
    "浒山街道",
    "白沙路街道",
    "古塘街道",
    "宗汉街道",
    "坎墩街道",
    "龙山镇",
    "掌起镇",
    "观海卫镇",
    "附海镇",
    "桥头镇",
    "匡堰镇",
    "逍林镇",
    "新浦镇",
    "胜山镇",
    "横河镇",
    "崇寿镇",
    "庵东镇",
    "长河镇",
    "周巷镇",
}
ID_FIELDS = {
    "township_parks": "park_id",
    "cluster_points": "cluster_id",
    "micro_parks": "micro_park_id",
    "parcels": "parcel_id",
    "workshops": "workshop_id",
}
WORKSHOP_BOOLS = [
    "licensed",
    "pollution",
    "major_hazard",
    "three_in_one",
    "illegal_building",
    "backward_capacity",
]


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(path, row counts) of the default sample written to a temporary folder."""
    path = tmp_path_factory.mktemp("sample") / "sub" / "county.gpkg"
    return path, write_sample(path)


@pytest.fixture(scope="module")
def layers(sample):
    path, _ = sample
    return {name: gpd.read_file(path, layer=name) for name in LAYERS}


@pytest.fixture(scope="module")
def outline():
    return load_outline()


def test_two_writes_are_byte_identical(sample, tmp_path):
    path, _ = sample
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    again = tmp_path / "again.gpkg"
    write_sample(again)
    assert sha256(again) == sha256(path)
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") == before
    assert not [p for p in tmp_path.iterdir() if p.name != "again.gpkg"]  # no temp file left


def test_layer_names_counts_and_crs(sample, layers):
    path, counts = sample
    assert [name for name, _ in pyogrio.list_layers(path)] == list(LAYERS)
    assert counts == {name: len(layers[name]) for name in LAYERS}
    assert counts["parcels"] >= 5000
    assert counts["workshops"] >= 10000
    assert counts["micro_parks"] == 19
    assert counts["towns"] == 19
    assert 20 <= counts["township_parks"] <= 30
    assert 30 <= counts["cluster_points"] <= 50
    for name in LAYERS:
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:4549", name
        assert info["encoding"] == "UTF-8", name
        assert layers[name].crs.to_epsg() == 4549


def test_towns_have_the_real_names_and_partition_the_outline(layers, outline):
    towns = layers["towns"]
    assert set(towns["town"]) == TOWNS == set(TOWN_NAMES)
    assert towns["town"].is_unique and towns["town_code"].is_unique
    assert towns["town_code"].str.fullmatch(r"330282\d{3}").all()
    assert towns.area.sum() == pytest.approx(outline.area, rel=1e-6)
    geoms = np.asarray(towns.geometry.values)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    assert shapely.area(shapely.intersection(geoms[i], geoms[j])).sum() < 1.0


def test_micro_park_totals(layers):
    micro = layers["micro_parks"]
    assert abs(micro.area.sum() / MU_M2 - MICRO_PARK_LAND_MU) < 0.05
    assert round(micro["land_mu"].sum(), 2) == MICRO_PARK_LAND_MU
    assert np.allclose(micro.area / MU_M2, micro["land_mu"], atol=0.01)
    assert micro["floor_area_m2"].sum() == MICRO_PARK_FLOOR_M2
    used = micro["occupied_m2"] / micro["floor_area_m2"]
    assert used.between(0.69, 0.99).all()
    assert micro["star"].dropna().isin([1, 2, 3, 4, 5]).all()
    assert micro["name"].str.startswith("慈溪市").all() and micro["name"].is_unique
    assert set(micro["town"]) <= TOWNS


def test_ids_are_unique_text(layers):
    for name, field in ID_FIELDS.items():
        ids = layers[name][field]
        assert ids.is_unique, name
        assert ids.map(type).eq(str).all(), name
    parcels = layers["parcels"]
    codes = dict(zip(layers["towns"]["town"], layers["towns"]["town_code"], strict=True))
    assert (parcels["parcel_id"].str.slice(0, 9) == parcels["town"].map(codes)).all()
    assert parcels["parcel_id"].str.fullmatch(r"\d{13}").all()
    assert layers["workshops"]["workshop_id"].str.fullmatch(r"WS\d{6}").all()


def test_parcels_are_valid_small_and_do_not_overlap(layers):
    parcels = layers["parcels"]
    geoms = np.asarray(parcels.geometry.values)
    assert shapely.is_valid(geoms).all()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    assert shapely.area(shapely.intersection(geoms[i], geoms[j])).sum() < 1e-3
    i, j = shapely.STRtree(geoms).query(geoms, predicate="contains")
    assert (i == j).all()
    mu = shapely.area(geoms) / MU_M2
    assert mu.min() >= 0.099 and mu.max() <= 30.01
    assert 1.5 <= np.median(mu) <= 2.6
    # survey area: ellipsoidal, a little smaller than the GK planar area at Cixi
    ratio = parcels["TBMJ"] / parcels.area
    assert ratio.between(0.998, 1.0).all()
    assert (parcels["DLBM"] == "0601").all() and (parcels["ZLDWMC"] == parcels["village"]).all()


def test_everything_lies_within_the_outline(layers, outline):
    frame = shapely.buffer(outline, 1.0)
    shapely.prepare(frame)
    for name in LAYERS:
        geoms = np.asarray(layers[name].geometry.values)
        assert shapely.within(geoms, frame).all(), name


def test_dev_boundary_share_and_plot_mix(layers, outline):
    dev = shapely.union_all(np.asarray(layers["dev_boundary"].geometry.values))
    assert 0.30 <= dev.area / outline.area <= 0.50
    parcels = layers["parcels"]
    geoms = np.asarray(parcels.geometry.values)
    area = shapely.area(geoms)

    def share(layer):
        union = shapely.union_all(np.asarray(layers[layer].geometry.values))
        return shapely.area(shapely.intersection(geoms, union)) / area

    assert 0.35 <= np.mean(share("dev_boundary") >= 0.5) <= 0.65
    assert 0.01 <= np.mean(share("cluster_points") >= 0.5) <= 0.2
    assert 0.01 <= np.mean(share("protected") >= 0.05) <= 0.15
    assert set(layers["protected"]["kind"]) == {"生态保护红线", "永久基本农田"}
    parks = shapely.union_all(np.asarray(layers["township_parks"].geometry.values))
    assert (shapely.distance(geoms, parks) <= 50.0).sum() >= 50
    assert 0.005 <= (parcels["built_year"] > 2021).mean() <= 0.08
    assert parcels["built_year"].between(1985, 2024).all()
    for flag in ("eco_friendly", "rural_fusion"):
        assert parcels[flag].dtype == bool
        assert 0.02 <= parcels[flag].mean() <= 0.10
    # touching neighbours and small gaps form contiguous groups
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=20.0)
    assert (i != j).sum() > len(geoms)


def test_park_areas(layers):
    km2 = layers["township_parks"].area / 1e6
    assert km2.between(0.29, 3.01).all()
    assert (layers["township_parks"]["level"] == "镇级").all()
    ha = layers["cluster_points"].area / 1e4
    assert ha.between(4.9, 40.1).all()


def test_workshop_fields(layers):
    ws = layers["workshops"]
    for flag in WORKSHOP_BOOLS:
        assert ws[flag].dtype == bool, flag
    assert set(ws["env_permit"]) == {"yes", "no", "exempt"}
    assert (ws["hazards_open"] >= 0).all() and (ws["hazards_open"] <= ws["hazards_found"]).all()
    rate = 1 - ws["hazards_open"].sum() / ws["hazards_found"].sum()
    assert 0.98 <= rate <= 0.995
    assert 0.25 <= ws["three_in_one"].mean() <= 0.35
    floor = ws["floor_area_m2"]
    assert 0 < floor.isna().sum() < 0.05 * len(ws)
    assert floor.dropna().between(50, 1500).all()
    assert (ws["employees"] >= 1).all()
    assert set(ws["town"]) == TOWNS
    on_plot = shapely.STRtree(np.asarray(layers["parcels"].geometry.values)).query(
        np.asarray(ws.geometry.values), predicate="intersects"
    )[0]
    assert 0.05 <= len(np.unique(on_plot)) / len(ws) <= 0.5


def test_booleans_are_stored_as_boolean(sample):
    path, _ = sample
    for layer, fields in (
        ("parcels", ["eco_friendly", "rural_fusion"]),
        ("workshops", WORKSHOP_BOOLS),
    ):
        info = pyogrio.read_info(path, layer=layer)
        subtype = dict(zip(info["fields"], info["ogr_subtypes"], strict=True))
        assert all(subtype[f] == "OFSTBoolean" for f in fields)


def test_another_seed_gives_another_valid_county():
    other = build_sample(seed=7)
    assert len(other["parcels"]) >= 5000 and len(other["micro_parks"]) == 19
    assert round(other["micro_parks"]["land_mu"].sum(), 2) == MICRO_PARK_LAND_MU
    assert other["micro_parks"]["floor_area_m2"].sum() == MICRO_PARK_FLOOR_M2
    assert other["parcels"]["parcel_id"].is_unique


@pytest.mark.skipif(not COMMITTED.exists(), reason="data/sample_county.gpkg not generated")
def test_committed_sample_matches_the_generator(layers):
    for name in LAYERS:
        committed = pyogrio.read_dataframe(COMMITTED, layer=name, read_geometry=False)
        assert len(committed) == len(layers[name]), name
        if name in ID_FIELDS:
            field = ID_FIELDS[name]
            pd.testing.assert_series_equal(committed[field], layers[name][field], check_dtype=False)


def test_plots_carry_plausible_floor_areas_from_their_own_stream(layers):
    """SPEC §11's optional floor_area_m2: ratios 0.2–3.0, older plots lower, ~4 % empty;
    drawn from its own stream, so the plots' other columns are untouched."""
    from zoning.sample import add_floor_areas

    p = layers["parcels"]
    floor = p["floor_area_m2"]
    assert 0.02 < floor.isna().mean() < 0.06
    ratio = (floor / shapely.area(np.asarray(p.geometry.values))).dropna()
    assert ratio.between(0.19, 3.01).all() and 0.8 < ratio.median() < 1.1
    year = p.loc[ratio.index, "built_year"]
    assert (
        ratio[year < 2000].median()
        < 0.8
        < ratio[year <= 2010].median()
        < 1.1
        < ratio[year > 2010].median()
    )
    assert (floor.dropna() == floor.dropna().round()).all()
    again = add_floor_areas(p.drop(columns="floor_area_m2"))
    again["floor_area_m2"] = again["floor_area_m2"].astype(float)  # empty: NaN, as read
    pd.testing.assert_frame_equal(
        again.drop(columns="geometry"), p.drop(columns="geometry"), check_dtype=False
    )
    assert list(p.columns[-2:]) == ["floor_area_m2", "geometry"]
    if COMMITTED.exists():
        committed = pyogrio.read_dataframe(COMMITTED, layer="parcels", read_geometry=False)
        pd.testing.assert_series_equal(committed["floor_area_m2"], floor, check_dtype=False)
