"""No data or option text is ever evaluated (issue 12): template syntax, a payload that
would run a shell command, HTML and formula text go through the real CLI into every page,
figure, workbook and CSV and come out literally; no file appears."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import tiny_layers, write_gpkg
from zoning._io import formula_unescape
from zoning.maps import escape_text, town_file

PY = sys.executable
EXPR = "{{7*7}}"
STMT = "{% if 1 %}x{% endif %}"
COMMENT = "{#"
HTML = "<script>alert(1)</script>"
MATH = r"$\foo$"  # matplotlib mathtext: raises if read as math


def rce(path: Path) -> str:
    """Jinja source that would create ``path`` if it were ever rendered as a template."""
    return "{{ lipsum.__globals__.os.popen('touch " + str(path) + "').read() }}"


def zoning(*args, cwd=None):
    return subprocess.run(
        [PY, "-m", "zoning", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The tiny county with template syntax in every text field, classified."""
    tmp = tmp_path_factory.mktemp("inject")
    pwned = tmp / "PWNED"
    town_a, town_b = EXPR + "镇", "=" + rce(pwned) + MATH  # "=": a formula in a CSV
    layers = tiny_layers()
    p = layers["parcels"]
    p["town"] = p["town"].map({"浒山街道": town_a, "宗汉街道": town_b})
    p["village"] = [COMMENT, STMT, HTML, "=1+1", MATH, "@SUM(A1)", "-2+3"]
    p["enterprise"] = [STMT, HTML, rce(pwned), "+cmd", EXPR, COMMENT, '=HYPERLINK("x")']
    p.loc[0, "parcel_id"] = EXPR
    p.loc[1, "parcel_id"] = "<b>P002</b>"
    layers["towns"]["town"] = [town_a, town_b]
    layers["township_parks"]["name"] = [rce(pwned), HTML]
    layers["cluster_points"]["name"] = [STMT]
    layers["protected"]["kind"] = [EXPR]
    src = write_gpkg(tmp / "in.gpkg", layers)
    out = tmp / "out"
    res = zoning("classify", src, "--out", out)
    assert res.returncode == 0, res.stderr
    return {"tmp": tmp, "src": src, "out": out, "pwned": pwned, "towns": [town_a, town_b]}


def assert_literal(page: str) -> None:
    """Every payload is in the page as text, none was evaluated."""
    assert "49镇" not in page and EXPR + "镇" in page
    assert STMT in page and HTML not in page
    assert "touch " in page  # the shell payload is shown, not run


def test_map_pages_show_template_text_literally(hostile):
    tmp = hostile["tmp"]
    title = f"{EXPR} {STMT} {COMMENT} {HTML} {MATH} {rce(tmp / 'PWNED-title')}"
    res = zoning("map", hostile["out"], "--out", tmp / "m" / "map.html", "--title", title)
    assert res.returncode == 0, res.stderr
    page = (tmp / "m" / "map.html").read_text(encoding="utf-8")
    assert_literal(page)
    assert f"<title>{escape_text(title)}</title>" in page
    assert f'<div class="zoning-title">{escape_text(title)}</div>' in page
    assert not list(tmp.glob("PWNED*"))


def test_per_town_maps_and_index_show_names_literally(hostile):
    tmp = hostile["tmp"]
    title = f"{EXPR}{COMMENT}"
    res = zoning("map", hostile["out"], "--by-town", "--out", tmp / "towns", "--title", title)
    assert res.returncode == 0, res.stderr
    index = (tmp / "towns" / "index.html").read_text(encoding="utf-8")
    for town in hostile["towns"]:
        assert escape_text(town) in index
        page = (tmp / "towns" / town_file(town)).read_text(encoding="utf-8")
        assert f"<title>{escape_text(title + ' · ' + town)}</title>" in page
    assert f"<title>{escape_text(title)}</title>" in index
    assert "<title>49" not in index  # (not a bare "49": the temp path may hold one)
    assert_literal((tmp / "towns" / "county.html").read_text(encoding="utf-8"))
    assert not list(tmp.glob("PWNED*"))


def test_compare_config_names_are_not_evaluated(hostile):
    tmp = hostile["tmp"]
    (tmp / f"{EXPR}.toml").write_text("", encoding="utf-8")
    b = tmp / (rce(Path("PWNED-compare")) + ".toml")  # relative: a file name has no '/'
    b.write_text("[parameters]\ninside_share_min = 0.99\nbaseline_year = 2030\n", encoding="utf-8")
    res = zoning(
        "compare",
        hostile["src"],
        "--config",
        f"{EXPR}.toml",
        "--config",
        b.name,
        "--out",
        "cmp",
        cwd=tmp,
    )
    assert res.returncode == 0, res.stderr
    page = (tmp / "cmp" / "changes.html").read_text(encoding="utf-8")
    expected = f"变化地块：{EXPR} → {b.stem}"
    assert f"<title>{escape_text(expected)}</title>" in page
    book = openpyxl.load_workbook(tmp / "cmp" / "transitions.xlsx")
    assert f" 分类转移：{EXPR} → {b.stem}　数据日期：" in book["转移矩阵"]["A1"].value
    assert not list(tmp.glob("PWNED*"))


def test_tables_and_workbooks_keep_the_text(hostile):
    out = hostile["out"]
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert set(hostile["towns"]) <= set(formula_unescape(summary["town"]))
    book = openpyxl.load_workbook(out / "summary.xlsx")
    towns = {c.value for c in book["汇总"]["A"]}
    assert set(hostile["towns"]) <= towns
    assert not list(hostile["tmp"].glob("PWNED*"))


def test_figures_take_dollar_text_as_text(hostile, tmp_path):
    """Town names and --title with ``$...$`` are drawn as text (not mathtext, which
    raises on ``\\foo``)."""
    from zoning import figures
    from zoning.outputs import read_classified

    data = read_classified(hostile["out"])
    figures.overview_png(data, tmp_path / "o.png", MATH + EXPR)
    figures.towns_bar_png(data["parcels"], tmp_path / "t.png")
    assert (tmp_path / "o.png").stat().st_size > 1000 and (tmp_path / "t.png").exists()
    from matplotlib.text import Text

    shown = figures.plain(MATH)
    assert Text(text=shown)._preprocess_math(shown) == (MATH, False)


# --- CSV formula injection and Excel's cell limit ----------------------------------

FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "'=a"]


def test_csv_cells_never_start_a_formula(tmp_path):
    import csv

    from zoning._io import formula_unescape
    from zoning.report import write_csv

    frame = pd.DataFrame(
        {
            "text": [*FORMULAS, "ok", "-3", "-", None],
            "n": [-1, 2, -3, 4, 5, 6, 7, 8, 9, 10, 11],
            "x": [-1.5] * 11,
        }
    )
    write_csv(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    text = [r[0] for r in rows[1:]]
    for cell in text:
        assert cell[:1] not in ("=", "+", "@", "\t", "\r") and not cell.startswith("-2"), cell
    assert text[0] == "'=1+1" and text[7:10] == ["ok", "-3", "'-"]
    assert [r[1] for r in rows[1:4]] == ["-1", "2", "-3"] and rows[1][2] == "-1.5"
    back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig", keep_default_na=False)
    assert formula_unescape(back["text"]).tolist()[:10] == [*FORMULAS, "ok", "-3", "-"]


def test_every_csv_of_a_run_is_escaped(hostile):
    """issues.csv and summary.csv of classify, grades.csv read back by the maps."""
    assert "'=" in (hostile["out"] / "summary.csv").read_text(encoding="utf-8-sig")
    from zoning.outputs import read_grades
    from zoning.report import write_csv

    for name in ("summary.csv", "issues.csv"):
        raw = (hostile["out"] / name).read_text(encoding="utf-8-sig")
        assert not any(
            cell[:1] in "=+@" and cell for line in raw.splitlines() for cell in line.split(",")
        ), name
    grades = hostile["tmp"] / "grades.csv"
    write_csv(
        pd.DataFrame(
            {
                "enterprise_id": ["E1", "E2"],
                "enterprise": ['=HYPERLINK("x")', "+cmd"],
                "grade": ["A", "D"],
            }
        ),
        grades,
    )
    assert "'=HYPERLINK" in grades.read_text(encoding="utf-8-sig")
    assert read_grades(grades).to_dict() == {'=HYPERLINK("x")': "A", "+cmd": "D"}


def test_xlsx_keeps_formula_text_as_text(tmp_path):
    from zoning.report import write_grades_xlsx

    frame = pd.DataFrame(
        {
            "enterprise_id": ["E1", "E2"],
            "enterprise": ["=1+1", "@SUM(A1)"],
            "grade": ["A", "B"],
            "score": [90.0, 80.0],
        }
    )
    write_grades_xlsx(frame, tmp_path / "g.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "g.xlsx").active
    cells = {c.value: c.data_type for row in sheet.iter_rows() for c in row if c.value}
    assert cells["=1+1"] == "s" and cells["@SUM(A1)"] == "s"


def test_excel_cells_over_the_limit_are_cut_with_a_note(tmp_path):
    from zoning.report import EXCEL_TEXT_MAX, write_grades_xlsx

    long = "长" * 40_000
    frame = pd.DataFrame(
        {"enterprise_id": ["E1", "E2"], "enterprise": [long, "短"], "grade": ["A", "B"]}
    )
    notes = write_grades_xlsx(frame, tmp_path / "g.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "g.xlsx").active
    lengths = [len(c.value) for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert max(lengths) == EXCEL_TEXT_MAX
    assert notes[["layer", "row", "id", "action"]].values.tolist() == [
        ["g.xlsx:亩均评价", 1, "E1", "truncated"]
    ]
    assert "40000" in notes["reason"].iat[0]


def test_a_long_town_name_is_cut_in_the_workbook_and_noted_in_issues(tmp_path):
    long = "长" * 33_000
    layers = tiny_layers()
    layers["parcels"]["town"] = layers["parcels"]["town"].replace("浒山街道", long)
    layers["towns"]["town"] = layers["towns"]["town"].replace("浒山街道", long)
    src = write_gpkg(tmp_path / "in.gpkg", layers)
    res = zoning("classify", src, "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(tmp_path / "o" / "summary.csv", encoding="utf-8-sig")
    assert long in set(summary["town"])  # the CSV keeps the whole name
    issues = pd.read_csv(tmp_path / "o" / "issues.csv", encoding="utf-8-sig")
    cut = issues[issues["action"] == "truncated"]
    assert len(cut) >= 1 and set(cut["layer"]) == {
        "summary.xlsx:明细",
        "classified.xlsx:全县",
        "classified.xlsx:镇街清单",
    }  # the 清单
    book = openpyxl.load_workbook(tmp_path / "o" / "summary.xlsx")
    assert max(len(c.value) for c in book["汇总"]["A"] if isinstance(c.value, str)) == 32_767
