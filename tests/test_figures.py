"""Static PNG figures: overview map and mu per town, with or without a CJK font."""

from __future__ import annotations

import pytest
from PIL import Image

from conftest import tiny_layers
from zoning import figures
from zoning.classification import classify_layers
from zoning.layers import frames_to_layers


@pytest.fixture(scope="module")
def data():
    result = classify_layers(frames_to_layers(**tiny_layers()))
    return {"parcels": result.parcels, "towns": result.layers.towns,
            "dev_boundary": result.layers.dev_boundary,
            "township_parks": result.layers.township_parks}


@pytest.mark.parametrize("font", [True, False])
def test_figures_are_written(data, tmp_path, monkeypatch, font):
    if not font:
        monkeypatch.setattr(figures, "cjk_font", lambda: None)
    a = figures.overview_png(data, tmp_path / "sub" / "overview.png", "标题")
    b = figures.towns_bar_png(data["parcels"], tmp_path / "towns_mu.png")
    for path in (a, b):
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width > 500 and img.height > 300
