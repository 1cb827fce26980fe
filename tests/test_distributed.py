"""Issue 20: ``zoning partition`` and ``zoning classify --engine dask`` give the
single-process answer plot by plot, with village parks across partition and county
borders; a killed worker or a bad partition."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import shapely
from province import compare  # noqa: E402  (bench/province.py: one plot-by-plot check)

from zoning.cli import Progress, resolve_inputs, run_classify
from zoning.config import load_config
from zoning.distributed import Engine, classify_dataset, partition
from zoning.measures import MEASURE_COLUMNS
from zoning.report import summarise, write_csv

CRS = "EPSG:4549"
X0, Y0 = 520_000.0, 3_340_000.0


def county_layers(seed: int = 7, nx: int = 36, ny: int = 30) -> dict[str, gpd.GeoDataFrame]:
    """A small county on a grid of 12 m squares: gaps of 4 m (linked) or 25 m (not) cut
    it into chains of plots, long ones crossing the middle where the county border and
    the partitions cut it."""
    rng = np.random.default_rng(seed)
    gx = np.where(rng.random(nx) < 0.6, 4.0, 25.0)
    gy = np.where(rng.random(ny) < 0.6, 4.0, 25.0)
    gx[nx // 2 - 1] = 4.0  # the county border runs through a 4 m gap
    xs = X0 + np.r_[0, np.cumsum(12 + gx[:-1])]
    ys = Y0 + np.r_[0, np.cumsum(12 + gy[:-1])]
    cx, cy = np.meshgrid(xs, ys)
    cx, cy = cx.ravel(), cy.ravel()
    keep = rng.random(cx.size) < 0.8
    cx, cy = cx[keep], cy[keep]
    n = cx.size
    w = 12 - rng.random(n) * 3
    geoms = shapely.box(cx, cy, cx + w, cy + 12 - rng.random(n) * 3)
    ids = np.array([f"P{i:05d}" for i in rng.permutation(n)])
    geoms[5] = None  # unclassified (no geometry)
    x, y = cx[9], cy[9]  # a bow tie: repaired, reported
    geoms[9] = shapely.Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
    xmax, ymax = xs[-1] + 12, ys[-1] + 12
    mid = xs[nx // 2] - 2.0
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ids,
            "eco_friendly": rng.random(n) < 0.3,
            "built_year": np.where(rng.random(n) < 0.1, 2023, 2005),
            "county": np.where(cx < mid, "west", "east"),
        },
        geometry=geoms,
        crs=CRS,
    )
    boundary = gpd.GeoDataFrame(
        geometry=[shapely.box(X0 - 50, Y0 - 50, mid + 40, ymax + 50)], crs=CRS
    )
    parks = gpd.GeoDataFrame(
        {"park_id": ["TP1", "TP2", "TP3"]},
        geometry=[
            shapely.box(X0 + 100, Y0 - 70, X0 + 300, Y0 - 30),
            shapely.box(mid - 20, ymax + 20, mid + 120, ymax + 90),
            shapely.box(xmax + 25, Y0 + 100, xmax + 200, Y0 + 250),
        ],
        crs=CRS,
    )
    clusters = gpd.GeoDataFrame(
        {"cluster_id": ["K1", "K2"]},
        geometry=[
            shapely.box(X0 + 200, Y0 + 200, X0 + 320, Y0 + 290),
            shapely.box(mid + 50, Y0 + 60, mid + 160, Y0 + 150),
        ],
        crs=CRS,
    )
    protected = gpd.GeoDataFrame(
        {"kind": ["farmland"]},
        geometry=[shapely.box(xmax - 90, ymax - 90, xmax + 10, ymax + 10)],
        crs=CRS,
    )
    towns = gpd.GeoDataFrame(
        {"town": ["东镇", "西镇"]},
        geometry=[
            shapely.box(mid - 100, Y0 - 100, xmax + 300, ymax + 200),
            shapely.box(X0 - 100, Y0 - 100, mid - 100, ymax + 200),
        ],
        crs=CRS,
    )
    return {
        "parcels": parcels,
        "dev_boundary": boundary,
        "township_parks": parks,
        "cluster_points": clusters,
        "protected": protected,
        "towns": towns,
    }


def write_gpkg(path: Path, layers: dict) -> Path:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, engine="pyogrio")
    return path


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of 2 worker processes for the module (what --scheduler points at)."""
    from distributed import Client, LocalCluster

    lc = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="1GiB",
        dashboard_address=None,
    )
    client = Client(lc)
    yield lc, client
    client.close()
    lc.close()


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The county as one GeoPackage (classified by one process) and as two county files
    (west, east) whose border cuts village parks; their plots in the same order."""
    d = tmp_path_factory.mktemp("province")
    layers = county_layers()
    p = layers["parcels"]
    order = pd.concat([p[p.county == "west"], p[p.county == "east"]])
    write_gpkg(d / "all.gpkg", {**layers, "parcels": order})
    for c in ("west", "east"):
        write_gpkg(d / f"{c}.gpkg", {**layers, "parcels": p[p.county == c]})
    run_classify(str(d / "all.gpkg"), d / "one", (), {}, Progress(quiet=True))
    one = gpd.read_file(d / "one" / "classified.gpkg", layer="parcels")
    return d, one


def make_dataset(d: Path, name: str, *inputs, rows=None) -> Path:
    """``zoning partition INPUT… --out d/name [--rows-per-part rows]`` (in this process)."""
    out = d / name
    if not out.exists():
        partition(
            [(Path(i).stem, resolve_inputs(str(i), {})) for i in inputs],
            out,
            load_config(),
            rows_per_part=rows,
        )
    return out


def run_dask(cluster, dataset: Path, out: Path):
    return classify_dataset(
        dataset, out, load_config(), Engine(scheduler=cluster[0].scheduler_address)
    )


def assert_same(one: gpd.GeoDataFrame, folder: Path) -> gpd.GeoDataFrame:
    """Every column of every plot equal (floats bit for bit), the same column order."""
    dk = gpd.read_parquet(folder / "parcels")
    assert list(dk.columns) == list(one.columns)
    assert len(dk) == len(one) and dk["parcel_id"].is_unique
    # the comparison the province benchmark reports (bench/province.py), so the two agree
    assert compare(one, folder)["differ"] == {}
    return dk


def assert_same_parks(d: Path, folder: Path) -> gpd.GeoDataFrame:
    """The ``village_parks`` dataset is the single-process layer: every column of every
    park equal (floats bit for bit), each shape the same point set (its pieces dissolved
    in another order may list their vertices in another order)."""
    one = gpd.read_file(d / "one" / "classified.gpkg", layer="village_parks")
    dk = gpd.read_parquet(folder / "village_parks")
    dk = dk.sort_values("village_park_id", kind="stable").reset_index(drop=True)
    assert list(dk.columns) == list(one.columns)
    pd.testing.assert_frame_equal(
        dk.drop(columns="geometry"),
        one.drop(columns="geometry"),
        check_dtype=False,
        check_exact=True,
    )
    assert shapely.equals(dk.geometry.array, one.geometry.array).all()
    return dk


def test_partition_writes_a_dataset(county):
    """Two county files cut into files of ≤ 120 plots along the Hilbert curve: every plot
    once, in county order, with its county and source row; context beside it."""
    import dask_geopandas

    d, one = county
    ds = make_dataset(d, "ds120", d / "west.gpkg", d / "east.gpkg", rows=120)
    manifest = json.loads((ds / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["crs"] == CRS and manifest["rows"] == len(one)
    assert [c["county"] for c in manifest["counties"]] == ["west", "east"]
    files = sorted((ds / "parcels").glob("*.parquet"))
    assert len(files) == sum(len(c["files"]) for c in manifest["counties"]) >= 8
    ddf = dask_geopandas.read_parquet(files)
    assert ddf.npartitions == len(files)
    plots = ddf.compute()
    assert sorted(plots["_row"]) == list(range(len(one)))
    assert all(len(gpd.read_parquet(f)) <= 120 for f in files)
    west = plots[plots["_county"] == "west"].sort_values("_row")
    assert west["_src_row"].tolist() == list(range(1, len(west) + 1))
    assert (plots.sort_values("_row")["parcel_id"].to_numpy() == one["parcel_id"].to_numpy()).all()
    ctx = set(gpd.list_layers(ds / "context.gpkg")["name"]) - {"layer_styles"}
    assert ctx == {"dev_boundary", "township_parks", "cluster_points", "protected", "towns"}
    # the counties' identical context layers count once
    assert len(gpd.read_file(ds / "context.gpkg", layer="township_parks")) == 3


@pytest.mark.parametrize("inputs,rows", [(("all",), None), (("west", "east"), 230), (("all",), 55)])
def test_same_answer_as_one_process(county, cluster, inputs, rows):
    """1, 4 (two per county: cut at the county border and inside each county) and 16
    partitions (cut along the Hilbert curve of one file): plot by plot the
    single-process answer (class, rule, target, reason, village park id and mu, every
    measure); some village parks span partitions, and one spans both counties."""
    d, one = county
    name = "ds-" + "-".join(inputs) + f"-{rows}"
    ds = make_dataset(d, name, *[d / f"{i}.gpkg" for i in inputs], rows=rows)
    info = run_dask(cluster, ds, d / f"out-{name}")
    files = sorted((ds / "parcels").glob("*.parquet"))
    assert info["partitions"] == len(files) == {None: 1, 230: 4, 55: 16}[rows]
    dk = assert_same(one, d / f"out-{name}")
    for f in files:  # each output file holds the plots of the partition of its name
        got = pd.read_parquet(d / f"out-{name}" / "parcels" / f.name, columns=["parcel_id"])
        assert got["parcel_id"].tolist() == pd.read_parquet(f)["parcel_id"].tolist()
    assert not list((d / f"out-{name}").glob("_work*"))  # phase 1's spilled measures gone
    vp = assert_same_parks(d, d / f"out-{name}")
    assert info["rows"]["village_parks"] == len(vp)
    part_of = pd.concat(
        [pd.read_parquet(f, columns=["parcel_id"]).assign(f=f.name) for f in files]
    ).set_index("parcel_id")["f"]
    spans = (
        dk.assign(f=part_of.loc[dk["parcel_id"]].to_numpy())
        .groupby("village_park_id")["f"]
        .nunique()
    )
    counties = dk.groupby("village_park_id")["county"].nunique()
    assert (counties > 1).any()  # a village park across the county border
    if len(files) > 1:
        assert (spans > 1).sum() >= 3 and info["cross_border_pairs"] > 0
    across = d / f"out-{name}" / "village_parks" / "~across.parquet"
    # the parks spanning partitions are finished on the driver, in one file
    assert across.exists() == (len(files) > 1)
    if len(files) > 1:
        assert len(gpd.read_parquet(across)) == (spans > 1).sum()
    for col in MEASURE_COLUMNS:
        assert col in dk
    assert (dk["class"] == "unclassified").sum() == 1
    issues = pd.read_csv(d / f"out-{name}" / "issues.csv", dtype=str)
    assert set(issues["action"]) >= {"unclassified", "repaired"}
    assert issues["county"].notna().all()
    summary = pd.read_csv(d / f"out-{name}" / "summary.csv")
    single = pd.read_csv(d / "one" / "summary.csv")
    pd.testing.assert_frame_equal(summary, single)
    by_county = pd.read_csv(d / f"out-{name}" / "summary_by_county.csv")
    assert set(by_county["county"]) == {*inputs, "合计"}
    # the same by county as a workbook: counties x classes, headed 县（市、区）
    pivot = pd.read_excel(
        d / f"out-{name}" / "summary_by_county.xlsx", sheet_name="汇总", header=None
    )
    assert pivot.iloc[2, 0] == "县（市、区）"
    assert set(pivot.iloc[4:, 0]) == {*inputs, "合计"}
    long = pd.read_excel(d / f"out-{name}" / "summary_by_county.xlsx", sheet_name="明细", header=1)
    assert "县（市、区）" in long.columns
    by_town = pd.read_csv(d / f"out-{name}" / "summary_by_county_town.csv")
    assert list(by_town["county"].unique()) == list(inputs)
    for c in inputs:  # each county's towns as one process sums that county's plots
        write_csv(
            summarise(one if c == "all" else one[one["county"] == c]), d / f"expect-{name}-{c}.csv"
        )
        pd.testing.assert_frame_equal(
            by_town[by_town["county"] == c].drop(columns="county").reset_index(drop=True),
            pd.read_csv(d / f"expect-{name}-{c}.csv"),
        )


def cli(*args):
    """The command line in this process (no interpreter start): exit code, stderr."""
    from click.testing import CliRunner

    from zoning.cli import main

    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stderr


def test_cli_engine_dask_on_a_scheduler(county, cluster):
    """``zoning partition`` and ``classify --engine dask --scheduler ADDRESS`` from the
    command line: the same plots; --workers without --engine dask is one line."""
    d, one = county
    ds = d / "ds-cli"
    assert cli(
        "partition",
        d / "west.gpkg",
        d / "east.gpkg",
        "--out",
        ds,
        "--rows-per-part",
        300,
        "--quiet",
    ) == (0, "")
    assert cli(
        "classify",
        ds,
        "--engine",
        "dask",
        "--scheduler",
        cluster[0].scheduler_address,
        "--out",
        d / "out-cli",
        "--quiet",
    ) == (0, "")
    assert_same(one, d / "out-cli")
    info = json.loads((d / "out-cli" / "run.json").read_text(encoding="utf-8"))
    assert info["engine"] == "dask" and info["rows"]["parcels_out"] == len(one)
    # the dataset as --parcels FOLDER, and the boundary replaced by flag: a wider one
    wide = d / "wide.gpkg"
    if not wide.exists():
        write_gpkg(
            wide,
            {
                "dev_boundary": gpd.GeoDataFrame(
                    geometry=[shapely.box(X0 - 1e3, Y0 - 1e3, X0 + 5e3, Y0 + 5e3)], crs=CRS
                )
            },
        )
    assert cli(
        "classify",
        "--parcels",
        ds,
        "--boundary",
        f"{wide}:dev_boundary",
        "--engine",
        "dask",
        "--scheduler",
        cluster[0].scheduler_address,
        "--out",
        d / "out-cli-wide",
        "--quiet",
    ) == (0, "")
    wide_out = gpd.read_parquet(d / "out-cli-wide" / "parcels")
    assert wide_out["parcel_id"].is_unique and len(wide_out) == len(one)
    usable = wide_out["class"] != "unclassified"
    assert (wide_out.loc[usable, "boundary_share"] == 1.0).all()
    assert (one["boundary_share"] < 0.5).any()  # so the flag changed the answer
    assert cli("classify", d / "all.gpkg", "--workers", 2, "--out", d / "x") == (
        1,
        "error: --scheduler and --workers need --engine dask\n",
    )
    assert cli("classify", d / "all.gpkg", "--engine", "dask", "--out", d / "x") == (
        1,
        f"error: {d / 'all.gpkg'}: not a partitioned dataset (no dataset.json); make one "
        "with zoning partition\n",
    )


def test_bad_partition_is_one_line_and_keeps_the_last_output(county, cluster):
    """A partition file that is not Parquet: one line naming it, exit 1, the previous
    output folder untouched, no staging folder left."""
    import shutil

    d, one = county
    ds = d / "ds-bad"
    shutil.copytree(
        make_dataset(d, "ds-west-east-230", d / "west.gpkg", d / "east.gpkg", rows=230), ds
    )
    out = d / "out-bad"
    (out / "parcels").mkdir(parents=True)
    (out / "summary.csv").write_text("the last good run\n", encoding="utf-8")
    (out / "parcels" / "west.0000.parquet").write_bytes(b"the last good plots")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = sorted((ds / "parcels").glob("east*.parquet"))[1]
    bad.write_bytes(b"not parquet at all")
    code, err = cli(
        "classify",
        ds,
        "--engine",
        "dask",
        "--scheduler",
        cluster[0].scheduler_address,
        "--out",
        out,
    )
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ")
    assert bad.name in err and "partition cannot be read" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in d.iterdir() if "out-bad" in p.name) == ["out-bad"]


def kill_a_busy_worker(client, target) -> tuple[str | None, dict]:
    """Run ``target`` in a thread and SIGKILL the process of the first worker seen
    running a task; the worker killed and ``{"result": …}`` or ``{"error": …}``."""
    done: dict = {}

    def run():
        try:
            done["result"] = target()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            done["error"] = exc

    pids = client.run(os.getpid)
    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    while thread.is_alive() and killed is None:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy and busy[0] in pids:
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed = busy[0]
        else:
            thread.join(0.02)
    thread.join(120)
    assert killed is not None, "the run ended before a worker could be killed"
    return killed, done


def test_worker_killed_mid_run_same_answer(county, cluster):
    """A worker process killed (SIGKILL) while it runs a partition: the nanny starts a
    new one, the scheduler recomputes what was lost, the answer is the same."""
    d, one = county
    lc, client = cluster
    ds = make_dataset(d, "ds-all-60", d / "all.gpkg", rows=60)
    _, done = kill_a_busy_worker(client, lambda: run_dask(cluster, ds, d / "out-killed"))
    assert "error" not in done, done.get("error")
    assert_same(one, d / "out-killed")
    assert_same_parks(d, d / "out-killed")
    client.wait_for_workers(2, timeout=60)


def test_worker_killed_without_retry_is_one_line_and_no_output(county):
    """A scheduler allowed no retry (``distributed.scheduler.allowed-failures`` = 0, as
    when a worker dies again and again): the killed worker fails the run with one line
    naming the partition, exit 1, no output folder and no staging folder left."""
    import dask
    from distributed import Client, LocalCluster

    d, _ = county
    ds = make_dataset(d, "ds-all-60", d / "all.gpkg", rows=60)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        lc = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GiB",
            dashboard_address=None,
        )
    client = Client(lc)
    out = d / "out-no-retry"
    try:
        _, done = kill_a_busy_worker(
            client,
            lambda: cli(
                "classify",
                ds,
                "--engine",
                "dask",
                "--scheduler",
                lc.scheduler_address,
                "--out",
                out,
                "--by",
                "county",
                "--quiet",
            ),
        )
    finally:
        client.close()
        lc.close()
    code, err = done["result"]
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: "), err
    assert "the worker running it died" in err and ".parquet" in err
    assert not out.exists()
    assert not [p.name for p in d.iterdir() if p.name.startswith(".zoning-")]


def test_by_county_folders(county, cluster, tmp_path):
    """``--by county``: OUT/counties/<county>/ is a classify folder (the same files) of
    the province's answer for the county's plots, in the county's input order; its
    village parks are whole, also the one reaching into the other county; every nearest
    park of its plots is in its township_parks layer; later commands read it."""
    from zoning.outputs import FILES, read_classified

    d, one = county
    ds = make_dataset(d, "ds-west-east-230", d / "west.gpkg", d / "east.gpkg", rows=230)
    out = d / "out-by-county"
    assert cli(
        "classify",
        ds,
        "--engine",
        "dask",
        "--scheduler",
        cluster[0].scheduler_address,
        "--by",
        "county",
        "--out",
        out,
        "--quiet",
    ) == (0, "")
    one_vp = gpd.read_file(d / "one" / "classified.gpkg", layer="village_parks")
    parks_of, issue_rows = {}, {}
    for c in ("west", "east"):
        folder = out / "counties" / c
        assert sorted(p.name for p in folder.iterdir()) == sorted(FILES["classify"].values())
        got = gpd.read_file(folder / "classified.gpkg", layer="parcels")
        want = one[one["county"] == c].reset_index(drop=True)
        assert len(got) > 100
        pd.testing.assert_frame_equal(
            got.drop(columns="geometry"), want.drop(columns="geometry"), check_exact=True
        )
        assert (
            shapely.equals(got.geometry.array, want.geometry.array)
            | (got.geometry.isna() & want.geometry.isna())
        ).all()
        vp = gpd.read_file(folder / "classified.gpkg", layer="village_parks")
        want_vp = one_vp[one_vp["village_park_id"].isin(set(want["village_park_id"]))]
        want_vp = want_vp.reset_index(drop=True)
        pd.testing.assert_frame_equal(
            vp.drop(columns="geometry"), want_vp.drop(columns="geometry"), check_exact=True
        )
        assert shapely.equals(vp.geometry.array, want_vp.geometry.array).all()
        parks_of[c] = set(vp["village_park_id"])
        write_csv(summarise(want), tmp_path / f"{c}.csv")
        assert (folder / "summary.csv").read_bytes() == (tmp_path / f"{c}.csv").read_bytes()
        layers = read_classified(folder)
        nearest = set(got["nearest_park_id"].dropna()) - {""}
        assert nearest and nearest <= set(layers["township_parks"]["park_id"])
        assert len(layers["township_parks"]) <= 3
        issues = pd.read_csv(folder / "issues.csv", dtype=str, keep_default_na=False)
        province = pd.read_csv(out / "issues.csv", dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(
            issues, province[province["county"] == c].reset_index(drop=True)
        )
        issue_rows[c] = len(issues)
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        assert run["county"] == c and run["rows"]["parcels_out"] == len(want)
    assert parks_of["west"] & parks_of["east"]  # a park across the border, whole in both
    assert issue_rows["west"] >= 2  # the plot without geometry, the bow tie
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["counties"] == {"west": "west", "east": "east"}
    assert cli("classify", d / "all.gpkg", "--by", "county", "--out", d / "x") == (
        1,
        "error: --by county needs --engine dask (one county: classify its file)\n",
    )


def test_partition_of_a_hive_partitioned_geoparquet_folder(county, cluster):
    """``zoning partition FOLDER --context CTX``: a hive-partitioned GeoParquet folder
    (county=330281/…, county=330282/…, plots only) is one county per file, named by its
    county= value; classified on dask it is plot by plot the one-process answer. A
    folder without --context, and two files of one county, are one line each."""
    d, one = county
    layers = county_layers()
    p = layers["parcels"]
    hive = d / "hive"
    if not hive.exists():
        for code, c in (("330281", "west"), ("330282", "east")):
            (hive / f"county={code}").mkdir(parents=True)
            p[p.county == c].to_parquet(hive / f"county={code}" / "part-0.parquet")
        write_gpkg(d / "ctx.gpkg", {k: v for k, v in layers.items() if k != "parcels"})
    ds, out = d / "ds-hive", d / "out-hive"
    assert cli(
        "partition",
        hive,
        "--context",
        d / "ctx.gpkg",
        "--out",
        ds,
        "--rows-per-part",
        200,
        "--quiet",
    ) == (0, "")
    manifest = json.loads((ds / "dataset.json").read_text(encoding="utf-8"))
    assert [c["county"] for c in manifest["counties"]] == ["330281", "330282"]
    assert cli(
        "classify",
        ds,
        "--engine",
        "dask",
        "--scheduler",
        cluster[0].scheduler_address,
        "--out",
        out,
        "--quiet",
    ) == (0, "")
    assert_same(one, out)
    by_county = pd.read_csv(out / "summary_by_county.csv", dtype={"county": str})
    assert set(by_county["county"]) == {"330281", "330282", "合计"}
    assert cli("partition", hive / "county=330281" / "part-0.parquet", "--out", d / "x") == (
        1,
        f"error: {hive / 'county=330281' / 'part-0.parquet'}: one layer, read as the "
        "county's plots; give the province's context layers with --context\n",
    )
    assert cli("partition", hive, "--out", d / "x") == (
        1,
        f"error: {hive}: a folder is read as GeoParquet plots, one file per county, "
        "with the context layers given by --context\n",
    )
    (hive / "county=330281" / "part-1.parquet").write_bytes(
        (hive / "county=330281" / "part-0.parquet").read_bytes()
    )
    try:
        assert cli("partition", hive, "--context", d / "ctx.gpkg", "--out", d / "x") == (
            1,
            "error: two inputs name the same county (330281): give one file per "
            "county, or rename a file\n",
        )
    finally:
        (hive / "county=330281" / "part-1.parquet").unlink()
