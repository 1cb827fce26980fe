"""What-ifs: a scenario with defaults equals `zoning classify`; re-deciding is exact;
sweeps are monotone where the rules make them so; compare(a, a) is empty."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from zoning.classification import classify_layers
from zoning.figures import sweep_chart
from zoning.scenario import Study, compare, sweep

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_county.gpkg"
CHECK = ROOT.parent / "shared" / "contract" / "check.py"


@pytest.fixture(scope="module")
def study():
    return Study.from_file(SAMPLE)


def test_defaults_equal_zoning_classify(study):
    ours = study.classify().parcels
    ref = classify_layers(study.layers, study.config).parcels
    pd.testing.assert_frame_equal(ours.drop(columns="geometry"), ref.drop(columns="geometry"))


@pytest.mark.parametrize(
    "override",
    [
        {"adjacency_gap_m": 35.0},
        {"adjacency_gap_m": 5.0},
        {"park_contact_m": 120.0},
        {"scattered_max_mu": 40.0},
        {"inside_share_min": 0.3},
    ],
)
def test_rederiving_equals_measuring_afresh(study, override):
    study.classify(adjacency_gap_m=60.0)  # caches pairs at a larger gap first
    quick = study.classify(**override).parcels
    fresh = classify_layers(study.layers, study.config.with_parameters(**override)).parcels
    pd.testing.assert_frame_equal(quick.drop(columns="geometry"), fresh.drop(columns="geometry"))


def test_compare_same_is_empty(study):
    a = study.classify()
    cmp = compare(a, a)
    assert cmp.changed.empty
    assert (cmp.transitions["from_class"] == cmp.transitions["to_class"]).all()
    assert cmp.transitions["plots"].sum() == len(a.parcels)


def test_compare_counts_what_moved(study):
    a, b = study.classify(), study.classify(scattered_max_mu=30)
    cmp = compare(a, b)
    moved = (a.parcels["class"] != b.parcels["class"]).sum()
    assert len(cmp.changed) == moved > 0
    off = cmp.transitions[cmp.transitions["from_class"] != cmp.transitions["to_class"]]
    assert off["plots"].sum() == moved
    assert set(off["to_class"]) <= {"retain"}  # a larger scattered limit only retains more
    per_town = cmp.by_town.groupby(["from_class", "to_class"])["plots"].sum()
    assert (
        per_town.to_dict()
        == cmp.transitions.set_index(["from_class", "to_class"])["plots"].to_dict()
    )


def test_sweeps_are_monotone(study):
    contact = sweep(study, "park_contact_m", [0, 25, 50, 100, 200])
    linked = [
        (study.classify(park_contact_m=v).parcels["linked_park_id"] != "").sum()
        for v in contact.index
    ]
    assert all(x <= y for x, y in zip(linked, linked[1:], strict=False))
    scattered = sweep(study, "scattered_max_mu", [0, 5, 15, 30, 100])
    assert scattered["plots_retain"].is_monotonic_increasing
    gaps = [0, 10, 20, 50]
    groups = [study.classify(adjacency_gap_m=g).village_parks.shape[0] for g in gaps]
    assert all(x >= y for x, y in zip(groups, groups[1:], strict=False))
    total = scattered[[f"mu_{c}" for c in ("retain", "consolidate", "vacate")]].sum(axis=1)
    assert np.allclose(total, total.iloc[0], atol=0.05)


def test_sweep_chart(study, tmp_path):
    table = sweep(study, "adjacency_gap_m", [10, 20, 40])
    sweep_chart(table, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 10_000


def test_grown_boundary_as_a_new_scenario(study):
    grown = study.layers.dev_boundary.copy()
    grown["geometry"] = grown.buffer(500)
    bigger = study.with_layer("dev_boundary", grown)
    a, b = study.classify(), bigger.classify()
    share_a = a.parcels["boundary_share"].to_numpy()
    share_b = b.parcels["boundary_share"].to_numpy()
    assert (share_b >= share_a).all() and (share_b > share_a).any()
    assert (a.parcels["nearest_park_m"].to_numpy() == b.parcels["nearest_park_m"]).all()
    layers = type(study.layers)(**{**study.layers.__dict__, "dev_boundary": grown})
    fresh = classify_layers(layers, study.config).parcels
    pd.testing.assert_series_equal(b.parcels["rule"], fresh["rule"])
    assert len(compare(a, b).changed) > 0


def test_added_township_park_relinks(study):
    parks = study.layers.township_parks
    plot = study.classify().parcels.query("rule == 'C2'").iloc[0]
    new = gpd.GeoDataFrame(
        {"park_id": ["NEW"], "name": ["新园区"]},
        geometry=[plot.geometry.buffer(30).envelope],
        crs=parks.crs,
    )
    more = study.with_layer("township_parks", pd.concat([parks, new], ignore_index=True))
    after = more.classify().parcels.set_index("parcel_id").loc[plot["parcel_id"]]
    assert after["linked_park_id"] == "NEW" and after["rule"] == "C1"


@pytest.mark.skipif(not CHECK.exists(), reason="shared contract checker not beside the repo")
def test_compare_cli_contract(tmp_path):
    (tmp_path / "a.toml").write_text("[parameters]\nadjacency_gap_m = 20\n")
    (tmp_path / "b.toml").write_text("[parameters]\nadjacency_gap_m = 50\nscattered_max_mu = 30\n")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "compare",
            str(SAMPLE),
            "--config",
            str(tmp_path / "a.toml"),
            "--config",
            str(tmp_path / "b.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    check = subprocess.run(
        [sys.executable, str(CHECK), "compare", str(SAMPLE), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    t = pd.read_csv(tmp_path / "out" / "transitions.csv")
    assert list(t.columns) == ["from_class", "to_class", "plots", "mu"]
    xl = pd.ExcelFile(tmp_path / "out" / "transitions.xlsx")
    assert xl.sheet_names == ["转移矩阵", "分镇街", "变化地块"]
    assert (tmp_path / "out" / "changes.html").stat().st_size > 10_000
