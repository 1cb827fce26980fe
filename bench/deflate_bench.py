"""The zip deflate of a workbook at several zlib levels: every part of an .xlsx (e.g. a
classify run's classified.xlsx) compressed again, levels interleaved per round.

Usage: ``python bench/deflate_bench.py BOOK.xlsx [--levels 1,3,6] [--rounds 3]``
or ``python bench/deflate_bench.py --gpkg OUT/classified.gpkg [--levels 2,6]``

Prints one line per round and level: seconds to deflate all parts (``zlib.compressobj``
as :mod:`zipfile` uses it: raw deflate, the level given) and the compressed size in MiB,
then the uncompressed size. Level 6 is zlib's default, xlsxwriter's (``ZipFile`` without
``compresslevel``). With ``--gpkg`` (a classify run's output): the whole
``report.write_classified_xlsx`` of its plot list instead, at each ``report.ZIP_LEVEL``,
in this process (the plot list built once), and the file's size.
"""

from __future__ import annotations

import argparse
import time
import zipfile
import zlib


def deflate(data: bytes, level: int) -> int:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return len(c.compress(data)) + len(c.flush())


def whole_writer(gpkg: str, levels: list[int], rounds: int) -> None:
    import os
    import tempfile

    import pyogrio

    from zoning import report

    layers = set(pyogrio.list_layers(gpkg)[:, 0])

    def read(name):
        return pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True) if name in layers else None

    listing = report.plot_list(read("parcels"), read("township_parks"), read("cluster_points"))
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(1, rounds + 1):
            for level in levels:
                report.ZIP_LEVEL = level
                target = os.path.join(tmp, f"classified_{level}.xlsx")
                t = time.perf_counter()
                report.write_classified_xlsx(listing, target)
                dt = time.perf_counter() - t
                size = os.path.getsize(target) / 2**20
                print(f"round {r} level {level}: write_classified_xlsx {dt:.3f} s, {size:.2f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("book", nargs="?")
    ap.add_argument("--gpkg")
    ap.add_argument("--levels", default="1,3,6")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.gpkg:
        whole_writer(args.gpkg, [int(v) for v in args.levels.split(",")], args.rounds)
        return
    with zipfile.ZipFile(args.book) as z:
        parts = [z.read(n) for n in z.namelist()]
    raw = sum(map(len, parts))
    levels = [int(v) for v in args.levels.split(",")]
    for r in range(1, args.rounds + 1):
        for level in levels:
            t = time.perf_counter()
            size = sum(deflate(p, level) for p in parts)
            dt = time.perf_counter() - t
            print(f"round {r} level {level}: {dt:.3f} s, {size / 2**20:.2f} MiB", flush=True)
    print(f"{len(parts)} parts, {raw / 2**20:.2f} MiB uncompressed")


if __name__ == "__main__":
    main()
