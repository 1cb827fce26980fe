"""Static PNG figures: overview map and mu per town, with or without a CJK font."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from PIL import Image

from conftest import tiny_layers
from zoning import _io, figures
from zoning.classification import classify_layers
from zoning.layers import frames_to_layers


@pytest.fixture(scope="module")
def data():
    result = classify_layers(frames_to_layers(**tiny_layers()))
    return {
        "parcels": result.parcels,
        "towns": result.layers.towns,
        "dev_boundary": result.layers.dev_boundary,
        "township_parks": result.layers.township_parks,
    }


@pytest.mark.parametrize("font", [True, False])
def test_figures_are_written(data, tmp_path, monkeypatch, font):
    if not font:
        monkeypatch.setattr(figures, "cjk_font", lambda: None)
    a = figures.overview_png(data, tmp_path / "sub" / "overview.png", "标题")
    b = figures.towns_bar_png(data["parcels"], tmp_path / "towns_mu.png")
    for path in (a, b):
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width > 500 and img.height > 300


# --- A3 map sheets (issue 16 item 4) ---------------------------------------------------

A3_POINTS = (420 / 25.4 * 72, 297 / 25.4 * 72)  # 1190.55 x 841.89


def pdf_facts(path) -> dict:
    """Pages, media boxes, embedded fonts and the text the fonts map to, read from the
    PDF's own objects (matplotlib writes the dictionaries uncompressed)."""
    import zlib

    raw = path.read_bytes()
    boxes = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(
            rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", raw
        )
    ]
    fonts = [m.decode() for m in re.findall(rb"/BaseFont\s*/([\w+\-]+)", raw)]
    text = ""
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", raw, flags=re.S):
        try:
            body = zlib.decompress(stream)
        except zlib.error:
            body = stream
        if b"beginbfchar" in body or b"beginbfrange" in body:  # a ToUnicode map
            for code in re.findall(rb"<([0-9a-fA-F]{4,8})>\s*<([0-9a-fA-F]{4})>", body):
                text += chr(int(code[1], 16))
    return {
        "pages": len(re.findall(rb"/Type\s*/Page\b", raw)),
        "boxes": boxes,
        "fonts": fonts,
        "embedded": raw.count(b"/FontFile"),
        "text": text,
    }


@pytest.fixture(scope="module")
def sheet_data():
    from zoning.layers import frames_to_layers as to_layers

    result = classify_layers(to_layers(**tiny_layers()))
    layers = result.layers
    return {
        "parcels": result.parcels,
        "towns": layers.towns,
        "dev_boundary": layers.dev_boundary,
        "township_parks": layers.township_parks,
        "cluster_points": layers.cluster_points,
        "protected": layers.protected,
    }


def test_a_town_sheet_is_one_a3_landscape_page_with_a_cjk_font_embedded(sheet_data, tmp_path):
    pdf, png = tmp_path / "浒山街道.pdf", tmp_path / "浒山街道.png"
    with figures.tempfile.TemporaryDirectory() as folder:
        font = figures.sheet_font("浒山街道宗汉", folder)
        figures.map_sheet(
            sheet_data,
            [pdf, png],
            "浒山街道",
            "慈溪市村级工业用地",
            "sample.gpkg",
            "2026-11-30",
            font,
        )
    facts = pdf_facts(pdf)
    assert facts["pages"] == 1
    ((x0, y0, x1, y1),) = set(facts["boxes"])
    assert (x0, y0) == (0, 0) and abs(x1 - A3_POINTS[0]) < 1 and abs(y1 - A3_POINTS[1]) < 1
    assert facts["embedded"] >= 1
    assert any("CJK" in f for f in facts["fonts"]), facts["fonts"]
    assert {"浒", "山", "街", "道", "亩", "北"} <= set(facts["text"])  # title, legend, arrow
    with Image.open(png) as img:
        assert img.width > img.height > 1000  # landscape, print resolution
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # not blank
    pixels = {c for _, c in colours}
    from zoning.vocab import PALETTE

    hexes = {"#{:02X}{:02X}{:02X}".format(*p) for p in pixels}
    assert figures.HIGHLIGHT.upper() in hexes  # the town's outline
    assert (
        sum(
            PALETTE[c].upper() in hexes
            for c in sheet_data["parcels"]["class"].unique()
            if c in PALETTE
        )
        >= 2
    )  # plots in their class colours


def test_pdffonts_lists_the_cjk_font_as_embedded(sheet_data, tmp_path):
    import shutil
    import subprocess

    pdf = tmp_path / "county.pdf"
    figures.map_sheet(sheet_data, [pdf], None, "标题")  # the whole CJK font, no cut font
    if shutil.which("pdffonts") is None:  # poppler-utils not installed: the objects say it
        assert any("CJK" in f for f in pdf_facts(pdf)["fonts"])
        return
    rows = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    cjk = [r for r in rows if "CJK" in r]
    assert cjk and all(r.split()[-5] == "yes" for r in cjk), rows  # column "emb"


def test_write_map_sheets_writes_county_and_one_per_town(sheet_data, tmp_path):
    written = figures.write_map_sheets(sheet_data, tmp_path, "标题", "sample.gpkg", "2026-11-30")
    names = sorted(p.name for p in written)
    assert names == sorted(p.name for p in tmp_path.iterdir())
    towns = sorted(set(sheet_data["parcels"]["town"]))
    assert names == sorted(
        [f"{stem}.{ext}" for stem in ["county", *towns] for ext in ("pdf", "png")]
    )


def test_scale_bar_lengths_are_round():
    assert figures.nice_length(57_000) == 10_000
    assert figures.nice_length(3_000) == 500
    assert figures.nice_length(900) == 100


@pytest.mark.parametrize("name, stem", [("浒山街道", "浒山街道"), ("a_b", "a_b")])
def test_safe_stem_keeps_readable_names(name, stem):
    assert figures.safe_stem(name) == stem


def test_safe_stem_is_safe_and_unique():
    names = [
        "../../etc/passwd",
        "a/b\\c:d*e?",
        "",
        "<script>",
        "county",
        "index",
        "CON",
        "Abc",
        "abc",
        "a b",
        "a_b ",
        "{{7*7}}",
        "x" * 300,
    ]
    stems = [figures.safe_stem(n) for n in names]
    assert len(set(s.lower() for s in stems)) == len(names)
    assert all(re.fullmatch(r"[\w\-·()（）]{1,80}", s) for s in stems), stems
    assert not {s.lower() for s in stems} & _io.RESERVED


def test_map_print_writes_a_sheet_per_town_and_the_county(tiny_gpkg, tmp_path):
    import subprocess
    import sys

    def zoning(*args):
        return subprocess.run(
            [sys.executable, "-m", "zoning", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
        )

    out = tmp_path / "o"
    assert zoning("classify", tiny_gpkg, "--out", out, "--quiet").returncode == 0
    res = zoning("map", out, "--print", "--out", tmp_path / "sheets", "--quiet")
    assert res.returncode == 0, res.stderr
    assert "wrote 6 map sheets" in res.stdout
    names = sorted(p.name for p in (tmp_path / "sheets").iterdir())
    assert names == sorted(
        f"{s}.{e}" for s in ("county", "浒山街道", "宗汉街道") for e in ("pdf", "png")
    )
    assert pdf_facts(tmp_path / "sheets" / "county.pdf")["pages"] == 1
    assert not list(out.glob("*.pdf"))  # the classification's folder is only read
    source, date = figures.sheet_notes(out)  # what the sheets print as source and date
    assert source == "tiny.gpkg" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)
    assert figures.sheet_notes(tmp_path / "nowhere") == ("", "")


# --- the completion chart (issue 16 item 4: charts of more than 10 series) --------------


def _history(n_towns: int) -> pd.DataFrame:
    import numpy as np

    dates = ["2026-03-31", "2026-04-30", "2026-05-31"]
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        [
            {"town": f"镇{i:02d}", "date": d, "score": float(s)}
            for i in range(n_towns)
            for d, s in zip(dates, np.sort(rng.uniform(0, 60, 3)), strict=True)
        ]
    )


def test_completion_chart_names_19_lines_at_their_ends_in_distinct_colours(tmp_path, monkeypatch):
    import matplotlib.axes

    seen: dict[str, list] = {"lines": [], "labels": []}
    plot, annotate = matplotlib.axes.Axes.plot, matplotlib.axes.Axes.annotate

    def spy_plot(self, *args, **kwargs):
        seen["lines"].append(kwargs.get("color"))
        return plot(self, *args, **kwargs)

    def spy_annotate(self, text, *args, **kwargs):
        seen["labels"].append(text)
        return annotate(self, text, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy_plot)
    monkeypatch.setattr(matplotlib.axes.Axes, "annotate", spy_annotate)
    history = _history(19)
    figures.completion_png(history, tmp_path / "c.png")
    assert len(seen["lines"]) == 19 and len(set(map(tuple, seen["lines"]))) == 19
    assert sorted(seen["labels"]) == sorted(history["town"].unique())
    with Image.open(tmp_path / "c.png") as img:
        assert img.width > 1200


def test_completion_chart_of_few_towns_keeps_a_legend(tmp_path, monkeypatch):
    import matplotlib.axes

    labels = []
    annotate = matplotlib.axes.Axes.annotate
    monkeypatch.setattr(
        matplotlib.axes.Axes,
        "annotate",
        lambda self, text, *a, **k: labels.append(text) or annotate(self, text, *a, **k),
    )
    figures.completion_png(_history(4), tmp_path / "c.png")
    assert labels == [] and (tmp_path / "c.png").stat().st_size > 10_000


def test_spread_keeps_labels_apart_in_order():
    ys = figures.spread([4.0, 4.0, 4.1, 9.0, 0.0], gap=0.5, low=0, high=10)
    order = sorted(range(5), key=lambda i: ys[i])
    assert [round(ys[i] - ys[j], 6) >= 0.5 for i, j in zip(order[1:], order[:-1], strict=True)] == [
        True
    ] * 4
    assert min(ys) >= 0 and max(ys) <= 10 and abs(ys[3] - 9.0) < 1e-9


def test_an_english_sheet_has_no_chinese_words_but_the_town_names(sheet_data, tmp_path):
    pdf = tmp_path / "en.pdf"
    figures.map_sheet(sheet_data, [pdf], "浒山街道", lang="en")
    text = set(pdf_facts(pdf)["text"])
    assert "亩" not in text and "北" not in text and "块" not in text
    assert {"浒", "山", "N"} <= text  # the town named; the arrow says N
