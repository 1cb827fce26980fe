"""The first interactive map: one layer per class, legend, popups, escaped text."""

from __future__ import annotations

import json
import re

from conftest import tiny_layers
from zoning import classify_frames
from zoning.maps import PALETTE, class_map, escape_text, write_map

EVIL = "<img src=x onerror=alert(1)>`${x}`\\"


def test_escape_text_neutralises_html_and_template_literals():
    out = escape_text(EVIL)
    assert "<" not in out and ">" not in out and "`" not in out and "$" not in out
    assert "\\" not in out
    assert escape_text(None) == "" and escape_text(float("nan")) == ""


def test_map_has_classes_legend_and_escaped_popups(tmp_path):
    layers = tiny_layers()
    layers["parcels"].loc[0, "enterprise"] = EVIL
    parcels = classify_frames(**layers)
    target = tmp_path / "sub" / "map.html"
    write_map(class_map(parcels), target)
    html = target.read_text(encoding="utf-8")
    assert "<img src=x" not in html  # never raw
    for color in (PALETTE["retain"], PALETTE["consolidate"], PALETTE["vacate"]):
        assert color in html
    assert "腾挪清退 3 块" in html  # legend: count per class
    # popups publish only the chosen fields: no measures leak into the page
    features = re.findall(r'"properties":\s*(\{[^{}]*\})', html)
    assert features
    keys = set().union(*(json.loads(f).keys() for f in features))
    assert "boundary_share" not in keys and "parcel_id" in keys and "reason" in keys
    # the page carries the escaped text (JSON-encoded); popups insert it as HTML = as text
    assert json.dumps(escape_text(EVIL))[1:-1] in html.replace("\\u0026", "&")
