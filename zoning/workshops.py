"""Household workshops (SPEC §6): four classes, fixes owed, placement into micro parks.

Placement is a generalised assignment problem, solved with HiGHS to a proven relative gap
(:mod:`zoning.placement`). The only candidates dropped before solving are
those that can never be in an optimum: a park whose free space is smaller than the
workshop, and a placement costing at least the penalty of leaving it unplaced (moving it
to "unplaced" instead never raises the objective and only frees space).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from .layers import IssueLog, is_given, parse_bool, parse_count, problem_text, to_number
from .measures import code_rank
from .placement import solve_placement
from .safety import (
    CHECK_COLUMNS,
    failed_fixes,
    no_industrial_power,
    power_list,
    read_check_fields,
    three_in_one_checks,
)
from .vocab import (
    CLASS_ZH,
    FIX_ZH,  # noqa: F401 (re-exported: the workshop list's fix names)
    LANGS,
    OPTIONAL_LAYERS,
    REQUIRED_LAYERS,
    TOTAL,
    UNKNOWN_TOWN,
    WORKSHOP_CLASS_ZH,
    WORKSHOP_CLASSES,
)

BOOLEANS = (
    "licensed",
    "pollution",
    "major_hazard",
    "three_in_one",
    "illegal_building",
    "backward_capacity",
)
INTEGERS = ("hazards_found", "hazards_open", "employees")
NUMBERS = ("floor_area_m2", "output_10k_yuan", "tax_10k_yuan")
PERMIT_WORDS = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "1": "yes",
    "有": "yes",
    "是": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "0": "no",
    "无": "no",
    "否": "no",
    "exempt": "exempt",
    "豁免": "exempt",
    "免办": "exempt",
    "": "",
}


def list_rows(issues: IssueLog, layer: str, ids: pd.Series, mask, action: str, reason) -> None:
    """List the rows of ``mask`` in ``issues`` (``action``, ``reason(position)`` each, the
    row's id from ``ids``); nothing when no row is set."""
    pos = np.flatnonzero(mask)
    if pos.size:
        issues.add(layer, action, [reason(p) for p in pos], pos, ids.iloc[pos])


def clean_fields(ws: pd.DataFrame, issues: IssueLog, max_area: float) -> pd.DataFrame:
    """Booleans, integers, numbers and env_permit as SPEC §6 reads them; bad values reported.

    Repairs (each listed with the workshop id, Chinese first): numbers that are not
    numbers or not finite are left empty; a floor area ≤ 0 or above ``max_area``
    (``[workshops] max_floor_area_m2``, a typing or unit error) is unusable and left empty (a moving workshop without one is
    unplaceable); negative counts are left empty; ``hazards_open`` > ``hazards_found``
    (or open hazards with no count found) raises ``hazards_found`` to ``hazards_open``:
    an open hazard is a found one, and the city's rate 1 − open/found stays in [0, 1]
    without hiding any open hazard.
    """
    ws = ws.copy()
    ids = ws["workshop_id"]

    report = functools.partial(list_rows, issues, "workshops", ids)

    for f in BOOLEANS:
        ws[f] = parse_bool(ws[f], f, "workshops", issues, ids) if f in ws else False
    for f in INTEGERS:
        if f not in ws:
            ws[f] = pd.array([pd.NA] * len(ws), dtype="Int64")
            continue
        ws[f] = parse_count(ws[f], f, "workshops", issues, ids)
    for f in NUMBERS:
        if f not in ws:
            ws[f] = np.nan
            continue
        raw = ws[f]
        num = to_number(raw)
        report(
            is_given(raw) & num.isna().to_numpy(),
            "coerced",
            lambda p, f=f, raw=raw: (
                f"{f} 值 {raw.iloc[p]!r} 不是数字，留空（{f} value "
                f"{raw.iloc[p]!r} is not a number; left empty）"
            ),
        )
        infinite = np.isinf(num.to_numpy())
        report(
            infinite,
            "coerced",
            lambda p, f=f, raw=raw: (
                f"{f} 值 {raw.iloc[p]!r} 不是有限数，留空（not a finite number; left empty）"
            ),
        )
        num = num.mask(infinite)
        ws[f] = num.astype(float)
    area = ws["floor_area_m2"].to_numpy(dtype=float)
    report(
        area <= 0,
        "coerced",
        lambda p: (
            f"建筑面积 {area[p]:g} ≤ 0，无法使用，按缺失处理（floor_area_m2 {area[p]:g} "
            "is not positive; treated as missing）"
        ),
    )
    report(
        area > max_area,
        "coerced",
        lambda p: (
            f"建筑面积 {area[p]:g} 平方米超过家庭作坊上限 {max_area:,.0f}，"
            f"疑为录入错误，按缺失处理（floor_area_m2 {area[p]:g} > "
            f"{max_area:,.0f}; treated as missing）"
        ),
    )
    ws["floor_area_m2"] = np.where((area > 0) & (area <= max_area), area, np.nan)
    found, still_open = ws["hazards_found"], ws["hazards_open"]
    raise_found = still_open.gt(found.fillna(0)).fillna(False).to_numpy()
    report(
        raise_found,
        "repaired",
        lambda p: (
            f"未整改隐患 {still_open.iloc[p]} 多于排查隐患 "
            f"{'（空）' if pd.isna(found.iloc[p]) else found.iloc[p]}，排查隐患按 "
            f"{still_open.iloc[p]} 计（hazards_open > hazards_found: hazards_found "
            f"counted as {still_open.iloc[p]}, open hazards kept as given）"
        ),
    )
    ws["hazards_found"] = found.mask(raise_found, still_open)
    permit = ws["env_permit"] if "env_permit" in ws else pd.Series("", index=ws.index)
    text = permit.astype(object).where(permit.notna(), "").astype(str).str.strip().str.lower()
    norm = text.map(PERMIT_WORDS)
    bad = norm.isna().to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        issues.add(
            "workshops",
            "coerced",
            [f"env_permit value {permit.iloc[p]!r} is not yes/no/exempt; left empty" for p in pos],
            pos,
            ids.iloc[pos],
        )
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
    hit = first_under(
        points,
        np.asarray(parcels.geometry.array, dtype=object),
        parcels["parcel_id"].to_numpy(dtype=str),
    )
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
    """The four classes of SPEC §6 (first match wins), the fixes owed and the reason in
    Chinese (``reason``) and English (``reason_en``), vectorised."""
    plot = ws["parcel_id"].astype(str)
    eliminate = ws["backward_capacity"] | (ws["pollution"] & ws["env_permit"].eq("no"))
    on_vacate = ws["plot_class"].eq("vacate")
    demolish = ws["illegal_building"] | on_vacate | ws["in_protected"]
    no_plot = ws["parcel_id"].eq("")
    to_park = no_plot | ws["three_in_one"]
    usable = problem == ""
    conditions = [~usable, eliminate, demolish, to_park]
    cls = np.select(conditions, ["unclassified", "eliminate", "demolish", "to_park"], "upgrade")
    why = {  # class -> (Chinese, English), the upgrade texts last
        "unclassified": (
            problem_text(pd.Series(problem, index=ws.index), "zh"),
            problem_text(pd.Series(problem, index=ws.index), "en"),
        ),
        "eliminate": (
            np.where(ws["backward_capacity"], "落后产能", "有污染且无环评/排污许可"),
            np.where(
                ws["backward_capacity"],
                "backward capacity",
                "pollution without an environmental permit",
            ),
        ),
        "demolish": (
            np.select(
                [ws["illegal_building"], on_vacate],
                ["违法建筑", "所在地块 " + plot + " 分类为腾挪清退"],
                "位于生态保护红线/永久基本农田",
            ),
            np.select(
                [ws["illegal_building"], on_vacate],
                ["illegal building", "on plot " + plot + " classed vacate"],
                "in protected land",
            ),
        ),
        "to_park": (
            np.where(no_plot, "不在工业地块上", "三合一场所"),
            np.where(no_plot, "on no industrial plot", "three-in-one (三合一)"),
        ),
        "upgrade": (
            "所在地块 "
            + plot
            + "（"
            + ws["plot_class"].map(CLASS_ZH).fillna(ws["plot_class"]).astype(str)
            + "），不符合其他规则",
            "on plot " + plot + " (" + ws["plot_class"].astype(str) + "), no other rule applies",
        ),
    }
    texts = list(why.values())
    reason = {
        lang: np.select(conditions, [t[i] for t in texts[:-1]], texts[-1][i])
        for i, lang in enumerate(LANGS)
    }
    owes = {
        "licence": ~ws["licensed"],
        "permit": ws["env_permit"].eq("no"),
        "hazards": ws["hazards_open"].fillna(0).gt(0),
        "separation": ws["three_in_one"],
    }
    fixes = pd.Series("", index=ws.index, dtype=object)
    for name, mask in owes.items():
        fixes = fixes.where(~mask, fixes + np.where(fixes.eq(""), "", ";") + name)
    class_zh = pd.Series(cls, index=ws.index).map(WORKSHOP_CLASS_ZH)
    return pd.DataFrame(
        {
            "class": cls,
            "class_zh": class_zh,
            "fixes": fixes,
            "reason": reason["zh"],
            "reason_en": reason["en"],
        },
        index=ws.index,
    )


@dataclass
class Placement:
    """Solution of the placement problem."""

    park: np.ndarray  # park index per mover, -1 if unplaced
    distance_m: np.ndarray  # distance to that park (NaN if unplaced)
    status: str
    gap: float  # relative MIP gap reached
    objective: float
    candidates: int
    seconds: float


def place(
    movers: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, options: dict, free: np.ndarray | None = None
) -> Placement:
    """Place moving workshops (with ``floor_area_m2``) into micro parks (SPEC §6).

    ``options``: the ``[workshops]`` config table (``Config.workshops``: penalties, gap,
    time limit). ``free``: each park's free space (default: :func:`park_free_space` without
    a log).
    """
    t0 = time.perf_counter()
    if free is None:
        free = park_free_space(parks, IssueLog())
    area = movers["floor_area_m2"].to_numpy(dtype=float)
    n_w, n_p = len(movers), len(parks)
    if n_w == 0 or n_p == 0:
        return Placement(
            np.full(n_w, -1),
            np.full(n_w, np.nan),
            "nothing to place",
            0.0,
            0.0,
            0,
            time.perf_counter() - t0,
        )
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
        matrix,
        area,
        free,
        options["unplaced_penalty_m"],
        options["mip_rel_gap"],
        options["time_limit_s"] - (time.perf_counter() - t0),
    )
    placed = park >= 0
    distance = np.full(n_w, np.nan)
    distance[placed] = shapely.distance(pts[placed], pg[park[placed]])
    return Placement(park, distance, status, gap, objective, len(cost), time.perf_counter() - t0)


def park_free_space(parks: gpd.GeoDataFrame, issues: IssueLog) -> np.ndarray:
    """Each micro park's free space for placement (SPEC §6: floor area − occupied), ≥ 0.

    Listed with the park id: a floor area missing, not a number or negative (no free
    space); ``occupied_m2`` missing or negative (counted 0); occupied above the floor area
    (free space clipped at 0); a park without usable geometry (no workshop is placed
    there, free space 0 for placement).
    """
    n = len(parks)
    ids = parks["micro_park_id"] if "micro_park_id" in parks else pd.Series([""] * n)

    report = functools.partial(list_rows, issues, "micro_parks", ids)

    def column(name):
        raw = (
            parks[name] if name in parks else pd.Series([None] * n, index=parks.index, dtype=object)
        )
        num = to_number(raw).to_numpy(dtype=float)
        report(
            is_given(raw) & ~np.isfinite(num),
            "coerced",
            lambda p: (
                f"{name} 值 {raw.iloc[p]!r} 不是有限数，留空（{name} value "
                f"{raw.iloc[p]!r} is not a finite number; left empty）"
            ),
        )
        return np.where(np.isfinite(num), num, np.nan)

    floor, occupied = column("floor_area_m2"), column("occupied_m2")
    report(
        np.isnan(floor),
        "coerced",
        lambda p: "建筑面积缺失，可用空间按 0 计（floor_area_m2 missing; no free space）",
    )
    report(
        floor < 0,
        "coerced",
        lambda p: (
            f"建筑面积为负 {floor[p]:g}，可用空间按 0 计（floor_area_m2 negative; no free space）"
        ),
    )
    report(
        np.isnan(occupied) & ~np.isnan(floor) & (floor > 0),
        "coerced",
        lambda p: "已使用面积缺失，按 0 计（occupied_m2 missing; counted 0）",
    )
    report(
        occupied < 0,
        "coerced",
        lambda p: f"已使用面积为负 {occupied[p]:g}，按 0 计（occupied_m2 negative; counted 0）",
    )
    occupied = np.where(np.isnan(occupied) | (occupied < 0), 0.0, occupied)
    floor_ok = np.where(np.isnan(floor) | (floor < 0), 0.0, floor)
    report(
        (occupied > floor_ok) & (floor >= 0),
        "coerced",
        lambda p: (
            f"已使用面积 {occupied[p]:g} 大于建筑面积 {floor_ok[p]:g}，可用空间按 0 计"
            f"（occupied_m2 > floor_area_m2; free space clipped at 0）"
        ),
    )
    free = np.maximum(floor_ok - occupied, 0.0)
    geoms = np.asarray(parks.geometry.array, dtype=object) if n else np.empty(0, object)
    unusable = (
        shapely.is_missing(geoms)
        | shapely.is_empty(geoms)
        | ~np.isfinite(shapely.bounds(geoms)).all(axis=1)
        if n
        else np.zeros(0, bool)
    )
    report(
        unusable,
        "coerced",
        lambda p: "园区无几何图形，无法安置作坊（no geometry; no workshop is placed here）",
    )
    return np.where(unusable, 0.0, free)


def town_table(ws: pd.DataFrame) -> pd.DataFrame:
    """Per town: workshops found and classed, per class, three-in-one, hazards, workshops
    placed in a park of their own town and of another town, shortfall.

    A last row 合计 sums the towns; with no workshops it is the only row (all 0, rates
    empty). Rates with nothing to divide by are empty (NaN), never infinite.
    """
    town = ws["town"].fillna("").astype(str).replace("", UNKNOWN_TOWN)
    cls = ws["class"].astype(str)
    found = ws["hazards_found"].astype("Float64").fillna(0).to_numpy(dtype=float)
    still_open = ws["hazards_open"].astype("Float64")
    counts = pd.DataFrame(
        {
            "town": town.to_numpy(),
            "found": 1,
            "classed": cls.ne("unclassified").to_numpy(int),
            **{c: cls.eq(c).to_numpy(int) for c in WORKSHOP_CLASSES},
            "three_in_one": ws["three_in_one"].astype(bool).to_numpy(int),
            "hazards_found": found,
            "hazards_open": still_open.fillna(0).to_numpy(dtype=float),
            "no_open_hazard": still_open.fillna(0).eq(0).to_numpy(int),
            "shortfall_m2": ws["_shortfall"].astype(float).to_numpy(),
            **{
                c: (ws[f"_{c}"].to_numpy(int) if f"_{c}" in ws else np.zeros(len(ws), int))
                for c in ("placed_own_town", "placed_other_town")
            },
        }
    )
    out = counts.groupby("town").sum()
    out.loc[TOTAL] = out.sum() if len(out) else 0
    out["hazards_rectified"] = out["hazards_found"] - out["hazards_open"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rectification_rate"] = (
            1 - out["hazards_open"] / out["hazards_found"].where(out["hazards_found"] > 0)
        ).round(4)
        out["share_no_open_hazard"] = (
            out["no_open_hazard"] / out["found"].where(out["found"] > 0)
        ).round(4)
    cols = [
        "found",
        "classed",
        *WORKSHOP_CLASSES,
        "three_in_one",
        "hazards_found",
        "hazards_rectified",
        "hazards_open",
        "rectification_rate",
        "no_open_hazard",
        "share_no_open_hazard",
        "placed_own_town",
        "placed_other_town",
        "shortfall_m2",
    ]
    out = out[cols].rename_axis("town").reset_index()
    ints = [
        c for c in cols if c not in ("rectification_rate", "share_no_open_hazard", "shortfall_m2")
    ]
    out[ints] = out[ints].round().astype(int)
    out["shortfall_m2"] = out["shortfall_m2"].astype(float).round(1)
    return out


def finite_only(frame: pd.DataFrame) -> pd.DataFrame:
    """±inf in float columns as missing (an empty cell), so no writer meets one."""
    frame = frame.copy()
    for c in frame.columns:
        if c != "geometry" and frame[c].dtype.kind == "f":
            values = frame[c].to_numpy(dtype=float, na_value=np.nan)
            frame[c] = np.where(np.isfinite(values), values, np.nan)
    return frame


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
    #: Workshops denied three-phase industrial power (SPEC §12; :func:`zoning.safety.power_list`).
    power_list: pd.DataFrame | None = None


def read_point_list(path, config, issues: IssueLog) -> gpd.GeoDataFrame:
    """A CSV or Excel list with coordinate columns ([workshops] x, y) as points, read by
    the one table reader (:func:`zoning.layers.read_table`: UTF-8 or GBK CSV,
    ``[encoding] workshops``, ``[fields.workshops]``, title rows above the header).

    The list's coordinate system must be declared ([crs] workshops = "EPSG:4490",
    "EPSG:4326" or "GCJ-02"): lists typed from map pickers are often GCJ-02.
    """
    from pathlib import Path

    from .errors import LayerError
    from .layers import read_table

    path = Path(path)
    if "workshops" not in config.crs:
        raise LayerError(
            "a coordinate list needs its CRS: declare [crs] workshops = "
            '"EPSG:4490" (CGCS2000), "EPSG:4326" (WGS84) or "GCJ-02"',
            str(path),
            "workshops",
        )
    table = read_table(path, "workshops", config=config, keys=("workshop_id",))
    if table.attrs.get("other_sheets"):
        which = "第一个工作表" if table.attrs["sheet_index"] == 0 else "含表头的工作表"
        issues.add(
            "workshops",
            "note",
            f"只读取{which} {table.attrs['sheet']!r}，其余 "
            f"{table.attrs['other_sheets']} 未读取（only one sheet is read: the first "
            "with the header row）",
        )
    x_col, y_col = config.workshops["x"], config.workshops["y"]
    if table.shape == (0, 0):  # an empty file: no workshops
        issues.add("workshops", "note", "作坊清单为空（the list is empty: no workshops）")
        table = pd.DataFrame(
            {c: pd.Series([], dtype=object) for c in ("workshop_id", x_col, y_col)}
        )
    missing = [c for c in (x_col, y_col) if c not in table.columns]
    if missing:
        raise LayerError(
            f"coordinate column(s) {missing} not found (columns: "
            f"{list(table.columns)}); name them in [workshops] x / y",
            str(path),
            "workshops",
        )
    x, y = to_number(table[x_col]).to_numpy(), to_number(table[y_col]).to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    pts = np.full(len(table), None, dtype=object)
    pts[ok] = shapely.points(x[ok], y[ok])
    ids = table["workshop_id"] if "workshop_id" in table else None
    plain = np.isfinite(
        pd.to_numeric(table[x_col], errors="coerce").to_numpy(dtype=float)
    ) & np.isfinite(pd.to_numeric(table[y_col], errors="coerce").to_numpy(dtype=float))
    typed = np.flatnonzero(ok & ~plain)
    issues.add(
        "workshops",
        "repaired",
        "坐标含全角字符或空格，已按数字读取（coordinates with "
        "full-width characters or spaces read as numbers）",
        typed,
        None if ids is None else ids.iloc[typed],
    )
    bad = np.flatnonzero(~ok)
    issues.add(
        "workshops",
        "rejected",
        "坐标缺失、不是数字或不是有限数，无法定位（missing, "
        "non-numeric, NaN or infinite coordinates）",
        bad,
        None if ids is None else ids.iloc[bad],
    )
    return gpd.GeoDataFrame(table.drop(columns=[x_col, y_col]), geometry=pts)


def add(reason: dict[str, np.ndarray], rows, zh, en) -> None:
    """Append a Chinese and an English text to the reasons of ``rows`` (mask or positions)."""
    reason["zh"][rows] = reason["zh"][rows] + zh
    reason["en"][rows] = reason["en"][rows] + en


def classify_and_place(
    workshops: gpd.GeoDataFrame,
    micro_parks: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    protected,
    towns,
    config,
    issues: IssueLog,
    lang: str = "zh",
) -> WorkshopResult:
    """SPEC §6 on loaded layers (analysis CRS): facts, classes, fixes, placement; the
    reason in ``lang`` (``zh`` or ``en``), the other language beside it."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
    ws = clean_fields(workshops, issues, config.workshops["max_floor_area_m2"])
    ws = read_check_fields(ws, issues)  # SPEC §12 fields
    pts = np.asarray(ws.geometry.array, dtype=object)
    n = len(ws)
    problem = np.full(n, "", dtype=object)
    missing = (
        shapely.is_missing(pts) | ~np.isfinite(shapely.bounds(pts)).all(axis=1)
        if n
        else np.zeros(0, bool)
    )
    problem[missing] = "no coordinates (missing, empty, NaN or infinite)"
    not_point = ~missing & (shapely.get_type_id(pts) != shapely.GeometryType.POINT)
    problem[not_point] = "geometry is not a point"
    pts = np.where(not_point | missing, np.array(None), pts)
    if towns is not None and len(towns):
        out = (
            ~missing
            & ~not_point
            & (
                first_under(
                    pts,
                    np.asarray(towns.geometry.array, dtype=object),
                    towns["town"].to_numpy(dtype=str),
                )
                < 0
            )
        )
        problem[out] = "outside the county (in no town polygon)"
        names = towns["town"].to_numpy(dtype=object)
        hit = first_under(pts, np.asarray(towns.geometry.array, dtype=object), names.astype(str))
        spatial_town = np.where(hit >= 0, names[np.maximum(hit, 0)], "")
        given = (
            ws["town"].fillna("").astype(str).str.strip()
            if "town" in ws
            else pd.Series("", index=ws.index)
        )
        unknown = given.ne("") & ~given.isin(set(names))
        if unknown.any():
            pos = np.flatnonzero(unknown.to_numpy())
            issues.add(
                "workshops",
                "coerced",
                [
                    f"town {given.iloc[p]!r} is not a town of the towns layer; "
                    f"using {spatial_town[p] or 'none'} from its position"
                    for p in pos
                ],
                pos,
                ws["workshop_id"].iloc[pos],
            )
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
    decision = apply_safety(ws, decision, config)
    ws = pd.concat([ws.drop(columns=[c for c in decision.columns if c in ws]), decision], axis=1)

    moving = ws["class"].isin(["to_park", "demolish"]).to_numpy()
    area = ws["floor_area_m2"].to_numpy(dtype=float)
    has_area = np.isfinite(area) & (area > 0)
    movers = ws[moving & has_area]
    parks = micro_parks.reset_index(drop=True)
    free = park_free_space(parks, issues)
    placement = place(movers, parks, config.workshops, free)
    target = np.full(n, "", dtype=object)
    dist = np.full(n, np.nan)
    mover_rows = np.flatnonzero(moving & has_area)
    placed = placement.park >= 0
    target[mover_rows[placed]] = parks["micro_park_id"].to_numpy(dtype=object)[
        placement.park[placed]
    ]
    dist[mover_rows[placed]] = placement.distance_m[placed]
    reason = {
        "zh": ws["reason"].astype(str).to_numpy(dtype=object),
        "en": ws["reason_en"].astype(str).to_numpy(dtype=object),
    }
    no_area = moving & ~has_area
    add(reason, no_area, "；无法安置：未给出建筑面积", "; unplaceable: no floor area given")
    lost = np.flatnonzero(no_area)
    issues.add(
        "workshops",
        "unplaceable",
        "需搬迁但无可用建筑面积，无法安置，不计入安置目标"
        "（moving workshop without a usable floor_area_m2: unplaceable, not part of "
        "the placement objective）",
        lost,
        ws["workshop_id"].iloc[lost],
    )
    too_big = mover_rows[~placed][area[mover_rows[~placed]] > free.max(initial=0.0)]
    largest = f"{free.max(initial=0.0):.0f}"
    add(
        reason,
        too_big,
        f"；未安置：面积大于任何小微园的剩余空间（{largest} 平方米）",
        f"; unplaced: larger than any park's free space ({largest} m²)",
    )
    full = np.setdiff1d(mover_rows[~placed], too_big)
    add(
        reason,
        full,
        "；未安置：小微园已无足够剩余空间（先安置尽可能多的作坊，再取最短距离）",
        "; unplaced: no park with room left (placing as many workshops as possible, then "
        "the shortest distances)",
    )
    to = mover_rows[placed]
    metres = pd.Series(dist[to]).map("{:.0f}".format).to_numpy(dtype=object)
    add(
        reason,
        to,
        "；安置到小微园 " + target[to] + "，距 " + metres + " 米",
        "; to micro park " + target[to] + " at " + metres + " m",
    )
    ws["target_micro_park_id"] = target
    ws["distance_m"] = np.round(dist, 1)
    other = next(x for x in LANGS if x != lang)
    ws = ws.drop(columns="reason_en")
    ws["reason"], ws["reason_" + other] = reason[lang], reason[other]
    ws["_shortfall"] = np.where(moving & has_area & (target == ""), area, 0.0)
    park_town = (
        dict(
            zip(
                parks["micro_park_id"].astype(str),
                parks["town"].fillna("").astype(str),
                strict=True,
            )
        )
        if "town" in parks
        else {}
    )
    own_town = (
        ws["town"].fillna("").astype(str).to_numpy(dtype=object)
        if "town" in ws
        else np.full(n, "", dtype=object)
    )
    into = (
        pd.Series(target, dtype=object)
        .map(park_town)
        .astype("string")
        .fillna("")
        .to_numpy(dtype=object)
    )
    ws["_placed_own_town"] = (target != "") & (into == own_town) & (own_town != "")
    ws["_placed_other_town"] = (target != "") & ~ws["_placed_own_town"].to_numpy()

    used = (
        np.bincount(
            placement.park[placed],
            weights=movers["floor_area_m2"].to_numpy(dtype=float)[placed],
            minlength=len(parks),
        )
        if len(parks)
        else np.zeros(0)
    )
    count = (
        np.bincount(placement.park[placed], minlength=len(parks))
        if len(parks)
        else np.zeros(0, int)
    )
    mp = parks.copy()
    mp["capacity_m2"] = free
    mp["used_m2"] = used.round(1)
    mp["remaining_m2"] = (free - used).round(1)
    mp["placed_workshops"] = count.astype(int)

    towns_tab = finite_only(town_table(ws))
    first = [
        "workshop_id",
        "class",
        "class_zh",
        "fixes",
        "parcel_id",
        "target_micro_park_id",
        "distance_m",
        "reason",
        "reason_" + other,
    ]
    private = ("_shortfall", "_placed_own_town", "_placed_other_town", "geometry")
    rest = [c for c in ws.columns if c not in first and c not in private]
    out = gpd.GeoDataFrame(finite_only(ws[first + rest]), geometry=pts, crs=workshops.crs)
    mp = gpd.GeoDataFrame(finite_only(mp), geometry=mp.geometry.name, crs=parks.crs)
    return WorkshopResult(
        out, mp, towns_tab, placement, issues, workshops.crs, safety_power_list(out, config)
    )


def load_and_run(
    sources: dict, config, *, progress=None, lang: str = "zh"
) -> tuple[WorkshopResult, dict]:
    """Read the layers, classify the plots under the workshops, then classify and place
    the workshops.

    ``sources``: layer name -> :class:`zoning.layers.Source` (for a file, a folder or the
    command-line flags: :func:`zoning.outputs.resolve_inputs`); ``workshops`` and
    ``micro_parks`` may be a CSV/Excel point list too. A layer the job needs and did not
    get is one line naming it: nothing is classified without its plots."""
    from .classification import classify
    from .errors import LayerError
    from .layers import drop_geometry, nonfinite_rows, prepare_layer, read_raw, to_analysis

    say = progress or (lambda msg: None)
    first = [s[0] if isinstance(s, list) else s for s in sources.values() if s]
    input_path = str(first[0].path) if first else ""
    missing = [n for n in (*REQUIRED_LAYERS, "workshops", "micro_parks") if sources.get(n) is None]
    if missing:
        raise LayerError(
            f"no layer {', '.join(missing)}: give the county's layers (the "
            "workshops are classified by the plots under them) and the "
            "workshops and micro parks",
            str(input_path) or None,
        )
    issues = IssueLog()
    info: dict = {"inputs": {}}
    say("classifying the plots under the workshops")
    classified = classify(
        {n: sources.get(n) for n in (*REQUIRED_LAYERS, *OPTIONAL_LAYERS)}, config=config
    )
    parcels, layers, crs = classified.parcels, classified.layers, classified.layers.crs
    issues.rows.extend(classified.issue_log.rows)
    info["parcel_classes"] = classified.parcels["class"].value_counts().to_dict()

    def load(name, src):
        if src.path.suffix.lower() in (".csv", ".xlsx", ".xls", ".xlsm"):
            gdf = read_point_list(src.path, config, issues)  # no CRS: declared in [crs]
        else:
            gdf = read_raw(src, name, config, issues)
        nonfinite = nonfinite_rows(np.asarray(gdf.geometry.array, dtype=object))
        gdf, unusable = drop_geometry(gdf, nonfinite), np.flatnonzero(nonfinite)
        gdf = prepare_layer(gdf, name, str(src.path), config, issues)
        id_field = "workshop_id" if name == "workshops" else "micro_park_id"
        issues.add(
            name,
            "unclassified" if name == "workshops" else "coerced",
            "坐标含 NaN 或无穷大，无法定位，按无坐标处理（NaN or infinite coordinates: "
            "cannot be located; kept without geometry）",
            unusable,
            gdf[id_field].iloc[unusable],
        )
        info["inputs"][name] = str(src)
        return gdf

    say("reading workshops and micro parks")
    ws_raw = load("workshops", sources["workshops"])
    mp_raw = load("micro_parks", sources["micro_parks"])
    ws = to_analysis(ws_raw, "workshops", "workshops", crs, issues, keep_invalid_rows=True)
    mp = to_analysis(mp_raw, "micro_parks", "micro_parks", crs, issues, keep_invalid_rows=False)
    protected, towns = layers.protected, layers.towns
    say("classifying and placing workshops")
    return classify_and_place(ws, mp, parcels, protected, towns, config, issues, lang), info


# --- workshop safety and source control (SPEC §12) ----------------------------------


def apply_safety(ws: pd.DataFrame, decision: pd.DataFrame, config) -> pd.DataFrame:
    """The three-in-one checks and source control on top of :func:`decide_workshops`:
    a three-in-one workshop failing S1 is ``eliminate`` (the first condition of class 1,
    so it overrides every class but ``unclassified``), the failed checks join the fixes
    owed, and the columns ``risk_level``, ``checks_failed``, ``checks_unknown`` and
    ``no_industrial_power`` are added (SPEC §12)."""
    checks = three_in_one_checks(
        ws, sprinkler_residents_min=config.safety["sprinkler_residents_min"]
    )
    decision = decision.copy()
    s1 = (checks["S1"].eq("fail") & decision["class"].ne("unclassified")).to_numpy()
    decision.loc[s1, "class"] = "eliminate"
    decision.loc[s1, "class_zh"] = WORKSHOP_CLASS_ZH["eliminate"]
    decision.loc[s1, "reason"] = "三合一场所内生产或存放甲乙类物品（S1）"
    decision.loc[s1, "reason_en"] = "three-in-one with class A/B flammable or explosive goods (S1)"
    extra = failed_fixes(checks["checks_failed"])
    fixes = decision["fixes"].astype(str)
    decision["fixes"] = np.where(
        extra.eq(""), fixes, np.where(fixes.eq(""), extra, fixes + ";" + extra)
    )
    for c in CHECK_COLUMNS:
        decision[c] = checks[c]
    decision["no_industrial_power"] = no_industrial_power(
        ws.assign(**{"class": decision["class"]}), baseline_year=config.parameters["baseline_year"]
    )
    return decision


def safety_power_list(ws: pd.DataFrame, config) -> pd.DataFrame:
    """The power company's list (:func:`zoning.safety.power_list`)."""
    return power_list(ws, baseline_year=config.parameters["baseline_year"])
