"""Issue 12: bad layers and bad config through the real CLI (``python -m zoning classify``).

Each bad input gives either one clear line (file, layer/key, rows, the fix) and exit 1,
or a repair listed in issues.csv with the row id, rows in = rows out.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pytest

from conftest import tiny_layers, write_gpkg

PY = sys.executable


def zoning(*args):
    return subprocess.run([PY, "-m", "zoning", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def one_line_error(res) -> str:
    """The CLI refused with exit 1 and one line on stderr, no traceback."""
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.fixture
def context_gpkg(tmp_path):
    """The tiny county's context layers (no parcels) in one GeoPackage."""
    layers = tiny_layers()
    layers.pop("parcels")
    return write_gpkg(tmp_path / "context.gpkg", layers)


def classify_parcels(tmp_path, context_gpkg, parcels, suffix="gpkg", *extra):
    """Run ``zoning classify`` with the parcels from their own file (a GeoDataFrame or the
    text of a GeoJSON file)."""
    path = tmp_path / f"parcels.{suffix}"
    if isinstance(parcels, str):
        path.write_text(parcels, encoding="utf-8")
    else:
        parcels.to_file(path, layer="parcels")
    out = tmp_path / "out"
    return zoning("classify", context_gpkg, "--parcels", path, "--out", out, "--quiet",
                  *extra), out


def outputs(out):
    parcels = gpd.read_file(out / "classified.gpkg", layer="parcels")
    issues = pd.read_csv(out / "issues.csv", dtype={"id": str})
    return parcels, issues


# --- config -------------------------------------------------------------------------

def test_a_folder_as_config(tmp_path, tiny_gpkg):
    line = one_line_error(zoning("classify", tiny_gpkg, "--config", tmp_path,
                                 "--out", tmp_path / "out"))
    assert f"{tmp_path}: is a folder, not a config file" in line
    assert not (tmp_path / "out").exists()


def test_a_huge_adjacency_gap_is_refused_at_once(tmp_path, tiny_gpkg):
    cfg = tmp_path / "gap.toml"
    cfg.write_text("[parameters]\nadjacency_gap_m = 1e9\n", encoding="utf-8")
    t0 = time.perf_counter()
    line = one_line_error(zoning("classify", tiny_gpkg, "--config", cfg,
                                 "--out", tmp_path / "out"))
    assert time.perf_counter() - t0 < 60
    assert "gap.toml: [parameters] adjacency_gap_m is out of range" in line
    assert "0 to 1000 m" in line


def test_a_geographic_analysis_crs_is_refused(tmp_path, tiny_gpkg):
    cfg = tmp_path / "deg.toml"
    cfg.write_text("[crs]\nanalysis = \"EPSG:4490\"\n", encoding="utf-8")
    line = one_line_error(zoning("classify", tiny_gpkg, "--config", cfg,
                                 "--out", tmp_path / "out"))
    assert "deg.toml: [crs] analysis = 'EPSG:4490' is geographic (degrees)" in line


def test_a_config_with_a_bom_is_used(tmp_path, tiny_gpkg):
    cfg = tmp_path / "bom.toml"
    cfg.write_text("[parameters]\nbaseline_year = 2030\n", encoding="utf-8-sig")
    res = zoning("classify", tiny_gpkg, "--config", cfg, "--out", tmp_path / "out", "--quiet")
    assert res.returncode == 0, res.stderr
    rules = dict(zip(*outputs(tmp_path / "out")[0][["parcel_id", "rule"]].T.values,
                     strict=True))
    assert rules["P006"] != "V3"  # built 2023 is not after 2030: the file's value was used
    assert json.loads((tmp_path / "out" / "run.json").read_text())["parameters"][
        "baseline_year"] == 2030
