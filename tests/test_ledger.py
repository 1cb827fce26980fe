"""The ledger (SPEC §8): init, import checks in order, adjustments, verify, as-of reports,
and what a killed or a concurrent import does to the file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from conftest import sheet, tiny_layers, write_gpkg
from zoning import ledger as lg
from zoning.errors import ZoningError
from zoning.outputs import init_ledger, write_ledger_report

PY = sys.executable


def zoning(*args):
    return subprocess.run(
        [PY, "-m", "zoning", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def events(ledger):
    with sqlite3.connect(ledger) as con:
        return pd.read_sql("SELECT * FROM zoning_events ORDER BY event_id", con)


# P001 consolidate (absorbed), P003 retain (upgraded), P004 vacate (cleared)
def test_every_rejection_reason_in_order(ledger, tmp_path):
    rows = [
        ("parcel", "NOPE", "in_progress", "2026-05-01", ""),  # (1) unknown item
        ("shop", "P001", "in_progress", "2026-05-01", ""),  # (1) unknown kind
        ("parcel", "P001", "in_progress", "5月1日", ""),  # (2) not a date
        ("parcel", "P001", "in_progress", "2026-07-01", ""),  # (2) after today
        ("parcel", "P001", "in_progress", "2026-05-02", ""),  # accepted
        ("parcel", "P001", "in_progress", "2026-05-02", ""),  # (3) already
        ("parcel", "P001", "cleared", "2026-05-03", "x"),  # (4) wrong final
        ("parcel", "P001", "absorbed", "2026-05-01", "x"),  # (5) earlier
        ("parcel", "P001", "absorbed", "2026-05-04", ""),  # (6) no note
        ("parcel", "P001", "absorbed", "2026-05-04", "纳入园区"),  # accepted
        ("parcel", "P004", "unknown", "2026-05-04", "x"),  # (4) not a status
    ]
    report = lg.import_sheet(ledger, sheet(tmp_path, rows), today="2026-06-01")
    assert (report.accepted, report.already) == (2, 1)
    reasons = dict(zip(report.rejected["row"], report.rejected["reason"], strict=True))
    assert list(reasons) == [2, 3, 4, 5, 8, 9, 10, 12]  # header is row 1
    assert reasons[2] == reasons[3] == "类型或编号不在台账中（unknown kind or item）"
    assert reasons[4] == "日期 '5月1日' 不是日期（date '5月1日' is not a date）"
    assert reasons[5] == (
        "日期 2026-07-01 晚于导入日 2026-06-01（date 2026-07-01 is after the "
        "import day 2026-06-01）"
    )
    assert reasons[8].startswith(
        "状态 'cleared' 与分类“纳入镇级园区”不符，可填：已纳入园区、推进中、待处置（"
    )
    assert "does not fit class consolidate" in reasons[8]
    assert reasons[9].startswith("日期 2026-05-01 早于该条目最近一次记录的日期 2026-05-02（")
    assert "earlier than the item's latest event 2026-05-02" in reasons[9]
    assert reasons[10] == "设为完成状态须填写备注（验收依据）（a final status needs a note）"
    assert "不符" in reasons[12] and "does not fit" in reasons[12]
    # Chinese first: every reason starts with Chinese, the English follows in brackets
    assert all(not r[0].isascii() and r.endswith("）") for r in reasons.values())
    assert lg.verify(ledger) == []


def test_same_sheet_twice_counts_once(ledger, tmp_path):
    path = sheet(tmp_path, [("parcel", "P003", "upgraded", "2026-05-01", "ok")])
    assert lg.import_sheet(ledger, path, "2026-06-01").accepted == 1
    again = lg.import_sheet(ledger, path, "2026-06-01")
    assert (again.accepted, again.already, len(again.rejected)) == (0, 1, 0)
    assert len(events(ledger)) == 1


def test_chinese_headers_statuses_and_excel_quirks(ledger, tmp_path):
    path = tmp_path / "六月.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["类型", "编号", "状态", "日期", "备注", "填报人"])
    ws.append(["地块", "P004", "推进中", 46143, "", "张三"])  # serial 2026-05-01
    ws.append(["地块", "P004", "已腾退", "2026-05-20", "已拆除复垦", "张三"])
    book.save(path)
    report = lg.import_sheet(ledger, path, "2026-06-01")
    assert report.accepted == 2 and report.rejected.empty
    ev = events(ledger)
    assert ev["date"].tolist() == ["2026-05-01", "2026-05-20"]
    assert ev["status"].tolist() == ["in_progress", "cleared"]
    assert ev["reporter"].tolist() == ["张三", "张三"]


def test_ids_excel_turned_into_numbers(tmp_path):
    layers = tiny_layers()
    layers["parcels"]["parcel_id"] = ["001", "002", "003", "004", "005", "006", "007"]
    path = write_gpkg(tmp_path / "in.gpkg", layers)
    assert zoning("classify", path, "--out", tmp_path / "out").returncode == 0
    ledger = tmp_path / "l.gpkg"
    init_ledger(ledger, tmp_path / "out")
    book = openpyxl.Workbook()
    book.active.append(["kind", "item_id", "status", "date", "note"])
    book.active.append(["parcel", 7, "in_progress", "2026-05-01", None])
    book.save(tmp_path / "s.xlsx")
    report = lg.import_sheet(ledger, tmp_path / "s.xlsx", "2026-06-01")
    assert report.accepted == 1 and events(ledger)["item_id"].tolist() == ["007"]


def test_empty_sheet_and_missing_column(ledger, tmp_path):
    assert lg.import_sheet(ledger, sheet(tmp_path, []), "2026-06-01").accepted == 0
    bad = sheet(tmp_path, [("parcel", "P001", "x")], columns=("kind", "item_id", "status"))
    res = zoning("ledger", "import", ledger, bad)
    assert res.returncode != 0 and "missing column" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert zoning("ledger", "import", ledger, empty).returncode != 0
    assert events(ledger).empty


def test_killed_import_leaves_the_ledger_unchanged(ledger, tmp_path, monkeypatch):
    lg.import_sheet(
        ledger, sheet(tmp_path, [("parcel", "P001", "in_progress", "2026-05-01", "")]), "2026-06-01"
    )
    before = events(ledger)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # killed in the middle of the transaction

    path = sheet(tmp_path, [("parcel", "P003", "in_progress", "2026-05-02", "")], "b.csv")
    monkeypatch.setattr(lg, "now", boom)
    with pytest.raises(KeyboardInterrupt):
        lg.import_sheet(ledger, path, "2026-06-01")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(events(ledger), before)
    assert lg.verify(ledger) == []


def test_imports_at_once_all_land(ledger, tmp_path):
    with sqlite3.connect(ledger) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    sheets = [
        sheet(
            tmp_path,
            [("parcel", f"P00{i}", "in_progress", f"2026-05-0{day}", "") for i in range(1, 8)],
            f"s{day}.csv",
        )
        for day in range(1, 5)
    ]
    with ThreadPoolExecutor(4) as pool:
        done = list(
            pool.map(
                lambda s: zoning("ledger", "import", ledger, s, "--today", "2026-06-01"), sheets
            )
        )
    assert all(r.returncode == 0 for r in done), [r.stderr for r in done]
    # every row lands once; which of a plot's rows come "earlier than its latest event"
    # depends on the order the imports ran in, but nothing is lost or doubled
    accepted = events(ledger)
    assert len(accepted) == len(accepted.drop_duplicates(["item_id", "date"]))
    rejected = sum(len(pd.read_csv(s.with_name(s.stem + ".rejected.csv"))) for s in sheets)
    assert len(accepted) + rejected == 28
    assert lg.verify(ledger) == []


def test_adjustment_governs_statuses(ledger, classified, tmp_path):
    path = sheet(tmp_path, [("parcel", "P004", "upgraded", "2026-05-01", "保留")])
    assert not lg.import_sheet(ledger, path, "2026-06-01").rejected.empty
    res = zoning(
        "ledger",
        "adjust",
        ledger,
        "parcel",
        "P004",
        "--class",
        "retain",
        "--reason",
        "村集体申请保留",
        "--by",
        "李四",
    )
    assert res.returncode == 0, res.stderr
    assert lg.import_sheet(ledger, path, "2026-06-01").accepted == 1
    with pytest.raises(ZoningError, match="not a parcel class"):
        lg.adjust(ledger, "parcel", "P004", "to_park", "x", "y")
    write_ledger_report(ledger, "9999-12-31", tmp_path / "r")
    book = pd.ExcelFile(tmp_path / "r" / "assessment.xlsx")
    listing = pd.concat(
        [
            pd.read_excel(book, sheet_name=n, header=1, dtype={"编号": str})
            for n in book.sheet_names[1:]
        ]
    ).set_index("编号")
    assert listing.loc["P004", "分类"] == "保留提升" and listing.loc["P004", "状态"] == "已提升"
    assert listing.loc["P004", "测算分类"] == "腾挪清退" and listing.loc["P004", "已调整"] == "是"
    status = gpd.read_file(tmp_path / "r" / "status.gpkg", layer="status").set_index("item_id")
    assert status.loc["P004", "class"] == "retain"
    assert status.loc["P004", "computed_class"] == "vacate" and bool(status.loc["P004", "adjusted"])
    from zoning.maps import map_payload
    from zoning.outputs import read_classified  # the map shows the class in force

    for source in (tmp_path / "r" / "status.gpkg", ledger):
        data = read_classified(classified, status=source)
        plots = data["parcels"].set_index("parcel_id")
        assert plots.loc["P004", "class"] == "retain"
        assert plots.loc["P004", "computed_class"] == "vacate"
        assert plots.loc["P003", "computed_class"] == ""  # not adjusted: nothing beside it
        payload = map_payload(data)
        retain = next(c for c in payload["classes"] if c["key"] == "retain")
        props = {f["properties"]["parcel_id"]: f["properties"] for f in retain["data"]["features"]}
        assert props["P004"]["computed_name"] == "腾挪清退"


def test_report_as_of_a_past_date(ledger, tmp_path):
    rows = [
        ("parcel", "P001", "absorbed", "2026-05-10", "done"),
        ("parcel", "P003", "upgraded", "2026-06-10", "done"),
    ]
    lg.import_sheet(ledger, sheet(tmp_path, rows), "2026-07-01")
    may = lg.status_as_of(ledger, "2026-05-31").set_index("item_id")
    june = lg.status_as_of(ledger, "2026-06-30").set_index("item_id")
    assert may.loc["P001", "status"] == "absorbed" and may.loc["P003", "status"] == "pending"
    assert june.loc["P003", "status"] == "upgraded"
    scores = lg.town_scores(may).set_index("town")
    # 浒山街道: only P001 is final by May; its plots are P001, P002 and P006
    hus = may[may["town"] == "浒山街道"]
    share = hus.loc[hus["final"], "mu"].sum() / hus["mu"].sum()
    assert scores.loc["浒山街道", "score"] == pytest.approx(100 * share, abs=1e-3)
    assert scores.loc["宗汉街道", "score"] == 0 and scores["rank"].tolist() == [1, 2]
    res = zoning("ledger", "report", ledger, "--as-of", "2026-05-31", "--out", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    progress = pd.read_csv(tmp_path / "r" / "progress.csv")
    assert list(progress.columns) == ["town", "kind", "class", "status", "items", "mu", "floor_m2"]
    assert progress["items"].sum() == 7


def test_verify_finds_problems(ledger):
    """Events that break SPEC §8 under a chain that holds (as a bug in zoning would
    write them; hand edits are caught by the chain, see test_ledger_hardening)."""
    with sqlite3.connect(ledger) as con:
        con.execute(
            "INSERT INTO zoning_events (kind, item_id, status, date, recorded_at) "
            "VALUES ('parcel', 'GHOST', 'pending', '2026-01-01', 'x')"
        )
        con.execute(
            "INSERT INTO zoning_events (kind, item_id, status, date, recorded_at) "
            "VALUES ('parcel', 'P001', 'cleared', '2026-01-01', 'x')"
        )
        lg._rechain(con, "event")
    problems = lg.verify(ledger)
    assert any("GHOST" in p for p in problems) and any("P001" in p for p in problems)
    assert zoning("ledger", "verify", ledger).returncode == 1


def test_init_never_overwrites(ledger, classified):
    with pytest.raises(ZoningError, match="exists already"):
        init_ledger(ledger, classified)


def test_sync_keeps_progress_and_lists_changes(ledger, tmp_path):
    lg.import_sheet(
        ledger, sheet(tmp_path, [("parcel", "P003", "in_progress", "2026-05-01", "")]), "2026-06-01"
    )
    lg.adjust(ledger, "parcel", "P002", "retain", "保留", "王五")
    layers = tiny_layers()
    layers["parcels"].loc[2, "eco_friendly"] = False  # P003: R2 -> V2
    path = write_gpkg(tmp_path / "new.gpkg", layers)
    assert zoning("classify", path, "--out", tmp_path / "new").returncode == 0
    res = zoning("ledger", "sync", ledger, "--from", tmp_path / "new")
    assert res.returncode == 0, res.stderr
    review = pd.read_csv(ledger.with_name("review.csv"))
    assert review[["item_id", "old_class", "new_class", "status"]].values.tolist() == [
        ["P003", "retain", "vacate", "in_progress"]
    ]
    assert len(events(ledger)) == 1
    state = lg.status_as_of(ledger, "9999-12-31").set_index("item_id")
    assert state.loc["P002", "class"] == "retain"  # adjustment kept
    assert state.loc["P003", "computed_class"] == "vacate"
    assert lg.verify(ledger) == []


def test_report_files(ledger, tmp_path):
    lg.import_sheet(
        ledger,
        sheet(tmp_path, [("parcel", "P001", "absorbed", "2026-04-10", "done")]),
        "2026-06-01",
    )
    pd.DataFrame(
        {"enterprise_id": ["E1", "E2"], "enterprise": ["甲厂", "乙厂"], "grade": ["D", "A"]}
    ).to_csv(ledger.with_name("grades.csv"), index=False)
    res = zoning("ledger", "report", ledger, "--as-of", "2026-05-31", "--out", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    sheets = pd.ExcelFile(tmp_path / "r" / "assessment.xlsx").sheet_names
    assert sheets == ["排名", "宗汉街道", "浒山街道"]
    listing = pd.read_excel(
        tmp_path / "r" / "assessment.xlsx", sheet_name="浒山街道", header=1, dtype={"编号": str}
    ).set_index("编号")
    assert "已纳入园区" in set(listing["状态"]) and len(listing) == 3
    assert listing.loc["P001", "企业"] == "甲厂" and listing.loc["P001", "亩均等级"] == "D"
    assert listing.loc["P002", "亩均等级"] == "A"
    assert listing.loc["P001", "分类"] == "纳入镇级园区"
    assert (listing["测算分类"] == listing["分类"]).all()  # nothing adjusted: both shown
    assert listing["已调整"].isna().all()
    book = openpyxl.load_workbook(tmp_path / "r" / "assessment.xlsx")
    mu_col = [c.value for c in book["浒山街道"][2]].index("面积（亩）")
    assert book["浒山街道"].cell(row=3, column=mu_col + 1).number_format == "#,##0.00"
    status = gpd.read_file(tmp_path / "r" / "status.gpkg", layer="status").set_index("item_id")
    assert len(status) == 7 and status.loc["P001", "status_zh"] == "已纳入园区"
    assert status.loc["P003", "status"] == "pending" and bool(status.loc["P001", "final"])
    assert (tmp_path / "r" / "completion.png").stat().st_size > 10_000
    history = lg.completion_over_time(ledger, "2026-05-31")
    assert history["date"].unique().tolist() == ["2026-04-30", "2026-05-31"]
