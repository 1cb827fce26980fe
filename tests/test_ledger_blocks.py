"""Blocks and freed sites in the ledger (SPEC §8, §11): listed by ``ledger init --blocks``,
final statuses renovated 已改造 / reused 已利用, counted in the town scores with weights
that default to 0 (today's scores do not move)."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from conftest import sheet
from zoning import ledger as lg
from zoning.outputs import init_ledger, read_classified_plots, write_blocks


def zoning(*args):
    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def blocks_dir(classified, tmp_path_factory):
    """The tiny county's blocks (P001, P002, P003, P005: one member each, mode manage)
    and freed sites (P004 and P007 reclaim, P006 amenity), no enterprise tables."""
    from zoning.blocks import run

    plots, _ = read_classified_plots(classified)
    out = tmp_path_factory.mktemp("blocks") / "blocks"
    write_blocks(run(plots), out)
    return out


@pytest.fixture
def both(classified, blocks_dir, tmp_path):
    """A ledger of the tiny county with its blocks and sites, and one without them."""
    with_blocks, plain = tmp_path / "with.gpkg", tmp_path / "plain.gpkg"
    assert init_ledger(with_blocks, classified, blocks_dir=blocks_dir) == 7 + 4 + 3
    assert init_ledger(plain, classified) == 7
    return with_blocks, plain


def test_init_lists_blocks_and_sites(both, blocks_dir):
    items = gpd.read_file(both[0], layer="items")
    blocks = items[items["kind"] == "block"].set_index("item_id")
    sites = items[items["kind"] == "site"].set_index("item_id")
    assert sorted(blocks.index) == ["P001", "P002", "P003", "P005"]
    assert set(blocks["computed_class"]) == {"manage"} and set(blocks["rule"]) == {"B3"}
    assert sites["computed_class"].to_dict() == {
        "P004": "reclaim",
        "P006": "amenity",
        "P007": "reclaim",
    }
    layer = gpd.read_file(blocks_dir / "blocks.gpkg", layer="blocks").set_index("block_id")
    assert blocks.loc["P001", "mu"] == pytest.approx(layer.loc["P001", "mu"])
    assert blocks.loc["P001", "town"] == "浒山街道" and blocks["reason"].str.len().gt(0).all()
    assert layer.loc["P001"].geometry.contains(blocks.loc["P001"].geometry)
    assert items.crs == layer.crs
    assert lg.verify(both[0]) == []


def test_final_statuses_of_blocks_and_sites_in_chinese_too(both, tmp_path):
    rows = [
        ("区块", "P001", "已改造", "2026-05-02", "厂房改造验收"),  # accepted
        ("block", "P002", "upgraded", "2026-05-02", "x"),  # (4) a plot's final
        ("腾退地块", "P004", "已利用", "2026-05-03", "复垦验收"),  # accepted
        ("site", "P006", "renovated", "2026-05-03", "x"),  # (4) a block's final
        ("site", "P007", "reused", "2026-05-03", ""),  # (6) no note
        ("block", "P004", "in_progress", "2026-05-03", ""),  # (1) P004 is a site
    ]
    report = lg.import_sheet(both[0], sheet(tmp_path, rows), today="2026-06-01")
    assert report.accepted == 2
    reasons = dict(zip(report.rejected["row"], report.rejected["reason"], strict=True))
    assert list(reasons) == [3, 5, 6, 7]
    assert reasons[3].startswith(
        "状态 'upgraded' 与分类“管理提升式”不符，可填：推进中、待处置、已改造（"
    )
    assert reasons[5].startswith("状态 'renovated' 与分类“村庄配套”不符，可填：")
    assert "已利用" in reasons[5]
    assert reasons[7].startswith("类型或编号不在台账中")
    state = lg.status_as_of(both[0], "2026-06-01").set_index(["kind", "item_id"])
    assert state.loc[("block", "P001"), ["status", "final"]].tolist() == ["renovated", True]
    assert state.loc[("site", "P004"), ["status", "final"]].tolist() == ["reused", True]


def test_adjust_a_block_by_its_chinese_mode(both):
    assert lg.adjust(both[0], "区块", "P003", "拆除式", "厂房危旧", "王工") == ("block", "rebuild")
    state = lg.status_as_of(both[0], "2026-06-01").set_index(["kind", "item_id"])
    assert state.loc[("block", "P003"), ["class", "computed_class"]].tolist() == [
        "rebuild",
        "manage",
    ]
    with pytest.raises(Exception, match="not a site class"):
        lg.adjust(both[0], "site", "P004", "retain", "x", "y")


def test_default_weights_leave_scores_as_they_are(both, tmp_path):
    """The same plot events in a ledger with and without blocks: with the default
    weights (0) every score and part is the same; the block and site parts are shown."""
    plots = [
        ("parcel", "P001", "absorbed", "2026-05-02", "入园"),
        ("parcel", "P004", "cleared", "2026-05-02", "腾退"),
    ]
    extra = [
        ("block", "P001", "renovated", "2026-05-03", "改造"),
        ("site", "P004", "reused", "2026-05-03", "复垦"),
    ]
    lg.import_sheet(both[0], sheet(tmp_path, plots + extra, "a.csv"), today="2026-06-01")
    lg.import_sheet(both[1], sheet(tmp_path, plots, "b.csv"), today="2026-06-01")
    with_blocks = lg.town_scores(lg.status_as_of(both[0], "2026-06-01"))
    plain = lg.town_scores(lg.status_as_of(both[1], "2026-06-01"))
    pd.testing.assert_frame_equal(with_blocks[plain.columns], plain)
    row = with_blocks.set_index("town").loc["浒山街道"]
    assert row["block_points"] == 0.0 and row["block_share"] == pytest.approx(0.5)
    assert row["block_mu"] == pytest.approx(15.0) and row["block_mu_final"] == pytest.approx(7.5)
    row = with_blocks.set_index("town").loc["宗汉街道"]
    assert row["site_share"] == pytest.approx(15.0 / (15.0 + 2.4))  # P004 of P004 + P007


def test_block_weight_counts_renovated_mu(both, tmp_path):
    """浒山街道: no plot final (weight 0.6), half its block mu renovated (weight 1):
    100 × 1 × 0.5 / (0.6 + 1) = 31.25, all of it block points."""
    lg.import_sheet(
        both[0],
        sheet(tmp_path, [("block", "P001", "renovated", "2026-05-03", "改造")]),
        today="2026-06-01",
    )
    state = lg.status_as_of(both[0], "2026-06-01")
    scores = lg.town_scores(
        state, {"parcel": 0.6, "workshop": 0.4, "block": 1.0, "site": 0.0}
    ).set_index("town")
    assert scores.loc["浒山街道", "score"] == pytest.approx(31.25)
    assert scores.loc["浒山街道", "block_points"] == pytest.approx(31.25)
    assert scores.loc["浒山街道", "plot_points"] == 0.0
    assert scores.loc["浒山街道", "workshop_points"] == pytest.approx(0.0, abs=1e-9)
    assert scores.loc["浒山街道", "rank"] == 1 and scores.loc["宗汉街道", "score"] == 0.0


def test_report_with_block_weight_from_the_config(both, tmp_path):
    lg.import_sheet(
        both[0],
        sheet(tmp_path, [("block", "P001", "renovated", "2026-05-03", "改造")]),
        today="2026-06-01",
    )
    config = tmp_path / "w.toml"
    config.write_text("[assessment]\nblock_weight = 1.0\n", encoding="utf-8")
    out = tmp_path / "report"
    res = zoning(
        "ledger", "report", both[0], "--as-of", "2026-06-01", "--out", out, "--config", config
    )
    assert res.returncode == 0, res.stderr
    towns = pd.read_csv(out / "towns.csv", encoding="utf-8-sig").set_index("town")
    assert towns.loc["浒山街道", "score"] == pytest.approx(31.25)
    book = openpyxl.load_workbook(out / "assessment.xlsx")
    head = [c.value for c in book["排名"][2]]
    assert head[:6] == ["排名", "镇街", "得分", "地块得分", "作坊得分", "区块得分"]
    assert "区块改造完成率" in head and "腾退地块利用率" in head
    first = dict(zip(head, [c.value for c in book["排名"][3]], strict=True))
    assert first["镇街"] == "浒山街道" and first["区块得分"] == pytest.approx(31.25)
    assert first["得分"] == pytest.approx(
        first["地块得分"] + first["作坊得分"] + first["区块得分"] + first["腾退地块得分"]
    )
    listing = [[c.value for c in r] for r in book["浒山街道"].iter_rows(min_row=2)]
    kinds = {(r[0], r[1]): r for r in listing[1:]}
    head = listing[0]
    block = dict(zip(head, kinds[("区块", "P001")], strict=True))
    assert block["分类"] == "管理提升式" and block["状态"] == "已改造"
    assert ("腾退地块", "P006") in kinds
    status = gpd.read_file(out / "status.gpkg", layer="status")
    assert set(status["kind"]) == {"parcel", "block", "site"}
    # without the weight the score is the plots' alone (nothing final: 0)
    plain = tmp_path / "plain"
    assert (
        zoning("ledger", "report", both[0], "--as-of", "2026-06-01", "--out", plain).returncode == 0
    )
    assert pd.read_csv(plain / "towns.csv", encoding="utf-8-sig")["score"].eq(0).all()


def test_cli_init_and_sync_with_blocks(classified, blocks_dir, tmp_path):
    ledger = tmp_path / "l.gpkg"
    res = zoning("ledger", "init", ledger, "--from", classified, "--blocks", blocks_dir)
    assert res.returncode == 0, res.stderr
    assert "14 items, all pending" in res.stdout
    from zoning.blocks import run

    plots, _ = read_classified_plots(classified)
    newer = tmp_path / "blocks2"
    write_blocks(
        run(plots).redecide(blocks={"rebuild_built_before": 2005, "rebuild_d_share_min": 0.0}),
        newer,
    )
    res = zoning("ledger", "sync", ledger, "--blocks", newer)
    assert res.returncode == 0, res.stderr
    review = pd.read_csv(tmp_path / "review.csv", encoding="utf-8-sig", dtype=str)
    assert review[["kind", "item_id", "old_class", "new_class"]].values.tolist() == [
        ["block", "P001", "manage", "rebuild"]
    ]  # built 2005 ≤ 2005, d_share 0 ≥ 0
