"""What-ifs: measure once, re-decide in milliseconds, compare scenarios, sweep a parameter.

>>> study = Study.from_file("data/sample_county.gpkg")
>>> base = study.classify()
>>> wider = study.classify(adjacency_gap_m=50)      # regroups plots, no other geometry work
>>> cmp = compare(base, wider)
>>> cmp.transitions                                  # from_class × to_class, plots and mu
>>> sweep(study, "scattered_max_mu", [5, 10, 15, 30])

A rule parameter only re-runs the decision table. ``adjacency_gap_m`` regroups the plots
from adjacency pairs kept with their exact distances (recomputed only when the gap grows
past the largest one seen); ``park_contact_m`` only re-links groups to parks. Swapping a
layer (:meth:`Study.with_layer`) recomputes only the measures of that layer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .classification import (
    Classification,
    build_result,
    group_geometry,
    own_log,
    plot_attributes,
    read_layers,
)
from .config import Config, load_config
from .layers import IssueLog, Layers, file_sources, load_layers, prepare_layer, to_analysis
from .measures import (
    MEASURED_LAYERS,
    PlotSet,
    adjacency_pairs,
    assemble,
    group_measures,
    layer_measures,
    to_mu,
)
from .vocab import CLASSES

TRANSITION_COLUMNS = ["from_class", "to_class", "plots", "mu"]


class Study:
    """The layers of one county, loaded and measured once (SPEC §4).

    Parameters
    ----------
    layers
        Loaded layers (:func:`zoning.layers.load_layers`).
    config
        Base parameters; each :meth:`classify` call may override any of them.
    """

    def __init__(self, layers: Layers, config: Config | None = None):
        self.layers = layers
        self.config = config or Config()
        self.plots = PlotSet.of(layers.parcels, layers.problem("parcels"))
        #: notes of the plots' attributes (made once; each result gets a copy)
        self.notes = IssueLog()
        self.attrs = plot_attributes(layers, self.notes)
        self._base: dict[str, np.ndarray] = {}
        for name in MEASURED_LAYERS:
            self._base.update(layer_measures(self.plots, name, getattr(layers, name)))
        self._pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._pairs_gap = -1.0
        self._groups: dict[tuple[float, float], dict[str, np.ndarray]] = {}
        self._vp_geometry: dict[float, np.ndarray] = {}

    @classmethod
    def from_file(
        cls, path: str | os.PathLike, *config_files: str | os.PathLike, **overrides
    ) -> Study:
        """Load every classification layer of a GeoPackage (SPEC §3 names) and measure."""
        config = load_config(*config_files, **overrides)
        return cls(load_layers(file_sources(path), config), config)

    @classmethod
    def from_sources(cls, sources: dict, *config_files: str | os.PathLike, **overrides) -> Study:
        """Load the layers named by ``sources`` (layer -> :class:`zoning.layers.Source`,
        e.g. from ``zoning.cli.resolve_inputs``) and measure."""
        config = load_config(*config_files, **overrides)
        return cls(read_layers(sources, config), config)

    # --- measures -----------------------------------------------------------------
    def _adjacency(self, gap: float) -> tuple[np.ndarray, ...]:
        if self._pairs is None or gap > self._pairs_gap:
            self._pairs = adjacency_pairs(self.plots.geoms, gap, self.plots.tree)
            self._pairs_gap = gap
        i, j, d = self._pairs
        keep = d <= gap
        return i[keep], j[keep], d[keep]

    def _group(self, gap: float, contact: float) -> dict[str, np.ndarray]:
        key = (gap, contact)
        if key not in self._groups:
            if len(self._groups) > 32:  # sweeps: keep memory bounded
                self._groups.clear()
            self._groups[key] = group_measures(
                self.plots, self._base, self._adjacency(gap), contact
            )
        return self._groups[key]

    def measures(self, **overrides) -> pd.DataFrame:
        """The SPEC §4 measures for these parameters (geometry reused where it can be)."""
        params = self.config.with_parameters(**overrides).parameters
        groups = self._group(float(params["adjacency_gap_m"]), float(params["park_contact_m"]))
        return assemble(self.plots, {**self._base, **groups})

    # --- decisions ----------------------------------------------------------------
    def classify(self, name: str = "", **overrides) -> Classification:
        """Re-decide with parameters overridden (names of SPEC §5); a :class:`Classification`."""
        config = self.config.with_parameters(**overrides)
        gap = float(config.parameters["adjacency_gap_m"])
        m = self.measures(**overrides)
        if gap not in self._vp_geometry:
            if len(self._vp_geometry) > 8:
                self._vp_geometry.clear()
            ok = self.plots.ok
            label = m["village_park_group"].to_numpy()[ok]
            groups = int(label.max()) + 1 if len(label) else 0
            self._vp_geometry[gap] = group_geometry(self.layers.parcels.loc[ok], label, groups)
        result = build_result(
            self.layers,
            config,
            m,
            self.attrs,
            vp_geometry=self._vp_geometry[gap],
            issues=own_log(self.layers, self.notes),
        )
        result.name = name or describe(overrides)
        return result

    def with_layer(self, name: str, gdf: gpd.GeoDataFrame) -> Study:
        """A new study with one context layer swapped (e.g. a 2035 development boundary,
        an added township park); only that layer's measures are recomputed."""
        if name not in (*MEASURED_LAYERS, "towns"):
            raise ValueError(
                f"can swap {sorted(MEASURED_LAYERS)} or 'towns', not {name!r} "
                "(new plots: build a new Study)"
            )
        issues = IssueLog()
        prepared = prepare_layer(
            gpd.GeoDataFrame(gdf).copy(), name, "<scenario>", self.config, issues
        )
        layer = to_analysis(
            prepared, name, "<scenario>", self.layers.crs, issues, keep_invalid_rows=False
        )
        new = object.__new__(Study)
        new.layers = Layers(**{**self.layers.__dict__, name: layer})
        new.config = self.config
        new.plots = self.plots
        if name == "towns":
            new.notes = IssueLog()
            new.attrs = plot_attributes(new.layers, new.notes)
        else:
            new.notes, new.attrs = self.notes, self.attrs
        new._base = dict(self._base)
        if name in MEASURED_LAYERS:
            new._base.update(layer_measures(self.plots, name, layer))
        new._pairs, new._pairs_gap = self._pairs, self._pairs_gap
        new._groups = {} if name == "township_parks" else dict(self._groups)
        new._vp_geometry = dict(self._vp_geometry)
        return new


def describe(overrides: dict) -> str:
    """A short scenario name from its overrides ("defaults" when none)."""
    return (
        ", ".join(
            f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in overrides.items()
        )
        or "defaults"
    )


# --- comparing -------------------------------------------------------------------


@dataclass
class Comparison:
    """What moved between two classifications of the same plots (written as a folder by
    :func:`zoning.outputs.write_comparison`)."""

    a: Classification
    b: Classification
    transitions: pd.DataFrame
    by_town: pd.DataFrame
    changed: gpd.GeoDataFrame = field(repr=False)
    #: With a blocks folder (SPEC §11): the blocks that change mode and the freed sites
    #: that change reuse between the scenarios (:func:`zoning.blocks.changes`), else None.
    blocks: tuple[pd.DataFrame, pd.DataFrame] | None = field(default=None, repr=False)

    def map(self, lang: str = "zh", title: str | None = None):
        """A folium map of the changed plots only, coloured by their new class."""
        from .maps import build_map

        changed = self.changed.copy()
        changed["class"] = changed["to_class"]
        changed["rule"] = changed["to_rule"]
        changed["reason"] = (
            changed["from_class"]
            + " ("
            + changed["from_rule"]
            + ") → "
            + changed["to_class"]
            + " ("
            + changed["to_rule"]
            + "): "
            + changed["to_reason"]
        )
        changed["target_id"] = changed["to_target"]
        data = {"parcels": changed}
        for layer in ("towns", "dev_boundary", "township_parks", "cluster_points"):
            gdf = getattr(self.b.layers, layer)
            if gdf is not None:
                data[layer] = gdf
        title = title or (
            f"变化地块：{self.a.name} → {self.b.name}"
            if lang == "zh"
            else f"Changed plots: {self.a.name} → {self.b.name}"
        )
        return build_map(data, lang=lang, title=title, links=False)


def compare(a: Classification, b: Classification) -> Comparison:
    """Transition table (from-class × to-class, plots and mu; every pair that occurs,
    unchanged ones included), the same per town, and the plots whose class changed."""
    pa_, pb = a.parcels, b.parcels
    if not pa_["parcel_id"].reset_index(drop=True).equals(pb["parcel_id"].reset_index(drop=True)):
        raise ValueError("compare() needs two classifications of the same plots")
    frame = pd.DataFrame(
        {
            "town": pa_["town"].fillna("").astype(str).to_numpy(),
            "from_class": pa_["class"].astype(str).to_numpy(),
            "to_class": pb["class"].astype(str).to_numpy(),
            "area_m2": pa_["area_m2"].astype(float).fillna(0.0).to_numpy(),
        }
    )
    order = {c: i for i, c in enumerate(CLASSES)}

    def table(keys):
        t = (
            frame.groupby(keys, sort=False)
            .agg(plots=("area_m2", "size"), m2=("area_m2", "sum"))
            .reset_index()
        )
        t["mu"] = to_mu(t.pop("m2")).round(2)
        sort = [*keys[:-2], "from_class", "to_class"]
        return t.sort_values(
            sort, key=lambda s: s.map(order) if s.name in order or s.name.endswith("_class") else s
        ).reset_index(drop=True)

    transitions = table(["from_class", "to_class"])[TRANSITION_COLUMNS]
    by_town = table(["town", "from_class", "to_class"])
    moved = (frame["from_class"] != frame["to_class"]).to_numpy()
    changed = gpd.GeoDataFrame(
        {
            "parcel_id": pa_["parcel_id"].to_numpy()[moved],
            "town": frame["town"].to_numpy()[moved],
            "from_class": frame["from_class"].to_numpy()[moved],
            "to_class": frame["to_class"].to_numpy()[moved],
            "from_rule": pa_["rule"].fillna("").astype(str).to_numpy()[moved],
            "to_rule": pb["rule"].fillna("").astype(str).to_numpy()[moved],
            "from_target": pa_["target_id"].fillna("").astype(str).to_numpy()[moved],
            "to_target": pb["target_id"].fillna("").astype(str).to_numpy()[moved],
            "to_reason": pb["reason"].fillna("").astype(str).to_numpy()[moved],
            "area_m2": frame["area_m2"].to_numpy()[moved],
            "area_mu": to_mu(frame["area_m2"].to_numpy()[moved]).round(4),
        },
        geometry=pb.geometry.array[moved],
        crs=pb.crs,
    )
    return Comparison(a, b, transitions, by_town, changed)


# --- sweeping --------------------------------------------------------------------


def sweep(study: Study, parameter: str, values, **fixed) -> pd.DataFrame:
    """Plots and mu per class for each value of one parameter (others as ``fixed``).

    Returns a frame indexed by the parameter's values with columns ``mu_<class>`` and
    ``plots_<class>`` for every class.
    """
    rows = []
    for value in values:
        result = study.classify(**{**fixed, parameter: value})
        p = result.parcels
        area = p["area_m2"].astype(float).fillna(0.0)
        row = {parameter: value}
        for c in CLASSES:
            hit = p["class"] == c
            row[f"plots_{c}"] = int(hit.sum())
            row[f"mu_{c}"] = round(float(to_mu(area[hit]).sum()), 2)
        rows.append(row)
    return pd.DataFrame(rows).set_index(parameter)
