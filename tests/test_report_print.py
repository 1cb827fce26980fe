"""Workbooks that print (issue 16, items 2 and 3): the plot 清单, title rows with the county
and dates, landscape pages fit to width with the header on every page, and printed figures
that add up. Checked by converting the demo's workbooks with headless LibreOffice (Debian
``libreoffice-calc-nogui``) and reading the PDFs with poppler (``pdftotext``, ``pdfinfo``).
With CI set, a missing tool fails the test instead of skipping it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from zoning.config import load_config
from zoning.errors import ConfigError
from zoning.report import largest_remainder, nested_round

TOOLS = ("soffice", "pdftotext", "pdfinfo")


def need_tools():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(
                f"CI is set and {', '.join(missing)} is missing (apt-get install "
                "libreoffice-calc-nogui poppler-utils)"
            )
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "demo",
            "--out",
            str(out),
            "--maps",
            str(out / "maps"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert res.returncode == 0, res.stderr
    return out


def to_pdf(xlsx, tmp_path):
    """The workbook as LibreOffice prints it (a private profile per conversion)."""
    need_tools()
    profile = tmp_path / "lo-profile"
    res = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(xlsx),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    pdf = tmp_path / (xlsx.stem + ".pdf")
    assert res.returncode == 0 and pdf.exists(), res.stderr
    return pdf


def pages(pdf) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def numbers(line: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?[\d,]+\.\d\d\b", line)]


def test_largest_remainder_parts_add_up_to_the_rounded_total():
    values = np.array([1.004, 2.004, 3.004, 0.335, 0.335, 0.33])
    assert np.round(values[:3], 2).sum() == pytest.approx(6.00)  # rounding each misses
    shown = largest_remainder(values[:3])
    assert shown.sum() == pytest.approx(round(values[:3].sum(), 2)) == pytest.approx(6.01)
    assert np.abs(shown - values[:3]).max() < 0.01
    by_group = largest_remainder(values, [0, 0, 0, 1, 1, 1])
    assert by_group[3:].sum() == pytest.approx(1.0)


def test_nested_rounding_adds_up_at_every_level():
    rng = np.random.default_rng(7)
    v = rng.random(2000) * 9
    town, cls = rng.integers(0, 19, 2000), rng.integers(0, 4, 2000)
    shown = nested_round(v, [town, cls])
    assert np.abs(shown - v).max() < 0.01
    assert shown.sum() == pytest.approx(round(v.sum(), 2), abs=1e-6)
    frame = pd.DataFrame({"v": v, "s": shown, "t": town})
    by_town = frame.groupby("t").agg(v=("v", "sum"), s=("s", "sum"))
    assert (by_town["s"] - by_town["v"]).abs().max() < 0.01  # each town's total rounded
    assert by_town["s"].round(2).sum() == pytest.approx(shown.sum())


def test_summary_prints_on_one_page_and_its_figures_add_up(demo, tmp_path):
    text = pages(to_pdf(demo / "summary.xlsx", tmp_path))
    first = text[0]
    assert "慈溪市（样例） 村级工业用地分类汇总" in first  # [report] county of data/cixi.toml
    assert "数据日期：2026-01-01" in first  # the sample GeoPackage's own date
    assert "截至日期：2026-01-01" in first
    lines = [ln for ln in first.splitlines() if numbers(ln)]
    towns = [ln for ln in lines if not ln.strip().startswith("合计")]
    total = next(ln for ln in lines if ln.strip().startswith("合计"))
    assert len(towns) == 19  # every town and the 合计 row on page 1
    mu = np.array([numbers(ln)[:5] for ln in [*towns, total]])  # 4 classes + total
    assert np.allclose(mu[:, :4].sum(axis=1), mu[:, 4], atol=1e-6)  # rows add up
    assert np.allclose(mu[:-1].sum(axis=0), mu[-1], atol=1e-6)  # columns add up
    assert "明细" in text[1] and "合计" not in text[0].split("面积单位")[0]


def test_plot_list_prints_landscape_pages_with_the_header_on_each(demo, tmp_path):
    listing = pd.read_excel(
        demo / "classified.xlsx", sheet_name=None, header=1, dtype={"编号": str}
    )
    county = listing["全县"]
    rows = sum(len(t) for t in listing.values())
    text = pages(to_pdf(demo / "classified.xlsx", tmp_path))
    assert rows / 80 <= len(text) <= rows / 25  # ≈ rows / 40 (fit to the page width)
    for page in text:
        assert "编号" in page and "目标园区/集聚点" in page and "截至日期" in page
    plots = county[~county["编号"].isin(["小计", "合计"])]
    subtotals = county[county["编号"] == "小计"].set_index("分类")["面积（亩）"]
    assert np.allclose(
        plots.groupby("分类")["面积（亩）"].sum().reindex(subtotals.index), subtotals
    )
    assert county.loc[county["编号"] == "合计", "面积（亩）"].iat[0] == pytest.approx(
        subtotals.sum()
    )
    summary = pd.read_excel(demo / "summary.xlsx", sheet_name="明细", header=1)
    total = summary[(summary["镇街"] == "合计") & (summary["类别代码"] == "total")]
    assert total["面积（亩）"].iat[0] == pytest.approx(subtotals.sum())
    park = plots[plots["分类"] == "纳入镇级园区"]["目标园区/集聚点"]
    assert park.str.contains("（").mean() > 0.9  # the park by name and id


def test_assessment_ranking_shows_the_parts_of_each_score(demo, tmp_path):
    book = demo / "assessment" / "assessment.xlsx"
    ranking = pd.read_excel(book, sheet_name="排名", header=1)
    assert {"地块得分", "作坊得分", "地块完成率", "作坊完成率"} <= set(ranking.columns)
    assert np.allclose(ranking["地块得分"] + ranking["作坊得分"], ranking["得分"], atol=1e-9)
    town = pd.read_excel(book, sheet_name=1, header=1)
    assert {"村", "依据"} <= set(town.columns)
    text = pages(to_pdf(book, tmp_path))
    assert "截至日期" in text[0] and "地块得分" in text[0]
    items = sum(len(t) for t in pd.read_excel(book, sheet_name=None, header=1).values())
    assert len(text) <= items / 25  # not 1,189 pages of four columns
    assert all("编号" in p or "排名" in p for p in text)


@pytest.mark.parametrize("name", ["workshops.xlsx", "grades.xlsx"])
def test_other_workbooks_print_with_title_and_header_on_every_page(demo, tmp_path, name):
    text = pages(to_pdf(demo / name, tmp_path))
    assert text and all("截至日期" in p for p in text)
    rows = sum(len(t) for t in pd.read_excel(demo / name, sheet_name=None, header=1).values())
    assert len(text) <= max(rows / 25, 3)


def test_plot_list_of_the_tiny_county(tmp_path):
    """classified.xlsx: a county sheet and a sheet per town, the target park or cluster
    point by name and id, a 小计 per class, the county named by [report]; the ledger's
    清单 carry the village, the reason and a deadline and person where the plots do."""
    from conftest import tiny_layers, write_gpkg

    layers = tiny_layers()
    layers["parcels"]["deadline"] = ["2026-12-31", "", "", "", "", "", ""]
    layers["parcels"]["responsible"] = ["张三", "", "", "", "", "", ""]
    src = write_gpkg(tmp_path / "tiny.gpkg", layers)
    config = tmp_path / "county.toml"
    config.write_text('[report]\ncounty = "慈溪市"\ndata_date = "2026-10-31"\n', encoding="utf-8")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "classify",
            src,
            "--config",
            str(config),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    book = tmp_path / "o" / "classified.xlsx"
    sheets = pd.read_excel(book, sheet_name=None, header=1, dtype={"编号": str})
    assert list(sheets) == ["全县", "宗汉街道", "浒山街道"]
    title = pd.read_excel(book, sheet_name="浒山街道", header=None).iat[0, 0]
    assert (
        title == "慈溪市 浒山街道 村级工业用地分类清单　数据日期：2026-10-31　截至日期：2026-10-31"
    )
    town = sheets["浒山街道"].set_index("编号")
    assert town.loc["P001", "目标园区/集聚点"] == "浒山工业园（T1）"
    assert town.loc["P001", "规则"].startswith("C1 ") and town.loc["P001", "村"] == "东村"
    assert "连片" in town.loc["P001", "依据"]  # the Chinese reason
    county = sheets["全县"].set_index("编号")
    assert county.loc["P005", "目标园区/集聚点"] == "南村集聚点（K1）"
    sub = sheets["浒山街道"][sheets["浒山街道"]["编号"] == "小计"]
    assert list(sub["分类"]) == ["纳入镇级园区", "腾挪清退"] and list(sub["村"]) == ["2 块", "1 块"]
    assert sheets["浒山街道"]["编号"].iat[-1] == "合计"
    bad = tmp_path / "bad.toml"
    bad.write_text('[report]\ndata_date = "31.10.2026"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[report\] data_date must be a date"):
        load_config(bad)

    from zoning.outputs import init_ledger, write_ledger_report

    ledger = tmp_path / "ledger.gpkg"
    init_ledger(ledger, tmp_path / "o")
    (tmp_path / "r").mkdir()
    write_ledger_report(ledger, "2026-11-30", tmp_path / "r", county="慈溪市")
    listing = pd.read_excel(
        tmp_path / "r" / "assessment.xlsx", sheet_name="浒山街道", header=1, dtype={"编号": str}
    ).set_index("编号")
    assert {"村", "依据", "整改期限", "责任人"} <= set(listing.columns)
    assert listing.loc["P001", "整改期限"] == "2026-12-31"
    assert listing.loc["P001", "责任人"] == "张三" and listing.loc["P002", "村"] == "东村"
    assert listing.loc["P006", "依据"].startswith("建成年份")  # the Chinese reason


def test_a_ledger_made_before_the_village_field_syncs_new_items(tmp_path, monkeypatch):
    """Items gained village / deadline / responsible: syncing a new classification into
    a ledger whose items layer lacks them adds the new items without those fields."""
    import pyogrio

    from conftest import tiny_layers, with_village_park, write_gpkg
    from zoning import ledger as lg
    from zoning.outputs import init_ledger, sync_ledger

    def classify(layers, name):
        out = tmp_path / name
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "zoning",
                "classify",
                write_gpkg(tmp_path / f"{name}.gpkg", layers),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        return out

    first, second = classify(tiny_layers(), "a"), classify(with_village_park(tiny_layers()), "b")
    path = tmp_path / "old.gpkg"
    with monkeypatch.context() as m:
        m.setattr(lg, "PASSED", ())  # as a version before these fields wrote it
        init_ledger(path, first)
    assert "village" not in pyogrio.read_info(path, layer="items")["fields"]
    sync_ledger(path, second)
    items = pyogrio.read_dataframe(path, layer="items")
    assert sorted(items["item_id"]) == [f"P00{i}" for i in range(1, 9)]
    assert lg.verify(path) == []


def test_transitions_workbook_prints_its_matrix_on_one_page(tmp_path):
    from conftest import tiny_layers, write_gpkg

    src = write_gpkg(tmp_path / "tiny.gpkg", tiny_layers())
    (tmp_path / "a.toml").write_text("", encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        "[parameters]\ninside_share_min = 0.99\nbaseline_year = 2030\n", encoding="utf-8"
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "compare",
            src,
            "--config",
            str(tmp_path / "a.toml"),
            "--config",
            str(tmp_path / "b.toml"),
            "--out",
            str(tmp_path / "cmp"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    text = pages(to_pdf(tmp_path / "cmp" / "transitions.xlsx", tmp_path))
    assert "tiny 分类转移：a → b" in text[0] and "截至日期" in text[0]
    assert len(text) == 3  # the matrix, per town, changed plots: one page each
    assert all("截至日期" in p for p in text)
