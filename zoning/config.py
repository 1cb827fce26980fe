"""Parameters and field maps from TOML (SPEC §5).

The packaged ``defaults.toml`` is the single source of every default ([parameters],
[workshops], [grading], [assessment], [safety]: :data:`DEFAULTS`), checked by the same rules as a
user's file and required complete; a user's TOML overrides any of them and may rename fields (``[fields.LAYER]``), declare a CRS for
a layer (``[crs]``) or an attribute encoding (``[encoding]``), and list industry
campaigns (``[[campaigns]]``, SPEC §12: :func:`check_campaigns`).

Every value is checked by one validator (:func:`check_table`, one rule table per config
table: :data:`DEFAULT_RULES`): its type, that it is finite, and its range. An error names
the config file and the key. The defaults, a user's file, keyword overrides and a dict
given to ``Config(...)`` all pass through it.

A :class:`Config` is read-only. Each table with defaults is a frozen, typed
:class:`Section` (``config.workshops.unplaced_penalty_m``, a float; assigning raises)
that still reads as a mapping (``config.workshops["x"]``, ``**config.blocks``); field
renames, CRSs, encodings, selections, campaigns and [report] are read-only
:class:`Table` maps. A changed copy: :meth:`Config.with_parameters`,
:meth:`Config.with_table`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import math
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import pyproj

from .errors import ConfigError
from .vocab import LAYERS

#: Tables (CSV/Excel) a config may rename fields of ([fields.<table>]) and declare an
#: encoding for ([encoding] <table>): workshop lists, enterprise tables, ledger update
#: sheets (SPEC §3, §8).
TABLE_NAMES = ("workshops", "enterprises", "updates", "villages", "meetings")
#: Top-level tables a config may hold; each must be a TOML table.
TABLES = (
    "parameters",
    "fields",
    "crs",
    "encoding",
    "workshops",
    "grading",
    "assessment",
    "select",
    "blocks",
    "freed",
    "safety",
    "campaigns",
    "report",
)
#: Layers whose rows a [select.LAYER] table may choose (SPEC §3 land-survey input).
SELECTABLE = ("parcels",)
#: The name a layer declared in GCJ-02 uses in [crs] (no EPSG code exists).
GCJ02_NAMES = ("GCJ-02", "GCJ02")


@dataclass(frozen=True)
class Rule:
    """What one config value may be: its type and its closed range [low, high]."""

    kind: type  # float, int (whole numbers) or str
    low: float | None = None
    high: float | None = None
    unit: str = ""

    def describe(self) -> str:
        """The allowed values in words (for error messages): kind and range."""
        what = {float: "a number", int: "a whole number", str: "text"}[self.kind]
        if self.low is None:
            return what
        unit = f" {self.unit}" if self.unit else ""
        return f"{what} from {self.low:g} to {self.high:g}{unit}"


#: [parameters] of the decision table (SPEC §5). Distances have an upper bound: a gap of
#: kilometres links a whole county into one village park and runs for minutes.
PARAMETER_RULES: dict[str, Rule] = {
    "inside_share_min": Rule(float, 0.0, 1.0, "(share)"),
    "cluster_share_min": Rule(float, 0.0, 1.0, "(share)"),
    "protected_share_min": Rule(float, 0.0, 1.0, "(share)"),
    "adjacency_gap_m": Rule(float, 0.0, 1000.0, "m"),
    "park_contact_m": Rule(float, 0.0, 10000.0, "m"),
    "scattered_max_mu": Rule(float, 0.0, 100000.0, "mu"),
    "baseline_year": Rule(int, 1949, 2100, "(year)"),
}
#: [workshops] options: coordinate columns of a CSV/Excel list, placement settings and the
#: largest credible floor area of a household workshop (SPEC §6).
WORKSHOP_RULES: dict[str, Rule] = {
    "x": Rule(str),
    "y": Rule(str),
    "unplaced_penalty_m": Rule(float, 0.0, 1_000_000.0, "m"),
    "other_town_penalty_m": Rule(float, 0.0, 1_000_000.0, "m"),
    "mip_rel_gap": Rule(float, 0.0, 1.0),
    "time_limit_s": Rule(float, 0.0, 86400.0, "s"),
    "max_floor_area_m2": Rule(float, 1.0, 1_000_000.0, "m²"),
}
#: [grading] (SPEC §8): indicator weights and grade quotas (shares of enterprises).
GRADING_RULES: dict[str, Rule] = {
    **{
        name: Rule(float, 0.0, 100.0)
        for name in (
            "tax_per_mu",
            "value_added_per_mu",
            "value_added_per_tce",
            "value_added_per_emission",
            "labour_productivity",
            "rd_share",
        )
    },
    **{name: Rule(float, 0.0, 1.0, "(share)") for name in ("quota_a", "quota_b", "quota_c")},
}
#: [assessment] (SPEC §8): weights of the town score's two parts.
ASSESSMENT_RULES: dict[str, Rule] = {
    "parcel_weight": Rule(float, 0.0, 100.0),
    "workshop_weight": Rule(float, 0.0, 100.0),
    "block_weight": Rule(float, 0.0, 100.0),  # SPEC §11 blocks (renovated)
    "site_weight": Rule(float, 0.0, 100.0),  # SPEC §11 freed sites (reused)
}


def check_value(value: Any, rule: Rule, where: str) -> float | int | str:
    """One value against its rule; ``where`` names the file and key for the error."""
    if rule.kind is str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} must be {rule.describe()} (a column name), got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be {rule.describe()}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if rule.kind is int and value != int(value):
        raise ConfigError(f"{where} must be {rule.describe()}, got {value!r}")
    if rule.low is not None and rule.high is not None and not rule.low <= value <= rule.high:
        if value < 0 <= rule.low:
            raise ConfigError(
                f"{where} must not be negative: it must be {rule.describe()}, got {value!r}"
            )
        raise ConfigError(f"{where} is out of range: it must be {rule.describe()}, got {value!r}")
    return int(value) if rule.kind is int else float(value)


def check_table(values: Any, rules: dict[str, Rule], table: str, source: str) -> dict:
    """A config table: a TOML table whose keys ``rules`` knows and whose values obey them."""
    if not isinstance(values, dict):
        raise ConfigError(
            f"{source}: [{table}] must be a table of key = value lines, got {values!r}"
        )
    out = {}
    for key, value in values.items():
        rule = rules.get(key)
        if rule is None:
            raise ConfigError(
                f"{source}: unknown [{table}] key {key!r} (known: {', '.join(rules)})"
            )
        out[key] = check_value(value, rule, f"{source}: [{table}] {key}")
    return out


#: [blocks] (SPEC §11): the renovation-mode table B1–B3.
BLOCK_RULES: dict[str, Rule] = {
    "rebuild_built_before": Rule(int, 1949, 2100, "(year)"),
    "rebuild_far_below": Rule(float, 0.0, 100.0),
    "rebuild_d_share_min": Rule(float, 0.0, 1.0, "(share)"),
    "reorganise_min_plots": Rule(int, 1, 100000, "plots"),
    "reorganise_tax_ratio": Rule(float, 0.0, 100.0),
}
#: [freed] (SPEC §11): the reuse table F1–F3 of freed sites.
FREED_RULES: dict[str, Rule] = {
    "reclaim_min_mu": Rule(float, 0.0, 100000.0, "mu"),
    "tourism_within_m": Rule(float, 0.0, 100000.0, "m"),
}
#: [safety] (SPEC §12): residents from which a three-in-one workshop needs sprinklers (S6).
SAFETY_RULES: dict[str, Rule] = {
    "sprinkler_residents_min": Rule(int, 1, 1000, "residents"),
}


#: The config tables whose every key has its default in ``defaults.toml``, with their rules.
DEFAULT_RULES: dict[str, dict[str, Rule]] = {
    "parameters": PARAMETER_RULES,
    "workshops": WORKSHOP_RULES,
    "grading": GRADING_RULES,
    "assessment": ASSESSMENT_RULES,
    "blocks": BLOCK_RULES,
    "freed": FREED_RULES,
    "safety": SAFETY_RULES,
}


class Table(Mapping[str, Any]):
    """A read-only mapping (field renames, declared CRSs, a campaign …): reads as a dict,
    refuses assignment, pickles (worker processes get the config)."""

    _data: dict[str, Any]

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_data", dict(values or {}))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Table({self._data!r})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a config table is read-only (cannot set {name!r})")


class Section(Mapping[str, Any]):
    """A config table with a default for every key (:data:`DEFAULT_RULES`) as a frozen,
    typed object: ``config.workshops.unplaced_penalty_m`` is a float and assigning it
    raises. It still reads as a mapping (``config.workshops["x"]``, ``dict(...)``,
    ``**section``) for code that passes a whole table on. Built by :meth:`of`, which
    checks the values by the table's rules (the one validator of every config value)."""

    TABLE: ClassVar[str]

    def __getitem__(self, key: str) -> Any:
        if key not in self.names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The table's keys, in the order of defaults.toml."""
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def of(cls, values: Mapping[str, Any], source: str = "config") -> Self:
        """The table from ``values`` checked by its rules; keys not given keep their
        default."""
        checked = check_table(dict(values), DEFAULT_RULES[cls.TABLE], cls.TABLE, source)
        base = DEFAULTS[cls.TABLE] if "DEFAULTS" in globals() else {}
        return cls(**{**base, **checked})

    def replace(self, source: str = "overrides", **values: Any) -> Self:
        """A copy with some values replaced (checked)."""
        return type(self).of({**self, **values}, source)


@dataclass(frozen=True, eq=False)
class Parameters(Section):
    """[parameters] of the decision table (SPEC §5)."""

    TABLE: ClassVar[str] = "parameters"
    inside_share_min: float
    cluster_share_min: float
    protected_share_min: float
    adjacency_gap_m: float
    park_contact_m: float
    scattered_max_mu: float
    baseline_year: int


@dataclass(frozen=True, eq=False)
class Workshops(Section):
    """[workshops] (SPEC §6): a list's coordinate columns and the placement settings."""

    TABLE: ClassVar[str] = "workshops"
    x: str
    y: str
    unplaced_penalty_m: float
    other_town_penalty_m: float
    mip_rel_gap: float
    time_limit_s: float
    max_floor_area_m2: float


@dataclass(frozen=True, eq=False)
class Grading(Section):
    """[grading] (SPEC §8): indicator weights and grade quotas."""

    TABLE: ClassVar[str] = "grading"
    tax_per_mu: float
    value_added_per_mu: float
    value_added_per_tce: float
    value_added_per_emission: float
    labour_productivity: float
    rd_share: float
    quota_a: float
    quota_b: float
    quota_c: float


@dataclass(frozen=True, eq=False)
class Assessment(Section):
    """[assessment] (SPEC §8, §11): weights of the town score's parts."""

    TABLE: ClassVar[str] = "assessment"
    parcel_weight: float
    workshop_weight: float
    block_weight: float
    site_weight: float


@dataclass(frozen=True, eq=False)
class Blocks(Section):
    """[blocks] (SPEC §11): the renovation-mode table B1–B3."""

    TABLE: ClassVar[str] = "blocks"
    rebuild_built_before: int
    rebuild_far_below: float
    rebuild_d_share_min: float
    reorganise_min_plots: int
    reorganise_tax_ratio: float


@dataclass(frozen=True, eq=False)
class Freed(Section):
    """[freed] (SPEC §11): the reuse table F1–F3 of freed sites."""

    TABLE: ClassVar[str] = "freed"
    reclaim_min_mu: float
    tourism_within_m: float


@dataclass(frozen=True, eq=False)
class Safety(Section):
    """[safety] (SPEC §12): the three-in-one checks."""

    TABLE: ClassVar[str] = "safety"
    sprinkler_residents_min: int


#: The typed class of each table of :data:`DEFAULT_RULES`.
SECTIONS: dict[str, type[Section]] = {
    cls.TABLE: cls for cls in (Parameters, Workshops, Grading, Assessment, Blocks, Freed, Safety)
}


def _defaults() -> dict[str, dict[str, Any]]:
    """The packaged ``defaults.toml``, checked by the same rules as a user's TOML; every
    key of :data:`DEFAULT_RULES` must have its default there."""
    source = "defaults.toml"
    text = resources.files("zoning").joinpath(source).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    out = {}
    for table, rules in DEFAULT_RULES.items():
        out[table] = check_table(data.get(table, {}), rules, table, source)
        missing = [key for key in rules if key not in out[table]]
        if missing:
            raise ConfigError(f"{source}: [{table}] has no default for {', '.join(missing)}")
    check_grading(out["grading"], source)
    return out


@dataclass(frozen=True)
class Config:
    """Resolved configuration, read-only: typed tables with defaults (:class:`Section`:
    ``config.parameters.adjacency_gap_m``, ``config.workshops.time_limit_s`` …) and
    read-only maps (:class:`Table`) of field renames, declared CRSs and encodings.

    A mapping given for a table (``Config(crs={...})``, ``dataclasses.replace``) is
    checked and frozen on construction; change a copy with :meth:`with_parameters` or
    :meth:`with_table`.
    """

    parameters: Parameters = field(default_factory=lambda: DEFAULTS["parameters"])
    fields: Mapping[str, Mapping[str, str]] = field(default_factory=Table)
    crs: Mapping[str, str] = field(default_factory=Table)
    encoding: Mapping[str, str] = field(default_factory=Table)
    sources: tuple[str, ...] = ()
    workshops: Workshops = field(default_factory=lambda: DEFAULTS["workshops"])
    grading: Grading = field(default_factory=lambda: DEFAULTS["grading"])
    assessment: Assessment = field(default_factory=lambda: DEFAULTS["assessment"])
    #: [select.LAYER]: field -> the values a kept row may have (``"203*"``: prefix).
    select: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=Table)
    #: [blocks] and [freed] (SPEC §11).
    blocks: Blocks = field(default_factory=lambda: DEFAULTS["blocks"])
    freed: Freed = field(default_factory=lambda: DEFAULTS["freed"])
    #: [safety] (SPEC §12 three-in-one checks).
    safety: Safety = field(default_factory=lambda: DEFAULTS["safety"])
    #: [[campaigns]] (SPEC §12): name, industries, target_closed (or None), deadline
    #: (YYYY-MM-DD or None), in the order given.
    campaigns: tuple[Mapping[str, Any], ...] = ()
    #: [report]: ``county`` and ``data_date`` for the title rows of the workbooks.
    report: Mapping[str, str] = field(default_factory=Table)

    def __post_init__(self) -> None:
        for table, cls in SECTIONS.items():
            value = getattr(self, table)
            if not isinstance(value, cls):
                object.__setattr__(self, table, cls.of(value, "Config"))
        for name in ("fields", "select"):
            value = getattr(self, name)
            object.__setattr__(self, name, Table({k: Table(v) for k, v in value.items()}))
        for name in ("crs", "encoding", "report"):
            object.__setattr__(self, name, Table(getattr(self, name)))
        object.__setattr__(self, "campaigns", tuple(Table(c) for c in self.campaigns))
        object.__setattr__(self, "sources", tuple(self.sources))

    def with_parameters(self, **overrides: float | int) -> Config:
        """A copy with some parameters replaced (validated)."""
        return replace(
            self,
            parameters=Parameters.of(
                {**self.parameters, **check_parameters(overrides, "overrides")}, "overrides"
            ),
        )

    def with_table(self, table: str, **values: Any) -> Config:
        """A copy with some values of one table of defaults replaced (validated), e.g.
        ``config.with_table("workshops", time_limit_s=1.0)``."""
        if table not in SECTIONS:
            raise ConfigError(f"unknown table [{table}] (known: {', '.join(SECTIONS)})")
        section: Section = getattr(self, table)
        changed: dict[str, Any] = {table: section.replace(**values)}
        return replace(self, **changed)


#: [report] keys: the county named in every workbook's title row and the data date
#: (YYYY-MM-DD); both optional (without them: the input file's name and its own date).
REPORT_KEYS = ("county", "data_date")


def check_report(values: Any, source: str) -> dict[str, str]:
    """Validate the [report] table: text values, ``data_date`` a YYYY-MM-DD date."""
    table = _string_table(values, source, "report")
    for key, value in table.items():
        if key not in REPORT_KEYS:
            raise ConfigError(
                f"{source}: unknown [report] key {key!r} (known: {', '.join(REPORT_KEYS)})"
            )
        if key == "data_date":
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise ConfigError(
                    f"{source}: [report] data_date must be a date YYYY-MM-DD, got {value!r}"
                ) from None
    return table


def check_parameters(values: dict[str, Any], source: str) -> dict[str, float | int]:
    """Validate [parameters] names and values (:data:`PARAMETER_RULES`)."""
    try:
        return check_table(values, PARAMETER_RULES, "parameters", source)
    except ConfigError as exc:  # keep the wording the API has always used
        raise ConfigError(
            str(exc).replace("unknown [parameters] key", "unknown parameter")
        ) from None


def check_workshop_options(values: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate the [workshops] table (:data:`WORKSHOP_RULES`)."""
    return check_table(values, WORKSHOP_RULES, "workshops", source)


def check_crs(values: Any, source: str) -> dict[str, str]:
    """[crs]: ``analysis`` a projected CRS in metres; a layer's declared CRS a known CRS
    or GCJ-02."""
    table = _string_table(values, source, "crs")
    for key, text in table.items():
        where = f"{source}: [crs] {key} = {text!r}"
        if key != "analysis" and key not in LAYERS:
            raise ConfigError(
                f"{source}: unknown [crs] key {key!r} (known: analysis, {', '.join(LAYERS)})"
            )
        gcj = text.strip().upper().replace("_", "-") in GCJ02_NAMES
        if gcj and key != "analysis":
            continue
        if gcj:
            raise ConfigError(
                f"{where}: GCJ-02 is a display shift, not an analysis CRS; "
                'use a projected CRS in metres such as "EPSG:4549"'
            )
        try:
            crs = pyproj.CRS.from_user_input(text)
        except pyproj.exceptions.CRSError:
            raise ConfigError(f'{where} is not a known CRS; write it as "EPSG:4549"') from None
        if key == "analysis":
            units = {axis.unit_name for axis in crs.axis_info}
            if not crs.is_projected or units != {"metre"}:
                found = (
                    "geographic (degrees)"
                    if crs.is_geographic
                    else f"not projected in metres (axis units {sorted(units)})"
                )
                raise ConfigError(
                    f"{where} is {found}; the analysis CRS must be projected "
                    'in metres, e.g. "EPSG:4549" (CGCS2000 3-degree GK '
                    "CM 120E)"
                )
    return table


def check_encoding(values: Any, source: str) -> dict[str, str]:
    """[encoding]: layer -> a codec Python knows (gb18030, gbk, utf-8 …)."""
    table = _string_table(values, source, "encoding")
    for key, text in table.items():
        try:
            codecs.lookup(text)
        except LookupError:
            raise ConfigError(
                f"{source}: [encoding] {key} = {text!r} is not a known "
                'encoding (e.g. "gb18030", "utf-8")'
            ) from None
    return table


def check_fields(values: Any, source: str) -> dict[str, dict[str, str]]:
    """[fields.LAYER] and [fields.TABLE] (:data:`TABLE_NAMES`) tables: source field =
    canonical name; no name is a target twice and none is the geometry."""
    if not isinstance(values, dict):
        raise ConfigError(
            f"{source}: [fields] must hold one table per layer, "
            f"e.g. [fields.parcels], got {values!r}"
        )
    out = {}
    for layer, table in values.items():
        if layer not in LAYERS and layer not in TABLE_NAMES:
            known = (*LAYERS, *(t for t in TABLE_NAMES if t not in LAYERS))
            raise ConfigError(f"{source}: [fields.{layer}] names no known layer or table {known}")
        out[layer] = _string_table(table, source, f"fields.{layer}")
    return out


def check_field_targets(fields: dict[str, dict[str, str]], source: str) -> None:
    """Every renamed field has its own canonical name, and none is ``geometry``."""
    for layer, mapping in fields.items():
        seen: dict[str, str] = {}
        for src, target in mapping.items():
            key = target.strip().casefold()
            if not key:
                raise ConfigError(f"{source}: [fields.{layer}] {src} is mapped to an empty name")
            if key == "geometry":
                raise ConfigError(
                    f"{source}: [fields.{layer}] {src} = {target!r}: "
                    "'geometry' is the geometry column, not a field name"
                )
            if key in seen:
                raise ConfigError(
                    f"{source}: [fields.{layer}] {seen[key]} and {src} are both "
                    f"mapped to {target!r}; map only one of them"
                )
            seen[key] = src


def check_select(values: Any, source: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """[select.LAYER] tables (SPEC §3): field = "value" or ["value", ...]; a value ending
    in ``*`` matches by prefix. Only the layers of :data:`SELECTABLE` may be selected."""
    if not isinstance(values, dict):
        raise ConfigError(
            f"{source}: [select] must hold one table per layer, "
            f"e.g. [select.parcels], got {values!r}"
        )
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for layer, table in values.items():
        if layer not in SELECTABLE:
            raise ConfigError(
                f"{source}: [select.{layer}]: only {', '.join(SELECTABLE)} rows can be selected"
            )
        if not isinstance(table, dict) or not table:
            raise ConfigError(
                f"{source}: [select.{layer}] must map field names to the values "
                'to keep, e.g. DLBM = ["0601"]'
            )
        out[layer] = {}
        for name, given in table.items():
            items = [given] if isinstance(given, str) else given
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(v, str) and v.strip() and v.strip() != "*" for v in items)
            ):
                raise ConfigError(
                    f"{source}: [select.{layer}] {name} must be text or a list "
                    f'of text (e.g. ["0601"] or "203*"), got {given!r}'
                )
            out[layer][name] = tuple(v.strip() for v in items)
    return out


def check_grading(values: dict[str, float], source: str) -> None:
    """Grade quotas in order: quota_a ≤ quota_b ≤ quota_c."""
    a, b, c = values["quota_a"], values["quota_b"], values["quota_c"]
    if not a <= b <= c:
        raise ConfigError(
            f"{source}: [grading] quotas must rise: quota_a ≤ quota_b ≤ "
            f"quota_c, got {a:g}, {b:g}, {c:g}"
        )


#: Every default, checked (:func:`_defaults`): table -> its typed, read-only section.
DEFAULTS: Mapping[str, Any] = Table(
    {table: SECTIONS[table](**values) for table, values in _defaults().items()}
)
DEFAULT_PARAMETERS: Parameters = DEFAULTS["parameters"]
#: Parameters whose change alters geometry work (the rest only re-decide).
GEOMETRIC_PARAMETERS = frozenset({"adjacency_gap_m", "park_contact_m"})


def _string_table(table: Any, source: str, what: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ConfigError(f"{source}: [{what}] must map names to text values")
    return dict(table)


def read_toml(path: Path) -> dict[str, Any]:
    """A user's TOML file as a dict (a UTF-8 byte-order mark is accepted)."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file; give a .toml file")
    try:
        text = path.read_text(encoding="utf-8-sig")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None


def load_config(*paths: str | os.PathLike | None, **overrides: float | int) -> Config:
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
    workshops = dict(cfg.workshops)
    grading = dict(cfg.grading)
    assessment = dict(cfg.assessment)
    select: dict[str, dict[str, tuple[str, ...]]] = {}
    blocks = dict(cfg.blocks)
    freed = dict(cfg.freed)
    safety = dict(cfg.safety)
    campaigns: dict[str, dict[str, Any]] = {}
    report: dict[str, str] = {}
    sources: list[str] = []
    for path in paths:
        if path is None:
            continue
        path = Path(path)
        source = str(path)
        data = read_toml(path)
        unknown = set(data) - set(TABLES)
        if unknown:
            raise ConfigError(
                f"{path}: unknown table(s) {sorted(unknown)} (known: {', '.join(TABLES)})"
            )
        params.update(check_parameters(data.get("parameters", {}), source))
        for layer, table in check_fields(data.get("fields", {}), source).items():
            fields.setdefault(layer, {}).update(table)
        check_field_targets(fields, source)
        crs.update(check_crs(data.get("crs", {}), source))
        encoding.update(check_encoding(data.get("encoding", {}), source))
        workshops.update(check_workshop_options(data.get("workshops", {}), source))
        grading.update(check_table(data.get("grading", {}), GRADING_RULES, "grading", source))
        check_grading(grading, source)
        assessment.update(
            check_table(data.get("assessment", {}), ASSESSMENT_RULES, "assessment", source)
        )
        for layer, chosen in check_select(data.get("select", {}), source).items():
            select.setdefault(layer, {}).update(chosen)
        blocks.update(check_table(data.get("blocks", {}), BLOCK_RULES, "blocks", source))
        freed.update(check_table(data.get("freed", {}), FREED_RULES, "freed", source))
        safety.update(check_table(data.get("safety", {}), SAFETY_RULES, "safety", source))
        for campaign in check_campaigns(data.get("campaigns", []), source):
            campaigns[campaign["name"]] = campaign  # a later file's campaign replaces one
        report.update(check_report(data.get("report", {}), source))
        sources.append(source)
    params.update(check_parameters(overrides, "overrides"))
    return Config(
        Parameters(**params),
        fields,
        crs,
        encoding,
        tuple(sources),
        Workshops(**workshops),
        Grading(**grading),
        Assessment(**assessment),
        select,
        Blocks(**blocks),
        Freed(**freed),
        safety=Safety(**safety),
        campaigns=tuple(campaigns.values()),
        report=report,
    )


def check_campaigns(values: Any, source: str) -> list[dict[str, Any]]:
    """[[campaigns]] (SPEC §12 一行业一方案): each with ``name`` (text, unique in the file),
    ``industries`` (a non-empty list of ``industry`` values; a trailing ``*`` is a prefix
    match), optional ``target_closed`` (a whole number ≥ 0) and ``deadline`` (a TOML date
    or YYYY-MM-DD text). Returned with ``target_closed`` and ``deadline`` None when not
    given, the deadline as YYYY-MM-DD."""
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise ConfigError(f"{source}: campaigns must be [[campaigns]] tables, got {values!r}")
    out, seen = [], set()
    for k, table in enumerate(values, 1):
        where = f"{source}: [[campaigns]] #{k}"
        unknown = set(table) - {"name", "industries", "target_closed", "deadline"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {sorted(unknown)} (known: name, "
                "industries, target_closed, deadline)"
            )
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: name must be text, got {name!r}")
        if name in seen:
            raise ConfigError(f"{where}: campaign {name!r} is named twice")
        seen.add(name)
        where = f"{source}: [[campaigns]] {name!r}"
        industries = table.get("industries")
        if (
            not isinstance(industries, list)
            or not industries
            or not all(isinstance(v, str) and v.strip() for v in industries)
        ):  # "*": every industry
            raise ConfigError(
                f"{where}: industries must be a list of industry values "
                f'(e.g. ["服装", "童装*"]), got {industries!r}'
            )
        target = table.get("target_closed")
        if target is not None:
            target = check_value(target, Rule(int, 0, 10_000_000), f"{where} target_closed")
        out.append(
            {
                "name": name,
                "industries": tuple(industries),
                "target_closed": target,
                "deadline": campaign_deadline(table.get("deadline"), where),
            }
        )
    return out


def campaign_deadline(given: Any, where: str) -> str | None:
    """A campaign's ``deadline`` (a TOML date or datetime, or YYYY-MM-DD text) as
    YYYY-MM-DD; None when not given."""
    if given is None:
        return None
    deadline = given.date() if isinstance(given, dt.datetime) else given
    if isinstance(deadline, str):
        try:
            deadline = dt.date.fromisoformat(deadline.strip())
        except ValueError:
            pass  # refused below, quoting what was given
    if not isinstance(deadline, dt.date):
        raise ConfigError(f"{where}: deadline must be a date (2026-12-31), got {given!r}")
    return deadline.isoformat()
