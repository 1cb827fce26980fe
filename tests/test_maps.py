"""Maps: payload contents, escaping, basemaps and the GCJ-02 shift, per-town pages."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely

from conftest import tiny_layers, with_village_park
from zoning import crs as zcrs
from zoning.classify import classify_layers
from zoning.errors import ZoningError
from zoning.layers import frames_to_layers
from zoning.maps import (
    PALETTE,
    build_map,
    escape_text,
    map_payload,
    script_json,
    town_file,
    write_map,
    write_town_maps,
)

EVIL = "</script><img src=x onerror=alert(1)>`${x}`\\"


@pytest.fixture(scope="module")
def data():
    layers = with_village_park(tiny_layers())
    layers["parcels"].loc[0, "enterprise"] = EVIL
    result = classify_layers(frames_to_layers(**layers))
    out = {"parcels": result.parcels, "village_parks": result.village_parks}
    for name in ("towns", "dev_boundary", "township_parks", "cluster_points", "protected"):
        out[name] = getattr(result.layers, name)
    return out


def test_escape_text_neutralises_html_and_template_literals():
    out = escape_text(EVIL)
    assert not set("<>`$\\") & set(out)
    assert escape_text(None) == "" and escape_text(float("nan")) == ""


def test_script_json_cannot_close_the_script():
    text = script_json({"name": EVIL})
    assert "<" not in text and json.loads(text)["name"] == EVIL


def test_payload_publishes_only_the_popup_fields(data):
    payload = map_payload(data)
    props = [f["properties"] for c in payload["classes"] for f in c["data"]["features"]]
    assert len(props) == 8
    keys = set().union(*props)
    assert {"parcel_id", "class", "rule", "reason"} <= keys
    assert "boundary_share" not in keys and "built_year" not in keys
    assert {c["key"]: c["color"] for c in payload["classes"]} == {
        k: PALETTE[k] for k in ("retain", "consolidate", "vacate")}
    assert [c["count"] for c in payload["classes"]] == [2, 3, 3]
    assert set(payload["context"]) == {"towns", "protected", "dev_boundary", "township_parks",
                                       "cluster_points", "village_parks"}
    assert payload["links"]["data"]["features"][0]["properties"]["target_id"] == "T1"


def test_page_embeds_raw_text_safely(data, tmp_path):
    path = write_map(build_map(data), tmp_path / "m.html")
    page = path.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "</script><img" not in page
    remote = re.findall(r"<(?:script|link)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page)
    assert remote == []


def test_online_page_links_leaflet(data, tmp_path):
    path = write_map(build_map(data), tmp_path / "m.html", offline=False)
    assert "leaflet.js" in path.read_text(encoding="utf-8")
    assert path.stat().st_size < 200_000


def test_coordinates_are_rounded_wgs84(data):
    coords = np.array(map_payload(data)["classes"][0]["data"]["features"][0]["geometry"]
                      ["coordinates"][0])
    assert (120 < coords[:, 0]).all() and (coords[:, 0] < 122).all()
    assert np.allclose(coords, np.round(coords, 6), atol=0)


def test_gaode_basemap_shifts_data_to_gcj02(data):
    plain = map_payload(data)
    gaode = map_payload(data, basemap="gaode")
    a = np.array(plain["classes"][0]["data"]["features"][0]["geometry"]["coordinates"][0])
    b = np.array(gaode["classes"][0]["data"]["features"][0]["geometry"]["coordinates"][0])
    lon, lat = zcrs.wgs84_to_gcj02(a[:, 0], a[:, 1])
    assert np.allclose(b[:, 0], lon, atol=2e-6) and np.allclose(b[:, 1], lat, atol=2e-6)
    shift_m = np.hypot((b - a)[:, 0] * 96_000, (b - a)[:, 1] * 111_000)
    assert (shift_m > 300).all() and (shift_m < 800).all()
    assert "autonavi" in gaode["basemap"][0]["url"]
    assert plain["basemap"] == []


def test_tianditu_needs_a_token(data, monkeypatch):
    monkeypatch.delenv("TIANDITU_TOKEN", raising=False)
    with pytest.raises(ZoningError, match="TIANDITU_TOKEN"):
        map_payload(data, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_TOKEN", "abc123")
    tiles = map_payload(data, basemap="tianditu")["basemap"]
    assert [("vec_w" in t["url"], "cva_w" in t["url"], "tk=abc123" in t["url"]) for t in tiles] \
        == [(True, False, True), (False, True, True)]


def test_town_file_names_are_safe():
    names = ["浒山街道", "../../etc/passwd", "a/b\\c:d*e?", "", "<script>"]
    files = [town_file(n) for n in names]
    assert all(re.fullmatch(r"town-[0-9a-f]{10}\.html", f) for f in files)
    assert len(set(files)) == len(names)


def test_by_town_writes_index_and_one_map_per_town(data, tmp_path):
    index = write_town_maps(data, tmp_path / "maps")
    page = index.read_text(encoding="utf-8")
    for town in ("浒山街道", "宗汉街道"):
        assert town in page and town_file(town) in page
        assert (tmp_path / "maps" / town_file(town)).exists()
    assert (tmp_path / "maps" / "county.html").exists()
    one = (tmp_path / "maps" / town_file("宗汉街道")).read_text(encoding="utf-8")
    assert "P003" in one and "P001" not in one


def test_multipolygon_plots_survive(data):
    d = dict(data)
    p = d["parcels"].copy()
    p.loc[0, "geometry"] = shapely.MultiPolygon([shapely.box(620000, 3342000, 620010, 3342010),
                                                 shapely.box(620020, 3342000, 620030, 3342010)])
    d["parcels"] = p
    feats = [f for c in map_payload(d)["classes"] for f in c["data"]["features"]
             if f["properties"]["parcel_id"] == "P001"]
    assert feats[0]["geometry"]["type"] == "MultiPolygon"


def test_grades_beside_the_classification_reach_the_popups(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    from conftest import write_gpkg
    from zoning.maps import read_classified

    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "zoning", "classify", path, "--out", str(out)],
                   check=True, capture_output=True)
    pd.DataFrame({"enterprise_id": ["E1", "E2"], "enterprise": ["甲厂", "乙厂"],
                  "grade": ["D", "A"]}).to_csv(out / "grades.csv", index=False)
    payload = map_payload(read_classified(out))
    props = {f["properties"]["parcel_id"]: f["properties"] for c in payload["classes"]
             for f in c["data"]["features"]}
    assert props["P001"]["grade"] == "D" and props["P002"]["grade"] == "A"
    assert props["P003"].get("grade") is None


def test_ledger_status_beside_the_classification_colours_the_plots(tmp_path):
    """A ledger beside classified.gpkg (as the demo writes it) or a report's status.gpkg
    gives each plot its status; the payload counts plots and mu per progress group."""
    import subprocess
    import sys

    import pandas as pd

    from conftest import write_gpkg
    from zoning import ledger as lg
    from zoning.maps import read_classified

    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "zoning", "classify", path, "--out", str(out)],
                   check=True, capture_output=True)
    ledger = out / "ledger.gpkg"
    lg.init(ledger, out)
    sheet = tmp_path / "may.csv"
    pd.DataFrame({"kind": ["parcel", "parcel"], "item_id": ["P001", "P003"],
                  "status": ["absorbed", "in_progress"], "date": ["2026-05-10", "2026-05-12"],
                  "note": ["done", ""]}).to_csv(sheet, index=False)
    lg.import_sheet(ledger, sheet, "2026-06-01")
    payload = map_payload(read_classified(out))
    props = {f["properties"]["parcel_id"]: f["properties"] for c in payload["classes"]
             for f in c["data"]["features"]}
    assert props["P001"]["sg"] == "final" and props["P001"]["status_name"] == "已纳入园区"
    assert props["P001"]["last_event"] == "2026-05-10"
    assert props["P003"]["sg"] == "in_progress" and props["P002"]["sg"] == "pending"
    groups = {g["key"]: g for g in payload["status"]["groups"]}
    parcels = read_classified(out)["parcels"]
    assert sum(g["count"] for g in groups.values()) == len(parcels)
    assert groups["final"]["count"] == 1
    assert groups["final"]["mu"] == pytest.approx(
        parcels.loc[parcels["parcel_id"] == "P001", "area_mu"].sum(), rel=1e-3)
    # the same from the report's layer, as of a date before P003 moved
    lg.write_report(ledger, "2026-05-11", tmp_path / "r")
    ledger.unlink()
    again = map_payload(read_classified(out, status=tmp_path / "r" / "status.gpkg"))
    groups = {g["key"]: g["count"] for g in again["status"]["groups"]}
    assert groups == {"pending": len(parcels) - 1, "final": 1}
    with pytest.raises(ZoningError, match="neither a ledger"):
        read_classified(out, status=path)


@pytest.mark.parametrize("text", ["{{7*7}}", "{% if 1 %}x{% endif %}", "{#", "{{ lipsum }}"])
def test_no_text_is_read_as_a_template(data, text):
    """Title and data go into the page as text: folium renders every element through
    Jinja2, and our markup and payload must never be its template source."""
    d = dict(data)
    d["parcels"] = data["parcels"].assign(enterprise=text, town=text + "镇")
    page = build_map(d, title=text).get_root().render()
    assert f"<title>{escape_text(text)}</title>" in page
    assert json.dumps(text + "镇", ensure_ascii=False)[1:-1] in page
