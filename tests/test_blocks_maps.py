"""Blocks and freed sites (SPEC §11) on the HTML maps and the town map sheets: switchable
layers coloured by mode and reuse, legends, popups with the reason in the map's language."""

from __future__ import annotations

import shutil

import pytest

from zoning import figures
from zoning.maps import build_map, map_payload, reason_in, town_data, write_map
from zoning.outputs import read_classified, read_classified_plots, write_blocks
from zoning.vocab import MODE_PALETTE, REUSE_PALETTE


@pytest.fixture(scope="module")
def folder(classified, tmp_path_factory):
    """The tiny county's classification with a zoning blocks output in OUT/blocks (as the
    demo writes it): blocks P001, P002 (浒山街道), P003, P005 (宗汉街道), all manage;
    freed sites P004, P007 reclaim (宗汉街道) and P006 amenity (浒山街道)."""
    from zoning.blocks import run

    out = tmp_path_factory.mktemp("map") / "out"
    shutil.copytree(classified, out)
    plots, _ = read_classified_plots(out)
    write_blocks(run(plots), out / "blocks")
    return out


@pytest.fixture(scope="module")
def data(folder):
    return read_classified(folder)


def props(layer):
    return {
        f["properties"].get("block_id") or f["properties"]["site_id"]: f["properties"]
        for g in layer["groups"]
        for f in g["data"]["features"]
    }


def test_blocks_beside_the_classification_are_picked_up(data):
    assert sorted(data["blocks"]["block_id"]) == ["P001", "P002", "P003", "P005"]
    assert sorted(data["freed_sites"]["site_id"]) == ["P004", "P006", "P007"]


def test_payload_colours_blocks_by_mode_and_sites_by_reuse(data):
    payload = map_payload(data)
    blocks, sites = payload["blocks"], payload["freed_sites"]
    assert blocks["label"] == "老旧工业区块（按改造方式） (4)"
    assert [(g["key"], g["name"], g["color"], g["count"]) for g in blocks["groups"]] == [
        ("manage", "管理提升式", MODE_PALETTE["manage"], 4)
    ]
    assert blocks["groups"][0]["mu"] == pytest.approx(data["blocks"]["mu"].sum())
    assert [(g["key"], g["name"], g["color"], g["count"]) for g in sites["groups"]] == [
        ("reclaim", "复垦", REUSE_PALETTE["reclaim"], 2),
        ("amenity", "村庄配套", REUSE_PALETTE["amenity"], 1),
    ]
    p = props(blocks)["P001"]
    assert p["mode_name"] == "管理提升式" and p["rule"] == "B3" and p["town"] == "浒山街道"
    assert p["reason"].startswith("建成年份 2005 > 2000") and "built_year" not in p["reason"]
    assert not p["reason"].endswith("）")  # the English in brackets is left out
    assert "geometry" not in p and set(p) <= set(blocks["fields"])
    assert blocks["names"]["reason"] == "依据" and blocks["names"]["mode_name"] == "改造方式"
    s = props(sites)["P007"]
    assert (
        s["reuse_name"] == "复垦"
        and s["reason"] == "含生态保护红线/永久基本农田地块（规则 V1）1 块"
    )
    lon, lat = (
        sites["groups"][0]["data"]["features"][0]["geometry"]["coordinates"][0][0][:2]
        if sites["groups"][0]["data"]["features"][0]["geometry"]["type"] == "Polygon"
        else sites["groups"][0]["data"]["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    )
    assert 100 < lon < 130 and 20 < lat < 40  # WGS84 for the web


def test_english_map_shows_the_english_reason(data):
    payload = map_payload(data, lang="en")
    p = props(payload["blocks"])["P001"]
    assert p["mode_name"] == "manage" and p["reason"].startswith("built_year 2005 > 2000")
    assert payload["blocks"]["names"]["reason"] == "Reason"
    assert payload["freed_sites"]["groups"][0]["name"] == "reclaim"


def test_reason_in_splits_at_the_last_bracket_only():
    import pandas as pd

    reasons = pd.Series(["含地块（规则 V1）1 块（plots with rule V1: 1）", "no brackets", None])
    assert reason_in(reasons, "zh").tolist() == ["含地块（规则 V1）1 块", "no brackets", ""]
    assert reason_in(reasons, "en").tolist() == ["plots with rule V1: 1", "no brackets", ""]


def test_town_pages_carry_only_their_blocks_and_the_page_draws_them(data, tmp_path):
    one = town_data(data, "浒山街道")
    assert sorted(one["blocks"]["block_id"]) == ["P001", "P002"]
    assert one["freed_sites"]["site_id"].tolist() == ["P006"]
    payload = map_payload(one)
    assert payload["blocks"]["label"].endswith("(2)")
    page = write_map(build_map(one), tmp_path / "t.html").read_text(encoding="utf-8")
    assert "function zoningBlocks" in page and "腾退土地（按利用方向）" in page


def test_no_blocks_no_block_layers(classified):
    payload = map_payload(read_classified(classified))
    assert "blocks" not in payload and "freed_sites" not in payload


def sheet_colours_and_text(data, tmp_path, name):
    """The colours of a town sheet's PNG and the words of its PDF (poppler's pdftotext;
    CI installs it)."""
    import subprocess

    from PIL import Image

    pdf, png = tmp_path / f"{name}.pdf", tmp_path / f"{name}.png"
    with figures.tempfile.TemporaryDirectory() as fonts:
        font = figures.sheet_font("浒山街道宗汉" + figures.BLOCK_WORDS, fonts)
        figures.map_sheet(data, [pdf, png], "浒山街道", "标题", font=font)
    with Image.open(png) as img:
        colours = {
            "#{:02X}{:02X}{:02X}".format(*c)
            for _, c in img.convert("RGB").getcolors(maxcolors=1 << 22)
        }
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return colours, " ".join(text.split())


def test_town_sheet_outlines_blocks_and_sites_with_a_legend(data, tmp_path):
    plain = {k: v for k, v in data.items() if k not in ("blocks", "freed_sites")}
    with_colours, with_text = sheet_colours_and_text(data, tmp_path, "with")
    without_colours, without_text = sheet_colours_and_text(plain, tmp_path, "without")
    assert "区块·管理提升式 2 个" in with_text and "腾退·村庄配套 1 片" in with_text
    assert "复垦" not in with_text  # the town has no reclaim site: no legend row for it
    assert "区块" not in without_text and "腾退" not in without_text
    assert REUSE_PALETTE["amenity"] in with_colours - without_colours  # P006's outline
