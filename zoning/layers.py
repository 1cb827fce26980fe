"""Read and validate input layers; rename fields; normalise CRS; repair geometry.

SPEC §2 (CRS), §3 (layers and fields) and §7 (bad input). Every repair or rejection
is recorded in an :class:`IssueLog` with the layer, the row (1-based feature order in
the source) and the feature's id; expected problems raise a one-line
:class:`~zoning.errors.LayerError` naming the file, the layer and the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from . import crs as zcrs
from ._parallel import elementwise
from .config import GCJ02_NAMES, Config, check_crs
from .errors import CRSError, LayerError, first_line
from .vocab import OPTIONAL_LAYERS, PROBLEM_ZH, REQUIRED_LAYERS, RESERVED_TOWNS

log = logging.getLogger(__name__)

#: Required id field of each layer (SPEC §3); None = no required field.
ID_FIELDS: dict[str, str | None] = {
    "parcels": "parcel_id",
    "dev_boundary": None,
    "township_parks": "park_id",
    "cluster_points": "cluster_id",
    "protected": None,
    "towns": "town",
    "micro_parks": "micro_park_id",
    "workshops": "workshop_id",
    "blocks": "block_id",
    "scenic": None,
}
POLYGON_LAYERS = {
    "parcels",
    "dev_boundary",
    "township_parks",
    "cluster_points",
    "protected",
    "towns",
    "blocks",
    "scenic",
}
POINT_LAYERS = {"workshops"}
BOOL_FIELDS = {"parcels": ("eco_friendly", "rural_fusion")}
INT_FIELDS = {"parcels": ("built_year",)}
NUMBER_FIELDS = {"parcels": ("official_area_m2",)}
#: Layer names of a land-survey (三调) and 三区三线 delivery (SPEC §3), upper case, and the
#: canonical layer each stands for; a file or layer of the canonical name is used first.
SURVEY_LAYERS = {
    "DLTB": "parcels",
    "CZKFBJ": "dev_boundary",
    "STBHHX": "protected",
    "YJJBNT": "protected",
    "YJJBNTTB": "protected",
}
#: ``kind`` of the protected land a survey layer holds.
SURVEY_KINDS = {"STBHHX": "生态保护红线", "YJJBNT": "永久基本农田", "YJJBNTTB": "永久基本农田"}
#: Boolean words of SPEC §3 (compared after NFKC and lower-casing); empty is false.
TRUE_WORDS = {"true", "yes", "y", "1", "是", "t", "有", "√", "✓", "✔"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "f", "", "无", "×", "✗", "✘"}
POLYGONAL = np.array([shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])


@dataclass
class IssueLog:
    """Every repaired, coerced or rejected row, and layer-level notes (SPEC §7)."""

    rows: list[pd.DataFrame] = field(default_factory=list)
    #: layer -> 0-based source row of each position, for a layer whose rows were selected
    #: ([select.LAYER]): issue rows then name the row of the source file.
    source_rows: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, layer: str, action: str, reason, positions=None, ids=None) -> None:
        """Record ``action`` with ``reason`` for rows at 0-based ``positions`` (or the layer)."""
        if positions is not None and layer in self.source_rows:
            positions = self.source_rows[layer][np.asarray(positions, dtype=np.int64)]
        if positions is None:
            frame = pd.DataFrame(
                {
                    "layer": [layer],
                    "row": [pd.NA],
                    "id": [""],
                    "action": [action],
                    "reason": [reason],
                }
            )
        else:
            positions = np.asarray(positions)
            if positions.size == 0:
                return
            frame = pd.DataFrame(
                {
                    "layer": layer,
                    "row": positions + 1,
                    "id": [""] * len(positions) if ids is None else list(ids),
                    "action": action,
                    "reason": reason if np.ndim(reason) == 0 else list(reason),
                }
            )
        self.rows.append(frame)

    def frame(self) -> pd.DataFrame:
        """All issues as one table: layer, row (1-based), id, action, reason."""
        cols = ["layer", "row", "id", "action", "reason"]
        if not self.rows:
            return pd.DataFrame(columns=cols)
        out = pd.concat(self.rows, ignore_index=True)[cols]
        out["row"] = out["row"].astype("Int64")
        return out


@dataclass
class Source:
    """Where a layer comes from: a file path and an optional layer name inside it."""

    path: Path
    layer: str | None = None
    #: the plots of a ``zoning classify`` output (classified.gpkg) read back as input
    output: bool = False

    @classmethod
    def parse(cls, text: str | os.PathLike) -> Source:
        """Parse ``PATH[:LAYER]`` (a trailing ``:LAYER`` is split off only if PATH exists)."""
        text = str(text)
        if not Path(text).exists() and ":" in text:
            path, layer = text.rsplit(":", 1)
            if layer and Path(path).exists():
                return cls(Path(path), layer)
        return cls(Path(text))

    def __str__(self) -> str:
        return f"{self.path}" + (f":{self.layer}" if self.layer else "")


def fingerprint(path: Path) -> str:
    """sha256 of a file (or of every file of a folder such as a FileGDB), hex."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def list_layers(path: Path) -> list[str]:
    """Layer names of a vector file (GeoParquet: one layer named after the file)."""
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return [path.stem]
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise LayerError(f"cannot read as a vector file ({first_line(exc)})", str(path)) from None


def read_raw(src: Source, name: str, config: Config, issues: IssueLog) -> gpd.GeoDataFrame:
    """Read one layer as stored (no renaming or reprojection); detect GBK shapefiles."""
    path = src.path
    if not path.exists():
        raise LayerError("file not found", str(path), name)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except Exception as exc:
            raise LayerError(f"cannot read GeoParquet ({first_line(exc)})", str(path)) from None
    layer = pick_layer(path, src.layer, name)
    encoding = config.encoding.get(name)
    if encoding is None:
        encoding = shapefile_encoding(path, layer, name, issues)
    try:
        if encoding:
            return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
        return pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except UnicodeDecodeError as exc:
        raise LayerError(
            f"attributes are not valid {encoding or 'UTF-8'} text ({exc.reason}); "
            f'set [encoding] {name} = "..." in the config',
            str(path),
            layer,
        ) from None
    except Exception as exc:
        raise LayerError(f"cannot read ({first_line(exc)})", str(path), layer) from None


def pick_layer(path: Path, layer: str | None, name: str) -> str:
    """The layer of ``path`` to read as ``name``: the one asked for, else one of that
    name, else the file's only layer, else its one land-survey layer of that role
    (CZKFBJ for dev_boundary … SPEC §3); none of these is one line naming the layers."""
    available = list_layers(path)
    if layer is not None:
        if layer not in available:
            raise LayerError(f"no layer {layer!r} (the file has {available})", str(path))
        return layer
    survey = [a for a in available if SURVEY_LAYERS.get(survey_layer(a) or "") == name]
    if name in available:
        return name
    if len(available) == 1:
        return available[0]
    if len(survey) == 1:
        return survey[0]
    raise LayerError(f"no layer {name!r} (the file has {available})", str(path))


def shapefile_encoding(path: Path, layer: str, name: str, issues: IssueLog) -> str | None:
    """GB18030 for a shapefile without .cpg (GDAL reports ISO-8859-1; in China it is
    GBK/GB18030), noted in ``issues``; None (the file's own) otherwise."""
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:
        raise LayerError(f"cannot read ({first_line(exc)})", str(path), layer) from None
    if info.get("driver") == "ESRI Shapefile" and info.get("encoding") == "ISO-8859-1":
        issues.add(name, "note", f"{path.name} has no .cpg; attributes read as GB18030 (GBK)")
        return "gb18030"
    return None


#: Rows searched for a table's header: a town's sheet may carry a merged title row or a
#: few lines of explanation above it.
HEADER_SEARCH_ROWS = 30
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv", ".txt")


def decode_table(
    data: bytes, path: str, what: str, config: Config | None = None
) -> tuple[str, str]:
    """The text of a CSV and the encoding it was read in (SPEC §3): ``[encoding] what``
    if the config declares one, else UTF-8 (with or without BOM), else GBK/GB18030 (what
    a Chinese Excel writes with "另存为 CSV"). Neither: one line naming the row and the fix."""
    import codecs

    declared = (config.encoding.get(what) if config is not None else None) or None
    tried = [declared] if declared else ["utf-8-sig", "gb18030"]
    if declared and codecs.lookup(declared).name == "utf-8":
        tried = ["utf-8-sig"]
    for encoding in tried:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            error = exc
    row = data[: error.start].count(b"\n") + 1
    if declared:
        raise LayerError(
            f"not {declared} text (byte {error.start}, row {row}) although the "
            f"config says [encoding] {what} = {declared!r}; fix or remove that "
            "entry",
            path,
            what,
        )
    raise LayerError(
        f"neither UTF-8 nor GBK/GB18030 text (byte {error.start}, row {row}); "
        f'save it as CSV UTF-8 or declare [encoding] {what} = "..." in the '
        "config",
        path,
        what,
    )


def _cell_text(value):
    """One cell as text: whole numbers without '.0', a date cell as YYYY-MM-DD (with the
    time if it has one), an empty cell None; text stays as typed ('NA', '007')."""
    import datetime as dt

    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return str(int(value)) if np.isfinite(value) and value == int(value) else repr(float(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _as_text(grid: pd.DataFrame) -> pd.DataFrame:
    """Every cell of a sheet as text or None (columns already all text pass untouched)."""
    grid = grid.astype(object)
    for c in grid.columns:
        col = grid[c]
        if pd.api.types.infer_dtype(col, skipna=True) != "string" or col.eq("").any():
            grid[c] = col.map(_cell_text)
        else:
            grid[c] = col.where(col.notna(), None)
    return grid


def _table_renaming(names: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """``[fields.<table>]`` on header names: exact names first, then case-insensitive."""
    lower = {n.casefold(): n for n in reversed(names)}
    out = {}
    for source, target in mapping.items():
        if source in names:
            out[source] = target
        elif source.casefold() in lower and lower[source.casefold()] not in out:
            out[lower[source.casefold()]] = target
    return out


def _header(grid: pd.DataFrame, keys, mapping) -> tuple[int | None, int]:
    """(row holding every key column after renaming, or None; fallback header row): the
    fallback is the first row with two or more cells (a merged title has one)."""
    wanted = [k.casefold() for k in keys]
    fallback = None
    for i in range(min(len(grid), HEADER_SEARCH_ROWS)):
        cells = [str(c).strip() for c in grid.iloc[i] if pd.notna(c) and str(c).strip()]
        if fallback is None and (len(cells) >= 2 or (cells and grid.shape[1] == 1)):
            fallback = i
        if wanted:
            renamed = _table_renaming(cells, mapping)
            have = {renamed.get(c, c).casefold() for c in cells}
            if all(k in have for k in wanted):
                return i, i
    return None, 0 if fallback is None else fallback


def _frame_below(grid: pd.DataFrame, h: int, mapping: dict[str, str]) -> pd.DataFrame:
    """The rows under header row ``h`` with the header's names, renamed; empty rows and
    unnamed empty columns dropped. ``attrs``: header_row and sheet_rows (1-based)."""
    head = ["" if pd.isna(c) else str(c).strip() for c in grid.iloc[h]] if len(grid) else []
    body = grid.iloc[h + 1 :]
    keep_rows = body.notna().any(axis=1).to_numpy() if body.shape[1] else np.zeros(len(body), bool)
    body = body[keep_rows]
    names: list[str] = []
    renamed = _table_renaming([n for n in head if n], mapping)
    targets = {t.casefold() for t in renamed.values()}
    taken = {n.casefold() for n in head if n} | targets
    keep_cols = []
    for j, name in enumerate(head):
        if not name:
            if not body.iloc[:, j].notna().any():
                continue
            name = f"Unnamed: {j}"
        elif name in renamed:
            name = renamed[name]
        elif name.casefold() in targets:
            name = input_name(name, taken)  # a column bearing a [fields] target name
        k, base = 1, name
        while name in names:
            name, k = f"{base}.{k}", k + 1
        names.append(name)
        keep_cols.append(j)
    frame = pd.DataFrame(body.iloc[:, keep_cols].to_numpy(dtype=object), columns=names)
    frame.attrs["header_row"] = h + 1
    frame.attrs["sheet_rows"] = (np.flatnonzero(keep_rows) + h + 2).tolist()
    return frame


def read_tables(
    path: str | os.PathLike,
    what: str = "table",
    *,
    config: Config | None = None,
    keys=(),
    rename: dict[str, str] | None = None,
) -> list[tuple[str, pd.DataFrame, bool]]:
    """Every sheet of a town's table (a CSV is one sheet named ''), every cell as text.

    The one table reader of SPEC §3 for workshop lists, ledger sheets, enterprise tables
    and point lists:

    - CSV in UTF-8 (with or without BOM) or GBK/GB18030, detected; ``[encoding] what``
      overrides (:func:`decode_table`);
    - Excel: the header is the first row holding every column of ``keys`` (after
      renaming), so merged title rows above it are skipped; without ``keys``, or when no
      row has them, the first row with two or more cells;
    - ``rename`` (e.g. a table's Chinese headers) then ``[fields.what]`` rename columns;
    - cells as text: 'NA', 'NULL', '007' stay as typed, an empty cell is None, a date
      cell YYYY-MM-DD, a whole number without '.0'.

    Returns (sheet name, frame, header found) per sheet in workbook order; a frame's
    ``attrs`` hold ``header_row`` and ``sheet_rows`` (each row's 1-based row in the sheet).
    An unreadable file is one :class:`LayerError` line naming it and the fix.
    """
    path = Path(path)
    mapping = {**(rename or {}), **(config.fields.get(what, {}) if config else {})}
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            book = pd.read_excel(
                path,
                sheet_name=None,
                header=None,
                dtype=object,
                keep_default_na=False,
                na_values=[],
            )
            grids = {str(name): _as_text(grid) for name, grid in book.items()}
        elif path.suffix.lower() in CSV_SUFFIXES:
            import csv
            import io

            text, encoding = decode_table(path.read_bytes(), str(path), what, config)
            try:
                rows = list(csv.reader(io.StringIO(text, newline="")))
            except csv.Error as exc:
                raise LayerError(
                    f"not a CSV table ({exc}); save it again from Excel as CSV", str(path), what
                ) from None
            grid = pd.DataFrame(rows, dtype=object)
            grids = {"": grid.where(grid.notna() & grid.ne(""), None)}
        else:
            raise LayerError("not a table (give a .csv, .xlsx or .xls file)", str(path), what)
    except LayerError:
        raise
    except FileNotFoundError:
        raise LayerError("file not found", str(path), what) from None
    except Exception as exc:
        raise LayerError(
            f"cannot read ({first_line(exc)}); is it a .csv or .xlsx table?", str(path), what
        ) from None
    out = []
    for name, grid in grids.items():
        found, h = _header(grid, keys, mapping)
        frame = _frame_below(grid, found if found is not None else h, mapping)
        frame.attrs["sheet"] = name
        out.append((name, frame, found is not None or not keys))
    return out


def read_table(
    path: str | os.PathLike,
    what: str = "table",
    *,
    config: Config | None = None,
    keys=(),
    required=(),
    rename: dict[str, str] | None = None,
) -> pd.DataFrame:
    """A town's table (CSV, Excel, or a layer's attributes) with every cell as text:
    'NA', 'None', 'NULL' and '007' stay as typed, an empty cell is missing (the caller
    converts numbers). Excel: the first sheet whose header has ``keys`` (else the first
    sheet); the other sheets holding cells are named in ``attrs['other_sheets']``.
    See :func:`read_tables`. A column of ``required`` missing from the header is one
    :class:`LayerError` line naming the file, the sheet, the header row and the fix."""
    path = Path(path)
    if path.suffix.lower() not in EXCEL_SUFFIXES + CSV_SUFFIXES:
        return _layer_table(path, what, config)
    tables = read_tables(path, what, config=config, keys=keys, rename=rename)
    pick = next((i for i, (_, _, found) in enumerate(tables) if found), 0)
    name, frame, _ = tables[pick]
    frame.attrs["sheet_index"] = pick
    frame.attrs["other_sheets"] = [
        n for i, (n, f, _) in enumerate(tables) if i != pick and (len(f) or len(f.columns))
    ]
    missing = [c for c in required if c not in frame.columns]
    if missing and frame.shape != (0, 0):
        sheet = f"sheet {name!r}, " if name else ""
        raise LayerError(
            f"missing column(s) {missing} ({sheet}header row "
            f"{frame.attrs['header_row']}: {list(frame.columns)}); name the "
            f"column(s) so or map yours in [fields.{what}] of the config",
            str(path),
            what,
        )
    return frame


def _layer_table(path: Path, what: str, config: Config | None) -> pd.DataFrame:
    """A layer's attributes as a table (text columns as text), renamed by [fields.what]."""
    try:
        table = pyogrio.read_dataframe(path, read_geometry=False)
    except FileNotFoundError:
        raise LayerError("file not found", str(path), what) from None
    except Exception as exc:
        raise LayerError(f"cannot read ({first_line(exc)})", str(path), what) from None
    text = table.select_dtypes(exclude="number").columns
    table[text] = table[text].astype("string").astype(object).where(table[text].notna(), None)
    mapping = config.fields.get(what, {}) if config else {}
    return table.rename(columns=_table_renaming([str(c) for c in table.columns], mapping))


def rename_fields(
    gdf: gpd.GeoDataFrame, name: str, config: Config, issues: IssueLog | None = None
) -> gpd.GeoDataFrame:
    """Apply the ``[fields.LAYER]`` map (exact names first, then case-insensitive).

    A field of the file that already bears a target name (and is not renamed itself) is
    kept as ``<name>_input`` (noted in the issues): the renamed field wins, nothing is lost.
    """
    mapping = config.fields.get(name, {})
    if not mapping:
        return gdf
    lower = {str(c).lower(): c for c in gdf.columns}
    rename = {}
    for source, canonical in mapping.items():
        if source in gdf.columns:
            rename[source] = canonical
        elif source.lower() in lower:
            rename[lower[source.lower()]] = canonical
    targets = {str(t).casefold() for t in rename.values()}
    geometry = gdf.geometry.name
    displaced = [
        c for c in gdf.columns if c not in rename and c != geometry and str(c).casefold() in targets
    ]
    if displaced:
        taken = {str(c).casefold() for c in gdf.columns if c not in displaced} | targets
        moved = {c: input_name(str(c), taken) for c in displaced}
        rename.update(moved)
        if issues is not None:
            issues.add(
                name,
                "note",
                f"field(s) {displaced} of the file bear the name(s) that "
                "[fields] gives to other fields; kept as "
                f"{list(moved.values())}",
            )
    return gdf.rename(columns=rename)


#: Attribute names an input may not keep: ``fid`` is the GeoPackage feature id column (a
#: text or repeated ``fid`` cannot be written), names starting with ``_`` are private to
#: the toolkit (``_problem`` …), ``geometry`` is the geometry column.
RESERVED_NAMES = ("fid", "geometry")


def input_name(column: str, taken: set[str]) -> str:
    """``<column>_input`` (``_input_2`` … if that is taken too, compared case-insensitively,
    as GeoPackage does); the name is added to ``taken``."""
    new, k = f"{column}_input", 2
    while new.casefold() in taken:
        new, k = f"{column}_input_{k}", k + 1
    taken.add(new.casefold())
    return new


def keep_apart(gdf: gpd.GeoDataFrame, name: str, issues: IssueLog) -> gpd.GeoDataFrame:
    """Give every attribute a name that survives the outputs (SPEC §7: nothing is lost).

    Reserved names (:data:`RESERVED_NAMES`, a leading ``_``) and names that differ only in
    case from another field (``town`` and ``TOWN``: GeoPackage cannot hold both) are kept
    as ``<name>_input`` and listed in the issues; a lowercase name (the SPEC's spelling)
    keeps its name before other spellings, else the first in the file.
    """
    geometry = gdf.geometry.name
    cols = [str(c) for c in gdf.columns if c != geometry]
    reserved = [c for c in cols if c.startswith("_") or c.casefold() in RESERVED_NAMES]
    order = sorted((c for c in cols if c not in reserved), key=lambda c: c != c.casefold())
    taken = {"geometry", str(geometry).casefold()}
    clash = []
    for c in order:
        if c.casefold() in taken:
            clash.append(c)
        else:
            taken.add(c.casefold())
    moved = {c: input_name(c, taken) for c in reserved + clash}
    if not moved:
        return gdf
    why = [
        f"{c!r} is reserved" if c in reserved else f"{c!r} differs only in case from another field"
        for c in moved
    ]
    issues.add(
        name,
        "note",
        "input field(s) kept under another name: "
        + "; ".join(f"{w}, kept as {moved[c]!r}" for w, c in zip(why, moved, strict=True)),
    )
    return gdf.rename(columns=moved)


def ids_as_text(values: pd.Series) -> pd.Series:
    """Ids as text: integers without '.0', text kept as is (leading zeros stay), NA kept."""
    if pd.api.types.is_float_dtype(values):
        # A REAL id column: whole numbers as the exact integer the file stores (1e20 ->
        # 100000000000000000000; distinct values stay distinct, also above 2**63), other
        # values by their shortest round-trip text; NaN and inf give no id.
        v = values.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(v)
        whole = finite & (v == np.floor(v))
        fits = whole & (np.abs(v) < 2.0**63)
        out = np.full(len(v), None, dtype=object)
        out[fits] = v[fits].astype(np.int64).astype(str)
        big = whole & ~fits
        out[big] = [str(int(x)) for x in v[big]]  # rare: Python ints are exact
        frac = finite & ~whole
        out[frac] = [repr(float(x)) for x in v[frac]]
        return pd.Series(out, index=values.index, dtype=object)
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.astype(str).where(values.notna(), None).astype(object)
    text = values.astype("string").str.strip()  # vectorised; NA stays NA
    return text.astype(object).where(text.notna(), None)


def reserved_town_names(town: pd.Series, name: str, issues: IssueLog) -> pd.Series:
    """A ``town`` spelled like a table's total row (合计) or its no-town row ((未知)) is
    kept in quotes ("合计" -> “合计”) so its figures never merge with those rows; listed."""
    text = town.astype("string").str.strip()
    hit = text.isin(RESERVED_TOWNS).fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return town
    pos = np.flatnonzero(hit)
    issues.add(
        name,
        "repaired",
        "镇街名与汇总行同名，已加引号（a town named like a total row is quoted）",
        pos,
    )
    out = town.astype(object).copy()
    out.iloc[pos] = "“" + text.iloc[pos].astype(str) + "”"
    return out


def check_ids(gdf: gpd.GeoDataFrame, name: str, where: str, issues: IssueLog | None = None) -> None:
    """Required id field present, no empty and no duplicate values (else LayerError).

    Ids are text; spaces around an id (a habit of typed sheets) are trimmed and listed."""
    id_field = ID_FIELDS[name]
    if id_field is None:
        return
    if id_field not in gdf.columns:
        have = [c for c in gdf.columns if c != gdf.geometry.name]
        raise LayerError(
            f"missing required field {id_field!r} (fields: {have}); map yours in [fields.{name}]",
            where,
            name,
        )
    raw = gdf[id_field]
    if pd.api.types.is_float_dtype(raw):
        inf = np.flatnonzero(np.isinf(raw.to_numpy(dtype=float, na_value=np.nan)))
        if inf.size:
            raise LayerError(
                f"{id_field} is not a finite number (inf); give every row an id",
                where,
                name,
                rows=list(inf + 1),
            )
    ids = ids_as_text(raw)
    if issues is not None and not pd.api.types.is_numeric_dtype(raw):
        trimmed = np.flatnonzero(
            raw.astype("string").fillna("").to_numpy(dtype=object)
            != ids.fillna("").to_numpy(dtype=object)
        )
        issues.add(
            name,
            "repaired",
            f"{id_field} 首尾空格已去除（spaces around the id trimmed）",
            trimmed,
            ids.iloc[trimmed],
        )
    gdf[id_field] = ids
    empty = np.flatnonzero(ids.isna().to_numpy() | (ids.fillna("") == "").to_numpy())
    if empty.size:
        raise LayerError(
            f"{empty.size} row(s) without {id_field}", where, name, rows=list(empty + 1)
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        shown = sorted(set(ids.iloc[pos]))[:5]
        raise LayerError(f"duplicate {id_field} {shown}", where, name, rows=list(pos + 1))


def parse_bool(
    values: pd.Series, field_name: str, name: str, issues: IssueLog, ids: pd.Series | None
) -> pd.Series:
    """Boolean words of SPEC §3; any other value is reported and read as false."""
    if pd.api.types.is_bool_dtype(values) and not values.isna().any():
        return values.astype(bool)
    text = (
        values.astype(object)
        .where(values.notna(), "")
        .map(lambda v: str(int(v)) if isinstance(v, float) and v == int(v) else str(v))
    )
    text = text.str.normalize("NFKC").str.strip().str.lower()
    truth = text.isin(TRUE_WORDS)
    bad = ~truth & ~text.isin(FALSE_WORDS)
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        issues.add(
            name,
            "coerced",
            [
                f"{field_name} value {values.iloc[p]!r} is not a yes/no word; read as false"
                for p in pos
            ],
            pos,
            None if ids is None else ids.iloc[pos],
        )
    return truth.astype(bool)


def to_number(values: pd.Series) -> pd.Series:
    """Numbers as towns type them: full-width digits and signs (NFKC), spaces anywhere.

    Text that is still not a number gives NaN; ``inf``/``1e400`` give ±inf (the caller
    decides what a non-finite value means).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.to_numeric(values, errors="coerce").astype(float)
    text = values.astype("string").str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    return pd.to_numeric(text.astype(object).where(text.notna(), None), errors="coerce").astype(
        float
    )


def is_given(values: pd.Series) -> np.ndarray:
    """True where a cell holds something (not NA, not blank text)."""
    return (values.notna() & values.astype(str).str.strip().ne("")).to_numpy()


def parse_number(
    values: pd.Series, field_name: str, name: str, issues: IssueLog, ids: pd.Series | None
) -> pd.Series:
    """Numbers ≥ 0 (an area); text that is not one is reported and left empty."""
    num = to_number(values)
    bad = is_given(values) & ~(np.isfinite(num) & (num >= 0)).to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        issues.add(
            name,
            "coerced",
            [
                f"{field_name} 值 {values.iloc[p]!r} 不是面积数值，按空值处理（not a number "
                "≥ 0; left empty）"
                for p in pos
            ],
            pos,
            None if ids is None else ids.iloc[pos],
        )
    return num.where(~bad)


def parse_int(
    values: pd.Series, field_name: str, name: str, issues: IssueLog, ids: pd.Series | None
) -> pd.Series:
    """Integers (nullable); text that is not a whole number is reported and left empty."""
    num = to_number(values)
    bad = is_given(values) & (~np.isfinite(num) | (num != np.floor(num))).to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        issues.add(
            name,
            "coerced",
            [
                f"{field_name} 值 {values.iloc[p]!r} 不是整数，留空（{field_name} value "
                f"{values.iloc[p]!r} is not a whole number; left empty）"
                for p in pos
            ],
            pos,
            None if ids is None else ids.iloc[pos],
        )
    num = num.where(~bad)
    return num.round().astype("Int64")


def parse_count(
    values: pd.Series, field_name: str, name: str, issues: IssueLog, ids: pd.Series | None
) -> pd.Series:
    """A count or a year (:func:`parse_int`): a negative value is reported too, with the
    row's id, and left empty."""
    values = parse_int(values, field_name, name, issues, ids)
    negative = values.lt(0).fillna(False).to_numpy()
    pos = np.flatnonzero(negative)
    if pos.size:
        issues.add(
            name,
            "coerced",
            [
                f"{field_name} 为负数 {values.iloc[p]}，留空（{field_name} is negative; "
                "left empty）"
                for p in pos
            ],
            pos,
            None if ids is None else ids.iloc[pos],
        )
    return values.mask(negative)


def _xy_bounds(geoms: np.ndarray) -> np.ndarray:
    b = shapely.bounds(geoms)
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        return np.full(4, np.nan)
    b = b[ok]
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def resolve_crs(
    gdf: gpd.GeoDataFrame, name: str, where: str, config: Config, issues: IssueLog
) -> gpd.GeoDataFrame:
    """Give the layer a trustworthy CRS (SPEC §2): declared, GCJ-02, GK zone, swapped axes."""
    declared = config.crs.get(name)
    geoms = gdf.geometry.array
    if declared is not None:
        gdf = declared_crs(gdf, declared, name, where, issues)
    if gdf.crs is None:
        b = _xy_bounds(np.asarray(geoms))
        hint = ""
        if np.isfinite(b).all() and b[0] > 1e7:
            zone = int(b[0] // 1e6)
            hint = (
                f"; eastings like {b[0]:.0f} suggest EPSG:{zcrs.gk_zone_epsg(zone)}"
                if 25 <= zone <= 45
                else ""
            )
        raise CRSError(
            f'layer has no CRS; declare it in the config as [crs] {name} = "EPSG:..."{hint}',
            where,
            name,
        )
    b = _xy_bounds(np.asarray(gdf.geometry.array))
    if not np.isfinite(b).all():
        return gdf  # nothing to check (all empty)
    if gdf.crs.is_geographic:
        return unswap_axes(gdf, b, name, issues)
    return gk_zone_fix(gdf, b, name, issues)


def declared_crs(
    gdf: gpd.GeoDataFrame, declared: str, name: str, where: str, issues: IssueLog
) -> gpd.GeoDataFrame:
    """The layer in the CRS the config declares for it ([crs]): GCJ-02 shifted to WGS84,
    any other CRS set over the file's (noted when it differs)."""
    if declared.strip().upper().replace("_", "-") in GCJ02_NAMES:
        shifted = zcrs.geoms_gcj02_to_wgs84(np.asarray(gdf.geometry.array))
        issues.add(name, "note", "declared GCJ-02; converted to WGS84")
        return gdf.set_geometry(gpd.GeoSeries(shifted, index=gdf.index, crs=4326))
    try:
        crs = pyproj.CRS.from_user_input(declared)
    except pyproj.exceptions.CRSError:
        raise CRSError(f"declared CRS {declared!r} is not a CRS", where, name) from None
    if gdf.crs is not None and not gdf.crs.equals(crs):
        issues.add(
            name, "note", f"file CRS {gdf.crs.to_string()} replaced by declared {crs.to_string()}"
        )
    return gdf.set_crs(crs, allow_override=True)


def unswap_axes(
    gdf: gpd.GeoDataFrame, b: np.ndarray, name: str, issues: IssueLog
) -> gpd.GeoDataFrame:
    """A geographic layer whose bounds ``b`` fit China only with x and y swapped, swapped
    back (and listed)."""
    lon_ok = zcrs.CHINA_LON[0] <= b[0] and b[2] <= zcrs.CHINA_LON[1]
    lat_ok = zcrs.CHINA_LAT[0] <= b[1] and b[3] <= zcrs.CHINA_LAT[1]
    swapped = (
        zcrs.CHINA_LAT[0] <= b[0]
        and b[2] <= zcrs.CHINA_LAT[1]
        and zcrs.CHINA_LON[0] <= b[1]
        and b[3] <= zcrs.CHINA_LON[1]
    )
    if (lon_ok and lat_ok) or not swapped:
        return gdf
    issues.add(name, "repaired", "longitude and latitude were swapped; swapped back")
    return gdf.set_geometry(
        gpd.GeoSeries(
            shapely.transform(np.asarray(gdf.geometry.array), lambda c: c[:, ::-1]),
            index=gdf.index,
            crs=gdf.crs,
        )
    )


def gk_zone_fix(
    gdf: gpd.GeoDataFrame, b: np.ndarray, name: str, issues: IssueLog
) -> gpd.GeoDataFrame:
    """A Gauss–Krüger layer whose eastings (bounds ``b``) disagree with its CRS about the
    zone prefix, read in the CRS its coordinates are in (and listed)."""
    crs = gdf.crs
    info = zcrs.gk_info(crs)
    if info is None:
        return gdf
    kind, value = info
    if kind == "cm" and b[0] > 1e7:
        zone = int(b[0] // 1e6)
        fixed = zcrs.gk_zone_epsg(zone)
        issues.add(
            name,
            "repaired",
            f"eastings carry GK zone prefix {zone} but the CRS "
            f"is {crs.to_string()}; read as EPSG:{fixed}",
        )
        return gdf.set_crs(fixed, allow_override=True)
    if kind == "zone" and b[2] < 1e7:
        fixed = zcrs.gk_cm_epsg(75 + 3 * (value - 25))
        issues.add(
            name,
            "repaired",
            f"eastings have no GK zone prefix but the CRS is "
            f"{crs.to_string()}; read as EPSG:{fixed}",
        )
        return gdf.set_crs(fixed, allow_override=True)
    return gdf


def nonfinite_rows(geoms: np.ndarray) -> np.ndarray:
    """Mask of rows with a NaN or infinite x or y anywhere (such a shape is not repaired:
    make_valid would keep a part of it)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    mask = np.zeros(len(geoms), dtype=bool)
    mask[owner[~np.isfinite(coords).all(axis=1)]] = True
    return mask


def rows_outside_china(geoms: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Mask of rows whose lon/lat bounds fall outside China's rough extent (rows without a
    geometry are not outside), and the lon/lat of each row's bounding-box centre."""
    b = shapely.bounds(geoms)
    present = np.isfinite(b).all(axis=1)
    tr = pyproj.Transformer.from_crs(crs, 4490, always_xy=True)
    lon, lat = tr.transform(b[:, [0, 2, 0, 2]].ravel(), b[:, [1, 1, 3, 3]].ravel())
    lon, lat = np.asarray(lon).reshape(-1, 4), np.asarray(lat).reshape(-1, 4)
    with np.errstate(invalid="ignore"):
        inside = (
            np.isfinite(lon).all(axis=1)
            & np.isfinite(lat).all(axis=1)
            & (lon.min(axis=1) >= zcrs.CHINA_LON[0])
            & (lon.max(axis=1) <= zcrs.CHINA_LON[1])
            & (lat.min(axis=1) >= zcrs.CHINA_LAT[0])
            & (lat.max(axis=1) <= zcrs.CHINA_LAT[1])
        )
    centre = np.column_stack([lon.mean(axis=1), lat.mean(axis=1)])
    return present & ~inside, centre


def check_extent(gdf: gpd.GeoDataFrame, name: str, where: str) -> np.ndarray:
    """Rows of the layer that lie outside China (mask). A layer most of whose rows are
    outside has a wrong CRS: one line naming the rows and the fix."""
    geoms = np.asarray(gdf.geometry.array)
    outside, centre = rows_outside_china(geoms, gdf.crs)
    present = np.isfinite(shapely.bounds(geoms)).all(axis=1)
    if outside.any() and outside.sum() * 2 >= present.sum():
        ll = zcrs.lonlat_bounds(tuple(_xy_bounds(geoms)), gdf.crs)
        raise CRSError(
            f"coordinates in {gdf.crs.to_string()} do not fall in China "
            f"(lon/lat bounds {tuple(round(float(v), 3) for v in ll)}); is the "
            f'CRS right? Declare it in the config as [crs] {name} = "EPSG:..."',
            where,
            name,
            rows=list(np.flatnonzero(outside) + 1),
        )
    return outside


def analysis_crs(parcels: gpd.GeoDataFrame, config: Config) -> pyproj.CRS:
    """The analysis CRS (SPEC §2): configured, else GK CM nearest the parcels' bbox centre."""
    if "analysis" in config.crs:
        check_crs({"analysis": config.crs["analysis"]}, "config")
        return pyproj.CRS.from_user_input(config.crs["analysis"])
    ll = zcrs.lonlat_bounds(tuple(_xy_bounds(np.asarray(parcels.geometry.array))), parcels.crs)
    return pyproj.CRS.from_epsg(zcrs.gk_cm_epsg((ll[0] + ll[2]) / 2.0))


def polygonal(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repair and keep polygonal parts (FIELD-NOTES: make_valid 'structure', 2D).

    Valid Polygons and MultiPolygons pass through untouched; invalid ones are repaired
    and geometry collections reduced to their polygonal parts (one MultiPolygon per row).

    Returns
    -------
    (geometries, repaired mask, reason per row: "" when usable, else why not)
    """
    geoms = np.asarray(geoms, dtype=object)
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    n = len(geoms)
    reason = np.full(n, "", dtype=object)
    missing = shapely.is_missing(geoms)
    reason[missing] = "geometry is null"
    empty = ~missing & shapely.is_empty(geoms)
    reason[empty] = "geometry is empty"
    present = ~missing & ~empty
    types = shapely.get_type_id(geoms)
    invalid = present & ~elementwise(shapely.is_valid, geoms)
    needs_work = present & (invalid | ~np.isin(types, POLYGONAL))
    out = np.where(present, geoms, np.array(None))
    if needs_work.any():
        work = geoms[needs_work]
        bad = invalid[needs_work]
        work[bad] = shapely.make_valid(work[bad], method="structure", keep_collapsed=False)
        parts, owner = shapely.get_parts(work, return_index=True)
        parts, sub = shapely.get_parts(parts, return_index=True)  # multipolygons in collections
        owner = owner[sub]
        keep = np.isin(shapely.get_type_id(parts), POLYGONAL) & ~shapely.is_empty(parts)
        parts, owner = parts[keep], owner[keep]
        rebuilt = np.full(len(work), None, dtype=object)
        if len(parts):
            rows, dense = np.unique(owner, return_inverse=True)  # indices must be 0..k-1
            rebuilt[rows] = shapely.multipolygons(parts, indices=dense)
        out[needs_work] = rebuilt
        lost = np.flatnonzero(needs_work)[shapely.is_missing(rebuilt)]
        reason[lost] = [
            "invalid geometry has no polygonal part"
            if invalid[i]
            else f"geometry is {geoms[i].geom_type}, not a polygon"
            for i in lost
        ]
    zero = ~shapely.is_missing(out) & (shapely.area(out) <= 0)
    reason[zero] = "geometry has zero area"
    out[zero] = None
    repaired = needs_work & ~shapely.is_missing(out)
    return out, repaired, reason


@dataclass
class Layers:
    """All input layers in the analysis CRS, with the issue log and input fingerprints."""

    parcels: gpd.GeoDataFrame
    dev_boundary: gpd.GeoDataFrame
    township_parks: gpd.GeoDataFrame
    cluster_points: gpd.GeoDataFrame
    protected: gpd.GeoDataFrame | None
    towns: gpd.GeoDataFrame | None
    crs: pyproj.CRS
    issues: IssueLog
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: Rows kept by [select.LAYER] (SPEC §3): e.g. parcels_read, parcels_selected,
    #: parcels_not_selected; empty when nothing was selected.
    selection: dict[str, int] = field(default_factory=dict)

    def problem(self, name: str = "parcels") -> pd.Series:
        """Why each row of a layer cannot be used, "" where it can (coordinates not finite
        or outside China, :func:`prepare_layer`): the problem mask the measures and the
        decision take. Kept by this module in the frame's private ``_problem`` column,
        which no other module reads."""
        gdf = getattr(self, name)
        if gdf is None or "_problem" not in gdf:
            return pd.Series("", index=None if gdf is None else gdf.index, dtype=object)
        return gdf["_problem"].fillna("").astype(object)

    def public(self, name: str) -> gpd.GeoDataFrame | None:
        """The layer as read, without the columns this module keeps for itself."""
        gdf = getattr(self, name)
        return None if gdf is None else gdf.drop(columns=[c for c in ("_problem",) if c in gdf])


def prepare_layer(
    gdf: gpd.GeoDataFrame, name: str, where: str, config: Config, issues: IssueLog
) -> gpd.GeoDataFrame:
    """Rename fields, check ids and geometry type, resolve the CRS (not yet reprojected).

    Rows of a polygon layer whose coordinates are not finite or lie outside China lose
    their geometry and carry the reason in ``_problem`` (parcels: unclassified; other
    layers: rejected), listed with their ids; in a point layer they are an error naming
    the rows. An empty parcels layer, or one without any geometry, is an error.
    """
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    gdf = keep_apart(gdf, name, issues)
    gdf = rename_fields(gdf, name, config, issues)
    gdf = gdf.reset_index(drop=True)
    if name == "parcels" and not len(gdf):
        raise LayerError(
            "the layer has no rows: nothing to classify; is it the right layer?", where, name
        )
    if "town" in gdf.columns:
        gdf["town"] = reserved_town_names(gdf["town"], name, issues)
    check_ids(gdf, name, where, issues)
    check_geometry_type(gdf, name, where)
    ids = gdf[ID_FIELDS[name]] if ID_FIELDS[name] else None
    gdf = parse_fields(gdf, name, issues, ids)
    problem = np.full(len(gdf), "", dtype=object)
    nonfinite = nonfinite_rows(np.asarray(gdf.geometry.array))
    if nonfinite.any() and name not in POLYGON_LAYERS:
        raise LayerError(
            "coordinates are not finite (NaN or inf); fix or delete these rows",
            where,
            name,
            rows=list(np.flatnonzero(nonfinite) + 1),
        )
    problem[nonfinite] = "coordinates are not finite (NaN or inf); fix the vertices"
    gdf = drop_geometry(gdf, nonfinite)
    if name == "parcels":
        geoms = np.asarray(gdf.geometry.array)
        if not (~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)).any():
            raise LayerError(
                f"none of the {len(gdf)} rows has a geometry (all null, empty or "
                "not finite); is it the right layer?",
                where,
                name,
            )
    gdf = resolve_crs(gdf, name, where, config, issues)
    outside = check_extent(gdf, name, where)
    if outside.any():
        if name not in POLYGON_LAYERS:
            raise CRSError(
                "rows lie outside China; fix their coordinates or delete them",
                where,
                name,
                rows=list(np.flatnonzero(outside) + 1),
            )
        _, centre = rows_outside_china(np.asarray(gdf.geometry.array)[outside], gdf.crs)
        problem[outside] = [
            f"lies outside China (lon/lat near {x:.3f}, {y:.3f} in "
            f"{gdf.crs.to_string()}); fix its coordinates"
            for x, y in centre
        ]
        gdf = drop_geometry(gdf, outside)
    if name in POLYGON_LAYERS:
        pos = np.flatnonzero(problem != "")
        issues.add(
            name,
            "unclassified" if name == "parcels" else "rejected",
            problem[pos],
            pos,
            None if ids is None else gdf[ID_FIELDS[name]].iloc[pos],
        )
        gdf["_problem"] = problem
    return gdf


def check_geometry_type(gdf: gpd.GeoDataFrame, name: str, where: str) -> None:
    """A polygon layer must hold some polygons, a point layer some points (the layer's
    rows with another type are dealt with row by row later)."""
    types = shapely.get_type_id(np.asarray(gdf.geometry.array))
    present = types >= 0
    if not present.any():
        return
    if name in POLYGON_LAYERS:
        poly = np.isin(types, POLYGONAL) | (types == shapely.GeometryType.GEOMETRYCOLLECTION)
        if not poly[present].any():
            found = sorted(set(gdf.geometry[present].geom_type))
            raise LayerError(f"expected polygons, found {'/'.join(found)}", where, name)
    if name in POINT_LAYERS:
        pts = types == shapely.GeometryType.POINT
        if not pts[present].any():
            found = sorted(set(gdf.geometry[present].geom_type))
            raise LayerError(f"expected points, found {'/'.join(found)}", where, name)


def parse_fields(
    gdf: gpd.GeoDataFrame, name: str, issues: IssueLog, ids: pd.Series | None
) -> gpd.GeoDataFrame:
    """The layer's yes/no, whole-number and number fields read as SPEC §3 reads them
    (values that are none of these listed with the row's id)."""
    for f in BOOL_FIELDS.get(name, ()):
        if f in gdf.columns:
            gdf[f] = parse_bool(gdf[f], f, name, issues, ids)
    for f in INT_FIELDS.get(name, ()):
        if f in gdf.columns:
            gdf[f] = parse_int(gdf[f], f, name, issues, ids)
    for f in NUMBER_FIELDS.get(name, ()):
        if f in gdf.columns:
            gdf[f] = parse_number(gdf[f], f, name, issues, ids)
    return gdf


def drop_geometry(gdf: gpd.GeoDataFrame, rows: np.ndarray) -> gpd.GeoDataFrame:
    """The layer with the geometry of ``rows`` (mask) set to null."""
    if not rows.any():
        return gdf
    geoms = np.asarray(gdf.geometry.array, dtype=object).copy()
    geoms[rows] = None
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def to_analysis(
    gdf: gpd.GeoDataFrame,
    name: str,
    where: str,
    target: pyproj.CRS,
    issues: IssueLog,
    keep_invalid_rows: bool,
) -> gpd.GeoDataFrame:
    """Reproject, check the result is finite, repair polygons (SPEC §7)."""
    if not gdf.crs.equals(target):
        gdf = gdf.to_crs(target)
    b = shapely.bounds(np.asarray(gdf.geometry.array))
    bad = np.flatnonzero(
        ~np.isfinite(b).all(axis=1)
        & ~shapely.is_empty(gdf.geometry.array)
        & ~shapely.is_missing(gdf.geometry.array)
    )
    if bad.size:
        raise CRSError(
            "coordinates became infinite when reprojected; wrong CRS or GK zone?",
            where,
            name,
            rows=list(bad + 1),
        )
    if name not in POLYGON_LAYERS:
        return gdf
    earlier = (
        gdf.pop("_problem").fillna("").to_numpy(dtype=object)
        if "_problem" in gdf
        else np.full(len(gdf), "", dtype=object)
    )
    geoms, repaired, reason = polygonal(np.asarray(gdf.geometry.array))
    idf = ID_FIELDS[name]
    ids = gdf[idf] if idf else None
    pos = np.flatnonzero(repaired)
    issues.add(
        name,
        "repaired",
        "invalid or mixed geometry repaired (make_valid 'structure', polygonal parts kept)",
        pos,
        None if ids is None else ids.iloc[pos],
    )
    lost = np.flatnonzero((reason != "") & (earlier == ""))  # earlier ones are listed
    reason = np.where(earlier != "", earlier, reason)
    action = "unclassified" if (keep_invalid_rows and name == "parcels") else "rejected"
    issues.add(name, action, reason[lost], lost, None if ids is None else ids.iloc[lost])
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=target))
    if keep_invalid_rows:
        gdf["_problem"] = reason
        return gdf
    return gdf[reason == ""].reset_index(drop=True)


def survey_layer(text: str) -> str | None:
    """The survey name (:data:`SURVEY_LAYERS`) a layer or file name stands for: the name
    itself in any case, or followed by a non-letter (``STBHHX_2023``); else None."""
    upper = str(text).strip().upper()
    for key in sorted(SURVEY_LAYERS, key=len, reverse=True):
        if upper == key or (upper.startswith(key) and not upper[len(key)].isalpha()):
            return key
    return None


def layer_sources(path: str | os.PathLike) -> dict[str, Source | list[Source]]:
    """The classification layers a multi-layer file holds: a layer of the canonical name
    (SPEC §3) first, else the survey names (CZKFBJ → dev_boundary; STBHHX, YJJBNT,
    YJJBNTTB → protected, several combined; DLTB → parcels). Layers it lacks are absent."""
    path = Path(path)
    names = list_layers(path)
    found: dict[str, Source | list[Source]] = {
        n: Source(path, n) for n in (*REQUIRED_LAYERS, *OPTIONAL_LAYERS) if n in names
    }
    survey: dict[str, list[Source]] = {}
    for n in names:
        canonical = SURVEY_LAYERS.get(survey_layer(n) or "")
        if canonical is not None and canonical not in found:
            survey.setdefault(canonical, []).append(Source(path, n))
    for canonical, srcs in survey.items():
        if len(srcs) > 1 and canonical != "protected":
            raise LayerError(
                f"several layers {[s.layer for s in srcs]} could be {canonical!r}; "
                "name the one to use with its flag PATH:LAYER",
                str(path),
            )
        found[canonical] = srcs if len(srcs) > 1 else srcs[0]
    return found


def file_sources(path: str | os.PathLike) -> dict[str, Source | list[Source] | None]:
    """Sources for the classification layers of one file (SPEC §3 names, or the survey's,
    :func:`layer_sources`); optional layers the file lacks are None, required ones are
    always listed (a missing one is an error when read)."""
    path = Path(path)
    found = layer_sources(path)
    return {
        n: found.get(n, Source(path, n) if n in REQUIRED_LAYERS else None)
        for n in (*REQUIRED_LAYERS, *OPTIONAL_LAYERS)
    }


def select_rows(
    gdf: gpd.GeoDataFrame, name: str, config: Config, where: str, issues: IssueLog
) -> gpd.GeoDataFrame:
    """The rows a ``[select.LAYER]`` table keeps (SPEC §3 land-survey input).

    A row is kept when every named field holds one of its values (``"203*"``: a prefix;
    compared as text, ignoring case and spaces around). Fields are looked up by their name
    in the source (``DLBM``), else by the canonical name ``[fields]`` gives them
    (``land_class``). Rows not kept are not plots: they are counted, not listed; the issue
    rows of the layer keep naming the row of the source file.
    """
    rules = config.select.get(name)
    if not rules:
        return gdf
    geometry = gdf.geometry.name
    columns = [c for c in gdf.columns if c != geometry]
    lower = {str(c).casefold(): c for c in columns}
    back = {t.casefold(): src for src, t in config.fields.get(name, {}).items()}
    keep = np.ones(len(gdf), dtype=bool)
    for field_name, values in rules.items():
        col = lower.get(field_name.casefold())
        if col is None and field_name.casefold() in back:
            col = lower.get(back[field_name.casefold()].casefold())
        if col is None:
            raise LayerError(
                f"[select.{name}] names field {field_name!r}, which the layer "
                f"does not have (fields: {columns})",
                where,
                name,
            )
        text = ids_as_text(gdf[col]).fillna("").astype(str).str.casefold()
        wanted = [v.casefold() for v in values]
        hit = text.isin([v for v in wanted if not v.endswith("*")])
        prefixes = tuple(v[:-1] for v in wanted if v.endswith("*"))
        if prefixes:
            hit |= text.str.startswith(prefixes)
        keep &= hit.to_numpy(dtype=bool)
    if not keep.any():
        raise LayerError(
            f"[select.{name}] keeps none of the {len(gdf)} rows "
            f"({', '.join(f'{k} = {list(v)}' for k, v in rules.items())}); "
            "are the values and fields right?",
            where,
            name,
        )
    kept = np.flatnonzero(keep)
    issues.source_rows[name] = kept
    issues.add(
        name,
        "note",
        f"[select.{name}] 选取 {kept.size} 行，{len(gdf) - kept.size} 行"
        f"不是地块（rows selected: {kept.size} of {len(gdf)}）",
    )
    return gdf.iloc[kept].reset_index(drop=True)


def protected_kind(gdf: gpd.GeoDataFrame, src: Source, issues: IssueLog) -> gpd.GeoDataFrame:
    """``kind`` of protected land from a survey layer's name (STBHHX → 生态保护红线, YJJBNT
    → 永久基本农田), where the layer gives none (SPEC §3)."""
    key = survey_layer(src.layer or src.path.stem)
    kind = SURVEY_KINDS.get(key or "")
    if kind is None:
        return gdf
    if "kind" in gdf.columns:
        given = gdf["kind"].astype(object)
        empty = (given.isna() | given.astype(str).str.strip().eq("")).to_numpy()
    else:
        given, empty = pd.Series(None, index=gdf.index, dtype=object), np.ones(len(gdf), bool)
    if empty.any():
        gdf["kind"] = given.where(~empty, kind)
        issues.add(
            "protected", "note", f"{key}：kind 取 {kind}（kind set from the survey layer name）"
        )
    return gdf


def load_layers(sources: dict[str, Source | list[Source] | None], config: Config) -> Layers:
    """Read, validate and reproject the classification layers (SPEC §3).

    Parameters
    ----------
    sources
        Layer name -> :class:`Source`; ``protected`` and ``towns`` may be missing.
    config
        Field maps, declared CRSs and encodings.
    """
    issues = IssueLog()
    raw: dict[str, gpd.GeoDataFrame] = {}
    where: dict[str, str] = {}
    inputs: dict[str, dict[str, str]] = {}
    fingerprints: dict[Path, str] = {}
    selection: dict[str, int] = {}
    for name in REQUIRED_LAYERS + OPTIONAL_LAYERS:
        given = sources.get(name)
        if given is None:
            if name in REQUIRED_LAYERS:
                raise LayerError("required layer not given", None, name)
            continue
        srcs = given if isinstance(given, list | tuple) else [given]
        if len(srcs) > 1 and name != "protected":
            raise LayerError(
                f"given {len(srcs)} times ({', '.join(map(str, srcs))}); give "
                "it once (only protected land may come in several files)",
                None,
                name,
            )
        frames = []
        for src in srcs:
            gdf = read_raw(src, name, config, issues)
            n_read = len(gdf)
            gdf = select_rows(gdf, name, config, str(src.path), issues)
            if config.select.get(name):
                selection.update(
                    {
                        f"{name}_read": n_read,
                        f"{name}_selected": len(gdf),
                        f"{name}_not_selected": n_read - len(gdf),
                    }
                )
            with source_rows_in_errors(issues, name):
                prepared = prepare_layer(gdf, name, str(src.path), config, issues)
            if name == "protected":
                prepared = protected_kind(prepared, src, issues)
            frames.append(prepared)
            if src.path not in fingerprints:
                fingerprints[src.path] = fingerprint(src.path)
            key = name if name not in inputs else f"{name}:{src.layer or src.path.stem}"
            inputs[key] = {
                "path": str(src.path),
                "layer": src.layer or name,
                "sha256": fingerprints[src.path],
                "rows": str(n_read),
            }
        where[name] = "; ".join(str(src.path) for src in srcs)
        raw[name] = (
            frames[0]
            if len(frames) == 1
            else gpd.GeoDataFrame(
                pd.concat([f.to_crs(frames[0].crs) for f in frames], ignore_index=True),
                geometry="geometry",
                crs=frames[0].crs,
            )
        )
    with source_rows_in_errors(issues, "parcels"):
        layers = _to_layers(raw, where, config, issues, inputs)
    layers.selection = selection
    return layers


@contextmanager
def source_rows_in_errors(issues: IssueLog, name: str):
    """A LayerError about rows of a selected layer names the rows of the source file."""
    try:
        yield
    except LayerError as exc:
        rows = issues.source_rows.get(name)
        if rows is None or not exc.rows or exc.layer != name:
            raise
        mapped = [int(rows[int(r) - 1]) + 1 for r in exc.rows]
        raise type(exc)(exc.reason, exc.path, exc.layer, rows=mapped) from None


def _to_layers(
    raw: dict[str, gpd.GeoDataFrame],
    where: dict[str, str],
    config: Config,
    issues: IssueLog,
    inputs: dict | None = None,
) -> Layers:
    """Checked layers into the analysis CRS chosen from the parcels (SPEC §2), repaired."""
    target = analysis_crs(raw["parcels"], config)
    out = {
        name: to_analysis(
            gdf, name, where[name], target, issues, keep_invalid_rows=(name == "parcels")
        )
        for name, gdf in raw.items()
    }
    return Layers(
        parcels=out["parcels"],
        dev_boundary=out["dev_boundary"],
        township_parks=out["township_parks"],
        cluster_points=out["cluster_points"],
        protected=out.get("protected"),
        towns=out.get("towns"),
        crs=target,
        issues=issues,
        inputs=inputs or {},
    )


def frames_to_layers(
    parcels,
    dev_boundary,
    township_parks,
    cluster_points,
    protected=None,
    towns=None,
    config: Config | None = None,
) -> Layers:
    """In-memory GeoDataFrames through the same checks as files (for notebooks and tests)."""
    config = config or Config()
    issues = IssueLog()
    given = {
        "parcels": parcels,
        "dev_boundary": dev_boundary,
        "township_parks": township_parks,
        "cluster_points": cluster_points,
        "protected": protected,
        "towns": towns,
    }
    raw = {
        name: prepare_layer(gpd.GeoDataFrame(gdf).copy(), name, "<frame>", config, issues)
        for name, gdf in given.items()
        if gdf is not None
    }
    return _to_layers(raw, dict.fromkeys(raw, "<frame>"), config, issues)


def problem_text(problem: pd.Series, lang: str) -> pd.Series:
    """Why a plot cannot be classified, in ``lang``: the known texts of
    :data:`zoning.vocab.PROBLEM_ZH`, others as they are."""
    text = problem.fillna("").astype(pd.StringDtype("pyarrow"))
    if lang == "en":
        return "cannot classify: " + text
    for pattern, zh in PROBLEM_ZH.items():
        text = text.str.replace(pattern, zh, regex=True)
    return "无法分类：" + text


def read_layer(
    source: str | os.PathLike | Source,
    name: str,
    config: Config,
    target: pyproj.CRS,
    issues: IssueLog | None = None,
) -> gpd.GeoDataFrame:
    """One optional polygon layer (``blocks``, ``scenic`` …, SPEC §11) through the same door
    as the classification's layers: renamed by ``[fields.name]``, ids checked, its CRS
    resolved (``[crs] name``), reprojected to ``target`` and repaired; rows that cannot
    be used are dropped and listed in ``issues``."""
    src = source if isinstance(source, Source) else Source.parse(source)
    issues = issues if issues is not None else IssueLog()
    gdf = read_raw(src, name, config, issues)
    gdf = prepare_layer(gdf, name, str(src.path), config, issues)
    return to_analysis(gdf, name, str(src.path), target, issues, keep_invalid_rows=False)


def source_date(path, layer: str | None = None) -> str:
    """The date an input file gives itself, YYYY-MM-DD, or "" when it gives none: a
    GeoPackage layer's ``last_change`` (gpkg_contents), a shapefile's or DBF's date of
    last update (its header). The date a workbook's title row states as 数据日期."""
    import re
    import sqlite3

    path = Path(path)
    try:
        if path.suffix.lower() == ".gpkg":
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = con.execute(
                    "SELECT table_name, last_change FROM gpkg_contents ORDER BY table_name"
                ).fetchall()
            finally:
                con.close()
            stamps = dict(rows)
            stamp = stamps.get(layer) if layer in stamps else max(stamps.values(), default="")
            return str(stamp or "")[:10] if re.match(r"\d{4}-\d\d-\d\d", str(stamp or "")) else ""
        dbf = path.with_suffix(".dbf") if path.suffix.lower() == ".shp" else path
        if dbf.suffix.lower() == ".dbf" and dbf.exists():
            head = dbf.read_bytes()[:4]
            year, month, day = 1900 + head[1], head[2], head[3]
            return (
                f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else ""
            )
    except (OSError, sqlite3.Error, IndexError):
        return ""
    return ""


#: Date forms towns type (SPEC §8): 2026-04-15, 2026/4/15, 2026.4.15, 2026年4月15日
#: (separators may mix, spaces are ignored), optionally followed by a time.
DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


def parse_date(value) -> str | None:
    """YYYY-MM-DD from the date forms of SPEC §8: YYYY-MM-DD, YYYY/M/D, YYYY.M.D,
    YYYY年M月D日, YYYYMMDD, an Excel date cell (a timestamp) or an Excel serial number;
    None if not a date (a year alone is not one)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    if len(text) == 8 and text.isascii() and text.isdigit():  # YYYYMMDD
        try:
            return dt.datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            return None
    try:
        serial = float(text)
    except ValueError:
        serial = None
    if serial is not None:
        if not 1 <= serial < 2958466:  # Excel's range of days
            return None
        if 1000 <= serial <= 9999 and serial == int(serial):
            return None  # a year alone (2026), not the serial of a day in 1905
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(serial))).isoformat()
    match = DATE_TEXT.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None
