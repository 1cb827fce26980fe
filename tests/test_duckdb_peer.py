"""The DuckDB-spatial peer (bench/duckdb_peer.py) agrees with zoning plot by plot.

The peer is SPEC §4–§5 written as SQL from the SPEC alone; on a generated county of the
benchmark's hardest shape (dense overlapping village clusters, blobby many-vertex layers,
sparse parks) every plot must get the same class, rule and target from both. So the peer
keeps proving zoning's answers whenever the measures are made faster.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import duckdb_peer  # noqa: E402
import shapes  # noqa: E402


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A 2,000-plot 'clusters' county, classified by zoning (real CLI) and by the peer."""
    d = tmp_path_factory.mktemp("peer")
    gpkg = shapes.county(d, "clusters", 2000)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoning",
            "classify",
            str(gpkg),
            "--out",
            str(d / "zoning"),
            "--config",
            str(BENCH / "bench.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    duckdb_peer.run(str(gpkg), str(d / "peer.gpkg"))
    return d


def test_peer_agrees_with_zoning_on_every_plot(county):
    assert (
        duckdb_peer.check(str(county / "peer.gpkg"), str(county / "zoning" / "classified.gpkg"))
        == 0
    )
    # the comparison means something: every rule of the table decides some plot
    rules = pyogrio.read_dataframe(county / "peer.gpkg", read_geometry=False)["rule"]
    assert set(rules) == {"V1", "V2", "V3", "C1", "C2", "R1", "R2"}
    assert len(rules) == 2000


def test_checker_sees_one_changed_plot(county, tmp_path):
    zoning = pyogrio.read_dataframe(county / "zoning" / "classified.gpkg", layer="parcels")
    row = zoning.index[zoning["rule"] == "C2"][0]
    zoning.loc[row, ["class", "rule"]] = ["vacate", "V2"]
    changed = tmp_path / "changed.gpkg"
    pyogrio.write_dataframe(zoning, changed, layer="parcels")
    assert duckdb_peer.check(str(county / "peer.gpkg"), str(changed)) == 1
