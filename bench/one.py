"""One classification run, timed per stage: the real ``zoning classify`` path.

Usage: ``python bench/one.py INPUT.gpkg OUTDIR [--config bench/bench.toml] [--profile F]``

Prints one JSON line: plots, seconds per stage (read; each measure kind; decide; assemble;
write), ``total`` (GeoPackage in to written outputs, i.e. the whole ``run_classify`` call),
``import`` (importing zoning and its stack) and ``peak_mib`` (``ru_maxrss`` of this process,
so run it in a fresh process per size). With ``--profile F`` the run is profiled with
cProfile, the stats are saved to F and the top entries are printed on stderr (profiling
slows the run, so its timings are not the benchmark's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

T_START = time.perf_counter()

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "bench" / "bench.toml"
#: Timing keys in table order: zoning's classify timings dict, then the writer.
MEASURE_KEYS = ("area", "boundary", "cluster", "protected", "nearest_park", "village_parks")
STAGES = ("read", *MEASURE_KEYS, "measures", "decide", "assemble", "write")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def rss_mib() -> float:
    """Resident memory now (MiB), from /proc/self/statm."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


class Memory:
    """Quiet progress callable noting memory at each step message: the peak so far and
    the resident size when the step starts (so each phase's peak can be told apart)."""

    def __init__(self):
        self.steps: list[dict] = []

    def __call__(self, message: str) -> None:
        self.steps.append(
            {
                "step": message.split(" ")[0],
                "peak_mib": round(peak_mib()),
                "rss_mib": round(rss_mib()),
            }
        )


def use_source(src: str) -> None:
    """Import ``zoning`` from another checkout's package folder (env ``ZONING_SRC``), e.g.
    a ``git archive`` of a commit, to compare versions; the editable install would win
    over PYTHONPATH."""
    import importlib.util

    init = Path(src) / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "zoning", init, submodule_search_locations=[str(src)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["zoning"] = module
    spec.loader.exec_module(module)


def run(input_path: str, out_dir: str, config: str | None) -> dict:
    t0 = time.perf_counter()
    if os.environ.get("ZONING_SRC"):
        use_source(os.environ["ZONING_SRC"])
    import zoning
    from zoning.outputs import run_classify

    import_s = time.perf_counter() - t0

    memory = Memory()
    t0 = time.perf_counter()
    result = run_classify(
        input_path, out_dir, (config,) if config else (), {}, memory, {"benchmark": "bench/one.py"}
    )
    total = time.perf_counter() - t0
    timings = dict(result.timings)
    record = {
        "plots": len(result.parcels),
        "input": input_path,
        "zoning": str(Path(zoning.__file__).parent),
    }
    record.update({k: round(timings.pop(k, float("nan")), 3) for k in STAGES})
    record.update({k: round(v, 3) for k, v in timings.items()})  # keys added later
    record["total"] = round(total, 3)
    record["import"] = round(import_s, 3)
    record["classes"] = result.parcels["class"].value_counts().to_dict()
    record["village_park_count"] = len(result.village_parks)
    record["memory_at_step"] = memory.steps
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("out_dir")
    parser.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        help="classification TOML (default: bench/bench.toml); '' for none",
    )
    parser.add_argument("--profile", metavar="FILE", help="profile with cProfile into FILE")
    parser.add_argument("--top", type=int, default=30, help="profile entries to print")
    args = parser.parse_args(argv)
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        record = prof.runcall(run, args.input, args.out_dir, args.config or None)
        prof.dump_stats(args.profile)
        stats = pstats.Stats(prof, stream=sys.stderr).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        record["profiled"] = True
    else:
        record = run(args.input, args.out_dir, args.config or None)
    record["peak_mib"] = round(peak_mib(), 1)
    record["process_s"] = round(time.perf_counter() - T_START, 3)
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
