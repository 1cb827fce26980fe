"""Coordinate systems: analysis CRS choice, Gauss–Krüger zones, GCJ-02 (SPEC §2).

Everything is brought to one projected CGCS2000 3-degree Gauss–Krüger CRS at the
door (:mod:`zoning.layers`); nothing downstream reprojects. Web output converts to
WGS84 once at the end.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

#: GCJ-02 has no EPSG code; a layer declared in it uses this name in the config.
GCJ02 = "GCJ-02"
#: CGCS2000 3-degree GK, CM variants: EPSG:4534 (CM 75E) … EPSG:4554 (CM 135E).
GK_CM_FIRST, GK_CM_LAST = 4534, 4554
#: CGCS2000 3-degree GK, zone-prefixed eastings: EPSG:4513 (zone 25) … 4533 (zone 45).
GK_ZONE_FIRST, GK_ZONE_LAST = 4513, 4533
#: China's rough extent in lon/lat, for plausibility checks.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def gk_cm_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3° GK 'CM' CRS whose central meridian is nearest ``lon``."""
    zone_cm = int(np.clip(np.round(lon / 3.0) * 3, 75, 135))
    return GK_CM_FIRST + (zone_cm - 75) // 3


def gk_zone_epsg(zone: int) -> int:
    """EPSG code of the zone-prefixed CGCS2000 3° GK CRS for GK zone number ``zone``."""
    if not 25 <= zone <= 45:
        raise ValueError(f"3-degree GK zone {zone} is outside 25..45 (China)")
    return GK_ZONE_FIRST + zone - 25


def gk_info(crs: pyproj.CRS) -> tuple[str, int] | None:
    """('cm', central meridian) or ('zone', zone number) for a CGCS2000 3° GK CRS, else None."""
    code = crs.to_epsg(min_confidence=100)
    if code is None:
        return None
    if GK_CM_FIRST <= code <= GK_CM_LAST:
        return "cm", 75 + 3 * (code - GK_CM_FIRST)
    if GK_ZONE_FIRST <= code <= GK_ZONE_LAST:
        return "zone", 25 + code - GK_ZONE_FIRST
    return None


def lonlat_bounds(bounds: tuple[float, float, float, float], crs: pyproj.CRS):
    """Bounds (minx, miny, maxx, maxy) in ``crs`` as lon/lat bounds in EPSG:4490."""
    tr = pyproj.Transformer.from_crs(crs, 4490, always_xy=True)
    return tr.transform_bounds(*bounds)


def in_china(lonlat_bounds_: tuple[float, float, float, float]) -> bool:
    """True when lon/lat bounds are finite and lie inside China's rough extent."""
    b = np.asarray(lonlat_bounds_, dtype=float)
    if not np.isfinite(b).all():
        return False
    return bool(
        CHINA_LON[0] <= b[0] <= b[2] <= CHINA_LON[1]
        and CHINA_LAT[0] <= b[1] <= b[3] <= CHINA_LAT[1]
    )


# --- GCJ-02 -------------------------------------------------------------------------
# The published closed-form WGS84 -> GCJ-02 shift (Krasovsky ellipsoid constants).
_A = 6378245.0
_EE = 0.00669342162296594323


def _shift(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dlon, dlat) in degrees that GCJ-02 adds to a WGS84 position."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84 lon/lat to GCJ-02 (closed formula). Arrays in, arrays out."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _shift(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, tol: float = 1e-10, max_iter: int = 30):
    """GCJ-02 lon/lat to WGS84 by fixed-point iteration to ``tol`` degrees (~0.01 mm)."""
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.nanmax(np.abs(np.concatenate([elon.ravel(), elat.ravel(), [0.0]]))) < tol:
            break
    return wlon, wlat


def _apply_xy(geoms, func):
    def f(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, f)


def geoms_gcj02_to_wgs84(geoms):
    """Shift an array of shapely geometries from GCJ-02 to WGS84 lon/lat."""
    return _apply_xy(geoms, gcj02_to_wgs84)


def geoms_wgs84_to_gcj02(geoms):
    """Shift an array of shapely geometries from WGS84 lon/lat to GCJ-02 (display only)."""
    return _apply_xy(geoms, wgs84_to_gcj02)
