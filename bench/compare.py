"""Compare two classification outputs plot by plot (``zoning classify`` vs ``bench/naive.py``).

Usage: ``python bench/compare.py OURS_DIR NAIVE_DIR [--show 40]``

Reads ``classified.gpkg`` (layer ``parcels``) from each folder, joins on ``parcel_id`` and
counts plots whose ``class`` and ``rule`` agree (``target_id`` is compared too). For each
disagreement it names the SPEC §4 measures that differ, so a buffer-approximation case
(``village_park_id`` / ``linked_park_id`` differ, shares equal) is told apart from a real
difference in shares or nearest parks. For village-park differences it also gives the
smallest distance from the plot to a plot of the other output's group that is not in its
own group, i.e. how close the disputed link is to ``adjacency_gap_m``.

Prints a readable report, then one JSON line with the counts (the last line).

``python bench/compare.py --copies SAMPLE_DIR OURS_DIR`` checks a synthetic county instead:
every whole copy of the sample (``bench/synth.py``) must classify exactly like the sample
itself (class, rule, target and village park, with the ``-cNNN`` suffixes stripped); the
partial last copy is left out (its cut village parks may differ).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

KEYS = ["class", "rule"]
NUMERIC = [
    "boundary_share",
    "cluster_share",
    "protected_share",
    "nearest_park_m",
    "village_park_mu",
]
TEXT = ["cluster_id", "nearest_park_id", "village_park_id", "linked_park_id"]
TOLERANCE = 1e-9


def read(folder: str | Path, geometry: bool = False) -> pd.DataFrame:
    path = Path(folder) / "classified.gpkg"
    info = pyogrio.read_info(path, layer="parcels")
    cols = [
        c for c in ["parcel_id", *KEYS, "target_id", *NUMERIC, *TEXT] if c in list(info["fields"])
    ]
    df = pyogrio.read_dataframe(
        path, layer="parcels", columns=cols, read_geometry=geometry, use_arrow=True
    )
    df = pd.DataFrame(df)
    for c in ["rule", "target_id", *TEXT]:
        if c in df:
            df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    return df


def differing_measures(row) -> list[str]:
    out = []
    for c in NUMERIC:
        a, b = row.get(f"{c}_ours"), row.get(f"{c}_naive")
        if a is None or b is None:
            continue
        if not (pd.isna(a) and pd.isna(b)) and not abs(float(a) - float(b)) <= TOLERANCE:
            out.append(f"{c} {float(a):.6g}/{float(b):.6g}")
    for c in TEXT:
        a, b = row.get(f"{c}_ours"), row.get(f"{c}_naive")
        if a is not None and b is not None and a != b:
            out.append(f"{c} {a or '-'}/{b or '-'}")
    return out


def link_gap(ours_dir: str | Path, bad: pd.DataFrame) -> pd.Series:
    """For plots whose village park differs: the smallest distance to a plot grouped with
    it by one output but not the other (≈ adjacency_gap_m for buffer-approximation cases)."""
    if bad.empty:
        return pd.Series(dtype=float)
    geo = pyogrio.read_dataframe(
        Path(ours_dir) / "classified.gpkg", layer="parcels", columns=["parcel_id"], use_arrow=True
    )
    geom = pd.Series(
        np.asarray(geo.geometry.array, dtype=object), index=geo["parcel_id"].astype(str)
    )
    out = {}
    for pid, row in bad.iterrows():  # only the (few) disagreeing plots
        ours = set(row["members_ours"])
        naive = set(row["members_naive"])
        others = list((ours ^ naive) - {pid})
        if others:
            d = shapely.distance(geom[pid], geom[others].to_numpy())
            out[pid] = float(np.min(d))
    return pd.Series(out, dtype=float)


def compare(ours_dir: str, naive_dir: str, show: int = 40) -> dict:
    ours, naive = read(ours_dir), read(naive_dir)
    merged = ours.merge(
        naive, on="parcel_id", how="outer", suffixes=("_ours", "_naive"), indicator=True
    )
    only_ours = int((merged["_merge"] == "left_only").sum())
    only_naive = int((merged["_merge"] == "right_only").sum())
    both = merged[merged["_merge"] == "both"].copy()
    same = np.ones(len(both), dtype=bool)
    for k in KEYS:
        same &= (both[f"{k}_ours"] == both[f"{k}_naive"]).to_numpy()
    same_target = (both["target_id_ours"] == both["target_id_naive"]).to_numpy()
    bad = both[~same].copy()
    bad["differs"] = pd.Series(
        [", ".join(differing_measures(r)) for _, r in bad.iterrows()], index=bad.index, dtype=object
    )
    # how far apart are plots whose village-park grouping differs?
    vp = both.set_index("parcel_id")
    groups_o = vp.groupby("village_park_id_ours").groups
    groups_n = vp.groupby("village_park_id_naive").groups
    vp_bad = vp[vp["village_park_id_ours"] != vp["village_park_id_naive"]]
    vp_bad = vp_bad.assign(
        members_ours=[list(groups_o.get(g, [])) for g in vp_bad["village_park_id_ours"]],
        members_naive=[list(groups_n.get(g, [])) for g in vp_bad["village_park_id_naive"]],
    )
    gaps = link_gap(ours_dir, vp_bad.head(2000))
    bad["link_gap_m"] = bad["parcel_id"].map(gaps)

    print(f"ours:  {ours_dir} ({len(ours)} plots)\nnaive: {naive_dir} ({len(naive)} plots)")
    print(f"plots in both: {len(both)}; only ours: {only_ours}; only naive: {only_naive}")
    print(
        f"class and rule agree: {int(same.sum())} / {len(both)}; "
        f"target_id agrees: {int(same_target.sum())} / {len(both)}"
    )
    print(
        f"plots whose village park differs: {len(vp_bad)}"
        + (
            f" (distances of the disputed links: {gaps.min():.3f}–{gaps.max():.3f} m)"
            if len(gaps)
            else ""
        )
    )
    if len(bad):
        print(f"\ndisagreements (first {min(show, len(bad))} of {len(bad)}):")
        cols = [
            "parcel_id",
            "class_ours",
            "rule_ours",
            "class_naive",
            "rule_naive",
            "link_gap_m",
            "differs",
        ]
        with pd.option_context("display.width", 200, "display.max_colwidth", 120):
            print(bad[cols].head(show).to_string(index=False))
    tgt_bad = both[same & ~same_target]
    if len(tgt_bad):
        print(f"\nsame rule, different target_id (first {min(show, len(tgt_bad))}):")
        print(
            tgt_bad[["parcel_id", "rule_ours", "target_id_ours", "target_id_naive"]]
            .head(show)
            .to_string(index=False)
        )
    grouping = {"village_park_id", "village_park_mu", "linked_park_id"}
    names = [{d.split(" ")[0] for d in r.split(", ") if d} for r in bad["differs"]]
    explained = np.array([bool(n) and n <= grouping for n in names], dtype=bool)
    return {
        "plots": int(len(both)),
        "agree": int(same.sum()),
        "disagree": int(len(bad)),
        "target_agree": int(same_target.sum()),
        "only_ours": only_ours,
        "only_naive": only_naive,
        "village_park_differs": int(len(vp_bad)),
        "disagree_village_park_only": int(explained.sum()),
        "link_gap_m_min": None if gaps.empty else round(float(gaps.min()), 4),
        "link_gap_m_max": None if gaps.empty else round(float(gaps.max()), 4),
    }


def strip_copy(values: pd.Series) -> pd.Series:
    return values.astype(str).str.replace(r"-c\d+$", "", regex=True)


def check_copies(sample_dir: str, county_dir: str, show: int = 40) -> dict:
    sample, county = read(sample_dir), read(county_dir)
    copy = county["parcel_id"].str.extract(r"-c(\d+)$")[0].astype(int)
    keys = [
        "class",
        "rule",
        "target_id",
        "village_park_id",
        "linked_park_id",
        "cluster_id",
        "nearest_park_id",
    ]
    base = county[["parcel_id", *keys]].copy()
    for c in [
        "parcel_id",
        "target_id",
        "village_park_id",
        "linked_park_id",
        "cluster_id",
        "nearest_park_id",
    ]:
        base[c] = strip_copy(base[c])
    per_copy = copy.value_counts()
    whole = copy.isin(per_copy.index[per_copy == len(sample)])
    merged = base[whole.to_numpy()].merge(
        sample[["parcel_id", *keys]], on="parcel_id", how="left", suffixes=("", "_sample")
    )
    same = np.ones(len(merged), dtype=bool)
    for k in keys:
        same &= (merged[k] == merged[f"{k}_sample"]).to_numpy()
    print(
        f"{county_dir}: {int(whole.sum())} plots in {int((per_copy == len(sample)).sum())} "
        f"whole copies of the sample ({len(sample)} plots); identical to the sample: "
        f"{int(same.sum())}"
    )
    if (~same).any():
        print(merged[~same].head(show).to_string(index=False))
    return {
        "whole_copy_plots": int(whole.sum()),
        "identical": int(same.sum()),
        "partial_copy_plots": int((~whole).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ours")
    parser.add_argument("naive")
    parser.add_argument("--show", type=int, default=40, help="disagreements to list")
    parser.add_argument(
        "--copies",
        action="store_true",
        help="OURS is the sample's output, NAIVE a synthetic county's output",
    )
    args = parser.parse_args(argv)
    if args.copies:
        result = check_copies(args.ours, args.naive, args.show)
    else:
        result = compare(args.ours, args.naive, args.show)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
