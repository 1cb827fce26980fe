"""SPEC §5 decision table over a measures table: order, thresholds, targets, reasons."""

from __future__ import annotations

import pandas as pd
import pytest

from zoning.config import DEFAULT_PARAMETERS, load_config
from zoning.rules import TABLE, decide
from zoning.vocab import RULES

P = dict(DEFAULT_PARAMETERS)


def row(**kw):
    """A plot well inside the boundary, alone, far from parks, no cluster (-> C2)."""
    base = {
        "boundary_share": 1.0,
        "cluster_share": 0.0,
        "cluster_id": "",
        "protected_share": 0.0,
        "nearest_park_id": "T1",
        "nearest_park_m": 900.0,
        "village_park_id": "A",
        "village_park_mu": 3.0,
        "linked_park_id": "",
        "linked_park_m": float("nan"),
        "eco_friendly": False,
        "rural_fusion": False,
        "built_year": pd.NA,
    }
    base.update(kw)
    return base


def run(*rows, params=P, lang="zh"):
    df = pd.DataFrame(list(rows))
    attrs = df[["eco_friendly", "rural_fusion", "built_year"]].astype({"built_year": "Int64"})
    return decide(df, attrs, params, lang=lang)


def rule_of(params=P, **kw):
    return run(row(**kw), params=params)["rule"].iat[0]


@pytest.mark.parametrize(
    "kw,expected",
    [
        ({}, "C2"),
        ({"protected_share": 0.05}, "V1"),  # exactly at the threshold
        ({"protected_share": 0.0499}, "C2"),
        ({"built_year": 2022}, "V3"),
        ({"built_year": 2021}, "C2"),  # baseline year itself is fine
        ({"linked_park_id": "T1", "linked_park_m": 10.0}, "C1"),
        ({"linked_park_id": "T1", "linked_park_m": 10.0, "boundary_share": 0.4999}, "V2"),
        ({"linked_park_id": "T1", "linked_park_m": 10.0, "boundary_share": 0.5}, "C1"),
        ({"cluster_share": 0.5, "cluster_id": "K1"}, "R1"),
        ({"cluster_share": 0.4999, "cluster_id": "K1"}, "C2"),
        ({"boundary_share": 0.2}, "V2"),
        ({"boundary_share": 0.2, "eco_friendly": True}, "R2"),
        ({"boundary_share": 0.2, "rural_fusion": True, "village_park_mu": 15.0}, "R2"),
        ({"boundary_share": 0.2, "rural_fusion": True, "village_park_mu": 15.0001}, "V2"),
    ],
)
def test_single_rules_and_thresholds(kw, expected):
    assert rule_of(**kw) == expected


@pytest.mark.parametrize(
    "kw,expected",
    [
        # every condition true at once: the first rule of the table wins, then the next ...
        (
            {
                "protected_share": 1.0,
                "built_year": 2030,
                "linked_park_id": "T1",
                "linked_park_m": 0.0,
                "cluster_share": 1.0,
                "cluster_id": "K",
            },
            "V1",
        ),
        (
            {
                "built_year": 2030,
                "linked_park_id": "T1",
                "linked_park_m": 0.0,
                "cluster_share": 1.0,
                "cluster_id": "K",
            },
            "V3",
        ),
        (
            {"linked_park_id": "T1", "linked_park_m": 0.0, "cluster_share": 1.0, "cluster_id": "K"},
            "C1",
        ),
        (
            {"boundary_share": 0.0, "cluster_share": 1.0, "cluster_id": "K", "eco_friendly": True},
            "R1",
        ),
    ],
)
def test_first_match_wins(kw, expected):
    assert rule_of(**kw) == expected


def test_targets_and_classes():
    out = run(
        row(linked_park_id="T7", linked_park_m=3.0),
        row(cluster_share=0.9, cluster_id="K3"),
        row(),
        row(boundary_share=0.0),
    )
    assert out["target_id"].tolist() == ["T7", "K3", "T1", ""]
    assert out["class"].tolist() == ["consolidate", "retain", "consolidate", "vacate"]
    assert out["class_zh"].tolist() == ["纳入镇级园区", "保留提升", "纳入镇级园区", "腾挪清退"]
    assert all(RULES[r] == c for r, c in zip(out["rule"], out["class"], strict=True))


def test_reasons_quote_the_deciding_numbers():
    out = run(
        row(boundary_share=0.123, eco_friendly=True, village_park_mu=42.31),
        row(boundary_share=0.123),
        row(protected_share=0.2),
        row(built_year=2023),
    )
    assert out["reason"].iat[0] == "开发边界内占比 0.12 < 0.50；村级园区 42.31 亩 > 15 亩"
    assert out["reason"].iat[1] == "开发边界内占比 0.12 < 0.50；非生态友好、非三产融合"
    assert out["reason_en"].iat[0] == ("boundary_share 0.12 < 0.50; village park 42.31 mu > 15 mu")
    assert out["reason_en"].iat[1] == (
        "boundary_share 0.12 < 0.50; neither eco-friendly nor rural fusion"
    )
    assert "保护用地占比 0.20 ≥ 0.05" in out["reason"].iat[2]
    assert "protected_share 0.20 ≥ 0.05" in out["reason_en"].iat[2]
    assert "建成年份 2023 > 基准年 2021" in out["reason"].iat[3]
    assert "2023 > baseline 2021" in out["reason_en"].iat[3]


#: One plot per rule with numbers no other plot shares, and the texts each reason must
#: quote (Chinese, English): every rule's reason in both languages, numbers as decided.
EVERY_RULE = {
    "V1": (
        row(protected_share=0.374),
        ["保护用地占比 0.37 ≥ 0.05", "生态保护红线"],
        ["protected_share 0.37 ≥ 0.05", "in protected land"],
    ),
    "V3": (
        row(built_year=2024),
        ["建成年份 2024 > 基准年 2021", "新增工业用地"],
        ["built 2024 > baseline 2021"],
    ),
    "C1": (
        row(linked_park_id="T9", linked_park_m=12.34, boundary_share=0.876, village_park_id="VP3"),
        ["村级园区 VP3 距镇级园区 T9 12.3 米 ≤ 50 米", "开发边界内占比 0.88 ≥ 0.50"],
        ["village park VP3 within 12.3 m ≤ 50 m of township park T9", "boundary_share 0.88 ≥ 0.50"],
    ),
    "R1": (
        row(cluster_share=0.654, cluster_id="K4"),
        ["集聚点占比 0.65 ≥ 0.50", "集聚点 K4"],
        ["cluster_share 0.65 ≥ 0.50 in cluster point K4"],
    ),
    "R2": (
        row(boundary_share=0.234, rural_fusion=True, village_park_mu=7.891),
        ["开发边界内占比 0.23 < 0.50", "三产融合", "村级园区 7.89 亩 ≤ 15 亩"],
        ["boundary_share 0.23 < 0.50", "rural fusion", "village park 7.89 mu ≤ 15 mu"],
    ),
    "V2": (
        row(boundary_share=0.345, eco_friendly=True, village_park_mu=16.78),
        ["开发边界内占比 0.34 < 0.50", "村级园区 16.78 亩 > 15 亩"],
        ["boundary_share 0.34 < 0.50", "village park 16.78 mu > 15 mu"],
    ),
    "C2": (
        row(boundary_share=0.789, cluster_share=0.123, nearest_park_m=432.16),
        ["开发边界内占比 0.79 ≥ 0.50", "集聚点占比 0.12 < 0.50", "最近镇级园区 T1，距 432.2 米"],
        [
            "boundary_share 0.79 ≥ 0.50",
            "cluster_share 0.12 < 0.50",
            "nearest township park T1 at 432.2 m",
        ],
    ),
}


def test_every_rule_has_a_reason_in_both_languages():
    assert set(EVERY_RULE) == set(TABLE) == set(RULES)
    plots = [p for p, _, _ in EVERY_RULE.values()]
    zh, en = run(*plots), run(*plots, lang="en")
    assert zh["rule"].tolist() == list(EVERY_RULE) == en["rule"].tolist()
    for i, (_, want_zh, want_en) in enumerate(EVERY_RULE.values()):
        for text in want_zh:
            assert text in zh["reason"].iat[i] and text in en["reason_zh"].iat[i]
        for text in want_en:
            assert text in zh["reason_en"].iat[i] and text in en["reason"].iat[i]
    assert "reason_zh" not in zh and "reason_en" not in en
    # Chinese reasons carry no field names or English words: only ids and numbers
    assert not zh["reason"].str.contains("[A-Za-z_]{3,}", regex=True).any()


def test_reasons_follow_the_rows_they_decided():
    """Rules interleaved: each row gets its own rule's reason and its own numbers."""
    shares = [0.11, 0.66, 0.22, 0.77, 0.33]
    plots = [
        row(boundary_share=s) if s < 0.5 else row(cluster_share=s, cluster_id=f"K{i}")
        for i, s in enumerate(shares)
    ]
    out = run(*plots)
    assert out["rule"].tolist() == ["V2", "R1", "V2", "R1", "V2"]
    for i, s in enumerate(shares):
        assert f"{s:.2f}" in out["reason"].iat[i] and f"{s:.2f}" in out["reason_en"].iat[i]
    assert out["reason"].iat[3].endswith("K3")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        run(row(), lang="fr")


def test_c2_without_any_township_park():
    out = run(row(nearest_park_id=None, nearest_park_m=float("nan")))
    assert out["rule"].iat[0] == "C2" and out["reason"].iat[0].endswith("输入中无镇级园区")
    assert out["reason_en"].iat[0].endswith("no township park in the input")


def test_unclassified_rows():
    df = pd.DataFrame([row(), row()])
    out = decide(df, df, P, pd.Series(["", "geometry is empty"]))
    assert out["class"].tolist() == ["consolidate", "unclassified"]
    assert out["rule"].iat[1] == "" and out["target_id"].iat[1] == ""
    assert out["reason"].iat[1] == "无法分类：图形为空"
    assert out["reason_en"].iat[1] == "cannot classify: geometry is empty"


@pytest.mark.parametrize(
    "problem,zh",
    [
        ("geometry is null", "无法分类：图形缺失"),
        ("geometry is LineString, not a polygon", "无法分类：图形为 LineString，不是面"),
        (
            "lies outside China (lon/lat near 1.500, 2.500 in EPSG:4490); fix its coordinates",
            "无法分类：位于中国境外（EPSG:4490 下经纬度约 1.500, 2.500）；请修正坐标",
        ),
        ("something new", "无法分类：something new"),  # unknown texts kept whole
    ],
)
def test_problems_in_chinese(problem, zh):
    df = pd.DataFrame([row()])
    assert decide(df, df, P, pd.Series([problem]))["reason"].iat[0] == zh


def test_parameters_change_decisions():
    params = load_config(scattered_max_mu=50).parameters
    kw = {"boundary_share": 0.1, "eco_friendly": True, "village_park_mu": 42.0}
    assert rule_of(**kw) == "V2"
    assert rule_of(params=params, **kw) == "R2"
    assert rule_of(params=load_config(baseline_year=2025).parameters, built_year=2023) == "C2"
