"""Old industrial blocks and freed land (SPEC §11): hand-made cases at the thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import frame, rect
from zoning import blocks as B
from zoning.config import DEFAULTS, load_config
from zoning.errors import ConfigError, ZoningError
from zoning.layers import read_table

PARAMS = DEFAULTS["blocks"]
FREED = DEFAULTS["freed"]


def plot(
    pid,
    x,
    y,
    w=20.0,
    h=20.0,
    cls="retain",
    rule="R1",
    town="甲镇",
    enterprise=None,
    built_year=None,
    floor_area_m2=None,
    boundary_share=1.0,
    village_park_id=None,
):
    geom = rect(x, y, w, h)
    return {
        "parcel_id": pid,
        "class": cls,
        "rule": rule,
        "town": town,
        "enterprise": enterprise,
        "built_year": built_year,
        "floor_area_m2": floor_area_m2,
        "boundary_share": boundary_share,
        "area_m2": geom.area,
        "area_mu": geom.area * 15 / 10000,
        "village_park_id": village_park_id,
        "geometry": geom,
    }


def plots(*rows):
    """Plots as a classification writes them; without village_park_id when none is given
    (blocks then computes the village parks)."""
    out = frame(list(rows))
    if out["village_park_id"].isna().all():
        out = out.drop(columns="village_park_id")
    return out


def facts(**columns):
    """A one-or-more-row facts frame, missing facts NaN."""
    base = {
        "plots": 1,
        "built_year": np.nan,
        "floor_area_ratio": np.nan,
        "d_share": 0.0,
        "tax_per_mu": np.nan,
    }
    base.update(columns)
    n = max(len(v) if isinstance(v, list) else 1 for v in base.values())
    return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})


def table(rows, year=None):
    out = pd.DataFrame(rows)
    if year is not None:
        out["year"] = year
    return out


def ent(eid, name, land, tax, revenue=None, investment=None, **more):
    row = {
        "enterprise_id": eid,
        "enterprise": name,
        "land_mu": land,
        "tax_10k_yuan": tax,
        "revenue_10k_yuan": revenue,
    }
    if investment is not None:
        row["investment_10k_yuan"] = investment
    row.update(more)
    return row


# --- modes B1–B3 ------------------------------------------------------------------------


def test_b1_at_its_thresholds():
    f = facts(
        built_year=[2000, 2000, 2000, 2001, 2000],
        floor_area_ratio=[0.99, 1.0, 1.0, 0.5, np.nan],
        d_share=[0.0, 0.5, 0.49, 0.9, 0.5],
    )
    out = B.decide_modes(f, PARAMS)
    assert out["rule"].tolist() == ["B1", "B1", "B3", "B3", "B1"]
    assert out["mode"].tolist()[:2] == ["rebuild", "rebuild"]
    assert out["mode_zh"].iat[0] == "拆除式"
    assert "建成年份 2000 ≤ 2000" in out["reason"].iat[0]
    assert "容积率 0.99 < 1.00" in out["reason"].iat[0]
    assert "d_share 0.50 ≥ 0.50" in out["reason"].iat[1]
    assert "建成年份 2001 > 2000" in out["reason"].iat[3]


def test_b2_against_the_median_of_all_blocks_with_tax():
    # taxes 1, 2, 3, 4 (median 2.5) and one block without: 3 plots each
    f = facts(plots=[3, 3, 3, 3, 3, 2], tax_per_mu=[1.0, 2.0, 3.0, 4.0, np.nan, 0.5])
    out = B.decide_modes(f, PARAMS)
    # median over 1, 2, 3, 4, 0.5 = 2.0: below it with ≥ 3 plots is B2; 2.0 itself is not
    assert out["rule"].tolist() == ["B2", "B3", "B3", "B3", "B3", "B3"]
    assert "亩均税收 1.00 万元/亩 < 1.00 × 中位数 2.00" in out["reason"].iat[0]
    assert "亩均税收 2.00 ≥ 1.00 × 中位数 2.00" in out["reason"].iat[1]
    assert "亩均税收缺失" in out["reason"].iat[4]
    assert "地块 2 < 3" in out["reason"].iat[5]
    # the ratio moves the bar: 1.5 × 2.0 = 3.0
    out = B.decide_modes(f, {**PARAMS, "reorganise_tax_ratio": 1.5})
    assert out["rule"].tolist()[:4] == ["B2", "B2", "B3", "B3"]


def test_missing_facts_make_conditions_false():
    f = facts(
        plots=[9], built_year=[np.nan], floor_area_ratio=[0.1], d_share=[1.0], tax_per_mu=[np.nan]
    )
    out = B.decide_modes(f, PARAMS)
    assert out["rule"].iat[0] == "B3" and out["mode"].iat[0] == "manage"
    assert "建成年份缺失" in out["reason"].iat[0] and "built_year missing" in out["reason"].iat[0]
    # B1 first: an old block of many low-tax plots is rebuilt, not reorganised
    f = facts(
        plots=[5, 5], built_year=[1990, 2010], floor_area_ratio=[0.5, 0.5], tax_per_mu=[1.0, 9.0]
    )
    assert B.decide_modes(f, PARAMS)["rule"].tolist() == ["B1", "B3"]


# --- block facts --------------------------------------------------------------------------


def test_block_is_the_village_park_of_its_members_and_facts():
    p = plots(
        plot("A1", 0, 0, town="乙镇", enterprise="E1", built_year=1990, floor_area_m2=200.0),
        plot(
            "A2", 25, 0, cls="consolidate", rule="C2", town="甲镇", enterprise="E1", built_year=2000
        ),
        plot("A3", 50, 0, town="乙镇", enterprise="E2", built_year=2004, floor_area_m2=600.0),
        plot("A4", 75, 0, town="甲镇", built_year=2010),
        plot("A5", 100, 0, cls="vacate", rule="V2", town="丙镇", built_year=1950),  # no member
        plot("A6", 500, 0, cls="unclassified", rule=""),
    )
    ent_table = B.enterprise_years(
        [table([ent("1", "E1", 10, 50.0, 400.0), ent("2", "E2", 10, 10.0, 100.0)])], 2024
    )
    r = B.run(p, ent_table)
    b = r.blocks.set_index("block_id")
    assert list(b.index) == ["A1"]  # computed village park, named by its smallest id
    row = b.loc["A1"]
    assert row["plots"] == 4
    assert row["mu"] == pytest.approx(4 * 400 * 15 / 10000)
    assert row["town"] == "乙镇"  # 2 × 乙镇, 2 × 甲镇: tie, code-point first
    assert "乙镇" < "甲镇"
    assert row["built_year"] == 2002.0  # even count: mean of 2000 and 2004
    assert row["floor_area_ratio"] == pytest.approx(800.0 / 800.0)  # only plots with floor area
    # E1 sits on two members and counts once: (50 + 10) / (10 + 10)
    assert row["tax_per_mu"] == pytest.approx(3.0)
    assert row["output_per_mu"] == pytest.approx(25.0)
    assert np.isnan(row["investment_per_mu"])  # the table has no investment_10k_yuan
    assert r.blocks.geometry.iat[0].area == pytest.approx(4 * 400)


def test_town_ignores_members_without_one_and_village_park_column_is_used():
    p = plots(
        plot("B1", 0, 0, town="", village_park_id="VP"),
        plot("B2", 0, 500, town="", village_park_id="VP"),
        plot("B3", 0, 1000, town="丁镇", village_park_id="VP"),
    )
    r = B.run(p)
    assert r.blocks["block_id"].tolist() == ["VP"]
    assert r.blocks["town"].iat[0] == "丁镇"
    assert r.blocks["d_share"].iat[0] == 0.0  # no grades given
    assert np.isnan(r.blocks["tax_per_mu"].iat[0])  # no enterprise table
    assert r.blocks["rule"].iat[0] == "B3"


def test_enterprise_rows_without_values_or_land_are_left_out():
    p = plots(
        plot("C1", 0, 0, enterprise="E1"),
        plot("C2", 25, 0, enterprise="E2"),
        plot("C3", 50, 0, enterprise="E3"),
    )
    t = table(
        [
            ent("1", "E1", 10, 20.0, 100.0),
            ent("2", "E2", 0, 99.0, 99.0),
            ent("3", "E3", 5, None, 50.0),
        ],
        2024,
    )
    r = B.run(p, B.enterprise_years([t]))
    row = r.blocks.iloc[0]
    assert row["tax_per_mu"] == pytest.approx(20.0 / 10)  # E2: land 0; E3: no tax
    assert row["output_per_mu"] == pytest.approx(150.0 / 15)  # E1 and E3


def test_d_share_from_the_latest_years_grades():
    # four enterprises: the last by score is graded D (⌊0.95 × 4⌋ = 3)
    rows = [
        ent(
            str(i),
            f"E{i}",
            10,
            tax,
            100.0,
            value_added_10k_yuan=tax * 3,
            energy_tce=10,
            emissions_t=1,
            employees=10,
            rd_10k_yuan=1,
        )
        for i, tax in ((1, 40.0), (2, 30.0), (3, 20.0), (4, 1.0))
    ]
    old = [dict(r) for r in rows]
    old[0]["tax_10k_yuan"] = 0.0  # in the older year E1 was the weakest
    p = plots(plot("D1", 0, 0, w=20, enterprise="E4"), plot("D2", 25, 0, w=60, enterprise="E1"))
    e = B.enterprise_years([table(old, 2022), table(rows, 2024)])
    r = B.run(p, e)
    assert r.blocks["d_share"].iat[0] == pytest.approx(400.0 / (400.0 + 1200.0))
    assert r.years == [2022, 2024]


# --- the blocks layer ----------------------------------------------------------------------


def test_blocks_layer_most_overlap_ties_smallest_id_and_none_keeps_village_park():
    p = plots(
        plot("M1", 0, 0, w=40),  # half in X2, half in X1: tie -> X1
        plot("M2", 100, 0, w=40),  # 30 in Y, 10 in X9 -> Y
        plot("M3", 500, 0),  # in no polygon: its village park
        plot("M4", 520, 0, cls="vacate", rule="V2"),
    )  # no member: never in a block
    polys = frame(
        [
            {"block_id": "X2", "geometry": rect(-10, -10, 30, 50)},
            {"block_id": "X1", "geometry": rect(20, -10, 30, 50)},
            {"block_id": "Y", "geometry": rect(90, -10, 40, 50)},
            {"block_id": "X9", "geometry": rect(130, -10, 100, 50)},
            {"block_id": "Z", "geometry": rect(525, -10, 40, 50)},
        ]
    )
    r = B.run(p, block_polygons=polys)
    got = r.plots.set_index("parcel_id")["block_id"].to_dict()
    assert got == {"M1": "X1", "M2": "Y", "M3": "M3", "M4": ""}
    assert sorted(r.blocks["block_id"]) == ["M3", "X1", "Y"]
    # a polygon that only touches a member is no overlap
    touch = frame([{"block_id": "T", "geometry": rect(40, 0, 10, 20)}])
    got = B.assign_blocks(p.iloc[:1], touch).tolist()
    assert got == ["M1"]


# --- freed land -----------------------------------------------------------------------------


def test_freed_sites_link_only_freed_plots():
    # two vacate plots 30 m apart, a retain plot touching both: not one site
    p = plots(
        plot("V1", 0, 0, cls="vacate", rule="V2", boundary_share=0.0),
        plot("R1", 20, 0, w=30),
        plot("V2", 50, 0, cls="vacate", rule="V2", boundary_share=0.0),
        plot("V3", 70 + 20, 0, cls="vacate", rule="V2", boundary_share=0.0),
    )  # 20 m: linked
    r = B.run(p)
    sites = r.plots.set_index("parcel_id")["site_id"].to_dict()
    assert sites == {"V1": "V1", "R1": "", "V2": "V2", "V3": "V2"}
    s = r.freed_sites.set_index("site_id")
    assert s.loc["V2", "plots"] == 2
    assert s.loc["V2", "mu"] == pytest.approx(800 * 15 / 10000)


def test_f1_by_rule_v1_and_by_size_outside_the_boundary():
    side = side_3mu()  # 50 × 40 m = 2000 m² = 3 mu exactly at the threshold
    p = plots(
        plot("S1", 0, 0, cls="vacate", rule="V1", boundary_share=1.0),
        plot("S2", 1000, 0, w=side, h=40, cls="vacate", rule="V2", boundary_share=0.49),
        plot("S3", 2000, 0, w=40, h=40, cls="vacate", rule="V2", boundary_share=0.0),
        plot("S4", 3000, 0, w=side, h=40, cls="vacate", rule="V3", boundary_share=0.5),
    )
    r = B.run(p)
    s = r.freed_sites.set_index("site_id")
    assert s["rule"].to_dict() == {"S1": "F1", "S2": "F1", "S3": "F3", "S4": "F3"}
    assert s.loc["S1", "reuse"] == "reclaim" and s.loc["S1", "reuse_zh"] == "复垦"
    assert "V1" in s.loc["S1", "reason"]
    assert "开发边界内占比 0.49 < 0.50；面积 3.00 亩 ≥ 3 亩" in s.loc["S2", "reason"]
    assert "面积 2.40 亩 < 3 亩" in s.loc["S3", "reason"]
    assert "开发边界内占比 0.50 ≥ 0.50" in s.loc["S4", "reason"]


def test_boundary_share_of_a_site_is_area_weighted():
    p = plots(
        plot("W1", 0, 0, w=30, cls="vacate", rule="V2", boundary_share=0.0),
        plot("W2", 30, 0, w=10, cls="vacate", rule="V2", boundary_share=1.0),
    )
    s = B.run(p).freed_sites
    assert s["boundary_share"].iat[0] == pytest.approx(0.25)


def test_f2_scenic_within_and_f3_otherwise():
    p = plots(
        plot("T1", 0, 0, cls="vacate", rule="V2", boundary_share=1.0),
        plot("T2", 5000, 0, cls="vacate", rule="V2", boundary_share=1.0),
        plot("T3", 10000, 0, w=side_3mu(), h=40, cls="vacate", rule="V2", boundary_share=0.0),
    )
    scenic = frame(
        [
            {"geometry": rect(20 + 500, 0, 10, 10)},  # 500 m from T1
            {"geometry": rect(5020 + 500.5, 0, 10, 10)},  # 500.5 m from T2
            {"geometry": rect(10000 + side_3mu() + 1, 0, 10, 10)},
        ]
    )  # near T3: F1 wins
    r = B.run(p, scenic=scenic)
    s = r.freed_sites.set_index("site_id")
    assert s["rule"].to_dict() == {"T1": "F2", "T2": "F3", "T3": "F1"}
    assert "景区/旅游村/绿道距 500.0 米 ≤ 500 米" in s.loc["T1", "reason"]
    assert s.loc["T1", "reuse_zh"] == "乡村旅游/民宿"
    assert "500 米内无景区" in s.loc["T2", "reason"]
    assert s.loc["T2", "reuse"] == "amenity"
    # a what-if re-decides without geometry work
    wider = r.redecide(freed={"tourism_within_m": 501.0})
    assert wider.freed_sites.set_index("site_id")["rule"].to_dict()["T2"] == "F2"
    assert wider.towns is not r.towns


def side_3mu():
    return 50.0  # × 40 m = 2000 m² = 3 mu exactly


def test_town_quota_table():
    side = side_3mu()
    p = plots(
        plot("Q1", 0, 0, w=side, h=40, cls="vacate", rule="V2", boundary_share=0.0, town="甲镇"),
        plot("Q2", 1000, 0, cls="vacate", rule="V2", boundary_share=1.0, town="甲镇"),
        plot("Q3", 2000, 0, cls="vacate", rule="V1", boundary_share=1.0, town=""),
    )
    t = B.run(p).towns
    assert list(t.columns) == ["town", "reuse", "sites", "mu", "quota_mu"]
    q = t.set_index(["town", "reuse"])
    assert q.loc[("甲镇", "reclaim"), "sites"] == 1
    assert q.loc[("甲镇", "reclaim"), "quota_mu"] == pytest.approx(3.0)
    assert q.loc[("甲镇", "amenity"), "quota_mu"] == 0.0
    assert q.loc[("甲镇", "amenity"), "mu"] == pytest.approx(0.6)
    assert q.loc[("(未知)", "reclaim"), "quota_mu"] == pytest.approx(0.6)
    assert t["quota_mu"].sum() == pytest.approx(3.6)


# --- history ----------------------------------------------------------------------------------


def test_history_every_block_and_year_baseline_to_latest():
    p = plots(plot("H1", 0, 0, enterprise="E1"), plot("H2", 1000, 0, enterprise="E2"))
    t22 = table([ent("1", "E1", 10, 20.0, 100.0)], 2022)  # no investment column
    t23 = table([ent("1", "E1", 10, 25.0, 120.0, investment=300.0)], 2023)
    t24 = table(
        [
            ent("1", "E1", 10, 30.0, 150.0, investment=500.0),
            ent("2", "E2", 5, 5.0, 50.0, investment=50.0),
        ],
        2024,
    )
    r = B.run(p, B.enterprise_years([t24, t22, t23]))
    h = r.history
    assert list(h.columns) == [
        "block_id",
        "year",
        "tax_per_mu",
        "output_per_mu",
        "investment_per_mu",
    ]
    assert len(h) == 2 * 3
    h1 = h[h["block_id"] == "H1"].set_index("year")
    assert h1["tax_per_mu"].tolist() == pytest.approx([2.0, 2.5, 3.0])
    assert np.isnan(h1.loc[2022, "investment_per_mu"])
    assert h1.loc[2024, "investment_per_mu"] == pytest.approx(50.0)
    h2 = h[h["block_id"] == "H2"].set_index("year")
    assert np.isnan(h2.loc[2022, "tax_per_mu"]) and h2.loc[2024, "tax_per_mu"] == 1.0
    # the modes use the latest year's facts
    assert r.blocks.set_index("block_id").loc["H1", "tax_per_mu"] == pytest.approx(3.0)
    change = B.change_table(r.blocks, h, r.years).set_index("block_id")
    assert change.loc["H1", "tax_per_mu_baseline"] == 2.0
    assert change.loc["H1", "tax_per_mu_latest"] == 3.0
    assert change.loc["H1", "tax_per_mu_change_pct"] == pytest.approx(50.0)
    assert np.isnan(change.loc["H2", "tax_per_mu_change_pct"])  # no baseline


def test_enterprise_years_needs_a_year():
    t = table([ent("1", "E1", 10, 20.0)])
    with pytest.raises(ZoningError, match="year"):
        B.enterprise_years([t])
    assert B.enterprise_years([t], 2025)["year"].tolist() == [2025]
    with pytest.raises(ZoningError, match="year column"):
        B.enterprise_years([t, t.copy()], 2025)
    bad = table([ent("1", "E1", 10, 20.0)], "二〇二四")
    with pytest.raises(ZoningError, match="whole number"):
        B.enterprise_years([bad])


def test_gbk_csv_enterprise_table_with_chinese_names(tmp_path):
    path = tmp_path / "企业2024.csv"
    text = (
        "enterprise_id,enterprise,year,land_mu,tax_10k_yuan,revenue_10k_yuan\r\n"
        "001,慈溪市甲模具厂,2024,10,40,300\r\n"
    )
    path.write_bytes(text.encode("gbk"))
    t = read_table(path, "enterprises", keys=("enterprise_id",))
    assert t["enterprise_id"].tolist() == ["001"]
    p = plots(plot("G1", 0, 0, enterprise="慈溪市甲模具厂"))
    r = B.run(p, B.enterprise_years([t]))
    assert r.blocks["tax_per_mu"].iat[0] == pytest.approx(4.0)


def test_rows_in_equal_rows_out():
    rng = np.random.default_rng(7)
    rows = []
    classes = ["retain", "consolidate", "vacate", "unclassified"]
    for i in range(60):
        cls = classes[rng.integers(0, 4)]
        rows.append(
            plot(
                f"R{i:03d}",
                float(rng.integers(0, 20)) * 25,
                float(rng.integers(0, 3)) * 25,
                cls=cls,
                rule={"vacate": "V2", "unclassified": ""}.get(cls, "R1"),
                boundary_share=float(rng.random()),
            )
        )
    p = plots(*rows)
    r = B.run(p)
    assert len(r.plots) == len(p)
    members = r.plots["class"].isin(["retain", "consolidate"])
    assert (r.plots.loc[members, "block_id"] != "").all()
    assert (r.plots.loc[~members, "block_id"] == "").all()
    freed = r.plots["class"] == "vacate"
    assert (r.plots.loc[freed, "site_id"] != "").all()
    assert (r.plots.loc[~freed, "site_id"] == "").all()
    assert r.blocks["plots"].sum() == members.sum()
    assert r.freed_sites["plots"].sum() == freed.sum()
    assert set(r.blocks["block_id"]) == set(r.plots.loc[members, "block_id"])
    assert r.blocks["block_id"].is_unique and r.freed_sites["site_id"].is_unique


def test_parameters_are_validated():
    cfg = load_config()
    assert cfg.blocks == DEFAULTS["blocks"] and cfg.freed["reclaim_min_mu"] == 3.0


@pytest.mark.parametrize(
    "text, match",
    [
        ("[blocks]\nreorganise_min_plots = 2.5\n", "whole number"),
        ("[blocks]\nrebuild_d_share_min = 1.5\n", "out of range"),
        ("[freed]\ntourism_within_m = -1\n", "negative"),
        ("[freed]\nnearby = 3\n", "unknown"),
    ],
)
def test_bad_parameters_are_one_line(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_config(path)


# --- the output folder --------------------------------------------------------------------


def small_county():
    """Members in two blocks, freed plots in two sites, enterprise tables of two years."""
    p = plots(
        plot("K1", 0, 0, enterprise="E1", built_year=1995, floor_area_m2=100.0, town="甲镇"),
        plot("K2", 25, 0, enterprise="E2", built_year=1998, town="甲镇"),
        plot("K3", 1000, 0, cls="consolidate", rule="C2", enterprise="E3", town="乙镇"),
        plot("F1", 3000, 0, w=50, h=40, cls="vacate", rule="V2", boundary_share=0.0, town="乙镇"),
        plot("F2", 5000, 0, cls="vacate", rule="V2", boundary_share=1.0, town=""),
        plot("U1", 9000, 0, cls="unclassified", rule=""),
    )
    years = B.enterprise_years(
        [
            table([ent("1", "E1", 10, 20.0, 100.0), ent("2", "E2", 10, 10.0, 80.0)], 2022),
            table(
                [
                    ent("1", "E1", 10, 30.0, 120.0, investment=200.0),
                    ent("2", "E2", 10, 12.0, 90.0, investment=100.0),
                    ent("3", "E3", 5, 25.0, 60.0, investment=50.0),
                ],
                2024,
            ),
        ]
    )
    return p, years


def test_write_blocks_folder(tmp_path):
    import geopandas as gpd
    import openpyxl
    import pyogrio

    from zoning.outputs import FILES, write_blocks

    p, years = small_county()
    r = B.run(p, years)
    out = tmp_path / "out" / "blocks"
    write_blocks(r, out)
    names = FILES["blocks"]
    assert {f.name for f in out.iterdir()} == {
        names[k] for k in ("gpkg", "history", "towns", "xlsx", "plots", "issues", "run_log")
    }
    assert len(pd.read_csv(out / names["issues"], encoding="utf-8-sig")) == 0
    assert [n for n, _ in pyogrio.list_layers(out / "blocks.gpkg")] == [
        "blocks",
        "freed_sites",
        "layer_styles",
    ]
    styles = pyogrio.read_dataframe(out / "blocks.gpkg", layer="layer_styles")
    assert styles["f_table_name"].tolist() == ["blocks", "freed_sites"]
    assert 'attr="mode"' in styles["styleQML"].iat[0] and "拆除式" in styles["styleQML"].iat[0]
    assert styles["useAsDefault"].all()
    blocks = gpd.read_file(out / "blocks.gpkg", layer="blocks")
    assert list(blocks.columns[:-1]) == B.BLOCK_COLUMNS
    assert blocks["block_id"].tolist() == ["K1", "K3"]
    assert blocks["floor_area_ratio"].isna().tolist() == [False, True]  # empty, not "nan"
    sites = gpd.read_file(out / "blocks.gpkg", layer="freed_sites")
    assert list(sites.columns[:-1]) == B.SITE_COLUMNS
    assert sites["reuse"].tolist() == ["reclaim", "amenity"]
    history = pd.read_csv(out / "history.csv", encoding="utf-8-sig", dtype={"block_id": str})
    assert list(history.columns) == B.HISTORY_COLUMNS and len(history) == 2 * 2
    text = (out / "history.csv").read_text(encoding="utf-8-sig")
    assert "nan" not in text.lower() and "K3,2022,,," in text
    towns = pd.read_csv(out / "freed_towns.csv", encoding="utf-8-sig")
    assert list(towns.columns) == B.TOWN_COLUMNS
    assert towns["quota_mu"].sum() == pytest.approx(3.0)
    members = pd.read_csv(
        out / "block_plots.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert members["parcel_id"].tolist() == p["parcel_id"].tolist()
    book = openpyxl.load_workbook(out / "blocks.xlsx")
    assert book.sheetnames == ["区块", "镇街汇总", "腾退地块", "建设用地指标", "历年指标"]
    head = [c.value for c in book["区块"][2]]
    assert head[:3] == ["镇街", "区块编号", "地块数"]
    assert "亩均税收 2022（基准）" in head and "亩均税收 变化（%）" in head
    rows = [
        dict(zip(head, r, strict=True)) for r in book["区块"].iter_rows(min_row=3, values_only=True)
    ]
    assert [r["镇街"] for r in rows] == ["乙镇", "甲镇"]  # per town
    row = rows[1]
    assert row["区块编号"] == "K1" and row["改造方式"] == "拆除式"
    assert row["亩均税收 变化（%）"] == pytest.approx((42 / 20 - 30 / 20) / (30 / 20) * 100)
    quota = [[c.value for c in r] for r in book["建设用地指标"].iter_rows(min_row=3)]
    assert ["合计", "复垦", 1, pytest.approx(3.0), pytest.approx(3.0)] in quota


# --- the command line -----------------------------------------------------------------------


def zoning_cli(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_end_to_end(classified, tmp_path):
    """The tiny county: a GBK enterprise table with Chinese headers per year, a blocks
    layer in EPSG:4490 over P001 and P002, a scenic area 100 m from P006."""
    import geopandas as gpd

    head = "企业编号,企业名称,年份,land_mu,tax_10k_yuan,revenue_10k_yuan,investment_10k_yuan\r\n"
    for year, factor in ((2022, 1.0), (2024, 1.5)):
        rows = "".join(
            f"{i:03d},{name},{year},10,{20 * factor:g},{100 * factor:g},{300 * factor:g}\r\n"
            for i, name in enumerate("甲厂 乙厂 丙厂 戊厂".split())
        )
        (tmp_path / f"e{year}.csv").write_bytes((head + rows).encode("gbk"))
    blocks = frame(
        [{"block_id": "BK1", "name": "东村老工业区", "geometry": rect(-10, -10, 200, 1100)}]
    ).to_crs(4490)
    blocks.to_file(tmp_path / "blocks.gpkg", layer="old_blocks")
    frame([{"name": "景区", "geometry": rect(140, 2000, 50, 50)}]).to_file(
        tmp_path / "scenic.gpkg", layer="scenic"
    )
    out = tmp_path / "out"
    res = zoning_cli(
        "blocks",
        classified,
        "--enterprises",
        tmp_path / "e2024.csv",
        "--enterprises",
        tmp_path / "e2022.csv",
        "--blocks",
        f"{tmp_path / 'blocks.gpkg'}:old_blocks",
        "--scenic",
        tmp_path / "scenic.gpkg",
        "--out",
        out,
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "3 blocks" in res.stdout and "3 freed sites" in res.stdout
    b = gpd.read_file(out / "blocks.gpkg", layer="blocks").set_index("block_id")
    assert sorted(b.index) == ["BK1", "P003", "P005"]
    assert b.loc["BK1", "plots"] == 2 and b.loc["BK1", "town"] == "浒山街道"
    assert b.loc["BK1", "tax_per_mu"] == pytest.approx(3.0)  # 2024: (30 + 30) / 20
    assert b.loc["BK1", "investment_per_mu"] == pytest.approx(45.0)
    assert b.crs.to_epsg() == 4549
    s = gpd.read_file(out / "blocks.gpkg", layer="freed_sites").set_index("site_id")
    assert s["rule"].to_dict() == {"P004": "F1", "P006": "F2", "P007": "F1"}
    h = pd.read_csv(out / "history.csv", encoding="utf-8-sig")
    assert sorted(set(h["year"])) == [2022, 2024] and len(h) == 6
    t = pd.read_csv(out / "freed_towns.csv", encoding="utf-8-sig")
    assert t["quota_mu"].sum() == pytest.approx(s.loc[["P004", "P007"], "mu"].sum())
    assert (out / "blocks.xlsx").exists()


def test_cli_errors_are_one_line(classified, tmp_path):
    table = tmp_path / "e.csv"
    table.write_text(
        "enterprise_id,enterprise,land_mu,tax_10k_yuan\n1,甲厂,10,20\n", encoding="utf-8"
    )
    res = zoning_cli("blocks", classified, "--enterprises", table, "--out", tmp_path / "o")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "error: an enterprise table has no year column; add one or give --year"
    ]
    assert not (tmp_path / "o").exists()
    no_id = tmp_path / "i.csv"
    no_id.write_text("enterprise,land_mu\n甲厂,10\n", encoding="utf-8")
    res = zoning_cli(
        "blocks", classified, "--enterprises", no_id, "--year", "2024", "--out", tmp_path / "o"
    )
    assert res.returncode == 1 and "missing column(s) ['enterprise_id']" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    no_name = tmp_path / "n.csv"  # enterprise is optional in SPEC §8: a warning, no joins
    no_name.write_text("enterprise_id,land_mu,tax_10k_yuan\n1,10,20\n", encoding="utf-8")
    res = zoning_cli(
        "blocks",
        classified,
        "--enterprises",
        no_name,
        "--year",
        "2024",
        "--out",
        tmp_path / "w",
        "--quiet",
    )
    assert res.returncode == 0 and "warning:" in res.stderr and "no enterprise column" in res.stderr
    assert pd.read_csv(tmp_path / "w" / "history.csv")["tax_per_mu"].isna().all()
    res = zoning_cli(
        "blocks", tmp_path, "--enterprises", table, "--year", "2024", "--out", tmp_path / "o"
    )
    assert res.returncode == 1 and "classified.gpkg: not found" in res.stderr
    ok = zoning_cli(
        "blocks",
        classified,
        "--enterprises",
        table,
        "--year",
        "2024",
        "--out",
        tmp_path / "o",
        "--quiet",
    )
    assert ok.returncode == 0, ok.stderr


def test_what_if_redecides_and_lists_blocks_that_change_mode():
    p, years = small_county()
    a = B.run(p, years)
    assert a.blocks.set_index("block_id")["rule"].to_dict() == {"K1": "B1", "K3": "B3"}
    b = a.redecide(blocks={"rebuild_built_before": 1990}, inside_share_min=0.0)
    assert b.blocks.set_index("block_id")["rule"].to_dict() == {"K1": "B3", "K3": "B3"}
    assert b.blocks.geometry.equals(a.blocks.geometry)
    modes, reuses = B.changes(a, b)
    assert modes[["block_id", "from_mode", "to_mode", "from_rule", "to_rule"]].values.tolist() == [
        ["K1", "rebuild", "manage", "B1", "B3"]
    ]
    assert "1996.5 > 1990" in modes["to_reason"].iat[0]
    # inside_share_min 0: F1 needs a V1 plot now; the 3-mu site outside becomes amenity
    assert reuses[["site_id", "from_reuse", "to_reuse"]].values.tolist() == [
        ["F1", "reclaim", "amenity"]
    ]
    assert b.towns["quota_mu"].sum() == 0.0


def test_members_without_a_village_park_id_are_grouped_here():
    p = plots(plot("N1", 0, 0, village_park_id="VP"), plot("N2", 25, 0, village_park_id=None))
    assert B.assign_blocks(p).tolist() == ["N1", "N1"]


def test_bare_plots_without_optional_fields_or_enterprises(tmp_path):
    """Only parcel_id, class, town and geometry: every fact missing, empty cells, no
    crash."""
    from zoning.outputs import write_blocks

    p = plots(
        plot("Z1", 0, 0, town=""),
        plot("Z2", 25, 0, town=None),
        plot("Z3", 50, 0),
        plot("Z4", 900, 0, cls="vacate", town="乙镇"),
        plot("Z5", 900, 30, cls="vacate", town="甲镇"),
    )
    p.loc[2, "town"] = ""
    bare = p[["parcel_id", "class", "town", "geometry"]]
    r = B.run(bare)
    assert r.blocks["rule"].tolist() == ["B3"]
    assert r.blocks[["built_year", "floor_area_ratio", "tax_per_mu"]].isna().all().all()
    assert r.blocks["town"].tolist() == [""]
    # no boundary_share and no rule: F1 cannot hold; a town tie goes to the code-point first
    s = r.freed_sites
    assert s["rule"].tolist() == ["F3"] and s["town"].tolist() == ["乙镇"]
    assert r.history.empty and r.years == []
    write_blocks(r, tmp_path / "o")
    for name in ("history.csv", "freed_towns.csv", "block_plots.csv"):
        assert "nan" not in (tmp_path / "o" / name).read_text(encoding="utf-8-sig").lower()
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "o" / "blocks.xlsx")
    assert book["区块"]["A1"].value.startswith("老旧工业区块改造方式（亩均指标 无企业表）")


# --- zoning compare: blocks that change mode, sites that change reuse ----------------------


def tiny_blocks_run(classified, tmp_path):
    """The tiny county's four member plots (one block each) with taxes 10–40 and a
    ``zoning blocks`` folder of them; configs A (defaults) and B (B2 for one-plot blocks
    below twice the median tax; reclaim only from 20 mu)."""
    table = tmp_path / "e.csv"
    rows = "".join(
        f"{i},{name},2024,10,{tax},100\n"
        for i, (name, tax) in enumerate(
            zip("甲厂 乙厂 丙厂 戊厂".split(), (10, 20, 30, 40), strict=True)
        )
    )
    table.write_text(
        "enterprise_id,enterprise,year,land_mu,tax_10k_yuan,revenue_10k_yuan\n" + rows,
        encoding="utf-8",
    )
    res = zoning_cli(
        "blocks", classified, "--enterprises", table, "--out", tmp_path / "blocks", "--quiet"
    )
    assert res.returncode == 0, res.stderr
    (tmp_path / "a.toml").write_text("", encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        "[blocks]\nreorganise_min_plots = 1\n"
        "reorganise_tax_ratio = 2.0\n[freed]\n"
        "reclaim_min_mu = 20\n",
        encoding="utf-8",
    )
    return tmp_path / "blocks"


def test_compare_configs_with_a_blocks_folder(classified, tmp_path):
    import openpyxl

    blocks_dir = tiny_blocks_run(classified, tmp_path)
    out = tmp_path / "cmp"
    res = zoning_cli(
        "compare",
        classified.parent / "in.gpkg",
        "--config",
        tmp_path / "a.toml",
        "--config",
        tmp_path / "b.toml",
        "--blocks",
        blocks_dir,
        "--out",
        out,
    )
    assert res.returncode == 0, res.stderr
    assert "4 block(s) change mode, 1 freed site(s) change reuse" in res.stderr
    modes = pd.read_csv(out / "blocks_changed.csv", encoding="utf-8-sig", dtype=str)
    assert modes["block_id"].tolist() == ["P001", "P002", "P003", "P005"]
    assert set(modes["from_mode"]) == {"manage"} and set(modes["to_mode"]) == {"reorganise"}
    assert modes["to_reason"].str.contains("< 2.00 × 中位数 2.50").all()  # taxes 1–4 per mu
    sites = pd.read_csv(out / "sites_changed.csv", encoding="utf-8-sig", dtype=str)
    assert sites[["site_id", "from_reuse", "to_reuse", "from_rule", "to_rule"]].values.tolist() == [
        ["P004", "reclaim", "amenity", "F1", "F3"]
    ]
    assert len(pd.read_csv(out / "transitions.csv")) > 0  # the plots are compared as before
    book = openpyxl.load_workbook(out / "transitions.xlsx")
    assert book.sheetnames[-2:] == ["变化区块", "变化腾退地块"]
    head = [c.value for c in book["变化区块"][2]]
    assert head[:5] == ["区块编号", "镇街", "面积（亩）", "原改造方式", "新改造方式"]
    first = [c.value for c in book["变化区块"][3]]
    assert first[3:5] == ["管理提升式", "梳理式"] and "新依据" in head
    assert [c.value for c in book["变化腾退地块"][3]][3:5] == ["复垦", "村庄配套"]


def test_compare_blocks_redecided_equals_run_afresh(classified, tmp_path):
    """Scenarios that group the plots alike re-decide A's blocks; the result is that of
    running B's blocks afresh."""
    from zoning.config import load_config
    from zoning.outputs import compare_blocks
    from zoning.scenario import Study

    blocks_dir = tiny_blocks_run(classified, tmp_path)
    configs = [load_config(tmp_path / "a.toml"), load_config(tmp_path / "b.toml")]
    study = Study.from_file(classified.parent / "in.gpkg")
    a = study.classify("a", **configs[0].parameters)
    b = study.classify("b", **configs[1].parameters)
    quick = compare_blocks(blocks_dir, a, b, configs)
    fresh = compare_blocks(blocks_dir, a, b, configs, same_loading=False)
    for q, f in zip(quick, fresh, strict=True):
        pd.testing.assert_frame_equal(q, f)
    assert len(quick[0]) == 4 and len(quick[1]) == 1


def test_compare_two_blocks_folders(tmp_path):
    import openpyxl

    from zoning.outputs import write_blocks

    p, years = small_county()
    a = B.run(p, years)
    write_blocks(a, tmp_path / "a")
    write_blocks(
        a.redecide(blocks={"rebuild_built_before": 1990}, inside_share_min=0.0), tmp_path / "b"
    )
    out = tmp_path / "cmp"
    res = zoning_cli(
        "compare", "--blocks", tmp_path / "a", "--blocks", tmp_path / "b", "--out", out
    )
    assert res.returncode == 0, res.stderr
    assert "1 block(s) change mode, 1 freed site(s) change reuse" in res.stdout
    modes = pd.read_csv(out / "blocks_changed.csv", encoding="utf-8-sig", dtype=str)
    assert modes[["block_id", "town", "from_mode", "to_mode"]].values.tolist() == [
        ["K1", "甲镇", "rebuild", "manage"]
    ]
    assert "1996.5 > 1990" in modes["to_reason"].iat[0]
    book = openpyxl.load_workbook(out / "blocks_changes.xlsx")
    assert book.sheetnames == ["变化区块", "变化腾退地块"]
    assert book["变化区块"]["A1"].value.startswith("改造方式变化：a → b（1 处）")
    assert [c.value for c in book["变化腾退地块"][3]][:5] == [
        "F1",
        "乙镇",
        pytest.approx(3.0),
        "复垦",
        "村庄配套",
    ]
    same = zoning_cli(
        "compare",
        "--blocks",
        tmp_path / "a",
        "--blocks",
        tmp_path / "a",
        "--out",
        tmp_path / "same",
    )
    assert same.returncode == 0 and "0 block(s) change mode, 0 freed site(s)" in same.stdout
    assert len(pd.read_csv(tmp_path / "same" / "blocks_changed.csv")) == 0
    bad = zoning_cli(
        "compare", "--blocks", tmp_path / "a", "--blocks", tmp_path, "--out", tmp_path / "x"
    )
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'blocks.gpkg'}: not found (give a zoning blocks output folder)"
    ]
    assert not (tmp_path / "x").exists()
