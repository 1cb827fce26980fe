"""The ``zoning`` command line: thin wrappers that parse, call the API and print.

Expected problems (:class:`~zoning.errors.ZoningError`) print one line on stderr and
exit with status 1; there is no traceback for them.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import click

from ._version import __version__
from .errors import ZoningError
from .outputs import (
    FILES,
    LAYER_OPTIONS,
    SAMPLE,
    read_classified,
    resolve_inputs,
    run_classify,
    run_compare,
    run_demo,
    run_workshops,
    write_figures,
    write_sheets,
)
from .vocab import LANGS


class Progress:
    """Step messages with elapsed seconds on stderr (UTF-8 safe)."""

    def __init__(self, quiet: bool = False):
        self.start = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        """Print ``message`` with the seconds since the start (stderr), unless quiet."""
        if not self.quiet:
            click.echo(f"[{time.perf_counter() - self.start:6.1f} s] {message}", err=True)


def expected_errors(func):
    """Turn ZoningError (and an OSError: a read-only or full disk ...) into one line on
    stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ZoningError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:  # read-only or full disk, a path that cannot be made ...
            reason = exc.strerror or str(exc)
            if exc.filename and str(exc.filename) not in reason:
                reason = f"{exc.filename}: {reason}"
            click.echo(f"error: {reason}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="zoning")
def main() -> None:
    """Classify village industrial land and household workshops (SPEC.md)."""
    for stream in (sys.stdout, sys.stderr):  # GBK consoles: never fail on a glyph
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def layer_options(func):
    """Add one ``--<layer> PATH[:LAYER]`` option per classification layer to a command."""
    for option, name in reversed(LAYER_OPTIONS.items()):
        func = click.option(
            f"--{option}",
            metavar="PATH[:LAYER]",
            multiple=True,
            help=f"the {name} layer from its own file"
            + ("; may repeat (STBHHX, YJJBNT …)" if name == "protected" else ""),
        )(func)
    return func


def input_options(func):
    """INPUT and the per-layer flags, the same for every command that reads the county
    (:func:`resolve_inputs`)."""
    func = layer_options(func)
    return click.argument(
        "input_path", metavar="[INPUT]", required=False, type=click.Path(dir_okay=True)
    )(func)


@main.command()
@input_options
@click.option("--out", "out_dir", required=True, type=click.Path(), help="output folder")
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with [parameters] and [fields] (SPEC §5); may repeat",
)
@click.option("--quiet", is_flag=True, help="no progress messages")
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=LANGS[0],
    show_default=True,
    help="language of the reasons (the other one is kept as reason_en/reason_zh)",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gpkg", "shp"]),
    default="gpkg",
    show_default=True,
    help="shp: also the plots and village parks as shapefiles for ArcGIS in "
    "OUT/shp (GB18030 with a .cpg; fields.csv maps names cut to 10 bytes)",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="dask: INPUT (or --parcels) is a dataset of "
    "zoning partition, classified on a dask cluster (zoning.distributed)",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="--engine dask: a running dask scheduler (default: a LocalCluster)",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="--engine dask: LocalCluster worker processes (default 2)",
)
@click.option(
    "--worker-memory",
    default="2GiB",
    show_default=True,
    help="--engine dask: memory limit of each LocalCluster worker",
)
@click.option(
    "--by",
    type=click.Choice(["county"]),
    default=None,
    help="--engine dask: also OUT/counties/<county>/, a classify folder each",
)
@expected_errors
def classify(
    input_path,
    out_dir,
    config_files,
    quiet,
    lang,
    fmt,
    engine,
    scheduler,
    workers,
    worker_memory,
    by,
    **given,
):
    """Classify every village industrial plot of INPUT (a GeoPackage with SPEC §3 layers,
    or a classify output folder) and/or the layers given by flag.

    Writes OUT/classified.gpkg, summary.csv, summary.xlsx, issues.csv and run.json
    (with --format shp also OUT/shp: parcels.shp, village_parks.shp and fields.csv).
    With --engine dask: OUT/parcels/ and OUT/village_parks/ (GeoParquet), summary.csv,
    summary.xlsx, summary_by_county.csv, summary_by_county_town.csv, issues.csv and
    run.json; with --by county also
    OUT/counties/<county>/ (each the folder of a one-process classify).
    """
    if engine == "dask":
        return run_classify_dask(
            input_path,
            out_folder(out_dir),
            config_files,
            given,
            Progress(quiet),
            lang,
            scheduler,
            workers,
            worker_memory,
            by,
        )
    if scheduler or workers:
        raise ZoningError("--scheduler and --workers need --engine dask")
    if by:
        raise ZoningError("--by county needs --engine dask (one county: classify its file)")
    run_classify(
        input_path, out_folder(out_dir), config_files, given, Progress(quiet), lang=lang, fmt=fmt
    )


@main.command()
@input_options
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="scenario A's TOML, then scenario B's (SPEC §5); exactly two",
)
@click.option(
    "--blocks",
    "blocks_dirs",
    multiple=True,
    type=click.Path(exists=True),
    metavar="BLOCKS_DIR",
    help="a zoning blocks output folder: with two --config its blocks and freed "
    "sites are decided under both; given twice (no INPUT, no --config) the "
    "two folders are compared",
)
@click.option("--out", "out_dir", required=True, type=click.Path())
@click.option("--quiet", is_flag=True)
@expected_errors
def compare(input_path, config_files, blocks_dirs, out_dir, quiet, **given):
    """Classify INPUT (and/or the layers given by flag, as for classify) under two
    configs and write what moved between them.

    Writes OUT/transitions.csv (from_class, to_class, plots, mu), transitions_by_town.csv,
    transitions.xlsx, changed.gpkg and the change map changes.html. With --blocks
    BLOCKS_DIR (a zoning blocks output of the base): the blocks that change mode and
    the freed sites that change reuse under the two configs, in blocks_changed.csv,
    sites_changed.csv and two more sheets of transitions.xlsx. With --blocks A --blocks
    B only: those of two zoning blocks folders, in blocks_changed.csv, sites_changed.csv
    and blocks_changes.xlsx.
    """
    progress = Progress(quiet)
    if len(blocks_dirs) == 2 and not config_files:
        if input_path or any(given.values()):
            raise ZoningError(
                "compare --blocks A --blocks B compares two zoning blocks "
                "folders: give no INPUT or layer flags"
            )
        from .outputs import run_compare_blocks

        modes, reuses = run_compare_blocks(*blocks_dirs, out_folder(out_dir), progress)
        click.echo(
            f"{len(modes)} block(s) change mode, {len(reuses)} freed site(s) change "
            f"reuse from {blocks_dirs[0]} to {blocks_dirs[1]}"
        )
        return
    if len(config_files) != 2:
        raise ZoningError(
            f"compare needs exactly two --config files (scenario A and B), got {len(config_files)}"
        )
    if len(blocks_dirs) > 1:
        raise ZoningError(
            "compare with two --config files takes one --blocks folder "
            f"(the base run of zoning blocks), got {len(blocks_dirs)}"
        )
    sources = resolve_inputs(input_path, given)
    result = run_compare(
        sources,
        config_files,
        out_folder(out_dir),
        progress,
        blocks_dirs[0] if blocks_dirs else None,
    )
    names = [result.a.name, result.b.name]
    moved = len(result.changed)
    progress(
        f"done: {moved} plot(s) change class "
        f"({result.changed['area_mu'].sum():.2f} mu) from {names[0]} to {names[1]}"
    )
    if result.blocks is not None:
        progress(
            f"{len(result.blocks[0])} block(s) change mode, {len(result.blocks[1])} "
            "freed site(s) change reuse"
        )


@main.command()
@input_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--config", "config_files", multiple=True, type=click.Path())
@click.option(
    "--workshops",
    "workshops_path",
    metavar="PATH[:LAYER]",
    help="workshops from their own file: a layer, or a CSV/Excel list with "
    "coordinate columns ([workshops] x, y and [crs] workshops in the config)",
)
@click.option("--micro-parks", "micro_parks_path", metavar="PATH[:LAYER]")
@click.option("--quiet", is_flag=True)
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=LANGS[0],
    show_default=True,
    help="language of the reasons (the other one is kept as reason_en/reason_zh)",
)
@expected_errors
def workshops(
    input_path, out_dir, config_files, workshops_path, micro_parks_path, quiet, lang, **given
):
    """Household workshops: four classes, fixes owed, placement into micro parks (SPEC §6).

    INPUT and the layer flags as for classify (the plots under the workshops are
    classified first); workshops and micro parks from INPUT or their flags.
    Writes OUT/workshops.gpkg, workshops.xlsx, workshop_towns.csv, workshop_issues.csv and
    workshop_run.json.
    """
    run_workshops(
        input_path,
        out_dir,
        config_files,
        workshops_path,
        micro_parks_path,
        Progress(quiet),
        given,
        lang,
    )


@main.command()
@click.option(
    "--out", "out_dir", default="out/demo", show_default=True, type=click.Path(file_okay=False)
)
@click.option(
    "--maps",
    "maps_dir",
    default="maps",
    show_default=True,
    type=click.Path(file_okay=False),
    help="folder for the per-town maps",
)
@click.option("--quiet", is_flag=True)
@expected_errors
def demo(out_dir, maps_dir, quiet):
    """Classify the bundled sample county and draw its maps (offline HTML)."""
    progress = Progress(quiet)
    index = run_demo(out_dir, maps_dir, progress)
    progress(f"open {Path(out_dir) / FILES['demo']['map']} or {index} in a browser (works offline)")


@main.command(name="map")
@click.argument("source", metavar="CLASSIFIED_DIR_OR_GPKG", type=click.Path(exists=True))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(),
    help="HTML file (or folder with --by-town); overview.png and towns_mu.png "
    "are written beside it",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--basemap",
    type=click.Choice(["none", "osm", "tianditu", "gaode", "tianditu-img", "gaode-img"]),
    default="none",
    show_default=True,
    help="tiles under the data (-img: imagery with labels); gaode shifts the data to GCJ-02",
)
@click.option("--by-town", is_flag=True, help="index.html plus one map per town in --out")
@click.option(
    "--print",
    "sheets",
    is_flag=True,
    help="A3 map sheets instead: county.pdf/.png and one PDF and PNG per town in --out (a folder)",
)
@click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="inline Leaflet into the page (works without network) or link it from "
    "its CDN (smaller, needs network)",
)
@click.option("--no-links", is_flag=True, help="no lines from consolidated plots to parks")
@click.option("--title", default=None, help="page title")
@click.option(
    "--status",
    "status_path",
    type=click.Path(exists=True, dir_okay=False),
    help="ledger (status as of today) or a `ledger report` status.gpkg: lets the "
    "page colour the plots by progress (a ledger.gpkg beside the "
    "classification is used by default)",
)
@click.option("--quiet", is_flag=True, help="no progress messages")
@expected_errors
def map_command(
    source, out_path, lang, basemap, by_town, sheets, offline, no_links, title, status_path, quiet
):
    """Draw an interactive HTML map of a `zoning classify` output (offline by default).

    Every option is checked before anything is written; the classification's folder is
    only read. The static figures (overview.png, towns_mu.png) go beside the map.
    """
    from ._io import output_set
    from .maps import basemap_tiles, build_map, write_map, write_town_maps

    progress = Progress(quiet)
    title = check_title(title)
    basemap_tiles(basemap)  # a Tianditu basemap needs its key: fail before any work
    out = out_folder(out_path) if by_town or sheets else out_file(out_path, ".html")
    progress(f"reading {source}")
    data = read_classified(
        source, status=status_path, warn=lambda message: click.echo(f"warning: {message}", err=True)
    )
    n_ws = len(data["workshops"]) if data.get("workshops") is not None else 0
    progress(f"{len(data['parcels'])} plots" + (f", {n_ws} workshops" if n_ws else ""))
    if sheets:
        written = write_sheets(data, source, out, title, progress, lang)
        click.echo(f"wrote {len(written)} map sheets (PDF and PNG) in {out}")
        return
    folder = out if by_town else out.parent
    with output_set(folder, out) as stage:  # the page(s) and figures land together or not
        if by_town:
            write_town_maps(
                data, stage, lang, basemap, offline, title, not no_links, progress=progress
            )
            towns = len(list(stage.glob("*.html"))) - 2  # not index.html, county.html
            done = f"wrote {out / 'index.html'} and {towns} town maps"
        else:
            progress("building the map")
            fmap = build_map(data, lang, basemap, title, not no_links)
            progress(f"writing {out}")
            write_map(fmap, stage / out.name, offline)
            done = f"wrote {out}"
        progress("drawing overview.png and towns_mu.png")
        pngs = [folder / p.name for p in write_figures(data, stage, title)]
    for png in pngs:
        click.echo(f"wrote {png}")
    click.echo(done)


def check_title(title: str | None) -> str | None:
    """A --title is shown as text anywhere; only control characters are refused."""
    if title is None or not title.strip():
        return None
    bad = sorted({f"U+{ord(ch):04X}" for ch in title if ord(ch) < 32 or ord(ch) == 127})
    if bad:
        raise ZoningError(f"--title contains control characters ({', '.join(bad)})")
    return title


def out_folder(path) -> Path:
    """An output folder given with --out: a file in its place (or in place of one of its
    parents) is one line, before anything is written."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                where = "" if p == path else f" ({p} is a file)"
                raise ZoningError(f"--out {path}: not a folder{where}; give a folder path")
            break
    return path


def out_file(path, suffix: str) -> Path:
    """An output file given with --out: not an existing folder, its folder not a file."""
    path = Path(path)
    if path.is_dir():
        raise ZoningError(f"--out {path}: is a folder; give a file name ending in {suffix}")
    out_folder(path.parent)
    return path


@main.command("sample-ledger")
@click.option(
    "--data",
    "data_dir",
    default=str(SAMPLE.parent),
    show_default=True,
    type=click.Path(file_okay=False),
)
@expected_errors
def sample_ledger(data_dir):
    """Generate the sample's enterprise table and town progress sheets (seeded)."""
    from .classification import classify
    from .config import load_config
    from .outputs import CLASSIFY_NEEDS
    from .sample_ledger import write_ledger_sample
    from .workshops import load_and_run

    sample = Path(data_dir) / FILES["demo"]["sample"]
    parcels = classify(sample, config=load_config()).parcels
    config = load_config().with_table("workshops", time_limit_s=1.0)  # only the classes
    sources = resolve_inputs(str(sample), {}, needs=(*CLASSIFY_NEEDS, "workshops", "micro_parks"))
    workshops_result, _ = load_and_run(sources, config)
    files = write_ledger_sample(data_dir, parcels, workshops_result.workshops)
    click.echo(f"wrote {len(files)} files into {data_dir}")


@main.command()
@click.option(
    "--out", "out_path", default=str(SAMPLE), show_default=True, type=click.Path(dir_okay=False)
)
@click.option("--seed", default=2021, show_default=True, type=int)
@expected_errors
def sample(out_path, seed):
    """Generate the seeded sample county (every SPEC §3 layer) as a GeoPackage, and the
    safety grid's villages.csv and meetings.csv beside it (SPEC §12)."""
    from .sample import write_grid_sample, write_sample

    counts = write_sample(out_path, seed=seed)
    for layer, n in counts.items():
        click.echo(f"{layer}: {n}")
    for name, path in write_grid_sample(out_path, Path(out_path).parent, seed).items():
        click.echo(f"{name}: {path}")


@main.group()
def ledger():
    """List + ledger + assessment (清单 + 台账 + 考评, SPEC §8)."""


@ledger.command("init")
@click.argument("ledger_path", metavar="LEDGER.gpkg", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "classified",
    required=True,
    type=click.Path(exists=True),
    help="a zoning classify output folder",
)
@click.option(
    "--workshops",
    "workshops_dir",
    type=click.Path(exists=True),
    help="a zoning workshops output folder",
)
@click.option(
    "--blocks",
    "blocks_dir",
    type=click.Path(exists=True),
    help="a zoning blocks output folder: its blocks (kind block, final "
    "renovated 已改造) and freed sites (kind site, final reused 已利用)",
)
@expected_errors
def ledger_init(ledger_path, classified, workshops_dir, blocks_dir):
    """List every item of a classification (and workshops, blocks and freed sites),
    status pending."""
    from .outputs import init_ledger

    n = init_ledger(ledger_path, classified, workshops_dir, blocks_dir)
    click.echo(f"{ledger_path}: {n} items, all pending")


@ledger.command("import")
@click.argument("ledger_path", metavar="LEDGER.gpkg", type=click.Path())
@click.argument("sheet", type=click.Path(dir_okay=False))
@click.option("--today", default=None, help="the import day (YYYY-MM-DD); default: today")
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with [fields.updates] and [encoding] updates for the sheet",
)
@expected_errors
def ledger_import(ledger_path, sheet, today, config_files):
    """Apply a town's update sheet (SPEC §8 checks, in order); rejected rows beside it."""
    from .config import load_config
    from .layers import parse_date
    from .ledger import import_sheet
    from .report import write_csv

    if today is not None and parse_date(today) is None:
        raise ZoningError(f"--today {today!r} is not a date (YYYY-MM-DD)")
    report = import_sheet(
        ledger_path, sheet, parse_date(today) if today else None, load_config(*config_files)
    )
    target = Path(sheet).with_name(Path(sheet).stem + ".rejected.csv")
    write_csv(report.rejected, target)
    click.echo(
        f"{Path(sheet).name}: accepted {report.accepted}, already recorded "
        f"{report.already}, rejected {len(report.rejected)} (see {target.name})"
    )


@ledger.command("adjust")
@click.argument("ledger_path", metavar="LEDGER.gpkg", type=click.Path())
@click.argument("kind", metavar="KIND")
@click.argument("item_id")
@click.option(
    "--class",
    "cls",
    required=True,
    help="the class that governs the item (in every assessment; English or Chinese name)",
)
@click.option("--reason", required=True)
@click.option("--by", "by", required=True)
@expected_errors
def ledger_adjust(ledger_path, kind, item_id, cls, reason, by):
    """Override an item's class with a reason and a name (kept beside the computed one).

    KIND is parcel/地块, workshop/作坊, block/区块 or site/腾退地块; --class a class of that
    kind, e.g. retain or 保留提升, rebuild or 拆除式."""
    from .ledger import adjust

    kind, cls = adjust(ledger_path, kind, item_id, cls, reason, by)
    click.echo(f"{kind} {item_id}: class {cls} (by {by})")


@ledger.command("sync")
@click.argument("ledger_path", metavar="LEDGER.gpkg", type=click.Path())
@click.option(
    "--from",
    "classified",
    type=click.Path(exists=True),
    help="a new zoning classify output folder: the plots are compared",
)
@click.option(
    "--workshops",
    "workshops_dir",
    type=click.Path(exists=True),
    help="a new zoning workshops output folder: the workshops are compared",
)
@click.option(
    "--blocks",
    "blocks_dir",
    type=click.Path(exists=True),
    help="a new zoning blocks output folder: the blocks and freed sites are compared",
)
@expected_errors
def ledger_sync(ledger_path, classified, workshops_dir, blocks_dir):
    """Take a new classification; items whose computed class changed go to review.csv.
    Only the kinds given are compared: without --workshops the workshops are left alone."""
    from .outputs import sync_ledger
    from .report import write_csv

    review = sync_ledger(ledger_path, classified, workshops_dir, blocks_dir)
    target = Path(ledger_path).with_name("review.csv")
    write_csv(review, target)
    click.echo(f"{len(review)} item(s) to review in {target}")


@ledger.command("verify")
@click.argument("ledger_path", metavar="LEDGER.gpkg", type=click.Path())
@expected_errors
def ledger_verify(ledger_path):
    """Integrity check: the hash chains of items, events and adjustments (the first row
    deleted, edited, inserted or moved by hand is named), then the events against SPEC §8.
    One line per problem and exit 1; on success the chain heads (keep them elsewhere)."""
    from .ledger import chain_heads, verify

    problems = verify(ledger_path)
    for p in problems:
        click.echo(f"{ledger_path}: {p}")
    if problems:
        sys.exit(1)
    heads = chain_heads(ledger_path)
    click.echo(
        f"{ledger_path}: ok ("
        + "; ".join(
            f"{chain}s {head.split()[0]}, head {head.split()[-1][:16]}"
            for chain, head in heads.items()
        )
        + ")"
    )


@ledger.command("report")
@click.argument("ledger_path", metavar="LEDGER.gpkg", type=click.Path())
@click.option("--as-of", "as_of", required=True, help="YYYY-MM-DD")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with [assessment] weights and [[campaigns]] (一行业一方案)",
)
@click.option(
    "--grades",
    type=click.Path(exists=True, dir_okay=False),
    help="grades.csv of `zoning grade` for the 清单 (default: one beside the ledger, if any)",
)
@expected_errors
def ledger_report(ledger_path, as_of, out_dir, config_files, grades):
    """The assessment as of a date (events dated on or before it only): progress.csv,
    towns.csv, assessment.xlsx, status.gpkg and completion.png; with [[campaigns]] in the
    config also campaigns.csv, campaign_progress.csv and a 清单 sheet per campaign."""
    from ._io import output_set
    from .config import load_config
    from .layers import parse_date
    from .outputs import write_ledger_report

    day = parse_date(as_of)
    if day is None:
        raise ZoningError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")
    config = load_config(*config_files)
    assessment = config.assessment
    with output_set(out_folder(out_dir)) as stage:
        scores = write_ledger_report(
            ledger_path,
            day,
            stage,
            {
                "parcel": assessment["parcel_weight"],
                "workshop": assessment["workshop_weight"],
                "block": assessment["block_weight"],
                "site": assessment["site_weight"],
            },
            grades,
            config.campaigns,
            config.report.get("county", ""),
        )
    click.echo(
        f"as of {day}: {len(scores)} towns scored; "
        f"first {scores['town'].iat[0] if len(scores) else '-'}"
    )


@main.command()
@click.argument("enterprises", type=click.Path(exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with a [grading] county profile (weights, quotas), "
    "[fields.enterprises] and [encoding] enterprises",
)
@expected_errors
def grade(enterprises, out_dir, config_files):
    """亩均效益评价: grade ENTERPRISES (CSV, Excel or a layer) A/B/C/D (SPEC §8)."""
    from ._io import output_set
    from .config import load_config
    from .grading import grade as grade_table
    from .layers import read_table
    from .outputs import write_grades
    from .report import data_heading

    config = load_config(*config_files)
    table = read_table(
        enterprises,
        "enterprises",
        config=config,
        keys=("enterprise_id",),
        required=("enterprise_id",),
    )
    grades = grade_table(table, config.grading)
    with output_set(out_dir) as stage:
        # cells cut to Excel's limit, one row each
        notes = write_grades(
            grades, stage, heading=data_heading(config, {"path": str(enterprises)})
        )
    counts = grades["grade"].value_counts().reindex(list("ABCD"), fill_value=0)
    click.echo(
        f"{len(grades)} enterprises: "
        + ", ".join(f"{g} {n}" for g, n in counts.items())
        + (
            f"; {len(notes)} cell(s) cut to fit Excel, see {FILES['grade']['issues']}"
            if len(notes)
            else ""
        )
    )


@main.command()
@click.argument("classified", metavar="CLASSIFIED_DIR", type=click.Path(exists=True))
@click.option(
    "--enterprises",
    "enterprise_paths",
    multiple=True,
    required=True,
    metavar="TABLE",
    help="an enterprise table (SPEC §8: CSV, Excel or a layer) "
    "with a year column; may repeat, one per year",
)
@click.option(
    "--year",
    type=click.IntRange(1949, 2100),
    default=None,
    help="the year of a single enterprise table without a year column",
)
@click.option(
    "--blocks",
    "blocks_path",
    metavar="PATH[:LAYER]",
    help="block polygons (block_id; optional name): members go to the block they overlap most",
)
@click.option(
    "--scenic",
    "scenic_path",
    metavar="PATH[:LAYER]",
    help="scenic areas, tourism villages, greenways (polygons) for reuse F2",
)
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with [blocks], [freed], [parameters], [fields.enterprises] …",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--quiet", is_flag=True, help="no progress messages")
@expected_errors
def blocks(
    classified, enterprise_paths, year, blocks_path, scenic_path, config_files, out_dir, quiet
):
    """Old industrial blocks and freed land (SPEC §11) of a classification.

    Writes OUT/blocks.gpkg (layers blocks, freed_sites), history.csv, freed_towns.csv,
    blocks.xlsx, block_plots.csv and blocks_run.json.
    """
    from .outputs import run_blocks

    progress = Progress(quiet)
    result = run_blocks(
        classified,
        enterprise_paths,
        out_folder(out_dir),
        config_files,
        year,
        blocks_path,
        scenic_path,
        progress,
        warn=lambda message: click.echo(f"warning: {message}", err=True),
    )
    modes = result.blocks["mode"].value_counts()
    reuses = result.freed_sites["reuse"].value_counts()
    quota = result.towns["quota_mu"].sum()
    click.echo(
        f"{len(result.blocks)} blocks ("
        + ", ".join(f"{m} {modes.get(m, 0)}" for m in ("rebuild", "reorganise", "manage"))
        + f"); {len(result.freed_sites)} freed sites ("
        + ", ".join(f"{r} {reuses.get(r, 0)}" for r in ("reclaim", "tourism", "amenity"))
        + f"); quota {quota:.2f} mu; wrote {out_dir}"
    )


@main.command()
@click.argument("villages", type=click.Path(exists=True, dir_okay=False))
@click.argument("meetings", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-of", "as_of", required=True, help="YYYY-MM-DD")
@click.option(
    "--clusters",
    "classified",
    type=click.Path(exists=True),
    help="a zoning classify output folder (or its classified.gpkg): its cluster "
    "points' management_body and safety_body are checked",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with [fields.villages], [fields.meetings] and [encoding]",
)
@expected_errors
def grid(villages, meetings, as_of, classified, out_dir, config_files):
    """安全生产网格化: safety officers, monthly village meetings and quarterly town
    meetings as of a date (SPEC §12). VILLAGES: town, village, safety_officer; MEETINGS:
    date, level (village/town), town, optional village. Writes OUT/grid.csv,
    grid_towns.csv, grid.xlsx, meetings.rejected.csv and grid_issues.csv."""
    from .outputs import run_grid

    run_grid(
        villages, meetings, as_of, classified, out_folder(out_dir), config_files, echo=click.echo
    )


def run_classify_dask(
    input_path,
    out_dir,
    config_files,
    given,
    progress,
    lang,
    scheduler,
    workers,
    worker_memory,
    by=None,
):
    """``classify --engine dask``: the dataset is INPUT or --parcels FOLDER; other layer
    flags replace the dataset's context layers."""
    from .config import load_config
    from .distributed import Engine, classify_dataset
    from .outputs import LAYER_OPTIONS, _flag_sources

    parcels = given.get("parcels") or ()
    if input_path and parcels:
        raise ZoningError("--engine dask: give the dataset as INPUT or as --parcels, not both")
    dataset = input_path or (parcels[0] if parcels else None)
    if dataset is None:
        raise ZoningError(
            "--engine dask needs a dataset folder made by zoning partition "
            "(INPUT or --parcels FOLDER)"
        )
    context = {
        name: _flag_sources(option, given[option])
        for option, name in LAYER_OPTIONS.items()
        if option != "parcels" and given.get(option)
    }
    info = {
        "zoning": __version__,
        "command": " ".join(sys.argv),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return classify_dataset(
        dataset,
        out_dir,
        load_config(*config_files),
        Engine(scheduler, workers, worker_memory),
        lang,
        context,
        progress,
        info,
        by=by,
    )


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(),
    help="dataset folder (parcels/*.parquet, context.gpkg, dataset.json)",
)
@click.option(
    "--context",
    "context_path",
    type=click.Path(exists=True),
    default=None,
    help="the province's context layers (SPEC §3 names) instead of the counties'",
)
@click.option(
    "--rows-per-part",
    type=click.IntRange(1),
    default=None,
    help="cut each county into files of at most this many plots (Hilbert order)",
)
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(),
    help="TOML with [fields], [crs] … as for classify; may repeat",
)
@click.option("--quiet", is_flag=True)
@expected_errors
def partition(inputs, out_dir, context_path, rows_per_part, config_files, quiet):
    """Turn county GeoPackages (each with the SPEC §3 layers; the county is named by the
    file) or one big file into a partitioned GeoParquet dataset for
    ``classify --engine dask``: the plots read, checked and repaired once, in the
    province's analysis CRS. With --context, a county may be a file of plots only
    (GeoParquet, one-layer GeoPackage or shapefile), and INPUT a folder of GeoParquet
    files, one per county (hive-partitioned: named by its county=VALUE folder)."""
    from .config import load_config
    from .distributed import county_inputs
    from .distributed import partition as make_dataset
    from .outputs import resolve_inputs

    counties = county_inputs(inputs, context_path is not None)
    context = (
        resolve_inputs(
            context_path,
            {},
            needs=(),
            optional=("dev_boundary", "township_parks", "cluster_points", "protected", "towns"),
        )
        if context_path
        else None
    )
    make_dataset(
        counties,
        out_folder(out_dir),
        load_config(*config_files),
        context,
        rows_per_part,
        Progress(quiet),
    )
