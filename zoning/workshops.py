"""Household workshops (SPEC §6): four classes, fixes owed, placement into micro parks.

Placement is a generalised assignment problem, solved with HiGHS to a proven relative gap
(:mod:`zoning.placement`). The only candidates dropped before solving are
those that can never be in an optimum: a park whose free space is smaller than the
workshop, and a placement costing at least the penalty of leaving it unplaced (moving it
to "unplaced" instead never raises the objective and only frees space).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from .layers import IssueLog, parse_bool, parse_int
from .measures import code_rank
from .placement import solve_placement

CLASSES = ("eliminate", "demolish", "to_park", "upgrade")
CLASS_ZH = {"eliminate": "整治淘汰", "demolish": "搬迁拆除", "to_park": "园区集聚",
            "upgrade": "改造提升", "unclassified": "未分类"}
BOOLEANS = ("licensed", "pollution", "major_hazard", "three_in_one", "illegal_building",
            "backward_capacity")
INTEGERS = ("hazards_found", "hazards_open", "employees")
NUMBERS = ("floor_area_m2", "output_10k_yuan", "tax_10k_yuan")
PERMIT_WORDS = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "有": "yes", "是": "yes",
                "no": "no", "n": "no", "false": "no", "0": "no", "无": "no", "否": "no",
                "exempt": "exempt", "豁免": "exempt", "免办": "exempt", "": ""}
FIX_ZH = {"licence": "办理营业执照", "permit": "办理环评/排污许可", "hazards": "整改安全隐患",
          "separation": "三合一场所分离"}
#: Placement defaults (SPEC §6); a [workshops] table in the TOML overrides them.
PLACEMENT_DEFAULTS = {"unplaced_penalty_m": 100_000.0, "other_town_penalty_m": 0.0,
                      "mip_rel_gap": 1e-4, "time_limit_s": 30.0}


def clean_fields(ws: pd.DataFrame, issues: IssueLog) -> pd.DataFrame:
    """Booleans, integers, numbers and env_permit as SPEC §6 reads them; bad values reported."""
    ws = ws.copy()
    ids = ws["workshop_id"]
    for f in BOOLEANS:
        ws[f] = parse_bool(ws[f], f, "workshops", issues, ids) if f in ws else False
    for f in INTEGERS:
        ws[f] = parse_int(ws[f], f, "workshops", issues, ids) if f in ws else pd.array(
            [pd.NA] * len(ws), dtype="Int64")
    for f in NUMBERS:
        if f not in ws:
            ws[f] = np.nan
            continue
        raw = ws[f]
        num = pd.to_numeric(raw, errors="coerce")
        bad = (raw.notna() & raw.astype(str).str.strip().ne("") & num.isna()).to_numpy()
        if bad.any():
            pos = np.flatnonzero(bad)
            issues.add("workshops", "coerced",
                       [f"{f} value {raw.iloc[p]!r} is not a number; left empty" for p in pos],
                       pos, ids.iloc[pos])
        ws[f] = num.astype(float)
    permit = ws["env_permit"] if "env_permit" in ws else pd.Series("", index=ws.index)
    text = permit.astype(object).where(permit.notna(), "").astype(str).str.strip().str.lower()
    norm = text.map(PERMIT_WORDS)
    bad = norm.isna().to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        issues.add("workshops", "coerced",
                   [f"env_permit value {permit.iloc[p]!r} is not yes/no/exempt; left empty"
                    for p in pos], pos, ids.iloc[pos])
    ws["env_permit"] = norm.fillna("")
    return ws


def first_under(points: np.ndarray, polygons: np.ndarray, ids) -> np.ndarray:
    """Position in ``polygons`` of the polygon containing or touching each point, the
    smallest id where several do (-1: none, or no point)."""
    out = np.full(len(points), -1)
    present = ~shapely.is_missing(points)
    usable = ~shapely.is_missing(polygons)
    if not usable.any() or not present.any():
        return out
    keep = np.flatnonzero(usable)
    tree = shapely.STRtree(polygons[keep])
    pt_idx, poly_idx = tree.query(points[present], predicate="intersects")
    pt_idx, poly_idx = np.flatnonzero(present)[pt_idx], keep[poly_idx]
    order = np.lexsort((code_rank(ids)[poly_idx], pt_idx))
    pts = pt_idx[order]
    first = np.r_[True, pts[1:] != pts[:-1]] if len(pts) else np.empty(0, bool)
    out[pts[first]] = poly_idx[order][first]
    return out


def plot_under(points: np.ndarray, parcels: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(parcel_id, class) of the plot containing or touching each point ("" if none);
    several: the smallest parcel_id (SPEC §6)."""
    hit = first_under(points, np.asarray(parcels.geometry.array, dtype=object),
                      parcels["parcel_id"].to_numpy(dtype=str))
    found = hit >= 0
    pid = np.full(len(points), "", dtype=object)
    cls = np.full(len(points), "", dtype=object)
    pid[found] = parcels["parcel_id"].to_numpy(dtype=object)[hit[found]]
    cls[found] = parcels["class"].to_numpy(dtype=object)[hit[found]]
    return pid, cls


def in_layer(points: np.ndarray, layer: gpd.GeoDataFrame | None) -> np.ndarray:
    """True where a point lies in (or on the boundary of) any polygon of the layer."""
    hit = np.zeros(len(points), dtype=bool)
    present = ~shapely.is_missing(points)
    if layer is None or not len(layer) or not present.any():
        return hit
    tree = shapely.STRtree(np.asarray(layer.geometry.array, dtype=object))
    idx, _ = tree.query(points[present], predicate="intersects")
    hit[np.flatnonzero(present)[np.unique(idx)]] = True
    return hit


def decide_workshops(ws: pd.DataFrame, problem: np.ndarray) -> pd.DataFrame:
    """The four classes of SPEC §6 (first match wins), the reason and the fixes owed."""
    eliminate_why = np.where(ws["backward_capacity"], "backward capacity",
                             "pollution without an environmental permit")
    eliminate = ws["backward_capacity"] | (ws["pollution"] & ws["env_permit"].eq("no"))
    on_vacate = ws["plot_class"].eq("vacate")
    demolish = ws["illegal_building"] | on_vacate | ws["in_protected"]
    demolish_why = np.select(
        [ws["illegal_building"], on_vacate],
        ["illegal building", "on plot " + ws["parcel_id"].astype(str) + " classed vacate"],
        "in protected land")
    no_plot = ws["parcel_id"].eq("")
    to_park = no_plot | ws["three_in_one"]
    to_park_why = np.where(no_plot, "on no industrial plot", "three-in-one (三合一)")
    usable = problem == ""
    cls = np.select([~usable, eliminate, demolish, to_park],
                    ["unclassified", "eliminate", "demolish", "to_park"], "upgrade")
    upgrade_why = "on plot " + ws["parcel_id"].astype(str) + " (" + ws["plot_class"].astype(
        str) + "), no other rule applies"
    reason = np.select([~usable, eliminate, demolish, to_park],
                       ["cannot classify: " + pd.Series(problem, index=ws.index),
                        eliminate_why, demolish_why, to_park_why], upgrade_why)
    owes = {"licence": ~ws["licensed"], "permit": ws["env_permit"].eq("no"),
            "hazards": ws["hazards_open"].fillna(0).gt(0), "separation": ws["three_in_one"]}
    fixes = pd.Series("", index=ws.index, dtype=object)
    for name, mask in owes.items():
        fixes = fixes.where(~mask, fixes + np.where(fixes.eq(""), "", ";") + name)
    return pd.DataFrame({"class": cls, "class_zh": pd.Series(cls, index=ws.index).map(CLASS_ZH),
                         "fixes": fixes, "reason": reason}, index=ws.index)


@dataclass
class Placement:
    """Solution of the placement problem."""

    park: np.ndarray          # park index per mover, -1 if unplaced
    distance_m: np.ndarray    # distance to that park (NaN if unplaced)
    status: str
    gap: float                # relative MIP gap reached
    objective: float
    candidates: int
    seconds: float


def place(movers: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, options: dict) -> Placement:
    """Place moving workshops (with ``floor_area_m2``) into micro parks (SPEC §6)."""
    t0 = time.perf_counter()
    free = (parks["floor_area_m2"].astype(float) - parks["occupied_m2"].astype(float)).fillna(
        0.0).to_numpy()
    area = movers["floor_area_m2"].to_numpy(dtype=float)
    n_w, n_p = len(movers), len(parks)
    if n_w == 0 or n_p == 0:
        return Placement(np.full(n_w, -1), np.full(n_w, np.nan), "nothing to place", 0.0, 0.0,
                         0, time.perf_counter() - t0)
    # candidate pairs: the park has room for the workshop at all
    w, p = np.nonzero(area[:, None] <= free[None, :])
    pts = np.asarray(movers.geometry.array, dtype=object)
    pg = np.asarray(parks.geometry.array, dtype=object)
    dist = shapely.distance(pts[w], pg[p])
    def towns_of(frame):
        col = frame["town"] if "town" in frame else pd.Series("", index=frame.index)
        return col.fillna("").astype(str).to_numpy(dtype=object)

    other = towns_of(movers)[w] != towns_of(parks)[p]
    cost = dist + options["other_town_penalty_m"] * other
    useful = cost < options["unplaced_penalty_m"]
    w, p, cost = w[useful], p[useful], cost[useful]
    matrix = sp.coo_matrix((cost, (w, p)), shape=(n_w, n_p))
    park, status, gap, objective = solve_placement(
        matrix, area, free, options["unplaced_penalty_m"], options["mip_rel_gap"],
        options["time_limit_s"] - (time.perf_counter() - t0))
    placed = park >= 0
    distance = np.full(n_w, np.nan)
    distance[placed] = shapely.distance(pts[placed], pg[park[placed]])
    return Placement(park, distance, status, gap, objective, len(cost),
                     time.perf_counter() - t0)


def town_table(ws: pd.DataFrame) -> pd.DataFrame:
    """Per town: workshops found and classed, per class, three-in-one, hazards, shortfall."""
    g = ws.assign(town=ws["town"].fillna("").replace("", "(未知)"))
    out = g.groupby("town").agg(
        found=("workshop_id", "size"),
        classed=("class", lambda s: int((s != "unclassified").sum())),
        three_in_one=("three_in_one", "sum"),
        hazards_found=("hazards_found", "sum"), hazards_open=("hazards_open", "sum"),
        no_open_hazard=("hazards_open", lambda s: int((s.fillna(0) == 0).sum())),
        shortfall_m2=("_shortfall", "sum"))
    for c in CLASSES:
        out[c] = g[g["class"] == c].groupby("town").size().reindex(out.index, fill_value=0)
    out["hazards_rectified"] = out["hazards_found"] - out["hazards_open"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rectification_rate"] = (1 - out["hazards_open"] / out["hazards_found"]).round(4)
        out["share_no_open_hazard"] = (out["no_open_hazard"] / out["found"]).round(4)
    total = out.sum(numeric_only=True)
    total["rectification_rate"] = round(1 - total["hazards_open"] / total["hazards_found"], 4) \
        if total["hazards_found"] else np.nan
    total["share_no_open_hazard"] = round(total["no_open_hazard"] / total["found"], 4)
    out.loc["合计"] = total
    cols = ["found", "classed", *CLASSES, "three_in_one", "hazards_found", "hazards_rectified",
            "hazards_open", "rectification_rate", "no_open_hazard", "share_no_open_hazard",
            "shortfall_m2"]
    out = out[cols].reset_index()
    ints = [c for c in cols if c not in ("rectification_rate", "share_no_open_hazard",
                                         "shortfall_m2")]
    out[ints] = out[ints].astype(int)
    out["shortfall_m2"] = out["shortfall_m2"].astype(float).round(1)
    return out


# --- the whole job -------------------------------------------------------------------

@dataclass
class WorkshopResult:
    """Workshops with class, fixes and placement; micro parks with their use."""

    workshops: gpd.GeoDataFrame
    micro_parks: gpd.GeoDataFrame
    towns: pd.DataFrame
    placement: Placement
    issues: IssueLog
    crs: object


def read_point_list(path, config, issues: IssueLog) -> gpd.GeoDataFrame:
    """A CSV or Excel list with coordinate columns ([workshops] x, y) as points.

    The list's coordinate system must be declared ([crs] workshops = "EPSG:4490",
    "EPSG:4326" or "GCJ-02"): lists typed from map pickers are often GCJ-02.
    """
    from pathlib import Path

    from .errors import LayerError

    path = Path(path)
    if "workshops" not in config.crs:
        raise LayerError('a coordinate list needs its CRS: declare [crs] workshops = '
                         '"EPSG:4490" (CGCS2000), "EPSG:4326" (WGS84) or "GCJ-02"',
                         str(path), "workshops")
    try:
        if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
            table = pd.read_excel(path, dtype=str)
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                encoding="utf-8-sig")
    except FileNotFoundError:
        raise LayerError("file not found", str(path), "workshops") from None
    except Exception as exc:  # unreadable sheet: one line
        raise LayerError(f"cannot read ({exc})", str(path), "workshops") from None
    fields = config.fields.get("workshops", {})
    table = table.rename(columns={k: v for k, v in fields.items() if k in table.columns})
    x_col = config.workshops.get("x", "lon")
    y_col = config.workshops.get("y", "lat")
    missing = [c for c in (x_col, y_col) if c not in table.columns]
    if missing:
        raise LayerError(f"coordinate column(s) {missing} not found (columns: "
                         f"{list(table.columns)}); name them in [workshops] x / y",
                         str(path), "workshops")
    x = pd.to_numeric(table[x_col], errors="coerce").to_numpy()
    y = pd.to_numeric(table[y_col], errors="coerce").to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    pts = np.full(len(table), None, dtype=object)
    pts[ok] = shapely.points(x[ok], y[ok])
    bad = np.flatnonzero(~ok)
    ids = table["workshop_id"] if "workshop_id" in table else None
    issues.add("workshops", "rejected", "missing or non-numeric coordinates", bad,
               None if ids is None else ids.iloc[bad])
    return gpd.GeoDataFrame(table.drop(columns=[x_col, y_col]), geometry=pts)


def classify_and_place(workshops: gpd.GeoDataFrame, micro_parks: gpd.GeoDataFrame,
                       parcels: gpd.GeoDataFrame | None, protected, towns, config,
                       issues: IssueLog) -> WorkshopResult:
    """SPEC §6 on loaded layers (analysis CRS): facts, classes, fixes, placement."""
    ws = clean_fields(workshops, issues)
    pts = np.asarray(ws.geometry.array, dtype=object)
    n = len(ws)
    problem = np.full(n, "", dtype=object)
    missing = shapely.is_missing(pts)
    problem[missing] = "no coordinates"
    not_point = ~missing & (shapely.get_type_id(pts) != shapely.GeometryType.POINT)
    problem[not_point] = "geometry is not a point"
    pts = np.where(not_point, None, pts)
    if towns is not None and len(towns):
        out = ~missing & ~not_point & (first_under(
            pts, np.asarray(towns.geometry.array, dtype=object),
            towns["town"].to_numpy(dtype=str)) < 0)
        problem[out] = "outside the county (in no town polygon)"
        names = towns["town"].to_numpy(dtype=object)
        hit = first_under(pts, np.asarray(towns.geometry.array, dtype=object),
                          names.astype(str))
        spatial_town = np.where(hit >= 0, names[np.maximum(hit, 0)], "")
        given = ws["town"].fillna("").astype(str).str.strip() if "town" in ws else \
            pd.Series("", index=ws.index)
        unknown = given.ne("") & ~given.isin(set(names))
        if unknown.any():
            pos = np.flatnonzero(unknown.to_numpy())
            issues.add("workshops", "coerced",
                       [f"town {given.iloc[p]!r} is not a town of the towns layer; "
                        f"using {spatial_town[p] or 'none'} from its position" for p in pos],
                       pos, ws["workshop_id"].iloc[pos])
        ws["town"] = np.where(given.eq("") | unknown, spatial_town, given)
    elif "town" not in ws:
        ws["town"] = ""
    lost = np.flatnonzero(problem != "")
    issues.add("workshops", "unclassified", problem[lost], lost, ws["workshop_id"].iloc[lost])
    if parcels is not None:
        ws["parcel_id"], ws["plot_class"] = plot_under(pts, parcels)
    else:
        ws["parcel_id"], ws["plot_class"] = "", ""
    ws["in_protected"] = in_layer(pts, protected)
    decision = decide_workshops(ws, problem)
    ws = pd.concat([ws.drop(columns=[c for c in decision.columns if c in ws]), decision],
                   axis=1)

    options = {**PLACEMENT_DEFAULTS, **{k: v for k, v in config.workshops.items()
                                        if k in PLACEMENT_DEFAULTS}}
    moving = ws["class"].isin(["to_park", "demolish"]).to_numpy()
    area = ws["floor_area_m2"].to_numpy(dtype=float)
    has_area = np.isfinite(area) & (area > 0)
    movers = ws[moving & has_area]
    parks = micro_parks.reset_index(drop=True)
    placement = place(movers, parks, options)
    target = np.full(n, "", dtype=object)
    dist = np.full(n, np.nan)
    mover_rows = np.flatnonzero(moving & has_area)
    placed = placement.park >= 0
    target[mover_rows[placed]] = parks["micro_park_id"].to_numpy(dtype=object)[
        placement.park[placed]]
    dist[mover_rows[placed]] = placement.distance_m[placed]
    free = (parks["floor_area_m2"].astype(float) - parks["occupied_m2"].astype(float)).fillna(
        0.0).to_numpy()
    reason = ws["reason"].astype(str).to_numpy(dtype=object)
    no_area = moving & ~has_area
    reason[no_area] = reason[no_area] + "; unplaceable: no floor area given"
    too_big = mover_rows[~placed][area[mover_rows[~placed]] > free.max(initial=0.0)]
    reason[too_big] = reason[too_big] + f"; unplaced: larger than any park's free space " \
                                        f"({free.max(initial=0.0):.0f} m²)"
    full = np.setdiff1d(mover_rows[~placed], too_big)
    reason[full] = reason[full] + "; unplaced: no park with room left (placing as many " \
                                  "workshops as possible, then the shortest distances)"
    reason[mover_rows[placed]] = reason[mover_rows[placed]] + "; to micro park " + \
        target[mover_rows[placed]] + " at " + pd.Series(dist[mover_rows[placed]]).map(
            "{:.0f}".format).to_numpy(dtype=object) + " m"
    ws["target_micro_park_id"] = target
    ws["distance_m"] = np.round(dist, 1)
    ws["reason"] = reason
    ws["_shortfall"] = np.where(moving & has_area & (target == ""), area, 0.0)

    used = np.bincount(placement.park[placed], weights=movers["floor_area_m2"].to_numpy(
        dtype=float)[placed], minlength=len(parks)) if len(parks) else np.zeros(0)
    count = np.bincount(placement.park[placed], minlength=len(parks)) if len(parks) else \
        np.zeros(0, int)
    mp = parks.copy()
    mp["capacity_m2"] = free
    mp["used_m2"] = used.round(1)
    mp["remaining_m2"] = (free - used).round(1)
    mp["placed_workshops"] = count.astype(int)

    towns_tab = town_table(ws)
    first = ["workshop_id", "class", "class_zh", "fixes", "parcel_id",
             "target_micro_park_id", "distance_m", "reason"]
    rest = [c for c in ws.columns if c not in first and c not in ("_shortfall", "geometry")]
    out = gpd.GeoDataFrame(ws[first + rest], geometry=pts, crs=workshops.crs)
    return WorkshopResult(out, mp, towns_tab, placement, issues, workshops.crs)


def load_and_run(input_path, config, workshops_path=None, micro_parks_path=None,
                 progress=None) -> tuple[WorkshopResult, dict]:
    """Read the layers of INPUT (and separate workshop / micro-park files), classify the
    plots under the workshops, then classify and place the workshops."""
    from pathlib import Path

    from .classify import classify_files
    from .layers import REQUIRED, Source, list_layers, prepare_layer, read_raw, to_analysis

    say = progress or (lambda msg: None)
    input_path = Path(input_path)
    names = list_layers(input_path)
    issues = IssueLog()
    info: dict = {"inputs": {}}
    parcels = None
    crs = None
    layers = None
    if all(n in names for n in REQUIRED):
        say("classifying the plots under the workshops")
        sources = {n: Source(input_path, n) if n in names else None
                   for n in (*REQUIRED, "protected", "towns")}
        classified = classify_files(sources, config)
        parcels, layers, crs = classified.parcels, classified.layers, classified.layers.crs
        issues.rows.extend(classified.layers.issues.rows)
        info["parcel_classes"] = classified.parcels["class"].value_counts().to_dict()
    else:
        issues.add("parcels", "note", f"{input_path} has no plot layers: every workshop counts "
                                      "as on no industrial plot")

    def load(name, given):
        src = Source.parse(given) if given else Source(input_path, name)
        if src.path.suffix.lower() in (".csv", ".xlsx", ".xls", ".xlsm"):
            gdf = read_point_list(src.path, config, issues)  # no CRS: declared in [crs]
        else:
            gdf = read_raw(src, name, config, issues)
        gdf = prepare_layer(gdf, name, str(src.path), config, issues)
        info["inputs"][name] = str(src)
        return gdf

    say("reading workshops and micro parks")
    ws_raw = load("workshops", workshops_path)
    mp_raw = load("micro_parks", micro_parks_path)
    if crs is None:
        from .layers import analysis_crs

        crs = analysis_crs(ws_raw, config)
    ws = to_analysis(ws_raw, "workshops", "workshops", crs, issues, keep_invalid_rows=True)
    mp = to_analysis(mp_raw, "micro_parks", "micro_parks", crs, issues, keep_invalid_rows=False)
    protected = layers.protected if layers is not None else None
    towns = layers.towns if layers is not None else None
    say("classifying and placing workshops")
    return classify_and_place(ws, mp, parcels, protected, towns, config, issues), info
