"""Default layer styles in the GeoPackages we write (issue 16, item 5): the QML and SLD
text of zoning.styles and the ``layer_styles`` rows zoning._io.write_layers stores
(zoning.outputs.write_styled_layers gives each layer its style).
QGIS itself reads them in tests/test_qgis.py."""

from __future__ import annotations

import hashlib
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
import shapely

from conftest import rect
from zoning import styles
from zoning._io import FIXED_STAMP, write_layers, write_styles
from zoning.outputs import write_styled_layers
from zoning.vocab import (
    CLASS_ZH,
    CLASSES,
    ITEM_CLASS_ZH,
    MODE_PALETTE,
    MODE_ZH,
    MODES,
    OPEN_STATUSES,
    PALETTE,
    REUSE_PALETTE,
    REUSE_ZH,
    REUSES,
    STATUS_GROUPS,
    STATUS_ZH,
    WORKSHOP_CLASS_ZH,
    WORKSHOP_CLASSES,
    WORKSHOP_PALETTE,
)

SE = "{http://www.opengis.net/se}"
OGC = "{http://www.opengis.net/ogc}"


def rows(gpkg) -> dict[str, tuple]:
    con = sqlite3.connect(gpkg)
    try:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                "useAsDefault, f_table_catalog, f_table_schema, update_time FROM layer_styles"
            )
        }
    finally:
        con.close()


def qml_categories(qml: str) -> tuple[ET.Element, list[tuple[str, str, str]]]:
    """The renderer and its (value, label, fill colour #rrggbb) in order."""
    root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
    renderer = root.find("renderer-v2")
    colours = {}
    for symbol in renderer.find("symbols"):
        rgba = next(p.get("v") for p in symbol.iter("prop") if p.get("k") == "color")
        colours[symbol.get("name")] = "#{:02X}{:02X}{:02X}".format(*map(int, rgba.split(",")[:3]))
    return renderer, [
        (c.get("value"), c.get("label"), colours[c.get("symbol")])
        for c in renderer.find("categories")
    ]


def test_plot_classes_take_the_maps_palette_and_chinese_labels():
    style = styles.for_layer("parcels", "MultiPolygon")
    renderer, cats = qml_categories(style.qml)
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "class"
    assert [v for v, _, _ in cats] == list(CLASSES)
    for value, label, colour in cats:
        assert colour == PALETTE[value]
        assert label.startswith(CLASS_ZH[value])  # Chinese first
    assert cats[0][1] == "保留提升 retain"
    assert {s.get("type") for s in renderer.iter("symbol")} == {"fill"}


def test_workshops_are_markers_in_the_workshop_palette():
    style = styles.for_layer("workshops", "Point")
    renderer, cats = qml_categories(style.qml)
    assert [v for v, _, _ in cats] == [*WORKSHOP_CLASSES, "unclassified"]
    assert all(
        colour == WORKSHOP_PALETTE[v] and label.startswith(WORKSHOP_CLASS_ZH[v])
        for v, label, colour in cats
    )
    assert {s.get("type") for s in renderer.iter("symbol")} == {"marker"}
    assert "SimpleMarker" in style.qml and "SimpleFill" not in style.qml


def test_status_is_coloured_by_its_progress_group():
    style = styles.for_layer("status", "Point")
    _, cats = qml_categories(style.qml)
    assert {v for v, _, _ in cats} == set(STATUS_ZH)
    for value, label, colour in cats:
        group = value if value in OPEN_STATUSES else "final"
        assert colour == STATUS_GROUPS[group] and label.startswith(STATUS_ZH[value])


def test_sld_has_one_rule_per_class_with_its_colour():
    style = styles.for_layer("parcels", "Polygon")
    root = ET.fromstring(style.sld)
    rules = root.findall(f".//{SE}Rule")
    assert [r.find(f".//{OGC}Literal").text for r in rules] == list(CLASSES)
    for rule in rules:
        value = rule.find(f".//{OGC}Literal").text
        assert rule.find(f".//{OGC}PropertyName").text == "class"
        fill = rule.find(f"{SE}PolygonSymbolizer/{SE}Fill/{SE}SvgParameter")
        assert fill.get("name") == "fill" and fill.text == PALETTE[value]
        assert rule.find(f"{SE}Name").text.startswith(CLASS_ZH[value])
    point = ET.fromstring(styles.for_layer("workshops", "Point").sld)
    assert len(point.findall(f".//{SE}PointSymbolizer")) == len(WORKSHOP_CLASSES) + 1


def test_layers_we_do_not_know_or_mixed_geometries_get_no_style():
    assert styles.for_layer("roads", "LineString") is None
    assert styles.for_layer("wells", "Point") is None
    assert styles.for_layer("parcels", {"Polygon", "Point"}) is None
    assert styles.for_layer("parcels", "LineString") is None
    no_class = gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[rect(0, 0, 10, 10)], crs=4549)
    assert styles.for_layers({"parcels": no_class}) == {}  # the column styled is missing


def test_classified_gpkg_carries_a_default_style_per_layer(classified):
    gpkg = classified / "classified.gpkg"
    got = rows(gpkg)
    layers = {name for name, _ in pyogrio.list_layers(gpkg)} - {"layer_styles"}
    assert set(got) == layers >= {"parcels", "village_parks", "towns", "protected"}
    con = sqlite3.connect(gpkg)
    geometry_columns = dict(
        con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
    )
    registered = con.execute(
        "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
    ).fetchone()
    con.close()
    assert registered == ("attributes",)  # listed by GDAL, as QGIS registers it
    stamp = FIXED_STAMP.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for layer, (geom_col, name, qml, sld, default, catalog, schema, when) in got.items():
        assert geom_col == geometry_columns[layer]
        assert (default, catalog, schema, when) == (1, "", "", stamp)
        expected = styles.for_layer(layer, "MultiPolygon")
        assert expected is not None, layer
        assert (name, qml, sld) == (expected.name, expected.qml, expected.sld)


def test_styles_keep_the_geopackage_byte_stable(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2"], "class": ["retain", "vacate"]},
        geometry=[rect(0, 0, 10, 10), rect(20, 0, 10, 10)],
        crs=4549,
    )
    digests = []
    for name in ("a.gpkg", "b.gpkg"):
        write_styled_layers(tmp_path / name, {"parcels": gdf})
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert set(rows(tmp_path / "a.gpkg")) == {"parcels"}


def test_no_styles_when_asked_and_a_rewrite_keeps_one_row_per_layer(tmp_path):
    pts = gpd.GeoDataFrame(
        {"workshop_id": ["W1"], "class": ["upgrade"]},
        geometry=[shapely.Point(620_000, 3_342_000)],
        crs=4549,
    )
    write_layers(tmp_path / "none.gpkg", {"workshops": pts}, styles={})
    write_layers(tmp_path / "default.gpkg", {"workshops": pts})  # T0 knows no styles
    for name in ("none.gpkg", "default.gpkg"):
        with sqlite3.connect(tmp_path / name) as con:
            assert (
                con.execute("SELECT name FROM sqlite_master WHERE name = 'layer_styles'").fetchone()
                is None
            )
    write_styled_layers(tmp_path / "w.gpkg", {"workshops": pts})
    write_styles(tmp_path / "w.gpkg", styles.for_layers({"workshops": pts}))
    with sqlite3.connect(tmp_path / "w.gpkg") as con:
        assert con.execute("SELECT COUNT(*) FROM layer_styles").fetchone() == (1,)


@pytest.mark.parametrize(
    "layer",
    [
        "parcels",
        "workshops",
        "status",
        "changed",
        "items",
        "blocks",
        "freed_sites",
        "village_parks",
        "micro_parks",
    ],
)
def test_every_style_is_well_formed_xml(layer):
    point = layer in ("workshops", "status", "items")
    style = styles.for_layer(layer, "Point" if point else "Polygon")
    ET.fromstring(style.qml.split("\n", 1)[1])
    ET.fromstring(style.sld.encode("utf-8"))
    assert style.name and style.description


def test_ledger_items_carry_every_class_a_ledger_item_may_have(ledger):
    from zoning.vocab import CLASSES_OF

    got = rows(ledger)
    assert set(got) == {"items"}
    renderer, cats = qml_categories(got["items"][2])
    assert renderer.get("attr") == "computed_class"
    values = [v for v, _, _ in cats]
    assert len(values) == len(set(values))
    assert set(values) == {
        c for kind in ("parcel", "workshop", "block", "site") for c in CLASSES_OF[kind]
    }
    palette = {**PALETTE, **WORKSHOP_PALETTE, **MODE_PALETTE, **REUSE_PALETTE}
    for value, label, colour in cats:
        assert colour == palette[value]
        assert label.startswith(ITEM_CLASS_ZH[value])


def test_context_layers_are_drawn_as_the_maps_draw_them():
    from zoning.maps import CONTEXT
    from zoning.vocab import CONTEXT_LOOK

    for layer, (zh, outline, px, fill, alpha, dashed) in CONTEXT_LOOK.items():
        leaflet = CONTEXT[layer][1]
        assert (leaflet["color"], leaflet["weight"]) == (outline, px), layer
        assert leaflet.get("fillColor") == fill and leaflet.get("fillOpacity", 0) == alpha
        assert ("dashArray" in leaflet) == dashed
        style = styles.for_layer(layer, "MultiPolygon")
        assert style.column is None and style.name == zh
        props = {
            p.get("k"): p.get("v") for p in ET.fromstring(style.qml.split("\n", 1)[1]).iter("prop")
        }
        assert props["outline_color"].startswith(
            ",".join(str(int(outline[i : i + 2], 16)) for i in (1, 3, 5))
        )
        assert props["style"] == ("solid" if fill else "no")
        assert props["outline_style"] == ("dash" if dashed else "solid")


def test_a_failed_styles_write_is_one_line_and_keeps_the_previous_set(
    tiny_gpkg, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    import zoning._io
    from zoning.cli import main

    out = tmp_path / "out"
    assert (
        CliRunner().invoke(main, ["classify", tiny_gpkg, "--out", str(out), "--quiet"]).exit_code
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(zoning._io, "write_styles", full)
    res = CliRunner().invoke(main, ["classify", tiny_gpkg, "--out", str(out), "--quiet"])
    assert res.exit_code == 1 and not isinstance(res.exception, sqlite3.Error)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "layer styles" in lines[0]
    assert "disk is full" in lines[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --- blocks and freed sites (issue 18): in the ledger's items and in blocks.gpkg ----------

#: layer -> (geometry, column, the classes in order, palette, Chinese words)
BLOCK_STYLES = {
    "blocks": ("MultiPolygon", "mode", MODES, MODE_PALETTE, MODE_ZH),
    "freed_sites": ("MultiPolygon", "reuse", REUSES, REUSE_PALETTE, REUSE_ZH),
}


def sld_rules(sld: str) -> list[tuple[str, str, str, str]]:
    """Each SLD rule's (column, value, name, colour of its fill or marker)."""
    out = []
    for rule in ET.fromstring(sld.encode("utf-8")).findall(f".//{SE}Rule"):
        fill = next(
            p for p in rule.iter(f"{SE}SvgParameter") if p.get("name") == "fill"
        )  # the polygon's fill or the marker's
        out.append(
            (
                rule.find(f".//{OGC}PropertyName").text,
                rule.find(f".//{OGC}Literal").text,
                rule.find(f"{SE}Name").text,
                fill.text,
            )
        )
    return out


def test_items_style_names_every_mode_and_reuse_with_its_colour():
    style = styles.for_layer("items", "Point")
    renderer, cats = qml_categories(style.qml)
    assert renderer.get("attr") == "computed_class"
    qml = {value: (label, colour) for value, label, colour in cats}
    sld = {value: (name, colour) for _, value, name, colour in sld_rules(style.sld)}
    for words, palette, zh in ((MODES, MODE_PALETTE, MODE_ZH), (REUSES, REUSE_PALETTE, REUSE_ZH)):
        for value in words:
            label, colour = qml[value]
            assert colour == palette[value] and label.startswith(zh[value] + " "), value
            assert sld[value] == (label, palette[value]), value
    assert qml["rebuild"][0] == "拆除式 rebuild" and qml["reclaim"][0] == "复垦 reclaim"
    assert qml["tourism"][0] == "乡村旅游/民宿 rural tourism / homestay"
    # the plots' and workshops' classes are still there, each value once
    assert [v for v, _, _ in cats][: len(CLASSES) - 1] == [
        c for c in CLASSES if c != "unclassified"
    ]
    assert len(cats) == len(qml) == len(CLASSES) - 1 + len(WORKSHOP_CLASSES) + 1 + 3 + 3
    assert {s.get("type") for s in renderer.iter("symbol")} == {"marker"}


@pytest.mark.parametrize("layer", list(BLOCK_STYLES))
def test_blocks_and_freed_sites_are_categorised_by_mode_and_reuse(layer):
    geometry, column, words, palette, zh = BLOCK_STYLES[layer]
    style = styles.for_layer(layer, geometry)
    renderer, cats = qml_categories(style.qml)
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == column
    assert [v for v, _, _ in cats] == list(words)
    assert all(c == palette[v] and lab.startswith(zh[v]) for v, lab, c in cats)
    assert {s.get("type") for s in renderer.iter("symbol")} == {"fill"}
    assert sld_rules(style.sld) == [(column, v, lab, c) for v, lab, c in cats]


@pytest.fixture(scope="module")
def blocks_gpkg(classified, tmp_path_factory):
    """blocks.gpkg of the tiny county as outputs.write_blocks writes it."""
    from zoning.blocks import run
    from zoning.outputs import read_classified_plots, write_blocks

    plots, _ = read_classified_plots(classified)
    out = tmp_path_factory.mktemp("blocks") / "blocks"
    write_blocks(run(plots), out)
    return out / "blocks.gpkg"


def test_blocks_gpkg_carries_its_styles(blocks_gpkg):
    got = rows(blocks_gpkg)
    assert set(got) == set(BLOCK_STYLES)
    stamp = FIXED_STAMP.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for layer, (geom_col, name, qml, sld, default, *_, when) in got.items():
        frame = gpd.read_file(blocks_gpkg, layer=layer)
        assert len(frame), layer  # the tiny county has blocks and freed sites
        expected = styles.for_layer(layer, frame.geom_type.unique())
        assert (name, qml, sld) == (expected.name, expected.qml, expected.sld)
        assert (geom_col, default, when) == ("geom", 1, stamp)
        _, column, words, palette, _ = BLOCK_STYLES[layer]
        assert set(frame[column]) <= set(words)  # every value drawn has its category
        _, cats = qml_categories(qml)
        assert [(v, c) for v, _, c in cats] == [(w, palette[w]) for w in words]


def test_a_ledger_with_blocks_styles_their_items_by_mode_and_reuse(
    classified, blocks_gpkg, tmp_path
):
    from zoning.outputs import init_ledger

    ledger = tmp_path / "ledger.gpkg"
    assert init_ledger(ledger, classified, blocks_dir=blocks_gpkg.parent) == 7 + 4 + 3
    got = rows(ledger)
    assert set(got) == {"items"}
    items = gpd.read_file(ledger, layer="items")
    _, cats = qml_categories(got["items"][2])
    colour = {value: c for value, _, c in cats}
    shown = items[items["kind"].isin(["block", "site"])]
    assert set(shown["computed_class"]) == {"manage", "reclaim", "amenity"}
    palette = {**MODE_PALETTE, **REUSE_PALETTE}
    assert all(colour[v] == palette[v] for v in shown["computed_class"])
    assert set(items["computed_class"]) <= set(colour)  # no item left uncategorised
