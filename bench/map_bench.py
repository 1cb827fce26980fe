"""Map size and drawing time in headless Chromium (issue: maps for meetings).

    .venv/bin/python bench/map_bench.py [--sizes sample,50000] [--decimals 6,5]

For each county (the bundled sample, or a synthetic one of N plots from bench/synth.py)
it classifies once, writes the offline county map, and opens it in Debian's Chromium
with the network cut off, timing from navigation start until every layer is drawn
(two animation frames after the page script returned). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
DRAWN = """() => new Promise(resolve => requestAnimationFrame(
    () => requestAnimationFrame(() => resolve(performance.now()))))"""


def county(size: str) -> Path:
    if size == "sample":
        return ROOT / "data" / "sample_county.gpkg"
    import synth

    return synth.ensure(int(size), quiet=True)


def draw_seconds(browser, html: Path, runs: int = 3) -> float:
    """Median seconds from navigation start to the drawn map (network cut off)."""
    times = []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route("http*://**", lambda route: route.abort())
        page.goto(html.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function("window.zoningLayers !== undefined", timeout=120_000)
        times.append(page.evaluate(DRAWN) / 1000.0)
        page.close()
    return sorted(times)[len(times) // 2]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from zoning import classify, load_config
    from zoning.layers import file_sources
    from zoning.maps import build_map, write_map

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="sample,50000")
    parser.add_argument("--decimals", default="6,5")
    args = parser.parse_args()
    rows = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for size in args.sizes.split(","):
            path = county(size)
            sources = file_sources(path)
            result = classify(sources, config=load_config())
            data = {"parcels": result.parcels, "village_parks": result.village_parks}
            for name in ("towns", "dev_boundary", "township_parks", "cluster_points", "protected"):
                data[name] = getattr(result.layers, name)
            for decimals in (int(d) for d in args.decimals.split(",")):
                html = Path(tmp) / f"map_{size}_{decimals}.html"
                t0 = time.perf_counter()
                write_map(build_map(data, decimals=decimals), html)
                build_s = time.perf_counter() - t0
                mb = html.stat().st_size / 1e6
                drawn = draw_seconds(browser, html)
                rows.append((size, len(result.parcels), decimals, mb, build_s, drawn))
                print(
                    f"{size}: {len(result.parcels)} plots, 1e-{decimals}°: {mb:.1f} MB, "
                    f"built {build_s:.1f} s, drawn {drawn:.2f} s",
                    flush=True,
                )
        browser.close()
    print("\n| county | plots | coordinate precision | HTML MB | build s | drawn in Chromium s |")
    print("|---|---:|---:|---:|---:|---:|")
    for size, n, d, mb, b, drawn in rows:
        print(f"| {size} | {n:,} | 1e-{d}° | {mb:.1f} | {b:.1f} | {drawn:.2f} |")


if __name__ == "__main__":
    main()
