"""Layer styles for GIS desktops: QGIS QML and OGC SLD text for the layers we write.

A GeoPackage written by ``zoning`` carries, in its ``layer_styles`` table (the QGIS /
GeoPackage convention), a default style for each layer this module knows, so that QGIS
opens the plots coloured by class, the workshops by class, the ledger's items by their
computed class (blocks by renovation mode, freed sites by reuse) and its status layer by
progress, with the maps' palette and Chinese labels (``保留提升 retain``).
Format module (HOUSE.md, tier T6): text only, words and colours from :mod:`zoning.vocab`;
:func:`zoning._io.write_layers` stores the text.

>>> style = for_layer("parcels", "Polygon")
>>> style.column, [c.value for c in style.categories]
('class', ['retain', 'consolidate', 'vacate', 'unclassified'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .vocab import (
    CLASS_EN,
    CLASS_ZH,
    CLASSES,
    CONTEXT_LOOK,
    FINAL_STATUS,
    MODE_EN,
    MODE_PALETTE,
    MODE_ZH,
    MODES,
    OPEN_STATUSES,
    PALETTE,
    REUSE_EN,
    REUSE_PALETTE,
    REUSE_ZH,
    REUSES,
    STATUS_EN,
    STATUS_GROUPS,
    STATUS_ZH,
    WORKSHOP_CLASS_EN,
    WORKSHOP_CLASS_ZH,
    WORKSHOP_CLASSES,
    WORKSHOP_PALETTE,
)

#: QGIS version written into the QML (the oldest we test with: Debian bookworm's).
QGIS_VERSION = "3.22.16-Białowieża"
#: Outline of filled polygons and of point markers.
OUTLINE = "#333333"
#: Outline width (mm) of polygons, and marker size (mm).
OUTLINE_MM = 0.26
MARKER_MM = 3.0


@dataclass(frozen=True)
class Category:
    """One value of the styled column: its colour and its label (Chinese first)."""

    value: str
    colour: str
    label: str


@dataclass(frozen=True)
class LayerStyle:
    """A layer's default style: ``qml`` and ``sld`` are the text stored in
    ``layer_styles``; ``column`` is the attribute categorised (``None``: one symbol)."""

    layer: str
    name: str
    description: str
    geometry: str  # "fill" (polygons) or "marker" (points)
    column: str | None
    categories: tuple[Category, ...]
    qml: str
    sld: str


def _label(zh: str, en: str) -> str:
    return zh if zh == en else f"{zh} {en}"


def _categories(
    values, colours: Mapping[str, str], zh: Mapping[str, str], en: Mapping[str, str]
) -> tuple[Category, ...]:
    return tuple(Category(v, colours[v], _label(zh[v], en[v])) for v in values)


def _status_colour(status: str) -> str:
    return STATUS_GROUPS[status if status in OPEN_STATUSES else "final"]


#: Statuses in the order of the ledger (open first, then the final ones).
_STATUSES = (*OPEN_STATUSES, *dict.fromkeys(FINAL_STATUS.values()))

#: layer name -> (column, categories, style name, description); the classified plots,
#: the workshops, the report's status layer and the plots changed between scenarios.
CATEGORISED = {
    "parcels": (
        "class",
        _categories(CLASSES, PALETTE, CLASS_ZH, CLASS_EN),
        "按分类 by class",
        "地块按分类着色 plots coloured by class",
    ),
    "workshops": (
        "class",
        _categories(
            (*WORKSHOP_CLASSES, "unclassified"),
            WORKSHOP_PALETTE,
            WORKSHOP_CLASS_ZH,
            WORKSHOP_CLASS_EN,
        ),
        "按分类 by class",
        "作坊按分类着色 workshops coloured by class",
    ),
    "status": (
        "status",
        tuple(
            Category(s, _status_colour(s), _label(STATUS_ZH[s], STATUS_EN[s])) for s in _STATUSES
        ),
        "按进度 by status",
        "台账事项按整治进度着色 ledger items coloured by status",
    ),
    "changed": (
        "to_class",
        _categories(CLASSES, PALETTE, CLASS_ZH, CLASS_EN),
        "按新分类 by new class",
        "变化地块按新分类着色 changed plots coloured by their new class",
    ),
    # a ledger's items: plots, workshops, old industrial blocks and freed sites at one point
    # each, by their computed class (a plot's or workshop's class, a block's renovation mode,
    # a site's suggested reuse: the words do not overlap, vocab.ITEM_CLASS_ZH)
    "items": (
        "computed_class",
        (
            *_categories([c for c in CLASSES if c != "unclassified"], PALETTE, CLASS_ZH, CLASS_EN),
            *_categories(
                (*WORKSHOP_CLASSES, "unclassified"),
                WORKSHOP_PALETTE,
                WORKSHOP_CLASS_ZH,
                WORKSHOP_CLASS_EN,
            ),
            *_categories(MODES, MODE_PALETTE, MODE_ZH, MODE_EN),
            *_categories(REUSES, REUSE_PALETTE, REUSE_ZH, REUSE_EN),
        ),
        "按计算分类 by computed class",
        "台账事项按计算分类着色 ledger items coloured by their computed class",
    ),
    # old industrial blocks by renovation mode, freed sites by suggested reuse (SPEC §11)
    "blocks": (
        "mode",
        _categories(MODES, MODE_PALETTE, MODE_ZH, MODE_EN),
        "按改造方式 by mode",
        "区块按改造方式着色 blocks coloured by renovation mode",
    ),
    "freed_sites": (
        "reuse",
        _categories(REUSES, REUSE_PALETTE, REUSE_ZH, REUSE_EN),
        "按利用方向 by reuse",
        "腾退地块按利用方向着色 freed sites coloured by suggested reuse",
    ),
}


@dataclass(frozen=True)
class Look:
    """One symbol: fill colour (``None``: outline only) and opacity, outline colour and
    width (mm), dashed or not."""

    fill: str | None
    outline: str = OUTLINE
    outline_mm: float = OUTLINE_MM
    alpha: float = 1.0
    dashed: bool = False


#: Leaflet's line widths are in CSS pixels (96 per inch); QGIS's in millimetres.
MM_PER_PX = 25.4 / 96

#: layer name -> (symbol, style name, description): the layers drawn with one symbol,
#: the village parks as outlines, the micro parks, the county's context layers as the
#: maps draw them (vocab.CONTEXT_LOOK).
SINGLE = {
    "village_parks": (Look(None), "村级园区 village parks", "村级园区轮廓 village park outlines"),
    "micro_parks": (Look("#56B4E9"), "小微园区 micro parks", "小微园区 micro parks"),
    **{
        layer: (Look(fill, outline, round(px * MM_PER_PX, 2), alpha, dashed), zh, zh)
        for layer, (zh, outline, px, fill, alpha, dashed) in CONTEXT_LOOK.items()
    },
}


def _rgba(colour: str, alpha: int = 255) -> str:
    """``#RRGGBB`` -> QGIS's ``r,g,b,a``."""
    colour = colour.lstrip("#")
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _props(props: Mapping[str, str]) -> str:
    """A symbol layer's properties in both forms QGIS 3 reads (Option map and prop)."""
    options = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>'
        for k, v in props.items()
    )
    legacy = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return f'<Option type="Map">{options}</Option>{legacy}'


def _qml_symbol(name: str, geometry: str, look: Look) -> str:
    if geometry == "marker":
        props = {
            "name": "circle",
            "color": _rgba(look.fill or OUTLINE),
            "outline_color": _rgba("#FFFFFF"),
            "outline_style": "solid",
            "outline_width": "0.2",
            "outline_width_unit": "MM",
            "size": str(MARKER_MM),
            "size_unit": "MM",
            "scale_method": "diameter",
            "angle": "0",
            "offset": "0,0",
            "offset_unit": "MM",
            "horizontal_anchor_point": "1",
            "vertical_anchor_point": "1",
            "joinstyle": "bevel",
        }
        layer = "SimpleMarker"
    else:
        props = {
            "color": _rgba(look.fill or "#FFFFFF", round(255 * look.alpha) if look.fill else 0),
            "style": "solid" if look.fill else "no",
            "outline_color": _rgba(look.outline),
            "outline_style": "dash" if look.dashed else "solid",
            "outline_width": f"{look.outline_mm:g}",
            "outline_width_unit": "MM",
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_unit": "MM",
        }
        layer = "SimpleFill"
    return (
        f'<symbol type="{geometry}" name={quoteattr(name)} alpha="1" '
        f'clip_to_extent="1" force_rhr="0">'
        f'<layer class="{layer}" enabled="1" locked="0" pass="0">{_props(props)}'
        f"</layer></symbol>"
    )


def _qml(geometry: str, column: str | None, categories: tuple[Category, ...], look: Look) -> str:
    """QML of a categorised renderer on ``column`` (or a single symbol)."""
    if column is None:
        renderer = (
            f'<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" '
            f'enableorderby="0"><symbols>{_qml_symbol("0", geometry, look)}'
            f"</symbols></renderer-v2>"
        )
    else:
        cats = "".join(
            f'<category render="true" value={quoteattr(c.value)} symbol="{i}" '
            f"label={quoteattr(c.label)}/>"
            for i, c in enumerate(categories)
        )
        symbols = "".join(
            _qml_symbol(str(i), geometry, Look(c.colour)) for i, c in enumerate(categories)
        )
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(column)} '
            f'symbollevels="0" forceraster="0" enableorderby="0">'
            f"<categories>{cats}</categories><symbols>{symbols}</symbols>"
            f"<source-symbol>{_qml_symbol('0', geometry, Look(OUTLINE))}</source-symbol>"
            f"</renderer-v2>"
        )
    kind = {"marker": 0, "fill": 2}[geometry]
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">\n'
        f"{renderer}\n<layerGeometryType>{kind}</layerGeometryType>\n</qgis>\n"
    )


def _sld_symbolizer(geometry: str, look: Look) -> str:
    fill = look.fill
    dash = '<se:SvgParameter name="stroke-dasharray">4 2</se:SvgParameter>' if look.dashed else ""
    stroke = (
        f'<se:Stroke><se:SvgParameter name="stroke">{look.outline}</se:SvgParameter>'
        f'<se:SvgParameter name="stroke-width">{look.outline_mm / MM_PER_PX:g}'
        f"</se:SvgParameter>{dash}</se:Stroke>"
    )
    if geometry == "marker":
        return (
            "<se:PointSymbolizer><se:Graphic><se:Mark>"
            "<se:WellKnownName>circle</se:WellKnownName>"
            f'<se:Fill><se:SvgParameter name="fill">{fill or OUTLINE}</se:SvgParameter>'
            "</se:Fill>"
            '<se:Stroke><se:SvgParameter name="stroke">#FFFFFF</se:SvgParameter>'
            "</se:Stroke></se:Mark><se:Size>11</se:Size></se:Graphic>"
            "</se:PointSymbolizer>"
        )
    opacity = (
        ""
        if look.alpha == 1
        else f'<se:SvgParameter name="fill-opacity">{look.alpha:g}</se:SvgParameter>'
    )
    paint = (
        f'<se:Fill><se:SvgParameter name="fill">{fill}</se:SvgParameter>{opacity}</se:Fill>'
        if fill
        else ""
    )
    return f"<se:PolygonSymbolizer>{paint}{stroke}</se:PolygonSymbolizer>"


def _sld(
    layer: str, geometry: str, column: str | None, categories: tuple[Category, ...], look: Look
) -> str:
    """OGC SLD 1.1 (Symbology Encoding), one rule per category."""

    def rule(label: str, where: str, symbol: Look) -> str:
        return (
            f"<se:Rule><se:Name>{escape(label)}</se:Name><se:Description><se:Title>"
            f"{escape(label)}</se:Title></se:Description>{where}"
            f"{_sld_symbolizer(geometry, symbol)}</se:Rule>"
        )

    if column is None:
        rules = rule(layer, "", look)
    else:
        rules = "".join(
            rule(
                c.label,
                "<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>"
                f"{escape(column)}</ogc:PropertyName><ogc:Literal>"
                f"{escape(c.value)}</ogc:Literal></ogc:PropertyIsEqualTo>"
                "</ogc:Filter>",
                Look(c.colour),
            )
            for c in categories
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" '
        'xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" '
        'xsi:schemaLocation="http://www.opengis.net/sld '
        'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">\n'
        f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle>"
        f"<se:Name>{escape(layer)}</se:Name><se:FeatureTypeStyle>{rules}"
        "</se:FeatureTypeStyle></UserStyle></NamedLayer>\n</StyledLayerDescriptor>\n"
    )


def _geometry(geom_types) -> str | None:
    """The symbol kind: "fill" for polygons, "marker" for points, None for a mix or else."""
    kinds = {"Polygon": "fill", "MultiPolygon": "fill", "Point": "marker", "MultiPoint": "marker"}
    found = {kinds.get(t) for t in geom_types}
    return found.pop() if len(found) == 1 and None not in found else None


def for_layer(layer: str, geom_types) -> LayerStyle | None:
    """The default style of a layer we write, or ``None`` (a layer we do not style).

    ``geom_types`` is the layer's geometry type, or the set of them (shapely's names,
    as ``GeoSeries.geom_type`` gives them); a style draws one kind of geometry.
    """
    geometry = _geometry({geom_types} if isinstance(geom_types, str) else set(geom_types))
    if geometry is None:
        return None
    if layer in CATEGORISED:
        column, categories, name, description = CATEGORISED[layer]
        look = Look(None)
    elif layer in SINGLE:
        look, name, description = SINGLE[layer]
        column, categories = None, ()
    else:
        return None
    return LayerStyle(
        layer,
        name,
        description,
        geometry,
        column,
        categories,
        _qml(geometry, column, categories, look),
        _sld(layer, geometry, column, categories, look),
    )


def for_layers(layers: Mapping) -> dict[str, LayerStyle]:
    """The default styles of the layers (name -> GeoDataFrame) we style, by name; a
    categorised layer without its column gets none."""
    styles = {}
    for name, gdf in layers.items():
        style = for_layer(name, gdf.geometry.geom_type.dropna().unique())
        if style is not None and (style.column is None or style.column in gdf.columns):
            styles[name] = style
    return styles
