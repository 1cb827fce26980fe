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
