"""Ledger speed (issue: list + ledger + assessment).

    .venv/bin/python bench/ledger_bench.py [--plots 100000] [--rows 10000]

Classifies a synthetic county of N plots (bench/synth.py), builds a ledger of its items,
then times importing a sheet of R rows (in_progress then final statuses, seeded), a
report as of a date: everything `zoning ledger report` writes (progress.csv, towns.csv,
assessment.xlsx, status.gpkg, completion.png), and `verify` (every hash chain recomputed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    import synth

    from zoning import classify, load_config, write_classification
    from zoning.layers import file_sources
    from zoning.ledger import import_sheet, verify
    from zoning.outputs import init_ledger, write_ledger_report
    from zoning.vocab import FINAL_STATUS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plots", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    county = synth.ensure(args.plots, quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = file_sources(county)
        result = classify(sources, config=load_config(ROOT / "bench" / "bench.toml"))
        write_classification(result, tmp / "cls")
        t0 = time.perf_counter()
        n = init_ledger(tmp / "ledger.gpkg", tmp / "cls")
        t_init = time.perf_counter() - t0
        rng = np.random.default_rng(1)
        p = result.parcels.iloc[rng.choice(len(result.parcels), args.rows // 2, replace=False)]
        final = [FINAL_STATUS.get(("parcel", c), "in_progress") for c in p["class"]]
        sheet = pd.concat(
            [
                pd.DataFrame(
                    {
                        "kind": "parcel",
                        "item_id": p["parcel_id"],
                        "status": "in_progress",
                        "date": "2026-04-01",
                        "note": "",
                    }
                ),
                pd.DataFrame(
                    {
                        "kind": "parcel",
                        "item_id": p["parcel_id"],
                        "status": final,
                        "date": "2026-05-01",
                        "note": "完成",
                    }
                ),
            ],
            ignore_index=True,
        )
        sheet.to_csv(tmp / "sheet.csv", index=False)
        t0 = time.perf_counter()
        report = import_sheet(tmp / "ledger.gpkg", tmp / "sheet.csv", "2026-06-01")
        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_ledger_report(tmp / "ledger.gpkg", "2026-05-15", tmp / "report")
        t_report = time.perf_counter() - t0
        t0 = time.perf_counter()
        problems = verify(tmp / "ledger.gpkg")
        t_verify = time.perf_counter() - t0
        assert not problems, problems
    print("| items | sheet rows | accepted | init s | import s | report s | verify s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {n:,} | {len(sheet):,} | {report.accepted:,} | {t_init:.2f} | {t_import:.2f} | "
        f"{t_report:.2f} | {t_verify:.2f} |"
    )


if __name__ == "__main__":
    main()
