"""Missing numbers and names reach every writer as empty cells (issue 13, deliver 4).

A moving workshop without a floor area, a plot without a town and an enterprise without
indicators go through classify, map, workshops, ledger report and grade; every file is
written, and no cell of any table, workbook or page says "nan", "NaN", "None" or "inf".
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely
from click.testing import CliRunner

from conftest import X0, Y0, rect, tiny_layers, write_gpkg
from zoning.cli import main

BAD = re.compile(r"^(nan|NaN|None|inf|-inf|NaT|<NA>)$")


def invoke(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0 and res.exception is None or isinstance(res.exception, SystemExit), (
        res.output
    )
    assert res.exit_code == 0, res.output
    return res


def bad_cells_xlsx(path):
    book = openpyxl.load_workbook(path, read_only=True)
    return [
        (sheet.title, value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if isinstance(value, str)
        and BAD.match(value.strip())
        or isinstance(value, float)
        and value != value
    ]


def bad_cells_csv(path):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [v for col in table for v in table[col] if BAD.match(v.strip())]


def test_every_writer_takes_missing_numbers(tmp_path):
    layers = tiny_layers()
    layers["parcels"].loc[[1, 3], "town"] = None  # P002, P004 without a town
    layers["parcels"].loc[2, "built_year"] = None
    layers["workshops"] = gpd.GeoDataFrame(
        {
            "workshop_id": ["W1", "W2", "W3"],
            "town": ["浒山街道", None, "宗汉街道"],
            "illegal_building": [True, True, False],
            "floor_area_m2": [None, 80.0, None],
            "hazards_found": [None, 2, 1],
            "hazards_open": [None, 1, 0],
            "employees": [None, 3, None],
        },
        geometry=[
            shapely.Point(X0 + 50, Y0 + 25),
            shapely.Point(X0 + 700, Y0 + 700),
            shapely.Point(X0 + 3020, Y0 + 20),
        ],
        crs=4549,
    )
    layers["micro_parks"] = gpd.GeoDataFrame(
        {
            "micro_park_id": ["M1"],
            "name": [None],
            "town": [None],
            "floor_area_m2": [500.0],
            "occupied_m2": [None],
        },
        geometry=[rect(500, 500, 50, 50)],
        crs=4549,
    )
    gpkg = write_gpkg(tmp_path / "county.gpkg", layers)
    out = tmp_path / "out"
    invoke("classify", gpkg, "--out", out, "--quiet")
    invoke("workshops", gpkg, "--out", out, "--quiet")
    ws = pyogrio.read_dataframe(out / "workshops.gpkg", layer="workshops").set_index("workshop_id")
    assert ws.loc["W1", "target_micro_park_id"] in ("", None)  # unplaceable, listed
    issues = pd.read_csv(out / "workshop_issues.csv", dtype=str, keep_default_na=False)
    assert "W1" in set(issues.loc[issues["action"] == "unplaceable", "id"])
    pd.DataFrame(
        {
            "enterprise_id": ["E1", "E2", "E3"],
            "enterprise": ["甲厂", "乙厂", ""],
            "land_mu": ["10", "", "4"],
            "tax_10k_yuan": ["50", "", ""],
            "value_added_10k_yuan": ["200", "", ""],
            "energy_tce": ["", "", ""],
            "emissions_t": ["", "", ""],
            "employees": ["20", "", ""],
            "revenue_10k_yuan": ["400", "", ""],
            "rd_10k_yuan": ["", "", ""],
        }
    ).to_csv(out / "enterprises.csv", index=False)
    invoke("grade", out / "enterprises.csv", "--out", out)
    invoke("map", out, "--out", tmp_path / "maps", "--by-town", "--quiet")
    ledger = tmp_path / "ledger.gpkg"
    invoke("ledger", "init", ledger, "--from", out, "--workshops", out)
    invoke("ledger", "report", ledger, "--as-of", "2026-11-30", "--out", tmp_path / "report")

    for xlsx in [
        out / "summary.xlsx",
        out / "classified.xlsx",
        out / "workshops.xlsx",
        out / "grades.xlsx",
        tmp_path / "report" / "assessment.xlsx",
    ]:
        assert bad_cells_xlsx(xlsx) == [], xlsx
    for csv in [*out.glob("*.csv"), *(tmp_path / "report").glob("*.csv")]:
        assert bad_cells_csv(csv) == [], csv
    for png in [
        tmp_path / "maps" / "overview.png",
        tmp_path / "maps" / "towns_mu.png",
        tmp_path / "report" / "completion.png",
    ]:
        assert png.stat().st_size > 1000, png
    for page in (tmp_path / "maps").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"[:\[,]\s*(NaN|-?Infinity)\b", text), page  # JSON has no NaN
    page = (tmp_path / "maps" / "county.html").read_text(encoding="utf-8")
    call = re.search(r"zoningMap\(map_\w+, ", page)
    assert call, "the page calls zoningMap with its data"

    def not_json(constant):
        raise ValueError(f"{constant} is not JSON")

    data, _ = json.JSONDecoder(parse_constant=not_json).raw_decode(page, call.end())
    plots = [f["properties"]["parcel_id"] for c in data["classes"] for f in c["data"]["features"]]
    assert sorted(plots) == sorted(layers["parcels"]["parcel_id"])
    grades = pd.read_csv(out / "grades.csv", dtype=str, keep_default_na=False)
    assert grades.set_index("enterprise_id").loc["E2", "score"] not in ("nan", "NaN")
