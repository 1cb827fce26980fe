"""Interactive HTML maps (folium): plots coloured by class, legend, popups with the reason.

Every text value that reaches the page is HTML-escaped (SPEC §7; FIELD-NOTES: folium's
GeoJson popups put values into ``innerHTML``). Only the columns meant for the popup are
published.
"""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._io import write_text
from .rules import CLASS_ZH, CLASSES

#: Okabe–Ito colours (readable with the common colour-vision deficiencies), one per class.
PALETTE = {"retain": "#009E73", "consolidate": "#0072B2", "vacate": "#D55E00",
           "unclassified": "#999999"}
POPUP_FIELDS = {"parcel_id": "地块编号", "class_zh": "分类", "rule": "规则", "reason": "依据",
                "target_id": "目标园区/集聚点", "town": "镇街", "village": "村",
                "enterprise": "企业", "area_mu": "面积（亩）"}


def escape_text(value) -> str:
    """HTML-escape a value and neutralise template-literal characters (` $ \\)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _web_frame(parcels: gpd.GeoDataFrame, precision: float = 1e-6) -> gpd.GeoDataFrame:
    fields = [f for f in POPUP_FIELDS if f in parcels.columns]
    web = parcels.loc[~shapely.is_missing(parcels.geometry.array), [*fields, "class", "geometry"]]
    web = web.to_crs(4326)
    web["geometry"] = shapely.set_precision(web.geometry.array, precision)
    if "area_mu" in web:
        web["area_mu"] = web["area_mu"].astype(float).round(2)
    for f in fields:
        if f != "area_mu":
            web[f] = web[f].map(escape_text)
    return web


def legend_html(parcels: pd.DataFrame) -> str:
    """A fixed legend with count and mu per class."""
    counts = parcels["class"].value_counts()
    mu = parcels.groupby("class")["area_mu"].sum()
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;'
        f'background:{PALETTE[c]};margin-right:6px"></span>{CLASS_ZH[c]} '
        f'{int(counts.get(c, 0))} 块 / {float(mu.get(c, 0.0)):.2f} 亩</div>'
        for c in CLASSES if counts.get(c, 0))
    return ('<div style="position:fixed;bottom:48px;left:12px;z-index:9999;background:white;'
            'padding:8px 10px;border:1px solid #888;border-radius:4px;font:13px sans-serif">'
            f'<b>村级工业用地分类</b>{rows}</div>')


def leaflet_assets() -> dict[str, str]:
    """Leaflet's JS and CSS from the pinned ``xstatic-leaflet`` package (the version
    folium uses), with the CSS images as data URIs: nothing is fetched at run time."""
    from xstatic.pkg import leaflet

    base = Path(leaflet.BASE_DIR)

    def data_uri(match: re.Match) -> str:
        img = base / match.group(1)
        return "url(data:image/png;base64," + base64.b64encode(img.read_bytes()).decode() + ")"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri,
                 (base / "leaflet.css").read_text(encoding="utf-8"))
    return {"leaflet_js": (base / "leaflet.js").read_text(encoding="utf-8"), "leaflet_css": css}


def new_map() -> folium.Map:
    """A folium map without a tile basemap that loads only Leaflet (no jQuery, Bootstrap or
    icon fonts): :func:`write_map` inlines it, so the page opens with no network."""
    fmap = folium.Map(tiles=None, prefer_canvas=True, control_scale=True)
    fmap.default_js = [js for js in fmap.default_js if js[0] == "leaflet"]
    fmap.default_css = [css for css in fmap.default_css if css[0] == "leaflet_css"]
    return fmap


CONTEXT_STYLE = {  # layer -> (Chinese name, Leaflet path style)
    "towns": ("镇街", {"color": "#555555", "weight": 1, "fill": False}),
    "dev_boundary": ("城镇开发边界", {"color": "#7B3294", "weight": 1.5, "dashArray": "6 4",
                                 "fillColor": "#7B3294", "fillOpacity": 0.05}),
    "township_parks": ("镇级工业园区", {"color": "#000000", "weight": 1.5,
                                   "fillColor": "#56B4E9", "fillOpacity": 0.25}),
}


def class_map(parcels: gpd.GeoDataFrame, title: str = "村级工业用地分类",
              context: dict[str, gpd.GeoDataFrame | None] | None = None) -> folium.Map:
    """A folium map with one layer per class, popups, a legend and context outlines."""
    web = _web_frame(parcels)
    bounds = web.total_bounds if len(web) else np.array([121.0, 30.0, 121.6, 30.4])
    fmap = new_map()
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    for name, (label, style) in CONTEXT_STYLE.items():
        gdf = (context or {}).get(name)
        if gdf is None or not len(gdf):
            continue
        outline = gdf[["geometry"]].to_crs(4326)
        outline["geometry"] = shapely.set_precision(outline.geometry.array, 1e-6)
        folium.GeoJson(outline, name=label, style_function=lambda _f, st=style: st,
                       interactive=False).add_to(fmap)
    fields = [f for f in POPUP_FIELDS if f in web.columns]
    for c in CLASSES:
        part = web[web["class"] == c]
        if not len(part):
            continue
        color = PALETTE[c]
        folium.GeoJson(
            part.drop(columns="class"),
            name=f"{CLASS_ZH[c]} ({len(part)})",
            style_function=lambda _f, color=color: {"color": color, "weight": 1,
                                                    "fillColor": color, "fillOpacity": 0.6},
            popup=folium.GeoJsonPopup(fields=fields, aliases=[POPUP_FIELDS[f] for f in fields],
                                      localize=False, labels=True),
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(legend_html(parcels)))
    fmap.get_root().header.add_child(folium.Element(f"<title>{escape_text(title)}</title>"))
    return fmap


def inline_assets(page: str) -> str:
    """Replace Leaflet's CDN links in a rendered page by the files' contents."""
    assets = leaflet_assets()
    page, n_js = re.subn(r'<script src="[^"]*/leaflet(?:@[\d.]+)?/dist/leaflet\.js"></script>',
                         lambda _m: "<script>" + assets["leaflet_js"] + "</script>", page)
    page, n_css = re.subn(r'<link rel="stylesheet" href="[^"]*/leaflet(?:@[\d.]+)?/dist/'
                          r'leaflet\.css"\s*/?>',
                          lambda _m: "<style>" + assets["leaflet_css"] + "</style>", page)
    if n_js != 1 or n_css != 1:
        raise RuntimeError("could not find Leaflet's links in the folium page to inline them")
    return page


def write_map(fmap: folium.Map, target: str | os.PathLike) -> None:
    """Render a folium map to one self-contained HTML file (opens offline), atomically."""
    write_text(target, inline_assets(fmap.get_root().render()))
