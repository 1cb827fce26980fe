"""`zoning demo` end to end on the bundled sample county, checked as a user would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_county.gpkg"
CHECK = ROOT.parent / "shared" / "contract" / "check.py"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = subprocess.run(
        [sys.executable, "-m", "zoning", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    return out


def test_every_plot_is_classified_with_a_reason(demo_dir):
    parcels = gpd.read_file(demo_dir / "classified.gpkg", layer="parcels")
    source = gpd.read_file(SAMPLE, layer="parcels", read_geometry=False)
    assert len(parcels) == len(source) >= 5000
    assert parcels["parcel_id"].tolist() == source["parcel_id"].tolist()
    assert set(parcels["rule"]) == {"V1", "V2", "V3", "C1", "C2", "R1", "R2"}
    assert parcels["reason"].str.len().min() > 20


def test_summary_matches_the_plots(demo_dir):
    parcels = gpd.read_file(demo_dir / "classified.gpkg", layer="parcels")
    summary = pd.read_csv(demo_dir / "summary.csv")
    grand = summary[summary["town"] == "合计"].set_index("class")
    counts = parcels["class"].value_counts()
    for cls in ("retain", "consolidate", "vacate"):
        assert grand.loc[cls, "plots"] == counts.get(cls, 0)
        assert grand.loc[cls, "area_mu"] == pytest.approx(
            parcels.loc[parcels["class"] == cls, "area_m2"].sum() * 15 / 10000, abs=0.01
        )
    assert set(summary["town"]) - {"合计"} == set(parcels["town"])
    assert len(set(parcels["town"])) == 19


def test_run_log_names_inputs_and_parameters(demo_dir):
    log = json.loads((demo_dir / "run.json").read_text(encoding="utf-8"))
    assert log["inputs"]["parcels"]["sha256"] and log["analysis_crs"] == "EPSG:4549"
    assert log["parameters"]["adjacency_gap_m"] == 20.0
    assert log["rows"]["parcels_in"] == log["rows"]["parcels_out"]


def test_map_is_self_contained(demo_dir):
    html = (demo_dir / "map.html").read_text(encoding="utf-8")
    remote = re.findall(r"<(?:script|link)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)
    assert remote == []  # every asset inlined: the page opens with no network
    assert "L.map(" in html and "Leaflet 1.9.3" in html


@pytest.mark.skipif(not CHECK.exists(), reason="shared contract checker not beside the repo")
@pytest.mark.parametrize("what", ["classify", "workshops", "map"])
def test_output_contract(demo_dir, what):
    args = [str(SAMPLE), str(demo_dir)] if what != "map" else [str(demo_dir / "map.html")]
    res = subprocess.run(
        [sys.executable, str(CHECK), what, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_workshops_beside_the_classification(demo_dir):
    for name in (
        "workshops.gpkg",
        "workshops.xlsx",
        "workshop_towns.csv",
        "workshop_issues.csv",
        "workshop_run.json",
    ):
        assert (demo_dir / name).is_file(), name
    towns = pd.read_csv(demo_dir / "workshop_towns.csv").set_index("town")
    assert len(towns) == 20 and towns.loc["合计", "found"] == 12000
    assert 0.95 < towns.loc["合计", "rectification_rate"] < 1
    assert towns.loc["合计", "shortfall_m2"] > 0
    log = json.loads((demo_dir / "workshop_run.json").read_text(encoding="utf-8"))
    assert log["placement"]["placed"] > 0 and log["placement"]["mip_gap"] < 0.01


def test_ledger_assessment_and_grades(demo_dir):
    towns = pd.read_csv(demo_dir / "assessment" / "towns.csv")
    assert len(towns) == 19 and towns["rank"].tolist() == list(range(1, 20))
    assert towns["score"].is_monotonic_decreasing and towns["score"].max() > 0
    rejected = list((demo_dir / "progress").glob("*.rejected.csv"))
    reasons = pd.concat([pd.read_csv(p) for p in rejected])["reason"]
    assert reasons.str.contains("unknown kind or item").any()
    assert reasons.str.contains("does not fit class").any()
    assert reasons.str.contains("earlier than").any()
    grades = pd.read_csv(demo_dir / "grades.csv")
    assert set(grades["grade"]) == {"A", "B", "C", "D"}
    ok = subprocess.run(
        [sys.executable, "-m", "zoning", "ledger", "verify", str(demo_dir / "ledger.gpkg")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout


def test_the_survey_shaped_copy_classifies_like_the_sample(demo_dir):
    """The demo writes the sample as a 三调 delivery (GBK shapefiles without .cpg,
    EPSG:4528) and classifies it with data/sandiao.toml: the same rule for every plot."""
    folder = demo_dir / "sandiao"
    assert (folder / "DLTB.shp").exists() and not (folder / "DLTB.cpg").exists()
    survey = gpd.read_file(
        folder / "out" / "classified.gpkg", layer="parcels", read_geometry=False
    ).set_index("parcel_id")
    plain = gpd.read_file(
        demo_dir / "classified.gpkg", layer="parcels", read_geometry=False
    ).set_index("parcel_id")
    assert survey.index.sort_values().equals(plain.index.sort_values())
    assert (survey["rule"] == plain["rule"].reindex(survey.index)).all()
    assert (
        survey["enterprise"]
        .fillna("")
        .equals(  # GBK without .cpg read right
            plain["enterprise"].reindex(survey.index).fillna("")
        )
    )
    log = json.loads((folder / "out" / "run.json").read_text(encoding="utf-8"))
    assert log["rows"]["parcels_selected"] == len(plain)
    assert log["rows"]["parcels_not_selected"] > 0


def test_blocks_and_freed_land(demo_dir):
    """The demo's `zoning blocks` run (SPEC §11): three years of enterprise tables, a
    blocks layer for two towns, a scenic layer; every block and site has a Chinese reason
    quoting numbers; rows in = rows out."""
    folder = demo_dir / "blocks"
    for name in ("blocks.gpkg", "blocks.xlsx", "history.csv", "freed_towns.csv"):
        assert (folder / name).is_file(), name
    blocks = gpd.read_file(folder / "blocks.gpkg", layer="blocks")
    sites = gpd.read_file(folder / "blocks.gpkg", layer="freed_sites")
    assert set(blocks["mode"]) == {"rebuild", "reorganise", "manage"}
    assert {"reclaim", "tourism", "amenity"} == set(sites["reuse"])
    for reasons in (blocks["reason"], sites["reason"]):
        assert reasons.str.contains(r"[\u4e00-\u9fff].*\d").all()
    assert {"BLK01", "BLK02"} <= set(blocks["block_id"])
    history = pd.read_csv(folder / "history.csv")
    assert sorted(set(history["year"])) == [2022, 2023, 2024]
    assert len(history) == 3 * len(blocks)
    plain = gpd.read_file(demo_dir / "classified.gpkg", layer="parcels", read_geometry=False)
    members = pd.read_csv(folder / "block_plots.csv", dtype=str, keep_default_na=False)
    assert len(members) == len(plain)
    assert (
        (members["block_id"] != "").sum()
        == blocks["plots"].sum()
        == plain["class"].isin(["retain", "consolidate"]).sum()
    )
    assert (
        (members["site_id"] != "").sum()
        == sites["plots"].sum()
        == (plain["class"] == "vacate").sum()
    )
    # the sample's plots carry floor areas: most blocks have a floor-area ratio (容积率)
    far = blocks["floor_area_ratio"]
    assert far.notna().mean() > 0.9 and far.dropna().between(0.2, 3.0).all()
    assert blocks["reason"].str.contains("容积率").any()
    # the maps draw them: the county page carries both switchable layers
    page = (demo_dir / "map.html").read_text(encoding="utf-8")
    assert "老旧工业区块（按改造方式）" in page and "腾退土地（按利用方向）" in page
