"""Output folders (HOUSE.md tier T7): the names of the files every command writes, and the
writers and readers of those folders.

A domain module (T5) returns frames; a format module (T6: ``report``, ``figures``,
``maps``) turns a frame into one file; this module decides which files make up a folder,
writes them through :func:`zoning._io.output_set` and reads them back. Issue 14 moves the
existing folder writers here; new programmes (blocks, safety grid) add theirs here.
"""

from __future__ import annotations

#: File names of every output folder, by command. One table, so a newcomer finds them and
#: a reader of a folder uses the same names as its writer.
FILES: dict[str, dict[str, str]] = {
    "classify": {"classified": "classified.gpkg", "summary_csv": "summary.csv",
                 "summary_xlsx": "summary.xlsx", "classified_xlsx": "classified.xlsx",
                 "issues": "issues.csv",
                 "run_log": "run.json"},
    "workshops": {"gpkg": "workshops.gpkg", "xlsx": "workshops.xlsx",
                  "towns": "workshop_towns.csv", "issues": "workshop_issues.csv",
                  "run_log": "workshop_run.json", "power_list": "power_list.csv"},
    "compare": {"transitions": "transitions.csv", "by_town": "transitions_by_town.csv",
                "xlsx": "transitions.xlsx", "changed": "changed.gpkg",
                "map": "changes.html"},
    "ledger_report": {"progress": "progress.csv", "towns": "towns.csv",
                      "assessment": "assessment.xlsx", "issues": "issues.csv",
                      "status": "status.gpkg", "chart": "completion.png"},
    "grade": {"csv": "grades.csv", "xlsx": "grades.xlsx", "issues": "grade_issues.csv"},
    "map": {"county": "county.html", "index": "index.html"},
    "grid": {"findings": "grid.csv", "towns": "grid_towns.csv", "xlsx": "grid.xlsx",
             "rejected": "meetings.rejected.csv", "issues": "grid_issues.csv"},
}

FILES["blocks"] = {"gpkg": "blocks.gpkg", "history": "history.csv",
                   "towns": "freed_towns.csv", "xlsx": "blocks.xlsx",
                   "plots": "block_plots.csv", "issues": "blocks_issues.csv",
                   "run_log": "blocks_run.json"}


def write_blocks(result, out_dir, run_info: dict | None = None, issues=None
                 ) -> dict[str, str]:
    """The output folder of ``zoning blocks`` (SPEC §11), written as one set
    (:func:`zoning._io.output_set`): blocks.gpkg (layers ``blocks``, ``freed_sites``),
    history.csv, freed_towns.csv, blocks.xlsx, block_plots.csv (every input plot with its
    block or site: rows in = rows out), blocks_run.json, and blocks_issues.csv (rows of
    the blocks or scenic layer repaired or dropped, ``issues``, and workbook cells cut to
    Excel's limit; header only when there are none). Returns the file paths by key."""
    import os

    import pandas as pd

    from ._io import output_set, write_layers
    from .report import write_blocks_xlsx, write_csv, write_run_log

    names = FILES["blocks"]
    written = {}
    with output_set(out_dir) as stage:
        write_layers(stage / names["gpkg"], {"blocks": result.blocks,
                                             "freed_sites": result.freed_sites})
        write_csv(result.history, stage / names["history"])
        write_csv(result.towns, stage / names["towns"])
        write_csv(result.plots, stage / names["plots"])
        cut = write_blocks_xlsx(result, stage / names["xlsx"])
        listed = [f for f in (issues, cut) if f is not None and len(f)]
        # always written (header only when empty): a stale one never outlives its run
        write_csv(pd.concat(listed, ignore_index=True) if listed else
                  pd.DataFrame(columns=["layer", "row", "id", "action", "reason"]),
                  stage / names["issues"])
        info = dict(run_info or {})
        info.update({
            "rows": {"plots_in": len(result.plots), "plots_out": len(result.plots),
                     "blocks": len(result.blocks), "freed_sites": len(result.freed_sites),
                     "issues": sum(len(f) for f in listed)},
            "years": [int(y) for y in result.years],
            "parameters": {"blocks": result.params, "freed": result.freed_params,
                           "inside_share_min": result.inside_share_min},
            "modes": result.blocks["mode"].value_counts().to_dict(),
            "reuses": result.freed_sites["reuse"].value_counts().to_dict(),
            "outputs": dict(names),
        })
        write_run_log(stage / names["run_log"], info)
        written = {k: os.fspath(os.path.join(out_dir, v)) for k, v in info["outputs"].items()}
    return written


def read_classified_plots(path) -> tuple:
    """The plots of a ``zoning classify`` output (its folder or classified.gpkg) and the
    path of the GeoPackage read; a missing or damaged one is one line."""
    from pathlib import Path

    import pyogrio

    from .errors import ZoningError, first_line

    path = Path(path)
    gpkg = path / FILES["classify"]["classified"] if path.is_dir() else path
    if not gpkg.exists():
        raise ZoningError(f"{gpkg}: not found (give a zoning classify output folder or its "
                          "classified.gpkg)")
    try:
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        if "parcels" not in names or "village_parks" not in names:
            raise ZoningError(f"{gpkg}: not a zoning classify output (layers {names}; "
                              "parcels and village_parks expected)")
        plots = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    except ZoningError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL, sqlite, arrow: all mean "damaged"
        raise ZoningError(f"{gpkg}: cannot be read as a classification ({first_line(exc)}); "
                          "run zoning classify again") from None
    missing = [c for c in ("parcel_id", "class", "rule", "village_park_id") if c not in plots]
    if missing:
        raise ZoningError(f"{gpkg}: layer parcels has no {', '.join(missing)}; "
                          "run zoning classify again")
    if plots.crs is None:
        raise ZoningError(f"{gpkg}: layer parcels has no CRS; run zoning classify again")
    return plots, gpkg


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
