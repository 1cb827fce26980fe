"""The one-pass sheet writer (``report._SheetData``, issue 17) against xlsxwriter's own
cell-by-cell writer, on a plot-list-shaped table, interleaved in one run:

    .venv/bin/python bench/sheet_bench.py [--rows 200000] [--rounds 3]

Each round writes the same workbook (a county sheet and one sheet per town, as the plot
清单 does) both ways and checks the two files are the same bytes. Prints seconds per round.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from zoning import report
from zoning.report import Columns, _formats, _SheetData, excel_writer


def plot_list(n: int, seed: int = 17) -> pd.DataFrame:
    """A seeded table shaped like the plot 清单: ids, 60 towns, villages, enterprises,
    class and rule words, a reason sentence with numbers, areas."""
    rng = np.random.default_rng(seed)
    towns = np.array([f"镇街{k:02d}" for k in range(60)], dtype=object)
    town = towns[rng.integers(0, len(towns), n)]
    classes = np.array(["保留提升", "纳入镇级园区", "腾挪清退"], dtype=object)
    mu = rng.gamma(2.0, 3.0, n).round(2)
    share = rng.uniform(0, 1, n).round(3)
    return pd.DataFrame(
        {
            "编号": [f"P{i:07d}" for i in range(n)],
            "镇街": town,
            "村": [f"{t}{k}村" for t, k in zip(town, rng.integers(0, 20, n), strict=True)],
            "企业": [f"企业{k:05d}" for k in rng.integers(0, n // 3 + 1, n)],
            "面积（亩）": mu,
            "分类": classes[rng.integers(0, 3, n)],
            "规则": np.array(["R1", "R2", "R3", "R4"], dtype=object)[rng.integers(0, 4, n)],
            "依据": [
                f"开发边界内占比 {s:.1%}，面积 {m:.2f} 亩" for s, m in zip(share, mu, strict=True)
            ],
        }
    )


def write(path: Path, table: pd.DataFrame, fast: bool) -> float:
    """Seconds to write the county sheet and one sheet per town; ``fast`` False: every
    column cell by cell through xlsxwriter (its own Packager too)."""
    from xlsxwriter.packager import Packager

    patches = (
        []
        if fast
        else [
            mock.patch.object(_SheetData, "add", lambda self, *a: False),
            mock.patch.object(report, "_packager_class", lambda: Packager),
        ]
    )
    for p in patches:
        p.start()
    try:
        t0 = time.perf_counter()
        towns = table["镇街"].to_numpy()
        order = np.argsort(towns, kind="stable")
        by_town = table.iloc[order].reset_index(drop=True)
        bounds = np.flatnonzero(
            np.r_[True, by_town["镇街"].to_numpy()[1:] != by_town["镇街"].to_numpy()[:-1], True]
        )
        with excel_writer(path) as xl:
            fmt = _formats(xl.book)
            Columns(table, where="全县").sheet(xl, "全县", "清单", fmt, freeze_cols=2)
            sheet = Columns(by_town, where="镇街")
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                sheet.sheet(xl, str(by_town["镇街"].iloc[a]), "清单", fmt, a, b, freeze_cols=2)
        return time.perf_counter() - t0
    finally:
        for p in patches:
            p.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    table = plot_list(args.rows)
    print(f"{args.rows:,} rows; county sheet + {table['镇街'].nunique()} town sheets")
    print("| round | one-pass writer s | xlsxwriter cell by cell s | same bytes |")
    print("|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            fast = write(Path(tmp) / "fast.xlsx", table, True)
            slow = write(Path(tmp) / "slow.xlsx", table, False)
            same = (Path(tmp) / "fast.xlsx").read_bytes() == (Path(tmp) / "slow.xlsx").read_bytes()
            print(f"| {r + 1} | {fast:.2f} | {slow:.2f} | {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
