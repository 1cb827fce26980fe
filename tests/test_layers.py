"""Loading (SPEC §2, §3, §7): formats, field renaming, ids as text, booleans, CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from conftest import EXPECTED_TINY, frame, rect, tiny_layers
from zoning import classify, load_config
from zoning.errors import LayerError
from zoning.layers import IssueLog, Source, ids_as_text, parse_bool, polygonal


def classify_with_parcels_from(tmp_path, src: Source):
    layers = tiny_layers()
    layers.pop("parcels")
    ctx = tmp_path / "ctx.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(ctx, layer=name)
    sources = {name: Source(ctx, name) for name in layers}
    sources["parcels"] = src
    return classify(sources, config=load_config())


@pytest.mark.parametrize("fmt", ["geojson", "parquet", "filegdb", "shp", "fgb"])
def test_formats(tmp_path, fmt):
    parcels = tiny_layers()["parcels"]
    if fmt == "parquet":
        path = tmp_path / "plots.parquet"
        parcels.to_parquet(path)
        src = Source(path)
    elif fmt == "filegdb":
        if "OpenFileGDB" not in pyogrio.list_drivers(write=True):
            pytest.skip("GDAL without FileGDB write support")
        path = tmp_path / "survey.gdb"
        pyogrio.write_dataframe(parcels, path, layer="DLTB", driver="OpenFileGDB")
        src = Source.parse(f"{path}:DLTB")
        assert src.layer == "DLTB"
    else:
        driver = {"geojson": "GeoJSON", "shp": "ESRI Shapefile", "fgb": "FlatGeobuf"}[fmt]
        path = tmp_path / f"plots.{fmt}"
        pyogrio.write_dataframe(
            parcels.rename(columns={"eco_friendly": "eco", "rural_fusion": "fusion"}),
            path,
            driver=driver,
        )
        src = Source(path)
    result = classify_with_parcels_from(tmp_path, src)
    got = dict(zip(result.parcels["parcel_id"], result.parcels["rule"], strict=True))
    if fmt in ("geojson", "shp", "fgb"):  # eco/fusion renamed away: P003 loses its R2
        assert got == dict(EXPECTED_TINY, P003="V2")
    else:
        assert got == EXPECTED_TINY


def test_ids_stay_text():
    assert ids_as_text(pd.Series([1, 20])).tolist() == ["1", "20"]
    assert ids_as_text(pd.Series([1.0, np.nan])).tolist() == ["1", None]
    assert ids_as_text(pd.Series(["007", " 08 "])).tolist() == ["007", "08"]


def test_boolean_words():
    issues = IssueLog()
    values = pd.Series(
        ["TRUE", "yes", "Y", "1", "是", "false", "No", "n", "0", "否", "", None, "maybe", 1, 0.0]
    )
    got = parse_bool(values, "eco_friendly", "parcels", issues, None).tolist()
    assert got == [True] * 5 + [False] * 8 + [True, False]
    frame_ = issues.frame()
    assert frame_["row"].tolist() == [13] and "maybe" in frame_["reason"].iat[0]


def test_polygonal_repairs_and_rejects():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    spike = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10), (0, 0), (-5, 5), (0, 0)])
    overlap_multi = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10)])
    z = shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)])
    coll = shapely.GeometryCollection(
        [shapely.box(0, 0, 2, 2), shapely.LineString([(0, 0), (5, 5)])]
    )
    geoms = np.array(
        [
            bowtie,
            spike,
            overlap_multi,
            z,
            coll,
            shapely.Point(0, 0),
            None,
            shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)]),
        ],
        dtype=object,
    )
    out, repaired, reason = polygonal(geoms)
    assert shapely.area(out[0]) == pytest.approx(50.0)  # both triangles
    assert shapely.area(out[1]) == pytest.approx(100.0)  # spike dropped
    assert shapely.area(out[2]) == pytest.approx(150.0)  # overlap kept (structure)
    assert not shapely.has_z(out[3]) and shapely.area(out[3]) == pytest.approx(0.5)
    assert shapely.area(out[4]) == pytest.approx(4.0)
    assert repaired.tolist() == [True, True, True, False, True, False, False, False]
    assert reason[5] == "geometry is Point, not a polygon"
    assert reason[6] == "geometry is null"
    assert reason[7] != "" and out[7] is None
    assert shapely.is_valid(out[:5]).all()


def test_layer_errors_name_file_layer_and_rows(tmp_path):
    layers = tiny_layers()
    bad = pd.concat(
        [layers["parcels"], frame([{"parcel_id": None, "geometry": rect(0, 0, 1, 1)}])],
        ignore_index=True,
    )
    path = tmp_path / "p.gpkg"
    bad.to_file(path, layer="parcels")
    with pytest.raises(
        LayerError,
        match=r"p\.gpkg layer 'parcels': 1 row\(s\) without "
        r"parcel_id \(rows 8\)",
    ):
        classify_with_parcels_from(tmp_path, Source(path))


def test_reprojected_inputs_give_the_same_classes(tmp_path):
    layers = tiny_layers()
    base = dict(
        zip(
            layers["parcels"]["parcel_id"],
            [EXPECTED_TINY[p] for p in layers["parcels"]["parcel_id"]],
            strict=True,
        )
    )
    for crs in (4490, 4326, 4528, 32651):
        path = tmp_path / f"p{crs}.gpkg"
        layers["parcels"].to_crs(crs).to_file(path, layer="parcels")
        result = classify_with_parcels_from(tmp_path, Source(path))
        assert result.layers.crs.to_epsg() == 4549
        got = dict(zip(result.parcels["parcel_id"], result.parcels["rule"], strict=True))
        assert got == base, crs


def test_analysis_crs_follows_the_parcels_centre(tmp_path):
    layers = tiny_layers()
    shifted = layers["parcels"].to_crs(4490)
    shifted["geometry"] = shapely.transform(shifted.geometry.array, lambda c: c + [1.8, 0.0])
    path = tmp_path / "east.gpkg"
    shifted.to_file(path, layer="parcels")
    result = classify_with_parcels_from(tmp_path, Source(path))
    assert result.layers.crs.to_epsg() == 4550  # centre near 123.05E -> CM 123E
    assert isinstance(result.parcels, gpd.GeoDataFrame)


def test_input_columns_that_clash_with_outputs_are_kept(tmp_path):

    layers = tiny_layers()
    layers["parcels"]["class"] = "工业"
    layers["parcels"]["area_m2"] = 1.0
    out = classify(layers).parcels
    assert (out["class_input"] == "工业").all() and (out["area_m2_input"] == 1.0).all()
    assert set(out["class"]) <= {"retain", "consolidate", "vacate"}


def test_all_empty_geometries_are_one_line():
    from zoning.layers import frames_to_layers

    layers = tiny_layers()
    layers["parcels"]["geometry"] = shapely.Polygon()
    with pytest.raises(LayerError, match="none of the 7 rows has a geometry"):
        frames_to_layers(**layers)


def test_a_nan_vertex_is_unclassified_not_half_a_plot():

    layers = tiny_layers()
    coords = shapely.get_coordinates(layers["parcels"].geometry.iloc[1])
    coords[2, 1] = np.nan
    layers["parcels"].loc[1, "geometry"] = shapely.Polygon(coords)
    out = classify(layers).parcels.set_index("parcel_id")
    assert out.loc["P002", "class"] == "unclassified"
    assert out.loc["P002", "geometry"] is None and np.isnan(out.loc["P002", "area_m2"])
    assert (out.drop(index="P002")["class"] != "unclassified").all()


def test_real_ids_render_exactly():
    values = pd.Series([1e20, 2.0**63, 2.0**63 - 1024, -5.0, 0.1, np.nan])
    got = ids_as_text(values).tolist()
    assert got == [
        "100000000000000000000",
        "9223372036854775808",
        "9223372036854774784",
        "-5",
        "0.1",
        None,
    ]


def test_keep_apart_renames_reserved_and_case_clashes():
    from zoning.layers import keep_apart

    gdf = frame(
        [
            {
                "TOWN": "a",
                "town": "b",
                "FID": 3,
                "_x": 1,
                "town_input": "c",
                "geometry": rect(0, 0, 1, 1),
            }
        ]
    )
    issues = IssueLog()
    out = keep_apart(gdf, "parcels", issues)
    # the file's own town_input keeps its name, so TOWN becomes TOWN_input_2
    assert list(out.columns) == [
        "TOWN_input_2",
        "town",
        "FID_input",
        "_x_input",
        "town_input",
        "geometry",
    ]
    assert len(issues.frame()) == 1


def test_a_hand_built_config_with_a_geographic_analysis_crs_is_refused():
    from zoning.config import Config
    from zoning.errors import ConfigError
    from zoning.layers import frames_to_layers

    with pytest.raises(ConfigError, match="geographic"):
        frames_to_layers(**tiny_layers(), config=Config(crs={"analysis": "EPSG:4490"}))


def test_a_point_layer_with_nan_coordinates_is_one_line():
    from zoning.layers import prepare_layer

    ws = gpd.GeoDataFrame(
        {"workshop_id": ["W1", "W2"]},
        geometry=[shapely.Point(121.2, 30.2), shapely.Point(np.nan, 30.2)],
        crs=4490,
    )
    with pytest.raises(LayerError, match=r"coordinates are not finite.*\(rows 2\)"):
        prepare_layer(ws, "workshops", "w.csv", load_config(), IssueLog())


def test_a_context_row_outside_china_is_rejected_and_listed():
    from zoning.layers import frames_to_layers

    layers = tiny_layers()
    extra = frame([{"park_id": "T9", "geometry": shapely.box(0, 0, 10, 10)}])
    layers["township_parks"] = pd.concat([layers["township_parks"], extra], ignore_index=True)
    loaded = frames_to_layers(**layers)
    assert loaded.township_parks["park_id"].tolist() == ["T1", "T2"]
    issues = loaded.issues.frame()
    row = issues[issues["layer"] == "township_parks"]
    assert row["id"].tolist() == ["T9"] and row["action"].tolist() == ["rejected"]
    assert "outside China" in row["reason"].iloc[0]
