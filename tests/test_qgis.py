"""Our GeoPackages open coloured in real QGIS (issue 16, item 5).

Each test writes a GeoPackage through the command line, then Debian's /usr/bin/python3
(which has QGIS: ``apt-get install python3-qgis``, done by .ci/run) opens the layer as a
planner would, renders it offscreen and reports the renderer and the pixel colour inside
every feature (tests/qgis_render.py). Without the styles QGIS draws one random colour
(renderer ``singleSymbol``) and these tests fail. They are skipped only on a machine
without QGIS outside CI; in CI (``CI`` set) a missing QGIS is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from conftest import X0, Y0, rect, sheet, tiny_layers, write_gpkg
from zoning.vocab import (
    CLASS_ZH,
    CLASSES,
    MODE_PALETTE,
    OPEN_STATUSES,
    PALETTE,
    REUSE_PALETTE,
    STATUS_GROUPS,
    STATUS_ZH,
    WORKSHOP_CLASS_ZH,
    WORKSHOP_PALETTE,
)

QGIS_PYTHON = "/usr/bin/python3"
RENDER = Path(__file__).with_name("qgis_render.py")


def has_qgis() -> bool:
    if not os.path.exists(QGIS_PYTHON):
        return False
    return (
        subprocess.run(
            [QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=120
        ).returncode
        == 0
    )


if not os.environ.get("CI") and not has_qgis():
    pytest.skip(
        "no QGIS for /usr/bin/python3 (apt-get install python3-qgis; CI installs "
        "it and never skips)",
        allow_module_level=True,
    )


def render(gpkg, layer: str, id_field: str, value_field: str, mode: str = "qml") -> dict:
    """What QGIS shows of ``layer``: renderer, categories, each feature's pixel colour
    (``mode`` "sld": drawn with the layer's SLD instead of its QML)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(Path(gpkg).parent))
    res = subprocess.run(
        [QGIS_PYTHON, str(RENDER), str(gpkg), layer, id_field, value_field, mode],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def zoning(*args):
    res = subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return res


def test_qgis_opens_the_plots_coloured_by_class(classified):
    shown = render(classified / "classified.gpkg", "parcels", "parcel_id", "class")
    assert shown["renderer"] == "categorizedSymbol" and shown["column"] == "class"
    assert shown["categories"] == [[c, f"{CLASS_ZH[c]} {c}", PALETTE[c]] for c in CLASSES]
    plots = {pid: (cls, colour) for pid, cls, colour in shown["features"]}
    assert len(plots) == 7 and len({cls for cls, _ in plots.values()}) == 3
    for pid, (cls, colour) in plots.items():
        assert colour == PALETTE[cls], (pid, cls)


@pytest.mark.parametrize("layer", ["parcels", "village_parks"])
def test_the_sld_draws_what_the_qml_draws(classified, layer):
    id_field = "parcel_id" if layer == "parcels" else "village_park_id"
    value = "class" if layer == "parcels" else id_field
    by_qml = render(classified / "classified.gpkg", layer, id_field, value)
    by_sld = render(classified / "classified.gpkg", layer, id_field, value, "sld")
    # QGIS reads SLD rules as rules (one rule without a filter: one symbol)
    assert by_sld["renderer"] == ("RuleRenderer" if layer == "parcels" else "singleSymbol")
    assert by_sld["features"] == by_qml["features"]


@pytest.mark.parametrize("layer", ["township_parks", "cluster_points", "protected"])
def test_qgis_draws_the_context_layers_as_the_maps_do(classified, layer):
    from zoning.vocab import CONTEXT_LOOK

    _, _, _, fill, alpha, _ = CONTEXT_LOOK[layer]
    shown = render(classified / "classified.gpkg", layer, "fid", "fid")
    assert shown["renderer"] == "singleSymbol" and shown["features"]
    # the fill at its opacity over the white background
    expected = [255 - alpha * (255 - int(fill[i : i + 2], 16)) for i in (1, 3, 5)]
    for _, _, colour in shown["features"]:
        got = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) <= 2, colour


def test_qgis_opens_the_village_parks_as_outlines(tmp_path):
    from conftest import with_village_park

    path = write_gpkg(tmp_path / "in.gpkg", with_village_park(tiny_layers()))
    zoning("classify", path, "--out", tmp_path / "out")
    shown = render(
        tmp_path / "out" / "classified.gpkg", "village_parks", "village_park_id", "village_park_id"
    )
    assert shown["renderer"] == "singleSymbol" and len(shown["features"]) >= 7
    # outline only: the plots under them show through (here: white, nothing else drawn)
    assert {colour for _, _, colour in shown["features"]} == {"#FFFFFF"}


def test_qgis_opens_the_workshops_as_points_coloured_by_class(tmp_path):
    layers = tiny_layers()
    base = {
        "licensed": True,
        "env_permit": "yes",
        "pollution": False,
        "three_in_one": False,
        "illegal_building": False,
        "backward_capacity": False,
        "hazards_found": 0,
        "hazards_open": 0,
        "floor_area_m2": 100.0,
    }
    spots = {"W1": (50, 25), "W2": (700, 700), "W3": (3020, 1020), "W4": (50, 1025)}
    changes = {"W2": {"three_in_one": True}, "W3": {"pollution": True}}
    layers["workshops"] = gpd.GeoDataFrame(
        [{"workshop_id": w, **base, **changes.get(w, {})} for w in spots],
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in spots.values()],
        crs=4549,
    )
    layers["micro_parks"] = gpd.GeoDataFrame(
        {"micro_park_id": ["M1"], "floor_area_m2": [1000.0], "occupied_m2": [0.0]},
        geometry=[rect(500, 500, 50, 50)],
        crs=4549,
    )
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    zoning("workshops", path, "--out", tmp_path / "out")
    shown = render(tmp_path / "out" / "workshops.gpkg", "workshops", "workshop_id", "class")
    assert shown["renderer"] == "categorizedSymbol" and shown["column"] == "class"
    assert all(
        label.startswith(WORKSHOP_CLASS_ZH[value]) for value, label, _ in shown["categories"]
    )
    got = {wid: (cls, colour) for wid, cls, colour in shown["features"]}
    assert set(got) == set(spots) and len({cls for cls, _ in got.values()}) >= 2
    for wid, (cls, colour) in got.items():
        assert colour == WORKSHOP_PALETTE[cls], (wid, cls)
    parks = render(
        tmp_path / "out" / "workshops.gpkg", "micro_parks", "micro_park_id", "micro_park_id"
    )
    assert parks["renderer"] == "singleSymbol"
    assert parks["features"][0][2] == "#56B4E9"


def test_qgis_opens_the_ledger_items_coloured_by_computed_class(ledger):
    shown = render(ledger, "items", "item_id", "computed_class")
    assert shown["renderer"] == "categorizedSymbol"
    assert shown["column"] == "computed_class"
    got = {item: (cls, colour) for item, cls, colour in shown["features"]}
    assert len(got) == 7 and len({cls for cls, _ in got.values()}) == 3
    for item, (cls, colour) in got.items():
        assert colour == PALETTE[cls], (item, cls)


def test_qgis_opens_the_ledger_status_coloured_by_progress(ledger, tmp_path):
    from zoning import ledger as lg

    rows = [
        ("parcel", "P001", "in_progress", "2026-05-02", ""),
        ("parcel", "P004", "cleared", "2026-05-03", "已腾退"),
    ]
    assert lg.import_sheet(ledger, sheet(tmp_path, rows), today="2026-06-01").accepted == 2
    zoning("ledger", "report", ledger, "--as-of", "2026-05-31", "--out", tmp_path / "r")
    shown = render(tmp_path / "r" / "status.gpkg", "status", "item_id", "status")
    assert shown["renderer"] == "categorizedSymbol" and shown["column"] == "status"
    assert {value for value, _, _ in shown["categories"]} == set(STATUS_ZH)
    got = {item: (status, colour) for item, status, colour in shown["features"]}
    assert got["P001"][0] == "in_progress" and got["P004"][0] == "cleared"
    for item, (status, colour) in got.items():
        group = status if status in OPEN_STATUSES else "final"
        assert colour == STATUS_GROUPS[group], (item, status)


def test_qgis_opens_the_changed_plots_coloured_by_their_new_class(tmp_path):
    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    (tmp_path / "a.toml").write_text("[parameters]\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text("[parameters]\nscattered_max_mu = 1.0\n", encoding="utf-8")
    zoning(
        "compare",
        path,
        "--config",
        tmp_path / "a.toml",
        "--config",
        tmp_path / "b.toml",
        "--out",
        tmp_path / "cmp",
    )
    shown = render(tmp_path / "cmp" / "changed.gpkg", "changed", "parcel_id", "to_class")
    assert shown["renderer"] == "categorizedSymbol" and shown["column"] == "to_class"
    assert shown["features"], "the two scenarios should move a plot"
    for pid, to_class, colour in shown["features"]:
        assert colour == PALETTE[to_class], (pid, to_class)


def test_qgis_opens_the_shapefile_export_coloured_by_class(tmp_path):
    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    zoning("classify", path, "--out", tmp_path / "out", "--format", "shp")
    shown = render(tmp_path / "out" / "shp" / "parcels.shp", "parcels", "parcel_id", "class")
    assert shown["renderer"] == "categorizedSymbol" and shown["column"] == "class"
    assert shown["categories"][0][1] == "保留提升 retain"
    assert len(shown["features"]) == 7
    for pid, cls, colour in shown["features"]:
        assert colour == PALETTE[cls], (pid, cls)


def test_qgis_opens_the_blocks_by_mode_and_freed_sites_by_reuse(classified, tmp_path):
    table = tmp_path / "e.csv"
    table.write_text(
        "enterprise_id,enterprise,year,land_mu,tax_10k_yuan\n1,甲厂,2024,10,20\n", encoding="utf-8"
    )
    zoning("blocks", classified, "--enterprises", table, "--out", tmp_path / "b", "--quiet")
    gpkg = tmp_path / "b" / "blocks.gpkg"
    for layer, id_field, column, palette in (
        ("blocks", "block_id", "mode", MODE_PALETTE),
        ("freed_sites", "site_id", "reuse", REUSE_PALETTE),
    ):
        shown = render(gpkg, layer, id_field, column)
        assert shown["renderer"] == "categorizedSymbol" and shown["column"] == column
        assert shown["features"], layer
        for fid, value, colour in shown["features"]:
            assert colour == palette[value], (layer, fid, value)


def test_qgis_opens_a_ledgers_blocks_and_sites_coloured_by_mode_and_reuse(classified, tmp_path):
    from zoning.blocks import run
    from zoning.outputs import init_ledger, read_classified_plots, write_blocks
    from zoning.vocab import MODE_ZH, MODES, REUSE_ZH, REUSES

    plots, _ = read_classified_plots(classified)
    write_blocks(run(plots), tmp_path / "blocks")
    ledger = tmp_path / "ledger.gpkg"
    assert init_ledger(ledger, classified, blocks_dir=tmp_path / "blocks") == 7 + 4 + 3
    shown = render(ledger, "items", "item_id", "computed_class")
    assert shown["renderer"] == "categorizedSymbol" and shown["column"] == "computed_class"
    categories = {value: (label, colour) for value, label, colour in shown["categories"]}
    for words, palette, zh in ((MODES, MODE_PALETTE, MODE_ZH), (REUSES, REUSE_PALETTE, REUSE_ZH)):
        for value in words:
            assert categories[value][1] == palette[value], value
            assert categories[value][0].startswith(zh[value]), value
    # blocks and sites come after the plots, so their markers are drawn on top
    drawn = [(v, c) for _, v, c in shown["features"] if v in (*MODES, *REUSES)]
    assert {v for v, _ in drawn} == {"manage", "reclaim", "amenity"}
    for value, colour in drawn:
        assert colour == {**MODE_PALETTE, **REUSE_PALETTE}[value], value
