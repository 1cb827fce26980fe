"""Sheets written through report.Columns (issue 17): the data cells kept as arrays and
written as XML in one pass, and the shared strings written at once, give the very bytes
of xlsxwriter's own writers; anything the one-pass writer does not cover falls back to
xlsxwriter's."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from zoning import report
from zoning.report import Columns, _formats, _SheetData, excel_writer


def frame(n: int = 100) -> pd.DataFrame:
    """Text (shared across columns and sheets, escapes, blanks), numbers (NaN, ints,
    floats needing 16 digits), a row with no cell at all."""
    rng = np.random.default_rng(7)
    town = np.array(["镇甲", "镇乙", "A&B <town>", "镇甲"], dtype=object)[np.arange(n) % 4]
    text = rng.choice(
        np.array(
            [
                "",
                "保留",
                "x\x01y",
                " lead",
                "镇乙",
                '"q"',
                "trail ",
                "_x0041_ kept",
                "\u3000全角空格",
                "<r>not rich</r>",
                "a\ufffeb",
                "line\nbreak",
                "tab\t",
                "a>b & c<d",
                "&amp; kept literal",
                "<r>",
            ],
            dtype=object,
        ),
        n,
    )
    mu = rng.uniform(0, 100, n).round(2)
    mu[::7] = np.nan
    out = pd.DataFrame(
        {
            "编号": [f"P{i:05d}" for i in range(n)],
            "镇街": town,
            "依据": text,
            "面积（亩）": mu,
            "count": np.arange(n) * 3,
            "ratio": rng.uniform(0, 1, n) / 3,
        }
    )
    empty = n // 2
    out.loc[empty, ["依据"]] = ""
    out.loc[empty, ["面积（亩）", "ratio"]] = np.nan
    return out


def write(path, frames, fast: bool, monkeypatch, hook=None) -> bytes:
    """A workbook of each frame's sheets (whole, then two slices) as Columns writes it;
    ``fast`` False: every column cell by cell (xlsxwriter's own writer)."""
    with monkeypatch.context() as m:
        if not fast:
            from xlsxwriter.packager import Packager

            m.setattr(_SheetData, "add", lambda self, *a: False)
            m.setattr(report, "_packager_class", lambda: Packager)
        with excel_writer(path) as xl:
            fmt = _formats(xl.book)
            for k, f in enumerate(frames):
                table = Columns(f, where="t", id_column="编号")
                sheet = table.sheet(xl, f"全部{k}", "标题", fmt, width=11, freeze_cols=1)
                if hook:
                    hook(sheet)
                table.sheet(xl, f"前段{k}", "标题", fmt, 0, len(f) // 3)
                table.sheet(xl, f"后段{k}", "标题", fmt, len(f) // 3, len(f))
    return path.read_bytes()


@pytest.mark.parametrize("n", [1, 17, 100, 2_500])
def test_one_pass_sheet_data_is_xlsxwriter_byte_for_byte(tmp_path, monkeypatch, n):
    frames = [frame(n), frame(n).iloc[::-1].reset_index(drop=True)]
    slow = write(tmp_path / "slow.xlsx", frames, False, monkeypatch)
    fast = write(tmp_path / "fast.xlsx", frames, True, monkeypatch)
    assert fast == slow
    book = openpyxl.load_workbook(tmp_path / "fast.xlsx")
    values = list(book["全部0"].iter_rows(min_row=3, values_only=True))
    assert len(values) == n
    assert values[0][0] == "P00000" and values[0][1] == "镇甲"
    assert values[0][4] == 0 and (n == 1 or values[1][4] == 3)


def test_blocks_of_rows_join_alike(tmp_path, monkeypatch):
    """Rows (and shared strings) turned into XML a block at a time: a block smaller than
    the sheet (and not a multiple of 16) gives the same bytes."""
    frames = [frame(300)]
    slow = write(tmp_path / "slow.xlsx", frames, False, monkeypatch)
    monkeypatch.setattr(_SheetData, "BLOCK", 37)
    monkeypatch.setattr(report, "_SST_BLOCK", 5)
    assert write(tmp_path / "fast.xlsx", frames, True, monkeypatch) == slow


def test_columns_it_does_not_cover_are_written_by_xlsxwriter(tmp_path, monkeypatch):
    """Booleans, mixed columns and text near Excel's limit go cell by cell; the kept
    columns then go into xlsxwriter's table at save time: same bytes."""
    f = frame(40)
    f["flag"] = np.arange(40) % 2 == 0
    f["mixed"] = pd.Series([1, "a", 2.5, None] * 10, dtype=object)
    f.loc[3, "依据"] = "长" * (report.EXCEL_TEXT_MAX // 2 + 5)
    calls = []
    real = _SheetData.add
    monkeypatch.setattr(
        _SheetData,
        "add",
        lambda self, c, r, v, w: calls.append(real(self, c, r, v, w)) or calls[-1],
    )
    fast = write(tmp_path / "fast.xlsx", [f], True, monkeypatch)
    assert True in calls and False in calls
    monkeypatch.undo()
    assert fast == write(tmp_path / "slow.xlsx", [f], False, monkeypatch)


def test_a_data_row_with_its_own_format_falls_back(tmp_path, monkeypatch):
    """A row given a height or format after the cells (set_row) is written by xlsxwriter
    with its attributes: the kept cells go into its table first."""
    f = [frame(50)]

    def hook(sheet):
        sheet.set_row(10, 30)

    slow = write(tmp_path / "slow.xlsx", f, False, monkeypatch, hook)
    assert write(tmp_path / "fast.xlsx", f, True, monkeypatch, hook) == slow


def test_forked_writer_returns_the_writers_value():
    """classify writes classified.xlsx in a forked child beside the GeoPackage; the notes
    of cut cells it returns come back through the pipe (fresh interpreter: the writer
    forks only from a single-threaded process)."""
    import subprocess
    import sys

    code = """
import os
import pandas as pd
from zoning._parallel import Forked, beside

def notes(n):
    return pd.DataFrame({"row": range(n), "pid": os.getpid()})

job = beside(notes, 3)
assert isinstance(job, Forked)
out = job.result()
assert out["row"].tolist() == [0, 1, 2] and out["pid"].iloc[0] != os.getpid()
assert job.result() is out
assert beside(lambda: None).result() is None
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def parts(path) -> dict:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {i.filename: (z.read(i), i.compress_size) for i in z.infolist()}


def deflated_size(data: bytes, level: int) -> int:
    import zlib

    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return len(c.compress(data) + c.flush())


def test_workbooks_deflate_at_the_zip_level(tmp_path, monkeypatch):
    """Every part of a workbook written through excel_writer is deflated at ZIP_LEVEL
    (not zlib's default, xlsxwriter's): the same parts unzipped as at the default level,
    the same bytes twice, still read by openpyxl."""
    frames = [frame(2_500)]
    fast = write(tmp_path / "a.xlsx", frames, True, monkeypatch)
    assert write(tmp_path / "b.xlsx", frames, True, monkeypatch) == fast
    monkeypatch.setattr(report, "ZIP_LEVEL", None)  # zlib's default
    default = write(tmp_path / "default.xlsx", frames, True, monkeypatch)
    monkeypatch.undo()
    assert default != fast
    ours, theirs = parts(tmp_path / "a.xlsx"), parts(tmp_path / "default.xlsx")
    assert {k: v[0] for k, v in ours.items()} == {k: v[0] for k, v in theirs.items()}
    for name, (data, size) in ours.items():
        assert size == deflated_size(data, report.ZIP_LEVEL), name
        assert theirs[name][1] == deflated_size(data, 6), name
    sheet = ours["xl/worksheets/sheet1.xml"][0]
    assert deflated_size(sheet, report.ZIP_LEVEL) != deflated_size(sheet, 6)
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert book["全部0"].max_row == 2 + 2_500


def test_other_xlsxwriter_workbooks_keep_zlibs_default(tmp_path, monkeypatch):
    """The level holds only while excel_writer's workbook is saved: a workbook of plain
    xlsxwriter written afterwards in the same process deflates at zlib's default."""
    import xlsxwriter

    write(tmp_path / "ours.xlsx", [frame(300)], True, monkeypatch)
    book = xlsxwriter.Workbook(tmp_path / "plain.xlsx")
    sheet = book.add_worksheet()
    for r in range(300):
        sheet.write_row(r, 0, [f"P{r:05d}", r * 3, "保留提升"])
    book.close()
    for name, (data, size) in parts(tmp_path / "plain.xlsx").items():
        assert size == deflated_size(data, 6), name


def test_in_memory_workbooks_deflate_at_the_level_too(tmp_path):
    """xlsxwriter's in_memory mode writes each part from a ZipInfo (which ignores the
    ZipFile's level): saved through report._store_at_level it deflates at the level."""
    import xlsxwriter

    book = xlsxwriter.Workbook(tmp_path / "mem.xlsx", {"in_memory": True})
    book.add_worksheet().write_column(0, 0, [f"P{r:05d} 保留提升" for r in range(2_000)])
    book._store_workbook = lambda: report._store_at_level(book, 1)
    book.close()
    for name, (data, size) in parts(tmp_path / "mem.xlsx").items():
        assert size == deflated_size(data, 1), name


def test_text_lengths_counted_in_arrow_as_python_counts_them():
    """fit_excel_text counts the characters of Arrow-backed text in Arrow: the same cuts
    and notes as Python's len over the same text as objects (astral characters count
    one, as in Python)."""
    from zoning.report import EXCEL_TEXT_MAX, fit_excel_text

    text = [
        "a" * EXCEL_TEXT_MAX,
        "\U0001f600" * (EXCEL_TEXT_MAX + 1),
        "长" * EXCEL_TEXT_MAX + "x",
        None,
        "",
    ]
    arrow = pd.DataFrame({"id": ["1", "2", "3", "4", "5"], "t": pd.Series(text, dtype="str")})
    assert isinstance(arrow["t"].dtype, pd.StringDtype)
    plain = arrow.astype({"t": object})
    cut, notes = fit_excel_text(arrow, "w", "id")
    cut_plain, notes_plain = fit_excel_text(plain, "w", "id")
    assert notes["id"].tolist() == ["2", "3"]
    pd.testing.assert_frame_equal(notes, notes_plain)
    same = cut["t"].astype(object).fillna("").tolist()
    assert same == cut_plain["t"].astype(object).fillna("").tolist()
    assert [len(v) for v in same] == [EXCEL_TEXT_MAX] * 3 + [0, 0]
