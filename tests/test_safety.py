"""Workshop safety (SPEC §12): three-in-one checks S1–S6, risk levels, S1 overriding the
classes, the failed checks as fixes owed, source control and its list."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import X0, Y0, rect, tiny_layers, write_gpkg
from zoning.config import load_config
from zoning.errors import ConfigError
from zoning.layers import IssueLog
from zoning.safety import check_states, read_check_fields, risk_levels
from zoning.workshops import classify_and_place

ALL_PASS = {
    "hazardous_goods": "否",
    "fire_separation": "是",
    "separate_exit": "是",
    "smoke_alarm": "是",
    "window_escape": "是",
    "sprinkler": "",
    "residents": 2,
}


def pt(x, y):
    return shapely.Point(X0 + x, Y0 + y)


def workshop(wid, geom=None, **kw):
    row = {
        "workshop_id": wid,
        "licensed": True,
        "env_permit": "yes",
        "pollution": False,
        "three_in_one": True,
        "illegal_building": False,
        "backward_capacity": False,
        "hazards_found": 0,
        "hazards_open": 0,
        "floor_area_m2": 100.0,
        "geometry": geom if geom is not None else pt(50, 25),
    }  # on P001 (consolidate)
    row.update(kw)
    return row


def run(rows, config=None):
    ws = gpd.GeoDataFrame(rows, geometry="geometry", crs=4549)
    parks = gpd.GeoDataFrame(
        {
            "micro_park_id": ["M1"],
            "town": ["浒山街道"],
            "floor_area_m2": [1000.0],
            "occupied_m2": [0.0],
        },
        geometry=[rect(500, 500, 50, 50)],
        crs=4549,
    )
    from zoning import classify

    layers = tiny_layers()
    res = classify_and_place(
        ws,
        parks,
        classify(layers).parcels,
        layers["protected"],
        layers["towns"],
        config or load_config(),
        IssueLog(),
    )
    return res


def states(rows, minimum=10):
    frame = pd.DataFrame(rows)
    frame["three_in_one"] = frame.get("three_in_one", True)
    frame["workshop_id"] = [f"W{i}" for i in range(len(frame))]
    issues = IssueLog()
    read = read_check_fields(frame, issues)
    return check_states(read, sprinkler_residents_min=minimum), issues


@pytest.mark.parametrize(
    "code,field,fail_value",
    [
        ("S1", "hazardous_goods", "是"),
        ("S2", "fire_separation", "否"),
        ("S3", "separate_exit", "no"),
        ("S4", "smoke_alarm", "×"),
        ("S5", "window_escape", "0"),
    ],
)
def test_each_check_passes_fails_and_is_unknown_when_missing(code, field, fail_value):
    passing = {**ALL_PASS}
    failing = {**ALL_PASS, field: fail_value}
    empty = {**ALL_PASS, field: ""}
    none = {**ALL_PASS, field: None}
    out, _ = states([passing, failing, empty, none])
    assert out[code].tolist() == ["pass", "fail", "unknown", "unknown"]
    others = out.drop(columns=code)
    assert (others.drop(columns="S6") == "pass").all().all()


def test_a_missing_column_is_unknown_not_false():
    rows = [{k: v for k, v in ALL_PASS.items() if k != "smoke_alarm"}]
    out, _ = states(rows)
    assert out["S4"].iat[0] == "unknown"


@pytest.mark.parametrize(
    "residents,sprinkler,expected",
    [
        (9, "否", "pass"),
        (10, "否", "fail"),
        (11, "否", "fail"),
        (9, "", "pass"),
        (10, "", "unknown"),
        (11, "是", "pass"),
        (10, "是", "pass"),
        (None, "是", "unknown"),
        (None, "否", "unknown"),
        ("", "否", "unknown"),
    ],
)
def test_s6_at_the_threshold(residents, sprinkler, expected):
    out, _ = states([{**ALL_PASS, "residents": residents, "sprinkler": sprinkler}])
    assert out["S6"].iat[0] == expected


def test_s6_threshold_comes_from_the_config(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("[safety]\nsprinkler_residents_min = 12\n", encoding="utf-8")
    minimum = load_config(toml).safety["sprinkler_residents_min"]
    assert minimum == 12 and load_config().safety["sprinkler_residents_min"] == 10
    out, _ = states([{**ALL_PASS, "residents": 11, "sprinkler": "否"}], minimum)
    assert out["S6"].iat[0] == "pass"


@pytest.mark.parametrize(
    "text",
    [
        "[safety]\nsprinkler_residents_min = 0\n",
        "[safety]\nsprinkler_residents_min = 9.5\n",
        "[safety]\nsprinkler = 10\n",
    ],
)
def test_bad_safety_config_is_one_named_error(tmp_path, text):
    toml = tmp_path / "c.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[safety\]"):
        load_config(toml)


def test_a_word_that_is_no_yes_no_is_reported_and_read_as_false():
    out, issues = states([{**ALL_PASS, "fire_separation": "maybe"}])
    assert out["S2"].iat[0] == "fail"
    log = issues.frame()
    assert (log["id"] == "W0").any() and log["reason"].str.contains("fire_separation").any()


def test_not_three_in_one_has_no_checks_and_level_none():
    out, _ = states([{**ALL_PASS, "hazardous_goods": "是", "three_in_one": False}])
    assert (out.iloc[0] == "").all()
    assert risk_levels(out)["risk_level"].iat[0] == "none"


@pytest.mark.parametrize(
    "changes,level,failed,unknown",
    [
        ({}, "low", "", ""),
        ({"hazardous_goods": "是"}, "high", "S1", ""),
        ({"fire_separation": "否"}, "medium", "S2", ""),
        ({"fire_separation": "否", "smoke_alarm": "否"}, "medium", "S2 S4", ""),
        (
            {"fire_separation": "否", "smoke_alarm": "否", "window_escape": "否"},
            "high",
            "S2 S4 S5",
            "",
        ),
        ({"smoke_alarm": ""}, "unknown", "", "S4"),
        ({"smoke_alarm": "", "residents": None}, "unknown", "", "S4 S6"),
        ({"smoke_alarm": "", "separate_exit": "否"}, "medium", "S3", "S4"),
    ],
)
def test_risk_levels(changes, level, failed, unknown):
    out, _ = states([{**ALL_PASS, **changes}])
    risk = risk_levels(out)
    assert risk.iloc[0].tolist() == [level, failed, unknown]


def test_s1_makes_the_workshop_eliminate_over_every_other_class():
    rows = [
        workshop("S1-demolish", illegal_building=True, **{**ALL_PASS, "hazardous_goods": "是"}),
        workshop("S1-to_park", pt(700, 700), **{**ALL_PASS, "hazardous_goods": "是"}),
        workshop("S1-upgrade", three_in_one=False, **{**ALL_PASS, "hazardous_goods": "是"}),
        workshop("plain", **ALL_PASS),
        workshop("S1-nowhere", shapely.Point(), **{**ALL_PASS, "hazardous_goods": "是"}),
    ]
    out = run(rows).workshops.set_index("workshop_id")
    assert out["class"].to_dict() == {
        "S1-demolish": "eliminate",
        "S1-to_park": "eliminate",
        "S1-upgrade": "upgrade",
        "plain": "to_park",
        "S1-nowhere": "unclassified",
    }
    assert "S1" in out.loc["S1-demolish", "reason"] and "甲乙类" in out.loc["S1-demolish", "reason"]
    assert out.loc["S1-demolish", "class_zh"] == "整治淘汰"
    # a workshop that is not three-in-one has no checks: S1 is not applied to it
    assert out.loc["S1-upgrade", "risk_level"] == "none"
    assert out.loc["S1-nowhere", "risk_level"] == "high"


def test_failed_checks_join_the_fixes_owed_and_columns_are_in_the_layer():
    rows = [
        workshop(
            "A",
            licensed=False,
            **{**ALL_PASS, "fire_separation": "否", "smoke_alarm": "否", "window_escape": ""},
        ),
        workshop("B", three_in_one=False),
    ]
    out = run(rows).workshops.set_index("workshop_id")
    assert out.loc["A", "fixes"] == "licence;separation;S2;S4"
    assert out.loc["A", "checks_failed"] == "S2 S4"
    assert out.loc["A", "checks_unknown"] == "S5"
    assert out.loc["A", "risk_level"] == "medium"
    assert out.loc["B", "fixes"] == "" and out.loc["B", "risk_level"] == "none"
    assert out.loc["B", "checks_failed"] == "" and out.loc["B", "checks_unknown"] == ""


@pytest.mark.parametrize(
    "year,on_plot,flagged",
    [
        (2020, False, False),
        (2021, False, False),
        (2022, False, True),
        (2022, True, False),
        (None, False, False),
    ],
)
def test_source_control_at_the_baseline_year(year, on_plot, flagged):
    where = pt(50, 25) if on_plot else pt(700, 700)
    out = run([workshop("W", where, three_in_one=False, registered_year=year)]).workshops
    assert bool(out["no_industrial_power"].iat[0]) is flagged


def test_source_control_on_a_vacate_plot_is_not_flagged_and_baseline_from_config(tmp_path):
    # P004 is classed vacate: still an industrial plot under the workshop (SPEC §12)
    out = run([workshop("V", pt(3050, 1050), three_in_one=False, registered_year=2024)])
    assert not out.workshops["no_industrial_power"].iat[0]
    toml = tmp_path / "c.toml"
    toml.write_text("[parameters]\nbaseline_year = 2022\n", encoding="utf-8")
    res = run(
        [workshop("W", pt(700, 700), three_in_one=False, registered_year=2022)], load_config(toml)
    )
    assert not res.workshops["no_industrial_power"].iat[0]
    assert len(res.power_list) == 0


def test_power_list_names_workshop_town_village_year_and_reason():
    rows = [
        workshop("N1", pt(700, 700), three_in_one=False, registered_year="2023", village="东村"),
        workshop("N2", pt(50, 25), three_in_one=False, registered_year=2023),
    ]
    power = run(rows).power_list
    assert power.columns.tolist() == ["workshop_id", "town", "village", "registered_year", "reason"]
    assert power["workshop_id"].tolist() == ["N1"]
    assert power.iloc[0][["town", "village"]].tolist() == ["浒山街道", "东村"]
    assert power["registered_year"].iat[0] == 2023
    assert "2021" in power["reason"].iat[0] and "三相工业用电" in power["reason"].iat[0]


def test_workshops_command_writes_columns_power_list_and_sheets(tmp_path):
    layers = tiny_layers()
    layers["workshops"] = gpd.GeoDataFrame(
        [
            workshop("H", **{**ALL_PASS, "hazardous_goods": "是"}),
            workshop("M", **{**ALL_PASS, "fire_separation": "否"}),
            workshop("N", pt(700, 700), three_in_one=False, registered_year=2024),
        ],
        geometry="geometry",
        crs=4549,
    )
    layers["micro_parks"] = gpd.GeoDataFrame(
        {"micro_park_id": ["M1"], "floor_area_m2": [1000.0], "occupied_m2": [0.0]},
        geometry=[rect(500, 500, 50, 50)],
        crs=4549,
    )
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "zoning", "workshops", path, "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    ws = gpd.read_file(out / "workshops.gpkg", layer="workshops").set_index("workshop_id")
    assert ws.loc["H", "class"] == "eliminate" and ws.loc["H", "risk_level"] == "high"
    assert ws.loc["M", "checks_failed"] == "S2" and ws.loc["N", "risk_level"] == "none"
    assert ws["no_industrial_power"].tolist() == [False, False, True]
    power = pd.read_csv(out / "power_list.csv", encoding="utf-8-sig", dtype=str)
    assert power["workshop_id"].tolist() == ["N"]
    book = pd.read_excel(out / "workshops.xlsx", sheet_name=None, header=1)
    assert {"三合一检查", "不予供电"} <= set(book)
    checks = book["三合一检查"].set_index("作坊编号")
    assert checks.loc["H", "风险等级"] == "高风险"
    assert checks.loc["M", "未通过检查"] == "S2 居住部分未防火分隔"
    listing = book["清单"].set_index("作坊编号")
    assert "防火分隔" in listing.loc["M", "待整改事项"]
    assert listing.loc["N", "源头管控"] == "不予提供三相工业用电"
    assert book["不予供电"]["作坊编号"].tolist() == ["N"]


# --- industry campaigns (一行业一方案) ---------------------------------------------------

CAMPAIGNS_TOML = """
[[campaigns]]
name = "服装(童装)"
industries = ["服装*", "童装"]
target_closed = 244
deadline = 2022-03-31

[[campaigns]]
name = "拖鞋"
industries = ["拖鞋"]
target_closed = 96

[[campaigns]]
name = "轴承"
industries = ["轴承"]
"""


def state_of(rows):
    from zoning.vocab import FINAL_STATUS

    frame = pd.DataFrame(rows, columns=["item_id", "industry", "class", "status"])
    frame["kind"] = "workshop"
    frame["town"] = "甲镇"
    frame["final"] = [
        FINAL_STATUS[("workshop", c)] == s
        for c, s in zip(frame["class"], frame["status"], strict=True)
    ]
    return frame


def test_campaign_prefix_exact_match_and_a_workshop_in_two_campaigns():
    from zoning.campaigns import campaign_table

    campaigns = [
        {"name": "服装", "industries": ("服装*",), "target_closed": 2, "deadline": "2022-03-31"},
        {
            "name": "童装",
            "industries": ("服装(童装)", "童装*"),
            "target_closed": None,
            "deadline": None,
        },
        {"name": "空", "industries": ("化纤",), "target_closed": 1, "deadline": None},
    ]
    state = state_of(
        [
            ("A", "服装", "eliminate", "closed"),  # 服装* matches with no continuation
            ("B", "服装(童装)", "demolish", "demolished"),  # in both campaigns, once in each
            ("C", "服装 ", "to_park", "moved"),  # 服装* prefix: yes; exact: n/a
            ("D", " 服装", "upgrade", "rectified"),  # no trimming: not 服装*
            ("E", "童装", "upgrade", "pending"),
            ("F", "", "eliminate", "closed"),  # no industry: no campaign
            ("G", None, "eliminate", "closed"),
            ("H", "童装童装", "to_park", "in_progress"),
        ]
    )
    table = campaign_table(state, campaigns).set_index("campaign")
    assert table.columns.tolist() == [
        "workshops",
        "final",
        "closed",
        "target_closed",
        "share_final",
        "deadline",
    ]
    assert table.loc["服装"].tolist() == [3, 3, 2, 2, 1.0, "2022-03-31"]
    assert table.loc["童装", ["workshops", "final", "closed"]].tolist() == [3, 1, 1]
    assert pd.isna(table.loc["童装", "target_closed"])
    assert table.loc["童装", "share_final"] == pytest.approx(0.3333)
    assert table.loc["空", "workshops"] == 0 and pd.isna(table.loc["空", "share_final"])
    every = campaign_table(state, [{"name": "全部", "industries": ("*",)}])
    assert every["workshops"].tolist() == [6]  # "*" alone: every workshop with an industry


@pytest.mark.parametrize(
    "text,match",
    [
        ('[[campaigns]]\nname = "x"\n', "industries"),
        ('[[campaigns]]\nname = "x"\nindustries = []\n', "industries"),
        ('[[campaigns]]\nname = "x"\nindustries = [" "]\n', "industries"),
        ('[[campaigns]]\nindustries = ["a"]\n', "name"),
        ('[[campaigns]]\nname = "x"\nindustries = ["a"]\ntarget_closed = -1\n', "target_closed"),
        ('[[campaigns]]\nname = "x"\nindustries = ["a"]\ndeadline = "soon"\n', "deadline"),
        ('[[campaigns]]\nname = "x"\nindustries = ["a"]\ngoal = 3\n', "unknown"),
        (
            '[[campaigns]]\nname = "x"\nindustries = ["a"]\n[[campaigns]]\nname = "x"\n'
            'industries = ["b"]\n',
            "twice",
        ),
    ],
)
def test_bad_campaigns_are_one_named_error(tmp_path, text, match):
    toml = tmp_path / "c.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_config(toml)


def test_campaigns_read_from_the_config(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text(CAMPAIGNS_TOML, encoding="utf-8")
    campaigns = load_config(toml).campaigns
    assert [c["name"] for c in campaigns] == ["服装(童装)", "拖鞋", "轴承"]
    assert campaigns[0]["deadline"] == "2022-03-31" and campaigns[2]["target_closed"] is None


def test_ledger_report_writes_campaigns_and_their_sheets(tmp_path, classified):
    from zoning import ledger as lg

    layers = tiny_layers()
    layers["workshops"] = gpd.GeoDataFrame(
        [
            workshop("W1", industry="服装", three_in_one=False, backward_capacity=True),
            workshop("W2", industry="服装(童装)", three_in_one=False, illegal_building=True),
            workshop("W3", industry="拖鞋", three_in_one=False),
            workshop("W4", industry="五金", three_in_one=False),
        ],
        geometry="geometry",
        crs=4549,
    )
    layers["micro_parks"] = gpd.GeoDataFrame(
        {"micro_park_id": ["M1"], "floor_area_m2": [1000.0], "occupied_m2": [0.0]},
        geometry=[rect(500, 500, 50, 50)],
        crs=4549,
    )
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    wdir = tmp_path / "ws"
    res = subprocess.run(
        [sys.executable, "-m", "zoning", "workshops", path, "--out", str(wdir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    ledger = tmp_path / "ledger.gpkg"
    from zoning.outputs import init_ledger

    init_ledger(ledger, classified, wdir)
    sheet = tmp_path / "s.csv"
    pd.DataFrame(
        {
            "kind": ["workshop"] * 3,
            "item_id": ["W1", "W2", "W3"],
            "status": ["closed", "in_progress", "in_progress"],
            "date": ["2026-03-01"] * 3,
            "note": ["验收", "", ""],
        }
    ).to_csv(sheet, index=False, encoding="utf-8-sig")
    report = lg.import_sheet(ledger, sheet, "2026-04-01")
    assert report.accepted == 3
    toml = tmp_path / "c.toml"
    toml.write_text(CAMPAIGNS_TOML, encoding="utf-8")
    out = tmp_path / "report"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "ledger",
            "report",
            str(ledger),
            "--as-of",
            "2026-03-31",
            "--config",
            str(toml),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(
        out / "campaigns.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert table.columns.tolist()[:6] == [
        "campaign",
        "workshops",
        "final",
        "closed",
        "target_closed",
        "share_final",
    ]
    assert table.values.tolist() == [
        ["服装(童装)", "2", "1", "1", "244", "0.5", "2022-03-31"],
        ["拖鞋", "1", "0", "0", "96", "0.0", ""],
        ["轴承", "0", "0", "0", "", "", ""],
    ]
    book = pd.ExcelFile(out / "assessment.xlsx")
    assert {"服装(童装)清单", "拖鞋清单", "轴承清单"} <= set(book.sheet_names)
    sheet = pd.read_excel(out / "assessment.xlsx", sheet_name="服装(童装)清单", header=1)
    assert sheet["作坊编号"].tolist() == ["W1", "W2"]
    assert sheet["状态"].tolist() == ["已关停", "推进中"]
    ok = subprocess.run(
        [sys.executable, "-m", "zoning", "ledger", "verify", str(ledger)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stdout


def test_the_county_profile_ships_the_five_campaigns_of_the_reply():
    from pathlib import Path

    profile = Path(__file__).resolve().parents[1] / "data" / "cixi.toml"
    campaigns = {c["name"]: c["target_closed"] for c in load_config(profile).campaigns}
    assert campaigns == {
        "服装(童装)": 244,
        "拖鞋": 96,
        "减压阀": 12,
        "轴承": None,
        "再生塑料": None,
    }


def test_sample_safety_fields_leave_the_other_columns_as_they_were():
    from zoning.sample import add_cluster_bodies, add_safety_fields

    ws = gpd.GeoDataFrame(
        {
            "workshop_id": ["A", "B", "C"],
            "three_in_one": [True, False, True],
            "geometry": [pt(0, 0)] * 3,
        },
        crs=4549,
    )
    out = add_safety_fields(ws, seed=1)
    pd.testing.assert_frame_equal(out[ws.columns], ws)
    assert out.loc[1, ["hazardous_goods", "fire_separation", "residents"]].isna().all()
    assert out["registered_year"].notna().any()
    again = add_safety_fields(ws, seed=1)
    pd.testing.assert_frame_equal(out, again)
    clusters = gpd.GeoDataFrame({"cluster_id": ["K1"], "geometry": [rect(0, 0, 9, 9)]}, crs=4549)
    bodies = add_cluster_bodies(clusters, seed=1)
    assert {"management_body", "safety_body"} <= set(bodies.columns)
    pd.testing.assert_frame_equal(bodies[clusters.columns], clusters)


def test_the_committed_sample_carries_the_safety_fields():
    from pathlib import Path

    import pyogrio

    sample = Path(__file__).resolve().parents[1] / "data" / "sample_county.gpkg"
    ws = pyogrio.read_dataframe(sample, layer="workshops", read_geometry=False)
    three = ws["three_in_one"].astype(bool)
    assert ws.loc[three, "smoke_alarm"].notna().mean() > 0.9
    assert ws.loc[~three, "smoke_alarm"].isna().all()
    assert 0 < (ws["hazardous_goods"] == 1).sum() < 0.05 * three.sum()
    assert (ws["registered_year"] > 2021).sum() > 0


def test_map_colours_three_in_one_workshops_by_risk_with_failed_checks_in_chinese():
    from zoning import classify
    from zoning.maps import map_payload
    from zoning.vocab import RISK_PALETTE

    rows = [
        workshop("H", **{**ALL_PASS, "hazardous_goods": "是"}),
        workshop("M", **{**ALL_PASS, "fire_separation": "否", "smoke_alarm": "否"}),
        workshop("U", **{**ALL_PASS, "window_escape": ""}),
        workshop("N", three_in_one=False),
    ]
    ws = run(rows).workshops
    parcels = classify(tiny_layers()).parcels
    risk = map_payload({"parcels": parcels, "workshops": ws})["workshops"]["risk"]
    assert [lv["key"] for lv in risk["levels"]] == ["high", "medium", "unknown"]
    assert [lv["name"] for lv in risk["levels"]] == ["高风险", "中风险", "待核查"]
    assert risk["levels"][0]["color"] == RISK_PALETTE["high"]
    assert len(risk["idx"]) == 3  # N is not three-in-one: not on the risk layer
    failed = dict(zip([ws["workshop_id"].iat[i] for i in risk["idx"]], risk["failed"], strict=True))
    assert failed["M"] == "S2 居住部分未防火分隔；S4 居住部分无独立式感烟报警器"
    english = map_payload({"parcels": parcels, "workshops": ws}, lang="en")
    assert english["workshops"]["risk"]["failed"][1] == "S2 S4"
