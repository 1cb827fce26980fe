"""Maps: payload contents, escaping, basemaps and the GCJ-02 shift, per-town pages."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely

from conftest import tiny_layers, with_village_park
from zoning import crs as zcrs
from zoning.classification import classify_layers
from zoning.errors import ZoningError
from zoning.layers import frames_to_layers
from zoning.maps import (
    build_map,
    escape_text,
    map_payload,
    script_json,
    town_file,
    write_map,
    write_town_maps,
)
from zoning.outputs import init_ledger, write_ledger_report
from zoning.vocab import PALETTE

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
        k: PALETTE[k] for k in ("retain", "consolidate", "vacate")
    }
    assert [c["count"] for c in payload["classes"]] == [2, 3, 3]
    assert set(payload["context"]) == {
        "towns",
        "protected",
        "dev_boundary",
        "township_parks",
        "cluster_points",
        "village_parks",
    }
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
    coords = np.array(
        map_payload(data)["classes"][0]["data"]["features"][0]["geometry"]["coordinates"][0]
    )
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
    assert [("vec_w" in t["url"], "cva_w" in t["url"], "tk=abc123" in t["url"]) for t in tiles] == [
        (True, False, True),
        (False, True, True),
    ]


def test_town_file_names_are_readable_safe_and_unique():
    assert town_file("浒山街道") == "浒山街道.html"
    names = [
        "浒山街道",
        "../../etc/passwd",
        "a/b\\c:d*e?",
        "",
        "<script>",
        "index",
        "county",
        "a b",
        "a_b",
    ]
    files = [town_file(n) for n in names]
    assert all(re.fullmatch(r"[\w\-·()（）]+\.html", f) for f in files), files
    assert len({f.lower() for f in files}) == len(names)
    assert "index.html" not in files and "county.html" not in files


def test_by_town_writes_index_and_one_map_per_town(data, tmp_path):
    index = write_town_maps(data, tmp_path / "maps")
    page = index.read_text(encoding="utf-8")
    for town in ("浒山街道", "宗汉街道"):
        assert town in page and town_file(town) in page
        assert (tmp_path / "maps" / town_file(town)).exists()
    assert (tmp_path / "maps" / "county.html").exists()
    one = (tmp_path / "maps" / town_file("宗汉街道")).read_text(encoding="utf-8")
    assert "P003" in one and "P001" not in one
    assert (tmp_path / "maps" / "宗汉街道.html").exists()
    payload = json.loads(re.search(r"zoningMap\(\w+, (\{.*\})\);", one).group(1))
    assert payload["back"]["href"] == "index.html"
    assert payload["highlight"]["name"] == "宗汉街道"
    assert len(payload["highlight"]["data"]["features"]) == 1
    county = (tmp_path / "maps" / "county.html").read_text(encoding="utf-8")
    assert '"highlight":{' not in county and '"back":{' not in county


def test_popups_name_the_target_park(data):
    props = {
        f["properties"]["parcel_id"]: f["properties"]
        for c in map_payload(data)["classes"]
        for f in c["data"]["features"]
    }
    assert props["P001"]["target_id"] == "浒山工业园（T1）"
    assert props["P005"]["target_id"] == "南村集聚点（K1）"  # R1: in a cluster point
    assert props["P003"].get("target_id") in (None, "")  # no target: nothing shown
    assert data["parcels"].set_index("parcel_id").loc["P001", "target_id"] == "T1"
    alone = {
        f["properties"]["parcel_id"]: f["properties"]
        for c in map_payload({"parcels": data["parcels"]})["classes"]
        for f in c["data"]["features"]
    }
    assert alone["P001"]["target_id"] == "T1"  # no park layer: the id as it is


@pytest.mark.parametrize("basemap, layers", [("tianditu-img", ["img_w", "cia_w"])])
def test_tianditu_imagery_has_its_labels(data, monkeypatch, basemap, layers):
    monkeypatch.setenv("TIANDITU_TOKEN", "abc123")
    tiles = map_payload(data, basemap=basemap)["basemap"]
    assert [[layer in t["url"] for layer in layers] for t in tiles] == [
        [True, False],
        [False, True],
    ]
    monkeypatch.delenv("TIANDITU_TOKEN")
    with pytest.raises(ZoningError, match="TIANDITU_TOKEN"):
        map_payload(data, basemap=basemap)


def test_gaode_imagery_shifts_to_gcj02_like_gaode(data):
    img = map_payload(data, basemap="gaode-img")
    vec = map_payload(data, basemap="gaode")
    assert img["classes"] == vec["classes"]  # the same GCJ-02 coordinates
    assert img["classes"] != map_payload(data)["classes"]
    assert ["style=6" in t["url"] and "webst" in t["url"] for t in img["basemap"]] == [True, False]


def test_multipolygon_plots_survive(data):
    d = dict(data)
    p = d["parcels"].copy()
    p.loc[0, "geometry"] = shapely.MultiPolygon(
        [
            shapely.box(620000, 3342000, 620010, 3342010),
            shapely.box(620020, 3342000, 620030, 3342010),
        ]
    )
    d["parcels"] = p
    feats = [
        f
        for c in map_payload(d)["classes"]
        for f in c["data"]["features"]
        if f["properties"]["parcel_id"] == "P001"
    ]
    assert feats[0]["geometry"]["type"] == "MultiPolygon"


def test_grades_beside_the_classification_reach_the_popups(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    from conftest import write_gpkg
    from zoning.outputs import read_classified

    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "zoning", "classify", path, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    pd.DataFrame(
        {"enterprise_id": ["E1", "E2"], "enterprise": ["甲厂", "乙厂"], "grade": ["D", "A"]}
    ).to_csv(out / "grades.csv", index=False)
    payload = map_payload(read_classified(out))
    props = {
        f["properties"]["parcel_id"]: f["properties"]
        for c in payload["classes"]
        for f in c["data"]["features"]
    }
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
    from zoning.outputs import read_classified

    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "zoning", "classify", path, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    ledger = out / "ledger.gpkg"
    init_ledger(ledger, out)
    sheet = tmp_path / "may.csv"
    pd.DataFrame(
        {
            "kind": ["parcel", "parcel"],
            "item_id": ["P001", "P003"],
            "status": ["absorbed", "in_progress"],
            "date": ["2026-05-10", "2026-05-12"],
            "note": ["done", ""],
        }
    ).to_csv(sheet, index=False)
    lg.import_sheet(ledger, sheet, "2026-06-01")
    payload = map_payload(read_classified(out))
    props = {
        f["properties"]["parcel_id"]: f["properties"]
        for c in payload["classes"]
        for f in c["data"]["features"]
    }
    assert props["P001"]["sg"] == "final" and props["P001"]["status_name"] == "已纳入园区"
    assert props["P001"]["last_event"] == "2026-05-10"
    assert props["P003"]["sg"] == "in_progress" and props["P002"]["sg"] == "pending"
    groups = {g["key"]: g for g in payload["status"]["groups"]}
    parcels = read_classified(out)["parcels"]
    assert sum(g["count"] for g in groups.values()) == len(parcels)
    assert groups["final"]["count"] == 1
    assert groups["final"]["mu"] == pytest.approx(
        parcels.loc[parcels["parcel_id"] == "P001", "area_mu"].sum(), rel=1e-3
    )
    # the same from the report's layer, as of a date before P003 moved
    write_ledger_report(ledger, "2026-05-11", tmp_path / "r")
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


# --- the map command: options checked first, nothing written on a bad one ------------


def zoning(*args, env=None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def one_line_error(res, *words):
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    from conftest import write_gpkg

    tmp = tmp_path_factory.mktemp("mapcli")
    out = tmp / "classified"
    res = zoning("classify", write_gpkg(tmp / "in.gpkg", tiny_layers()), "--out", out)
    assert res.returncode == 0, res.stderr
    return out


def test_map_offline_online_flags(classified, tmp_path):
    res = zoning("map", classified, "--out", tmp_path / "off.html", "--offline")
    assert res.returncode == 0, res.stderr
    off = (tmp_path / "off.html").read_text(encoding="utf-8")
    assert "unpkg.com" not in off and "cdn.jsdelivr" not in off and "L.map" in off
    assert zoning("map", classified, "--out", tmp_path / "on.html", "--online").returncode == 0
    on = (tmp_path / "on.html").read_text(encoding="utf-8")
    assert re.search(r'<script src="https?://[^"]*leaflet', on) and len(on) < len(off)


def test_map_writes_its_figures_beside_the_map_only(classified, tmp_path):
    before = snapshot(classified)
    res = zoning("map", classified, "--out", tmp_path / "m" / "map.html")
    assert res.returncode == 0, res.stderr
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "map.html",
        "overview.png",
        "towns_mu.png",
    }
    assert snapshot(classified) == before  # the classification is only read


@pytest.mark.parametrize(
    "args, words",
    [
        (["--basemap", "tianditu"], ["TIANDITU_TOKEN"]),
        (["--title", "a\x07b"], ["--title", "U+0007"]),
        (["--lang", "fr"], None),  # click's own usage error (exit 2), nothing written either
    ],
)
def test_a_bad_option_writes_nothing(classified, tmp_path, args, words):
    import os

    env = {k: v for k, v in os.environ.items() if k != "TIANDITU_TOKEN"}
    before = snapshot(classified)
    for extra in ([], ["--by-town"]):
        res = zoning("map", classified, "--out", tmp_path / "m" / "x.html", *args, *extra, env=env)
        if words is None:
            assert res.returncode == 2 and "Traceback" not in res.stderr
        else:
            one_line_error(res, *words)
        assert not (tmp_path / "m").exists()
    assert snapshot(classified) == before


def test_an_unreadable_status_file_writes_nothing(classified, tmp_path):
    bad = tmp_path / "status.gpkg"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    before = snapshot(classified)
    res = zoning("map", classified, "--out", tmp_path / "m" / "x.html", "--status", bad)
    one_line_error(res, "status.gpkg")
    assert not (tmp_path / "m").exists() and snapshot(classified) == before


def test_an_existing_file_as_out_folder_is_one_line(classified, tmp_path):
    from conftest import write_gpkg

    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    one_line_error(
        zoning("map", classified, "--by-town", "--out", a_file), str(a_file), "not a folder"
    )
    one_line_error(zoning("map", classified, "--out", a_file / "sub" / "m.html"), "is a file")
    one_line_error(zoning("map", classified, "--out", classified), "is a folder")
    src = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    one_line_error(zoning("classify", src, "--out", a_file), "not a folder")
    (tmp_path / "a.toml").write_text("")
    one_line_error(
        zoning(
            "compare",
            src,
            "--config",
            tmp_path / "a.toml",
            "--config",
            tmp_path / "a.toml",
            "--out",
            a_file / "cmp",
        ),
        "is a file",
    )
    assert a_file.read_text() == "keep me"


def test_map_reports_progress_on_stderr(classified, tmp_path):
    res = zoning("map", classified, "--by-town", "--out", tmp_path / "t")
    assert res.returncode == 0, res.stderr
    assert "reading" in res.stderr and "7 plots" in res.stderr
    assert re.search(r"town map 2/2: \d+ plots", res.stderr)
    assert "Glyph" not in res.stderr
    quiet = zoning("map", classified, "--out", tmp_path / "q.html", "--quiet")
    assert quiet.returncode == 0 and "reading" not in quiet.stderr


# --- damaged files beside a classification, outputs that cannot be written ---------


@pytest.mark.parametrize(
    "name, content, what",
    [
        ("grades.csv", b"enterprise,grade\n\xff\xfe\x81 broken", "亩均 grades"),
        ("workshops.gpkg", b"SQLite format 3\x00" + b"\x13" * 500, "the workshops"),
        ("ledger.gpkg", b"not a database at all" * 50, "progress"),
    ],
)
def test_a_damaged_optional_file_is_a_warning_and_the_map_is_drawn(
    classified, tmp_path, name, content, what
):
    import shutil

    folder = tmp_path / "c"
    shutil.copytree(classified, folder)
    (folder / name).write_bytes(content)
    res = zoning("map", folder, "--out", tmp_path / "m.html", "--quiet")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("warning")]
    assert len(warnings) == 1 and name in warnings[0] and what in warnings[0], res.stderr
    assert "zoningMap(" in (tmp_path / "m.html").read_text(encoding="utf-8")


def test_a_damaged_classification_is_one_line(classified, tmp_path):
    import shutil

    folder = tmp_path / "c"
    shutil.copytree(classified, folder)
    data = (folder / "classified.gpkg").read_bytes()
    (folder / "classified.gpkg").write_bytes(data[: len(data) // 3])
    one_line_error(zoning("map", folder, "--out", tmp_path / "m.html"), "classified.gpkg")
    assert not (tmp_path / "m.html").exists()


def test_an_output_that_cannot_be_written_is_one_line(classified, tmp_path):
    """/proc takes no new files, even from root (chmod would not stop root)."""
    from conftest import write_gpkg

    one_line_error(
        zoning("map", classified, "--out", "/proc/zoning-map.html"), "/proc/zoning-map.html"
    )
    one_line_error(
        zoning("map", classified, "--by-town", "--out", "/proc/zoning-maps"), "/proc/zoning-maps"
    )
    src = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    one_line_error(zoning("classify", src, "--out", "/proc/zoning-out"), "/proc/zoning-out")


def test_a_full_disk_is_one_line(classified, tmp_path, monkeypatch):
    import errno
    import os

    from click.testing import CliRunner

    from zoning import _io
    from zoning.cli import main

    real = _io.tempfile.mkstemp

    def full(*args, **kwargs):  # the disk fills up once the first file is being written
        fd, name = real(*args, **kwargs)
        os.close(fd)
        os.unlink(name)
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(_io.tempfile, "mkstemp", full)
    res = CliRunner().invoke(
        main, ["map", str(classified), "--out", str(tmp_path / "m.html"), "--quiet"]
    )
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error")]
    assert lines == [f"error: cannot write {tmp_path / 'm.html'} (No space left on device)"]
    assert list(tmp_path.iterdir()) == []


def popup_columns(payload, name):
    col = payload["workshops"]["columns"][name]
    return [col["values"][c] for c in col["codes"]] if isinstance(col, dict) else col


def test_popups_speak_the_map_language(data):
    """Issue 16: reasons and fixes owed in the map's language, whatever --lang the output
    was written in; fixes by name, not by code ("separation")."""
    import geopandas as gpd

    parcels = data["parcels"]
    assert "reason_en" in parcels  # written in Chinese, English beside it
    ws = gpd.GeoDataFrame(
        {
            "workshop_id": ["W1", "W2"],
            "class": ["to_park", "upgrade"],
            "fixes": ["licence;separation", ""],
            "reason": ["三合一场所", "违法建筑"],
            "reason_en": ["three-in-one (三合一)", "illegal building"],
            "target_micro_park_id": ["", ""],
        },
        geometry=[shapely.Point(p.x, p.y) for p in parcels.geometry.representative_point()[:2]],
        crs=parcels.crs,
    )
    for lang, plot_reason, fixes, reasons in (
        ("zh", parcels["reason"], ["办理营业执照、三合一场所分离", ""], ["三合一场所", "违法建筑"]),
        (
            "en",
            parcels["reason_en"],
            ["business licence, separate living from production", ""],
            ["three-in-one (三合一)", "illegal building"],
        ),
    ):
        payload = map_payload({**data, "workshops": ws}, lang)
        shown = {
            f["properties"]["parcel_id"]: f["properties"]["reason"]
            for c in payload["classes"]
            for f in c["data"]["features"]
        }
        assert shown == dict(zip(parcels["parcel_id"], plot_reason, strict=True)), lang
        assert popup_columns(payload, "fixes") == fixes
        assert popup_columns(payload, "reason") == reasons
    # an output written in English shows its Chinese reasons on a Chinese map
    english = parcels.drop(columns="reason_en").assign(
        reason=parcels["reason_en"], reason_zh=parcels["reason"]
    )
    payload = map_payload({**data, "parcels": english}, "zh")
    shown = [f["properties"]["reason"] for c in payload["classes"] for f in c["data"]["features"]]
    assert sorted(shown) == sorted(parcels["reason"])


def test_workshop_popups_name_the_micro_park_where_it_has_a_name(data):
    import geopandas as gpd

    ws = gpd.GeoDataFrame(
        {
            "workshop_id": ["W1", "W2", "W3"],
            "class": ["to_park"] * 3,
            "target_micro_park_id": ["M1", "M2", ""],
            "town": ["浒山街道"] * 3,
        },
        geometry=[shapely.Point(620_100, 3_342_100)] * 3,
        crs=4549,
    )
    parks = gpd.GeoDataFrame(
        {"micro_park_id": ["M1", "M2"], "name": ["东区小微园", None]},
        geometry=[shapely.box(620_200, 3_342_200, 620_250, 3_342_250)] * 2,
        crs=4549,
    )
    payload = map_payload({**data, "workshops": ws, "micro_parks": parks})
    col = payload["workshops"]["columns"]["target_micro_park_id"]
    values = [col["values"][c] for c in col["codes"]] if isinstance(col, dict) else col
    assert values == ["东区小微园（M1）", "M2", ""]
