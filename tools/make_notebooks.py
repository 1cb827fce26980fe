"""Write the notebooks in notebooks/ (without outputs) from the cells below.

    .venv/bin/python tools/make_notebooks.py

Edit the cells here, rerun, commit the .ipynb files: they stay reviewable and stripped.
"""

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]
FIND_ROOT = """from pathlib import Path

ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "data").is_dir())
SAMPLE = ROOT / "data" / "sample_county.gpkg\""""

QUICKSTART = [
    (
        "md",
        """# 01 · Quickstart: classify the sample county

Load the layers of the bundled sample county (framed by the real outline of Cixi 慈溪市),
measure every village industrial plot once, decide its class by the default rules of
SPEC §5, and look at the result: a summary per town, the reasons, a map.""",
    ),
    ("code", FIND_ROOT),
    (
        "code",
        """import zoning

study = zoning.Study.from_file(SAMPLE)        # reads, repairs and measures once
result = study.classify()                     # the SPEC §5 table with default parameters
result.parcels[["parcel_id", "town", "class_zh", "rule", "target_id", "reason"]].head()""",
    ),
    ("md", "Plots, m² and mu per town and class (the same table as `summary.csv`):"),
    (
        "code",
        """summary = zoning.summarise(result.parcels)
summary[summary["town"] == "合计"]""",
    ),
    ("md", "Every plot carries the numbers that decided it:"),
    (
        "code",
        """result.parcels.groupby("rule").agg(plots=("parcel_id", "size"),
                                   mu=("area_mu", "sum")).round(2)""",
    ),
    ("md", "The map (offline: Leaflet is inlined). Click a plot to read why it got its class."),
    (
        "code",
        """from zoning.maps import build_map, show

town = "观海卫镇"
data = {"parcels": result.parcels[result.parcels["town"] == town],
        "township_parks": study.layers.township_parks,
        "towns": study.layers.towns[study.layers.towns["town"] == town]}
show(build_map(data, title=f"{town} 村级工业用地分类"))""",
    ),
]

WHAT_IF = [
    (
        "md",
        """# 02 · What if …?

Change a number in the next cell and rerun the notebook (or just the cells below it):
the measures are computed once, so each scenario takes a fraction of a second on the
sample county.""",
    ),
    (
        "code",
        """GAP_M = 50            # plots this close count as one village park (default 20)
GROWTH_M = 300        # grow the development boundary by this much (a stand-in for 2035)
SCATTERED_MU = 30     # scattered eco / fusion plots may be this large (default 15)""",
    ),
    ("code", FIND_ROOT),
    (
        "code",
        """import time

import zoning
from zoning.maps import show

study = zoning.Study.from_file(SAMPLE)
base = study.classify(name="现状规则")""",
    ),
    ("md", "## 1 · Adjacency: how far apart may plots be and still form one village park?"),
    (
        "code",
        """sweep = zoning.sweep(study, "adjacency_gap_m", [0, 10, 20, 30, 50, 80])
zoning.sweep_chart(sweep)
sweep[["mu_retain", "mu_consolidate", "mu_vacate"]]""",
    ),
    (
        "code",
        """t0 = time.perf_counter()
wider = study.classify(name=f"相邻 {GAP_M} m", adjacency_gap_m=GAP_M)
print(f"re-decided in {time.perf_counter() - t0:.2f} s")
moved = zoning.compare(base, wider)
moved.transitions""",
    ),
    ("code", """moved.by_town[moved.by_town["from_class"] != moved.by_town["to_class"]]"""),
    ("code", "show(moved.map())"),
    ("md", "## 2 · A larger development boundary"),
    (
        "code",
        """grown = study.layers.dev_boundary.copy()
grown["geometry"] = grown.buffer(GROWTH_M)
plan = study.with_layer("dev_boundary", grown)     # only the boundary shares are recomputed
after = plan.classify(name=f"边界外扩 {GROWTH_M} m")
growth = zoning.compare(base, after)
growth.transitions""",
    ),
    (
        "code",
        """(growth.by_town[growth.by_town["from_class"] != growth.by_town["to_class"]]
 .pivot_table(index="town", columns="to_class", values="mu", aggfunc="sum", fill_value=0))""",
    ),
    ("code", "show(growth.map())"),
    ("md", "## 3 · Larger scattered eco / rural-fusion plots"),
    (
        "code",
        """looser = study.classify(name=f"零星 {SCATTERED_MU} 亩", scattered_max_mu=SCATTERED_MU)
scattered = zoning.compare(base, looser)
scattered.transitions""",
    ),
    ("code", "show(scattered.map())"),
]


def notebook(cells) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
        for kind, src in cells
    ]
    return nb


if __name__ == "__main__":
    for name, cells in (("01_quickstart", QUICKSTART), ("02_what_if", WHAT_IF)):
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nbf.write(notebook(cells), path)
        print(f"wrote {path}")
