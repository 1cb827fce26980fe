"""SPEC §4 measures on tiny hand-made geometries (numbers computed by hand)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import rect
from zoning import measures as ms


def arr(*geoms):
    return np.array(geoms, dtype=object)


def test_mu_is_exact_for_whole_multiples():
    assert ms.to_mu(10000.0) == 15.0
    assert ms.to_mu(2000.0 / 3.0) == pytest.approx(1.0)


def test_union_overlap_counts_overlapping_parts_once():
    plot = arr(rect(0, 0, 100, 50))  # 5000 m²
    layer = arr(rect(-10, -10, 70, 100), rect(-10, -10, 70, 100), rect(50, -10, 10, 100))
    # union covers x in [-10, 60] -> 60 m of the plot's 100 m width
    assert ms.union_overlap(plot, layer)[0] == pytest.approx(3000.0)


def test_subdivided_union_gives_the_same_overlap():
    rng = np.random.default_rng(1)
    centres = rng.uniform(0, 2000, (400, 2)) + [620_000, 3_342_000]
    blob = shapely.buffer(shapely.multipoints(centres), 120)
    plots = arr(*[rect(x, y, 60, 40) for x, y in rng.uniform(0, 1900, (300, 2))])
    pieces = ms.subdivide(arr(blob), max_vertices=64)
    assert shapely.get_num_coordinates(pieces).max() <= 64
    assert shapely.area(pieces).sum() == pytest.approx(blob.area, rel=1e-9)
    direct = shapely.area(shapely.intersection(plots, blob))
    assert ms.union_overlap(plots, arr(blob)) == pytest.approx(direct, rel=1e-9, abs=1e-6)


def test_share_is_clipped():
    assert ms.share(np.array([5000.0000001, -1e-9]), np.array([5000.0, 5000.0])).tolist() == [
        1.0,
        0.0,
    ]


def test_largest_overlap_ties_take_the_smallest_id():
    plot = arr(rect(0, 0, 100, 100))
    # "K10" and "K9" overlap 50 m² each: code-point order puts "K10" first.
    layer = arr(rect(-5, 0, 10, 100), rect(95, 0, 10, 100), rect(40, 0, 1, 100))
    ids = np.array(["K9", "K10", "K2"])
    assert ms.largest_overlap(plot, layer, ids)[0] == "K10"
    # touching only is no overlap
    assert (
        ms.largest_overlap(arr(rect(0, 0, 10, 10)), arr(rect(10, 0, 5, 5)), np.array(["K"]))[0]
        == ""
    )


def test_nearest_ties_and_contact():
    plot = arr(rect(0, 0, 10, 10), rect(500, 0, 10, 10))
    parks = arr(rect(20, 0, 10, 10), rect(-20, 0, 10, 10), rect(510, 0, 10, 10))
    ids, dist = ms.nearest(plot, parks, np.array(["P9", "P10", "P1"]))
    assert ids.tolist() == ["P10", "P1"]  # 10 m both sides: "P10" < "P9"; touching -> 0
    assert dist.tolist() == [10.0, 0.0]


@pytest.mark.parametrize("gap,linked", [(20.0, True), (19.99, False), (0.0, False)])
def test_adjacency_threshold_is_inclusive(gap, linked):
    plots = arr(rect(0, 0, 10, 10), rect(30, 0, 10, 10))  # 20 m apart
    i = ms.adjacency_pairs(plots, gap)[0]
    assert (len(i) == 1) is linked


def test_touching_plots_link_at_zero_gap():
    i, j, d = ms.adjacency_pairs(arr(rect(0, 0, 10, 10), rect(10, 0, 10, 10)), 0.0)
    assert (i.tolist(), j.tolist(), d.tolist()) == ([0], [1], [0.0])


def test_village_parks_name_and_mu():
    plots = arr(
        rect(0, 0, 100, 50), rect(110, 0, 50, 50), rect(170, 0, 50, 50), rect(1000, 0, 10, 10)
    )
    ids = np.array(["A9", "A10", "B1", "C"])
    area = shapely.area(plots)
    label, vp_id, vp_mu = ms.village_parks(ms.adjacency_pairs(plots, 20.0), ids, area)
    assert vp_id.tolist() == ["A10", "A10", "A10", "C"]  # chain A9-A10-B1
    assert vp_mu[0] == pytest.approx(ms.to_mu(10000.0)) == 15.0
    assert label[0] == label[2] != label[3]


def test_linked_park_prefers_the_closest_plot_then_smallest_id():
    label = np.array([0, 0, 0, 1])
    park = np.array(["P2", "P1", "P3", "P1"], dtype=object)
    dist = np.array([30.0, 30.0, 60.0, 50.0])
    ids, d = ms.linked_parks(label, park, dist, 50.0)
    assert ids.tolist() == ["P1", "P1", "P1", "P1"]  # 50 m exactly still counts
    assert d.tolist() == [30.0, 30.0, 30.0, 50.0]
    ids, _ = ms.linked_parks(label, park, dist, 49.99)
    assert ids.tolist() == ["P1", "P1", "P1", ""]


coords = st.floats(min_value=0, max_value=500, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(coords, coords, st.floats(1, 80), st.floats(1, 80)), min_size=1, max_size=25
    ),
    st.lists(
        st.tuples(coords, coords, st.floats(1, 300), st.floats(1, 300)), min_size=1, max_size=5
    ),
)
def test_shares_stay_in_unit_interval(plots, layer):
    g = arr(*[rect(*p) for p in plots])
    lay = arr(*[rect(*p) for p in layer])
    area = shapely.area(g)
    s = ms.share(ms.union_overlap(g, lay, area), area)
    assert ((s >= 0) & (s <= 1)).all()
    exact = shapely.area(shapely.intersection(g, shapely.union_all(lay))) / area
    assert s == pytest.approx(exact, abs=1e-9)


def test_threaded_queries_equal_single_threaded():
    from zoning import _parallel

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 20_000, (30_000, 2))
    plots = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 30, xy[:, 1] + 20)
    tree = shapely.STRtree(plots)
    assert _parallel._threads(len(plots)) >= 1
    i, j = _parallel.query(tree, plots, "dwithin", 20.0)
    ref = tree.query(plots, predicate="dwithin", distance=20.0)
    assert np.array_equal(i, ref[0]) and np.array_equal(j, ref[1])
    assert np.array_equal(_parallel.elementwise(shapely.area, plots), shapely.area(plots))


def test_plot_covered_by_several_pieces_has_share_one():
    # a boundary of 2,000 vertices is cut into pieces; a plot across a cut is still covered
    ring = shapely.Point(620_000, 3_342_000).buffer(5000, quad_segs=500)
    plot = arr(shapely.box(619_990, 3_341_990, 620_010, 3_342_010))  # the centre, on a cut
    pieces = ms.subdivide(arr(ring), max_vertices=64)
    assert len(pieces) > 4 and shapely.intersects(pieces, plot[0]).sum() >= 2
    assert ms.share(ms.union_overlap(plot, arr(ring)), shapely.area(plot))[0] == 1.0
