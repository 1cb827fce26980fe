"""The offline map in a real browser (Debian's Chromium driven by Playwright).

The network is cut off for the page: every http(s) request is aborted and recorded.
On CI (CI=true) a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import tiny_layers, with_village_park
from zoning.classification import classify_layers
from zoning.layers import frames_to_layers
from zoning.maps import build_map, write_map

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[1] / "out" / "test-artifacts"
EVIL = "<img src=x onerror=alert(1)>"
ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip("Debian chromium not installed (CI installs it)", allow_module_level=True)
sync_api = (
    pytest.importorskip("playwright.sync_api")
    if not os.environ.get("CI")
    else __import__("playwright.sync_api", fromlist=["sync_playwright"])
)


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    layers = with_village_park(tiny_layers())
    layers["parcels"].loc[1, "enterprise"] = EVIL  # P002
    result = classify_layers(frames_to_layers(**layers))
    data = {"parcels": result.parcels, "village_parks": result.village_parks}
    for name in ("towns", "dev_boundary", "township_parks", "cluster_points", "protected"):
        data[name] = getattr(result.layers, name)
    path = tmp_path_factory.mktemp("map") / "map.html"
    write_map(build_map(data, title="测试 <b>地图</b>"), path)
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page with the network cut off, recording what went wrong."""

    def __init__(self, browser, path: Path):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.page.route("http*://**", self._abort)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.zoningLayers !== undefined")

    def _abort(self, route):
        self.requests.append(route.request.url)
        route.abort()

    def open_layers(self):
        """The layer control starts collapsed to a button; hovering opens it."""
        self.page.hover(".leaflet-control-layers")
        self.page.wait_for_selector(".leaflet-control-layers-expanded")

    def click_plot(self, parcel_id: str):
        xy = self.page.evaluate(
            """(pid) => {
            const hit = window.zoningPlots.find(p => p.props.parcel_id === pid);
            const map = hit.layer._map;
            map.setView(hit.layer.getBounds().getCenter(), 16, {animate: false});
            const pt = map.latLngToContainerPoint(hit.layer.getBounds().getCenter());
            const box = map.getContainer().getBoundingClientRect();
            return [pt.x + box.left, pt.y + box.top];
        }""",
            parcel_id,
        )
        self.page.mouse.click(*xy)
        self.page.wait_for_selector(".leaflet-popup-content")
        return self.page.inner_text(".leaflet-popup-content")


def test_offline_page_loads_cleanly_with_every_layer(browser, map_file):
    page = Page(browser, map_file)
    assert page.requests == []
    assert page.errors == []
    assert page.page.query_selector(".leaflet-control-layers-expanded") is None  # collapsed
    page.open_layers()
    control = page.page.inner_text(".leaflet-control-layers")
    for name in (
        "镇街",
        "城镇开发边界",
        "镇级工业园区",
        "村级工业集聚点",
        "生态保护红线/永久基本农田",
        "村级工业园区（连片地块）",
        "保留提升 (2)",
        "纳入镇级园区 (3)",
        "腾挪清退 (3)",
        "纳入园区连线",
    ):
        assert name in control, name
    legend = page.page.inner_text(".zoning-legend")
    assert "腾挪清退 3 块" in legend
    assert "测试 <b>地图</b>" in page.page.inner_text(".zoning-title")  # escaped title
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(ARTEFACTS / "tiny_map.png"))
    page.page.close()


def test_click_opens_the_popup_with_the_class(browser, map_file):
    page = Page(browser, map_file)
    text = page.click_plot("P001")
    assert "P001" in text and "纳入镇级园区" in text and "C1" in text and "T1" in text
    assert "浒山街道" in text
    page.page.close()


def test_script_in_the_data_shows_as_text(browser, map_file):
    page = Page(browser, map_file)
    text = page.click_plot("P002")
    assert EVIL in text
    assert page.page.query_selector(".leaflet-popup-content img") is None
    assert page.dialogs == [] and page.errors == []
    page.page.close()


def test_search_by_id_and_enterprise(browser, map_file):
    page = Page(browser, map_file)
    page.page.fill(".zoning-search input", "甲厂")
    page.page.click(".zoning-search li")
    page.page.wait_for_selector(".leaflet-popup-content")
    assert "P001" in page.page.inner_text(".leaflet-popup-content")
    page.page.fill(".zoning-search input", "P00")
    assert len(page.page.query_selector_all(".zoning-search li")) == 8
    page.page.close()


def test_english_popups(browser, tmp_path, map_file):
    layers = tiny_layers()
    result = classify_layers(frames_to_layers(**layers))
    path = tmp_path / "en.html"
    write_map(build_map({"parcels": result.parcels}, lang="en"), path)
    page = Page(browser, path)
    text = page.click_plot("P003")
    assert "retain" in text and "Reason" in text and "R2" in text
    page.page.close()


def test_hidden_layers_draw_when_switched_on(browser, map_file):
    page = Page(browser, map_file)
    page.open_layers()
    for label in ("村级工业园区（连片地块）", "纳入园区连线"):
        page.page.click(f".leaflet-control-layers label:has-text('{label}') input")
    counts = page.page.evaluate("""() => Object.fromEntries(Object.entries(window.zoningLayers)
        .map(([k, v]) => [k, v.getLayers().length]))""")
    assert counts["村级工业园区（连片地块）"] == 1 and counts["纳入园区连线"] == 1
    assert page.errors == [] and page.requests == []
    page.page.close()


def test_workshop_layer_clusters_and_popups(browser, tmp_path):
    import geopandas as gpd
    import shapely

    layers = tiny_layers()
    result = classify_layers(frames_to_layers(**layers))
    x0, y0 = 620_000.0, 3_342_000.0
    ws = gpd.GeoDataFrame(
        {
            "workshop_id": ["W1", "W2"],
            "class": ["to_park", "upgrade"],
            "class_zh": ["园区集聚", "改造提升"],
            "fixes": ["licence", ""],
            "parcel_id": ["", "P001"],
            "target_micro_park_id": ["M1", ""],
            "distance_m": [120.0, None],
            "town": ["浒山街道", "浒山街道"],
            "reason": [EVIL, "on plot P001"],
        },
        geometry=[shapely.Point(x0 + 700, y0 + 700), shapely.Point(x0 + 50, y0 + 25)],
        crs=4549,
    )
    parks = gpd.GeoDataFrame(
        {"micro_park_id": ["M1"], "capacity_m2": [500.0]},
        geometry=[shapely.box(x0 + 800, y0 + 700, x0 + 850, y0 + 750)],
        crs=4549,
    )
    path = tmp_path / "ws.html"
    write_map(build_map({"parcels": result.parcels, "workshops": ws, "micro_parks": parks}), path)
    page = Page(browser, path)
    page.open_layers()
    page.page.click(".leaflet-control-layers label:has-text('家庭作坊') input")
    page.page.evaluate("""() => {
        const map = Object.values(window.zoningLayers)[0]._map;
        map.setView([30.2, 121.25], 18, {animate: false});
    }""")
    lonlat = ws.to_crs(4326).geometry.iloc[0]
    page.page.evaluate(f"""() => {{
        const map = Object.values(window.zoningLayers)[0]._map;
        map.setView([{lonlat.y}, {lonlat.x}], 19, {{animate: false}});
    }}""")
    page.page.wait_for_selector(".zoning-dot")
    page.page.click(".zoning-dot")
    page.page.wait_for_selector(".leaflet-popup-content")
    text = page.page.inner_text(".leaflet-popup-content")
    assert "W1" in text and "园区集聚" in text and "M1" in text and EVIL in text
    assert page.page.query_selector(".leaflet-popup-content img") is None
    assert page.errors == [] and page.requests == [] and page.dialogs == []
    legend = page.page.inner_text(".leaflet-bottom.leaflet-right .zoning-legend")
    assert "园区集聚 1" in legend and "改造提升 1" in legend
    page.page.close()


def test_colour_by_progress_switches_plots_and_legend(browser, tmp_path):
    import pandas as pd

    from zoning.outputs import join_status

    result = classify_layers(frames_to_layers(**tiny_layers()))
    data = {"parcels": result.parcels.copy()}
    status = pd.DataFrame(
        {
            "kind": "parcel",
            "item_id": ["P001", "P003"],
            "status": ["absorbed", "in_progress"],
            "last_event": ["2026-05-10", "2026-05-12"],
            "final": [True, False],
        }
    )
    join_status(data, status)
    path = tmp_path / "status.html"
    write_map(build_map(data), path)
    page = Page(browser, path)
    fill = """(pid) => window.zoningPlots.find(p => p.props.parcel_id === pid)
                  .layer.options.fillColor"""
    assert page.page.evaluate(fill, "P001") == "#0072B2"  # consolidate blue
    page.page.check(".zoning-colour-by input[value=status]")
    assert page.page.evaluate(fill, "P001") == "#009E73"  # done: green
    assert page.page.evaluate(fill, "P003") == "#E69F00"  # under way: orange
    assert page.page.evaluate(fill, "P002") == "#999999"  # not started: grey
    legend = page.page.inner_text(".leaflet-bottom.leaflet-left .zoning-legend")
    assert "整治进度" in legend and "已完成 1 块" in legend and "推进中 1 块" in legend
    text = page.click_plot("P001")
    assert "已纳入园区" in text and "2026-05-10" in text
    page.page.check(".zoning-colour-by input[value=class]")
    assert page.page.evaluate(fill, "P001") == "#0072B2"
    assert "村级工业用地分类" in page.page.inner_text(".leaflet-bottom.leaflet-left .zoning-legend")
    assert page.errors == [] and page.requests == []
    page.page.close()


# --- issue 16 item 4: printing, first view, per-town pages ------------------------------

HIDDEN_IN_PRINT = (
    ".leaflet-control-zoom",
    ".leaflet-control-layers",
    ".zoning-search",
    ".zoning-fullscreen",
)


def displays(page, selectors) -> dict[str, str]:
    return page.evaluate(
        """(sels) => Object.fromEntries(sels.map(s => {
        const n = document.querySelector(s);
        return [s, n ? getComputedStyle(n).display : "missing"];
    }))""",
        list(selectors),
    )


def test_printing_hides_the_controls_and_keeps_the_legend(browser, map_file):
    page = Page(browser, map_file)
    shown = displays(page.page, HIDDEN_IN_PRINT + (".zoning-legend", ".zoning-title"))
    assert "none" not in shown.values() and "missing" not in shown.values(), shown
    page.page.emulate_media(media="print")
    printed = displays(
        page.page, HIDDEN_IN_PRINT + (".zoning-legend", ".zoning-title", ".leaflet-control-scale")
    )
    assert all(printed[s] == "none" for s in HIDDEN_IN_PRINT), printed
    assert printed[".zoning-legend"] != "none" and printed[".zoning-title"] != "none"
    assert printed[".leaflet-control-scale"] != "none"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTEFACTS / "tiny_map_print.pdf"
    page.page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    raw = pdf.read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?!s)\b", raw)) == 1  # one sheet
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", raw)  # A3 landscape
    assert abs(float(box.group(1)) - 1190.55) < 2 and abs(float(box.group(2)) - 841.89) < 2
    page.page.close()


def test_first_view_keeps_plots_clear_of_the_legend(browser, map_file):
    page = Page(browser, map_file)
    overlap = page.page.evaluate("""() => {
        const legend = document.querySelector(".zoning-legend").getBoundingClientRect();
        const map = window.zoningPlots[0].layer._map;
        const box = map.getContainer().getBoundingClientRect();
        return window.zoningPlots.filter(p => {
            const b = p.layer.getBounds();
            const a = map.latLngToContainerPoint(b.getNorthWest());
            const c = map.latLngToContainerPoint(b.getSouthEast());
            const r = {left: a.x + box.left, top: a.y + box.top,
                       right: c.x + box.left, bottom: c.y + box.top};
            return r.left < legend.right && r.right > legend.left &&
                   r.top < legend.bottom && r.bottom > legend.top;
        }).map(p => p.props.parcel_id);
    }""")
    assert overlap == []
    page.page.close()


def test_a_town_page_highlights_the_town_and_links_back(browser, tmp_path):
    from zoning.maps import town_file, write_town_maps

    result = classify_layers(frames_to_layers(**tiny_layers()))
    data = {
        "parcels": result.parcels,
        "towns": result.layers.towns,
        "township_parks": result.layers.township_parks,
    }
    write_town_maps(data, tmp_path)
    page = Page(browser, tmp_path / town_file("浒山街道"))
    assert page.page.inner_text(".zoning-town-label") == "浒山街道"
    assert page.page.evaluate("window.zoningHighlight.getLayers().length") == 1
    text = page.click_plot("P001")
    assert "浒山工业园（T1）" in text  # the target park by name
    page.page.click(".zoning-back")
    page.page.wait_for_url("**/index.html")
    assert "浒山街道" in page.page.inner_text("table")
    assert page.errors == [] and page.requests == []
    page.page.close()


def test_blocks_and_freed_sites_switch_on_with_legend_and_chinese_popup(
    browser, classified, tmp_path
):
    """SPEC §11: the blocks layer (off at start) draws when switched on, shows its legend
    while on, and a block's popup gives its mode and reason in Chinese."""
    import shutil

    from zoning.blocks import run
    from zoning.outputs import read_classified, read_classified_plots, write_blocks

    out = tmp_path / "out"
    shutil.copytree(classified, out)
    write_blocks(run(read_classified_plots(out)[0]), out / "blocks")
    path = write_map(build_map(read_classified(out)), tmp_path / "blocks.html")
    page = Page(browser, path)
    assert "老旧工业区块" not in page.page.inner_text("body")  # no legend while off
    page.open_layers()
    page.page.click(
        ".leaflet-control-layers label:has-text('老旧工业区块（按改造方式） (4)') input"
    )
    assert "管理提升式 4 个" in page.page.inner_text(".leaflet-bottom.leaflet-right")
    text = page.page.evaluate("""() => {
        const group = window.zoningBlockLayers.blocks.getLayers()[0];
        const one = group.getLayers().find(l => l.feature.properties.block_id === "P001");
        one.openPopup();
        return document.querySelector(".leaflet-popup-content").innerText;
    }""")
    assert "管理提升式" in text and "建成年份 2005 > 2000" in text and "built_year" not in text
    page.page.click(".leaflet-control-layers label:has-text('腾退土地（按利用方向） (3)') input")
    assert "复垦 2 片" in page.page.inner_text(".leaflet-bottom.leaflet-right")
    page.page.click(
        ".leaflet-control-layers label:has-text('老旧工业区块（按改造方式） (4)') input"
    )
    assert "管理提升式" not in page.page.inner_text(".leaflet-bottom.leaflet-right")
    assert page.errors == [] and page.requests == []
    page.page.close()
