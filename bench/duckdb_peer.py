"""A DuckDB-spatial peer of SPEC §4–§5: the classification written as one SQL script.

Written from the SPEC alone, not from :mod:`zoning`'s code, so that it can prove the
answers: ``check`` compares its class and rule plot by plot with zoning's
``classified.gpkg``. It also is the "well-known tool" the benchmark runs beside zoning.

What it does (all in DuckDB with its spatial extension, the PyPI wheel
``duckdb-extension-spatial`` loaded from its file, so no network):

- reads every layer with ``ST_Read``; plots whose geometry is null, empty or of zero area
  after ``ST_MakeValid`` are ``unclassified``;
- shares: the layer is unioned (``ST_Union_Agg``), split into its polygons, cut by a grid
  of ``GRID_M`` cells (so each intersection is cheap), joined to the plots with
  ``ST_Intersects`` and the intersection areas summed (SPEC §4; a plot covered to 1e-9 is
  covered); ``cluster_id`` the cluster polygon of largest overlap (ties: smallest id);
- nearest township park: the park whose box centre is nearest gives a bound; the parks
  whose box is within the bound are the candidates; exact ``ST_Distance`` decides (ties:
  smallest id);
- village parks: pairs ``ST_DWithin(a, b, adjacency_gap_m)`` (DuckDB's spatial join),
  connected groups labelled by scipy's ``connected_components`` (the one step outside SQL:
  SQL has no cheap connected components), named by their smallest ``parcel_id``;
- linked park and the decision table of SPEC §5 in SQL.

Usage::

    python bench/duckdb_peer.py run COUNTY.gpkg OUT.gpkg [--threads N]
    python bench/duckdb_peer.py check OUT.gpkg ZONING_OUT/classified.gpkg

``run`` writes the plots with ``class``, ``rule``, ``target_id`` and the measures;
``check`` prints the differences (class, rule, target) and exits 1 when there are any.
Parameters are the SPEC §5 defaults (as in bench/bench.toml).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PARAMS = {
    "inside_share_min": 0.5,
    "cluster_share_min": 0.5,
    "protected_share_min": 0.05,
    "adjacency_gap_m": 20.0,
    "park_contact_m": 50.0,
    "scattered_max_mu": 15.0,
    "baseline_year": 2021,
}
#: Grid cell (m) that cuts the unioned layers into cheap pieces (like ST_Subdivide).
GRID_M = 1000.0
TRUE_WORDS = ("true", "yes", "y", "1", "t", "是", "有", "√", "✓")


def connect(threads: int | None = None):
    import duckdb
    import duckdb_extension_spatial

    ext = next(
        Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension")
    )
    con = duckdb.connect()
    con.execute(f"LOAD '{ext}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _flag(col: str, cols: set[str]) -> str:
    if col not in cols:
        return "false"
    words = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    return f"coalesce(lower(trim(CAST({col} AS VARCHAR))) IN ({words}), false)"


def load(con, path: str) -> set[str]:
    """Every layer as a table; returns the layers present."""
    import pyogrio

    present = {str(name) for name, _ in pyogrio.list_layers(path)}
    for name in ("parcels", "dev_boundary", "township_parks", "cluster_points", "protected"):
        if name in present:
            con.execute(
                f"CREATE TABLE {name}_raw AS SELECT * FROM ST_Read(?, layer='{name}')", [path]
            )
        else:
            con.execute(f"CREATE TABLE {name}_raw (geom GEOMETRY)")
    cols = {r[0] for r in con.execute("DESCRIBE parcels_raw").fetchall()}
    year = "TRY_CAST(built_year AS DOUBLE)" if "built_year" in cols else "NULL::DOUBLE"
    con.execute(f"""
        CREATE TABLE plots AS
        WITH fixed AS (
            SELECT CAST(parcel_id AS VARCHAR) AS parcel_id,
                   ST_CollectionExtract(ST_MakeValid(geom), 3) AS geom,
                   {_flag("eco_friendly", cols)} AS eco_friendly,
                   {_flag("rural_fusion", cols)} AS rural_fusion,
                   {year} AS built_year
            FROM parcels_raw)
        SELECT *, ST_Area(geom) AS area_m2,
               geom IS NOT NULL AND NOT ST_IsEmpty(geom) AND ST_Area(geom) > 0 AS usable
        FROM fixed""")
    return present


def overlap_sql(layer: str) -> str:
    """area(P ∩ ∪layer) per usable plot: union, explode, cut by a grid, join, sum."""
    g = GRID_M
    return f"""
        WITH u AS (SELECT ST_Union_Agg(ST_MakeValid(geom)) AS geom FROM {layer}_raw
                   WHERE geom IS NOT NULL),
        parts AS (SELECT unnest(ST_Dump(geom), recursive := true) FROM u
                  WHERE geom IS NOT NULL),
        boxed AS (SELECT geom, ST_XMin(geom) x0, ST_YMin(geom) y0, ST_XMax(geom) x1,
                         ST_YMax(geom) y1 FROM parts),
        cells AS (SELECT b.geom, ix, iy FROM boxed b,
                  range(CAST(floor(b.x0 / {g}) AS BIGINT), CAST(floor(b.x1 / {g}) AS BIGINT) + 1)
                      t1(ix),
                  range(CAST(floor(b.y0 / {g}) AS BIGINT), CAST(floor(b.y1 / {g}) AS BIGINT) + 1)
                      t2(iy)),
        pieces AS (SELECT ST_Intersection(geom, ST_MakeEnvelope(ix * {g}, iy * {g},
                                                                (ix + 1) * {g}, (iy + 1) * {g}))
                          AS geom FROM cells),
        pieces2 AS (SELECT geom FROM pieces WHERE NOT ST_IsEmpty(geom) AND ST_Area(geom) > 0)
        SELECT p.parcel_id, sum(ST_Area(ST_Intersection(p.geom, q.geom))) AS overlap
        FROM plots p JOIN pieces2 q ON ST_Intersects(p.geom, q.geom)
        WHERE p.usable GROUP BY p.parcel_id"""


def share_sql(name: str, layer: str) -> str:
    return f"""
        CREATE TABLE {name} AS
        SELECT p.parcel_id,
               CASE WHEN o.overlap IS NULL THEN 0.0
                    WHEN o.overlap >= p.area_m2 * (1 - 1e-9) THEN 1.0
                    ELSE greatest(0.0, least(1.0, o.overlap / p.area_m2)) END AS share
        FROM plots p LEFT JOIN ({overlap_sql(layer)}) o USING (parcel_id)
        WHERE p.usable"""


def measures(con, params: dict) -> None:
    con.execute(share_sql("s_boundary", "dev_boundary"))
    con.execute(share_sql("s_cluster", "cluster_points"))
    con.execute(share_sql("s_protected", "protected"))
    con.execute("""
        CREATE TABLE c_id AS
        SELECT parcel_id, arg_min(cluster_id, (-a, cluster_id)) AS cluster_id FROM (
            SELECT p.parcel_id, CAST(c.cluster_id AS VARCHAR) AS cluster_id,
                   ST_Area(ST_Intersection(p.geom, c.geom)) AS a
            FROM plots p JOIN cluster_points_raw c ON ST_Intersects(p.geom, c.geom)
            WHERE p.usable) WHERE a > 0 GROUP BY parcel_id""")
    # nearest township park: bound from the park of nearest box centre, then exact
    con.execute("""
        CREATE TABLE parks AS
        SELECT CAST(park_id AS VARCHAR) AS park_id, geom, ST_XMin(geom) x0, ST_YMin(geom) y0,
               ST_XMax(geom) x1, ST_YMax(geom) y1,
               (ST_XMin(geom) + ST_XMax(geom)) / 2 cx, (ST_YMin(geom) + ST_YMax(geom)) / 2 cy
        FROM township_parks_raw WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)""")
    con.execute("""
        CREATE TABLE pbox AS
        SELECT parcel_id, geom, ST_XMin(geom) x0, ST_YMin(geom) y0, ST_XMax(geom) x1,
               ST_YMax(geom) y1 FROM plots WHERE usable""")
    con.execute("""
        CREATE TABLE guess AS
        SELECT b.parcel_id, ST_Distance(b.geom, k.geom) AS bound FROM (
            SELECT p.parcel_id, p.geom,
                   arg_min(k.park_id, (k.cx - (p.x0 + p.x1) / 2) ** 2
                                      + (k.cy - (p.y0 + p.y1) / 2) ** 2) AS park_id
            FROM pbox p CROSS JOIN parks k GROUP BY p.parcel_id, p.geom) b
        JOIN parks k USING (park_id)""")
    con.execute("""
        CREATE TABLE nearest AS
        SELECT parcel_id, arg_min(park_id, (d, park_id)) AS nearest_park_id,
               min(d) AS nearest_park_m FROM (
            SELECT p.parcel_id, k.park_id, ST_Distance(p.geom, k.geom) AS d
            FROM pbox p JOIN guess g USING (parcel_id) CROSS JOIN parks k
            WHERE greatest(k.x0 - p.x1, p.x0 - k.x1, 0) ** 2
                  + greatest(k.y0 - p.y1, p.y0 - k.y1, 0) ** 2 <= (g.bound * (1 + 1e-9)) ** 2
        ) GROUP BY parcel_id""")
    # village parks: pairs within the gap, connected groups
    gap = float(params["adjacency_gap_m"])
    con.execute(
        "CREATE TABLE ord AS SELECT parcel_id, geom, row_number() OVER () - 1 AS k "
        "FROM plots WHERE usable"
    )
    # no ``a.k < b.k`` in the join: DuckDB then plans a piecewise merge join on k (all
    # pairs) instead of its spatial join; both directions are fine for the components
    pairs = con.execute(f"""
        SELECT a.k, b.k FROM ord a JOIN ord b
          ON ST_DWithin(a.geom, b.geom, {gap})""").fetchnumpy()
    n = con.execute("SELECT count(*) FROM ord").fetchone()[0]
    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    i, j = np.asarray(pairs["k"]), np.asarray(pairs["k_1"])
    _, label = connected_components(
        coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n)), directed=False
    )
    con.register("labels", pd.DataFrame({"k": np.arange(n), "grp": label}))
    con.execute("CREATE TABLE grp AS SELECT o.parcel_id, l.grp FROM ord o JOIN labels l USING (k)")


def decide(con, params: dict) -> None:
    p = params
    con.execute("""
        CREATE TABLE m AS
        SELECT p.parcel_id, p.usable, p.area_m2, p.eco_friendly, p.rural_fusion, p.built_year,
               b.share AS boundary_share, c.share AS cluster_share, ci.cluster_id,
               s.share AS protected_share, n.nearest_park_id, n.nearest_park_m, g.grp
        FROM plots p LEFT JOIN s_boundary b USING (parcel_id)
        LEFT JOIN s_cluster c USING (parcel_id) LEFT JOIN c_id ci USING (parcel_id)
        LEFT JOIN s_protected s USING (parcel_id) LEFT JOIN nearest n USING (parcel_id)
        LEFT JOIN grp g USING (parcel_id)""")
    con.execute(f"""
        CREATE TABLE groups AS
        SELECT grp, min(parcel_id) AS village_park_id,
               sum(area_m2) * 15.0 / 10000.0 AS village_park_mu,
               arg_min(nearest_park_id, (nearest_park_m, nearest_park_id))
                   FILTER (WHERE nearest_park_m <= {p["park_contact_m"]}) AS linked_park_id
        FROM m WHERE usable GROUP BY grp""")
    con.execute(f"""
        CREATE TABLE result AS
        WITH f AS (SELECT m.*, g.village_park_id, g.village_park_mu, g.linked_park_id
                   FROM m LEFT JOIN groups g USING (grp)),
        r AS (SELECT *, CASE
            WHEN NOT usable THEN NULL
            WHEN protected_share >= {p["protected_share_min"]} THEN 'V1'
            WHEN built_year IS NOT NULL AND built_year > {p["baseline_year"]} THEN 'V3'
            WHEN linked_park_id IS NOT NULL AND boundary_share >= {p["inside_share_min"]}
                THEN 'C1'
            WHEN cluster_share >= {p["cluster_share_min"]} THEN 'R1'
            WHEN boundary_share < {p["inside_share_min"]} AND (eco_friendly OR rural_fusion)
                 AND village_park_mu <= {p["scattered_max_mu"]} THEN 'R2'
            WHEN boundary_share < {p["inside_share_min"]} THEN 'V2'
            ELSE 'C2' END AS rule FROM f)
        SELECT *, CASE WHEN rule IS NULL THEN 'unclassified'
                       WHEN rule IN ('V1', 'V2', 'V3') THEN 'vacate'
                       WHEN rule IN ('C1', 'C2') THEN 'consolidate'
                       ELSE 'retain' END AS class,
               CASE rule WHEN 'C1' THEN linked_park_id WHEN 'C2' THEN nearest_park_id
                         WHEN 'R1' THEN cluster_id ELSE NULL END AS target_id
        FROM r""")


def run(county: str, out: str, threads: int | None = None, params: dict | None = None) -> dict:
    """Classify ``county`` and write ``out`` (plots with class, rule, target, measures)."""
    params = {**PARAMS, **(params or {})}
    t0 = time.perf_counter()
    con = connect(threads)
    timings = {}
    load(con, county)
    timings["read"] = time.perf_counter() - t0
    measures(con, params)
    timings["measures"] = time.perf_counter() - t0 - timings["read"]
    decide(con, params)
    Path(out).unlink(missing_ok=True)
    con.execute(f"""
        COPY (SELECT r.parcel_id, r.class, r.rule, r.target_id, r.area_m2,
                     r.boundary_share, r.cluster_share, r.cluster_id, r.protected_share,
                     r.nearest_park_id, r.nearest_park_m, r.village_park_id,
                     r.village_park_mu, r.linked_park_id, p.geom
              FROM result r JOIN plots p USING (parcel_id))
        TO '{out}' WITH (FORMAT GDAL, DRIVER 'GPKG', SRS 'EPSG:4549')""")
    timings["total"] = time.perf_counter() - t0
    return timings


COMPARED = ("class", "rule", "target_id")


def check(peer: str, zoning: str, show: int = 10) -> int:
    """Differences in class, rule and target between the peer's and zoning's plots."""
    import pandas as pd
    import pyogrio

    cols = ["parcel_id", *COMPARED]
    a = pyogrio.read_dataframe(peer, read_geometry=False, columns=cols[1:] + ["parcel_id"])
    b = pyogrio.read_dataframe(zoning, layer="parcels", read_geometry=False, columns=cols)
    a = a[cols].set_index("parcel_id").astype(object).where(lambda d: d.notna(), "")
    b = b[cols].set_index("parcel_id").astype(object).where(lambda d: d.notna(), "")
    if len(a) != len(b) or set(a.index) != set(b.index):
        print(f"plots differ: peer {len(a)}, zoning {len(b)}", file=sys.stderr)
        return max(1, abs(len(a) - len(b)))
    b = b.loc[a.index]
    diff = (a.astype(str) != b.astype(str)).any(axis=1)
    if diff.any():
        both = pd.concat({"peer": a[diff], "zoning": b[diff]}, axis=1)
        print(both.head(show).to_string(), file=sys.stderr)
    return int(diff.sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("county")
    r.add_argument("out")
    r.add_argument("--threads", type=int)
    c = sub.add_parser("check")
    c.add_argument("peer")
    c.add_argument("zoning")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        print(
            json.dumps(
                {k: round(v, 3) for k, v in run(args.county, args.out, args.threads).items()}
            )
        )
    else:
        n = check(args.peer, args.zoning)
        print(json.dumps({"differences": n}))
        sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()
