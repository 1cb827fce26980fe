"""Independent acceptance cases for the default classification (SPEC §2–§5, §7).

Every expected value below is computed by hand from the specification; the comment
next to each case shows the arithmetic. Geometries are tiny axis-aligned rectangles in
EPSG:4549 near (500000, 3340000), so areas, shares and distances are exact.

Default world used by most tests (see ``run``):
- dev_boundary: one square, x 0..1000, y 0..1000 (relative metres) — plots with x < 1000
  are inside, plots with x >= 1000 are outside;
- township_parks: one far park "T9" (x 5000.., y 5000..), thousands of metres away;
- cluster_points: one far cluster "K9" (x -5000.., y -5000..), overlapping nothing;
- protected: none.
Tests override any of these.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from zoning import classify, load_config

CRS = 4549
X0, Y0 = 500_000.0, 3_340_000.0
MU = 10000 / 15  # m² per mu (SPEC §2)

CLASS_ZH = {"retain": "保留提升", "consolidate": "纳入镇级园区", "vacate": "腾挪清退"}
CLASS_OF_RULE = {
    "V1": "vacate",
    "V2": "vacate",
    "V3": "vacate",
    "C1": "consolidate",
    "C2": "consolidate",
    "R1": "retain",
    "R2": "retain",
}
OUT_COLUMNS = [
    "parcel_id",
    "class",
    "class_zh",
    "rule",
    "target_id",
    "reason",
    "area_m2",
    "area_mu",
    "boundary_share",
    "cluster_share",
    "cluster_id",
    "protected_share",
    "nearest_park_id",
    "nearest_park_m",
    "village_park_id",
    "village_park_mu",
    "linked_park_id",
]


# --------------------------------------------------------------------------- helpers


def rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """Axis-aligned rectangle, lower-left corner at (X0 + x, Y0 + y), w × h metres."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def plot(pid: str, geom, **attrs) -> dict:
    """A parcel row with the optional fields at neutral defaults."""
    row = {
        "parcel_id": pid,
        "eco_friendly": False,
        "rural_fusion": False,
        "built_year": 2000,
        "geometry": geom,
    }
    row.update(attrs)
    return row


def parks(*items: tuple[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    return frame([{"park_id": pid, "geometry": g} for pid, g in items])


def clusters(*items: tuple[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    return frame([{"cluster_id": cid, "geometry": g} for cid, g in items])


def polys(*geoms: shapely.Geometry) -> gpd.GeoDataFrame:
    return frame([{"geometry": g} for g in geoms])


FAR_PARK = ("T9", rect(5000, 5000, 100, 100))
FAR_CLUSTER = ("K9", rect(-5000, -5000, 100, 100))


def run(
    rows, *, boundary=None, park_list=None, cluster_list=None, protected=None, params=None
) -> gpd.GeoDataFrame:
    parcels = rows if isinstance(rows, gpd.GeoDataFrame) else frame(rows)
    dev = polys(*(boundary if boundary is not None else [rect(0, 0, 1000, 1000)]))
    tp = parks(*(park_list if park_list is not None else [FAR_PARK]))
    cp = clusters(*(cluster_list if cluster_list is not None else [FAR_CLUSTER]))
    prot = polys(*protected) if protected is not None else None
    return classify(
        {
            "parcels": parcels,
            "dev_boundary": dev,
            "township_parks": tp,
            "cluster_points": cp,
            "protected": prot,
        },
        config=load_config(**(params or {})),
    ).parcels


def by_id(out: gpd.GeoDataFrame) -> dict[str, pd.Series]:
    return {str(r["parcel_id"]): r for _, r in out.iterrows()}


def blank(v) -> bool:
    """ "", None, NaN and pd.NA all mean 'empty'."""
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def check(r: pd.Series, rule: str, target: str | None = None) -> None:
    """Class, rule, class_zh and target of one output row."""
    pid = r["parcel_id"]
    assert r["rule"] == rule, f"{pid}: rule {r['rule']!r} ({r['reason']}), expected {rule}"
    assert r["class"] == CLASS_OF_RULE[rule], pid
    assert r["class_zh"] == CLASS_ZH[CLASS_OF_RULE[rule]], pid
    if target is None:
        assert blank(r["target_id"]), f"{pid}: target {r['target_id']!r} should be empty"
    else:
        assert r["target_id"] == target, f"{pid}: target {r['target_id']!r} != {target}"
    assert isinstance(r["reason"], str) and r["reason"].strip(), pid


def approx(v: float):
    return pytest.approx(v, abs=1e-6)


# ------------------------------------------------------------------- shape of output


def test_rows_order_columns_and_attributes_kept():
    # Three plots given in non-sorted id order; output has the same ids in the same order,
    # every promised column and every input attribute with unchanged values.
    rows = [
        plot("Z1", rect(100, 100, 50, 50), town="浒山街道", village="东村", enterprise="甲厂"),
        plot("A1", rect(1100, 100, 50, 50), town="宗汉街道", village="西村", enterprise="乙厂"),
        plot("M1", rect(100, 600, 50, 50), town="浒山街道", village="北村", enterprise="丙厂"),
    ]
    out = run(rows)
    assert len(out) == 3
    assert list(out["parcel_id"]) == ["Z1", "A1", "M1"]
    for col in OUT_COLUMNS + ["town", "village", "enterprise", "eco_friendly", "built_year"]:
        assert col in out.columns, col
    assert list(out["town"]) == ["浒山街道", "宗汉街道", "浒山街道"]
    assert list(out["village"]) == ["东村", "西村", "北村"]
    assert list(out["enterprise"]) == ["甲厂", "乙厂", "丙厂"]


def test_optional_fields_may_be_absent():
    # Only parcel_id + geometry. eco/fusion count as false, no built_year → no V3.
    # I1: inside, no park within 50 m (only T9), no cluster → C2 → T9.
    # O1: 50×50 outside → share 0 < 0.5, not eco → V2.
    parcels = frame(
        [
            {"parcel_id": "I1", "geometry": rect(100, 100, 50, 50)},
            {"parcel_id": "O1", "geometry": rect(1100, 100, 50, 50)},
        ]
    )
    res = by_id(run(parcels))
    check(res["I1"], "C2", "T9")
    check(res["O1"], "V2")


def test_area_in_m2_and_mu():
    # 100 × 50 = 5000 m² = 5000 / (10000/15) = 7.5 mu; 30 × 20 = 600 m² = 0.9 mu.
    res = by_id(run([plot("A", rect(100, 100, 100, 50)), plot("B", rect(100, 500, 30, 20))]))
    assert res["A"]["area_m2"] == approx(5000)
    assert res["A"]["area_mu"] == approx(7.5)
    assert res["B"]["area_m2"] == approx(600)
    assert res["B"]["area_mu"] == approx(0.9)


# ------------------------------------------------------------------------------- V1


@pytest.mark.parametrize(
    "strip_w, park_near, built_year, rule, target",
    [
        # 100×100 plot fully in cluster K1; protected strip strip_w × 100.
        (5.0, False, 2000, "V1", None),  # 500/10000 = 0.05 exactly → ≥ 0.05 → V1
        (4.99, False, 2000, "R1", "K1"),  # 499/10000 = 0.0499 < 0.05 → R1 (cluster 1.0)
        (5.0, True, 2000, "V1", None),  # V1 beats C1 (park touching, inside)
        (4.99, True, 2000, "C1", "T1"),  # not V1 → C1 (linked T1, share 1.0)
        (5.0, False, 2022, "V1", None),  # V1 comes before V3
        (4.99, False, 2022, "V3", None),  # not V1 → built 2022 > 2021 → V3
    ],
)
def test_v1_protected_share_threshold_and_priority(strip_w, park_near, built_year, rule, target):
    park_list = [("T1", rect(200, 100, 100, 100))] if park_near else [FAR_PARK]
    out = run(
        [plot("P", rect(100, 100, 100, 100), built_year=built_year)],
        park_list=park_list,
        cluster_list=[("K1", rect(100, 100, 100, 100))],
        protected=[rect(100, 100, strip_w, 100)],
    )
    r = by_id(out)["P"]
    check(r, rule, target)
    assert r["protected_share"] == approx(strip_w / 100)
    assert r["cluster_share"] == approx(1.0)
    assert r["cluster_id"] == "K1"


def test_v1_reason_quotes_share_and_no_layer_means_zero():
    # Protected strip 5 × 100 on a 100×100 plot → 0.05; reason quotes "0.05".
    r = by_id(run([plot("P", rect(100, 100, 100, 100))], protected=[rect(100, 100, 5, 100)]))["P"]
    check(r, "V1")
    assert "0.05" in r["reason"]
    # Same plot, protected=None → protected_share 0, inside far from parks → C2 → T9.
    r = by_id(run([plot("P", rect(100, 100, 100, 100))]))["P"]
    assert r["protected_share"] == approx(0.0)
    check(r, "C2", "T9")


def test_overlapping_protected_parts_do_not_double_count():
    # Two identical protected strips 4 × 100 on a 100×100 plot: union 400 m² → 0.04 < 0.05
    # (summing parts would give 0.08 ≥ 0.05). Inside, far from parks → C2 → T9.
    r = by_id(
        run(
            [plot("P", rect(100, 100, 100, 100))],
            protected=[rect(100, 100, 4, 100), rect(100, 100, 4, 100)],
        )
    )["P"]
    assert r["protected_share"] == approx(0.04)
    check(r, "C2", "T9")


# ------------------------------------------------------------------------------- V3


def _v3_parcels(kind: str) -> gpd.GeoDataFrame:
    # P: 100×50 inside, touching park T1 on its right. Z: a far companion built 2000, so
    # a missing year for P becomes NaN in a float column (or pd.NA in an Int64 column).
    year = {"2022": 2022, "2021": 2021, "nan": None, "int64-na": None}[kind]
    parcels = frame(
        [
            plot("P", rect(100, 100, 100, 50), built_year=year),
            plot("Z", rect(700, 700, 10, 10), built_year=2000),
        ]
    )
    if kind == "int64-na":
        parcels["built_year"] = parcels["built_year"].astype("Int64")
    return parcels


@pytest.mark.parametrize(
    "kind, rule, target",
    [
        ("2022", "V3", None),  # 2022 > 2021 → new industrial land → V3 (beats C1)
        ("2021", "C1", "T1"),  # 2021 = baseline, not > → C1 with linked park T1
        ("nan", "C1", "T1"),  # built_year missing → V3 does not apply
        ("int64-na", "C1", "T1"),
    ],
)
def test_v3_built_after_baseline(kind, rule, target):
    out = run(_v3_parcels(kind), park_list=[("T1", rect(200, 100, 100, 50))])
    r = by_id(out)["P"]
    check(r, rule, target)
    assert r["nearest_park_id"] == "T1"
    assert r["nearest_park_m"] == approx(0.0)
    assert r["linked_park_id"] == "T1"
    if rule == "V3":
        assert "2022" in r["reason"]


def test_v3_beats_r1_and_r2():
    # P: outside, eco, 50×50 = 3.75 mu, fully in cluster K1, built 2023 → V3 (before R1/R2).
    r = by_id(
        run(
            [plot("P", rect(1100, 100, 50, 50), eco_friendly=True, built_year=2023)],
            cluster_list=[("K1", rect(1100, 100, 50, 50))],
        )
    )["P"]
    check(r, "V3")


# ------------------------------------------------------------------------------- C1


@pytest.mark.parametrize(
    "x, share, rule",
    [
        # Plot 100 × 50 from x to x+100; boundary ends at x = 1000.
        (950.0, 0.5, "C1"),  # 50 of 100 m inside → 0.5 exactly → ≥ 0.5 → C1
        (950.5, 0.495, "V2"),  # 49.5 of 100 m inside → 0.495 < 0.5 → outside, not eco → V2
    ],
)
def test_c1_boundary_share_threshold(x, share, rule):
    # Park T1 x 900..1100, y 150..250 touches the top edge (y = 150) of the plot → 0 m.
    out = run([plot("P", rect(x, 100, 100, 50))], park_list=[("T1", rect(900, 150, 200, 100))])
    r = by_id(out)["P"]
    assert r["boundary_share"] == approx(share)
    assert r["linked_park_id"] == "T1"
    check(r, rule, "T1" if rule == "C1" else None)
    if rule == "C1":
        assert "0.5" in r["reason"]


def test_c1_beats_r1():
    # Inside, touching park T1, fully in cluster K1 → C1 (comes before R1) → T1.
    out = run(
        [plot("P", rect(100, 100, 100, 100))],
        park_list=[("T1", rect(200, 100, 100, 100))],
        cluster_list=[("K1", rect(100, 100, 100, 100))],
    )
    r = by_id(out)["P"]
    check(r, "C1", "T1")
    assert r["cluster_share"] == approx(1.0)
    assert r["cluster_id"] == "K1"


@pytest.mark.parametrize(
    "gap, rule, nearest_m",
    [
        (50.0, "C1", 50.0),  # nearest park exactly 50 m = park_contact_m → contact → C1
        (50.01, "C2", 50.01),  # 50.01 m > 50 → no linked park → C2 → nearest park T1
    ],
)
def test_park_contact_distance_threshold(gap, rule, nearest_m):
    # Plot x 100..200; park T1 starts at 200 + gap.
    out = run(
        [plot("P", rect(100, 100, 100, 100))], park_list=[("T1", rect(200 + gap, 100, 100, 100))]
    )
    r = by_id(out)["P"]
    assert r["nearest_park_id"] == "T1"
    assert r["nearest_park_m"] == approx(nearest_m)
    check(r, rule, "T1")
    if rule == "C1":
        assert r["linked_park_id"] == "T1"
    else:
        assert blank(r["linked_park_id"])


# ------------------------------------------------------------------------ grouping


@pytest.mark.parametrize(
    "gap, linked",
    [
        (0.0, True),  # touching plots (distance 0) are linked
        (20.0, True),  # exactly adjacency_gap_m → linked
        (20.01, False),  # just over → separate village parks
    ],
)
def test_adjacency_gap_links_plots(gap, linked):
    # Park T1 x 100..200; A x 200..300 touches it (0 m); B x 300+gap..400+gap (100×100 each).
    # B is ≥ 100 m from T1, so B is contiguous with T1 only through A.
    out = run(
        [plot("A1", rect(200, 100, 100, 100)), plot("B1", rect(300 + gap, 100, 100, 100))],
        park_list=[("T1", rect(100, 100, 100, 100))],
    )
    res = by_id(out)
    check(res["A1"], "C1", "T1")
    b = res["B1"]
    assert b["nearest_park_m"] == approx(100 + gap)
    if linked:
        # one group {A1, B1}: id A1, 15 + 15 = 30 mu, linked park T1 → B1 is C1 too
        assert b["village_park_id"] == "A1"
        assert b["village_park_mu"] == approx(30.0)
        assert res["A1"]["village_park_mu"] == approx(30.0)
        assert b["linked_park_id"] == "T1"
        check(b, "C1", "T1")
    else:
        # B1 alone: id B1, 15 mu, no plot within 50 m of a park → C2 → nearest park T1
        assert b["village_park_id"] == "B1"
        assert b["village_park_mu"] == approx(15.0)
        assert res["A1"]["village_park_mu"] == approx(15.0)
        assert blank(b["linked_park_id"])
        check(b, "C2", "T1")


def test_corner_touching_plots_are_linked():
    # A x 200..300, y 100..200; B x 300..400, y 200..300 touches A at one corner → 0 m.
    out = run(
        [plot("A1", rect(200, 100, 100, 100)), plot("B1", rect(300, 200, 100, 100))],
        park_list=[("T1", rect(100, 100, 100, 100))],
    )
    b = by_id(out)["B1"]
    assert b["village_park_id"] == "A1"
    check(b, "C1", "T1")


def test_chain_of_plots_links_to_park():
    # Park T1 x 600..700 (y 100..200). Chain along y 100..200, each 100×100 = 15 mu:
    #   A9  x 700..800   touches T1 (0 m)
    #   A10 x 810..910   10 m from A9, 110 m from T1
    #   B1  x 920..1020  10 m from A10; 80 of 100 m inside → share 0.8; 220 m from T1
    #   B2  x 1030..1130 10 m from B1; fully outside → share 0
    # Park T0 x 920..1020, y 260..360: 60 m above B1 (> 50, no contact for anyone);
    # from B2 / A10 it is sqrt(10² + 60²) = 60.83 m (< 110 m to T1, so A10's nearest is T0).
    # One group: smallest id in code-point order is "A10" ("1" < "9"); 4 × 15 = 60 mu.
    # Linked park: only A9 (0 m to T1) is within 50 m of a park → T1 for the whole group.
    rows = [
        plot("A9", rect(700, 100, 100, 100)),
        plot("A10", rect(810, 100, 100, 100)),
        plot("B1", rect(920, 100, 100, 100)),
        plot("B2", rect(1030, 100, 100, 100)),
    ]
    out = run(rows, park_list=[("T1", rect(600, 100, 100, 100)), ("T0", rect(920, 260, 100, 100))])
    res = by_id(out)
    for pid in ["A9", "A10", "B1", "B2"]:
        assert res[pid]["village_park_id"] == "A10", pid
        assert res[pid]["village_park_mu"] == approx(60.0), pid
        assert res[pid]["linked_park_id"] == "T1", pid
    check(res["A9"], "C1", "T1")
    # A10's own nearest park is T0 (60.83 m, no contact); it joins T1 through A9.
    assert res["A10"]["nearest_park_id"] == "T0"
    assert res["A10"]["nearest_park_m"] == approx(math.hypot(10, 60))
    check(res["A10"], "C1", "T1")
    # B1's own nearest park is T0 at 60 m, but it is consolidated into the linked park T1.
    assert res["B1"]["boundary_share"] == approx(0.8)
    assert res["B1"]["nearest_park_id"] == "T0"
    assert res["B1"]["nearest_park_m"] == approx(60.0)
    check(res["B1"], "C1", "T1")
    # B2 is in the chain but outside the boundary → not C1 → V2 (not eco).
    assert res["B2"]["boundary_share"] == approx(0.0)
    assert res["B2"]["nearest_park_id"] == "T0"
    assert res["B2"]["nearest_park_m"] == approx(math.hypot(10, 60))
    check(res["B2"], "V2")


@pytest.mark.parametrize(
    "ids, expected",
    [
        (["A9", "A10", "B1"], "A10"),  # "A10" < "A9" in code-point order
        (["10", "007", "9"], "007"),  # ids are text: "007" < "10" < "9"
        (["b", "B", "a"], "B"),  # upper case before lower case
    ],
)
def test_village_park_named_by_smallest_parcel_id(ids, expected):
    # Three 50×50 plots touching in a row (x 100..250): one group, 3 × 3.75 = 11.25 mu.
    rows = [plot(pid, rect(100 + 50 * i, 100, 50, 50)) for i, pid in enumerate(ids)]
    out = run(rows)
    assert list(out["parcel_id"]) == ids
    for _, r in out.iterrows():
        assert r["village_park_id"] == expected
        assert r["village_park_mu"] == approx(11.25)


@pytest.mark.parametrize(
    "left, d_left, right, d_right, linked",
    [
        ("T1", 30.0, "T2", 10.0, "T2"),  # smallest distance wins, not smallest id
        ("T1", 10.0, "T2", 30.0, "T1"),
        ("P9", 10.0, "P10", 10.0, "P10"),  # equal distance → smallest id, "P10" < "P9"
        ("P10", 10.0, "P9", 10.0, "P10"),
    ],
)
def test_linked_park_is_park_of_closest_group_plot(left, d_left, right, d_right, linked):
    # Left park x 0..100; plot a x 100+dl..200+dl; plot b touches a on its right;
    # right park starts dr after b. a is dl from the left park (100 + dr from the right one),
    # b is dr from the right park; both ≤ 50 m → both in contact; group {a, b}.
    dl, dr = d_left, d_right
    rows = [plot("a", rect(100 + dl, 100, 100, 100)), plot("b", rect(200 + dl, 100, 100, 100))]
    park_list = [(left, rect(0, 100, 100, 100)), (right, rect(300 + dl + dr, 100, 100, 100))]
    res = by_id(run(rows, park_list=park_list))
    assert res["a"]["nearest_park_id"] == left
    assert res["a"]["nearest_park_m"] == approx(dl)
    assert res["b"]["nearest_park_id"] == right
    assert res["b"]["nearest_park_m"] == approx(dr)
    for pid in ["a", "b"]:
        assert res[pid]["linked_park_id"] == linked, pid
        check(res[pid], "C1", linked)


@pytest.mark.parametrize("order", [["P9", "P10"], ["P10", "P9"]])
def test_nearest_park_tie_smallest_id(order):
    # Plot x 400..500; P9 x 240..340 (60 m left), P10 x 560..660 (60 m right).
    # Both 60 m > 50 → no linked park → C2 → nearest park, tie → "P10" (< "P9").
    geoms = {"P9": rect(240, 400, 100, 100), "P10": rect(560, 400, 100, 100)}
    out = run([plot("A", rect(400, 400, 100, 100))], park_list=[(pid, geoms[pid]) for pid in order])
    r = by_id(out)["A"]
    assert r["nearest_park_id"] == "P10"
    assert r["nearest_park_m"] == approx(60.0)
    check(r, "C2", "P10")


def test_nearest_park_overlapping_is_zero():
    # Park T1 x 150..250 overlaps the plot x 100..200 → distance 0 → C1 → T1.
    r = by_id(
        run(
            [plot("A", rect(100, 100, 100, 100))],
            park_list=[("T1", rect(150, 100, 100, 100)), FAR_PARK],
        )
    )["A"]
    assert r["nearest_park_m"] == approx(0.0)
    check(r, "C1", "T1")


# ------------------------------------------------------------------------------- R1


@pytest.mark.parametrize(
    "cluster_w, share, rule",
    [
        # Plot 100×50 outside (x 1100..1200); cluster K1 cluster_w × 50 over its left end.
        (50.0, 0.5, "R1"),  # 2500/5000 = 0.5 exactly → ≥ 0.5 → R1 → K1
        (49.5, 0.495, "V2"),  # 2475/5000 = 0.495 < 0.5 → outside, not eco → V2
    ],
)
def test_r1_cluster_share_threshold(cluster_w, share, rule):
    out = run(
        [plot("P", rect(1100, 100, 100, 50))], cluster_list=[("K1", rect(1100, 100, cluster_w, 50))]
    )
    r = by_id(out)["P"]
    assert r["cluster_share"] == approx(share)
    assert r["cluster_id"] == "K1"  # it overlaps, so it is the plot's cluster either way
    check(r, rule, "K1" if rule == "R1" else None)


def test_r1_beats_r2_and_v2_and_applies_outside_near_park():
    # Q: outside, eco, 3.75 mu, fully in cluster K1 → R1 (before R2).
    # S: outside, not eco, fully in K1, touching park T1 (linked) → C1 needs share ≥ 0.5,
    #    share 0 → not C1 → R1 (before V2).
    # I: inside, far from parks, 60 % in K1 → R1 (before C2).
    rows = [
        plot("Q", rect(1100, 100, 50, 50), eco_friendly=True),
        plot("S", rect(1100, 500, 100, 100)),
        plot("I", rect(100, 100, 100, 100)),
    ]
    out = run(
        rows,
        park_list=[("T1", rect(1200, 500, 100, 100)), FAR_PARK],
        cluster_list=[
            ("K1", rect(1100, 100, 50, 50)),
            ("K2", rect(1100, 500, 100, 100)),
            ("K3", rect(100, 100, 60, 100)),
        ],
    )
    res = by_id(out)
    check(res["Q"], "R1", "K1")
    assert res["S"]["linked_park_id"] == "T1"
    check(res["S"], "R1", "K2")
    assert res["I"]["cluster_share"] == approx(0.6)
    check(res["I"], "R1", "K3")


@pytest.mark.parametrize(
    "cluster_list, share, cid, rule",
    [
        # Plot 100×100 outside, x 1100..1200.
        # K1 covers 30 × 100 = 3000, K2 40 × 100 = 4000 → union 0.7; largest overlap K2.
        ([("K1", rect(1100, 100, 30, 100)), ("K2", rect(1130, 100, 40, 100))], 0.7, "K2", "R1"),
        ([("K2", rect(1130, 100, 40, 100)), ("K1", rect(1100, 100, 30, 100))], 0.7, "K2", "R1"),
        # K9 and K10 each 3000 → 0.6; tie → smallest id "K10" (< "K9").
        ([("K9", rect(1100, 100, 30, 100)), ("K10", rect(1170, 100, 30, 100))], 0.6, "K10", "R1"),
        ([("K10", rect(1170, 100, 30, 100)), ("K9", rect(1100, 100, 30, 100))], 0.6, "K10", "R1"),
        # K2 and K1 identical, each 4000 → union 0.4 (not 0.8) → not R1 → V2; tie → K1.
        ([("K2", rect(1100, 100, 40, 100)), ("K1", rect(1100, 100, 40, 100))], 0.4, "K1", "V2"),
    ],
)
def test_cluster_id_largest_overlap_and_union_share(cluster_list, share, cid, rule):
    r = by_id(run([plot("P", rect(1100, 100, 100, 100))], cluster_list=cluster_list))["P"]
    assert r["cluster_share"] == approx(share)
    assert r["cluster_id"] == cid
    check(r, rule, cid if rule == "R1" else None)
    if rule == "R1":
        assert f"{share:.1f}" in r["reason"]  # quotes the cluster share (0.7 / 0.6)


def test_no_cluster_overlap_means_empty_cluster_id():
    r = by_id(run([plot("P", rect(1100, 100, 100, 100))]))["P"]
    assert r["cluster_share"] == approx(0.0)
    assert blank(r["cluster_id"])


# ------------------------------------------------------------------------------- R2


@pytest.mark.parametrize(
    "eco, fusion, rule",
    [
        (True, False, "R2"),
        (False, True, "R2"),
        (True, True, "R2"),
        (False, False, "V2"),
    ],
)
def test_r2_flags_outside_boundary(eco, fusion, rule):
    # 50×50 outside = 3.75 mu ≤ 15, alone → village park 3.75 mu.
    r = by_id(run([plot("P", rect(1100, 100, 50, 50), eco_friendly=eco, rural_fusion=fusion)]))["P"]
    assert r["village_park_mu"] == approx(3.75)
    check(r, rule)


def test_r2_needs_outside_boundary():
    # Eco plot inside the boundary, far from parks → not R2 (share 1 ≥ 0.5) → C2 → T9.
    r = by_id(run([plot("P", rect(100, 100, 50, 50), eco_friendly=True, rural_fusion=True)]))
    check(r["P"], "C2", "T9")


@pytest.mark.parametrize(
    "h, mu, rule",
    [
        (100.0, 15.0, "R2"),  # 100×100 = 10000 m² = 15 mu exactly → ≤ 15 → R2
        (100.1, 15.015, "V2"),  # 10010 m² = 15.015 mu > 15 → V2
    ],
)
def test_r2_single_plot_at_15_mu(h, mu, rule):
    r = by_id(run([plot("P", rect(1100, 100, 100, h), eco_friendly=True)]))["P"]
    assert r["area_mu"] == approx(mu)
    assert r["village_park_mu"] == approx(mu)
    check(r, rule)


def test_r2_group_exactly_15_mu():
    # Two eco 100×50 plots (7.5 mu each) sharing an edge → one village park of 15 mu → R2.
    rows = [
        plot("A", rect(1100, 100, 100, 50), eco_friendly=True),
        plot("B", rect(1100, 150, 100, 50), eco_friendly=True),
    ]
    res = by_id(run(rows))
    for pid in ["A", "B"]:
        assert res[pid]["village_park_mu"] == approx(15.0)
        assert res[pid]["village_park_id"] == "A"
        check(res[pid], "R2")


@pytest.mark.parametrize(
    "gap, group_mu, rule",
    [
        (10.0, 18.75, "V2"),  # linked: 3.75 + 15 = 18.75 mu > 15 → small eco plot is V2
        (20.01, 3.75, "R2"),  # not linked: its own village park is 3.75 mu → R2
    ],
)
def test_r2_uses_village_park_mu_not_plot_mu(gap, group_mu, rule):
    # S: eco 50×50 = 3.75 mu at x 1100..1150; B: non-eco 100×100 = 15 mu from 1150 + gap.
    rows = [
        plot("S", rect(1100, 100, 50, 50), eco_friendly=True),
        plot("B", rect(1150 + gap, 100, 100, 100)),
    ]
    res = by_id(run(rows))
    s = res["S"]
    assert s["area_mu"] == approx(3.75)
    assert s["village_park_mu"] == approx(group_mu)
    check(s, rule)
    check(res["B"], "V2")
    if rule == "V2":
        # the number that decided it: village park 18.75 mu > 15 mu
        assert "18.75" in s["reason"]


# ------------------------------------------------------------------------------- V2 / C2


def test_v2_and_c2_basic():
    # O: 100×100 outside, not eco, no cluster → V2 (no target); reason quotes the share.
    # I: 100×100 inside, nearest park T1 200 m away (> 50) → C2 → T1 (nearer than T9).
    rows = [plot("O", rect(1100, 100, 100, 100)), plot("I", rect(100, 500, 100, 100))]
    res = by_id(run(rows, park_list=[FAR_PARK, ("T1", rect(400, 500, 100, 100))]))
    check(res["O"], "V2")
    assert res["O"]["boundary_share"] == approx(0.0)
    assert "0" in res["O"]["reason"]
    assert blank(res["O"]["linked_park_id"])
    check(res["I"], "C2", "T1")
    assert res["I"]["nearest_park_id"] == "T1"
    assert res["I"]["nearest_park_m"] == approx(200.0)


# ------------------------------------------------------------------- geometry edge cases


def test_multipolygon_share_is_inside_area_over_total():
    # Part 1: 60×100 at x 840..900 (inside) = 6000; part 2: 40×100 at x 1100..1140
    # (outside) = 4000. Total 10000 m² = 15 mu; share 6000/10000 = 0.6 → inside.
    # No park within 50 m, no cluster → C2 → T9.
    geom = shapely.MultiPolygon([rect(840, 100, 60, 100), rect(1100, 100, 40, 100)])
    r = by_id(run([plot("M", geom)]))["M"]
    assert r["area_m2"] == approx(10000)
    assert r["area_mu"] == approx(15.0)
    assert r["boundary_share"] == approx(0.6)
    check(r, "C2", "T9")


def test_bow_tie_is_repaired_with_both_triangles():
    # Self-intersecting ring (400,100)→(600,200)→(600,100)→(400,200), crossing at (500,150).
    # make_valid 'structure' → two triangles of ½·100·100 = 5000 m² each → 10000 m² = 15 mu.
    # Boundary x 0..500 holds the left triangle → share 5000/10000 = 0.5 → inside → C2 → T9.
    # (A repair keeping only one triangle would give 5000 m² and share 1.0 or 0.0.)
    bow = shapely.Polygon(
        [(X0 + 400, Y0 + 100), (X0 + 600, Y0 + 200), (X0 + 600, Y0 + 100), (X0 + 400, Y0 + 200)]
    )
    assert not bow.is_valid
    out = run(
        [plot("BT", bow), plot("OK", rect(100, 600, 50, 50))], boundary=[rect(0, 0, 500, 1000)]
    )
    assert list(out["parcel_id"]) == ["BT", "OK"]
    r = by_id(out)["BT"]
    assert r["area_m2"] == approx(10000)
    assert r["area_mu"] == approx(15.0)
    assert r["boundary_share"] == approx(0.5)
    check(r, "C2", "T9")


def test_null_empty_and_degenerate_geometries_are_unclassified():
    # G1 is a normal inside plot (C2 → T9); N1 has no geometry, E1 an empty polygon,
    # D1 a zero-area ring (collinear points; make_valid gives a line, no polygonal part).
    degenerate = shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0)])
    rows = [
        plot("N1", None),
        plot("G1", rect(100, 100, 50, 50)),
        plot("E1", shapely.Polygon()),
        plot("D1", degenerate),
    ]
    out = run(rows)
    assert list(out["parcel_id"]) == ["N1", "G1", "E1", "D1"]
    res = by_id(out)
    check(res["G1"], "C2", "T9")
    for pid in ["N1", "E1", "D1"]:
        r = res[pid]
        assert r["class"] == "unclassified", pid
        assert blank(r["rule"]), pid
        assert blank(r["target_id"]), pid
        assert isinstance(r["reason"], str) and r["reason"].strip(), pid


def test_overlapping_boundary_parts_share_of_union():
    # Boundary parts x 0..960 and x 500..960 overlap on x 500..960.
    # Plot x 930..1030 (100×100): inside x 930..960 = 30 m → share 0.3 (summing parts
    # would give 0.6). 0.3 < 0.5 → outside, not eco → V2.
    r = by_id(
        run(
            [plot("P", rect(930, 100, 100, 100))],
            boundary=[rect(0, 0, 960, 1000), rect(500, 0, 460, 1000)],
        )
    )["P"]
    assert r["boundary_share"] == approx(0.3)
    check(r, "V2")


def test_plot_fully_inside_overlapping_boundary_parts_has_share_one():
    # Same two overlapping parts; plot x 600..700 lies in both → union share exactly 1.0.
    r = by_id(
        run(
            [plot("P", rect(600, 100, 100, 100))],
            boundary=[rect(0, 0, 960, 1000), rect(500, 0, 460, 1000)],
        )
    )["P"]
    assert r["boundary_share"] == approx(1.0)
    check(r, "C2", "T9")


# ------------------------------------------------------------------ parameter overrides


def _gap25():
    # Park T1 x 100..200; A x 200..300 touches it; B x 325..425 is 25 m from A, 125 m
    # from T1. Default gap 20: B alone → C2 → T1. Gap 30: B linked to A → C1 → T1.
    rows = [plot("A", rect(200, 100, 100, 100)), plot("B", rect(325, 100, 100, 100))]
    return rows, {"park_list": [("T1", rect(100, 100, 100, 100))]}


def _eco_group():
    # B: eco 50×50 = 3.75 mu outside; C: 100×100 = 15 mu, 10 m away → group 18.75 mu.
    # Default 15: B → V2. scattered_max_mu 30: 18.75 ≤ 30 → R2.
    rows = [
        plot("B", rect(1100, 100, 50, 50), eco_friendly=True),
        plot("C", rect(1160, 100, 100, 100)),
    ]
    return rows, {}


def _park60():
    # B inside, park T1 60 m to its right. Default contact 50: C2 → T1. 80: C1 → T1.
    return [plot("B", rect(100, 100, 100, 100))], {"park_list": [("T1", rect(260, 100, 50, 50))]}


def _built2022():
    # B inside, far from parks, built 2022. Default baseline 2021: V3. Baseline 2022: C2.
    return [plot("B", rect(100, 100, 100, 100), built_year=2022)], {}


def _protected5():
    # B inside, 5 % protected. Default 0.05: V1. protected_share_min 0.1: C2 → T9.
    return [plot("B", rect(100, 100, 100, 100))], {"protected": [rect(100, 100, 5, 100)]}


def _inside40():
    # B x 960..1060: 40 of 100 m inside → 0.4. Default 0.5: V2. inside_share_min 0.3: C2.
    return [plot("B", rect(960, 100, 100, 100))], {}


def _cluster40():
    # B outside, 40 % in cluster K1. Default 0.5: V2. cluster_share_min 0.3: R1 → K1.
    return [plot("B", rect(1100, 100, 100, 100))], {
        "cluster_list": [("K1", rect(1100, 100, 40, 100))]
    }


@pytest.mark.parametrize(
    "scenario, params, default, overridden",
    [
        (_gap25, {"adjacency_gap_m": 30}, ("C2", "T1"), ("C1", "T1")),
        (_eco_group, {"scattered_max_mu": 30}, ("V2", None), ("R2", None)),
        (_park60, {"park_contact_m": 80}, ("C2", "T1"), ("C1", "T1")),
        (_built2022, {"baseline_year": 2022}, ("V3", None), ("C2", "T9")),
        (_protected5, {"protected_share_min": 0.1}, ("V1", None), ("C2", "T9")),
        (_inside40, {"inside_share_min": 0.3}, ("V2", None), ("C2", "T9")),
        (_cluster40, {"cluster_share_min": 0.3}, ("V2", None), ("R1", "K1")),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_parameter_override_changes_outcome(scenario, params, default, overridden):
    rows, kwargs = scenario()
    check(by_id(run(rows, **kwargs))["B"], *default)
    check(by_id(run(rows, **kwargs, params=None))["B"], *default)
    check(by_id(run(rows, **kwargs, params=params))["B"], *overridden)


# ------------------------------------------------------------------ global consistency


def test_invariants_on_a_mixed_county():
    # A mix of all rules; every row must be consistent with the decision table:
    # shares in [0, 1], area_mu = area_m2 / (10000/15), class ↔ rule ↔ class_zh, and the
    # target is linked park (C1), cluster (R1), nearest park (C2) or empty (V*, R2).
    bow = shapely.Polygon(
        [(X0 + 400, Y0 + 800), (X0 + 500, Y0 + 900), (X0 + 500, Y0 + 800), (X0 + 400, Y0 + 900)]
    )
    rows = [
        plot("c1", rect(200, 100, 100, 100)),  # C1 T1
        plot("c2", rect(600, 600, 80, 30)),  # C2
        plot("v1", rect(100, 400, 100, 100)),  # V1
        plot("v3", rect(300, 400, 40, 40), built_year=2030),  # V3
        plot("r1", rect(1100, 100, 100, 100)),  # R1 K1
        plot("r2", rect(1100, 400, 40, 40), rural_fusion=True),  # R2
        plot("v2", rect(990, 700, 100, 100)),  # V2 (0.1)
        plot("bt", bow),  # C2
        plot("nn", None),  # unclassified
    ]
    out = run(
        rows,
        park_list=[("T1", rect(100, 100, 100, 100)), FAR_PARK],
        cluster_list=[("K1", rect(1050, 50, 200, 200))],
        protected=[rect(100, 400, 100, 100)],
    )
    assert len(out) == len(rows)
    assert list(out["parcel_id"]) == [r["parcel_id"] for r in rows]
    res = by_id(out)
    expected = {
        "c1": "C1",
        "c2": "C2",
        "v1": "V1",
        "v3": "V3",
        "r1": "R1",
        "r2": "R2",
        "v2": "V2",
        "bt": "C2",
    }
    for pid, rule in expected.items():
        assert res[pid]["rule"] == rule, (pid, res[pid]["reason"])
    assert res["nn"]["class"] == "unclassified"
    assert res["v2"]["boundary_share"] == approx(0.1)
    assert res["bt"]["area_m2"] == approx(5000)  # two triangles of 2500 m²
    for pid, r in res.items():
        if r["class"] == "unclassified":
            continue
        for col in ["boundary_share", "cluster_share", "protected_share"]:
            assert -1e-12 <= r[col] <= 1 + 1e-12, (pid, col, r[col])
        assert r["area_mu"] == approx(r["area_m2"] / MU), pid
        assert r["class"] == CLASS_OF_RULE[r["rule"]], pid
        assert r["class_zh"] == CLASS_ZH[r["class"]], pid
        assert isinstance(r["reason"], str) and r["reason"].strip(), pid
        target = {"C1": r["linked_park_id"], "R1": r["cluster_id"], "C2": r["nearest_park_id"]}.get(
            r["rule"]
        )
        if target is None:
            assert blank(r["target_id"]), pid
        else:
            assert r["target_id"] == target, pid
