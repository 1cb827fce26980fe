"""The whole job in memory: measures once, decisions many; rows in = rows out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import frame, rect, tiny_layers
from zoning import classify, decide, load_config
from zoning.layers import frames_to_layers


def test_redeciding_on_kept_measures_equals_a_full_run():
    layers = tiny_layers()
    loaded = frames_to_layers(**layers)
    first = classify(loaded)
    measures = first.parcels  # measure columns are kept in the output
    for override in (
        {"scattered_max_mu": 2.0},
        {"inside_share_min": 0.0},
        {"baseline_year": 2030},
        {"protected_share_min": 1.0},
    ):
        params = load_config(**override).parameters
        quick = decide(measures.assign(linked_park_m=0.0), measures, params)
        full = classify(layers, config=load_config(**override)).parcels
        pd.testing.assert_series_equal(quick["rule"], full["rule"], check_names=False)
        pd.testing.assert_series_equal(quick["target_id"], full["target_id"], check_names=False)


def test_village_parks_layer_sums_up():
    layers = tiny_layers()
    result = classify(frames_to_layers(**layers))
    vp = result.village_parks
    assert vp["plots"].sum() == len(layers["parcels"])
    assert np.isclose(vp["area_mu"].sum(), result.parcels["area_mu"].sum())
    mix = vp[[f"plots_{c}" for c in ("retain", "consolidate", "vacate")]].sum(axis=1)
    assert (mix == vp["plots"]).all()
    assert np.isclose(vp.area.sum(), result.parcels.area.sum())
    assert set(vp["village_park_id"]) == set(result.parcels["village_park_id"])


geometry_kinds = st.sampled_from(["ok", "bowtie", "empty", "null", "point", "sliver"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(geometry_kinds, st.floats(0, 3000), st.floats(0, 3000)), min_size=1, max_size=30
    )
)
def test_rows_in_equal_rows_out(kinds):
    def make(kind, x, y):
        if kind == "ok":
            return rect(x, y, 30, 20)
        if kind == "bowtie":
            return shapely.Polygon(
                [
                    (620000 + x, 3342000 + y),
                    (620010 + x, 3342010 + y),
                    (620010 + x, 3342000 + y),
                    (620000 + x, 3342010 + y),
                ]
            )
        if kind == "empty":
            return shapely.Polygon()
        if kind == "point":
            return shapely.Point(620000 + x, 3342000 + y)
        if kind == "sliver":
            return shapely.Polygon(
                [(620000 + x, 3342000 + y), (620010 + x, 3342000 + y), (620020 + x, 3342000 + y)]
            )
        return None

    layers = tiny_layers()
    layers["parcels"] = frame(
        [{"parcel_id": f"X{i}", "geometry": make(*k)} for i, k in enumerate(kinds)]
        + [{"parcel_id": "ANCHOR", "geometry": rect(0, 0, 5, 5)}]
    )
    out = classify(layers).parcels
    assert out["parcel_id"].tolist() == layers["parcels"]["parcel_id"].tolist()
    usable = [k[0] in ("ok", "bowtie") for k in kinds] + [True]
    assert (out["class"].ne("unclassified").to_numpy() == np.array(usable)).all()
    shares = out.loc[usable, ["boundary_share", "cluster_share", "protected_share"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()


def noted_layers():
    """Tiny layers whose classification adds notes of its own: a field named like an
    output column, an official area off by 20 %, a plot named in the wrong town."""
    layers = tiny_layers()
    parcels = layers["parcels"].copy()
    parcels["rule"] = "旧规则"  # clashes with the output column ``rule``
    parcels["official_area_m2"] = parcels.area.to_numpy()
    parcels.loc[0, "official_area_m2"] *= 1.2
    parcels.loc[2, "town"] = "浒山街道"  # P003 lies in 宗汉街道
    layers["parcels"] = parcels
    loaded = frames_to_layers(**layers)
    loaded.issues.add("parcels", "note", "读取时的说明（a note made when loading）")
    return loaded


def test_classifying_twice_lists_each_note_once_and_leaves_the_input_log_alone():
    loaded = noted_layers()
    before = loaded.issues.frame()
    assert len(before) == 1
    first = classify(loaded)
    second = classify(loaded)
    pd.testing.assert_frame_equal(first.issues, second.issues)
    pd.testing.assert_frame_equal(loaded.issues.frame(), before)
    added = first.issues.iloc[len(before) :]
    # the input's rows first, then the classification's own: check, check, clash note
    pd.testing.assert_frame_equal(first.issues.iloc[: len(before)], before, check_dtype=False)
    assert list(added["action"]) == ["check", "check", "note"]
    assert list(added["id"]) == ["P001", "P003", ""]
    assert "clash" in added["reason"].iloc[-1]
    assert not first.issues.duplicated().any()


def test_study_whatifs_do_not_pile_up_notes():
    from zoning.scenario import Study

    loaded = noted_layers()
    before = len(loaded.issues.rows)
    study = Study(loaded)
    runs = [
        study.classify(),
        study.classify(),
        study.classify(scattered_max_mu=2.0),
        study.with_layer("towns", tiny_layers()["towns"]).classify(),
    ]
    assert len(loaded.issues.rows) == before
    for run in runs:
        pd.testing.assert_frame_equal(run.issues, runs[0].issues)
        assert (run.issues["reason"].str.contains("clash")).sum() == 1
        assert not run.issues.duplicated().any()


def run_cli(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_classify_lang_chooses_the_language_of_the_reason(tmp_path):
    """Issue 16: ``reason`` in the language of --lang (default zh), the other one beside."""
    import geopandas as gpd

    from conftest import write_gpkg

    path = write_gpkg(tmp_path / "in.gpkg", tiny_layers())
    out = {}
    for lang in (None, "zh", "en"):
        folder = tmp_path / f"out-{lang}"
        res = run_cli(
            "classify", path, "--out", folder, "--quiet", *(("--lang", lang) if lang else ())
        )
        assert res.returncode == 0, res.stderr
        out[lang] = gpd.read_file(folder / "classified.gpkg", layer="parcels")
    zh, en = out["zh"], out["en"]
    pd.testing.assert_frame_equal(out[None], zh)  # zh is the default
    assert list(zh.columns[:7]) == [
        "parcel_id",
        "class",
        "class_zh",
        "rule",
        "target_id",
        "reason",
        "reason_en",
    ]
    assert list(en.columns[:7]) == [*zh.columns[:6], "reason_zh"]
    assert zh["reason"].str.contains("开发边界内占比|保护用地占比|集聚点占比|建成年份").all()
    assert en["reason"].str.contains("boundary_share|protected_share|cluster_share|built ").all()
    assert en["reason"].tolist() == zh["reason_en"].tolist()
    assert zh["reason"].tolist() == en["reason_zh"].tolist()
    res = run_cli("classify", path, "--out", tmp_path / "x", "--lang", "fr")
    assert res.returncode != 0 and "'fr' is not one of 'zh', 'en'" in res.stderr


def test_sample_reasons_in_chinese_carry_no_field_names():
    """Every reason of the sample county in Chinese: no ASCII words (field names such as
    boundary_share, 'village park', 'mu'), only ids and numbers."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "data" / "sample_county.gpkg"
    parcels = classify(sample).parcels
    reason = parcels["reason"].astype(str)
    assert reason.str.len().min() > 10
    assert not reason.str.contains(
        "boundary_share|cluster_share|protected_share|baseline"
        "|village park|township|eco-friendly|fusion"
    ).any()
    words = reason.str.findall(r"[A-Za-z_]{3,}").explode().dropna()
    assert words.empty, words.value_counts().head().to_dict()
    assert (
        parcels["reason_en"]
        .str.contains("boundary_share|protected_share|cluster_share|built ")
        .all()
    )
