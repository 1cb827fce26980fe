"""The ledger under attack (issue 12): hand edits caught by the hash chains, imports at
once, SPEC §8 check (6) both ways, files that are not a ledger, hostile town names and
the habits of towns' sheets."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from conftest import sheet
from zoning import ledger as lg
from zoning._io import register_gpkg_functions
from zoning.errors import ZoningError
from zoning.outputs import init_ledger, sync_ledger
from zoning.report import sheet_names

PY = sys.executable


def zoning(*args, timeout=300):
    return subprocess.run(
        [PY, "-m", "zoning", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def hand(ledger, *statements):
    """Edit the file by hand, as a planner with an SQLite tool would (the GeoPackage's
    spatial functions registered, as GDAL-aware tools have them)."""
    con = sqlite3.connect(ledger)
    register_gpkg_functions(con)
    with con:
        for statement in statements:
            con.execute(statement)
    con.close()


# ---------------------------------------------------------------- the hash chains


@pytest.fixture
def history(ledger, tmp_path):
    """Three events (ids 1-3) and two adjustments (ids 1-2)."""
    rows = [
        ("parcel", "P001", "in_progress", "2026-05-01", "开工"),
        ("parcel", "P003", "in_progress", "2026-05-02", ""),
        ("parcel", "P001", "absorbed", "2026-05-03", "已纳入"),
    ]
    assert lg.import_sheet(ledger, sheet(tmp_path, rows), "2026-06-01").accepted == 3
    lg.adjust(ledger, "parcel", "P002", "retain", "村申请保留", "王五")
    lg.adjust(ledger, "parcel", "P004", "retain", "村申请保留", "王五")
    assert lg.verify(ledger) == []
    return ledger


SWAP = (
    "UPDATE zoning_events SET event_id = -{a} WHERE event_id = {a}",
    "UPDATE zoning_events SET event_id = {a} WHERE event_id = {b}",
    "UPDATE zoning_events SET event_id = {b} WHERE event_id = -{a}",
)
EVENT_COLS = (
    "kind, item_id, status, date, note, reporter, sheet, sheet_row, recorded_at, "
    "prev_hash, row_hash"
)

TAMPER = {
    "delete a middle event": (
        ["DELETE FROM zoning_events WHERE event_id = 2"],
        "event 3: does not follow",
    ),
    "delete the last event": (["DELETE FROM zoning_events WHERE event_id = 3"], "event 3: missing"),
    "delete the first event": (
        ["DELETE FROM zoning_events WHERE event_id = 1"],
        "event 2: does not follow",
    ),
    "edit a note": (
        ["UPDATE zoning_events SET note = '未纳入' WHERE event_id = 3"],
        "event 3: its content does not match",
    ),
    "edit a date": (
        ["UPDATE zoning_events SET date = '2026-04-01' WHERE event_id = 2"],
        "event 2: its content does not match",
    ),
    "edit a status": (
        ["UPDATE zoning_events SET status = 'pending' WHERE event_id = 1"],
        "event 1: its content does not match",
    ),
    "note NULL instead of empty": (
        ["UPDATE zoning_events SET note = NULL WHERE event_id = 2"],
        "event 2: its content does not match",
    ),
    "reorder two events (ids swapped)": (
        [s.format(a=1, b=2) for s in SWAP],
        "event 1: its content does not match",
    ),
    "insert an event at the end": (
        [
            "INSERT INTO zoning_events (kind, item_id, status, date, recorded_at) VALUES "
            "('parcel', 'P004', 'cleared', '2026-05-04', 'x')"
        ],
        "event 4: added after the last",
    ),
    "insert an event before the others": (
        [
            "INSERT INTO zoning_events (event_id, kind, item_id, status, date, recorded_at) "
            "VALUES (0, 'parcel', 'P004', 'in_progress', '2026-05-04', 'x')"
        ],
        "event 0: has no hash",
    ),
    "insert a copy with the last hashes": (
        [
            f"INSERT INTO zoning_events (event_id, {EVENT_COLS}) SELECT 4, {EVENT_COLS} "
            "FROM zoning_events WHERE event_id = 3"
        ],
        "event 4: added after the last",
    ),
    "insert a copy in a gap": (
        [
            "DELETE FROM zoning_events WHERE event_id = 2",
            f"INSERT INTO zoning_events (event_id, {EVENT_COLS}) SELECT 2, {EVENT_COLS} "
            "FROM zoning_events WHERE event_id = 1",
        ],
        "event 2: its content does not match",
    ),
    "edit the chain head": (
        [
            "UPDATE zoning_meta SET value = '2 2 ' || "
            "(SELECT row_hash FROM zoning_events WHERE event_id = 2) "
            "WHERE key = 'chain_event'"
        ],
        "event 3: added after the last",
    ),
    "delete an adjustment": (
        ["DELETE FROM zoning_adjustments WHERE adjustment_id = 1"],
        "adjustment 2: does not follow",
    ),
    "edit an adjustment's class": (
        ["UPDATE zoning_adjustments SET class = 'vacate' WHERE adjustment_id = 2"],
        "adjustment 2: its content does not match",
    ),
    "insert an adjustment": (
        [
            "INSERT INTO zoning_adjustments (kind, item_id, class, reason, "
            "adjusted_by, adjusted_at) VALUES ('parcel', 'P001', 'vacate', "
            "'x', 'y', 'z')"
        ],
        "adjustment 3: added after the last",
    ),
    "delete an item": (["DELETE FROM items WHERE fid = 4"], "item 5: does not follow"),
    "edit an item's class": (
        ["UPDATE items SET computed_class = 'retain' WHERE fid = 4"],
        "item 4: its content does not match",
    ),
    "edit an item's area": (
        ["UPDATE items SET mu = mu * 2 WHERE fid = 1"],
        "item 1: its content does not match",
    ),
    "edit an item's town": (
        ["UPDATE items SET town = '别镇' WHERE fid = 7"],
        "item 7: its content does not match",
    ),
    "drop a column": (
        ["ALTER TABLE items DROP COLUMN enterprise"],
        "item 1: its content does not match",
    ),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_verify_names_the_first_row_edited_by_hand(history, case):
    statements, expected = TAMPER[case]
    hand(history, *statements)
    problems = lg.verify(history)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@pytest.mark.parametrize(
    "case", ["delete a middle event", "edit an item's class", "delete an adjustment"]
)
def test_verify_cli_one_line_and_exit_1(history, case):
    statements, expected = TAMPER[case]
    ok = zoning("ledger", "verify", history)
    assert ok.returncode == 0 and "ok" in ok.stdout and "head" in ok.stdout
    hand(history, *statements)
    res = zoning("ledger", "verify", history)
    assert res.returncode == 1 and res.stderr == ""
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{history}: {expected}"), lines


def test_writes_refuse_a_ledger_whose_tail_was_cut(history, tmp_path):
    hand(history, "DELETE FROM zoning_events WHERE event_id = 3")
    path = sheet(tmp_path, [("parcel", "P003", "upgraded", "2026-05-20", "ok")], "b.csv")
    with pytest.raises(ZoningError, match="events fail their hash check; nothing written"):
        lg.import_sheet(history, path, "2026-06-01")
    res = zoning("ledger", "import", history, path, "--today", "2026-06-01")
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    hand(history, "DELETE FROM zoning_adjustments WHERE adjustment_id = 2")
    with pytest.raises(ZoningError, match="adjustments fail their hash check"):
        lg.adjust(history, "parcel", "P005", "vacate", "x", "y")


def test_sync_refuses_items_edited_by_hand(history, classified):
    hand(history, "UPDATE items SET computed_class = 'retain' WHERE fid = 4")
    with pytest.raises(ZoningError, match="item 4: its content does not match"):
        sync_ledger(history, classified)


def test_canonical_text_of_a_row():
    # NULL and empty text differ; 5 and 5.0 are the same number; text stays text
    assert lg.row_hash("p", "event", [1, None]) != lg.row_hash("p", "event", [1, ""])
    assert lg.row_hash("p", "event", [1, 5]) == lg.row_hash("p", "event", [1, 5.0])
    assert lg.row_hash("p", "event", [1, 5]) != lg.row_hash("p", "event", [1, "5.0"])
    assert (
        lg.canonical_row("item", [3, "镇", 0.1, b"\x01", None])
        == '["item","3","镇","0.1","01",null]'
    )
    assert lg.row_hash("a", "event", [1]) != lg.row_hash("b", "event", [1])


def test_old_ledger_without_chain_is_said_so_then_sealed(history, tmp_path):
    hand(
        history,
        "DELETE FROM zoning_meta WHERE key LIKE 'chain_%'",
        *[
            f"ALTER TABLE {t} DROP COLUMN {c}"
            for t in ("items", "zoning_events", "zoning_adjustments")
            for c in ("prev_hash", "row_hash")
        ],
    )
    assert lg.verify(history) == [lg.NOT_CHAINED]
    res = zoning("ledger", "verify", history)
    assert res.returncode == 1 and len(res.stdout.strip().splitlines()) == 1
    assert "no hash chain" in res.stdout
    # reports still read it; the next write seals it as it stands
    assert len(lg.status_as_of(history, "2026-06-01")) == 7
    path = sheet(tmp_path, [("parcel", "P003", "upgraded", "2026-05-20", "ok")], "b.csv")
    assert lg.import_sheet(history, path, "2026-06-01").accepted == 1
    assert lg.verify(history) == []
    with sqlite3.connect(history) as con:
        assert (
            con.execute("SELECT count(*) FROM zoning_meta WHERE key = 'chain_sealed'").fetchone()[0]
            == 1
        )
        assert con.execute("SELECT count(*) FROM zoning_events").fetchone()[0] == 4


# ---------------------------------------------------------------- imports at once


def big_classified(root, n):
    """A classify output folder with n plots (only what the ledger reads)."""
    import geopandas as gpd
    import shapely

    from conftest import X0, Y0

    i = pd.RangeIndex(n)
    folder = root / "big"
    folder.mkdir()
    gpd.GeoDataFrame(
        {
            "parcel_id": [f"B{k:06d}" for k in i],
            "town": "浒山街道",
            "class": "vacate",
            "rule": "V2",
            "reason": "r",
            "area_mu": 1.5,
        },
        geometry=shapely.points(X0 + i * 10.0, Y0),
        crs=4549,
    ).to_file(folder / "classified.gpkg", layer="parcels")
    return folder


def test_four_large_imports_at_once_all_land(tmp_path):
    n = 3000
    ledger = tmp_path / "big.gpkg"
    assert init_ledger(ledger, big_classified(tmp_path, 4 * n)) == 4 * n
    sheets = [
        sheet(
            tmp_path,
            [
                ("parcel", f"B{k:06d}", "in_progress", f"2026-05-0{s + 1}", "开工")
                for k in range(s * n, (s + 1) * n)
            ],
            f"s{s}.csv",
        )
        for s in range(4)
    ]
    procs = [
        subprocess.Popen(
            [PY, "-m", "zoning", "ledger", "import", str(ledger), str(s), "--today", "2026-06-01"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in sheets
    ]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    assert [r[0] for r in results] == [0, 0, 0, 0], [r[2] for r in results]
    assert all(f"accepted {n}," in r[1] for r in results), [r[1] for r in results]
    with sqlite3.connect(ledger) as con:
        assert con.execute(
            "SELECT count(*), count(DISTINCT item_id) FROM zoning_events"
        ).fetchone() == (4 * n, 4 * n)
    assert lg.verify(ledger) == []


def test_busy_ledger_is_one_line(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(lg, "BUSY_TIMEOUT_S", 0.2)
    hold = sqlite3.connect(ledger, isolation_level=None)
    hold.execute("BEGIN IMMEDIATE")
    try:
        path = sheet(tmp_path, [("parcel", "P001", "in_progress", "2026-05-01", "")])
        with pytest.raises(ZoningError, match="stayed busy"):
            lg.import_sheet(ledger, path, "2026-06-01")
    finally:
        hold.execute("ROLLBACK")
        hold.close()


# ---------------------------------------------------------------- SPEC §8 semantics


def test_adjusting_after_a_final_event_is_legitimate(ledger, tmp_path):
    path = sheet(tmp_path, [("parcel", "P004", "cleared", "2026-05-01", "已腾退复垦")])
    assert lg.import_sheet(ledger, path, "2026-06-01").accepted == 1
    lg.adjust(ledger, "parcel", "P004", "retain", "复核后保留", "李四")
    assert lg.verify(ledger) == []
    res = zoning("ledger", "verify", ledger)
    assert res.returncode == 0 and ": ok" in res.stdout
    # the adjusted class governs from now on: cleared no longer fits, upgraded does
    later = sheet(
        tmp_path,
        [
            ("parcel", "P004", "cleared", "2026-05-02", "x"),
            ("parcel", "P004", "upgraded", "2026-05-03", "提升完成"),
        ],
        "b.csv",
    )
    report = lg.import_sheet(ledger, later, "2026-06-01")
    assert report.accepted == 1 and "does not fit class retain" in report.rejected["reason"][0]
    assert lg.verify(ledger) == []


def test_reopening_a_final_item_needs_a_note(ledger, tmp_path):
    lg.import_sheet(
        ledger,
        sheet(tmp_path, [("parcel", "P004", "cleared", "2026-05-01", "已腾退")]),
        "2026-06-01",
    )
    rows = [
        ("parcel", "P004", "in_progress", "2026-05-02", ""),  # reopen, no note
        ("parcel", "P004", "pending", "2026-05-02", ""),  # reopen, no note
        ("parcel", "P004", "in_progress", "2026-05-03", "复耕验收未通过"),  # accepted
        ("parcel", "P004", "in_progress", "2026-05-04", ""),  # not final before
        ("parcel", "P004", "cleared", "2026-05-05", ""),  # closing, no note
        ("parcel", "P003", "in_progress", "2026-05-05", ""),
    ]  # never final
    report = lg.import_sheet(ledger, sheet(tmp_path, rows, "b.csv"), "2026-06-01")
    reasons = dict(zip(report.rejected["row"], report.rejected["reason"], strict=True))
    assert list(reasons) == [2, 3, 6]
    assert reasons[2].startswith(
        "重新打开已完成（已腾退）的条目须在备注中写明原因（reopening an "
        "item whose latest status is final (cleared)"
    )
    assert "reopening" in reasons[3]
    assert reasons[6] == "设为完成状态须填写备注（验收依据）（a final status needs a note）"
    assert report.accepted == 3 and lg.verify(ledger) == []


def fake_workshops(folder, classes):
    import geopandas as gpd
    import shapely

    from conftest import X0, Y0

    folder.mkdir(parents=True, exist_ok=True)
    ids = list(classes)
    gpd.GeoDataFrame(
        {
            "workshop_id": ids,
            "town": "浒山街道",
            "class": [classes[i] for i in ids],
            "reason": "r",
            "floor_area_m2": 300.0,
        },
        geometry=shapely.points([X0 + 5.0 * k for k in range(len(ids))], Y0),
        crs=4549,
    ).to_file(folder / "workshops.gpkg", layer="workshops")
    return folder


def test_sync_compares_only_the_kinds_given(classified, tmp_path):
    ws = fake_workshops(tmp_path / "ws", {"W1": "upgrade", "W2": "to_park"})
    ledger = tmp_path / "l.gpkg"
    assert init_ledger(ledger, classified, ws) == 9
    res = zoning("ledger", "sync", ledger, "--from", classified)
    assert res.returncode == 0, res.stderr
    assert "0 item(s) to review" in res.stdout  # the workshops are left alone
    assert sync_ledger(ledger, classified).empty
    ws2 = fake_workshops(tmp_path / "ws2", {"W1": "eliminate", "W3": "upgrade"})
    review = sync_ledger(ledger, None, ws2)  # only the workshops compared
    assert sorted(review["item_id"]) == ["W1", "W2"]
    assert set(review["kind"]) == {"workshop"}
    state = lg.status_as_of(ledger, "2026-06-01").set_index("item_id")
    assert len(state) == 10 and state.loc["W3", "computed_class"] == "upgrade"
    assert state.loc["W1", "computed_class"] == "eliminate"
    assert lg.verify(ledger) == []
    res = zoning("ledger", "sync", ledger)
    assert res.returncode == 1 and "--from" in res.stderr


@pytest.mark.parametrize(
    ("kind", "cls", "want"),
    [
        ("parcel", "保留提升", "retain"),
        ("地块", "纳入镇级园区", "consolidate"),
        ("parcel", "RETAIN", "retain"),
        ("作坊", "整治淘汰", "eliminate"),
    ],
)
def test_adjust_takes_chinese_names(classified, tmp_path, kind, cls, want):
    ws = fake_workshops(tmp_path / "ws", {"W1": "upgrade"})
    ledger = tmp_path / "l.gpkg"
    init_ledger(ledger, classified, ws)
    item = "W1" if kind == "作坊" else "P004"
    res = zoning(
        "ledger", "adjust", ledger, kind, item, "--class", cls, "--reason", "复核", "--by", "李四"
    )
    assert res.returncode == 0, res.stderr
    state = lg.status_as_of(ledger, "9999-12-31").set_index("item_id")
    assert state.loc[item, "class"] == want
    bad = zoning(
        "ledger",
        "adjust",
        ledger,
        "地块",
        "P004",
        "--class",
        "园区集聚",
        "--reason",
        "x",
        "--by",
        "y",
    )
    assert bad.returncode == 1 and "保留提升" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- not a ledger


def not_ledgers(root):
    import geopandas as gpd
    import shapely

    text = root / "notes.gpkg"
    text.write_text("这不是台账\n", encoding="utf-8")
    empty = root / "empty.gpkg"
    empty.write_bytes(b"")
    plain = root / "plain.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4549).to_file(plain)
    folder = root / "folder.gpkg"
    folder.mkdir()
    return {
        "a text file": (text, "not a ledger (not a GeoPackage"),
        "an empty file": (empty, "not a ledger (an empty file"),
        "a GeoPackage without the ledger tables": (plain, "not a ledger (a GeoPackage"),
        "a folder": (folder, "is a folder, not a ledger"),
    }


@pytest.fixture(scope="module")
def impostors(tmp_path_factory):
    return not_ledgers(tmp_path_factory.mktemp("impostors"))


@pytest.mark.parametrize(
    "what", ["a text file", "an empty file", "a GeoPackage without the ledger tables", "a folder"]
)
def test_a_file_that_is_not_a_ledger_is_one_line(impostors, classified, tmp_path, what):
    from click.testing import CliRunner

    from zoning.cli import main

    path, expected = impostors[what]
    size = path.stat().st_size if path.is_file() else None
    upd = sheet(tmp_path, [("parcel", "P001", "in_progress", "2026-05-01", "")])
    commands = {
        "verify": ["ledger", "verify", path],
        "import": ["ledger", "import", path, upd, "--today", "2026-06-01"],
        "report": ["ledger", "report", path, "--as-of", "2026-06-01", "--out", tmp_path / "r"],
        "adjust": [
            "ledger",
            "adjust",
            path,
            "parcel",
            "P001",
            "--class",
            "retain",
            "--reason",
            "x",
            "--by",
            "y",
        ],
        "sync": ["ledger", "sync", path, "--from", classified],
    }
    runner = CliRunner()
    for name, args in commands.items():
        res = runner.invoke(main, [str(a) for a in args])
        assert res.exit_code == 1, (name, res.output, res.exception)
        assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), (
            name
        )
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {expected}"), (name, lines)
        assert res.stdout == "", name
    assert not (tmp_path / "r").exists()  # nothing written
    if size is not None:
        assert path.stat().st_size == size  # nor the file touched


# ---------------------------------------------------------------- report: hostile towns

HOSTILE_TOWNS = [
    "排名",
    "Town",
    "TOWN",
    "'撇号镇",
    "a[b]:c*?/\\d镇",
    "长" * 40,
    "History",
    "",
    "'",
    "长" * 40 + "乙",
]


def classified_with_towns(root, towns, notes_long=False):
    import geopandas as gpd
    import shapely

    from conftest import X0, Y0

    folder = root / "towns"
    folder.mkdir()
    n = len(towns)
    gpd.GeoDataFrame(
        {
            "parcel_id": [f"Q{k:03d}" for k in range(n)],
            "town": towns,
            "class": "vacate",
            "rule": "V2",
            "reason": "r",
            "area_mu": 2.0,
        },
        geometry=shapely.points([X0 + 10.0 * k for k in range(n)], Y0),
        crs=4549,
    ).to_file(folder / "classified.gpkg", layer="parcels")
    return folder


def test_sheet_names_legal_and_unique():
    names = sheet_names(HOSTILE_TOWNS)
    assert len(names) == len(HOSTILE_TOWNS)
    folded = [n.casefold() for n in names]
    assert len(set(folded)) == len(folded) and "排名" not in names and "history" not in folded
    for name in names:
        assert 1 <= len(name) <= 31 and not any(c in name for c in "[]:*?/\\")
        assert not name.startswith("'") and not name.endswith("'")
    assert names[1] == "Town" and names[2] != "TOWN" and names[2].startswith("TOWN")
    assert names[7] == "未知"


def test_report_for_hostile_town_names_writes_the_whole_workbook(tmp_path):
    import openpyxl

    ledger = tmp_path / "l.gpkg"
    init_ledger(ledger, classified_with_towns(tmp_path, HOSTILE_TOWNS))
    res = zoning("ledger", "report", ledger, "--as-of", "2026-06-01", "--out", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no stray output from the forked writer
    assert len(res.stdout.strip().splitlines()) == 1
    book = openpyxl.load_workbook(tmp_path / "r" / "assessment.xlsx")
    assert book.sheetnames[0] == "排名"
    listed = sorted(book[name]["A1"].value for name in book.sheetnames[1:])
    want = sorted(
        f"l {t or '未知'} 清单　数据日期：未注明　截至日期：2026-06-01"  # county =
        for t in HOSTILE_TOWNS
    )  # the ledger's name
    assert len(book.sheetnames) == 1 + len(set(HOSTILE_TOWNS)) and listed == sorted(want)
    assert (tmp_path / "r" / "status.gpkg").exists()
    assert (tmp_path / "r" / "completion.png").stat().st_size > 1000


def test_forked_writer_is_silent_and_passes_its_error_on():
    """In a fresh interpreter: the writer forks only from a single-threaded process (an
    earlier test's thread pool would make it run in place, printing as it goes)."""
    code = """
import sys
import pytest
from zoning.errors import ZoningError
from zoning._parallel import beside

def noisy():
    print("from the child")
    sys.stderr.write("child stderr\\n")

beside(noisy).result()

def failing():
    raise ZoningError("状态图层写不出")

with pytest.raises(ZoningError, match="状态图层写不出"):
    beside(failing).result()

def crashing():
    raise KeyError("x")

with pytest.raises(KeyError):
    beside(crashing).result()
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""


# ---------------------------------------------------------------- sheet habits


def test_a_40k_note_is_kept_whole_and_cut_in_the_workbook(ledger, tmp_path):
    import openpyxl

    note = "验收意见" * 10_000  # 40,000 characters
    path = sheet(tmp_path, [("parcel", "P004", "cleared", "2026-05-01", note)])
    assert lg.import_sheet(ledger, path, "2026-06-01").accepted == 1
    with sqlite3.connect(ledger) as con:
        assert con.execute("SELECT note FROM zoning_events").fetchone()[0] == note
    res = zoning("ledger", "report", ledger, "--as-of", "2026-06-01", "--out", tmp_path / "r")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    book = openpyxl.load_workbook(tmp_path / "r" / "assessment.xlsx")
    ws = book["宗汉街道"]
    header = [c.value for c in ws[2]]
    rows = {r[header.index("编号")]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["P004"][header.index("备注")] == note[:32767]
    issues = pd.read_csv(tmp_path / "r" / "issues.csv", dtype=str)
    assert issues[["layer", "id", "action"]].values.tolist() == [
        ["assessment.xlsx:清单", "P004", "truncated"]
    ]  # one note, cut once
    assert "40000" in issues["reason"][0] and "32767" in issues["reason"][0]


def workbook(path, sheets):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


HEAD = ["类型", "编号", "状态", "日期", "备注"]


def test_every_sheet_with_the_header_is_read_others_named(ledger, tmp_path):
    path = workbook(
        tmp_path / "五月.xlsx",
        {
            "浒山": [HEAD, ["地块", "P001", "推进中", "2026-05-01", ""]],
            "宗汉": [
                HEAD,
                ["地块", "P003", "推进中", "2026-05-02", ""],
                ["地块", "P001", "推进中", "2026-04-01", ""],
            ],  # earlier than row above
            "空表": [],
            "说明": [["请按月填报"], ["地块", "P004", "推进中", "2026-05-03", ""]],
        },
    )
    report = lg.import_sheet(ledger, path, "2026-06-01")
    assert report.accepted == 2
    rejected = report.rejected.set_index("sheet")
    assert list(rejected.index) == ["说明", "宗汉"]
    assert "sheet '说明' has no header row" in rejected.loc["说明", "reason"]
    assert rejected.loc["宗汉", "row"] == 3 and "earlier" in rejected.loc["宗汉", "reason"]
    with sqlite3.connect(ledger) as con:
        sources = [r[0] for r in con.execute("SELECT sheet FROM zoning_events ORDER BY event_id")]
    assert sources == ["五月.xlsx!浒山", "五月.xlsx!宗汉"]
    res = zoning("ledger", "import", ledger, path, "--today", "2026-06-01")
    assert res.returncode == 0 and "already recorded 2" in res.stdout
    out = pd.read_csv(tmp_path / "五月.rejected.csv")
    assert list(out.columns[:2]) == ["sheet", "row"] and len(out) == 2
    nohead = workbook(tmp_path / "x.xlsx", {"说明": [["请按月填报"], ["a", "b"]]})
    res = zoning("ledger", "import", ledger, nohead)
    assert res.returncode == 1 and "sheet '说明': missing column(s)" in res.stderr


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_na_none_null_notes_are_text(ledger, tmp_path, form):
    rows = [
        ["地块", "P004", "已腾退", "2026-05-01", "NA"],
        ["地块", "P003", "已提升", "2026-05-01", "None"],
        ["地块", "P005", "已提升", "2026-05-01", "null"],
        ["地块", "P001", "已纳入园区", "2026-05-01", "N/A"],
    ]
    if form == "csv":
        path = sheet(tmp_path, rows, columns=HEAD)
    else:
        path = workbook(tmp_path / "s.xlsx", {"Sheet": [HEAD, *rows]})
    report = lg.import_sheet(ledger, path, "2026-06-01")
    assert report.accepted == 4, report.rejected
    with sqlite3.connect(ledger) as con:
        notes = [r[0] for r in con.execute("SELECT note FROM zoning_events ORDER BY event_id")]
    assert notes == ["NA", "None", "null", "N/A"]


def test_a_bare_year_is_not_a_date(ledger, tmp_path):
    assert lg.parse_date("2026") is None and lg.parse_date(2026) is None
    assert lg.parse_date(46143) == "2026-05-01"  # an Excel serial still is
    path = workbook(
        tmp_path / "s.xlsx",
        {
            "Sheet": [
                HEAD,
                ["地块", "P001", "推进中", 2026, ""],
                ["地块", "P003", "推进中", "2026", ""],
            ]
        },
    )
    report = lg.import_sheet(ledger, path, "2026-06-01")
    assert report.accepted == 0 and len(report.rejected) == 2
    assert all(
        r == "日期 '2026' 不是日期，只有年份不算日期（date '2026' is not a date (a year "
        "alone is not a date)）"
        for r in report.rejected["reason"]
    )
    with sqlite3.connect(ledger) as con:
        assert con.execute("SELECT count(*) FROM zoning_events").fetchone()[0] == 0


def test_unicode_digit_ids_are_text(tmp_path):
    import geopandas as gpd
    import shapely

    from conftest import X0, Y0

    folder = tmp_path / "c"
    folder.mkdir()
    ids = ["²", "٣", "007", "2"]
    gpd.GeoDataFrame(
        {
            "parcel_id": ids,
            "town": "浒山街道",
            "class": "vacate",
            "rule": "V2",
            "reason": "r",
            "area_mu": 1.0,
        },
        geometry=shapely.points([X0 + 10.0 * k for k in range(4)], Y0),
        crs=4549,
    ).to_file(folder / "classified.gpkg", layer="parcels")
    ledger = tmp_path / "l.gpkg"
    init_ledger(ledger, folder)
    rows = [
        ("parcel", "²", "in_progress", "2026-05-01", ""),
        ("parcel", "3", "in_progress", "2026-05-01", ""),  # not ٣
        ("parcel", "٣", "in_progress", "2026-05-01", ""),
        ("parcel", "7", "in_progress", "2026-05-01", ""),  # Excel's 007
        ("parcel", "2", "in_progress", "2026-05-02", ""),
    ]  # 2, not ²
    report = lg.import_sheet(ledger, sheet(tmp_path, rows), "2026-06-01")
    assert report.accepted == 4 and report.rejected["item_id"].tolist() == ["3"]
    later = sheet(tmp_path, [("parcel", "²", "cleared", "2026-05-03", "已腾退")], "b.csv")
    assert lg.import_sheet(ledger, later, "2026-06-01").accepted == 1  # later imports work
    with sqlite3.connect(ledger) as con:
        got = [r[0] for r in con.execute("SELECT item_id FROM zoning_events ORDER BY event_id")]
    assert got == ["²", "٣", "007", "2", "²"]
    assert lg.verify(ledger) == []
