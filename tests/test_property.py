"""Random text in every text field, through every command (issue 12, deliver 7).

Hypothesis throws Unicode, control characters, template syntax, HTML, formula starts and
path tricks into the text fields of a small county and runs classify -> map -> workshops
-> ledger init/import/report/verify -> grade, in process, as a user's shell would. The
data are valid otherwise, so every command must succeed: no traceback, rows in = rows
out, and no text evaluated (a template payload that would create a file creates none).
"""

from __future__ import annotations

import csv
import html
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import X0, Y0, rect, tiny_layers, write_gpkg
from zoning._io import formula_unescape
from zoning.cli import main
from zoning.maps import TEXT as MAP_TEXT

SENTINEL = Path(tempfile.gettempdir()) / "zoning-property-pwned"
HOSTILE = [
    "{{7*7}}",
    "{{ 6*7 }}镇",
    "{% if 1 %}x{% endif %}",
    "{%",
    "{#",
    "#}",
    "}}",
    "{{ lipsum.__globals__.os.popen('touch " + str(SENTINEL) + "').read() }}",
    "{{ cycler.__init__.__globals__.os.system('touch " + str(SENTINEL) + "') }}",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "`${alert(1)}`",
    "</script><b>",
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    '=HYPERLINK("http://x")',
    "../../etc/passwd",
    "..\\..\\boot.ini",
    "a/b\\c:d*e?f",
    "CON",
    "NUL",
    ".",
    "..",
    "排名",
    "合计",
    "'镇",
    "镇" * 40,
    "NA",
    "None",
    "null",
    "nan",
    "TRUE",
    "007",
    "1e20",
    "²",
    "٣",
    "\u202etxt.exe",
    "\t",
    "a\r\nb",
    "\x1b[31mred",
    "\u200b",
    "😀",
    " 浒山街道 ",
    "$\\foo$",
    "$x^2$",
    "镇" * 33000,
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
)
ID = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z")), min_size=1, max_size=8),
).filter(lambda s: s.strip())  # a blank id is a missing id: one line, tested elsewhere


def invoke(*args):
    """Run one command in process; it must succeed with no exception escaping."""
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"zoning {' '.join(map(str, args))} raised {result.exception!r}\n{result.output}"
        ) from result.exception
    assert result.exit_code == 0, f"zoning {' '.join(map(str, args))}: {result.output}"
    return result


def county(texts: dict, ids: list[str], folder: Path) -> Path:
    layers = tiny_layers()
    parcels = layers["parcels"]
    n = len(parcels)
    parcels["parcel_id"] = ids[:n]
    for field in ("town", "village", "enterprise"):
        parcels[field] = texts[field][:n]
    parcels["industry"] = texts["industry"][:n]
    first = texts["town"][0] if texts["town"][0].strip() else "镇"  # the towns layer's
    layers["towns"]["town"] = [first, first.strip() + "·2"]  # id: present and unique
    layers["township_parks"]["name"] = texts["name"][:2]
    layers["cluster_points"]["name"] = texts["name"][2:3]
    layers["protected"]["kind"] = texts["name"][3:4]
    points = [
        shapely.Point(X0 + x, Y0 + y)
        for x, y in [(50, 25), (700, 700), (3050, 1050), (20, 1020), (3020, 20), (900, 900)]
    ]
    layers["workshops"] = gpd.GeoDataFrame(
        {
            "workshop_id": ids[n : n + len(points)],
            "town": texts["town"][: len(points)],
            "village": texts["village"][: len(points)],
            "industry": texts["industry"][: len(points)],
            "licensed": [True, False, True, False, True, False],
            "env_permit": ["yes", "no", "exempt", "yes", "no", "yes"],
            "three_in_one": [False, True, False, True, False, False],
            "hazards_found": [2, 1, 0, 3, 1, 0],
            "hazards_open": [1, 0, 0, 1, 0, 0],
            "floor_area_m2": [120.0, 80.0, None, 60.0, 200.0, 90.0],
        },
        geometry=points,
        crs=4549,
    )
    layers["micro_parks"] = gpd.GeoDataFrame(
        {
            "micro_park_id": ["M1", "M2"],
            "name": texts["name"][4:6],
            "town": texts["town"][:2],
            "floor_area_m2": [500.0, 150.0],
            "occupied_m2": [100.0, 0.0],
        },
        geometry=[rect(500, 500, 50, 50), rect(2500, 500, 50, 50)],
        crs=4549,
    )
    return Path(write_gpkg(folder / "county.gpkg", layers))


@pytest.fixture(autouse=True)
def no_sentinel():
    SENTINEL.unlink(missing_ok=True)
    yield
    assert not SENTINEL.exists(), "a template payload in the data was evaluated"


EXAMPLES = int(os.environ.get("ZONING_PROPERTY_EXAMPLES", "20"))  # more: a longer hunt


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="ZONING_PROPERTY_SEED" not in os.environ,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: CI time stays bounded
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    texts=st.fixed_dictionaries(
        {
            k: st.lists(TEXT, min_size=7, max_size=7)
            for k in ("town", "village", "enterprise", "industry", "name", "note")
        }
    ),
    ids=st.lists(ID, min_size=13, max_size=13, unique_by=lambda s: s.strip()),
    title=TEXT,
)
def test_random_text_through_every_command(texts, ids, title, tmp_path_factory):
    root = tmp_path_factory.mktemp("prop")
    gpkg = county(texts, ids, root)
    out = root / "out"
    invoke("classify", gpkg, "--out", out, "--quiet")
    parcels = pyogrio.read_dataframe(out / "classified.gpkg", layer="parcels")
    assert sorted(parcels["parcel_id"]) == sorted(i.strip() for i in ids[:7])  # rows in =
    issues = pd.read_csv(out / "issues.csv", dtype=str, keep_default_na=False)  # rows out
    trimmed = {i.strip() for i in ids[:7] if i != i.strip()}
    assert trimmed <= set(issues.loc[issues["action"] == "repaired", "id"])  # listed

    if any(ord(ch) < 32 or ord(ch) == 127 for ch in title):  # refused: one line, no file
        res = CliRunner().invoke(
            main, ["map", str(out), "--out", str(root / "maps"), "--by-town", "--title", title]
        )
        assert res.exit_code == 1 and res.output.startswith("error: --title")
        assert len(res.output.strip().splitlines()) == 1 and not (root / "maps").exists()
        title = "title"
    invoke("map", out, "--out", root / "maps", "--by-town", "--title", title, "--quiet")
    page = (root / "maps" / "index.html").read_text(encoding="utf-8")
    shown = title if title.strip() else MAP_TEXT["zh"]["title"]  # a blank title: the default
    assert shown in html.unescape(page)  # the title comes out literally, not evaluated

    invoke("workshops", gpkg, "--out", out, "--quiet")
    workshops = pyogrio.read_dataframe(out / "workshops.gpkg", layer="workshops")
    assert sorted(workshops["workshop_id"]) == sorted(i.strip() for i in ids[7:13])

    ledger = root / "ledger.gpkg"
    invoke("ledger", "init", ledger, "--from", out, "--workshops", out)
    sheet = pd.DataFrame(
        {
            "kind": ["parcel"] * 7,
            "item_id": ids[:7],
            "status": ["in_progress"] * 7,
            "date": ["2026-05-01"] * 7,
            "note": texts["note"],
            "reporter": texts["name"],
        }
    )
    sheet.to_csv(root / "sheet.csv", index=False, encoding="utf-8-sig", quoting=csv.QUOTE_ALL)
    invoke("ledger", "import", ledger, root / "sheet.csv", "--today", "2026-11-30")
    invoke("ledger", "report", ledger, "--as-of", "2026-11-30", "--out", root / "report")
    progress = pd.read_csv(root / "report" / "progress.csv", keep_default_na=False)
    assert progress["items"].sum() == 13  # every plot and workshop counted once
    status = pyogrio.read_dataframe(root / "report" / "status.gpkg", layer="status")
    assert sorted(status["item_id"]) == sorted(i.strip() for i in ids)
    assert (status["status"] == "in_progress").sum() == 7  # the sheet's rows all landed
    invoke("ledger", "verify", ledger)

    enterprises = pd.DataFrame(
        {
            "enterprise_id": ids[:7],
            "enterprise": texts["enterprise"],
            "town": texts["town"],
            "land_mu": [3.0, 5.0, 2.5, 8.0, 1.0, 4.0, 6.0],
            "tax_10k_yuan": [20, 30, 5, 80, 1, 12, 40],
            "value_added_10k_yuan": [100, 150, 20, 300, 5, 60, 200],
            "energy_tce": [10, 20, 3, 50, 1, 8, 30],
            "emissions_t": [5, 8, 1, 9, 1, 2, 4],
            "employees": [20, 30, 5, 60, 2, 10, 40],
            "revenue_10k_yuan": [400, 500, 90, 900, 20, 200, 700],
            "rd_10k_yuan": [10, 20, 0, 40, 0, 5, 30],
        }
    )
    enterprises.to_csv(
        root / "enterprises.csv", index=False, encoding="utf-8-sig", quoting=csv.QUOTE_ALL
    )  # a lone CR in a cell must be quoted
    invoke("grade", root / "enterprises.csv", "--out", root / "grades")
    grades = pd.read_csv(root / "grades" / "grades.csv", dtype=str, keep_default_na=False)
    assert sorted(formula_unescape(grades["enterprise_id"])) == sorted(
        i.strip() for i in ids[:7]
    )  # 'NA', 'NULL', '007' stay ids
