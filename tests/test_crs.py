"""CRS helpers: GK zones, analysis CRS choice, GCJ-02 against published pairs."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from zoning import crs as zcrs


@pytest.mark.parametrize(
    "lon,epsg", [(121.25, 4549), (121.6, 4550), (75.0, 4534), (135.0, 4554), (118.4, 4548)]
)
def test_gk_cm_epsg(lon, epsg):
    assert zcrs.gk_cm_epsg(lon) == epsg
    cm = pyproj.CRS.from_epsg(epsg).to_dict()["lon_0"]
    assert abs(cm - lon) <= 1.5


def test_gk_zone_epsg_and_info():
    assert zcrs.gk_zone_epsg(40) == 4528 and zcrs.gk_zone_epsg(41) == 4529
    assert zcrs.gk_info(pyproj.CRS.from_epsg(4528)) == ("zone", 40)
    assert zcrs.gk_info(pyproj.CRS.from_epsg(4549)) == ("cm", 120)
    assert zcrs.gk_info(pyproj.CRS.from_epsg(4326)) is None
    with pytest.raises(ValueError):
        zcrs.gk_zone_epsg(12)


# Published pairs (the closed WGS84 -> GCJ-02 formula as implemented by several libraries).
@pytest.mark.parametrize(
    "wgs,gcj",
    [
        ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
        ((121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705)),
    ],
)
def test_wgs84_to_gcj02_known_pairs(wgs, gcj):
    lon, lat = zcrs.wgs84_to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=2e-7)  # ~2 cm
    assert lat == pytest.approx(gcj[1], abs=2e-7)


def test_gcj02_inverse_is_millimetre_exact_at_cixi():
    rng = np.random.default_rng(0)
    lon = rng.uniform(121.0, 121.6, 1000)
    lat = rng.uniform(30.0, 30.4, 1000)
    g_lon, g_lat = zcrs.wgs84_to_gcj02(lon, lat)
    shift_m = np.hypot((g_lon - lon) * 96_000, (g_lat - lat) * 111_000)
    assert 300 < shift_m.min() and shift_m.max() < 800  # "about 500 m" at Cixi
    b_lon, b_lat = zcrs.gcj02_to_wgs84(g_lon, g_lat)
    assert np.abs(b_lon - lon).max() < 1e-8 and np.abs(b_lat - lat).max() < 1e-8  # < 1 mm


def test_in_china():
    assert zcrs.in_china((121.0, 30.0, 121.6, 30.4))
    assert not zcrs.in_china((30.0, 121.0, 30.4, 121.6))
    assert not zcrs.in_china((np.inf, 30.0, 121.6, 30.4))
