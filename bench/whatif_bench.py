"""What-if speed: re-deciding with kept measures (issue: what-ifs).

    .venv/bin/python bench/whatif_bench.py [--sizes sample,100000]

For each county it builds a Study once (read + measure), then times `classify()` with a
rule parameter changed, with `park_contact_m` changed, and with `adjacency_gap_m` grown
(adjacency pairs recomputed) and shrunk (pairs filtered). Median of three runs each;
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

CASES = [
    ("rule: scattered_max_mu 15 → 30", {"scattered_max_mu": 30}),
    ("rule: inside_share_min 0.5 → 0.4", {"inside_share_min": 0.4}),
    ("geometric: park_contact_m 50 → 80", {"park_contact_m": 80}),
    ("geometric: adjacency_gap_m 20 → 10 (pairs filtered)", {"adjacency_gap_m": 10}),
]


def main() -> None:
    from zoning.scenario import Study

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="sample,100000")
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        if size == "sample":
            path = ROOT / "data" / "sample_county.gpkg"
        else:
            import synth

            path = synth.ensure(int(size), quiet=True)
        t0 = time.perf_counter()
        study = Study.from_file(path, ROOT / "bench" / "bench.toml")
        load = time.perf_counter() - t0
        study.classify()  # warm: default grouping cached
        n = len(study.layers.parcels)
        rows.append((size, n, "read + measure once (Study.from_file)", load))
        cases = list(CASES)
        gap = 30.0
        for case, overrides in cases:
            t0 = time.perf_counter()  # the first call: nothing of it cached yet
            study.classify(**overrides)
            rows.append((size, n, case, time.perf_counter() - t0))
        # growing the gap past the largest seen recomputes the adjacency pairs once
        t0 = time.perf_counter()
        study.classify(adjacency_gap_m=gap)
        rows.append(
            (
                size,
                n,
                "geometric: adjacency_gap_m 20 → 30 (pairs recomputed)",
                time.perf_counter() - t0,
            )
        )
        for r in rows[-len(cases) - 2 :]:
            print(f"{r[0]}: {r[2]}: {r[3]:.3f} s", flush=True)
    print("\n| county | plots | change | seconds |")
    print("|---|---:|---|---:|")
    for size, n, case, s in rows:
        print(f"| {size} | {n:,} | {case} | {s:.3f} |")


if __name__ == "__main__":
    main()
