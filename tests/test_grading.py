"""亩均效益评价 (SPEC §8): indicator scores, missing indicators, ranks and quotas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from zoning.grading import INDICATORS, grade

ROWS = pd.DataFrame(
    {
        "enterprise_id": ["E2", "E1", "E3", "E4"],
        "land_mu": [10, 5, 0, 8],
        "tax_10k_yuan": [100, 100, 50, None],
        "value_added_10k_yuan": [500, 300, 100, 200],
        "energy_tce": [100, 50, 20, 0],
        "emissions_t": [10, 10, 10, 10],
        "employees": [50, 30, 10, 20],
        "revenue_10k_yuan": [1000, 800, 300, 500],
        "rd_10k_yuan": [30, 10, 0, 5],
    }
)


def test_hand_computed_scores():
    g = grade(ROWS).set_index("enterprise_id")
    # tax per mu: E2 10, E1 20; E3 has land 0 and E4 no tax -> missing; mean 15
    assert g.loc["E1", "score_tax_per_mu"] == pytest.approx(30 * 20 / 15)
    assert g.loc["E2", "score_tax_per_mu"] == pytest.approx(30 * 10 / 15)
    assert g.loc["E3", "score_tax_per_mu"] == 0 and "no tax_per_mu" in g.loc["E3", "flags_en"]
    assert "缺亩均税收（用地面积（亩） 0 不大于 0）" in g.loc["E3", "flags"]
    assert "缺亩均税收（税收（万元）为空）" in g.loc["E4", "flags"]
    # value added per mu: 50, 60, -, 25 -> mean 45; E1 60/45 = 1.333 × 20
    assert g.loc["E1", "score_value_added_per_mu"] == pytest.approx(20 * 60 / 45)
    # rd share: 0.03, 0.0125, 0, 0.01 -> mean 0.013125; E2 0.03/mean = 2.29 -> capped 1.5
    assert g.loc["E2", "score_rd_share"] == pytest.approx(10 * 1.5)
    # labour productivity all 10 -> ratio 1 -> full weight 10
    assert (g["score_labour_productivity"] == 10).all()
    total = g[[f"score_{k}" for k in INDICATORS]].sum(axis=1)
    assert np.allclose(total, g["score"])
    assert g["rank"].to_dict() == {"E1": 1, "E2": 2, "E4": 3, "E3": 4}
    # n = 4: A if rank ≤ 1, B ≤ 2, C ≤ 3, D otherwise
    assert g["grade"].to_dict() == {"E1": "A", "E2": "B", "E4": "C", "E3": "D"}


def test_ties_rank_by_enterprise_id_and_nonpositive_mean_scores_zero():
    rows = pd.DataFrame(
        {
            "enterprise_id": ["B", "A", "C"],
            "land_mu": [1, 1, 1],
            "tax_10k_yuan": [-5, -5, -5],
            "value_added_10k_yuan": [1, 1, 1],
            "energy_tce": [1, 1, 1],
            "emissions_t": [1, 1, 1],
            "employees": [1, 1, 1],
            "revenue_10k_yuan": [1, 1, 1],
            "rd_10k_yuan": [0, 0, 0],
        }
    )
    g = grade(rows).set_index("enterprise_id")
    assert (g["score_tax_per_mu"] == 0).all()  # mean −5 ≤ 0
    assert (g["score_rd_share"] == 0).all()  # mean 0 ≤ 0
    assert g["rank"].to_dict() == {"A": 1, "B": 2, "C": 3}


def test_profile_changes_quotas():
    g = grade(ROWS, {"quota_a": 0.5}).set_index("enterprise_id")
    assert g.loc["E2", "grade"] == "A"


def test_cli_writes_grades(tmp_path):
    ROWS.to_csv(tmp_path / "e.csv", index=False)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "grade",
            str(tmp_path / "e.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(tmp_path / "out" / "grades.csv")
    assert list(out.columns[:3]) == ["enterprise_id", "score", "grade"]
    assert "flags" in out.columns and len(out) == 4
    assert pd.ExcelFile(tmp_path / "out" / "grades.xlsx").sheet_names == ["亩均评价"]
    assert not (tmp_path / "out" / "grade_issues.csv").exists()  # nothing was cut


def test_cli_notes_cells_cut_to_fit_excel(tmp_path):
    rows = ROWS.assign(
        enterprise=["甲" * 40_000, "乙", "丙", "NA"], enterprise_id=["E1", "NULL", "007", "E4"]
    )
    rows.to_csv(tmp_path / "e.csv", index=False)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "grade",
            str(tmp_path / "e.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "1 cell(s) cut to fit Excel" in res.stdout
    notes = pd.read_csv(tmp_path / "out" / "grade_issues.csv", dtype=str)
    assert len(notes) == 1 and notes.loc[0, "id"] == "E1"
    out = pd.read_csv(tmp_path / "out" / "grades.csv", dtype=str, keep_default_na=False)
    assert sorted(out["enterprise_id"]) == ["007", "E1", "E4", "NULL"]  # ids as typed
    assert len(out.set_index("enterprise_id").loc["E1", "enterprise"]) == 40_000  # CSV whole
    assert out.set_index("enterprise_id").loc["E4", "enterprise"] == "NA"


HOSTILE = pd.DataFrame(
    {
        "enterprise_id": ["G1", "G2", "G3", "G4", "G5", "G6", "G7"],
        "land_mu": [10, "inf", -3, "n/a", 5, 8, 1e-300],
        "tax_10k_yuan": [100, 50, 40, 30, -20, "约五十", 1e300],
        "value_added_10k_yuan": [500, 400, "-inf", 300, 200, 100, 1e300],
        "energy_tce": [100, 50, 20, 0, None, 30, 10],
        "emissions_t": [10] * 7,
        "employees": [50, 30, 10, 20, 5, 8, 1],
        "revenue_10k_yuan": [1000, 800, 300, 500, 90, 70, 1],
        "rd_10k_yuan": [30, 10, 0, 5, 1, 1, 0],
    }
)


def test_hostile_values_give_flagged_missing_indicators_never_non_finite_scores():
    g = grade(HOSTILE).set_index("enterprise_id")
    scores = g[["score", *[f"score_{k}" for k in INDICATORS]]].to_numpy(dtype=float)
    assert np.isfinite(scores).all()
    values = g[list(INDICATORS)].to_numpy(dtype=float)
    assert not np.isinf(values).any()
    en, zh = g["flags_en"], g["flags"]
    assert "no tax_per_mu (land_mu inf not finite)" in en["G2"]
    assert "no tax_per_mu (land_mu -3 not > 0)" in en["G3"]
    assert "no tax_per_mu (land_mu 'n/a' not a number)" in en["G4"]
    assert "no value_added_per_tce (value_added_10k_yuan -inf not finite)" in en["G3"]
    assert "no tax_per_mu (tax_10k_yuan '约五十' not a number)" in en["G6"]
    assert "no value_added_per_tce (energy_tce 0 not > 0)" in en["G4"]
    assert "no value_added_per_tce (energy_tce missing)" in en["G5"]
    assert "no tax_per_mu (overflow)" in en["G7"]
    # the same flags in Chinese, first: the indicator's and the field's Chinese names
    assert "缺亩均税收（用地面积（亩） inf 不是有限数）" in zh["G2"]
    assert "缺亩均税收（用地面积（亩） -3 不大于 0）" in zh["G3"]
    assert "缺亩均税收（用地面积（亩） 'n/a' 不是数字）" in zh["G4"]
    assert "缺单位能耗增加值（增加值（万元） -inf 不是有限数）" in zh["G3"]
    assert "缺亩均税收（税收（万元） '约五十' 不是数字）" in zh["G6"]
    assert "缺单位能耗增加值（能耗（吨标煤） 0 不大于 0）" in zh["G4"]
    assert "缺单位能耗增加值（能耗（吨标煤）为空）" in zh["G5"]
    assert "缺亩均税收（数值溢出）" in zh["G7"]
    assert (zh.str.count("缺") == en.str.count("no ")).all()  # one flag each, both languages
    assert not zh.str.contains("tax_per_mu|land_mu|not a number|missing").any()
    # a negative tax is a real value: its ratio clips to 0, not flagged
    assert g.loc["G5", "tax_per_mu"] == -4 and g.loc["G5", "score_tax_per_mu"] == 0
    assert "tax_per_mu" not in g.loc["G5", "flags"]
    assert g.loc["G1", "flags"] == ""
    assert sorted(g["rank"]) == list(range(1, 8))


def test_cli_always_writes_the_workbook_for_hostile_values(tmp_path):
    HOSTILE.to_csv(tmp_path / "e.csv", index=False)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "grade",
            str(tmp_path / "e.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stderr
    out = pd.read_csv(tmp_path / "out" / "grades.csv")
    assert np.isfinite(out["score"]).all() and len(out) == 7
    assert pd.read_excel(tmp_path / "out" / "grades.xlsx", header=1)["总分"].notna().all()


def test_a_missing_column_is_flagged_in_both_languages():
    g = grade(ROWS.drop(columns="rd_10k_yuan")).set_index("enterprise_id")
    assert (g["score_rd_share"] == 0).all()
    assert g["flags"].str.contains("缺研发经费占比（未提供研发经费（万元））", regex=False).all()
    assert g["flags_en"].str.contains("no rd_share (rd_10k_yuan not given)", regex=False).all()
