"""Layers → measures → rules: the classification of every village industrial plot.

:func:`classify` is the one entry point: a file path, a dict of
:class:`~zoning.layers.Source`, loaded :class:`~zoning.layers.Layers` or a dict of
GeoDataFrames. It dispatches to :func:`classify_files` (read the files first),
:func:`classify_layers` (the whole job on loaded layers) or :func:`classify_frames`
(plain GeoDataFrames, canonical field names).

The columns between the rooms: :func:`zoning.measures.measure` gives
``MEASURE_COLUMNS`` and ``DECISION_COLUMNS`` (``linked_park_m``, ``village_park_group``)
per plot; :func:`zoning.rules.decide` takes them, the plots' input attributes and the
problem mask (:meth:`zoning.layers.Layers.problem`) and gives ``class``, ``class_zh``,
``rule``, ``target_id``, ``reason`` (and the reason in the other language); the
classification's ``parcels`` are those (:data:`OUTPUT_FIRST`), then ``MEASURE_COLUMNS``,
then the input attributes; its ``village_parks`` are dissolved by
``village_park_group``. No column of another module's private use is read here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .config import Config, load_config
from .layers import (
    IssueLog,
    Layers,
    Source,
    file_sources,
    frames_to_layers,
    input_name,
    load_layers,
)
from .measures import MEASURE_COLUMNS, group_union, largest_overlap, measure, to_mu
from .rules import decide
from .vocab import CLASSES

OUTPUT_FIRST = ["parcel_id", "class", "class_zh", "rule", "target_id", "reason"]
#: The reason in the language other than ``--lang`` follows ``reason`` (issue 16).
REASON_OTHER = ["reason_en", "reason_zh"]


@dataclass
class Classification:
    """The result of a run: plots with class and measures, village parks, context.

    The classification owns its issue log (``issue_log``): the rows of the input layers'
    log as they were when it was made, then its own notes. It never writes into
    ``layers``: classifying the same layers twice lists every note once per result.
    """

    parcels: gpd.GeoDataFrame
    village_parks: gpd.GeoDataFrame
    layers: Layers
    config: Config
    timings: dict[str, float] = field(default_factory=dict)
    name: str = ""
    issue_log: IssueLog = field(default_factory=IssueLog)

    @property
    def issues(self) -> pd.DataFrame:
        """Every repaired, coerced, rejected or unclassified row (SPEC §7)."""
        return self.issue_log.frame()


def own_log(layers: Layers, *notes: IssueLog) -> IssueLog:
    """A new log: the rows of the layers' log, then those of ``notes``; the layers' log
    is left as it is (its source rows are shared so new rows name rows of the file)."""
    return IssueLog(
        rows=[*layers.issues.rows, *(r for log in notes for r in log.rows)],
        source_rows=dict(layers.issues.source_rows),
    )


def town_overlap(
    parcels: gpd.GeoDataFrame, towns: gpd.GeoDataFrame | None, need: np.ndarray | None = None
) -> np.ndarray | None:
    """The town polygon each plot (of ``need``, default every plot with a geometry)
    overlaps most ("" if none), one STRtree query; None without a towns layer."""
    if towns is None or not len(towns):
        return None
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    if need is None:
        need = ~shapely.is_missing(geoms)
    found = np.full(len(parcels), "", dtype=object)
    found[need] = largest_overlap(
        geoms[need], np.asarray(towns.geometry.array, dtype=object), towns["town"].to_numpy(str)
    )
    return found


def assign_towns(
    parcels: gpd.GeoDataFrame, towns: gpd.GeoDataFrame | None, overlap: np.ndarray | None = None
) -> pd.Series:
    """The plot's ``town`` attribute, else the town polygon it overlaps most ("" if none).
    ``overlap`` (:func:`town_overlap` of every plot) is reused when given."""
    given = (
        parcels["town"].astype(object)
        if "town" in parcels
        else pd.Series(None, index=parcels.index, dtype=object)
    )
    given = given.where(given.notna() & given.astype(str).str.strip().ne(""), None)
    if towns is None or not len(towns) or given.notna().all():
        return given.fillna("")
    need = given.isna().to_numpy() & ~shapely.is_missing(parcels.geometry.array)
    found = overlap if overlap is not None else town_overlap(parcels, towns, need)
    assert found is not None  # towns given
    found = found[need]
    out = given.copy()
    out[need] = found
    return out.fillna("")


#: Planar and official (survey) areas differing by more than this share are listed.
OFFICIAL_AREA_TOLERANCE = 0.005


def check_official_area(parcels: pd.DataFrame, area_m2, issues) -> None:
    """List the plots whose planar area differs from ``official_area_m2`` (the survey's
    TBMJ) by more than :data:`OFFICIAL_AREA_TOLERANCE` of the official area, both numbers
    quoted (SPEC §3). The rules keep using the planar area."""
    if "official_area_m2" not in parcels:
        return
    official = pd.to_numeric(parcels["official_area_m2"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    planar = np.asarray(area_m2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = (planar - official) / official
    usable = np.isfinite(planar) & (planar > 0) & np.isfinite(official)
    bad = usable & (((official > 0) & (np.abs(diff) > OFFICIAL_AREA_TOLERANCE)) | (official == 0))
    pos = np.flatnonzero(bad)
    issues.add(
        "parcels",
        "check",
        [
            f"平面面积与图斑面积（调查）相差 {diff[i] * 100:+.2f}%：平面 {planar[i]:.2f} 平方米，"
            f"调查 {official[i]:.2f} 平方米（planar area {planar[i]:.2f} m² differs from the "
            f"official area {official[i]:.2f} m² by more than "
            f"{OFFICIAL_AREA_TOLERANCE * 100:g} %）"
            for i in pos
        ],
        pos,
        parcels["parcel_id"].iloc[pos],
    )


def check_towns(
    parcels: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame | None,
    issues,
    overlap: np.ndarray | None = None,
) -> None:
    """List plots whose ``town`` attribute differs from the town polygon they overlap most,
    with both names, and plots that overlap no town polygon. ``overlap``
    (:func:`town_overlap`) is reused when given."""
    if towns is None or not len(towns):
        return
    present = ~shapely.is_missing(np.asarray(parcels.geometry.array, dtype=object))
    found = overlap if overlap is not None else town_overlap(parcels, towns)
    assert found is not None  # towns given
    if "town" in parcels:
        given = parcels["town"].astype("string").str.strip().fillna("").to_numpy(dtype=object)
    else:
        given = np.full(len(parcels), "", dtype=object)
    ids = parcels["parcel_id"]
    outside = np.flatnonzero(present & (found == ""))
    issues.add(
        "parcels",
        "check",
        "地块不在任何镇街范围内（the plot overlaps no town polygon）",
        outside,
        ids.iloc[outside],
    )
    differ = np.flatnonzero(present & (found != "") & (given != "") & (given != found))
    issues.add(
        "parcels",
        "check",
        [
            f"镇街属性“{given[i]}”与所在镇街“{found[i]}”不符（town attribute {given[i]!r} differs "
            f"from the town polygon it overlaps most, {found[i]!r}）"
            for i in differ
        ],
        differ,
        ids.iloc[differ],
    )


def _most_common(label: np.ndarray, values: pd.Series, groups: int) -> np.ndarray:
    """Most common value per group (ties: first in code-point order)."""
    codes, uniques = pd.factorize(values.fillna("").astype(str), sort=True)
    key = label.astype(np.int64) * (len(uniques) + 1) + codes
    keys, counts = np.unique(key, return_counts=True)
    grp, code = keys // (len(uniques) + 1), keys % (len(uniques) + 1)
    order = np.lexsort((code, -counts, grp))
    first = np.r_[True, grp[order][1:] != grp[order][:-1]]
    out = np.full(groups, "", dtype=object)
    out[grp[order][first]] = np.asarray(uniques, dtype=object)[code[order][first]]
    return out


def group_geometry(parcels: gpd.GeoDataFrame, label: np.ndarray, groups: int) -> np.ndarray:
    """The dissolved shape of each village park (index = group label)."""
    return group_union(np.asarray(parcels.geometry.array, dtype=object), label, groups)


def village_park_layer(
    parcels: gpd.GeoDataFrame, group: pd.Series, geometry: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Each village park dissolved, with its plots, mu, linked park and class mix.

    ``geometry`` (one dissolved shape per group label) is reused when given: it depends on
    the grouping only, not on the decision.
    """
    ok = group.to_numpy() >= 0
    label = group.to_numpy()[ok].astype(np.int64)
    groups = int(label.max()) + 1 if len(label) else 0
    p = parcels.loc[ok]
    area = p["area_m2"].to_numpy(dtype=float)
    _, first = np.unique(label, return_index=True)
    cols = {
        "village_park_id": p["village_park_id"].to_numpy(dtype=object)[first],
        "plots": np.bincount(label, minlength=groups),
        "area_m2": np.bincount(label, weights=area, minlength=groups),
        "linked_park_id": p["linked_park_id"].to_numpy(dtype=object)[first],
        "town": _most_common(label, p["town"], groups),
    }
    cols["area_mu"] = to_mu(cols["area_m2"]).round(4)
    if "official_area_m2" in p:  # the survey's area beside the planar one (SPEC §3)
        official = pd.to_numeric(p["official_area_m2"], errors="coerce").fillna(0.0)
        cols["official_area_m2"] = np.bincount(
            label, weights=official.to_numpy(dtype=float), minlength=groups
        )
        cols["official_area_mu"] = to_mu(cols["official_area_m2"]).round(4)
    cls = p["class"].to_numpy(dtype=object)
    for c in CLASSES[:3]:
        hit = cls == c
        cols[f"plots_{c}"] = np.bincount(label, weights=hit, minlength=groups).astype(int)
        cols[f"mu_{c}"] = to_mu(np.bincount(label, weights=area * hit, minlength=groups)).round(4)
    geoms = geometry if geometry is not None else group_geometry(p, label, groups)
    out = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(geoms, crs=parcels.crs))
    return out.sort_values("village_park_id", kind="stable").reset_index(drop=True)


def read_layers(sources: dict[str, Source | list[Source] | None], config: Config) -> Layers:
    """:func:`zoning.layers.load_layers`; plots read back from a classify output
    (``Source.output``) lose the columns this module wrote (class, rule, measures …), so
    a new run makes them afresh instead of keeping the old ones as clashing inputs."""
    layers = load_layers(sources, config)
    src = sources.get("parcels")
    if isinstance(src, Source) and src.output:
        output = {
            c.casefold() for c in OUTPUT_FIRST + REASON_OTHER + MEASURE_COLUMNS if c != "parcel_id"
        }
        layers.parcels = layers.parcels.drop(
            columns=[c for c in layers.parcels.columns if str(c).casefold() in output]
        )
    return layers


def plot_attributes(
    layers: Layers, issues: IssueLog, overlap: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """The plots' input attributes for the output: clashing names kept under ``*_input``
    (reported once, in ``issues``, not in the layers' log), ``town`` filled from the
    towns layer where missing (``overlap``: :func:`town_overlap`, reused when given)."""
    attrs = layers.public("parcels")
    assert attrs is not None  # a required layer
    # Output names compared as GeoPackage does (case-insensitively); private names were
    # kept apart at the door (zoning.layers.keep_apart).
    output = {
        c.casefold() for c in OUTPUT_FIRST + REASON_OTHER + MEASURE_COLUMNS if c != "parcel_id"
    }
    clash = [c for c in attrs.columns if str(c).casefold() in output]
    if clash:  # keep the user's column under another name: nothing is lost
        taken = {str(c).casefold() for c in attrs.columns} | output
        moved = {c: input_name(str(c), taken) for c in clash}
        attrs = attrs.rename(columns=moved)
        issues.add(
            "parcels",
            "note",
            f"input field(s) {clash} clash with output columns; kept as {list(moved.values())}",
        )
    attrs["town"] = assign_towns(attrs, layers.towns, overlap)
    return attrs


def build_result(
    layers: Layers,
    config: Config,
    measures: pd.DataFrame,
    attrs: gpd.GeoDataFrame,
    timings: dict[str, float] | None = None,
    vp_geometry: np.ndarray | None = None,
    issues: IssueLog | None = None,
    lang: str = "zh",
) -> Classification:
    """Decide over kept measures and assemble the outputs (no geometry work but the
    village-park dissolve, which ``vp_geometry`` can supply). ``issues`` is the
    classification's own log (default: a copy of the layers' log, see :func:`own_log`);
    ``lang`` the language of ``reason`` (the other one follows as ``reason_en`` or
    ``reason_zh``)."""
    timings = timings if timings is not None else {}
    params = config.parameters
    t0 = time.perf_counter()
    problem = layers.problem("parcels")
    decision = decide(measures, attrs, params, problem, lang)
    timings["decide"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = pd.concat(
        [
            attrs[["parcel_id"]],
            decision,
            measures[MEASURE_COLUMNS],
            attrs.drop(columns=["parcel_id"]),
        ],
        axis=1,
    )
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=layers.crs)
    vp = village_park_layer(out, measures["village_park_group"], vp_geometry)
    timings["assemble"] = time.perf_counter() - t0
    log = issues if issues is not None else own_log(layers)
    return Classification(out, vp, layers, config, timings, issue_log=log)


def classify_layers(
    layers: Layers,
    config: Config | None = None,
    progress: Callable[[str], None] | None = None,
    lang: str = "zh",
) -> Classification:
    """Measure once, decide by the table (SPEC §4–§5), assemble the outputs.

    Parameters
    ----------
    layers
        Loaded layers in the analysis CRS (:func:`zoning.layers.load_layers`).
    config
        Parameters; defaults from the packaged ``defaults.toml``.
    progress
        Optional callback receiving a short message per step.
    lang
        ``zh`` (default) or ``en``: the language of ``reason``.
    """
    config = config or Config()
    say = progress or (lambda msg: None)
    timings: dict[str, float] = {}
    say("measuring plots against boundary, parks, cluster points, protected land")
    t0 = time.perf_counter()
    m = measure(
        layers.parcels,
        layers.dev_boundary,
        layers.township_parks,
        layers.cluster_points,
        layers.protected,
        config.parameters,
        timings,
        problem=layers.problem("parcels"),
    )
    timings["measures"] = time.perf_counter() - t0
    log = own_log(layers)  # the input's log is never written into
    check_official_area(layers.parcels, m["area_m2"], log)
    overlap = town_overlap(layers.parcels, layers.towns)  # one query for check and fill
    check_towns(layers.parcels, layers.towns, log, overlap)
    say("deciding")
    attrs = plot_attributes(layers, log, overlap)
    return build_result(layers, config, m, attrs, timings, issues=log, lang=lang)


def classify_frames(
    parcels,
    dev_boundary,
    township_parks,
    cluster_points,
    protected=None,
    towns=None,
    params: dict | None = None,
    lang: str = "zh",
) -> gpd.GeoDataFrame:
    """Classify in-memory GeoDataFrames (canonical field names); one row per input plot.

    The same checks as for files apply (ids, CRS, repair); ``params`` overrides the
    SPEC §5 defaults.
    """
    config = load_config(**(params or {}))
    layers = frames_to_layers(
        parcels, dev_boundary, township_parks, cluster_points, protected, towns, config
    )
    return classify_layers(layers, config, lang=lang).parcels


def classify_files(
    sources: dict[str, Source | list[Source] | None],
    config: Config | None = None,
    progress: Callable[[str], None] | None = None,
    lang: str = "zh",
) -> Classification:
    """Read the layers from files, then :func:`classify_layers`."""
    config = config or Config()
    say = progress or (lambda msg: None)
    say("reading layers")
    t0 = time.perf_counter()
    layers = read_layers(sources, config)
    read_s = time.perf_counter() - t0
    result = classify_layers(layers, config, progress, lang)
    result.timings = {"read": read_s, **result.timings}
    return result


FRAME_LAYERS = ("parcels", "dev_boundary", "township_parks", "cluster_points", "protected", "towns")


def classify(
    data,
    *,
    config: Config | None = None,
    progress: Callable[[str], None] | None = None,
    lang: str = "zh",
) -> Classification:
    """Classify every village industrial plot (SPEC §4–§5): the one entry point.

    Parameters
    ----------
    data
        One of: a multi-layer file (``str``/path; SPEC §3 layer names or the survey's,
        :func:`zoning.layers.file_sources`); a dict layer name -> :class:`Source`;
        loaded :class:`Layers`; a dict layer name -> GeoDataFrame (canonical field
        names, checked as files are, :func:`zoning.layers.frames_to_layers`).
    config
        Parameters; defaults from the packaged ``defaults.toml``
        (:func:`zoning.config.load_config`).
    progress
        Optional callback receiving a short message per step.
    lang
        ``zh`` (default) or ``en``: the language of ``reason`` (the other follows).
    """
    if isinstance(data, Layers):
        return classify_layers(data, config, progress, lang)
    if isinstance(data, str | os.PathLike):
        return classify_files(file_sources(data), config, progress, lang)
    if isinstance(data, dict) and any(isinstance(v, gpd.GeoDataFrame) for v in data.values()):
        unknown = sorted(set(data) - set(FRAME_LAYERS))
        if unknown:
            raise ValueError(
                f"classify(): unknown layer name(s) {unknown}; expected {list(FRAME_LAYERS)}"
            )
        config = config or Config()
        layers = frames_to_layers(**{n: data.get(n) for n in FRAME_LAYERS}, config=config)
        return classify_layers(layers, config, progress, lang)
    if isinstance(data, dict):
        return classify_files(data, config, progress, lang)
    raise TypeError(
        f"classify() takes a path, a dict of Sources or GeoDataFrames, or "
        f"Layers; got {type(data).__name__}"
    )


__all__ = ["Classification", "classify", "classify_layers", "classify_frames", "classify_files"]
