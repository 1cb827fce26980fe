"""List + ledger + assessment (清单 + 台账 + 考评, SPEC §8) in one GeoPackage.

This module keeps the ledger file and its state as of a date (items, events,
adjustments, checks, scores, the time series of scores); it writes no other file and
reads the update sheets through :func:`zoning.layers.read_tables`. Its items come as
frames (:func:`items_of`; read from output folders by :func:`zoning.outputs.read_items`);
its report folder is :func:`zoning.outputs.write_ledger_report` (workbook
:func:`zoning.report.write_assessment`, chart :func:`zoning.figures.completion_png`,
status layer :func:`zoning.outputs.write_status_layer`).

The ledger file is a GeoPackage: layer ``items`` (every plot and workshop, with its
computed class, so QGIS shows it on the map) plus plain SQLite tables written with the
standard library: ``zoning_events`` (append-only: who, what, when, from which sheet),
``zoning_adjustments`` and ``zoning_meta`` (schema version). Writes are transactions in
WAL mode with a long busy timeout, so imports started at once wait for each other and
all land, and a killed import leaves the ledger as it was.

**The trail is tamper-evident (全过程留痕).** Items, events and adjustments each form a
hash chain: every row carries ``prev_hash`` (the hash of the row before it in id order)
and ``row_hash`` = SHA-256 of ``prev_hash``, a newline and the row's canonical text (see
:func:`canonical_row`); ``zoning_meta`` holds each chain's head (row count, last id, last
hash). :func:`verify` recomputes the chains and names the first row deleted, edited,
inserted or moved by hand. A ledger made before the chains existed is reported as such
by ``verify`` and sealed (chained as it stands) by its next import, adjustment or sync.
Anyone able to recompute SHA-256 over the whole file can forge a chain; keep the head
that ``verify`` prints (or the file itself) somewhere the ledger's users cannot write to.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ._io import register_gpkg_functions
from .errors import ZoningError
from .layers import parse_date  # noqa: F401 (also ledger.parse_date: the dates of SPEC §8)
from .vocab import (
    BLOCK_KINDS,
    CLASS_ZH,
    CLASSES_OF,
    FINAL_STATUS,
    ITEM_CLASS_ZH,
    MODE_ZH,
    OPEN_STATUSES,
    REUSE_ZH,
    STATUS_ZH,
    WORKSHOP_CLASS_ZH,
)

#: Seconds an import waits for another one holding the ledger (a large sheet takes
#: seconds; several at once queue up behind each other).
BUSY_TIMEOUT_S = 600.0

SCHEMA_VERSION = "1"
FINAL_BY_CLASS = pd.Series(FINAL_STATUS)
KIND_WORDS = {
    "parcel": "parcel",
    "地块": "parcel",
    "workshop": "workshop",
    "作坊": "workshop",
    "家庭作坊": "workshop",
    "block": "block",
    "区块": "block",
    "site": "site",
    "腾退地块": "site",
    "腾退": "site",
}
COLUMNS_ZH = {
    "类型": "kind",
    "编号": "item_id",
    "状态": "status",
    "日期": "date",
    "备注": "note",
    "填报人": "reporter",
}
REQUIRED_COLUMNS = ("kind", "item_id", "status", "date", "note")
SCHEMA = """
CREATE TABLE IF NOT EXISTS zoning_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS zoning_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, item_id TEXT NOT NULL, status TEXT NOT NULL, date TEXT NOT NULL,
    note TEXT, reporter TEXT, sheet TEXT, sheet_row INTEGER, recorded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS zoning_events_item ON zoning_events (kind, item_id, date);
CREATE TABLE IF NOT EXISTS zoning_adjustments (
    adjustment_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, item_id TEXT NOT NULL, class TEXT NOT NULL, reason TEXT NOT NULL,
    adjusted_by TEXT NOT NULL, adjusted_at TEXT NOT NULL);
"""
LEDGER_TABLES = ("items", "zoning_meta", "zoning_events", "zoning_adjustments")

CHAIN_VERSION = "zoning ledger chain 1"
#: chain -> (table, id column, fields hashed in this order; a field the table lacks,
#: e.g. ``enterprise`` of old ledgers, is left out, and the list used opens the chain)
CHAINS = {
    "item": (
        "items",
        "fid",
        (
            "fid",
            "kind",
            "item_id",
            "town",
            "enterprise",
            "industry",
            "computed_class",
            "rule",
            "reason",
            "mu",
            "official_mu",
            "floor_m2",
            "geom",
        ),
    ),
    "event": (
        "zoning_events",
        "event_id",
        (
            "event_id",
            "kind",
            "item_id",
            "status",
            "date",
            "note",
            "reporter",
            "sheet",
            "sheet_row",
            "recorded_at",
        ),
    ),
    "adjustment": (
        "zoning_adjustments",
        "adjustment_id",
        ("adjustment_id", "kind", "item_id", "class", "reason", "adjusted_by", "adjusted_at"),
    ),
}


def _canonical(value) -> str | None:
    """A cell as text: NULL stays None (JSON null, unlike ''), integers in decimal, floats
    that are whole as integers (5.0 and 5 are the same number), others by ``repr`` (the
    shortest text that reads back to the same float), blobs in hex, text as is."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


def canonical_row(chain: str, values) -> str:
    """The text a row's hash covers: the chain's name and every field in the chain's
    order, as a compact JSON array (UTF-8, no escaping of Chinese)."""
    return json.dumps([chain, *map(_canonical, values)], ensure_ascii=False, separators=(",", ":"))


def row_hash(prev: str, chain: str, values) -> str:
    """SHA-256 (hex) of the previous row's hash, a newline and the row's canonical text."""
    return hashlib.sha256(f"{prev}\n{canonical_row(chain, values)}".encode()).hexdigest()


def _chain_fields(con: sqlite3.Connection, chain: str) -> tuple[str, str, list[str]]:
    table, key, fields = CHAINS[chain]
    have = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
    return table, key, [f for f in fields if f in have]


def _genesis(chain: str, fields: list[str]) -> str:
    """The hash the first row of a chain follows: it names the fields hashed, so a
    column dropped or added by hand breaks the chain at its first row."""
    return hashlib.sha256(f"{CHAIN_VERSION}\n{chain}\n{','.join(fields)}".encode()).hexdigest()


def _head(con: sqlite3.Connection, chain: str) -> tuple[int, int | None, str] | None:
    """(rows, last id, last hash) as recorded in zoning_meta, None if never chained."""
    row = con.execute("SELECT value FROM zoning_meta WHERE key = ?", (f"chain_{chain}",)).fetchone()
    if row is None:
        return None
    try:
        count, last, digest = str(row[0]).split(" ")
        return int(count), None if last == "-" else int(last), digest
    except ValueError:
        return -1, None, ""


def _set_head(
    con: sqlite3.Connection, chain: str, count: int, last: int | None, digest: str
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO zoning_meta VALUES (?, ?)",
        (f"chain_{chain}", f"{count} {'-' if last is None else last} {digest}"),
    )


def is_chained(con: sqlite3.Connection) -> bool:
    """Whether the ledger's events are hash-chained (a head is recorded)."""
    return _head(con, "event") is not None


def _rechain(con: sqlite3.Connection, chain: str) -> None:
    """(Re)compute a whole chain in id order and record its head (inside a write
    transaction). Used when sealing a ledger and by ``sync`` for the items it updates."""
    table, key, fields = _chain_fields(con, chain)
    have = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
    for column in ("prev_hash", "row_hash"):
        if column not in have:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN {column} TEXT')
    prev = _genesis(chain, fields)
    updates, last, count = [], None, 0
    cols = ", ".join(f'"{f}"' for f in fields)
    for values in con.execute(f'SELECT {cols} FROM "{table}" ORDER BY "{key}"'):
        digest = row_hash(prev, chain, values)
        last = values[0]
        updates.append((prev, digest, last))
        prev, count = digest, count + 1
    con.executemany(f'UPDATE "{table}" SET prev_hash = ?, row_hash = ? WHERE "{key}" = ?', updates)
    _set_head(con, chain, count, last, prev)


def _seal(con: sqlite3.Connection) -> None:
    """Chain a ledger made before the chains existed, as it stands (noted in meta)."""
    for chain in CHAINS:
        _rechain(con, chain)
    con.execute("INSERT OR REPLACE INTO zoning_meta VALUES ('chain_sealed', ?)", (now(),))


def check_chain(con: sqlite3.Connection, chain: str) -> str | None:
    """The first broken row of a chain as one sentence, None when the chain holds."""
    table, key, fields = _chain_fields(con, chain)
    head = _head(con, chain)
    if head is None:
        return f"{chain}s: no hash chain"
    count, head_last, head_hash = head
    expected = _genesis(chain, fields)
    cols = ", ".join(f'"{f}"' for f in fields)
    previous_id, seen, reached = None, 0, head_last is None
    for *values, prev, stored in con.execute(
        f'SELECT {cols}, prev_hash, row_hash FROM "{table}" ORDER BY "{key}"'
    ):
        this = values[0]
        after = f"after {chain} {previous_id}" if previous_id is not None else "first"
        if reached:
            return (
                f"{chain} {this}: added after the last {chain} zoning recorded "
                f"({head_last if head_last is not None else 'none'}); not written by "
                "zoning"
            )
        if stored is None or prev is None:
            return f"{chain} {this}: has no hash (inserted by hand, not by zoning)"
        if row_hash(prev, chain, values) != stored:
            return f"{chain} {this}: its content does not match its hash (edited by hand)"
        if prev != expected:
            return (
                f"{chain} {this}: does not follow the row before it ({after}): a {chain} "
                "was deleted, inserted or moved by hand"
            )
        expected, previous_id, seen = stored, this, seen + 1
        if this == head_last:
            if stored != head_hash or seen != count:
                return (
                    f"{chain} {this}: the chain head in zoning_meta does not match "
                    f"({count} rows recorded, {seen} found): rows deleted, or the head "
                    "edited by hand"
                )
            reached = True
    if not reached:
        return (
            f"{chain} {head_last}: missing (the last {chain} zoning recorded was deleted by hand)"
        )
    return None


def chain_heads(ledger) -> dict[str, str]:
    """Each chain's head as recorded (rows, last id, hash): what to keep elsewhere to
    prove later that the ledger was not rebuilt."""
    with connect(ledger) as con:
        return {chain: " ".join(map(str, _head(con, chain) or ())) for chain in CHAINS}


def _check_tail(con: sqlite3.Connection, chain: str, ledger) -> tuple[int, str]:
    """Before appending: the chain's last row must be the head recorded (cheap: one row).
    Returns (next id, hash to follow); a broken tail refuses the write."""
    table, key, fields = _chain_fields(con, chain)
    count, head_last, head_hash = _head(con, chain) or (-1, None, "")
    cols = ", ".join(f'"{f}"' for f in fields)
    last = con.execute(
        f'SELECT {cols}, prev_hash, row_hash FROM "{table}" ORDER BY "{key}" DESC LIMIT 1'
    ).fetchone()
    if last is None:
        ok = count == 0 and head_last is None and head_hash == _genesis(chain, fields)
    else:
        *values, prev, stored = last
        ok = (
            values[0] == head_last
            and stored == head_hash
            and prev is not None
            and row_hash(prev, chain, values) == head_hash
        )
    if not ok:
        raise ZoningError(
            f"{ledger}: its {chain}s fail their hash check; nothing written "
            "(zoning ledger verify names the row)"
        )
    return (0 if last is None else int(last[0])) + 1, head_hash


def _append(con: sqlite3.Connection, chain: str, rows: list[tuple], ledger) -> None:
    """Insert rows (all fields but the id, in the chain's order) at the end of a chain."""
    if not rows:
        return
    table, key, fields = _chain_fields(con, chain)
    next_id, prev = _check_tail(con, chain, ledger)
    head = _head(con, chain)
    assert head is not None  # _check_tail refuses a chain never made
    count = head[0]
    out = []
    for i, row in enumerate(rows, start=next_id):
        values = (i, *row)
        digest = row_hash(prev, chain, values)
        out.append((*values, prev, digest))
        prev = digest
    cols = ", ".join(f'"{f}"' for f in fields)
    marks = ", ".join("?" * (len(fields) + 2))
    con.executemany(f'INSERT INTO "{table}" ({cols}, prev_hash, row_hash) VALUES ({marks})', out)
    _set_head(con, chain, count + len(rows), next_id + len(rows) - 1, prev)


def check_ledger(path: str | os.PathLike) -> Path:
    """``path`` if it is a ledger; otherwise one clear ZoningError (a folder, a text file,
    an empty file, a GeoPackage without the ledger's tables)."""
    path = Path(path)
    if not path.exists():
        raise ZoningError(f"{path}: no such ledger (create it with zoning ledger init)")
    if path.is_dir():
        raise ZoningError(f"{path}: is a folder, not a ledger (give the ledger .gpkg file)")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise ZoningError(f"{path}: not a ledger (not a GeoPackage/SQLite file: {exc})") from None
    missing = [t for t in LEDGER_TABLES if t not in tables]
    if missing:
        what = "an empty file" if not tables else "a GeoPackage/SQLite file"
        raise ZoningError(
            f"{path}: not a ledger ({what} without the ledger's tables "
            f"{', '.join(missing)}; create one with zoning ledger init)"
        )
    return path


@contextlib.contextmanager
def connect(path: str | os.PathLike, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection in WAL mode with a long busy timeout; ``write`` takes the write lock at
    once (BEGIN IMMEDIATE: imports queue up instead of failing), seals a ledger made
    before the hash chains, and commits on success, rolls back on any error."""
    path = check_ledger(path)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    register_gpkg_functions(con)
    try:
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")  # WAL: set by init
        if write:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise ZoningError(
                    f"{path}: the ledger stayed busy for {BUSY_TIMEOUT_S:.0f} s "
                    f"({exc}); try again when the other import is done"
                ) from None
            if not is_chained(con):
                _seal(con)
        yield con
        if write:
            con.execute("COMMIT")
    except BaseException:
        if write and con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def items_of(
    parcels: gpd.GeoDataFrame | None,
    workshops: gpd.GeoDataFrame | None = None,
    crs=None,
    blocks: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The SPEC §8 items of a classification's plots and/or workshops (frames as
    :func:`zoning.outputs.read_items` reads them from their folders), in the plots' CRS,
    else ``crs``: plots by their centroid, workshops by their point. With the layers of
    a ``zoning blocks`` output (SPEC §11), its ``blocks`` (kind ``block``, class = mode)
    and ``sites`` (freed sites: kind ``site``, class = reuse) too, each at a point
    inside it, with its mu."""
    parts = []
    if parcels is not None:
        p = parcels
        crs = p.crs
        parts.append(
            gpd.GeoDataFrame(
                {
                    "kind": "parcel",
                    "item_id": p["parcel_id"].astype(str),
                    "town": p["town"].fillna("").astype(str) if "town" in p else "",
                    "enterprise": p["enterprise"].fillna("").astype(str)
                    if "enterprise" in p
                    else "",
                    "industry": "",
                    **_passed(p),
                    "computed_class": p["class"].astype(str),
                    "rule": p["rule"].fillna("").astype(str),
                    "reason": p["reason"].fillna("").astype(str),
                    "mu": p["area_mu"].astype(float).fillna(0.0),
                    "official_mu": (
                        pd.to_numeric(p["official_area_m2"], errors="coerce") * 15 / 10000
                        if "official_area_m2" in p
                        else np.nan
                    ),  # SPEC §3 (TBMJ)
                    "floor_m2": np.nan,
                },
                geometry=p.geometry.centroid,
                crs=p.crs,
            )
        )
    if workshops is not None:
        w = workshops.to_crs(crs) if crs is not None else workshops
        parts.append(
            gpd.GeoDataFrame(
                {
                    "kind": "workshop",
                    "item_id": w["workshop_id"].astype(str),
                    "town": w["town"].fillna("").astype(str),
                    "enterprise": "",
                    **_passed(w),
                    "industry": w["industry"].fillna("").astype(str) if "industry" in w else "",
                    "computed_class": w["class"].astype(str),
                    "rule": "",
                    "reason": w["reason"].fillna("").astype(str),
                    "mu": np.nan,
                    "official_mu": np.nan,
                    "floor_m2": pd.to_numeric(w["floor_area_m2"], errors="coerce"),
                },
                geometry=w.geometry,
                crs=w.crs,
            )
        )
    for kind, frame, key, word in (
        ("block", blocks, "block_id", "mode"),
        ("site", sites, "site_id", "reuse"),
    ):
        if frame is None:
            continue
        f = frame.to_crs(crs) if crs is not None and frame.crs is not None else frame
        crs = crs if crs is not None else f.crs
        parts.append(
            gpd.GeoDataFrame(
                {
                    "kind": kind,
                    "item_id": f[key].astype(str),
                    "town": f["town"].fillna("").astype(str),
                    "enterprise": "",
                    "industry": "",
                    **_passed(f),
                    "computed_class": f[word].astype(str),
                    "rule": f["rule"].fillna("").astype(str),
                    "reason": f["reason"].fillna("").astype(str),
                    "mu": pd.to_numeric(f["mu"], errors="coerce").fillna(0.0),
                    "official_mu": np.nan,
                    "floor_m2": np.nan,
                },
                geometry=f.geometry.representative_point(),
                crs=f.crs,
            )
        )
    if not parts:
        raise ZoningError("no items: give a classification (--from) or workshops (--workshops)")
    items = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(items, geometry="geometry", crs=parts[0].crs)


#: Item fields passed through from a plot's or workshop's attributes to the 清单: the
#: village, and the deadline (整改期限) and person responsible (责任人) where the data
#: carry them (a [fields] renaming maps a town sheet's 整改期限 / 责任人 to these).
PASSED = ("village", "deadline", "responsible")


def _passed(frame: pd.DataFrame) -> dict:
    return {c: frame[c].fillna("").astype(str) if c in frame else "" for c in PASSED}


def check_new(ledger: str | os.PathLike) -> Path:
    """``ledger`` as a path where a new ledger may be made (never over an existing one)."""
    ledger = Path(ledger)
    if ledger.exists():
        raise ZoningError(
            f"{ledger}: exists already (a ledger is never overwritten; use "
            "zoning ledger sync for a new classification)"
        )
    return ledger


def init(ledger: str | os.PathLike, items: gpd.GeoDataFrame, *, styles: dict | None = None) -> int:
    """Create a ledger listing every item (:func:`items_of`), status pending (no events
    yet); :func:`zoning.outputs.init_ledger` reads them from output folders and gives
    the ``items`` layer its style (``styles``: layer name -> style, as ``write_layers``)."""
    from ._io import write_styles

    ledger = check_new(ledger)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    tmp = ledger.with_name(f".{ledger.stem}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        pyogrio.write_dataframe(items, tmp, layer="items", driver="GPKG")
        if styles:
            write_styles(tmp, styles)  # QGIS opens it coloured
        con = sqlite3.connect(tmp)
        register_gpkg_functions(con)
        with con:
            con.executescript(SCHEMA)
            con.execute("INSERT INTO zoning_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            con.execute("INSERT INTO zoning_meta VALUES ('created', ?)", (now(),))
            for chain in CHAINS:
                _rechain(con, chain)
        # WAL is a property of the file: set it here, once, not by every connection
        # (two imports switching it at the same moment would lock each other out)
        con.execute("PRAGMA journal_mode = WAL")
        con.close()
        os.replace(tmp, ledger)
    finally:
        tmp.unlink(missing_ok=True)
    return len(items)


def now() -> str:
    """The time a row is written (UTC, microseconds: orders an adjustment and an import
    made in the same second)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _read_items(con: sqlite3.Connection) -> pd.DataFrame:
    have = {row[1] for row in con.execute("PRAGMA table_info(items)")}
    extra = "".join(
        f", {c}"
        for c in ("enterprise", "official_mu", "reason", "industry", *PASSED)
        # older ledgers lack
        if c in have
    )  # these columns
    return pd.read_sql(
        f"SELECT kind, item_id, town{extra}, computed_class, mu, floor_m2 FROM items",
        con,
        dtype={"item_id": str},
    )


def load_state(con: sqlite3.Connection) -> pd.DataFrame:
    """Items (indexed by kind, item_id) with their class as adjusted and the date of their
    latest event (NaN if none): what an import checks its rows against."""
    state = state_on(*read_history(con), "9999-12-31").set_index(["kind", "item_id"])
    state["last_date"] = state["last_event"].replace("", np.nan)
    return state


HEADER_HINT = "kind/类型, item_id/编号, status/状态, date/日期, note/备注"


def read_sheets(
    path: str | os.PathLike, config=None
) -> tuple[list[tuple[str, pd.DataFrame]], list[str]]:
    """An update sheet (CSV, or every sheet of a workbook) with canonical column names,
    every cell as text ('NA', 'None', 'null' stay text), read by the one table reader
    (:func:`zoning.layers.read_tables`: UTF-8 or GBK CSV, ``[encoding] updates``,
    ``[fields.updates]``, title rows above the header skipped).

    Returns the tables to import as (sheet name, frame), in workbook order, and the names
    of the workbook's other sheets that hold cells but no header row: a town that puts
    rows on a second sheet gets them read when the sheet has the header, and is told
    which sheet was not read otherwise. A file whose sheets all lack the header is an
    error. A frame's ``attrs['sheet_rows']`` give each row's row in the sheet."""
    from .layers import read_tables

    path = Path(path)
    if not path.exists():
        raise ZoningError(f"{path}: sheet not found")
    book = read_tables(path, "updates", config=config, keys=("kind", "item_id"), rename=COLUMNS_ZH)
    tables, unread, first_missing = [], [], None
    for name, frame, _ in book:
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if not missing:
            if "reporter" not in frame:
                frame["reporter"] = ""
            tables.append((str(name), frame))
            continue
        if len(frame) > 0 or len(frame.columns) > 0:
            unread.append(str(name))
            if first_missing is None:
                where = f" sheet {name!r}" if name else ""
                first_missing = (
                    f"{path}{where}: missing column(s) {missing} "
                    f"(has {list(frame.columns)} in row "
                    f"{frame.attrs.get('header_row', 1)}); name them "
                    f"{HEADER_HINT} or map yours in [fields.updates]"
                )
    if not tables:
        raise ZoningError(first_missing or f"{path}: no sheet with the header ({HEADER_HINT})")
    return tables, unread


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


ALREADY = "already recorded"


def both(zh: str, en: str) -> str:
    """A rejection reason, Chinese first with the English in brackets (as issues.csv)."""
    return f"{zh}（{en}）"


def check_row(
    kind,
    item,
    status,
    raw: dict,
    date,
    classes: dict,
    recorded: set,
    last: dict,
    today: str,
    last_status: dict | None = None,
) -> str | None:
    """The SPEC §8 checks in their order: None to accept, ALREADY, or the rejection reason
    (Chinese, then the English in brackets).

    ``classes``: (kind, item_id) -> class in force (adjusted); ``last``: -> date of the
    latest event; ``last_status``: -> status of the latest event."""
    if kind is None or (kind, item) not in classes:
        return both("类型或编号不在台账中", "unknown kind or item")
    if date is None:
        text = raw.get("date", "")
        if not text:
            return both("日期为空", "not a date")
        year = text.isascii() and text.isdigit() and len(text) == 4
        return both(
            f"日期 {text!r} 不是日期" + ("，只有年份不算日期" if year else ""),
            f"date {text!r} is not a date" + (" (a year alone is not a date)" if year else ""),
        )
    if date > today:
        return both(
            f"日期 {date} 晚于导入日 {today}", f"date {date} is after the import day {today}"
        )
    if status is not None and (kind, item, status, date) in recorded:
        return ALREADY
    cls = classes[(kind, item)]
    allowed = {*OPEN_STATUSES, FINAL_STATUS.get((kind, cls), "")} - {""}
    if status not in allowed:
        names = ITEM_CLASS_ZH
        return both(
            f"状态 {raw['status']!r} 与分类“{names.get(cls, cls)}”不符，可填："
            + "、".join(STATUS_ZH[s] for s in sorted(allowed)),
            f"status {raw['status']!r} does not fit class {cls} "
            f"(allowed: {', '.join(sorted(allowed))})",
        )
    previous = last.get((kind, item))
    if isinstance(previous, str) and date < previous:
        return both(
            f"日期 {date} 早于该条目最近一次记录的日期 {previous}",
            f"date {date} is earlier than the item's latest event {previous}",
        )
    if status not in OPEN_STATUSES and not raw["note"]:
        return both("设为完成状态须填写备注（验收依据）", "a final status needs a note")
    latest = (last_status or {}).get((kind, item), "pending")
    if status in OPEN_STATUSES and latest not in OPEN_STATUSES and not raw["note"]:
        return both(
            f"重新打开已完成（{STATUS_ZH.get(latest, latest)}）的条目须在备注中写明原因",
            f"reopening an item whose latest status is final ({latest}) needs a note (the reason)",
        )
    return None


@dataclass
class ImportReport:
    """What an import did: rows accepted, rows already recorded, rows rejected (why)."""

    accepted: int
    already: int
    rejected: pd.DataFrame  # [sheet,] row, kind, item_id, status, date, reason


def _ascii_digits(text: str) -> bool:
    """Digits 0-9 only: '²', '٣' and other Unicode digits are text, compared exactly."""
    return text.isascii() and text.isdigit()


def import_sheet(ledger, sheet_path, today: str | None = None, config=None) -> ImportReport:
    """Apply a town's update sheet as SPEC §8 says: rows checked in order against the
    ledger plus the rows accepted above them; accepted rows committed all at once.

    A workbook's sheets that have the header are read in workbook order (rows are named
    by sheet and row); a sheet with cells but no header is listed among the rejected,
    not skipped silently. Notes are kept whole, however long. Rows are named by their
    row in the sheet (the header is row 1 when nothing stands above it). ``config``:
    ``[encoding] updates`` and ``[fields.updates]``."""
    check_ledger(ledger)
    tables, unread = read_sheets(sheet_path, config)
    today = today or dt.date.today().isoformat()
    name = Path(sheet_path).name
    several = len(tables) > 1 or bool(unread)
    rejected, accepted = [], []
    for sheet_name in unread:
        rejected.append(
            {
                "sheet": sheet_name,
                "row": 1,
                "kind": "",
                "item_id": "",
                "status": "",
                "date": "",
                "reason": both(
                    f"工作表 {sheet_name!r} 没有表头（{HEADER_HINT}），其中各行未读取",
                    f"sheet {sheet_name!r} has no header row "
                    f"({HEADER_HINT}): its rows were not read",
                ),
            }
        )
    already = 0
    status_words = {**{s: s for s in STATUS_ZH}, **{v: k for k, v in STATUS_ZH.items()}}
    with connect(ledger, write=True) as con:
        state = load_state(con)
        recorded = set(
            map(
                tuple,
                pd.read_sql(
                    "SELECT kind, item_id, status, date FROM zoning_events",
                    con,
                    dtype={"item_id": str},
                ).itertuples(index=False, name=None),
            )
        )
        classes = state["class"].to_dict()
        digits: dict[
            tuple, list[str]
        ] = {}  # ids Excel turned into numbers: '7' -> '007' when unambiguous
        for kind, item_id in classes:
            if _ascii_digits(item_id):
                digits.setdefault((kind, str(int(item_id))), []).append(item_id)
        last = state["last_date"].to_dict()
        last_status = state["status"].to_dict()
        for sheet_name, sheet in tables:
            source = f"{name}!{sheet_name}" if several else name
            for i, row in zip(
                sheet.attrs["sheet_rows"], sheet.itertuples(index=False), strict=True
            ):
                raw = {
                    k: _text(getattr(row, k))
                    for k in ("kind", "item_id", "status", "note", "reporter", "date")
                }
                kind = KIND_WORDS.get(raw["kind"].lower(), KIND_WORDS.get(raw["kind"]))
                item = raw["item_id"]
                if kind is not None and (kind, item) not in classes and _ascii_digits(item):
                    match = digits.get((kind, str(int(item))), [])
                    item = match[0] if len(match) == 1 else item
                status = status_words.get(raw["status"].lower(), status_words.get(raw["status"]))
                date = parse_date(row.date)
                verdict = check_row(
                    kind, item, status, raw, date, classes, recorded, last, today, last_status
                )
                if verdict == ALREADY:
                    already += 1
                elif verdict:
                    rejected.append(
                        {
                            "sheet": sheet_name,
                            "row": i,
                            "kind": raw["kind"],
                            "item_id": raw["item_id"],
                            "status": raw["status"],
                            "date": date or _text(row.date),
                            "reason": verdict,
                        }
                    )
                else:
                    assert date is not None  # check_row accepts no row without a date
                    accepted.append(
                        (kind, item, status, date, raw["note"], raw["reporter"], source, i, now())
                    )
                    recorded.add((kind, item, status, date))
                    previous = last.get((kind, item))
                    last[(kind, item)] = max(previous, date) if isinstance(previous, str) else date
                    last_status[(kind, item)] = status
        _append(con, "event", accepted, ledger)
    columns = ["sheet", "row", "kind", "item_id", "status", "date", "reason"]
    rejected_frame = pd.DataFrame(rejected, columns=columns)
    if not several:
        rejected_frame = rejected_frame.drop(columns="sheet")
    return ImportReport(len(accepted), already, rejected_frame)


NOT_CHAINED = (
    "no hash chain: the ledger was made before zoning chained its rows, so its "
    "history cannot be proved; its next import, adjust or sync seals it as it "
    "stands"
)


def verify(ledger) -> list[str]:
    """Integrity problems, one sentence each (empty list when the ledger is sound).

    First the hash chains (the first row of each chain deleted, edited, inserted or moved
    by hand); when they hold, the events against SPEC §8: known items, statuses that fit
    the class in force when the event was recorded (an adjustment made after a final
    event does not make that event wrong), dates in order per item."""
    with connect(ledger) as con:
        version = con.execute("SELECT value FROM zoning_meta WHERE key='schema_version'").fetchone()
        if not is_chained(con):
            return [NOT_CHAINED]
        broken = [problem for chain in CHAINS if (problem := check_chain(con, chain))]
        if broken:
            return broken
        problems = []
        if not version or version[0] != SCHEMA_VERSION:
            problems.append(f"schema version {version and version[0]!r}, want {SCHEMA_VERSION}")
        state = load_state(con)
        events = pd.read_sql(
            "SELECT * FROM zoning_events ORDER BY event_id", con, dtype={"item_id": str}
        )
        adjustments = pd.read_sql(
            "SELECT kind, item_id, class, adjusted_at FROM "
            "zoning_adjustments ORDER BY adjustment_id",
            con,
            dtype={"item_id": str},
        )
    if events.empty:
        return problems
    key = list(zip(events["kind"], events["item_id"], strict=True))
    known = pd.Index(key).isin(state.index)
    for e in events[~known].itertuples():
        problems.append(f"event {e.event_id}: unknown item {e.kind} {e.item_id}")
    ev = events[known].copy()
    ev["computed"] = (
        state["computed_class"]
        .reindex(pd.MultiIndex.from_frame(ev[["kind", "item_id"]]))
        .to_numpy()
    )
    ev["class_then"] = _class_when_recorded(ev, adjustments)
    final_then = FINAL_BY_CLASS.reindex(
        pd.MultiIndex.from_arrays([ev["kind"], ev["class_then"]])
    ).to_numpy()
    final_computed = FINAL_BY_CLASS.reindex(
        pd.MultiIndex.from_arrays([ev["kind"], ev["computed"]])
    ).to_numpy()
    status = ev["status"].to_numpy()
    fits = (
        ev["status"].isin(OPEN_STATUSES).to_numpy()
        | (status == final_then)
        | (status == final_computed)
    )
    for e in ev[~fits].itertuples():
        problems.append(
            f"event {e.event_id}: status {e.status} does not fit the class of "
            f"{e.kind} {e.item_id} ({e.class_then}) when it was recorded"
        )
    back = ev.groupby(["kind", "item_id"])["date"].transform(lambda d: d < d.cummax())
    for e in ev[back].itertuples():
        problems.append(
            f"event {e.event_id}: {e.kind} {e.item_id} dated {e.date}, before an "
            "earlier event of the item"
        )
    return problems


def _when(stamps: pd.Series) -> pd.Series:
    """Recording times as UTC timestamps (unreadable ones: the far future)."""
    t = pd.to_datetime(stamps, utc=True, format="ISO8601", errors="coerce")
    return t.fillna(pd.Timestamp("2262-01-01", tz="UTC"))


def _class_when_recorded(events: pd.DataFrame, adjustments: pd.DataFrame) -> np.ndarray:
    """Per event (aligned): the item's class when the event was recorded, i.e. its latest
    adjustment made before then, else its computed class."""
    left = events[["kind", "item_id"]].assign(
        t=_when(events["recorded_at"]).to_numpy(), order=np.arange(len(events))
    )
    if adjustments.empty:
        return events["computed"].to_numpy()
    right = adjustments[["kind", "item_id", "class"]].assign(
        t=_when(adjustments["adjusted_at"]).to_numpy()
    )
    merged = pd.merge_asof(
        left.sort_values("t", kind="stable"),
        right.sort_values("t", kind="stable"),
        on="t",
        by=["kind", "item_id"],
        direction="backward",
    )
    merged = merged.sort_values("order")
    return (
        merged["class"]
        .fillna(pd.Series(events["computed"].to_numpy(), index=merged.index))
        .to_numpy()
    )


def read_history(con: sqlite3.Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Items, adjustments (in order made) and events (by date, then as recorded)."""
    items = _read_items(con)
    adjustments = pd.read_sql(
        "SELECT kind, item_id, class, adjusted_at FROM zoning_adjustments ORDER BY adjustment_id",
        con,
        dtype={"item_id": str},
    )
    events = pd.read_sql(
        "SELECT kind, item_id, status, date, note FROM zoning_events ORDER BY date, event_id",
        con,
        dtype={"item_id": str},
    )
    return items, adjustments, events


def state_on(
    items: pd.DataFrame, adjustments: pd.DataFrame, events: pd.DataFrame, as_of: str
) -> pd.DataFrame:
    """Every item with its class (the adjusted one where one exists, SPEC §8: whatever the
    date of the adjustment, as import check (4) judges every event, earlier ones too,
    against it) and its status as of a date: that of its latest event dated on or before
    it, else pending."""
    state = items.set_index(["kind", "item_id"])
    state["class"] = state["computed_class"]
    adj = adjustments
    if len(adj):
        latest = adj.drop_duplicates(["kind", "item_id"], keep="last").set_index(
            ["kind", "item_id"]
        )["class"]
        state.loc[latest.index.intersection(state.index), "class"] = latest
    last = (
        events[events["date"] <= as_of]
        .drop_duplicates(["kind", "item_id"], keep="last")
        .set_index(["kind", "item_id"])
    )
    state["status"] = last["status"].reindex(state.index).fillna("pending")
    state["last_event"] = last["date"].reindex(state.index).fillna("")
    state["note"] = last["note"].reindex(state.index).fillna("")
    final = FINAL_BY_CLASS.reindex(
        pd.MultiIndex.from_arrays([state.index.get_level_values("kind"), state["class"]])
    ).to_numpy()
    state["final"] = state["status"].to_numpy() == final
    return state.reset_index()


def status_as_of(ledger, as_of: str) -> pd.DataFrame:
    """:func:`state_on` for a ledger file."""
    with connect(ledger) as con:
        history = read_history(con)
    return state_on(*history, as_of)


def progress_table(state: pd.DataFrame) -> pd.DataFrame:
    """Items, mu and floor m² per town, kind, class and status (combinations that occur);
    with a survey's official area (SPEC §3), its mu beside the planar mu."""
    keys = ["town", "kind", "class", "status"]
    g = state.groupby(keys, sort=True).agg(
        items=("item_id", "size"), mu=("mu", "sum"), floor_m2=("floor_m2", "sum")
    )
    if "official_mu" in state and state["official_mu"].notna().any():
        official = state.groupby(keys, sort=True)["official_mu"].sum(min_count=1)
        g.insert(2, "official_mu", official.round(2))
    g["mu"] = g["mu"].round(2)
    g["floor_m2"] = g["floor_m2"].round(1)
    return g.reset_index()


def town_scores(state: pd.DataFrame, weights: dict | None = None) -> pd.DataFrame:
    """Town score (SPEC §8): 100 × weighted share made final; ranked, ties by name. Its
    parts beside it: ``plot_points`` + ``workshop_points`` = ``score``, from ``plot_mu``,
    ``plot_mu_final``, ``plot_share``, ``workshops``, ``workshops_final``, ``workshop_share``.

    ``weights``: {"parcel": w1, "workshop": w2}; default from the packaged [assessment].
    A ledger that lists blocks and freed sites (SPEC §11) also gets ``block_points``,
    ``block_mu``, ``block_mu_final``, ``block_share`` and the same for ``site``: the share
    of their mu renovated / reused, weighted by ``weights["block"]`` and
    ``weights["site"]`` (default [assessment] ``block_weight``, ``site_weight``: 0, so
    they are shown and the score does not move).
    """
    if weights is None:
        from .config import Config

        a = Config().assessment
        weights = {"parcel": a["parcel_weight"], "workshop": a["workshop_weight"]}
    extra = [k for k in BLOCK_KINDS if (state["kind"] == k).any()]
    if extra:
        return _scores_with_blocks(state, weights, extra)
    parcel = (state["kind"] == "parcel").to_numpy()
    workshop = (state["kind"] == "workshop").to_numpy()
    final = state["final"].to_numpy(dtype=bool)
    mu = np.where(
        parcel & (state["class"] != "unclassified").to_numpy(),
        state["mu"].fillna(0.0).to_numpy(dtype=float),
        0.0,
    )
    g = (
        pd.DataFrame(
            {
                "town": state["town"].to_numpy(),
                "mu": mu,
                "mu_final": mu * final,
                "workshops": workshop,
                "workshops_final": workshop & final,
            }
        )
        .groupby("town", sort=True)
        .sum()
    )
    has_p, has_w = g["mu"] > 0, g["workshops"] > 0
    share_p = (g["mu_final"] / g["mu"].where(has_p)).fillna(0.0)
    share_w = (g["workshops_final"] / g["workshops"].where(has_w)).fillna(0.0)
    total = weights["parcel"] * has_p + weights["workshop"] * has_w
    num = weights["parcel"] * share_p * has_p + weights["workshop"] * share_w * has_w
    score = (100 * num / total.where(total > 0)).fillna(0.0)
    parts = (100 * weights["parcel"] * share_p * has_p / total.where(total > 0)).fillna(0.0)
    out = pd.DataFrame(
        {
            "town": g.index.to_numpy(),
            "score": score.to_numpy(dtype=float),
            "plot_points": parts.to_numpy(dtype=float),  # score = the two points
            "workshop_points": (score - parts).to_numpy(dtype=float),
            "plot_mu": g["mu"].to_numpy(),
            "plot_mu_final": g["mu_final"].to_numpy(),
            "plot_share": share_p.where(has_p).to_numpy(dtype=float),
            "workshops": g["workshops"].to_numpy(dtype=int),
            "workshops_final": g["workshops_final"].to_numpy(dtype=int),
            "workshop_share": share_w.where(has_w).to_numpy(dtype=float),
        }
    )
    out = out.sort_values(["score", "town"], ascending=[False, True], kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    out["score"] = out["score"].round(4)
    out = out[["town", "score", "rank", *out.columns.drop(["town", "score", "rank"])]]
    return out.reset_index(drop=True)


def _scores_with_blocks(state: pd.DataFrame, weights: dict, extra: list) -> pd.DataFrame:
    """:func:`town_scores` of a ledger that lists blocks and/or freed sites (``extra``):
    each kind is one more part, by the share of its mu made final (weight 0 by
    default: with the default weights the score equals that of plots and workshops)."""
    from .config import DEFAULTS

    base = town_scores(state[~state["kind"].isin(extra)], weights)
    final = state["final"].to_numpy(dtype=bool)
    mu_all = state["mu"].fillna(0.0).to_numpy(dtype=float)
    parts = {}
    for kind in extra:
        hit = (state["kind"] == kind).to_numpy()
        g = (
            pd.DataFrame(
                {
                    "town": state["town"].to_numpy(),
                    "mu": np.where(hit, mu_all, 0.0),
                    "final": np.where(hit & final, mu_all, 0.0),
                }
            )
            .groupby("town", sort=True)
            .sum()
        )
        parts[kind] = g
    towns = sorted(set(state["town"]))
    base = base.set_index("town").reindex(towns)
    w = {
        "parcel": weights["parcel"],
        "workshop": weights["workshop"],
        **{k: weights.get(k, DEFAULTS["assessment"][f"{k}_weight"]) for k in extra},
    }
    has_p = base["plot_mu"].fillna(0.0) > 0
    has_w = base["workshops"].fillna(0).astype(int) > 0
    share_p = base["plot_share"].fillna(0.0)
    share_w = base["workshop_share"].fillna(0.0)
    total = w["parcel"] * has_p + w["workshop"] * has_w
    num = w["parcel"] * share_p * has_p + w["workshop"] * share_w * has_w
    shares, has = {}, {}
    for kind in extra:
        g = parts[kind].reindex(towns, fill_value=0.0)
        has[kind] = g["mu"] > 0
        shares[kind] = (g["final"] / g["mu"].where(has[kind])).fillna(0.0)
        total = total + w[kind] * has[kind]
        num = num + w[kind] * shares[kind] * has[kind]
    score = (100 * num / total.where(total > 0)).fillna(0.0)
    points = {
        k: (100 * w[k] * shares[k] * has[k] / total.where(total > 0)).fillna(0.0) for k in extra
    }
    plot_points = (100 * w["parcel"] * share_p * has_p / total.where(total > 0)).fillna(0.0)
    out = pd.DataFrame(
        {
            "town": towns,
            "score": score.to_numpy(dtype=float),
            "plot_points": plot_points.to_numpy(dtype=float),
            "workshop_points": (score - plot_points - sum(points.values())).to_numpy(dtype=float),
        }
    )
    for kind in extra:
        out[f"{kind}_points"] = points[kind].to_numpy(dtype=float)
    for col in (
        "plot_mu",
        "plot_mu_final",
        "plot_share",
        "workshops",
        "workshops_final",
        "workshop_share",
    ):
        out[col] = base[col].to_numpy()
    for col in ("plot_mu", "plot_mu_final"):
        out[col] = out[col].fillna(0.0)
    for col in ("workshops", "workshops_final"):
        out[col] = out[col].fillna(0).astype(int)
    for kind in extra:
        g = parts[kind].reindex(towns, fill_value=0.0)
        out[f"{kind}_mu"] = g["mu"].to_numpy(dtype=float)
        out[f"{kind}_mu_final"] = g["final"].to_numpy(dtype=float)
        out[f"{kind}_share"] = shares[kind].where(has[kind]).to_numpy(dtype=float)
    out = out.sort_values(["score", "town"], ascending=[False, True], kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    out["score"] = out["score"].round(4)
    out = out[["town", "score", "rank", *out.columns.drop(["town", "score", "rank"])]]
    return out.reset_index(drop=True)


def adjust(ledger, kind: str, item_id: str, cls: str, reason: str, by: str) -> tuple[str, str]:
    """Override an item's class (kept beside the computed one; it governs statuses).
    Kinds and classes are accepted by their Chinese names too (地块/作坊, 保留提升 …)."""
    check_ledger(ledger)
    kind = KIND_WORDS.get(str(kind).strip().lower(), KIND_WORDS.get(str(kind).strip(), kind))
    if kind not in CLASSES_OF:
        raise ZoningError(
            f"unknown kind {kind!r} (parcel/地块, workshop/作坊, block/区块 or site/腾退地块)"
        )
    names = {"parcel": CLASS_ZH, "workshop": WORKSHOP_CLASS_ZH, "block": MODE_ZH, "site": REUSE_ZH}[
        kind
    ]
    words = {v: k for k, v in names.items()}
    cls = str(cls).strip()
    cls = words.get(cls, cls.lower())
    if cls not in CLASSES_OF[kind] or cls == "unclassified":
        raise ZoningError(
            f"class {cls!r} is not a {kind} class "
            + "("
            + ", ".join(f"{c}/{names[c]}" for c in CLASSES_OF[kind] if c != "unclassified")
            + ")"
        )
    if not reason.strip() or not by.strip():
        raise ZoningError("an adjustment needs a reason and a name")
    with connect(ledger, write=True) as con:
        found = con.execute(
            "SELECT 1 FROM items WHERE kind = ? AND item_id = ?", (kind, item_id)
        ).fetchone()
        if not found:
            raise ZoningError(f"{ledger}: no {kind} {item_id!r} in the ledger")
        _append(con, "adjustment", [(kind, item_id, cls, reason, by, now())], ledger)
    return kind, cls


def check_sync(ledger, kinds) -> str:
    """Refuse a sync before anything is read: not a ledger, no kind given, or a broken
    item chain. Returns the CRS of the ledger's items (new items are read in it)."""
    check_ledger(ledger)
    if not kinds:
        raise ZoningError("sync needs a classification (--from) or workshops (--workshops)")
    with connect(ledger) as con:
        problem = check_chain(con, "item") if is_chained(con) else None
        if problem:
            raise ZoningError(f"{ledger}: {problem}; nothing synced (see zoning ledger verify)")
    return pyogrio.read_info(ledger, layer="items")["crs"]


def sync(ledger, new: gpd.GeoDataFrame, kinds) -> pd.DataFrame:
    """Take the items of a new classification and/or workshops output (:func:`items_of`
    of the ``kinds`` given; :func:`zoning.outputs.sync_ledger` reads them from folders):
    add new items, update computed classes, never touch events or adjustments. Only the
    kinds given are compared (no workshops: the workshop items are left alone, and the
    other way round). Returns the items to review (computed class changed, or gone)."""
    crs = check_sync(ledger, kinds)
    with connect(ledger) as con:
        old = pd.read_sql(
            "SELECT kind, item_id, town, computed_class FROM items", con, dtype={"item_id": str}
        )
    old = old[old["kind"].isin(kinds)]
    key_new = pd.MultiIndex.from_frame(new[["kind", "item_id"]])
    key_old = pd.MultiIndex.from_frame(old[["kind", "item_id"]])
    added = new[~key_new.isin(key_old)]
    if len(added):  # GDAL appends the features (geometry, spatial index) first
        added = added[
            [
                c
                for c in added.columns  # a ledger older than a field lacks it
                if c in set(pyogrio.read_info(ledger, layer="items")["fields"])
                or c == added.geometry.name
            ]
        ]
        pyogrio.write_dataframe(
            added.to_crs(crs), ledger, layer="items", driver="GPKG", append=True
        )
    merged = old.merge(
        new[["kind", "item_id", "computed_class", "rule", "reason"]],
        on=["kind", "item_id"],
        how="left",
        suffixes=("", "_new"),
    )
    changed = merged[merged["computed_class_new"].fillna("") != merged["computed_class"]]
    with connect(ledger, write=True) as con:
        con.executemany(
            "UPDATE items SET computed_class = ?, rule = ?, reason = ? WHERE kind = ? AND "
            "item_id = ?",
            [
                (r.computed_class_new, r.rule, r.reason, r.kind, r.item_id)
                for r in changed.itertuples()
                if isinstance(r.computed_class_new, str)
            ],
        )
        _rechain(con, "item")  # the items' chain covers the classes just updated
        con.execute("INSERT OR REPLACE INTO zoning_meta VALUES ('synced', ?)", (now(),))
    state = status_as_of(ledger, "9999-12-31").set_index(["kind", "item_id"])
    review = changed.rename(
        columns={"computed_class": "old_class", "computed_class_new": "new_class"}
    )
    review["new_class"] = review["new_class"].fillna("(not in the new classification)")
    idx = pd.MultiIndex.from_frame(review[["kind", "item_id"]])
    review["adjusted_class"] = state["class"].reindex(idx).to_numpy()
    review["status"] = state["status"].reindex(idx).to_numpy()
    cols = ["kind", "item_id", "town", "old_class", "new_class", "adjusted_class", "status"]
    return review[cols].reset_index(drop=True)


def completion_over_time(ledger, as_of: str, weights: dict | None = None) -> pd.DataFrame:
    """Town scores at each month end from the first event to ``as_of`` and at ``as_of``.
    An ``as_of`` in the future ends the series today (or at the latest event, if later):
    nothing changes after that."""
    with connect(ledger) as con:
        history = read_history(con)
    dates = history[2]["date"]
    dates = dates[dates <= as_of]
    end = min(as_of, max(dt.date.today().isoformat(), dates.max() if len(dates) else ""))
    start = pd.Timestamp(dates.min() if len(dates) else end)
    ends = pd.date_range(start, end, freq="ME").strftime("%Y-%m-%d").tolist()
    days = sorted({*ends, end})
    return pd.concat(
        [town_scores(state_on(*history, day), weights).assign(date=day) for day in days],
        ignore_index=True,
    )
