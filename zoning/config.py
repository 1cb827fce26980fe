"""Parameters and field maps from TOML (SPEC §5).

The packaged ``defaults.toml`` is the single source of default parameters; a user's
TOML overrides any of them and may rename fields (``[fields.LAYER]``), declare a CRS for
a layer (``[crs]``) or an attribute encoding (``[encoding]``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

LAYERS = (
    "parcels",
    "dev_boundary",
    "township_parks",
    "cluster_points",
    "protected",
    "towns",
    "micro_parks",
    "workshops",
)


def _defaults() -> dict[str, Any]:
    text = resources.files("zoning").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


DEFAULT_PARAMETERS: dict[str, float | int] = dict(_defaults()["parameters"])
#: Parameters whose change alters geometry work (the rest only re-decide).
GEOMETRIC_PARAMETERS = frozenset({"adjacency_gap_m", "park_contact_m"})


@dataclass(frozen=True)
class Config:
    """Resolved configuration: parameters, field renames, declared CRSs and encodings."""

    parameters: dict[str, float | int] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    crs: dict[str, str] = field(default_factory=dict)
    encoding: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    workshops: dict[str, Any] = field(default_factory=dict)
    grading: dict[str, float] = field(default_factory=lambda: dict(_defaults()["grading"]))
    assessment: dict[str, float] = field(
        default_factory=lambda: dict(_defaults()["assessment"]))

    def with_parameters(self, **overrides: float | int) -> Config:
        """A copy with some parameters replaced (validated)."""
        params = dict(self.parameters)
        params.update(check_parameters(overrides, "overrides"))
        return replace(self, parameters=params)


def check_parameters(values: dict[str, Any], source: str) -> dict[str, float | int]:
    """Validate parameter names and numeric values; return them with the default's type."""
    out: dict[str, float | int] = {}
    for name, value in values.items():
        if name not in DEFAULT_PARAMETERS:
            known = ", ".join(sorted(DEFAULT_PARAMETERS))
            raise ConfigError(f"{source}: unknown parameter {name!r} (known: {known})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: parameter {name!r} must be a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{source}: parameter {name!r} must not be negative, got {value!r}")
        out[name] = int(value) if isinstance(DEFAULT_PARAMETERS[name], int) else float(value)
    return out


#: [workshops] options: coordinate columns of a CSV/Excel list, placement settings (SPEC §6).
WORKSHOP_OPTIONS = {"x": str, "y": str, "unplaced_penalty_m": float,
                    "other_town_penalty_m": float, "mip_rel_gap": float, "time_limit_s": float}


def check_workshop_options(values: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate the [workshops] table."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = WORKSHOP_OPTIONS.get(key)
        if kind is None:
            raise ConfigError(f"{source}: unknown [workshops] option {key!r} "
                              f"(known: {', '.join(WORKSHOP_OPTIONS)})")
        if kind is float and (isinstance(value, bool) or not isinstance(value, int | float)
                              or value < 0):
            raise ConfigError(f"{source}: [workshops] {key} must be a number ≥ 0")
        if kind is str and not isinstance(value, str):
            raise ConfigError(f"{source}: [workshops] {key} must be a column name")
        out[key] = float(value) if kind is float else value
    return out


def check_numbers(values: dict[str, Any], known: dict, table: str, source: str
                  ) -> dict[str, float]:
    """A table of non-negative numbers whose names the packaged defaults define."""
    out = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown [{table}] key {key!r} "
                              f"(known: {', '.join(known)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{source}: [{table}] {key} must be a number ≥ 0")
        out[key] = float(value)
    return out


def _string_table(table: Any, source: str, what: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ConfigError(f"{source}: [{what}] must map names to text values")
    return dict(table)


def load_config(*paths: str | Path | None, **overrides: float | int) -> Config:
    """Read the packaged defaults, then each user TOML in order, then keyword overrides.

    Parameters
    ----------
    *paths
        User TOML files (SPEC §5 format); ``None`` entries are skipped.
    **overrides
        Parameter values that win over every file.
    """
    cfg = Config()
    params = dict(cfg.parameters)
    fields: dict[str, dict[str, str]] = {}
    crs: dict[str, str] = {}
    encoding: dict[str, str] = {}
    workshops: dict[str, Any] = {}
    grading = dict(cfg.grading)
    assessment = dict(cfg.assessment)
    sources: list[str] = []
    for path in paths:
        if path is None:
            continue
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        unknown = set(data) - {"parameters", "fields", "crs", "encoding", "workshops",
                               "grading", "assessment"}
        if unknown:
            raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}")
        params.update(check_parameters(data.get("parameters", {}), str(path)))
        for layer, table in data.get("fields", {}).items():
            if layer not in LAYERS:
                raise ConfigError(f"{path}: [fields.{layer}] names no known layer {LAYERS}")
            fields.setdefault(layer, {}).update(_string_table(table, str(path), f"fields.{layer}"))
        crs.update(_string_table(data.get("crs", {}), str(path), "crs"))
        encoding.update(_string_table(data.get("encoding", {}), str(path), "encoding"))
        workshops.update(check_workshop_options(data.get("workshops", {}), str(path)))
        for table, target in (("grading", grading), ("assessment", assessment)):
            target.update(check_numbers(data.get(table, {}), target, table, str(path)))
        sources.append(str(path))
    params.update(check_parameters(overrides, "overrides"))
    return Config(params, fields, crs, encoding, tuple(sources), workshops, grading,
                  assessment)
