"""Shared builders: tiny hand-made counties in EPSG:4549 near Cixi."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

CRS = 4549
X0, Y0 = 620_000.0, 3_342_000.0  # near 121.25E 30.2N in CGCS2000 GK CM 120E


def rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """Axis-aligned rectangle with its lower-left corner at (X0 + x, Y0 + y)."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def frame(rows: list[dict], crs=CRS) -> gpd.GeoDataFrame:
    """GeoDataFrame from dicts with a 'geometry' key."""
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    """Six plots that hit V1, V2, V3, C1, C2, R1 and R2, plus their context layers."""
    parcels = frame(
        [
            {
                "parcel_id": "P001",
                "town": "浒山街道",
                "village": "东村",
                "enterprise": "甲厂",
                "eco_friendly": False,
                "rural_fusion": False,
                "built_year": 2005,
                "geometry": rect(0, 0, 100, 50),
            },  # inside, 30 m from park T1 -> C1
            {
                "parcel_id": "P002",
                "town": "浒山街道",
                "village": "东村",
                "enterprise": "乙厂",
                "eco_friendly": False,
                "rural_fusion": False,
                "built_year": 2010,
                "geometry": rect(0, 1000, 100, 50),
            },  # inside, far from parks -> C2
            {
                "parcel_id": "P003",
                "town": "宗汉街道",
                "village": "西村",
                "enterprise": "丙厂",
                "eco_friendly": True,
                "rural_fusion": False,
                "built_year": 2010,
                "geometry": rect(3000, 0, 50, 50),
            },  # outside, eco, 3.75 mu -> R2
            {
                "parcel_id": "P004",
                "town": "宗汉街道",
                "village": "西村",
                "enterprise": "丁厂",
                "eco_friendly": False,
                "rural_fusion": False,
                "built_year": 2010,
                "geometry": rect(3000, 1000, 100, 100),
            },  # outside -> V2
            {
                "parcel_id": "P005",
                "town": "宗汉街道",
                "village": "南村",
                "enterprise": "戊厂",
                "eco_friendly": False,
                "rural_fusion": False,
                "built_year": 2010,
                "geometry": rect(3000, 2000, 40, 40),
            },  # in cluster K1 -> R1
            {
                "parcel_id": "P006",
                "town": "浒山街道",
                "village": "东村",
                "enterprise": "己厂",
                "eco_friendly": False,
                "rural_fusion": False,
                "built_year": 2023,
                "geometry": rect(0, 2000, 40, 40),
            },  # built 2023 -> V3
            {
                "parcel_id": "P007",
                "town": "宗汉街道",
                "village": "北村",
                "enterprise": "庚厂",
                "eco_friendly": True,
                "rural_fusion": True,
                "built_year": 2000,
                "geometry": rect(3000, 3000, 40, 40),
            },  # in protected land -> V1
        ]
    )
    return {
        "parcels": parcels,
        "dev_boundary": frame([{"geometry": rect(-500, -500, 2000, 3000)}]),
        "township_parks": frame(
            [
                {"park_id": "T1", "name": "浒山工业园", "geometry": rect(130, 0, 300, 300)},
                {"park_id": "T2", "name": "宗汉工业园", "geometry": rect(6000, 0, 300, 300)},
            ]
        ),
        "cluster_points": frame(
            [{"cluster_id": "K1", "name": "南村集聚点", "geometry": rect(2990, 1990, 100, 100)}]
        ),
        "protected": frame([{"kind": "生态保护红线", "geometry": rect(2990, 2990, 100, 100)}]),
        "towns": frame(
            [
                {"town": "浒山街道", "geometry": rect(-1000, -1000, 2500, 4500)},
                {"town": "宗汉街道", "geometry": rect(1500, -1000, 5000, 4500)},
            ]
        ),
    }


def with_village_park(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Add P008, 5 m from P002: the two form a village park of two plots."""
    import pandas as pd

    extra = frame(
        [
            {
                "parcel_id": "P008",
                "town": "浒山街道",
                "enterprise": "辛厂",
                "geometry": rect(105, 1000, 50, 50),
            }
        ]
    )
    layers["parcels"] = pd.concat([layers["parcels"], extra], ignore_index=True)
    return layers


EXPECTED_TINY = {
    "P001": "C1",
    "P002": "C2",
    "P003": "R2",
    "P004": "V2",
    "P005": "R1",
    "P006": "V3",
    "P007": "V1",
}


def write_gpkg(path, layers: dict[str, gpd.GeoDataFrame]) -> str:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return str(path)


@pytest.fixture
def tiny_gpkg(tmp_path):
    """The tiny county as one GeoPackage with SPEC §3 layer names."""
    return write_gpkg(tmp_path / "tiny.gpkg", tiny_layers())


# --- a ledger of the tiny county (SPEC §8), shared by the ledger tests -------------------


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """The tiny county classified by the real command line, once per test module."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("cls")
    path = write_gpkg(root / "in.gpkg", tiny_layers())
    res = subprocess.run(
        [sys.executable, "-m", "zoning", "classify", path, "--out", str(root / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return root / "out"


@pytest.fixture
def ledger(classified, tmp_path):
    """A new ledger of the tiny county's seven plots."""
    from zoning.outputs import init_ledger

    path = tmp_path / "ledger.gpkg"
    assert init_ledger(path, classified) == 7
    return path


def sheet(tmp_path, rows, name="may.csv", columns=("kind", "item_id", "status", "date", "note")):
    """A town's update sheet as a UTF-8 CSV with a BOM (as Excel writes it)."""
    import pandas as pd

    path = tmp_path / name
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False, encoding="utf-8-sig")
    return path
