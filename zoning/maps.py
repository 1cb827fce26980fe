"""Interactive HTML maps for meetings (folium/Leaflet), offline by default.

The page is a folium map whose layers are drawn by a small script of ours
(``_assets/zoning_map.js``) from one JSON payload: canvas rendering, a legend with count
and mu per class, layer control, scale bar, fullscreen, search by plot id or enterprise,
popups in Chinese (or English). Text from the data reaches the page only through
``textContent``; the payload is embedded with every ``<`` escaped, so no value can close
the script (SPEC §7; FIELD-NOTES on folium escaping). Offline pages inline Leaflet from
the pinned ``xstatic-leaflet`` package and load no tiles unless a basemap is asked for
(SPEC §9). It takes frames (:func:`zoning.outputs.read_classified` reads a folder);
it reads no folders and no ledger.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from . import crs as zcrs
from ._io import write_text
from .errors import ZoningError
from .measures import to_mu
from .vocab import (
    CLASS_EN,
    CLASS_ZH,
    CLASSES,
    FIX_EN,
    FIX_ZH,
    LANGS,
    PALETTE,
    RULE_TEXT,
    RULE_ZH,
    STATUS_EN,
    STATUS_GROUP_EN,
    STATUS_GROUP_ZH,
    STATUS_GROUPS,
    STATUS_ZH,
    TOTAL,
    WORKSHOP_CLASS_EN,
    WORKSHOP_CLASS_ZH,
    WORKSHOP_PALETTE,
)

WORKSHOP_FIELDS = [
    "workshop_id",
    "class_name",
    "fixes",
    "parcel_id",
    "target_micro_park_id",
    "distance_m",
    "town",
    "village",
    "reason",
]
PLOT_FIELDS = [
    "parcel_id",
    "class_name",
    "rule_text",
    "reason",
    "target_id",
    "town",
    "village",
    "enterprise",
    "grade",
    "industry",
    "area_mu",
    "status_name",
    "last_event",
    "computed_name",
]
TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "fields": {
            "parcel_id": "地块编号",
            "class_name": "分类",
            "rule_text": "规则",
            "reason": "依据",
            "target_id": "目标园区/集聚点",
            "town": "镇街",
            "village": "村",
            "enterprise": "企业",
            "industry": "行业",
            "area_mu": "面积（亩）",
            "grade": "亩均等级",
            "park_id": "园区编号",
            "cluster_id": "集聚点编号",
            "name": "名称",
            "kind": "类型",
            "village_park_id": "村级园区",
            "plots": "地块数",
            "linked_park_id": "连片园区",
            "workshop_id": "作坊编号",
            "fixes": "待整改",
            "target_micro_park_id": "安置小微园",
            "distance_m": "距离（米）",
            "micro_park_id": "小微园编号",
            "capacity_m2": "可用空间（㎡）",
            "used_m2": "本次安置（㎡）",
            "remaining_m2": "剩余（㎡）",
            "status_name": "进度",
            "last_event": "最近更新",
            "computed_name": "调整前测算分类",
        },
        "layers": {
            "towns": "镇街",
            "workshops": "家庭作坊",
            "micro_parks": "小微企业园",
            "workshop_links": "作坊安置连线",
            "protected": "生态保护红线/永久基本农田",
            "dev_boundary": "城镇开发边界",
            "township_parks": "镇级工业园区",
            "cluster_points": "村级工业集聚点",
            "village_parks": "村级工业园区（连片地块）",
            "links": "纳入园区连线",
        },
        "legendTitle": "村级工业用地分类",
        "plots": "块",
        "mu": "亩",
        "fullscreen": "全屏",
        "back": "← 返回镇街目录",
        "layersTitle": "图层",
        "searchPlaceholder": "搜索地块编号或企业名称",
        "classes": CLASS_ZH,
        "rules": RULE_ZH,
        "workshopClasses": WORKSHOP_CLASS_ZH,
        "title": "村级工业用地分类",
        "colourBy": {"class": "按分类着色", "status": "按整治进度着色"},
        "statusTitle": "整治进度",
        "statusGroups": STATUS_GROUP_ZH,
        "statuses": STATUS_ZH,
    },
    "en": {
        "fields": {
            "parcel_id": "Plot",
            "class_name": "Class",
            "rule_text": "Rule",
            "reason": "Reason",
            "target_id": "Target",
            "town": "Town",
            "village": "Village",
            "enterprise": "Enterprise",
            "industry": "Industry",
            "area_mu": "Area (mu)",
            "grade": "Per-mu grade",
            "park_id": "Park",
            "cluster_id": "Cluster point",
            "name": "Name",
            "kind": "Kind",
            "village_park_id": "Village park",
            "plots": "Plots",
            "linked_park_id": "Contiguous with",
            "workshop_id": "Workshop",
            "fixes": "Fixes owed",
            "target_micro_park_id": "Micro park",
            "distance_m": "Distance (m)",
            "micro_park_id": "Micro park",
            "capacity_m2": "Free space (m²)",
            "used_m2": "Placed (m²)",
            "remaining_m2": "Remaining (m²)",
            "status_name": "Progress",
            "last_event": "Last update",
            "computed_name": "Computed class (before adjustment)",
        },
        "layers": {
            "towns": "Towns",
            "workshops": "Household workshops",
            "micro_parks": "Micro-enterprise parks",
            "workshop_links": "Workshop placements",
            "protected": "Protected land",
            "dev_boundary": "Urban development boundary",
            "township_parks": "Township industrial parks",
            "cluster_points": "Village cluster points",
            "village_parks": "Village parks (linked plots)",
            "links": "Lines to target park",
        },
        "legendTitle": "Village industrial land",
        "plots": "plots",
        "mu": "mu",
        "fullscreen": "Full screen",
        "searchPlaceholder": "Search plot id or enterprise",
        "back": "← Back to the list of towns",
        "layersTitle": "Layers",
        "classes": CLASS_EN,
        "rules": RULE_TEXT,
        "title": "Village industrial land",
        "workshopClasses": WORKSHOP_CLASS_EN,
        "colourBy": {"class": "Colour by class", "status": "Colour by progress"},
        "statusTitle": "Progress",
        "statusGroups": STATUS_GROUP_EN,
        "statuses": STATUS_EN,
    },
}
#: layer -> (popup fields, Leaflet path style, shown at start); drawn in this order.
CONTEXT = {
    "towns": (None, {"color": "#555555", "weight": 1, "fill": False}, True),
    "protected": (
        ["kind"],
        {"color": "#4D9221", "weight": 0.5, "fillColor": "#A6DBA0", "fillOpacity": 0.35},
        True,
    ),
    "dev_boundary": (
        None,
        {
            "color": "#7B3294",
            "weight": 1.5,
            "dashArray": "6 4",
            "fillColor": "#7B3294",
            "fillOpacity": 0.05,
        },
        True,
    ),
    "township_parks": (
        ["park_id", "name", "town"],
        {"color": "#000000", "weight": 1.5, "fillColor": "#56B4E9", "fillOpacity": 0.25},
        True,
    ),
    "cluster_points": (
        ["cluster_id", "name", "town"],
        {"color": "#E69F00", "weight": 1.5, "fillColor": "#F0E442", "fillOpacity": 0.3},
        True,
    ),
    "village_parks": (
        ["village_park_id", "plots", "area_mu", "linked_park_id"],
        {"color": "#333333", "weight": 0.8, "fill": False, "opacity": 0.6},
        False,
    ),
}
BASEMAPS = ("none", "osm", "tianditu", "gaode", "tianditu-img", "gaode-img")
#: The outline of the town a per-town page shows.
HIGHLIGHT_STYLE = {"color": "#D7191C", "weight": 3, "fill": False, "opacity": 0.9}
LEAFLET_JS = re.compile(r'<script src="[^"]*/leaflet(?:@[\d.]+)?/dist/leaflet\.js"></script>')
LEAFLET_CSS = re.compile(
    r'<link rel="stylesheet" href="[^"]*/leaflet(?:@[\d.]+)?/dist/'
    r'leaflet\.css"\s*/?>'
)


def escape_text(value) -> str:
    r"""HTML-escape a value and neutralise template-literal characters (` $ \)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def script_json(data) -> str:
    """JSON that is safe inside a <script> element: every '<' is escaped."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


# --- data --------------------------------------------------------------------------


def _web(gdf: gpd.GeoDataFrame, gcj02: bool, decimals: int) -> gpd.GeoDataFrame:
    """WGS84 lon/lat (or GCJ-02 for a Gaode basemap) rounded to ``decimals``."""
    out = gdf[~shapely.is_missing(gdf.geometry.array) & ~gdf.geometry.is_empty].to_crs(4326)
    geoms = np.asarray(out.geometry.array, dtype=object)
    if gcj02:
        geoms = zcrs.geoms_wgs84_to_gcj02(geoms)
    geoms = shapely.transform(geoms, lambda c: np.round(c, decimals))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))


def _collection(gdf: gpd.GeoDataFrame, fields: list[str]) -> dict:
    """A GeoJSON FeatureCollection with only ``fields`` as properties (nothing else leaks)."""
    cols = [f for f in fields if f in gdf.columns]
    props = gdf[cols].astype(object).where(gdf[cols].notna(), None)
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.array, dtype=object))
    features = [
        {"type": "Feature", "properties": p, "geometry": json.loads(g)}
        for p, g in zip(props.to_dict("records"), geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def link_lines(parcels: gpd.GeoDataFrame, parks: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Lines from each consolidated plot's centre to the nearest point of its target park."""
    if parks is None or not len(parks):
        return gpd.GeoDataFrame({"parcel_id": []}, geometry=[], crs=parcels.crs)
    cons = parcels[
        (parcels["class"] == "consolidate") & parcels["target_id"].isin(parks["park_id"])
    ]
    park_geom = parks.set_index("park_id").geometry.reindex(cons["target_id"]).array
    centre = shapely.point_on_surface(np.asarray(cons.geometry.array, dtype=object))
    lines = shapely.shortest_line(centre, np.asarray(park_geom, dtype=object))
    keep = shapely.length(lines) > 0
    return gpd.GeoDataFrame(
        {
            "parcel_id": cons["parcel_id"].to_numpy()[keep],
            "target_id": cons["target_id"].to_numpy()[keep],
        },
        geometry=lines[keep],
        crs=parcels.crs,
    )


def basemap_tiles(name: str) -> list[dict]:
    """Tile layers for a basemap name (:data:`BASEMAPS`): vector maps or imagery with
    their labels over it (``tianditu-img``: img + cia; ``gaode-img``: GCJ-02)."""
    if name == "none":
        return []
    if name == "osm":
        return [
            {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "subdomains": "abc",
                "attribution": "© OpenStreetMap contributors",
            }
        ]
    if name == "gaode-img":  # satellite imagery with roads and names over it (GCJ-02)
        return [
            {
                "url": "https://webst0{s}.is.autonavi.com/appmaptile?style="
                + style
                + "&x={x}&y={y}&z={z}",
                "subdomains": "1234",
                "attribution": "© 高德地图 (GCJ-02)",
            }
            for style in ("6", "8")
        ]
    if name == "gaode":
        return [
            {
                "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&"
                "scale=1&style=8&x={x}&y={y}&z={z}",
                "subdomains": "1234",
                "attribution": "© 高德地图 (GCJ-02)",
            }
        ]
    if name in ("tianditu", "tianditu-img"):
        token = os.environ.get("TIANDITU_TOKEN", "").strip()
        if not token:
            raise ZoningError(
                "the Tianditu basemap needs a key in the environment variable TIANDITU_TOKEN"
            )
        wmts = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&"
            "VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&"
            "TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tk}"
        )
        return [
            {
                "url": wmts.format(s="{s}", layer=layer, tk=token),
                "subdomains": "01234567",
                "attribution": "© 天地图",
            }
            for layer in (("img", "cia") if name == "tianditu-img" else ("vec", "cva"))
        ]
    raise ZoningError(f"unknown basemap {name!r} (choose from {', '.join(BASEMAPS)})")


def map_payload(
    data: dict[str, gpd.GeoDataFrame],
    lang: str = "zh",
    basemap: str = "none",
    links: bool = True,
    decimals: int = 6,
) -> dict:
    """Everything the page script draws, as plain JSON-able data (WGS84 or GCJ-02)."""
    if lang not in TEXT:
        raise ZoningError(f"unknown language {lang!r} (choose from {', '.join(TEXT)})")
    text = TEXT[lang]
    gcj = basemap in ("gaode", "gaode-img")
    parcels = in_language(data["parcels"], lang)
    if "target_id" in parcels:  # the target park by name (and id), not by id alone
        names = target_names(data)
        target = parcels["target_id"].astype(object).where(parcels["target_id"].notna(), "")
        named = target.astype(str).map(names).astype(object).fillna("").astype(str)
        parcels["target_id"] = (named + "（" + target.astype(str) + "）").where(named != "", target)
    exact_mu = to_mu(parcels["area_m2"].astype(float).fillna(0.0))
    parcels["area_mu"] = exact_mu.round(2)  # display only; sums use the exact values
    web = _web(parcels, gcj, decimals)
    status = status_groups(parcels, web, exact_mu, text)
    if status:
        web["status_name"] = parcels["status"].map(text["statuses"]).fillna("")
    if "computed_class" in parcels:
        web["computed_name"] = parcels["computed_class"].map(text["classes"]).fillna("")
    classes = []
    for c in CLASSES:
        part = web[web["class"] == c]
        is_c = (parcels["class"] == c).to_numpy()
        if not is_c.any():
            continue
        classes.append(
            {
                "key": c,
                "name": text["classes"][c],
                "color": PALETTE[c],
                "count": int(is_c.sum()),
                "mu": float(exact_mu[is_c].sum()),
                "label": f"{text['classes'][c]} ({int(is_c.sum())})",
                "data": _collection(part, ["parcel_id", "class", "rule", "sg", *PLOT_FIELDS[3:]]),
            }
        )
    context = context_payload(data, text, gcj, decimals)
    payload: dict[str, Any] = {
        "text": text,
        "status": status,
        "plotFields": PLOT_FIELDS,
        "classes": classes,
        "context": context,
        "contextOrder": list(context),
        "basemap": basemap_tiles(basemap),
    }
    if links:
        lines = _web(link_lines(data["parcels"], data.get("township_parks")), gcj, decimals)
        if len(lines):
            payload["links"] = {
                "label": text["layers"]["links"],
                "data": _collection(lines, ["parcel_id", "target_id"]),
            }
    if data.get("workshops") is not None and len(data["workshops"]):
        payload["workshops"] = workshop_payload(
            in_language(data["workshops"], lang), data.get("micro_parks"), text, gcj, decimals
        )
    payload.update(block_payload(data, lang, gcj, decimals))  # SPEC §11, when given
    if len(web):
        b = web.total_bounds
        payload["bounds"] = [[b[1], b[0]], [b[3], b[2]]]
    return payload


def context_payload(
    data: dict[str, gpd.GeoDataFrame], text: dict, gcj: bool, decimals: int
) -> dict:
    """The context layers the data has (boundary, protected land, parks …), each with its
    label, style, popup fields and features; one-plot village parks left out (a plot's
    own outline)."""
    context = {}
    for name, (fields, style, show) in CONTEXT.items():
        gdf = data.get(name)
        if name == "village_parks" and gdf is not None and "plots" in gdf:
            gdf = gdf[gdf["plots"] > 1]
        if gdf is None or not len(gdf):
            continue
        context[name] = {
            "label": text["layers"][name],
            "style": style,
            "show": show,
            "popupFields": fields,
            "data": _collection(_web(gdf, gcj, decimals), fields or []),
        }
    return context


def target_names(data: dict[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """Park and cluster point names by id (township parks, cluster points), for popups."""
    if "target_names" in data:  # a per-town page: the names of the whole county
        return data["target_names"]
    out: dict[str, str] = {}
    for layer, key in (("cluster_points", "cluster_id"), ("township_parks", "park_id")):
        gdf = data.get(layer)
        if gdf is not None and key in gdf and "name" in gdf:
            names = gdf[[key, "name"]].dropna()
            out.update(zip(names[key].astype(str), names["name"].astype(str), strict=True))
    return out


def status_groups(
    parcels: pd.DataFrame, web: gpd.GeoDataFrame, exact_mu: pd.Series, text: dict
) -> dict | None:
    """Ledger progress per plot as three groups (not started / under way / done): each
    plot feature gets its group key ``sg``; the page can colour the plots by it."""
    if "status" not in parcels or parcels["status"].isna().all():
        return None
    group = pd.Series(
        np.where(
            parcels["status_final"].fillna(False).astype(bool),
            "final",
            parcels["status"].fillna("pending").astype(str),
        ),
        index=parcels.index,
    )
    web["sg"] = group
    groups = []
    for key, color in STATUS_GROUPS.items():
        is_g = (group == key).to_numpy()
        if is_g.any():
            groups.append(
                {
                    "key": key,
                    "name": text["statusGroups"][key],
                    "color": color,
                    "count": int(is_g.sum()),
                    "mu": float(exact_mu[is_g].sum()),
                }
            )
    return {"title": text["statusTitle"], "groups": groups}


def workshop_payload(
    workshops: gpd.GeoDataFrame,
    micro_parks: gpd.GeoDataFrame | None,
    text: dict,
    gcj: bool,
    decimals: int,
) -> dict:
    """Workshops as compact columns (one entry per point), micro parks and placement lines."""
    web = _web(workshops, gcj, decimals)
    if (
        micro_parks is not None
        and {"micro_park_id", "name"} <= set(micro_parks.columns)
        and "target_micro_park_id" in web
    ):
        known = micro_parks.dropna(subset=["micro_park_id", "name"])
        names = pd.Series(
            known["name"].astype(str).to_numpy(), index=known["micro_park_id"].astype(str)
        )
        names = names[~names.index.duplicated()]
        target = web["target_micro_park_id"].fillna("").astype(str)
        named = target.map(names).astype(object).fillna("").astype(str)
        web["target_micro_park_id"] = (named + "（" + target + "）").where(named != "", target)
    classes = [c for c in (*WORKSHOP_PALETTE,) if (web["class"] == c).any()]
    code = {c: i for i, c in enumerate(classes)}
    columns: dict[str, object] = {}
    for f in WORKSHOP_FIELDS:
        if f not in web or f == "class_name":
            continue
        values = web[f].astype(object).where(web[f].notna(), "")
        if f == "distance_m":
            values = values.map(lambda v: round(v) if isinstance(v, float) else v)
        codes, uniques = pd.factorize(values.astype(str))
        if len(uniques) * 2 < len(values):  # repeated text: send each value once
            columns[f] = {"values": list(uniques), "codes": codes.tolist()}
        else:
            columns[f] = values.tolist()
    out = {
        "label": text["layers"]["workshops"],
        "classes": [
            {
                "key": c,
                "name": text["workshopClasses"][c],
                "color": WORKSHOP_PALETTE[c],
                "count": int((web["class"] == c).sum()),
            }
            for c in classes
        ],
        "lon": web.geometry.x.tolist(),
        "lat": web.geometry.y.tolist(),
        "cls": [code[c] for c in web["class"]],
        "columns": columns,
        "fields": WORKSHOP_FIELDS,
    }
    out.update(risk_payload(web, text))  # SPEC §12: the three-in-one risk switch
    if micro_parks is not None and len(micro_parks):
        fields = ["micro_park_id", "name", "town", "capacity_m2", "used_m2", "remaining_m2"]
        out["microParks"] = {
            "label": text["layers"]["micro_parks"],
            "fields": fields,
            "data": _collection(_web(micro_parks, gcj, decimals), fields),
        }
        placed = workshops[workshops["target_micro_park_id"].fillna("") != ""]
        parks = micro_parks.set_index("micro_park_id").geometry
        if len(placed):
            target = np.asarray(parks.reindex(placed["target_micro_park_id"]).array, dtype=object)
            lines = shapely.shortest_line(np.asarray(placed.geometry.array, dtype=object), target)
            keep = ~shapely.is_missing(lines)
            lines = gpd.GeoDataFrame(
                {"workshop_id": placed["workshop_id"].to_numpy()[keep]},
                geometry=lines[keep],
                crs=workshops.crs,
            )
            lines = lines[shapely.length(lines.geometry.array) > 0]
            out["links"] = {
                "label": text["layers"]["workshop_links"],
                "data": _collection(_web(lines, gcj, decimals), ["workshop_id"]),
            }
    return out


# --- page --------------------------------------------------------------------------


class _Literal(Element):
    """Markup put into the page as it is, never read as a template.

    folium/branca render every element through Jinja2: markup given to ``Element(...)``
    is template *source*, so a town named ``{{ 6*7 }}`` would print 42 and
    ``{{ lipsum.__globals__... }}`` would run code. Here the markup is a template
    *variable*; Jinja prints it without evaluating it. Data in it must already be escaped
    for HTML (:func:`escape_text`); our own assets go in as they are.
    """

    _template = Template("{{ this.markup }}")

    def __init__(self, markup: str):
        super().__init__()
        self._name = "Literal"
        self.markup = markup


class _ZoningLayers(MacroElement):
    """Calls zoningMap(map, payload) once the folium map variable exists.

    branca's ``MacroElement.render`` wraps a macro's output in ``Element(...)``, which
    compiles it as a template a second time: the payload (town names, enterprises ...)
    would be template source. The call is put into the page's script as a
    :class:`_Literal` instead.
    """

    def __init__(self, payload: dict):
        super().__init__()
        self._name = "ZoningLayers"
        self.payload = script_json(payload)

    def render(self, **kwargs):
        call = f"zoningMap({self._parent.get_name()}, {self.payload});"
        self.get_root().script.add_child(_Literal(call), name=self.get_name())


def _asset(name: str) -> str:
    return resources.files("zoning").joinpath("_assets", name).read_text(encoding="utf-8")


def build_map(
    data: dict[str, gpd.GeoDataFrame],
    lang: str = "zh",
    basemap: str = "none",
    title: str | None = None,
    links: bool = True,
    decimals: int = 6,
    town: str | None = None,
    back: str | None = None,
) -> folium.Map:
    """A folium map of a classification: every layer, legend, search, popups.

    Parameters
    ----------
    data
        Layers as returned by :func:`zoning.outputs.read_classified` (``parcels`` required).
    lang
        ``"zh"`` (default) or ``"en"`` for popups, legend and layer names.
    basemap
        ``none`` (plain background, no network), ``osm``, ``tianditu`` (key from
        ``TIANDITU_TOKEN``) or ``gaode`` (data shifted to GCJ-02 to sit on its streets);
        ``tianditu-img`` and ``gaode-img`` are their imagery with labels.
    town
        The town a per-town page shows: its outline is drawn highlighted and named.
    back
        A link (relative URL) the page offers back to, e.g. ``index.html``.
    """
    payload = map_payload(data, lang, basemap, links, decimals)
    towns = data.get("towns")
    if town is not None and towns is not None and "town" in towns:
        mine = towns[towns["town"] == town]
        if len(mine):
            payload["highlight"] = {
                "name": town,
                "style": HIGHLIGHT_STYLE,
                "data": _collection(_web(mine, basemap in ("gaode", "gaode-img"), decimals), []),
            }
    if back:
        payload["back"] = {"href": back, "text": TEXT[lang]["back"]}
    fmap = folium.Map(tiles=None, prefer_canvas=True, control_scale=False, zoom_control=True)
    fmap.default_js = [js for js in fmap.default_js if js[0] == "leaflet"]
    fmap.default_css = [css for css in fmap.default_css if css[0] == "leaflet_css"]
    root: Any = fmap.get_root()  # a branca Figure (header, html)
    title = title or TEXT[lang]["title"]
    root.header.add_child(_Literal(f"<title>{escape_text(title)}</title>"))
    root.header.add_child(_Literal("<style>" + _asset("zoning_map.css") + "</style>"))
    root.header.add_child(_Literal("<script>" + _asset("zoning_map.js") + "</script>"))
    if "workshops" in payload:
        cluster = markercluster_assets()
        root.header.add_child(_Literal("<style>" + cluster["css"] + "</style>"))
        # in the body, so it runs after Leaflet (loaded in the header)
        root.html.add_child(_Literal("<script>" + cluster["js"] + "</script>"))
    root.html.add_child(_Literal(f'<div class="zoning-title">{escape_text(title)}</div>'))
    fmap.add_child(_ZoningLayers(payload))
    return fmap


def leaflet_assets() -> dict[str, str]:
    """Leaflet's JS and CSS from the pinned ``xstatic-leaflet`` package (the version
    folium uses), with the CSS images as data URIs: nothing is fetched at run time."""
    from xstatic.pkg import leaflet

    base = Path(leaflet.BASE_DIR)

    def data_uri(match: re.Match) -> str:
        img = base / match.group(1)
        return "url(data:image/png;base64," + base64.b64encode(img.read_bytes()).decode() + ")"

    css = re.sub(
        r"url\((images/[\w.-]+\.png)\)",
        data_uri,
        (base / "leaflet.css").read_text(encoding="utf-8"),
    )
    return {"leaflet_js": (base / "leaflet.js").read_text(encoding="utf-8"), "leaflet_css": css}


def markercluster_assets() -> dict[str, str]:
    """Leaflet.markercluster's JS and CSS from the pinned ``xstatic-leaflet-markercluster``."""
    from xstatic.pkg import leaflet_markercluster

    base = Path(leaflet_markercluster.BASE_DIR)
    css = "\n".join(
        (base / f).read_text(encoding="utf-8")
        for f in ("MarkerCluster.css", "MarkerCluster.Default.css")
    )
    return {"js": (base / "leaflet.markercluster.js").read_text(encoding="utf-8"), "css": css}


def inline_assets(page: str) -> str:
    """Replace Leaflet's CDN links in a rendered page by the files' contents."""
    assets = leaflet_assets()
    page, n_js = LEAFLET_JS.subn(lambda _m: "<script>" + assets["leaflet_js"] + "</script>", page)
    page, n_css = LEAFLET_CSS.subn(lambda _m: "<style>" + assets["leaflet_css"] + "</style>", page)
    if n_js != 1 or n_css != 1:
        raise RuntimeError("could not find Leaflet's links in the folium page to inline them")
    return page


def write_map(fmap: folium.Map, target: str | os.PathLike, offline: bool = True) -> Path:
    """Render a map to one HTML file, atomically; offline pages inline every asset."""
    page = fmap.get_root().render()
    if offline:
        page = inline_assets(page)
    write_text(target, page)
    return Path(target)


class NotebookMap:
    """A map shown inline in a notebook as a self-contained iframe (works offline)."""

    def __init__(self, fmap: folium.Map, height: int = 560):
        self.page = inline_assets(fmap.get_root().render())
        self.height = height

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" '
            f'style="width:100%;height:{self.height}px;border:1px solid #ccc"></iframe>'
        )


def show(fmap: folium.Map, height: int = 560) -> NotebookMap:
    """Display a map inline in Jupyter with Leaflet inlined (no CDN needed)."""
    return NotebookMap(fmap, height)


# --- per town ----------------------------------------------------------------------


def town_file(town: str) -> str:
    """The town's page: its name made safe for a file name (:func:`zoning._io.safe_stem`:
    ``浒山街道.html``; a hash is added where characters had to go), stable per name."""
    from ._io import safe_stem

    return safe_stem(town) + ".html"


def town_data(data: dict[str, gpd.GeoDataFrame], town: str) -> dict[str, gpd.GeoDataFrame]:
    """The layers of one town: its plots and village parks, context near them."""
    parcels = data["parcels"][data["parcels"]["town"].fillna("") == town]
    out = {"parcels": parcels, "target_names": target_names(data)}
    if "village_parks" in data:
        vp = data["village_parks"]
        out["village_parks"] = vp[vp["village_park_id"].isin(parcels["village_park_id"])]
    if len(parcels):
        x0, y0, x1, y1 = parcels.total_bounds
        pad = 0.1 * max(x1 - x0, y1 - y0, 1000.0)
        window = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    else:
        window = None
    if data.get("workshops") is not None:
        ws = data["workshops"]
        out["workshops"] = ws[ws["town"].fillna("") == town]
        out["micro_parks"] = data.get("micro_parks")
    for name in BLOCK_LAYERS:  # SPEC §11: the town's blocks and freed sites
        if data.get(name) is not None and "town" in data[name]:
            out[name] = data[name][data[name]["town"].fillna("") == town]
    for name in CONTEXT:
        if name in ("village_parks",) or name not in data:
            continue
        gdf = data[name]
        if name == "towns" and window is None:
            out[name] = gdf[gdf["town"] == town] if "town" in gdf else gdf.iloc[:0]
        elif window is not None:  # the town and its neighbours (for the highlight)
            out[name] = gdf[shapely.intersects(gdf.geometry.array, window)]
    return out


def class_table(parcels: pd.DataFrame) -> pd.DataFrame:
    """Plots and mu per town and class (for the index page)."""
    p = parcels.assign(
        town=parcels["town"].fillna("").astype(str),
        area_mu=to_mu(parcels["area_m2"].astype(float).fillna(0.0)),
    )
    counts = p.pivot_table(
        index="town", columns="class", values="area_mu", aggfunc="size", fill_value=0
    )
    mu = p.pivot_table(
        index="town", columns="class", values="area_mu", aggfunc="sum", fill_value=0.0
    )
    present = [c for c in CLASSES if c in counts.columns]
    return pd.concat({"plots": counts[present], "mu": mu[present]}, axis=1)


def index_page(table: pd.DataFrame, files: dict[str | None, str], lang: str, title: str) -> str:
    """maps/index.html: towns with counts and mu per class, linking to each town's map."""
    text = TEXT[lang]
    classes = list(table["plots"].columns)
    head = "".join(
        f'<th colspan="2" style="border-bottom:3px solid {PALETTE[c]}">'
        f"{escape_text(text['classes'][c])}</th>"
        for c in classes
    )
    sub = "".join(
        f"<th>{escape_text(text['plots'])}</th><th>{escape_text(text['mu'])}</th>" for _ in classes
    )
    rows = []
    for town in table.index:
        cells = "".join(
            f"<td>{int(table.loc[town, ('plots', c)])}</td>"
            f"<td>{table.loc[town, ('mu', c)]:.2f}</td>"
            for c in classes
        )
        name = escape_text(town or "—")
        rows.append(f'<tr><td><a href="{escape_text(files[town])}">{name}</a></td>{cells}</tr>')
    total = "".join(
        f"<td>{int(table[('plots', c)].sum())}</td><td>{table[('mu', c)].sum():.2f}</td>"
        for c in classes
    )
    town_word = "镇街" if lang == "zh" else "Town"
    total_word = TOTAL if lang == "zh" else "Total"
    all_word = "全市地图" if lang == "zh" else "Whole county"
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape_text(title)}</title>
<style>
body {{ font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  margin: 24px; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th {{ background: #f2f2f2; text-align: center; }}
td:first-child {{ text-align: left; }}
tfoot td {{ font-weight: bold; }}
</style></head><body>
<h1>{escape_text(title)}</h1>
<p><a href="{escape_text(files[None])}">{all_word}</a></p>
<table><thead><tr><th rowspan="2">{town_word}</th>{head}</tr><tr>{sub}</tr></thead>
<tbody>{"".join(rows)}</tbody><tfoot><tr><td>{total_word}</td>{total}</tr></tfoot></table>
</body></html>
"""


def write_town_maps(
    data: dict[str, gpd.GeoDataFrame],
    out_dir: str | os.PathLike,
    lang: str = "zh",
    basemap: str = "none",
    offline: bool = True,
    title: str | None = None,
    links: bool = True,
    progress=None,
) -> Path:
    """``index.html`` plus one map per town (and the whole county) in ``out_dir``;
    ``progress`` (a callable taking a message) hears of each page as it is written."""
    out_dir = Path(out_dir)
    title = title or TEXT[lang]["title"]
    report = progress or (lambda _message: None)
    parcels = data["parcels"]
    table = class_table(parcels)
    files: dict[str | None, str] = {None: "county.html"}
    report(f"building the county map ({len(parcels)} plots)")
    # no link back on the county page: the demo copies it away from the index
    write_map(build_map(data, lang, basemap, title, links), out_dir / files[None], offline)
    for i, town in enumerate(table.index, start=1):
        files[town] = town_file(town)
        one = town_data(data, town)
        report(f"town map {i}/{len(table)}: {len(one['parcels'])} plots -> {files[town]}")
        write_map(
            build_map(one, lang, basemap, f"{title} · {town}", links, town=town, back="index.html"),
            out_dir / files[town],
            offline,
        )
    index = out_dir / "index.html"
    write_text(index, index_page(table, files, lang, title))
    return index


def fix_names(fixes: pd.Series, lang: str = "zh") -> pd.Series:
    """The fixes a workshop owes (codes joined by ';', SPEC §6) by name in ``lang``,
    joined by '、' (zh) or ', ' (en), vectorised."""
    names, sep = (FIX_ZH, "、") if lang == "zh" else (FIX_EN, ", ")
    out = fixes.astype(object).where(fixes.notna(), "").astype(str)
    for code, name in names.items():
        out = out.str.replace(rf"\b{code}\b", name, regex=True)
    return out.str.replace(";", sep, regex=False)


def in_language(frame: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """A copy with the texts a popup shows in ``lang``: ``reason`` from ``reason_<lang>``
    where the output was written in the other language, ``fixes`` by name."""
    frame = frame.copy()
    other = [x for x in LANGS if x != lang]
    if f"reason_{lang}" in frame and other and f"reason_{other[0]}" not in frame:
        frame["reason"] = frame[f"reason_{lang}"]
    if "fixes" in frame:
        frame["fixes"] = fix_names(frame["fixes"], lang)
    return frame


# --- three-in-one risk (SPEC §12) ----------------------------------------------------

RISK_TEXT = {
    "zh": {
        "label": "三合一场所风险等级",
        "risk_name": "风险等级",
        "checks_failed_text": "未通过检查",
    },
    "en": {
        "label": "Three-in-one risk",
        "risk_name": "Risk level",
        "checks_failed_text": "Failed checks",
    },
}


def risk_payload(web: gpd.GeoDataFrame, text: dict) -> dict:
    """The three-in-one workshops coloured by risk level (a switch beside the class
    colouring): ``risk`` with the levels present (key, name, colour, count), the position
    of each three-in-one workshop among the workshop points, its level, and its failed
    checks in words (Chinese on a Chinese map) for the popup. Empty when the workshops
    carry no ``risk_level`` (an output made before SPEC §12)."""
    from .vocab import RISK_LEVELS, RISK_PALETTE, RISK_ZH, SAFETY_CHECK_ZH

    if "risk_level" not in web:
        return {}
    zh = text.get("layers", {}).get("workshops") == "家庭作坊"
    words = RISK_TEXT["zh" if zh else "en"]
    level = web["risk_level"].fillna("none").astype(str).to_numpy()
    pos = np.flatnonzero(level != "none")
    levels = [lv for lv in RISK_LEVELS if lv != "none" and (level[pos] == lv).any()]
    code = {lv: i for i, lv in enumerate(levels)}
    failed = (
        web["checks_failed"].fillna("").astype(str).to_numpy()[pos]
        if "checks_failed" in web
        else np.full(len(pos), "", dtype=object)
    )
    failed_text = [
        "；".join(f"{c} {SAFETY_CHECK_ZH.get(c, '')}" for c in f.split()) if zh else f
        for f in failed
    ]
    return {
        "risk": {
            "label": words["label"],
            "fields": ["risk_name", "checks_failed_text"],
            "names": {
                "risk_name": words["risk_name"],
                "checks_failed_text": words["checks_failed_text"],
            },
            "levels": [
                {
                    "key": lv,
                    "name": RISK_ZH[lv] if zh else lv,
                    "color": RISK_PALETTE[lv],
                    "count": int((level[pos] == lv).sum()),
                }
                for lv in levels
            ],
            "idx": pos.tolist(),
            "lvl": [code[lv] for lv in level[pos]],
            "failed": failed_text,
        }
    }


# --- old industrial blocks and freed land (SPEC §11) ---------------------------------

#: Layers of a ``zoning blocks`` output the maps draw: layer -> (column coloured by, its
#: values in legend order, the popup fields).
BLOCK_LAYERS = {
    "blocks": (
        "mode",
        [
            "block_id",
            "mode_name",
            "rule",
            "reason",
            "town",
            "plots",
            "mu",
            "built_year",
            "floor_area_ratio",
            "tax_per_mu",
            "output_per_mu",
            "investment_per_mu",
            "d_share",
        ],
    ),
    "freed_sites": (
        "reuse",
        ["site_id", "reuse_name", "rule", "reason", "town", "plots", "mu", "boundary_share"],
    ),
}
BLOCK_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "blocks": "老旧工业区块（按改造方式）",
        "freed_sites": "腾退土地（按利用方向）",
        "count": {"blocks": "个", "freed_sites": "片"},
        "mu": "亩",
        "fields": {"mode_name": "改造方式", "reuse_name": "利用方向"},
    },
    "en": {
        "blocks": "Old industrial blocks (by renovation mode)",
        "freed_sites": "Freed land (by suggested reuse)",
        "count": {"blocks": "blocks", "freed_sites": "sites"},
        "mu": "mu",
        "fields": {
            "block_id": "Block",
            "site_id": "Freed site",
            "mode_name": "Mode",
            "reuse_name": "Suggested reuse",
            "rule": "Rule",
            "reason": "Reason",
            "town": "Town",
            "plots": "Plots",
            "mu": "Area (mu)",
            "built_year": "Built (median year)",
            "floor_area_ratio": "Floor-area ratio",
            "tax_per_mu": "Tax per mu (10k yuan)",
            "output_per_mu": "Output per mu (10k yuan)",
            "investment_per_mu": "Investment per mu (10k yuan)",
            "d_share": "Share of D-graded land",
            "boundary_share": "Share inside the boundary",
        },
    },
}
#: A reason as written by zoning.blocks: Chinese, then the English in full-width brackets.
_REASON = re.compile(r"^(?P<zh>.*)（(?P<en>[^（）]*)）$", re.S)


def reason_in(reasons: pd.Series, lang: str) -> pd.Series:
    """The part of a blocks reason (``中文（English）``) in ``lang``; the whole text where
    it has no such ending."""
    text = reasons.astype(object).where(reasons.notna(), "").astype(str)
    parts = text.str.extract(_REASON)
    return parts[lang].where(parts[lang].notna(), text)


def block_payload(data: dict[str, gpd.GeoDataFrame], lang: str, gcj: bool, decimals: int) -> dict:
    """The blocks coloured by renovation mode and the freed sites by suggested reuse
    (SPEC §11), each a switchable layer with its legend (count and mu per mode or reuse)
    and popups (the reason in the map's language), when ``data`` has them
    (:func:`zoning.outputs.read_classified` picks up a blocks folder beside the
    classification). Keys ``blocks`` and ``freed_sites``; none when absent."""
    from .vocab import (
        BLOCK_COLUMNS_ZH,
        MODE_EN,
        MODE_PALETTE,
        MODE_ZH,
        MODES,
        REUSE_EN,
        REUSE_PALETTE,
        REUSE_ZH,
        REUSES,
    )

    words = BLOCK_TEXT[lang]
    labels = {**BLOCK_COLUMNS_ZH, **words["fields"]} if lang == "zh" else words["fields"]
    looks = {
        "blocks": (MODES, MODE_PALETTE, MODE_ZH if lang == "zh" else MODE_EN),
        "freed_sites": (REUSES, REUSE_PALETTE, REUSE_ZH if lang == "zh" else REUSE_EN),
    }
    out = {}
    for layer, (column, fields) in BLOCK_LAYERS.items():
        gdf = data.get(layer)
        if gdf is None or not len(gdf) or column not in gdf:
            continue
        keys, palette, names = looks[layer]
        g = gdf.copy()
        g[f"{column}_name"] = g[column].map(names).fillna(g[column])
        g["reason"] = reason_in(g["reason"], lang) if "reason" in g else ""
        for col in (
            "mu",
            "floor_area_ratio",
            "tax_per_mu",
            "output_per_mu",
            "investment_per_mu",
            "d_share",
            "boundary_share",
        ):
            if col in g:
                g[col] = pd.to_numeric(g[col], errors="coerce").round(2)
        if "built_year" in g:
            g["built_year"] = pd.to_numeric(g["built_year"], errors="coerce").round(1)
        exact = (
            pd.to_numeric(gdf["mu"], errors="coerce").fillna(0.0).to_numpy()
            if "mu" in gdf
            else np.zeros(len(gdf))
        )
        web = _web(g, gcj, decimals)
        groups = []
        for key in keys:
            hit = (g[column] == key).to_numpy()
            if hit.any():
                groups.append(
                    {
                        "key": key,
                        "name": names[key],
                        "color": palette[key],
                        "count": int(hit.sum()),
                        "mu": float(exact[hit].sum()),
                        "data": _collection(web[web[column] == key], fields),
                    }
                )
        out[layer] = {
            "label": f"{words[layer]} ({len(gdf)})",
            "title": words[layer],
            "unit": words["count"][layer],
            "mu": words["mu"],
            "fields": fields,
            "names": {f: labels.get(f, f) for f in fields},
            "groups": groups,
        }
    return out
