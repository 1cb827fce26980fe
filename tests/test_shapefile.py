"""`zoning classify --format shp`: shapefiles for ArcGIS users (issue 16, item 5):
GB18030 tables named in a .cpg, field names within dBASE's 10 bytes and a table that
maps them back, texts cut at a character boundary, byte-stable files."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from conftest import rect, tiny_layers, write_gpkg
from zoning._io import DBF_TEXT_BYTES, dbf_field_names, write_shapefiles


@pytest.fixture(scope="module")
def shp_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("shp")
    path = write_gpkg(root / "in.gpkg", tiny_layers())
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "classify",
            path,
            "--out",
            str(root / "out"),
            "--format",
            "shp",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return root / "out"


def test_long_names_are_cut_and_numbered_never_onto_a_name_that_fits():
    names = [
        "nearest_park_id",
        "nearest_park_m",
        "nearest_pa",
        "class",
        "CLASS_zh_long",
        "class_zh_longer",
        "企业名称编号一",
    ]
    got = dbf_field_names(names)
    assert got == [
        "nearest__1",
        "nearest__2",
        "nearest_pa",
        "class",
        "CLASS_zh_l",
        "class_zh_1",
        "企业名称编",
    ]
    assert all(len(n.encode("gb18030")) <= 10 for n in got)
    assert len({n.lower() for n in got}) == len(got)  # dBASE ignores case


def test_classify_writes_gb18030_shapefiles_with_a_cpg_and_a_field_table(shp_out):
    folder = shp_out / "shp"
    for layer in ("parcels", "village_parks"):
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert (folder / f"{layer}{ext}").is_file(), layer + ext
        assert (folder / f"{layer}.cpg").read_text().strip() == "GB18030"
    dbf = (folder / "parcels.dbf").read_bytes()
    assert "浒山街道".encode("gb18030") in dbf and "浒山街道".encode() not in dbf
    fields = pd.read_csv(folder / "fields.csv", encoding="utf-8-sig", dtype=str)
    assert list(fields.columns) == ["图层 layer", "字段 field", "shp字段 shp_field"]
    ours = gpd.read_file(shp_out / "classified.gpkg", layer="parcels")
    rows = fields[fields["图层 layer"] == "parcels"]
    assert rows["字段 field"].tolist() == [c for c in ours.columns if c != "geometry"]
    back = pyogrio.read_dataframe(folder / "parcels.shp")
    assert back.columns.tolist()[:-1] == rows["shp字段 shp_field"].tolist()
    assert max(len(c.encode("gb18030")) for c in back.columns) <= 10
    back = back.rename(
        columns=dict(zip(rows["shp字段 shp_field"], rows["字段 field"], strict=True))
    )
    assert back.crs.to_epsg() == 4549
    for col in ("parcel_id", "class", "class_zh", "town", "village", "enterprise"):
        assert back[col].tolist() == ours[col].tolist(), col
    assert (back["area_mu"] - ours["area_mu"]).abs().max() < 1e-9
    assert back.geometry.area.round(6).tolist() == ours.geometry.area.round(6).tolist()
    assert "categorizedSymbol" in (folder / "parcels.qml").read_text(encoding="utf-8")


def test_texts_are_cut_at_a_character_boundary_and_files_are_byte_stable(tmp_path):
    long = "腾挪清退" * 40  # 160 characters, 320 bytes in GB18030
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2"], "reason": [long, "短"]},
        geometry=[rect(0, 0, 10, 10), rect(20, 0, 10, 10)],
        crs=4549,
    )
    digests = []
    for name in ("a", "b"):
        write_shapefiles(tmp_path / name, {"plots": gdf})
        digests.append(
            {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((tmp_path / name).iterdir())
            }
        )
    assert digests[0] == digests[1]
    back = pyogrio.read_dataframe(tmp_path / "a" / "plots.shp")
    assert back["reason"].tolist() == [long[: DBF_TEXT_BYTES // 2], "短"]
