"""Whole-process benchmark on counties of several shapes (issue 17): floor, DuckDB, zoning.

For each shape and size (files from :mod:`bench.shapes`), each round runs, one after the
other in a fresh process each:

- ``floor``: read the parcels with pyogrio (``use_arrow``) and write them back to a
  GeoPackage: the I/O nothing can avoid;
- ``duckdb``: the DuckDB-spatial peer of SPEC §4–§5 (``bench/duckdb_peer.py run``);
- ``zoning``: ``python -m zoning classify FILE --out DIR --config bench/bench.toml``.

Rounds are interleaved (round 1 of every tool on every file, then round 2, …), so load
from other work on the machine falls on all of them alike. Wall time and peak RSS are of
the whole child process (``os.wait4``). Prints a table per shape (min and median of the
rounds, peak memory) and appends every run as a JSON line to ``--log``.

Usage: ``python bench/shapes_bench.py DATADIR [--shapes clusters,roads,tiles]
[--sizes 100000] [--rounds 3] [--check] [--baseline DIR]`` (``--check``: compare the peer's answers with
zoning's after each round; the counties are made by ``bench/shapes.py DATADIR`` first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
TOOLS = ("floor", "duckdb", "zoning", "zoning_base")

FLOOR = """
import sys, pyogrio
df = pyogrio.read_dataframe(sys.argv[1], layer="parcels", use_arrow=True)
pyogrio.write_dataframe(df, sys.argv[2], layer="parcels", driver="GPKG", use_arrow=True)
"""


#: ``--baseline DIR``: a copy of an older ``zoning`` package run as tool ``zoning_base``.
BASELINE: dict[str, str] = {}


def command(tool: str, county: Path, out: Path) -> list[str]:
    if tool == "floor":
        return [PY, "-c", FLOOR, str(county), str(out / "floor.gpkg")]
    if tool == "duckdb":
        return [PY, str(HERE / "duckdb_peer.py"), "run", str(county), str(out / "peer.gpkg")]
    if tool == "zoning_base":
        return [
            "env",
            f"PYTHONPATH={BASELINE['dir']}",
            PY,
            "-m",
            "zoning",
            "classify",
            str(county),
            "--out",
            str(out / "base"),
            "--config",
            str(HERE / "bench.toml"),
        ]
    return [
        PY,
        "-m",
        "zoning",
        "classify",
        str(county),
        "--out",
        str(out / "zoning"),
        "--config",
        str(HERE / "bench.toml"),
    ]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process; raises when it fails."""
    t0 = time.perf_counter()
    # the baseline runs from its own folder: ``python -m`` puts the working folder first
    cwd = BASELINE["dir"] if cmd[:2] == ["env", f"PYTHONPATH={BASELINE.get('dir')}"] else None
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def clean(out: Path) -> None:
    for p in (out / "floor.gpkg", out / "peer.gpkg"):
        p.unlink(missing_ok=True)


def table(shape: str, runs: list[dict]) -> str:
    lines = [
        f"## {shape}",
        "",
        "| plots | tool | wall min (s) | wall median (s) | × floor (median) | peak MiB | runs |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n in sorted({r["plots"] for r in runs}):
        floor = [r["wall"] for r in runs if r["plots"] == n and r["tool"] == "floor"]
        floor_med = statistics.median(floor) if floor else float("nan")
        for tool in TOOLS:
            w = [r["wall"] for r in runs if r["plots"] == n and r["tool"] == tool]
            m = [r["peak_mib"] for r in runs if r["plots"] == n and r["tool"] == tool]
            if not w:
                continue
            med = statistics.median(w)
            lines.append(
                f"| {n:,} | {tool} | {min(w):.2f} | {med:.2f} | "
                f"{med / floor_med:.1f}× | {max(m):.0f} | {len(w)} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder of bench/shapes.py counties")
    parser.add_argument("--shapes", default="clusters,roads,tiles")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS[:3]))
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the peer with zoning plot by plot after each round",
    )
    parser.add_argument(
        "--baseline", type=Path, help="folder holding an older zoning/ package, run as zoning_base"
    )
    parser.add_argument("--log", type=Path, default=ROOT / "bench" / "_data" / "shapes.jsonl")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import shapes

    tools = args.tools.split(",")
    if args.baseline:
        BASELINE["dir"] = str(args.baseline.resolve())
        tools.append("zoning_base")
    files = [
        (s, int(n), shapes.county(args.data, s, int(n)))
        for s in args.shapes.split(",")
        for n in args.sizes.split(",")
    ]
    args.log.parent.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="shapes_bench_") as tmp:
        for rnd in range(args.rounds):
            for shape, n, county in files:
                out = Path(tmp) / f"{shape}_{n}"
                out.mkdir(exist_ok=True)
                for tool in tools:
                    wall, peak = timed(command(tool, county, out))
                    run = {
                        "shape": shape,
                        "plots": n,
                        "tool": tool,
                        "round": rnd,
                        "wall": round(wall, 3),
                        "peak_mib": round(peak, 1),
                        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }
                    runs.append(run)
                    print(json.dumps(run), file=sys.stderr, flush=True)
                    with open(args.log, "a") as fh:
                        fh.write(json.dumps(run) + "\n")
                if args.check and {"duckdb", "zoning"} <= set(tools):
                    # in a child: reading the outputs here would grow this process, and a
                    # child's ru_maxrss starts from the parent's size at fork
                    check = subprocess.run(
                        [
                            PY,
                            str(HERE / "duckdb_peer.py"),
                            "check",
                            str(out / "peer.gpkg"),
                            str(out / "zoning" / "classified.gpkg"),
                        ],
                        capture_output=True,
                        text=True,
                    )
                    print(
                        json.dumps({"shape": shape, "plots": n, "check": check.stdout.strip()}),
                        file=sys.stderr,
                        flush=True,
                    )
                    if check.returncode:
                        raise SystemExit(
                            f"{shape} {n}: plots differ from the peer\n{check.stderr[-2000:]}"
                        )
                clean(out)
    for shape in dict.fromkeys(s for s, _, _ in files):
        print(table(shape, [r for r in runs if r["shape"] == shape]) + "\n")


if __name__ == "__main__":
    main()
