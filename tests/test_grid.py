"""The safety grid (SPEC §12): window edges, missed months and quarters, officers,
rejected meeting rows, cluster bodies, and `zoning grid` end to end."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from zoning.errors import LayerError
from zoning.grid import safety_grid, window

VILLAGES = pd.DataFrame(
    {
        "town": ["甲镇", "甲镇", "乙镇"],
        "village": ["东村", "西村", "南村"],
        "safety_officer": ["张三", "", "李四"],
    }
)


def monthly(town, village, months, day=15, level="village"):
    return [
        {"date": f"{m}-{day:02d}", "level": level, "town": town, "village": village} for m in months
    ]


def months_of(year_from, month_from, n=12):
    p = pd.Period(f"{year_from}-{month_from:02d}", freq="M")
    return [str(p + k) for k in range(n)]


def everything_held(as_of="2026-11-30"):
    """Every village meets every month and every town every month of the window."""
    months, _ = window(as_of)
    rows = []
    for t, v in zip(VILLAGES["town"], VILLAGES["village"], strict=True):
        rows += monthly(t, v, months)
    for t in ("甲镇", "乙镇"):
        rows += monthly(t, "", months, day=20, level="town")
    return rows


@pytest.mark.parametrize(
    "as_of,first,last,quarters",
    [
        ("2026-11-30", "2025-12", "2026-11", ["2026-Q1", "2026-Q2", "2026-Q3"]),  # last day
        ("2026-12-01", "2025-12", "2026-11", ["2026-Q1", "2026-Q2", "2026-Q3"]),  # first day
        ("2026-11-29", "2025-11", "2026-10", ["2026-Q1", "2026-Q2", "2026-Q3"]),
        ("2026-12-31", "2026-01", "2026-12", ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]),
        ("2026-12-30", "2025-12", "2026-11", ["2026-Q1", "2026-Q2", "2026-Q3"]),  # Q4 not ended
        ("2024-02-29", "2023-03", "2024-02", ["2023-Q2", "2023-Q3", "2023-Q4"]),
        ("2024-02-28", "2023-02", "2024-01", ["2023-Q2", "2023-Q3", "2023-Q4"]),
        ("2026-10-01", "2025-10", "2026-09", ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]),
    ],
)
def test_window_edges(as_of, first, last, quarters):
    months, got = window(as_of)
    assert len(months) == 12 and months[0] == first and months[-1] == last
    assert got == quarters


def test_all_held_gives_only_the_missing_officer():
    res = safety_grid(VILLAGES, pd.DataFrame(everything_held()), as_of="2026-11-30")
    assert res.findings[["finding", "town", "village"]].values.tolist() == [
        ["no_officer", "甲镇", "西村"]
    ]
    assert "安管员" in res.findings["reason"].iat[0]
    assert len(res.rejected) == 0


def test_a_missing_month_and_a_missing_quarter():
    rows = [
        r
        for r in everything_held()
        if not (r["village"] == "东村" and r["date"].startswith("2026-03"))
        and not (
            r["level"] == "town"
            and r["town"] == "乙镇"
            and r["date"][:7] in ("2026-04", "2026-05", "2026-06")
        )
    ]
    res = safety_grid(VILLAGES, pd.DataFrame(rows), as_of="2026-11-30")
    f = res.findings.set_index("finding")
    assert f.loc[["missed_month"]].values.tolist() == [
        [
            "甲镇",
            "东村",
            "",
            "2026-03",
            "甲镇东村 2026-03 无村级月度例会记录（no village meeting in the month）",
        ]
    ]
    assert f.loc[["missed_quarter"], ["town", "period"]].values.tolist() == [["乙镇", "2026-Q2"]]
    towns = res.towns.set_index("town")
    assert towns.columns.tolist() == ["villages", "no_officer", "missed_months", "missed_quarters"]
    assert towns.loc["甲镇"].tolist() == [2, 1, 1, 0]
    assert towns.loc["乙镇"].tolist() == [1, 0, 0, 1]


def test_meetings_after_the_date_are_ignored_and_the_last_day_counts():
    months = months_of(2025, 12, 11)  # 2025-12 .. 2026-10, November missing
    rows = monthly("乙镇", "南村", months)
    late = monthly("乙镇", "南村", ["2026-11"], day=30)
    after = monthly("乙镇", "南村", ["2026-11"], day=30)
    on_day = safety_grid(VILLAGES.iloc[[2]], pd.DataFrame(rows + late), as_of="2026-11-30")
    assert "missed_month" not in set(on_day.findings["finding"])
    before = safety_grid(VILLAGES.iloc[[2]], pd.DataFrame(rows + after), as_of="2026-12-01")
    assert "missed_month" not in set(before.findings["finding"])
    # as of the 29th, November is not in the window: the window is 2025-11 .. 2026-10
    early = safety_grid(VILLAGES.iloc[[2]], pd.DataFrame(rows + late), as_of="2026-11-29")
    assert early.findings.loc[early.findings["finding"] == "missed_month", "period"].tolist() == [
        "2025-11"
    ]
    # a meeting dated after D does not count: as of 2026-11-30 without the 30th's meeting
    missing = safety_grid(
        VILLAGES.iloc[[2]],
        pd.DataFrame(rows + monthly("乙镇", "南村", ["2026-12"], day=1)),
        as_of="2026-11-30",
    )
    assert missing.findings.loc[
        missing.findings["finding"] == "missed_month", "period"
    ].tolist() == ["2026-11"]


def test_a_town_meeting_naming_a_village_counts_for_the_town_only():
    months, _ = window("2026-11-30")
    rows = monthly("乙镇", "南村", months, level="town")
    res = safety_grid(VILLAGES.iloc[[2]], pd.DataFrame(rows), as_of="2026-11-30")
    kinds = res.findings["finding"].value_counts().to_dict()
    assert kinds == {"missed_month": 12}


def test_rejected_meeting_rows_carry_their_row_and_reason():
    rows = everything_held() + [
        {"date": "2026-02-30", "level": "village", "town": "甲镇", "village": "东村"},
        {"date": "2026-03-01", "level": "county", "town": "甲镇", "village": "东村"},
        {"date": "2026-03-01", "level": "village", "town": "丙镇", "village": "东村"},
        {"date": "2026-03-01", "level": "village", "town": "乙镇", "village": "东村"},
        {"date": "2026-03-01", "level": "村级", "town": "甲镇", "village": ""},
        {"date": "2026年3月5日", "level": "镇级", "town": "甲镇", "village": None},
    ]
    n = len(everything_held())
    res = safety_grid(VILLAGES, pd.DataFrame(rows), as_of="2026-11-30")
    rej = res.rejected
    assert rej["row"].tolist() == [n + 2, n + 3, n + 4, n + 5, n + 6]  # header is row 1
    reasons = rej["reason"].tolist()
    assert "not a date" in reasons[0] and "level" in reasons[1]
    assert "unknown town" in reasons[2] and "unknown village" in reasons[3]
    assert "naming no village" in reasons[4]
    assert rej.columns[:2].tolist() == ["row", "reason"]


def test_no_officer_when_the_column_is_missing():
    res = safety_grid(
        VILLAGES.drop(columns="safety_officer"), pd.DataFrame(everything_held()), as_of="2026-11-30"
    )
    assert res.findings["finding"].tolist() == ["no_officer"] * 3


def test_a_village_listed_twice_is_one_error():
    villages = pd.concat([VILLAGES, VILLAGES.iloc[[0]]], ignore_index=True)
    with pytest.raises(LayerError, match="more than once"):
        safety_grid(villages, pd.DataFrame(everything_held()), as_of="2026-11-30")


def test_clusters_without_bodies_are_listed_with_their_own_town():
    clusters = pd.DataFrame(
        {
            "cluster_id": ["K1", "K2", "K3", "K4"],
            "town": ["丙镇", "甲镇", "甲镇", "乙镇"],
            "management_body": ["是", "是", None, "否"],
            "safety_body": ["是", "", "是", "否"],
        }
    )
    res = safety_grid(
        VILLAGES, pd.DataFrame(everything_held()), as_of="2026-11-30", clusters=clusters
    )
    f = res.findings[res.findings["finding"] == "cluster_no_body"].sort_values("cluster_id")
    assert f[["cluster_id", "town"]].values.tolist() == [
        ["K2", "甲镇"],
        ["K3", "甲镇"],
        ["K4", "乙镇"],
    ]
    assert "安全监管机构" in f["reason"].iat[0] and "园区管理机构和" in f["reason"].iat[2]


def write_csv(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return str(path)


def test_cli_end_to_end(tmp_path, classified):
    villages = write_csv(
        tmp_path / "villages.csv",
        VILLAGES.rename(
            columns={"town": "镇街", "village": "村", "safety_officer": "安管员"}
        ).to_dict("records"),
    )
    rows = everything_held() + [
        {"date": "not a day", "level": "village", "town": "甲镇", "village": "东村"}
    ]
    meetings = write_csv(tmp_path / "meetings.csv", rows)
    out = tmp_path / "grid"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "grid",
            villages,
            meetings,
            "--as-of",
            "2026-11-30",
            "--clusters",
            str(classified),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "no_officer 1" in res.stdout and "cluster_no_body 1" in res.stdout
    grid = pd.read_csv(out / "grid.csv", dtype=str, keep_default_na=False)
    assert grid.columns.tolist() == ["finding", "town", "village", "cluster_id", "period", "reason"]
    assert sorted(grid["finding"]) == ["cluster_no_body", "no_officer"]
    assert grid.loc[grid["finding"] == "cluster_no_body", "cluster_id"].tolist() == ["K1"]
    towns = pd.read_csv(out / "grid_towns.csv")
    assert towns.columns.tolist() == [
        "town",
        "villages",
        "no_officer",
        "missed_months",
        "missed_quarters",
    ]
    rejected = pd.read_csv(out / "meetings.rejected.csv")
    assert rejected["row"].tolist() == [len(rows) + 1]
    book = pd.read_excel(out / "grid.xlsx", sheet_name=None, header=1)
    assert list(book) == ["镇街汇总", "问题清单", "退回记录"]
    assert set(book["问题清单"]["问题类型"]) == {"未配备安管员", "集聚点未设管理/安全监管机构"}


def test_cli_bad_date_is_one_line(tmp_path):
    villages = write_csv(tmp_path / "v.csv", VILLAGES.to_dict("records"))
    meetings = write_csv(tmp_path / "m.csv", everything_held())
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "grid",
            villages,
            meetings,
            "--as-of",
            "2026-13-01",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: --as-of")


def test_the_sample_grid_has_every_finding_and_its_mistakes_rejected():
    from pathlib import Path

    from zoning.layers import read_table
    from zoning.sample import GRID_AS_OF

    data = Path(__file__).resolve().parents[1] / "data"
    villages = read_table(data / "villages.csv", "villages", keys=("village",))
    meetings = read_table(data / "meetings.csv", "meetings", keys=("date",))
    import pyogrio

    clusters = pyogrio.read_dataframe(
        data / "sample_county.gpkg", layer="cluster_points", read_geometry=False
    )
    res = safety_grid(villages, meetings, as_of=GRID_AS_OF, clusters=clusters)
    counts = res.findings["finding"].value_counts()
    assert set(counts.index) == {"no_officer", "missed_month", "missed_quarter", "cluster_no_body"}
    assert counts["missed_month"] < 0.1 * 12 * len(villages)  # gaps, not an empty log
    assert len(res.rejected) == 5 and res.rejected["row"].is_monotonic_increasing
    assert res.months[0] == "2025-06" and res.months[-1] == "2026-05"


def test_the_sample_generator_gives_the_committed_grid_tables(tmp_path):
    from pathlib import Path

    from zoning.sample import write_grid_sample

    data = Path(__file__).resolve().parents[1] / "data"
    files = write_grid_sample(data / "sample_county.gpkg", tmp_path)
    for name, path in files.items():
        assert path.read_bytes() == (data / f"{name}.csv").read_bytes(), name


def test_zoning_sample_writes_the_grid_tables_beside_the_county(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "zoning", "sample", "--out", str(tmp_path / "county.gpkg")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    villages = pd.read_csv(tmp_path / "villages.csv", encoding="utf-8-sig")
    meetings = pd.read_csv(tmp_path / "meetings.csv", encoding="utf-8-sig")
    assert villages.columns.tolist() == ["town", "village", "safety_officer"]
    assert meetings.columns.tolist() == ["date", "level", "town", "village"]
    assert len(villages) > 300 and len(meetings) > 10 * len(villages)
