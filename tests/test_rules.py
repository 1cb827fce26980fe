"""SPEC §5 decision table over a measures table: order, thresholds, targets, reasons."""

from __future__ import annotations

import pandas as pd
import pytest

from zoning.config import DEFAULT_PARAMETERS, load_config
from zoning.rules import decide
from zoning.vocab import RULES

P = dict(DEFAULT_PARAMETERS)


def row(**kw):
    """A plot well inside the boundary, alone, far from parks, no cluster (-> C2)."""
    base = {"boundary_share": 1.0, "cluster_share": 0.0, "cluster_id": "",
            "protected_share": 0.0, "nearest_park_id": "T1", "nearest_park_m": 900.0,
            "village_park_id": "A", "village_park_mu": 3.0, "linked_park_id": "",
            "_linked_m": float("nan"), "eco_friendly": False, "rural_fusion": False,
            "built_year": pd.NA}
    base.update(kw)
    return base


def run(*rows, params=P):
    df = pd.DataFrame(list(rows))
    attrs = df[["eco_friendly", "rural_fusion", "built_year"]].astype(
        {"built_year": "Int64"})
    return decide(df, attrs, params)


def rule_of(params=P, **kw):
    return run(row(**kw), params=params)["rule"].iat[0]


@pytest.mark.parametrize("kw,expected", [
    ({}, "C2"),
    ({"protected_share": 0.05}, "V1"),                       # exactly at the threshold
    ({"protected_share": 0.0499}, "C2"),
    ({"built_year": 2022}, "V3"),
    ({"built_year": 2021}, "C2"),                            # baseline year itself is fine
    ({"linked_park_id": "T1", "_linked_m": 10.0}, "C1"),
    ({"linked_park_id": "T1", "_linked_m": 10.0, "boundary_share": 0.4999}, "V2"),
    ({"linked_park_id": "T1", "_linked_m": 10.0, "boundary_share": 0.5}, "C1"),
    ({"cluster_share": 0.5, "cluster_id": "K1"}, "R1"),
    ({"cluster_share": 0.4999, "cluster_id": "K1"}, "C2"),
    ({"boundary_share": 0.2}, "V2"),
    ({"boundary_share": 0.2, "eco_friendly": True}, "R2"),
    ({"boundary_share": 0.2, "rural_fusion": True, "village_park_mu": 15.0}, "R2"),
    ({"boundary_share": 0.2, "rural_fusion": True, "village_park_mu": 15.0001}, "V2"),
])
def test_single_rules_and_thresholds(kw, expected):
    assert rule_of(**kw) == expected


@pytest.mark.parametrize("kw,expected", [
    # every condition true at once: the first rule of the table wins, then the next ...
    ({"protected_share": 1.0, "built_year": 2030, "linked_park_id": "T1", "_linked_m": 0.0,
      "cluster_share": 1.0, "cluster_id": "K"}, "V1"),
    ({"built_year": 2030, "linked_park_id": "T1", "_linked_m": 0.0, "cluster_share": 1.0,
      "cluster_id": "K"}, "V3"),
    ({"linked_park_id": "T1", "_linked_m": 0.0, "cluster_share": 1.0, "cluster_id": "K"}, "C1"),
    ({"boundary_share": 0.0, "cluster_share": 1.0, "cluster_id": "K", "eco_friendly": True},
     "R1"),
])
def test_first_match_wins(kw, expected):
    assert rule_of(**kw) == expected


def test_targets_and_classes():
    out = run(row(linked_park_id="T7", _linked_m=3.0), row(cluster_share=0.9, cluster_id="K3"),
              row(), row(boundary_share=0.0))
    assert out["target_id"].tolist() == ["T7", "K3", "T1", ""]
    assert out["class"].tolist() == ["consolidate", "retain", "consolidate", "vacate"]
    assert out["class_zh"].tolist() == ["纳入镇级园区", "保留提升", "纳入镇级园区", "腾挪清退"]
    assert all(RULES[r] == c for r, c in zip(out["rule"], out["class"], strict=True))


def test_reasons_quote_the_deciding_numbers():
    out = run(row(boundary_share=0.123, eco_friendly=True, village_park_mu=42.31),
              row(boundary_share=0.123),
              row(protected_share=0.2),
              row(built_year=2023))
    assert out["reason"].iat[0] == "boundary_share 0.12 < 0.50; village park 42.31 mu > 15 mu"
    assert out["reason"].iat[1] == ("boundary_share 0.12 < 0.50; neither eco-friendly nor "
                                    "rural fusion")
    assert "protected_share 0.20 ≥ 0.05" in out["reason"].iat[2]
    assert "2023 > baseline 2021" in out["reason"].iat[3]


def test_unclassified_rows():
    df = pd.DataFrame([row(), row()])
    out = decide(df, df, P, pd.Series(["", "geometry is empty"]))
    assert out["class"].tolist() == ["consolidate", "unclassified"]
    assert out["rule"].iat[1] == "" and out["target_id"].iat[1] == ""
    assert "geometry is empty" in out["reason"].iat[1]


def test_parameters_change_decisions():
    params = load_config(scattered_max_mu=50).parameters
    kw = {"boundary_share": 0.1, "eco_friendly": True, "village_park_mu": 42.0}
    assert rule_of(**kw) == "V2"
    assert rule_of(params=params, **kw) == "R2"
    assert rule_of(params=load_config(baseline_year=2025).parameters, built_year=2023) == "C2"
