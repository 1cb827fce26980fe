"""Memory of the plot 清单 (classified.xlsx) step by step, in one fresh process:

    python bench/plot_list_memory.py OUT/classified.gpkg

Reads a classify run's plots (and its township parks and cluster points), builds
``report.plot_list`` and writes ``report.write_classified_xlsx`` into a temporary folder,
printing the resident size (MiB, ``/proc/self/statm``) after each step and the peak
sampled every 10 ms during it: read, plot_list, county_list, each ``Columns``, the sheets
handed to xlsxwriter (before save) and the save (XML and zip). In a classify run the
same steps run in the forked child beside the GeoPackage writer, on top of the pages it
shares with its parent.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyogrio

from zoning import report

PEAK = [0.0]


def rss() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def sample() -> None:
    while True:
        PEAK[0] = max(PEAK[0], rss())
        time.sleep(0.01)


def step(name: str) -> None:
    time.sleep(0.05)
    print(f"{name:>14}: {rss():7.0f} MiB now, {PEAK[0]:7.0f} MiB peak during", flush=True)
    PEAK[0] = 0.0


def wrap(owner, name: str, label: str, before: str | None = None) -> None:
    real = getattr(owner, name)

    def timed(*args, **kwargs):
        if before:
            step(before)
        out = real(*args, **kwargs)
        step(label)
        return out

    setattr(owner, name, timed)


def main() -> None:
    gpkg = sys.argv[1]
    threading.Thread(target=sample, daemon=True).start()
    layers = set(pyogrio.list_layers(gpkg)[:, 0])

    def read(name):
        return pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True) if name in layers else None

    parcels, parks, points = read("parcels"), read("township_parks"), read("cluster_points")
    step("read")
    listing = report.plot_list(parcels, parks, points)
    step("plot_list")
    wrap(report, "county_list", "county_list")
    real_init = report.Columns.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        step("Columns")

    report.Columns.__init__ = init
    wrap(report, "_store_at_level", "save", before="before save")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report.write_classified_xlsx(listing, Path(tmp) / "classified.xlsx")
        print(f"write_classified_xlsx {time.perf_counter() - t:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak (ru_maxrss) {peak:.0f} MiB")


if __name__ == "__main__":
    main()
