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
