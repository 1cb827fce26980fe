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
                 "summary_xlsx": "summary.xlsx", "issues": "issues.csv",
                 "run_log": "run.json"},
    "workshops": {"gpkg": "workshops.gpkg", "xlsx": "workshops.xlsx",
                  "towns": "workshop_towns.csv", "issues": "workshop_issues.csv",
                  "run_log": "workshop_run.json"},
    "compare": {"transitions": "transitions.csv", "by_town": "transitions_by_town.csv",
                "xlsx": "transitions.xlsx", "changed": "changed.gpkg",
                "map": "changes.html"},
    "ledger_report": {"progress": "progress.csv", "towns": "towns.csv",
                      "assessment": "assessment.xlsx", "issues": "issues.csv",
                      "status": "status.gpkg", "chart": "completion.png"},
    "grade": {"csv": "grades.csv", "xlsx": "grades.xlsx", "issues": "grade_issues.csv"},
    "map": {"county": "county.html", "index": "index.html"},
}

FILES["blocks"] = {"gpkg": "blocks.gpkg", "history": "history.csv",
                   "towns": "freed_towns.csv", "xlsx": "blocks.xlsx",
                   "plots": "block_plots.csv", "issues": "blocks_issues.csv",
                   "run_log": "blocks_run.json"}


def write_blocks(result, out_dir, run_info: dict | None = None) -> dict[str, str]:
    """The output folder of ``zoning blocks`` (SPEC §11), written as one set
    (:func:`zoning._io.output_set`): blocks.gpkg (layers ``blocks``, ``freed_sites``),
    history.csv, freed_towns.csv, blocks.xlsx, block_plots.csv (every input plot with its
    block or site: rows in = rows out), blocks_run.json, and blocks_issues.csv when a
    workbook cell had to be cut. Returns the file names by key."""
    import os

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
        if len(cut):
            write_csv(cut, stage / names["issues"])
        info = dict(run_info or {})
        info.update({
            "rows": {"plots_in": len(result.plots), "plots_out": len(result.plots),
                     "blocks": len(result.blocks), "freed_sites": len(result.freed_sites),
                     "cells_cut": len(cut)},
            "years": [int(y) for y in result.years],
            "parameters": {"blocks": result.params, "freed": result.freed_params,
                           "inside_share_min": result.inside_share_min},
            "modes": result.blocks["mode"].value_counts().to_dict(),
            "reuses": result.freed_sites["reuse"].value_counts().to_dict(),
            "outputs": {k: v for k, v in names.items() if k != "issues" or len(cut)},
        })
        write_run_log(stage / names["run_log"], info)
        written = {k: os.fspath(os.path.join(out_dir, v)) for k, v in info["outputs"].items()}
    return written
