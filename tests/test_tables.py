"""Tables as the towns write them (issue 15, SPEC §3, §8): CSV saved by a Chinese Excel
(GBK), workbooks with a merged title row above the header, dates typed as text, survey
words for yes and no; one reader for workshop lists, ledger sheets and enterprise tables."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from conftest import X0, Y0
from zoning import ledger as lg
from zoning.config import load_config
from zoning.errors import LayerError
from zoning.layers import IssueLog, parse_bool, read_table, read_tables
from zoning.workshops import clean_fields, read_point_list


def zoning(*args):
    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def gbk_csv(path, lines, encoding="gbk"):
    """A CSV as "另存为 CSV" of a Chinese Excel writes it: GBK, CRLF (✓ and ✗ are not in
    GBK: GB18030 then)."""
    text = "\r\n".join(",".join(map(str, r)) for r in lines) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def titled_workbook(path, title, rows):
    """An xlsx with a title merged across the columns above the header (a town's habit)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


WORKSHOP_CONFIG = """
[crs]
workshops = "EPSG:4549"
[workshops]
x = "横坐标"
y = "纵坐标"
[fields.workshops]
"作坊编号" = "workshop_id"
"营业执照" = "licensed"
"三合一" = "three_in_one"
"""


@pytest.mark.parametrize(
    "words", [("有", "无", "√", "×"), ("是", "否", "✓", "✗"), ("Y", "n", "TRUE", "")]
)
def test_gbk_workshop_list_with_title_row_and_survey_words(tmp_path, words):
    path = gbk_csv(
        tmp_path / "作坊.csv",
        [
            ["浒山街道家庭作坊排查表", "", "", "", ""],
            ["作坊编号", "横坐标", "纵坐标", "营业执照", "三合一"],
            ["007", X0 + 10, Y0 + 10, words[0], words[1]],
            ["008", X0 + 20, Y0 + 10, words[1], words[2]],
            ["009", X0 + 30, Y0 + 10, words[2], words[3]],
            ["010", X0 + 40, Y0 + 10, "大概", words[0]],
        ],
        "gb18030" if "✓" in words else "gbk",
    )
    (tmp_path / "c.toml").write_text(WORKSHOP_CONFIG, encoding="utf-8")
    issues = IssueLog()
    config = load_config(tmp_path / "c.toml")
    ws = clean_fields(
        read_point_list(path, config, issues), issues, config.workshops["max_floor_area_m2"]
    )
    assert ws["workshop_id"].tolist() == ["007", "008", "009", "010"]
    truth = {words[0]: True, words[1]: False, words[2]: True, words[3]: False}
    assert ws["licensed"].tolist() == [truth[words[0]], truth[words[1]], truth[words[2]], False]
    assert ws["three_in_one"].tolist() == [
        truth[words[1]],
        truth[words[2]],
        truth[words[3]],
        truth[words[0]],
    ]
    bad = issues.frame()
    bad = bad[bad["action"] == "coerced"]
    assert bad["id"].tolist() == ["010"] and bad["row"].tolist() == [4]
    assert "'大概' is not a yes/no word; read as false" in bad["reason"].iat[0]


def test_boolean_words_any_case_and_width():
    values = pd.Series(["有", "无", "√", "×", "✓", "✗", "YES", "ｙｅｓ", "No", None, " 是 ", "x"])
    issues = IssueLog()
    out = parse_bool(values, "licensed", "workshops", issues, None)
    assert out.tolist() == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        False,
        True,
        False,
    ]
    assert issues.frame()["row"].tolist() == [12]  # 'x' is no word: listed, read as false


def test_encoding_detected_declared_and_refused(tmp_path):
    rows = [["enterprise_id", "town"], ["E1", "浒山街道"]]
    for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes("\n".join(",".join(r) for r in rows).encode(encoding))
        assert read_table(path, "enterprises")["town"].tolist() == ["浒山街道"], encoding
    # Big5 text happens to decode as GB18030 into nonsense: [encoding] overrides detection
    path = tmp_path / "big5.csv"
    path.write_bytes("enterprise_id,town\nE1,臺北\n".encode("big5"))
    (tmp_path / "c.toml").write_text('[encoding]\nenterprises = "big5"\n', encoding="utf-8")
    config = load_config(tmp_path / "c.toml")
    assert read_table(path, "enterprises", config=config)["town"].tolist() == ["臺北"]
    # a declared encoding the file does not fit, and bytes no encoding reads: one line each
    path = gbk_csv(tmp_path / "gbk.csv", [["enterprise_id", "town"], ["E1", "浒山街道"]])
    (tmp_path / "u.toml").write_text('[encoding]\nenterprises = "utf-8"\n', encoding="utf-8")
    with pytest.raises(LayerError, match=r"not utf-8 text .*row 2.*\[encoding\] enterprises"):
        read_table(path, "enterprises", config=load_config(tmp_path / "u.toml"))
    soup = tmp_path / "soup.csv"
    soup.write_bytes(b"enterprise_id\nE1\n\xff\xff\xff\n")
    with pytest.raises(LayerError) as err:
        read_table(soup, "enterprises")
    assert "row 3" in str(err.value) and '[encoding] enterprises = "..."' in str(err.value)
    assert str(soup) in str(err.value) and "\n" not in str(err.value)


def test_header_found_under_a_merged_title(tmp_path):
    path = titled_workbook(
        tmp_path / "t.xlsx",
        "浒山街道2026年5月整治进度",
        [
            ["说明：请勿改动表头", None, None],
            ["enterprise_id", "land_mu", "note"],
            ["007", 12.5, "NA"],
            [None, None, None],
            ["E2", 3, "NULL"],
        ],
    )
    tables = read_tables(path, "enterprises", keys=("enterprise_id",))
    name, frame, found = tables[0]
    assert found and frame.attrs["header_row"] == 3 and frame.attrs["sheet_rows"] == [4, 6]
    assert frame.to_dict("list") == {
        "enterprise_id": ["007", "E2"],
        "land_mu": ["12.5", "3"],
        "note": ["NA", "NULL"],
    }


def test_ledger_sheets_as_towns_write_them(ledger, tmp_path):
    """A workbook with a merged title, Chinese headers and kinds, dates in every typed form
    and a date cell; a GBK CSV; rows named by their row in the sheet."""
    import datetime as dt

    head = ["类型", "编号", "状态", "日期", "备注"]
    path = titled_workbook(
        tmp_path / "五月.xlsx",
        "浒山街道2026年5月整治进度",
        [
            head,
            ["地块", "P001", "推进中", "2026/4/15", ""],
            ["地块", "P003", "推进中", "2026.4.16", ""],
            ["地块", "P004", "推进中", "2026年4月17日", ""],
            ["地块", "P005", "推进中", "20260418", ""],
            ["地块", "P006", "推进中", dt.datetime(2026, 4, 19), ""],
            ["地块", "P007", "推进中", 46136, ""],  # Excel serial: 2026-04-24
            ["地块", "P002", "推进中", "2026", ""],  # a year alone
        ],
    )
    report = lg.import_sheet(ledger, path, "2026-06-01")
    assert report.accepted == 6
    assert report.rejected["row"].tolist() == [9]  # title row 1, header row 2
    assert "a year alone is not a date" in report.rejected["reason"].iat[0]
    with sqlite3.connect(ledger) as con:
        dates = dict(con.execute("SELECT item_id, date FROM zoning_events"))
    assert dates == {
        "P001": "2026-04-15",
        "P003": "2026-04-16",
        "P004": "2026-04-17",
        "P005": "2026-04-18",
        "P006": "2026-04-19",
        "P007": "2026-04-24",
    }
    csv = gbk_csv(
        tmp_path / "六月.csv",
        [
            head,
            ["地块", "P001", "推进中", "2026/5/2", "复核"],
            ["作坊", "W9", "推进中", "2026/5/2", ""],
        ],
    )
    res = zoning("ledger", "import", ledger, csv, "--today", "2026-06-01")
    assert res.returncode == 0, res.stderr
    assert "accepted 1" in res.stdout and "rejected 1" in res.stdout
    rejected = pd.read_csv(tmp_path / "六月.rejected.csv", dtype=str)
    assert rejected["row"].tolist() == ["3"] and rejected["kind"].tolist() == ["作坊"]


def test_ledger_sheet_renamed_by_fields_updates(ledger, tmp_path):
    path = gbk_csv(
        tmp_path / "s.csv",
        [
            ["图斑编号", "对象", "进展", "填报日期", "说明"],
            ["P001", "地块", "推进中", "2026年5月3日", ""],
        ],
    )
    res = zoning("ledger", "import", ledger, path, "--today", "2026-06-01")
    assert res.returncode == 1 and "[fields.updates]" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    (tmp_path / "c.toml").write_text(
        '[fields.updates]\n"图斑编号" = "item_id"\n"对象" = "kind"\n"进展" = "status"\n'
        '"填报日期" = "date"\n"说明" = "note"\n',
        encoding="utf-8",
    )
    res = zoning(
        "ledger", "import", ledger, path, "--today", "2026-06-01", "--config", tmp_path / "c.toml"
    )
    assert res.returncode == 0 and "accepted 1" in res.stdout, res.stderr


def test_adjust_takes_chinese_kind_and_class(ledger):
    assert lg.adjust(ledger, "地块", "P004", "保留提升", "村里保留", "张三") == ("parcel", "retain")


ENTERPRISE_CONFIG = """
[fields.enterprises]
"企业编号" = "enterprise_id"
"用地面积（亩）" = "land_mu"
"税收（万元）" = "tax_10k_yuan"
"增加值（万元）" = "value_added_10k_yuan"
"""


@pytest.mark.parametrize("form", ["xlsx", "gbk-csv"])
def test_enterprise_table_with_chinese_headers(tmp_path, form):
    rows = [
        ["企业编号", "企业名称", "用地面积（亩）", "税收（万元）", "增加值（万元）"],
        ["007", "甲厂", 10, 50, 200],
        ["008", "乙厂", 20, 30, 100],
        ["009", "丙厂", 5, 40, 150],
        ["010", "丁厂", 8, 1, 2],
    ]
    if form == "xlsx":
        path = titled_workbook(tmp_path / "企业.xlsx", "2025年度亩均效益评价", rows)
    else:
        path = gbk_csv(tmp_path / "企业.csv", [["2025年度亩均效益评价", "", "", "", ""], *rows])
    (tmp_path / "c.toml").write_text(ENTERPRISE_CONFIG, encoding="utf-8")
    res = zoning("grade", path, "--out", tmp_path / "g", "--config", tmp_path / "c.toml")
    assert res.returncode == 0, res.stderr
    grades = pd.read_csv(tmp_path / "g" / "grades.csv", dtype=str)
    assert sorted(grades["enterprise_id"]) == ["007", "008", "009", "010"]
    assert grades.set_index("enterprise_id").loc["007", "tax_per_mu"] == "5.0"
    res = zoning("grade", path, "--out", tmp_path / "g2")  # no renaming: one line, the fix
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "missing column(s) ['enterprise_id']" in res.stderr
    assert "header row 2" in res.stderr and "[fields.enterprises]" in res.stderr
