"""Output folders (HOUSE.md tier T7): the names of the files every command writes, and the
writers and readers of those folders.

A domain module (T5) returns frames; a format module (T6: ``report``, ``figures``,
``maps``) turns a frame into one file; this module decides which files make up a folder,
writes them through :func:`zoning._io.output_set` and reads them back. Issue 14 moves the
existing folder writers here; new programmes (blocks, safety grid) add theirs here.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ZoningError
from .vocab import REQUIRED_LAYERS

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .classification import Classification
    from .config import Config

#: File names of every output folder, by command. One table, so a newcomer finds them and
#: a reader of a folder uses the same names as its writer.
FILES: dict[str, dict[str, str]] = {
    "classify": {
        "classified": "classified.gpkg",
        "summary_csv": "summary.csv",
        "summary_xlsx": "summary.xlsx",
        "classified_xlsx": "classified.xlsx",
        "issues": "issues.csv",
        "run_log": "run.json",
    },
    "classify_shp": {"folder": "shp", "fields": "fields.csv"},  # --format shp
    "workshops": {
        "gpkg": "workshops.gpkg",
        "xlsx": "workshops.xlsx",
        "towns": "workshop_towns.csv",
        "issues": "workshop_issues.csv",
        "run_log": "workshop_run.json",
        "power_list": "power_list.csv",
    },
    "compare": {
        "transitions": "transitions.csv",
        "by_town": "transitions_by_town.csv",
        "xlsx": "transitions.xlsx",
        "changed": "changed.gpkg",
        "map": "changes.html",
    },
    "ledger_report": {
        "progress": "progress.csv",
        "towns": "towns.csv",
        "assessment": "assessment.xlsx",
        "issues": "issues.csv",
        "status": "status.gpkg",
        "chart": "completion.png",
    },
    "grade": {"csv": "grades.csv", "xlsx": "grades.xlsx", "issues": "grade_issues.csv"},
    "map": {"county": "county.html", "index": "index.html"},
    "figures": {"overview": "overview.png", "towns_bar": "towns_mu.png"},
    "demo": {
        "sample": "sample_county.gpkg",
        "ledger": "ledger.gpkg",
        "map": "map.html",
        "progress": "progress",
        "assessment": "assessment",
        "survey": "sandiao",
        "survey_out": "out",
    },
    "grid": {
        "findings": "grid.csv",
        "towns": "grid_towns.csv",
        "xlsx": "grid.xlsx",
        "rejected": "meetings.rejected.csv",
        "issues": "grid_issues.csv",
    },
}


#: The sample county shipped with the package (``zoning sample`` writes it).
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_county.gpkg"


def _paths(folder, command: str) -> dict[str, str]:
    """The files of ``command``'s folder (:data:`FILES`) as paths inside ``folder``."""
    out = os.fspath(folder)
    return {k: os.path.join(out, v) for k, v in FILES[command].items()}


# --- writers of output folders ---------------------------------------------------------

CONTEXT_LAYERS = ("dev_boundary", "township_parks", "cluster_points", "protected", "towns")


@dataclasses.dataclass(frozen=True)
class ClassifiedFolder:
    """What a ``zoning classify`` folder is written from.

    Made from a :class:`~zoning.classification.Classification` by :meth:`of`, or by the
    dask engine from a county's partitions (``distributed.county_folder``).
    ``context`` holds the context layers as read (:data:`CONTEXT_LAYERS`, those present);
    ``selection`` the counts of ``[select.parcels]`` (empty without a selection).
    """

    parcels: gpd.GeoDataFrame
    village_parks: gpd.GeoDataFrame
    context: dict[str, gpd.GeoDataFrame]
    config: Config
    issues: pd.DataFrame
    crs: str
    inputs: dict
    selection: dict
    timings: dict[str, float]

    @classmethod
    def of(cls, result: Classification) -> ClassifiedFolder:
        """The folder of a classification."""
        layers = result.layers
        context = {name: layers.public(name) for name in CONTEXT_LAYERS}
        return cls(
            parcels=result.parcels,
            village_parks=result.village_parks,
            context={k: v for k, v in context.items() if v is not None},
            config=result.config,
            issues=result.issues,
            crs=layers.crs.to_string(),
            inputs=layers.inputs,
            selection=layers.selection,
            timings=result.timings,
        )


def write_classification(
    result: Classification | ClassifiedFolder,
    out_dir: str | os.PathLike,
    run_info: dict | None = None,
) -> dict[str, str]:
    """Write every output of ``zoning classify`` into ``out_dir`` (each file atomically).

    ``classified.gpkg`` (layers ``parcels``, ``village_parks`` and the context layers in
    the analysis CRS), ``classified.xlsx``, ``summary.csv``, ``summary.xlsx``,
    ``issues.csv`` and ``run.json``. Returns the written paths by name.
    """
    import pandas as pd

    from ._parallel import beside
    from .report import (
        data_heading,
        summarise,
        write_csv,
        write_run_log,
        write_summary_xlsx,
    )

    os.makedirs(os.fspath(out_dir), exist_ok=True)
    folder = result if isinstance(result, ClassifiedFolder) else ClassifiedFolder.of(result)
    layers = {"parcels": folder.parcels, "village_parks": folder.village_parks, **folder.context}
    paths = _paths(out_dir, "classify")
    heading = data_heading(folder.config, folder.inputs.get("parcels"))
    # the plot list (pure Python, xlsxwriter) is written beside the GeoPackage (GDAL)
    listing = beside(_write_plot_list, folder, paths["classified_xlsx"], heading)
    try:
        summary = summarise(folder.parcels)
        write_styled_layers(paths["classified"], layers)
        write_csv(summary, paths["summary_csv"])
        summary_cut = write_summary_xlsx(summary, paths["summary_xlsx"], heading=heading)
    finally:
        listing_cut = listing.result()
    cut = pd.concat([summary_cut, listing_cut])
    issues = pd.concat([folder.issues, cut], ignore_index=True) if len(cut) else folder.issues
    write_csv(issues, paths["issues"])
    info = dict(run_info or {})
    info.update(
        {
            "analysis_crs": folder.crs,
            "parameters": dict(folder.config.parameters),
            "config_files": list(folder.config.sources),
            "inputs": folder.inputs,
            "rows": {
                "parcels_in": len(folder.parcels),
                "parcels_out": len(folder.parcels),
                **folder.selection,  # [select.parcels]: read, selected, not selected
                "village_parks": len(folder.village_parks),
                "issues": len(issues),
            },
            "classes": folder.parcels["class"].value_counts().to_dict(),
            "timings_s": {k: round(v, 3) for k, v in folder.timings.items()},
            "outputs": {k: os.path.basename(v) for k, v in paths.items()},
        }
    )
    write_run_log(paths["run_log"], info)
    return paths


def write_workshops(
    result, out_dir: str | os.PathLike, run_info: dict | None = None, heading=None
) -> dict[str, str]:
    """workshops.gpkg (layers workshops, micro_parks), workshops.xlsx (清单, per town, per
    park), workshop_towns.csv (ledger figures), workshop_issues.csv and workshop_run.json in
    ``out_dir`` (names that sit beside a classification's outputs)."""
    import pandas as pd

    from .report import write_csv, write_run_log, write_workshops_xlsx

    os.makedirs(os.fspath(out_dir), exist_ok=True)
    paths = _paths(out_dir, "workshops")
    ws = result.workshops
    write_styled_layers(paths["gpkg"], {"workshops": ws, "micro_parks": result.micro_parks})
    cut = write_workshops_xlsx(result, paths["xlsx"], heading)
    write_csv(result.towns, paths["towns"])
    write_csv(result.power_list, paths["power_list"])
    issues = result.issues.frame()
    if len(cut):
        issues = pd.concat([issues, cut], ignore_index=True)
    write_csv(issues, paths["issues"])
    p = result.placement
    info = dict(run_info or {})
    info.update(
        {
            "rows": {"workshops_in": len(ws), "workshops_out": len(ws), "issues": len(issues)},
            "classes": ws["class"].value_counts().to_dict(),
            "placement": {
                "status": p.status,
                "mip_gap": p.gap,
                "objective": p.objective,
                "candidate_pairs": p.candidates,
                "seconds": round(p.seconds, 3),
                "placed": int((ws["target_micro_park_id"] != "").sum()),
            },
            "outputs": {k: os.path.basename(v) for k, v in paths.items()},
        }
    )
    write_run_log(paths["run_log"], info)
    return paths


def write_comparison(comparison, out_dir: str | os.PathLike) -> dict[str, Path]:
    """transitions.csv, transitions_by_town.csv, transitions.xlsx, changed.gpkg,
    changes.html of a :class:`zoning.scenario.Comparison` (each written atomically)."""
    from .maps import write_map
    from .report import data_heading, write_csv, write_transitions_xlsx

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: Path(v) for k, v in _paths(out, "compare").items()}
    write_csv(comparison.transitions, paths["transitions"])
    write_csv(comparison.by_town, paths["by_town"])
    write_transitions_xlsx(
        comparison,
        paths["xlsx"],
        data_heading(comparison.a.config, comparison.a.layers.inputs.get("parcels")),
    )
    write_styled_layers(paths["changed"], {"changed": comparison.changed})
    write_map(comparison.map(), paths["map"])
    if comparison.blocks is not None:  # SPEC §11: blocks and freed sites compared too
        paths.update(write_block_changes_csv(comparison.blocks, out))
    return paths


def write_grades(grades: pd.DataFrame, out_dir: str | os.PathLike, heading=None) -> pd.DataFrame:
    """grades.csv, grades.xlsx and, when cells were cut to Excel's limit, grade_issues.csv
    (one row each) into ``out_dir``; returns those notes."""
    from .report import write_csv, write_grades_xlsx

    paths = _paths(out_dir, "grade")
    write_csv(grades, paths["csv"])
    notes = write_grades_xlsx(grades, paths["xlsx"], heading)
    if len(notes):
        write_csv(notes, paths["issues"])
    return notes


def write_figures(data, out_dir, title=None) -> list[Path]:
    """The static PNG figures next to the summary of a classify output folder."""
    from .figures import overview_png, towns_bar_png

    names = FILES["figures"]
    return [
        overview_png(data, Path(out_dir) / names["overview"], title),
        towns_bar_png(data["parcels"], Path(out_dir) / names["towns_bar"]),
    ]


# --- readers of output folders ---------------------------------------------------------


def read_grades(path) -> pd.Series | None:
    """Grade per enterprise name from a ``zoning grade`` grades.csv (None if there is none):
    how the grades join the plot list, the maps and the 清单."""
    import pandas as pd

    from ._io import formula_unescape

    path = Path(path)
    if not path.exists():
        return None
    table = pd.read_csv(
        path,
        dtype={"enterprise_id": str, "enterprise": str},
        keep_default_na=False,
        na_values={"enterprise": [""]},
        encoding="utf-8-sig",
    )
    if "enterprise" not in table or "grade" not in table:
        return None
    table["enterprise"] = formula_unescape(table["enterprise"])  # '=x in the CSV is =x
    return (
        table.dropna(subset=["enterprise"])
        .drop_duplicates("enterprise")
        .set_index("enterprise")["grade"]
    )


#: The status layer's column with the class in force (SPEC §8: the adjusted one where a
#: planner adjusted it); the computed class is the classification's own.
ADJUSTED = {"class"}


def read_status(path: str | os.PathLike) -> pd.DataFrame:
    """Progress per item: a ``ledger report`` status.gpkg, or a ledger (as of today)."""
    import datetime as dt

    import pyogrio

    from .errors import first_line
    from .ledger import status_as_of

    path = Path(path)
    try:
        names = [n for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same error here
        raise ZoningError(f"{path}: cannot be read as a GeoPackage ({exc})") from exc
    if "status" not in names and "items" not in names:
        raise ZoningError(
            f"{path}: neither a ledger nor a ledger report's status.gpkg (layers {names})"
        )
    try:
        if "status" in names:
            have = set(pyogrio.read_info(path, layer="status")["fields"])
            table = pyogrio.read_dataframe(
                path,
                layer="status",
                read_geometry=False,
                columns=[
                    "kind",
                    "item_id",
                    "status",
                    "last_event",
                    "final",
                    *sorted(ADJUSTED & have),
                ],
            )
        else:
            table = status_as_of(path, dt.date.today().isoformat())
    except ZoningError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the library says
        raise ZoningError(f"{path}: cannot read the progress ({first_line(exc)})") from None
    table["item_id"] = table["item_id"].astype(str)
    return table[
        ["kind", "item_id", "status", "last_event", "final", *sorted(ADJUSTED & set(table.columns))]
    ]


def join_status(data: dict[str, gpd.GeoDataFrame], status: pd.DataFrame) -> None:
    """Give the plots (and workshops) their ledger status and last update, by id."""
    for layer, kind, key in (
        ("parcels", "parcel", "parcel_id"),
        ("workshops", "workshop", "workshop_id"),
    ):
        gdf = data.get(layer)
        if gdf is None or key not in gdf:
            continue
        part = status[status["kind"] == kind].drop_duplicates("item_id").set_index("item_id")
        ids = gdf[key].astype(str)
        gdf["status"] = ids.map(part["status"])
        if "class" in part and "class" in gdf:  # SPEC §8: the adjusted class governs
            in_force = ids.map(part["class"])
            adjusted = (in_force.notna() & in_force.ne(gdf["class"])).to_numpy(dtype=bool)
            gdf["computed_class"] = gdf["class"].where(adjusted, "")
            gdf.loc[adjusted, "class"] = in_force[adjusted]
        gdf["last_event"] = ids.map(part["last_event"]).fillna("")
        gdf["status_final"] = ids.map(part["final"].astype(bool))


def _read_classification(gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    """The plots, village parks and context layers of a classified.gpkg; a missing or
    damaged file is a :class:`ZoningError`."""
    import pyogrio

    from .errors import first_line
    from .maps import CONTEXT

    if not gpkg.exists():
        raise ZoningError(
            f"{gpkg}: not found (give a zoning classify output folder or its classified.gpkg)"
        )
    try:
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        if "parcels" not in names:
            raise ZoningError(f"{gpkg}: no layer 'parcels' (has {names})")
        return {
            n: pyogrio.read_dataframe(gpkg, layer=n, use_arrow=True)
            for n in ["parcels", "village_parks", *CONTEXT]
            if n in names
        }
    except ZoningError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL, sqlite, arrow: all mean "damaged"
        raise ZoningError(
            f"{gpkg}: cannot be read as a classification ({first_line(exc)}); "
            "run zoning classify again"
        ) from None


def _blocks_beside(folder: Path, optional) -> dict:
    """The layers of a ``zoning blocks`` output (SPEC §11) in ``folder`` or in its
    ``blocks`` folder, read through ``optional`` (a damaged one: a warning, none)."""
    for where in (folder, folder / "blocks"):
        blocks = where / FILES["blocks"]["gpkg"]
        if blocks.exists():
            found = optional(blocks, "the blocks and freed sites", lambda b=blocks: read_blocks(b))
            return (
                {} if found is None else {"blocks": found.blocks, "freed_sites": found.freed_sites}
            )
    return {}


def read_classified(
    path: str | os.PathLike, status: str | os.PathLike | None = None, warn=None
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a ``zoning classify`` output (folder or its classified.gpkg).

    Beside it, ``grades.csv`` (``zoning grade``), ``workshops.gpkg`` (``zoning workshops``),
    ``blocks.gpkg`` (``zoning blocks``, there or in a ``blocks`` folder beside it: layers
    ``blocks`` and ``freed_sites``) and ``ledger.gpkg`` are picked up; ``status`` names a ledger or a report's status.gpkg.
    A damaged file picked up this way is left out of the map with a warning (``warn``, a
    callable taking the message; default :func:`warnings.warn`): it is extra, the map is
    what was asked for. A damaged classification or ``status`` file is an error.
    """
    import pyogrio

    from .errors import first_line

    names_of = FILES["classify"]
    path = Path(path)
    gpkg = path / names_of["classified"] if path.is_dir() else path
    data = _read_classification(gpkg)
    if warn is None:
        import warnings

        def warn(message):
            warnings.warn(message, stacklevel=3)

    def optional(file: Path, what: str, read):
        try:
            return read()
        except Exception as exc:  # noqa: BLE001 - a damaged extra never stops the map
            warn(f"{file}: cannot be read ({first_line(exc)}); the map is drawn without {what}")
            return None

    grades = gpkg.parent / FILES["grade"]["csv"]
    grade = optional(grades, "the 亩均 grades", lambda: read_grades(grades))
    if grade is not None and "enterprise" in data["parcels"]:  # 亩均 grades by enterprise
        data["parcels"]["grade"] = data["parcels"]["enterprise"].map(grade)
    workshops = gpkg.parent / FILES["workshops"]["gpkg"]
    if workshops.exists():  # a zoning workshops output beside it
        layers = optional(
            workshops,
            "the workshops",
            lambda: {
                n: pyogrio.read_dataframe(workshops, layer=n, use_arrow=True)
                for n, _ in pyogrio.list_layers(workshops)
                if n in ("workshops", "micro_parks")
            },
        )
        data.update(layers or {})
    data.update(_blocks_beside(gpkg.parent, optional))
    ledger = gpkg.parent / FILES["demo"]["ledger"]
    if status is not None:
        join_status(data, read_status(status))
    elif ledger.exists():
        table = optional(ledger, "the ledger's progress", lambda: read_status(ledger))
        if table is not None:
            join_status(data, table)
    return data


# --- old industrial blocks (SPEC §11) ----------------------------------------------------

FILES["blocks"] = {
    "gpkg": "blocks.gpkg",
    "history": "history.csv",
    "towns": "freed_towns.csv",
    "xlsx": "blocks.xlsx",
    "plots": "block_plots.csv",
    "issues": "blocks_issues.csv",
    "run_log": "blocks_run.json",
}


def write_blocks(result, out_dir, run_info: dict | None = None, issues=None) -> dict[str, str]:
    """The output folder of ``zoning blocks`` (SPEC §11), written as one set
    (:func:`zoning._io.output_set`): blocks.gpkg (layers ``blocks``, ``freed_sites``),
    history.csv, freed_towns.csv, blocks.xlsx, block_plots.csv (every input plot with its
    block or site: rows in = rows out), blocks_run.json, and blocks_issues.csv (rows of
    the blocks or scenic layer repaired or dropped, ``issues``, and workbook cells cut to
    Excel's limit; header only when there are none). Returns the file paths by key.

    The workbook (pure Python, the slowest file) is written in this process while a forked
    one writes the GeoPackage and the CSV files beside it (:func:`zoning._parallel.beside`,
    as the ledger's report)."""
    import os

    import pandas as pd

    from ._io import output_set
    from ._parallel import beside
    from .blocks import change_table
    from .report import write_blocks_xlsx, write_csv, write_run_log

    names = FILES["blocks"]
    written = {}
    with output_set(out_dir) as stage:
        files = beside(_write_blocks_files, result, stage)
        try:
            cut = write_blocks_xlsx(
                result,
                stage / names["xlsx"],
                change=change_table(result.blocks, result.history, list(result.years)),
            )
        finally:
            files.result()
        listed = [f for f in (issues, cut) if f is not None and len(f)]
        # always written (header only when empty): a stale one never outlives its run
        write_csv(
            pd.concat(listed, ignore_index=True)
            if listed
            else pd.DataFrame(columns=["layer", "row", "id", "action", "reason"]),
            stage / names["issues"],
        )
        info = dict(run_info or {})
        info.update(
            {
                "rows": {
                    "plots_in": len(result.plots),
                    "plots_out": len(result.plots),
                    "blocks": len(result.blocks),
                    "freed_sites": len(result.freed_sites),
                    "issues": sum(len(f) for f in listed),
                },
                "years": [int(y) for y in result.years],
                "parameters": {
                    "blocks": result.params,
                    "freed": result.freed_params,
                    "inside_share_min": result.inside_share_min,
                },
                "modes": result.blocks["mode"].value_counts().to_dict(),
                "reuses": result.freed_sites["reuse"].value_counts().to_dict(),
                "timings_s": {k: round(v, 3) for k, v in getattr(result, "timings", {}).items()},
                "outputs": dict(names),
            }
        )
        write_run_log(stage / names["run_log"], info)
        written = {k: os.fspath(os.path.join(out_dir, v)) for k, v in info["outputs"].items()}
    return written


def _write_blocks_files(result, stage) -> None:
    """blocks.gpkg, history.csv, freed_towns.csv and block_plots.csv of a blocks folder."""
    from .report import write_csv

    names = FILES["blocks"]
    write_styled_layers(
        stage / names["gpkg"], {"blocks": result.blocks, "freed_sites": result.freed_sites}
    )
    write_csv(result.history, stage / names["history"])
    write_csv(result.towns, stage / names["towns"])
    write_csv(result.plots, stage / names["plots"])


def read_classified_plots(path) -> tuple:
    """The plots of a ``zoning classify`` output (its folder or classified.gpkg) and the
    path of the GeoPackage read; a missing or damaged one is one line."""
    from pathlib import Path

    import pyogrio

    from .errors import ZoningError, first_line

    path = Path(path)
    gpkg = path / FILES["classify"]["classified"] if path.is_dir() else path
    if not gpkg.exists():
        raise ZoningError(
            f"{gpkg}: not found (give a zoning classify output folder or its classified.gpkg)"
        )
    try:
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        if "parcels" not in names or "village_parks" not in names:
            raise ZoningError(
                f"{gpkg}: not a zoning classify output (layers {names}; "
                "parcels and village_parks expected)"
            )
        plots = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    except ZoningError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL, sqlite, arrow: all mean "damaged"
        raise ZoningError(
            f"{gpkg}: cannot be read as a classification ({first_line(exc)}); "
            "run zoning classify again"
        ) from None
    missing = [c for c in ("parcel_id", "class", "rule", "village_park_id") if c not in plots]
    if missing:
        raise ZoningError(
            f"{gpkg}: layer parcels has no {', '.join(missing)}; run zoning classify again"
        )
    if plots.crs is None:
        raise ZoningError(f"{gpkg}: layer parcels has no CRS; run zoning classify again")
    return plots, gpkg


# --- the inputs of a command, and the jobs that fill a folder -----------------------------

LAYER_OPTIONS = {  # CLI option -> canonical layer name (SPEC §3)
    "parcels": "parcels",
    "boundary": "dev_boundary",
    "parks": "township_parks",
    "clusters": "cluster_points",
    "protected": "protected",
    "towns": "towns",
}


def _flag_sources(option: str, values):
    """The source(s) of one layer flag: --protected may repeat (the layers are combined,
    SPEC §3), any other flag is given once (never silently the last one)."""
    from .layers import Source

    values = (values,) if isinstance(values, str) else tuple(values)
    if len(values) > 1 and option != "protected":
        raise ZoningError(
            f"--{option} given {len(values)} times ({', '.join(values)}); "
            "give it once (only --protected may repeat)"
        )
    sources = [Source.parse(v) for v in values]
    return sources if len(sources) > 1 else sources[0]


#: Flags of the workshop layers (``zoning workshops``), beside :data:`LAYER_OPTIONS`.
WORKSHOP_OPTIONS = {"workshops": "workshops", "micro_parks": "micro_parks"}
#: The classification layers every command that classifies needs (SPEC §3).
CLASSIFY_NEEDS = REQUIRED_LAYERS


def _flag(name: str) -> str:
    option = {v: k for k, v in {**LAYER_OPTIONS, **WORKSHOP_OPTIONS}.items()}[name]
    return "--" + option.replace("_", "-")


def resolve_inputs(
    input_path: str | None,
    given: dict[str, str | None],
    needs=CLASSIFY_NEEDS,
    optional=("protected", "towns"),
):
    """The one way every command names its inputs: a multi-layer file (SPEC §3 layer
    names), a ``zoning classify`` output folder (its classified.gpkg; the plots' output
    columns are dropped on reading, not reported as clashes) and/or the per-layer flags
    (``PATH[:LAYER]``, which win over INPUT's layer of that name).

    Returns layer name -> Source (None for an optional layer not given). A layer of
    ``needs`` given neither way stops with one line naming every such layer and its flag:
    nothing degrades silently (a single shapefile is one layer, not the whole input)."""
    from .layers import Source, layer_sources, list_layers

    path: Path | None = None
    available: list[str] = []
    output = False
    found: dict = {}
    if input_path is not None:
        path = Path(input_path)
        if not path.exists():
            raise ZoningError(f"{path}: file not found")
        if path.is_dir() and path.suffix.lower() != ".gdb":
            if not (path / FILES["classify"]["classified"]).exists():
                raise ZoningError(
                    f"{path}: a folder without classified.gpkg; give a "
                    "GeoPackage with the SPEC §3 layers, a zoning classify "
                    "output folder, or each layer with --parcels --boundary "
                    "--parks --clusters [--protected --towns] PATH[:LAYER]"
                )
            path = path / FILES["classify"]["classified"]
        available = list_layers(path)
        output = "parcels" in available and "village_parks" in available
        found = layer_sources(path)  # SPEC §3 names, else the survey's (CZKFBJ …)
        plots = found.get("parcels")
        if output and isinstance(plots, Source):
            found["parcels"] = dataclasses.replace(plots, output=True)
    options = {**LAYER_OPTIONS, **WORKSHOP_OPTIONS}
    sources = {}
    for option, name in options.items():
        if name not in (*needs, *optional):
            continue
        if given.get(option):
            sources[name] = _flag_sources(option, given[option])
        elif name in found:
            sources[name] = found[name]
        elif name in available and path is not None:
            sources[name] = Source(path, name)
        else:
            sources[name] = None
    missing = [n for n in needs if sources.get(n) is None]
    if missing:
        flags = ", ".join(f"{_flag(n)} for {n}" for n in missing)
        where = (
            (
                f"{input_path} has no layer {', '.join(missing)} (it has {available}"
                + (
                    "; a single-layer file is one layer, not the whole input)"
                    if len(available) == 1
                    else ")"
                )
            )
            if input_path is not None
            else f"no input for layer {', '.join(missing)}"
        )
        raise ZoningError(
            f"{where}; give {'it' if len(missing) == 1 else 'them'} with {flags} PATH[:LAYER]"
        )
    return sources


def run_info(**extra) -> dict:
    """The head of a run log: the package version and the command line."""
    from ._version import __version__

    return {"zoning": __version__, "command": " ".join(sys.argv), **extra}


def run_classify(
    input_path, out_dir, config_files, given, progress, extra_info=None, lang="zh", fmt="gpkg"
):
    """``zoning classify`` (and ``demo``, ``bench/one.py``): resolve the inputs, classify
    (``reason`` in ``lang``, the other language beside it), write the folder
    (:func:`write_classification`; ``fmt`` "shp": the plots and village parks as
    shapefiles too, in OUT/shp, :func:`write_shp`)."""
    from ._io import output_set
    from .classification import classify
    from .config import load_config

    config = load_config(*config_files)
    sources = resolve_inputs(input_path, given)
    result = classify(sources, config=config, progress=progress, lang=lang)
    progress(f"writing {out_dir}")
    t0 = time.perf_counter()
    info = run_info(started=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **(extra_info or {}))
    with output_set(out_dir) as stage:
        write_classification(result, stage, info)
        if fmt == "shp":
            write_shp(result, stage / FILES["classify_shp"]["folder"])
    result.timings["write"] = time.perf_counter() - t0
    counts = result.parcels["class"].value_counts()
    progress(
        "done: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f"; {len(result.issues)} issue(s) in {FILES['classify']['issues']}"
    )
    return result


def write_shp(result, folder: Path) -> None:
    """OUT/shp for ArcGIS users: parcels.shp and village_parks.shp (GB18030, .cpg), their
    field-name table fields.csv and parcels.qml for QGIS."""
    from ._io import write_shapefiles
    from .report import write_csv
    from .styles import for_layers

    layers = {"parcels": result.parcels, "village_parks": result.village_parks}
    fields = write_shapefiles(folder, layers, styles=for_layers(layers))
    write_csv(fields, folder / FILES["classify_shp"]["fields"])


def run_compare(sources, config_files, out_dir, progress, blocks_dir=None):
    """``zoning compare``: classify the layers of ``sources`` under two configs (measured
    once when both read the layers alike), write what moved (:func:`write_comparison`).
    The scenarios are named after their config files; returns the comparison. With
    ``blocks_dir`` (a ``zoning blocks`` output folder) the blocks and freed sites are
    decided under both configs too (:func:`compare_blocks`)."""
    from ._io import output_set
    from .config import load_config
    from .scenario import Study, compare

    configs = [load_config(f) for f in config_files]
    progress("reading and measuring layers")
    study_a = Study.from_sources(sources, config_files[0])
    same_loading = (configs[0].fields, configs[0].crs, configs[0].encoding) == (
        configs[1].fields,
        configs[1].crs,
        configs[1].encoding,
    )
    study_b = study_a if same_loading else Study.from_sources(sources, config_files[1])
    names = [Path(f).stem for f in config_files]
    a = study_a.classify(names[0], **configs[0].parameters)
    b = study_b.classify(names[1], **configs[1].parameters)
    result = compare(a, b)
    if blocks_dir is not None:
        progress(f"blocks and freed sites of {blocks_dir} under both configs")
        result.blocks = compare_blocks(blocks_dir, a, b, configs, same_loading)
    progress(f"writing {out_dir}")
    with output_set(out_dir) as stage:
        write_comparison(result, stage)
    return result


def run_workshops(
    input_path,
    out_dir,
    config_files,
    workshops_path,
    micro_parks_path,
    progress,
    given=None,
    lang="zh",
):
    """``zoning workshops`` (and ``demo``): resolve the inputs, classify and place the
    workshops, write the folder (:func:`write_workshops`)."""
    from ._io import output_set
    from .config import load_config
    from .workshops import load_and_run

    sources = resolve_inputs(
        input_path,
        {**(given or {}), "workshops": workshops_path, "micro_parks": micro_parks_path},
        needs=(*CLASSIFY_NEEDS, "workshops", "micro_parks"),
    )
    config = load_config(*config_files)
    result, info = load_and_run(sources, config, progress=progress, lang=lang)
    progress(f"writing {out_dir}")
    with output_set(out_dir) as stage:
        write_workshops(result, stage, run_info(**info), heading=workshop_heading(sources, config))
    ws = result.workshops
    placed = int((ws["target_micro_park_id"] != "").sum())
    moving = int(ws["class"].isin(["to_park", "demolish"]).sum())
    progress(
        f"done: {len(ws)} workshop(s) {ws['class'].value_counts().to_dict()}; "
        f"placed {placed} of {moving} "
        f"moving workshops ({result.placement.status}, gap {result.placement.gap:.1e})"
    )
    if "risk_level" in ws:  # SPEC §12
        risk = ws["risk_level"].value_counts()
        progress(
            "three-in-one: "
            + ", ".join(
                f"{lv} {int(risk.get(lv, 0))}" for lv in ("high", "medium", "unknown", "low")
            )
            + f"; no industrial power {len(result.power_list)} (power_list.csv)"
        )
    return result


def run_ledger_demo(out_dir: Path, data_dir: Path, progress, config=None) -> None:
    """The sample's list + ledger + assessment: build the ledger, import every town sheet
    (each as of the end of its month), report, grade the enterprises."""
    import calendar

    from ._io import output_set
    from .config import load_config
    from .grading import grade as grade_table
    from .layers import read_table
    from .ledger import import_sheet
    from .report import data_heading, write_csv

    names = FILES["demo"]
    sheets = sorted((data_dir / names["progress"]).glob("*.*"))
    if not sheets:
        progress(f"no progress sheets in {data_dir / names['progress']}: ledger skipped")
        return
    ledger = out_dir / names["ledger"]
    for stale in (ledger, Path(f"{ledger}-wal"), Path(f"{ledger}-shm")):
        stale.unlink(missing_ok=True)
    n = init_ledger(ledger, out_dir, out_dir)
    progress(f"ledger {ledger}: {n} items; importing {len(sheets)} town sheets")
    inbox = out_dir / names["progress"]
    inbox.mkdir(exist_ok=True)
    totals = [0, 0, 0]
    last_day = ""
    for src in sheets:
        sheet = inbox / src.name
        shutil.copyfile(src, sheet)
        year, month = int(src.name[:4]), int(src.name[5:7])
        last_day = f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
        report = import_sheet(ledger, sheet, last_day)
        write_csv(report.rejected, sheet.with_name(sheet.stem + ".rejected.csv"))
        totals = [
            totals[0] + report.accepted,
            totals[1] + report.already,
            totals[2] + len(report.rejected),
        ]
    progress(
        f"accepted {totals[0]}, already recorded {totals[1]}, rejected {totals[2]} "
        f"(see {inbox}/*.rejected.csv)"
    )
    enterprises = data_dir / "enterprises.csv"
    if enterprises.exists():
        write_grades(
            grade_table(read_table(enterprises, "enterprises", keys=("enterprise_id",))),
            out_dir,
            data_heading(config, {"path": str(enterprises)}),
        )
    profile = data_dir / "cixi.toml"  # the county's industry campaigns (SPEC §12)
    campaigns = load_config(profile).campaigns if profile.exists() else ()
    county = (config.report if config is not None else {}).get("county", "")
    with output_set(out_dir / names["assessment"]) as stage:
        scores = write_ledger_report(ledger, last_day, stage, campaigns=campaigns, county=county)
    progress(f"assessment as of {last_day}: first {scores['town'].iat[0]}")


def run_survey_demo(sample: Path, folder: Path, parcels: pd.DataFrame, progress) -> None:
    """The sample as a land-survey delivery (DLTB + 三区三线 shapefiles, GBK, EPSG:4528)
    classified with data/sandiao.toml: it must give the sample's classes (issue 15)."""
    from .sample import write_survey_sample

    files = write_survey_sample(sample, folder)
    progress(f"the sample as a 三调 delivery in {folder}: classifying with data/sandiao.toml")
    given = {
        "parcels": str(files["DLTB"]),
        "boundary": str(files["CZKFBJ"]),
        "protected": (str(files["STBHHX"]), str(files["YJJBNT"])),
        "parks": f"{sample}:township_parks",
        "clusters": f"{sample}:cluster_points",
        "towns": f"{sample}:towns",
    }
    survey = run_classify(
        None,
        folder / FILES["demo"]["survey_out"],
        (str(SAMPLE.parent / "sandiao.toml"), str(files["extra"])),
        given,
        progress,
    )
    same = survey.parcels.set_index("parcel_id")["rule"].reindex(parcels["parcel_id"])
    agree = int((same.to_numpy() == parcels["rule"].to_numpy()).sum())
    progress(f"三调 delivery: {agree} of {len(parcels)} plots get the sample's rule")


def run_demo(out_dir, maps_dir, progress) -> Path:
    """``zoning demo``: the bundled sample county classified (and as a survey delivery),
    its workshops, ledger and assessment, maps and figures. Returns the maps' index."""
    from .maps import write_town_maps

    names = FILES["demo"]
    sample = SAMPLE
    if not sample.exists():
        from .sample import write_sample

        sample = Path(out_dir) / names["sample"]
        progress(f"generating the sample county into {sample}")
        write_sample(sample)
    profile = SAMPLE.parent / "cixi.toml"  # the county profile: own-town parks first
    profiles = (str(profile),) if profile.exists() else ()  # and the county's name
    result = run_classify(str(sample), out_dir, profiles, {}, progress, {"sample": str(sample)})
    run_survey_demo(sample, Path(out_dir) / names["survey"], result.parcels, progress)
    run_workshops(str(sample), Path(out_dir), profiles, None, None, progress)
    run_ledger_demo(Path(out_dir), sample.parent, progress, result.config)
    run_blocks_demo(Path(out_dir), sample.parent, progress)
    run_grid_demo(sample, Path(out_dir), progress)
    progress("drawing the maps")
    data = read_classified(out_dir)
    title = "慈溪市（样例）村级工业用地分类"
    index = write_town_maps(data, maps_dir, title=title)
    shutil.copyfile(Path(maps_dir) / FILES["map"]["county"], Path(out_dir) / names["map"])
    write_figures(data, out_dir, title)
    return index


# --- the ledger's report folder (SPEC §8) -----------------------------------------


def write_ledger_report(
    ledger,
    as_of: str,
    out_dir,
    weights: dict | None = None,
    grades=None,
    campaigns=(),
    county: str = "",
) -> pd.DataFrame:
    """progress.csv, towns.csv, assessment.xlsx, issues.csv, status.gpkg and completion.png
    as of a date into ``out_dir``; returns the town scores. The 清单 show the 亩均 grades of
    ``grades`` (a grades.csv; by default the one beside the ledger, if any). issues.csv
    lists the cells cut to fit Excel (a note over 32,767 characters), one row per cell.
    With ``campaigns`` ([[campaigns]] of the config, SPEC §12): campaigns.csv,
    campaign_progress.csv and one 清单 sheet per campaign in assessment.xlsx."""
    from ._parallel import beside
    from .ledger import check_ledger, progress_table, status_as_of, town_scores
    from .report import write_assessment, write_csv

    names = FILES["ledger_report"]
    check_ledger(ledger)
    out_dir = Path(out_dir)
    state = status_as_of(ledger, as_of)
    write_csv(progress_table(state), out_dir / names["progress"])
    scores = town_scores(state, weights)
    write_csv(scores, out_dir / names["towns"])
    by_name = read_grades(grades or Path(ledger).with_name(FILES["grade"]["csv"]))
    if campaigns:
        write_campaigns(state, campaigns, out_dir)
    lists = None
    if campaigns:
        from .campaigns import campaign_items, campaign_table

        lists = (
            campaign_table(state, campaigns),
            [campaign_items(state, campaign) for campaign in campaigns],
        )
    # the workbook (pure Python) and the layer + chart are written side by side
    extras = beside(_write_ledger_extras, ledger, state, as_of, weights, out_dir)
    try:
        issues = write_assessment(
            state,
            scores,
            out_dir / names["assessment"],
            by_name,
            lists,
            report_heading(ledger, state, as_of, county),
        )
        write_csv(issues, out_dir / names["issues"])
    finally:
        extras.result()
    return scores


def _write_ledger_extras(ledger, state: pd.DataFrame, as_of: str, weights, out_dir: Path) -> None:
    from .figures import completion_png
    from .ledger import completion_over_time

    names = FILES["ledger_report"]
    write_status_layer(ledger, state, out_dir / names["status"])
    completion_png(completion_over_time(ledger, as_of, weights), out_dir / names["chart"])


def write_status_layer(ledger, state: pd.DataFrame, target) -> None:
    """status.gpkg, layer ``status``: every item where it lies (plot centroid, workshop
    point) with its class and status as of the report's date, for QGIS and ``zoning map``:
    ``class`` is the class in force (adjusted where adjusted), ``computed_class`` the
    classification's beside it, ``adjusted`` whether they differ."""
    import pyogrio

    from .vocab import STATUS_ZH

    where = pyogrio.read_dataframe(ledger, layer="items", columns=["kind", "item_id"])
    where["item_id"] = where["item_id"].astype(str)
    cols = [
        "kind",
        "item_id",
        "town",
        "class",
        "computed_class",
        "status",
        "last_event",
        "note",
        "final",
    ]
    layer = where.merge(state[cols], on=["kind", "item_id"], how="left", validate="1:1")
    layer.insert(
        layer.columns.get_loc("computed_class") + 1,
        "adjusted",
        (layer["class"] != layer["computed_class"]).to_numpy(),
    )
    layer.insert(layer.columns.get_loc("status") + 1, "status_zh", layer["status"].map(STATUS_ZH))
    write_styled_layers(target, {"status": layer})


# --- the ledger's items, read from classify / workshops output folders -----------------


def read_items(
    classified_dir: str | os.PathLike | None,
    workshops_dir: str | os.PathLike | None = None,
    crs=None,
    blocks_dir: str | os.PathLike | None = None,
) -> gpd.GeoDataFrame:
    """The SPEC §8 items (:func:`zoning.ledger.items_of`) of a classify output folder
    and/or a workshops output folder (in the plots' CRS, else ``crs``) and/or a blocks
    output folder (SPEC §11: its blocks and freed sites, :func:`read_blocks`)."""
    import pyogrio

    from .ledger import items_of

    parcels = workshops = None
    if classified_dir is not None:
        gpkg = Path(classified_dir) / FILES["classify"]["classified"]
        if not gpkg.exists():
            raise ZoningError(f"{gpkg}: not found (give a zoning classify output folder)")
        parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    if workshops_dir is not None:
        wpath = Path(workshops_dir) / FILES["workshops"]["gpkg"]
        if not wpath.exists():
            raise ZoningError(f"{wpath}: not found (give a zoning workshops output folder)")
        workshops = pyogrio.read_dataframe(wpath, layer="workshops", use_arrow=True)
    found = read_blocks(blocks_dir) if blocks_dir is not None else None
    return items_of(
        parcels, workshops, crs, blocks=found and found.blocks, sites=found and found.freed_sites
    )


def init_ledger(
    ledger: str | os.PathLike, classified_dir, workshops_dir=None, blocks_dir=None
) -> int:
    """``zoning ledger init``: a new ledger listing every item of a classify output folder
    (and a workshops output folder, and the blocks and freed sites of a blocks output
    folder), status pending. Returns the number of items."""
    from .ledger import check_new, init

    check_new(ledger)
    from .styles import for_layers

    items = read_items(classified_dir, workshops_dir, blocks_dir=blocks_dir)
    return init(ledger, items, styles=for_layers({"items": items}))


def sync_ledger(ledger, classified_dir=None, workshops_dir=None, blocks_dir=None) -> pd.DataFrame:
    """``zoning ledger sync``: the items of new output folders into the ledger (only the
    kinds given are compared: a blocks folder gives blocks and sites); returns the items
    to review."""
    from .ledger import check_sync, sync

    kinds = [
        k
        for k, given in (
            ("parcel", classified_dir),
            ("workshop", workshops_dir),
            ("block", blocks_dir),
            ("site", blocks_dir),
        )
        if given is not None
    ]
    crs = check_sync(ledger, kinds)
    return sync(
        ledger, read_items(classified_dir, workshops_dir, crs=crs, blocks_dir=blocks_dir), kinds
    )


# --- the jobs of ``zoning blocks`` -------------------------------------------------------


def _warn(message: str) -> None:
    """A warning line on stderr (as the command line prints them)."""
    print(f"warning: {message}", file=sys.stderr)


def read_enterprise_years(paths, year, config, warn=None):
    """The enterprise tables of ``zoning blocks`` (SPEC §8 tables with a year column, or a
    single one with --year), as one frame (:func:`zoning.blocks.enterprise_years`);
    ``warn`` (a callable taking a message; default: a line on stderr) hears of a table
    without an enterprise column."""
    from .blocks import enterprise_years
    from .layers import read_table
    from .vocab import ENTERPRISE_FIELDS_ZH

    tables = []
    for path in paths:
        table = read_table(
            path,
            "enterprises",
            config=config,
            keys=("enterprise_id",),
            required=("enterprise_id",),
            rename=ENTERPRISE_FIELDS_ZH,
        )
        table.attrs["path"] = str(path)
        if "enterprise" not in table.columns:  # optional in SPEC §8, but nothing joins
            (warn or _warn)(
                f"{path} has no enterprise column (the name that joins a "
                "plot's enterprise): its figures reach no block"
            )
        tables.append(table)
    return enterprise_years(tables, year)


def run_blocks(
    classified,
    enterprise_paths,
    out_dir,
    config_files=(),
    year=None,
    blocks_path=None,
    scenic_path=None,
    progress=None,
    warn=None,
):
    """Shared by ``blocks`` and ``demo``: read, run SPEC §11, write the folder."""
    from .blocks import run_config
    from .config import load_config
    from .layers import IssueLog, read_layer

    progress = progress or (lambda message: None)
    t0 = time.perf_counter()
    config = load_config(*config_files)
    plots, gpkg = read_classified_plots(classified)
    t1 = time.perf_counter()
    enterprises = read_enterprise_years(enterprise_paths, year, config, warn)
    t2 = time.perf_counter()
    issues = IssueLog()
    extra = {
        name: read_layer(path, name, config, plots.crs, issues) if path else None
        for name, path in (("blocks", blocks_path), ("scenic", scenic_path))
    }
    t3 = time.perf_counter()
    progress(
        f"{len(plots)} plots, enterprise tables of "
        f"{', '.join(map(str, sorted(set(enterprises['year'])))) or 'no year'}"
    )
    result = run_config(
        plots, enterprises, config, block_polygons=extra["blocks"], scenic=extra["scenic"]
    )
    result.timings = {
        "read_plots": t1 - t0,
        "read_enterprises": t2 - t1,
        "read_layers": t3 - t2,
        **result.timings,
    }
    info = run_info(
        started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        classification=str(gpkg),
        enterprises=[str(p) for p in enterprise_paths],
        blocks_layer=str(blocks_path or ""),
        scenic_layer=str(scenic_path or ""),
        config_files=list(config.sources),
    )
    t4 = time.perf_counter()
    write_blocks(result, out_dir, info, issues.frame())
    result.timings["write"] = time.perf_counter() - t4
    return result


def run_blocks_demo(out_dir: Path, data_dir: Path, progress) -> None:
    """The sample's old industrial blocks and freed land (SPEC §11) into OUT/blocks: a
    seeded enterprise history of three years built from data/enterprises.csv, a blocks
    layer for two towns and a scenic layer (OUT/blocks_input)."""
    from .sample_ledger import write_blocks_sample

    enterprises = data_dir / "enterprises.csv"
    if not enterprises.exists():
        progress(f"no {enterprises}: blocks skipped")
        return
    plots, _ = read_classified_plots(out_dir)
    inputs = write_blocks_sample(out_dir / "blocks_input", plots, enterprises)
    progress(
        f"blocks: enterprise tables of {len(inputs['enterprises'])} years, blocks and "
        f"scenic layers in {out_dir / 'blocks_input'}"
    )
    result = run_blocks(
        out_dir,
        inputs["enterprises"],
        out_dir / "blocks",
        blocks_path=inputs["blocks"],
        scenic_path=inputs["scenic"],
        progress=progress,
    )
    modes = result.blocks["mode_zh"].value_counts()
    reuses = result.freed_sites["reuse_zh"].value_counts()
    progress(
        f"{len(result.blocks)} blocks ("
        + ", ".join(f"{k} {v}" for k, v in modes.items())
        + f"), {len(result.freed_sites)} freed sites ("
        + ", ".join(f"{k} {v}" for k, v in reuses.items())
        + f") in {out_dir / 'blocks'}"
    )


def write_grid(result, out_dir, as_of: str) -> dict[str, str]:
    """The safety grid's folder (SPEC §12): grid.csv, grid_towns.csv, grid.xlsx,
    meetings.rejected.csv and grid_issues.csv (values read as false, cells cut to fit
    Excel). Call inside :func:`zoning._io.output_set`."""
    import os

    import pandas as pd

    from .report import write_csv, write_grid_xlsx

    names = FILES["grid"]
    paths = {k: os.path.join(os.fspath(out_dir), v) for k, v in names.items()}
    write_csv(result.findings, paths["findings"])
    write_csv(result.towns, paths["towns"])
    write_csv(result.rejected, paths["rejected"])
    cut = write_grid_xlsx(result, paths["xlsx"], as_of)
    issues = result.issues.frame()
    if len(cut):
        issues = pd.concat([issues, cut], ignore_index=True)
    write_csv(issues, paths["issues"])
    return paths


def run_grid(villages, meetings, as_of, classified, out_dir, config_files=(), echo=print):
    """Shared by ``grid`` and ``demo``."""
    from ._io import output_set
    from .config import load_config
    from .grid import MEETINGS_ZH, VILLAGES_ZH, safety_grid
    from .layers import parse_date, read_table
    from .outputs import write_grid

    day = parse_date(as_of)
    if day is None:
        raise ZoningError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")
    config = load_config(*config_files)
    village_table = read_table(
        villages,
        "villages",
        config=config,
        keys=("village",),
        required=("town", "village"),
        rename=VILLAGES_ZH,
    )
    meeting_table = read_table(
        meetings,
        "meetings",
        config=config,
        keys=("date",),
        required=("date", "level", "town"),
        rename=MEETINGS_ZH,
    )
    clusters = None
    if classified is not None:
        import pyogrio

        gpkg = Path(classified)
        gpkg = gpkg / "classified.gpkg" if gpkg.is_dir() else gpkg
        if not gpkg.exists():
            raise ZoningError(f"{gpkg}: not found (give a zoning classify output folder)")
        if "cluster_points" not in {name for name, _ in pyogrio.list_layers(gpkg)}:
            raise ZoningError(
                f"{gpkg}: no cluster_points layer (give a zoning classify output folder)"
            )
        clusters = pyogrio.read_dataframe(gpkg, layer="cluster_points", read_geometry=False)
    result = safety_grid(
        village_table, meeting_table, as_of=day, clusters=clusters, source=str(villages)
    )
    with output_set(out_dir) as stage:
        write_grid(result, stage, day)
    counts = result.findings["finding"].value_counts()
    echo(
        f"as of {day} ({result.months[0]} to {result.months[-1]}): "
        + ", ".join(
            f"{k} {int(counts.get(k, 0))}"
            for k in ("no_officer", "missed_month", "missed_quarter", "cluster_no_body")
        )
        + f"; {len(result.rejected)} meeting row(s) rejected, see meetings.rejected.csv"
    )
    return result


def run_grid_demo(sample: Path, out_dir: Path, progress) -> None:
    """The sample's safety grid (SPEC §12) as of the end of its meeting log, with the
    classified cluster points: OUT/grid/. The villages and meetings tables sit beside the
    sample (written by `zoning sample`); made now if they are not there."""
    from .sample import GRID_AS_OF, write_grid_sample

    files = {"villages": sample.parent / "villages.csv", "meetings": sample.parent / "meetings.csv"}
    if not all(p.exists() for p in files.values()):
        files = write_grid_sample(sample, out_dir / "grid_tables")
    run_grid(
        files["villages"],
        files["meetings"],
        GRID_AS_OF,
        out_dir,
        out_dir / "grid",
        echo=lambda line: progress(f"safety grid {line}"),
    )


def write_sheets(data, source, out: Path, title, progress, lang="zh") -> list[Path]:
    """The A3 map sheets of a classification into the folder ``out``, all or none."""
    from ._io import output_set
    from .figures import sheet_notes, write_map_sheets

    origin, date = sheet_notes(source)
    with output_set(out, out) as stage:
        return write_map_sheets(data, stage, title, origin, date, progress=progress, lang=lang)


# --- industry campaigns (SPEC §12 一行业一方案) ------------------------------------------


def write_campaigns(state: pd.DataFrame, campaigns, out_dir: Path) -> None:
    """campaigns.csv (per campaign: workshops, final, closed, target_closed, share_final,
    deadline) and campaign_progress.csv (per campaign, class and status)."""
    from .campaigns import campaign_progress, campaign_table
    from .report import write_csv

    write_csv(campaign_table(state, campaigns), out_dir / "campaigns.csv")
    write_csv(campaign_progress(state, campaigns), out_dir / "campaign_progress.csv")


def workshop_heading(sources, config):
    """The title row of workshops.xlsx: named and dated by the workshops' input."""
    from .report import data_heading

    src = sources["workshops"]
    return data_heading(config, {"path": str(src.path), "layer": src.layer or "workshops"})


def report_heading(ledger, state: pd.DataFrame, as_of: str, county: str = ""):
    """The title row of assessment.xlsx: the county (``county``, else the ledger file's
    name), the data date (the latest event dated on or before ``as_of``; none: 未注明)
    and the as-of date."""
    import numpy as np

    from .report import Heading

    latest = state["last_event"].replace("", np.nan).dropna()
    return Heading(county or Path(ledger).stem, str(latest.max()) if len(latest) else "", as_of)


def write_styled_layers(target: str | os.PathLike, layers: dict) -> None:
    """:func:`zoning._io.write_layers` with the default style of every layer
    :mod:`zoning.styles` knows (QGIS opens them coloured, with Chinese labels)."""
    from ._io import write_layers
    from .styles import for_layers

    write_layers(target, layers, styles=for_layers(layers))


# --- ``zoning compare`` of blocks (SPEC §11 what-ifs) -------------------------------------

FILES["compare_blocks"] = {
    "blocks": "blocks_changed.csv",
    "sites": "sites_changed.csv",
    "xlsx": "blocks_changes.xlsx",
}


def write_block_changes_csv(block_changes, out_dir) -> dict[str, Path]:
    """blocks_changed.csv and sites_changed.csv (:func:`zoning.blocks.changes`) into
    ``out_dir``; a header only when nothing changes."""
    from .report import write_csv

    names = FILES["compare_blocks"]
    paths = {k: Path(out_dir) / names[k] for k in ("blocks", "sites")}
    write_csv(block_changes[0], paths["blocks"])
    write_csv(block_changes[1], paths["sites"])
    return paths


def read_blocks(path):
    """The layers of a ``zoning blocks`` output (its folder or blocks.gpkg) as an object
    with ``blocks``, ``freed_sites`` and ``name`` (the folder's name), what
    :func:`zoning.blocks.changes` compares; a missing or damaged one is one line."""
    from types import SimpleNamespace

    import pyogrio

    from .errors import first_line

    path = Path(path)
    gpkg = path / FILES["blocks"]["gpkg"] if path.is_dir() else path
    if not gpkg.exists():
        raise ZoningError(f"{gpkg}: not found (give a zoning blocks output folder)")
    try:
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        if "blocks" not in names or "freed_sites" not in names:
            raise ZoningError(
                f"{gpkg}: not a zoning blocks output (layers {names}; blocks "
                "and freed_sites expected)"
            )
        layers = {
            n: pyogrio.read_dataframe(gpkg, layer=n, use_arrow=True)
            for n in ("blocks", "freed_sites")
        }
    except ZoningError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL, sqlite, arrow: all mean "damaged"
        raise ZoningError(
            f"{gpkg}: cannot be read as a blocks output ({first_line(exc)}); "
            "run zoning blocks again"
        ) from None
    for layer, key in (("blocks", "block_id"), ("freed_sites", "site_id")):
        missing = [
            c
            for c in (key, "town", "mu", "rule", "reason", "mode" if layer == "blocks" else "reuse")
            if c not in layers[layer]
        ]
        if missing:
            raise ZoningError(
                f"{gpkg}: layer {layer} has no {', '.join(missing)}; run zoning blocks again"
            )
    name = gpkg.parent.name if gpkg.name == FILES["blocks"]["gpkg"] else gpkg.stem
    return SimpleNamespace(blocks=layers["blocks"], freed_sites=layers["freed_sites"], name=name)


def compare_blocks(blocks_dir, a, b, configs, same_loading: bool = True):
    """The blocks that change mode and the freed sites that change reuse between two
    classifications ``a`` and ``b`` of a compare, each decided under its config
    (``configs``: A's and B's). The inputs of the blocks (enterprise tables, blocks and
    scenic layers) are those recorded in ``blocks_dir``'s blocks_run.json (the base run
    of ``zoning blocks``). When both scenarios group the plots alike (same classes,
    rules and village parks, same gap and grading) B's blocks are A's re-decided
    (:meth:`zoning.blocks.Blocks.redecide`: no geometry work); else B is run afresh."""
    import json

    from .blocks import changes, run_config
    from .layers import IssueLog, read_layer

    log = Path(blocks_dir) / FILES["blocks"]["run_log"]
    if not log.exists():
        raise ZoningError(
            f"{log}: not found (give a zoning blocks output folder: its "
            "enterprise tables and layers are used for both scenarios)"
        )
    try:
        info = json.loads(log.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZoningError(f"{log}: not a run log ({exc}); run zoning blocks again") from None
    tables = [str(p) for p in info.get("enterprises") or []]
    gone = [p for p in tables if not Path(p).exists()]
    if gone:
        raise ZoningError(
            f"{log}: enterprise table {gone[0]} not found (paths are as given "
            "to zoning blocks; run compare from the same folder)"
        )
    years = info.get("years") or []
    enterprises = read_enterprise_years(tables, years[0] if len(years) == 1 else None, configs[0])
    crs = a.parcels.crs
    layers = {}
    for name in ("blocks", "scenic"):
        path = info.get(f"{name}_layer") or ""
        layers[name] = read_layer(path, name, configs[0], crs, IssueLog()) if path else None

    def decide(side, config):
        return run_config(
            side.parcels,
            enterprises,
            config,
            block_polygons=layers["blocks"],
            scenic=layers["scenic"],
        )

    ra = decide(a, configs[0])
    cols = [c for c in ("class", "rule", "village_park_id") if c in a.parcels]
    alike = (
        same_loading
        and a.parcels[cols].equals(b.parcels[cols])
        and all(configs[0].parameters[k] == configs[1].parameters[k] for k in ("adjacency_gap_m",))
        and configs[0].grading == configs[1].grading
    )
    rb = (
        ra.redecide(
            configs[1].blocks, configs[1].freed, float(configs[1].parameters["inside_share_min"])
        )
        if alike
        else decide(b, configs[1])
    )
    return changes(ra, rb)


def run_compare_blocks(a_dir, b_dir, out_dir, progress):
    """``zoning compare --blocks A --blocks B``: two ``zoning blocks`` folders (e.g. two
    years' tables, or two configs) compared: blocks_changed.csv, sites_changed.csv and
    blocks_changes.xlsx (Chinese). Returns the pair of :func:`zoning.blocks.changes`."""
    from ._io import output_set
    from .blocks import changes
    from .report import write_block_changes_xlsx

    a, b = read_blocks(a_dir), read_blocks(b_dir)
    if a.name == b.name:
        a.name, b.name = str(a_dir), str(b_dir)
    found = changes(a, b)
    progress(f"writing {out_dir}")
    with output_set(out_dir) as stage:
        write_block_changes_csv(found, stage)
        write_block_changes_xlsx(found, stage / FILES["compare_blocks"]["xlsx"], (a.name, b.name))
    return found


def _write_plot_list(folder: ClassifiedFolder, target, heading) -> pd.DataFrame:
    """classified.xlsx (the plot 清单) of a classification; returns the cut-cell notes."""
    from .report import plot_list, write_classified_xlsx

    parks, points = folder.context.get("township_parks"), folder.context.get("cluster_points")
    return write_classified_xlsx(plot_list(folder.parcels, parks, points), target, heading)
