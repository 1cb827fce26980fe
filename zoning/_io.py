"""Atomic output: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``target``.

    Missing parent folders are created. On error the temporary file is removed and a
    previous good ``target`` stays in place.
    """
    target = Path(target)
    tmp_path = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent
        )
        os.close(fd)
        os.unlink(tmp)  # GDAL wants to create the file itself
        tmp_path = Path(tmp)
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        # read-only folder, full disk, a file where a folder should be: name the target,
        # not our temporary file (the CLI prints it as one line)
        if (
            exc.filename is None
            or tmp_path is None
            or os.fspath(exc.filename) in (str(tmp_path), str(target.parent))
        ):
            raise OSError(
                exc.errno, f"cannot write {target} ({exc.strerror or exc})", str(target)
            ) from exc
        raise
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


#: The time stamp written into GeoPackage and workbook metadata: fixed, so that the same
#: data give byte-identical files on any machine (SPEC §6); run.json says when a run was.
FIXED_STAMP = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


@contextlib.contextmanager
def fixed_gdal_date() -> Iterator[None]:
    """GDAL's OGR_CURRENT_DATE pinned to :data:`FIXED_STAMP` while writing."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options(
        {"OGR_CURRENT_DATE": FIXED_STAMP.strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def write_layers(
    target: str | os.PathLike, layers: dict[str, gpd.GeoDataFrame], *, styles: dict | None = None
) -> None:
    """Write several layers into one GeoPackage atomically (polygons as MultiPolygon),
    with a fixed metadata date (:func:`fixed_gdal_date`).

    ``styles`` (layer name -> :class:`zoning.styles.LayerStyle`) go into the file's
    ``layer_styles`` table as each layer's default (:func:`write_styles`); None or ``{}``
    writes none. :func:`zoning.outputs.write_styled_layers` gives every layer
    :mod:`zoning.styles` knows its style (this tier imports nothing above it).
    """
    from pyogrio.errors import DataLayerError, DataSourceError

    from .errors import first_line

    with atomic_path(target) as tmp, fixed_gdal_date():
        for name, gdf in layers.items():
            geom_types = set(gdf.geometry.geom_type.dropna())
            multi = bool(geom_types) and geom_types <= {"Polygon", "MultiPolygon"}
            try:
                pyogrio.write_dataframe(
                    gdf,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    promote_to_multi=multi or None,
                    use_arrow=True,
                )
            except (DataSourceError, DataLayerError) as exc:  # GDAL: full disk, I/O error
                raise OSError(
                    None, f"cannot write {target} layer {name!r} ({first_line(exc)})", str(target)
                ) from exc
        if styles:
            import sqlite3

            try:
                write_styles(tmp, styles)
            except sqlite3.Error as exc:  # full disk, I/O error
                raise OSError(
                    None, f"cannot write {target} layer styles ({exc})", str(target)
                ) from exc


#: The ``layer_styles`` table as QGIS creates it in a GeoPackage (QgsOgrProvider).
LAYER_STYLES_SQL = """CREATE TABLE layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
    f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def write_styles(gpkg: str | os.PathLike, styles: dict) -> None:
    """Each layer's default style (objects with ``name``, ``description``, ``qml`` and
    ``sld``, by layer name) into the GeoPackage's ``layer_styles`` table, replacing the
    layer's previous rows; the table is registered in ``gpkg_contents`` (as QGIS does,
    so GDAL lists it) and every time stamp is :data:`FIXED_STAMP` (byte-stable files).
    QGIS applies a layer's ``useAsDefault`` row when it opens the layer."""
    import sqlite3

    stamp = FIXED_STAMP.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con = sqlite3.connect(gpkg)
    try:
        with con:
            if not con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'"
            ).fetchone():
                con.execute(LAYER_STYLES_SQL)
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier,"
                    " description, last_change) VALUES ('layer_styles', "
                    "'attributes', 'layer_styles', '', ?)",
                    (stamp,),
                )
            geometry_columns = dict(
                con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
            )
            for layer, style in styles.items():
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, "
                    "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                    "useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, ?)",
                    (
                        layer,
                        geometry_columns.get(layer, "geom"),
                        style.name,
                        style.qml,
                        style.sld,
                        style.description,
                        stamp,
                    ),
                )
    finally:
        con.close()


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write a text file atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)


@contextlib.contextmanager
def output_set(
    target_dir: str | os.PathLike, label: str | os.PathLike | None = None
) -> Iterator[Path]:
    """Yield a staging folder beside ``target_dir``; move its contents in only on success.

    A command writes its whole set of files into the staging folder. When the block ends
    without error, each staged entry replaces the entry of the same name in ``target_dir``
    (other files there, such as another command's outputs, are left alone). When it fails,
    the staging folder is removed and the previous set in ``target_dir`` stays whole.
    ``label`` names the output in error messages (default: the folder).
    """
    from .errors import ZoningError

    target = Path(target_dir)
    if target.exists() and not target.is_dir():
        raise ZoningError(f"{target}: exists and is not a folder; give a folder for --out")
    try:  # staged on the target's own file system: inside it, or beside a new one
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(
            tempfile.mkdtemp(
                prefix=".zoning-",
                suffix=".partial",
                dir=target if target.is_dir() else target.parent,
            )
        )
    except OSError as exc:
        raise ZoningError(f"{label or target}: cannot write here ({exc.strerror or exc})") from exc
    try:
        try:
            yield stage
        except OSError as exc:  # name the output the user asked for, not the staging folder

            def final(text):
                return None if text is None else os.fspath(text).replace(str(stage), str(target))

            raise OSError(exc.errno, final(exc.strerror or str(exc)), final(exc.filename)) from exc
        if not target.exists():
            os.replace(stage, target)  # nothing to keep: the whole folder at once
            return
        for entry in sorted(stage.iterdir()):
            dest = target / entry.name
            if dest.is_dir() and not dest.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".old", dir=target))
                os.replace(dest, old / entry.name)
                os.replace(entry, dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(entry, dest)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


#: Text Excel would read as a formula (or a DDE call): '=', '+', '-', '@', tab, CR first,
#: after any apostrophes (so that escaping can be undone exactly); a plain number is safe.
_FORMULA = r"^'*[=+\-@\t\r]"
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


def _recode(values: pd.Series, pattern: str, change) -> pd.Series:
    """``change`` applied to the text cells matching ``pattern`` (by position)."""
    cells = values.to_numpy(dtype=object)
    is_str = np.fromiter((type(v) is str for v in cells), bool, len(cells))
    if not is_str.any():
        return values
    text = pd.Series(cells[is_str], dtype=object)
    hit = text.str.contains(pattern, regex=True).to_numpy(dtype=bool, copy=True)
    if pattern == _FORMULA:
        hit &= ~text.str.fullmatch(_NUMBER).to_numpy()
    if not hit.any():
        return values
    cells = cells.copy()
    where = np.flatnonzero(is_str)[hit]
    cells[where] = change(text[hit]).to_numpy()
    return pd.Series(cells, index=values.index, name=values.name, dtype=object)


def formula_escape(values: pd.Series) -> pd.Series:
    """Text cells that would start a formula in Excel get a leading ``'`` (shown by Excel
    as plain text); numbers and other values are left alone (OWASP CSV injection)."""
    return _recode(values, _FORMULA, lambda s: "'" + s)


def formula_unescape(values: pd.Series) -> pd.Series:
    """Undo :func:`formula_escape` on text read back from one of our CSV files."""
    return _recode(values, "^'" + _FORMULA[1:], lambda s: s.str.slice(1))


# --- GeoPackages through the standard library's sqlite3 (the ledger) ------------------


def gpkg_geometry(blob):
    """A shapely geometry from a GeoPackage geometry blob (None for NULL or empty)."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & 0x10:  # the empty flag
        return None
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0x07]
    return shapely.from_wkb(bytes(blob[8 + envelope :]))


def _bound(i):
    def f(blob):
        g = gpkg_geometry(blob)
        return None if g is None else float(g.bounds[i])

    return f


def register_gpkg_functions(con) -> None:
    """The spatial SQL functions GDAL's GeoPackage triggers call, on a ``sqlite3``
    connection to a GeoPackage (the standard library's sqlite3 lacks them)."""
    con.create_function(
        "ST_IsEmpty", 1, lambda b: 1 if gpkg_geometry(b) is None else 0, deterministic=True
    )
    for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
        con.create_function(name, 1, _bound(i), deterministic=True)


#: dBASE limits of a shapefile's table, in bytes of its encoding: a field name, a text.
DBF_NAME_BYTES = 10
DBF_TEXT_BYTES = 254


def _cut(text: str, limit: int, encoding: str) -> str:
    """``text`` cut to at most ``limit`` bytes in ``encoding``, at a character boundary."""
    sizes = np.cumsum([len(ch.encode(encoding)) for ch in text])
    return text[: int(np.searchsorted(sizes, limit, side="right"))]


def dbf_field_names(columns, encoding: str = "GB18030") -> list[str]:
    """Field names that fit a shapefile (at most 10 bytes in ``encoding``), unique
    regardless of case (dBASE ignores it): a name that fits is kept, a longer one is cut,
    and a cut name already taken gets ``_1``, ``_2`` … (within the 10 bytes)."""
    names = [str(c) for c in columns]
    fits = [len(n.encode(encoding)) <= DBF_NAME_BYTES for n in names]
    taken = {n.lower() for n, ok in zip(names, fits, strict=True) if ok}
    out = []
    for name, ok in zip(names, fits, strict=True):
        if not ok:
            short, n = _cut(name, DBF_NAME_BYTES, encoding), 0
            while short.lower() in taken:
                n += 1
                short = _cut(name, DBF_NAME_BYTES - len(f"_{n}"), encoding) + f"_{n}"
            taken.add(short.lower())
            name = short
        out.append(name)
    return out


def write_shapefiles(
    folder: str | os.PathLike,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    encoding: str = "GB18030",
    styles: dict | None = None,
) -> pd.DataFrame:
    """Each layer as ``folder/<layer>.shp`` for ArcGIS users: its table in ``encoding``
    (GB18030 by default, named in the ``.cpg`` beside it), field names cut to 10 bytes
    (:func:`dbf_field_names`), texts over 254 bytes cut at a character boundary, a fixed
    dBASE date (byte-stable files) and, where the styled column keeps its name, the
    layer's QGIS style of ``styles`` (layer name -> style, none if None) as
    ``<layer>.qml`` (QGIS loads it with the shapefile).

    Returns the field-name table (``图层 layer``, ``字段 field``, ``shp字段 shp_field``):
    one row per field, to join the shapefile's columns back to ours. Call it inside
    :func:`output_set`: the files are written straight into ``folder``.
    """
    from pyogrio.errors import DataLayerError, DataSourceError

    from .errors import first_line

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    styles = styles or {}
    table = []
    for name, gdf in layers.items():
        columns = [c for c in gdf.columns if c != gdf.geometry.name]
        short = dbf_field_names(columns, encoding)
        out = gdf.rename(columns=dict(zip(columns, short, strict=True)))
        for col in short:
            values = out[col]
            if values.dtype == object:
                long = (values.str.encode(encoding).str.len() > DBF_TEXT_BYTES).to_numpy()
                if long.any():
                    out.loc[long, col] = [_cut(v, DBF_TEXT_BYTES, encoding) for v in values[long]]
        with warnings.catch_warnings():  # GDAL measures the cut texts in UTF-8 bytes
            warnings.filterwarnings("ignore", "Value .* has been truncated to", RuntimeWarning)
            try:
                pyogrio.write_dataframe(
                    out,
                    folder / f"{name}.shp",
                    driver="ESRI Shapefile",
                    encoding=encoding,
                    DBF_DATE_LAST_UPDATE=FIXED_STAMP.strftime("%Y-%m-%d"),
                )
            except (DataSourceError, DataLayerError) as exc:  # GDAL: full disk, I/O error
                raise OSError(
                    None,
                    f"cannot write {folder / name}.shp ({first_line(exc)})",
                    str(folder / f"{name}.shp"),
                ) from exc
        table += [(name, c, s) for c, s in zip(columns, short, strict=True)]
        style = styles.get(name)
        if style is not None and (style.column is None or style.column in short):
            (folder / f"{name}.qml").write_text(style.qml, encoding="utf-8")
    return pd.DataFrame(table, columns=["图层 layer", "字段 field", "shp字段 shp_field"])


#: Names a town's file may not take: the county's and the index's, and Windows devices.
RESERVED = {
    "county",
    "index",
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def safe_stem(name) -> str:
    """A town's name made safe for a file name, still readable (``浒山街道``).

    Letters (any script), digits and ``- _ · ( ) （ ）`` are kept; anything else becomes
    ``_``. Where a character was replaced, the name is reserved (``county``, ``index``,
    ``CON`` ...), empty or has ASCII capitals (one file on a case-blind disk), a short
    hash of the original name is appended, so distinct names never share a file.
    """
    import hashlib
    import re
    import unicodedata

    text = unicodedata.normalize("NFC", "" if name is None else str(name))
    stem = re.sub(r"[^\w\-·()（）]|_", "_", text, flags=re.UNICODE).strip("_")[:60]
    if stem != text or not stem or stem.lower() in RESERVED or re.search(r"[A-Z]", stem):
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
        stem = f"{stem}-{digest}" if stem else f"town-{digest}"
    return stem
