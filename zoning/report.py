"""Summaries per town and class; CSV and formatted Excel writers; the run log.

Every table, CSV and workbook (HOUSE.md tier T6): one file per function. Which files make
up an output folder is :mod:`zoning.outputs`'s business.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._io import atomic_path, formula_escape, write_text
from .measures import to_mu
from .vocab import CLASS_ZH, CLASSES, RULE_ZH, STATUS_ZH, TOTAL, UNKNOWN_TOWN, WORKSHOP_CLASS_ZH

SUMMARY_ZH = {
    "town": "镇街",
    "class": "类别代码",
    "class_zh": "类别",
    "plots": "地块数",
    "area_m2": "面积（平方米）",
    "area_mu": "面积（亩）",
    "official_area_m2": "图斑面积（调查，平方米）",
    "official_area_mu": "图斑面积（调查，亩）",
}


def summarise(parcels: pd.DataFrame) -> pd.DataFrame:
    """Plots, m² and mu per town × class, every class listed, with town and grand totals.

    Columns: ``town, class, class_zh, plots, area_m2, area_mu`` (mu to 2 decimals), and
    ``official_area_m2, official_area_mu`` when the plots carry the survey's official area
    (SPEC §3: planar and official side by side; a plot without one adds 0).
    Unclassified plots count with 0 m² planar (they have no usable area); their official
    area counts as the survey gives it.
    """
    p = pd.DataFrame(
        {
            "town": parcels["town"].fillna("").astype(str).replace("", UNKNOWN_TOWN),
            "class": parcels["class"].astype(str),
            "area_m2": parcels["area_m2"].astype(float).fillna(0.0),
        }
    )
    sums = ["plots", "area_m2"]
    agg = {"plots": ("area_m2", "size"), "area_m2": ("area_m2", "sum")}
    if "official_area_m2" in parcels:
        p["official_area_m2"] = (
            pd.to_numeric(parcels["official_area_m2"], errors="coerce").astype(float).fillna(0.0)
        )
        sums.append("official_area_m2")
        agg["official_area_m2"] = ("official_area_m2", "sum")
    towns = sorted(p["town"].unique())
    full = pd.MultiIndex.from_product([towns, list(CLASSES)], names=["town", "class"])
    g = p.groupby(["town", "class"]).agg(**agg)
    g = g.reindex(full, fill_value=0).reset_index()
    by_class = g.groupby("class", sort=False)[sums].sum().reset_index()
    by_class.insert(0, "town", TOTAL)
    g = pd.concat([g, by_class], ignore_index=True)
    town_tot = g.groupby("town", sort=False)[sums].sum().reset_index()
    town_tot["class"] = "total"
    g = pd.concat([g, town_tot], ignore_index=True)
    order = {t: i for i, t in enumerate([*towns, TOTAL])}
    cls_order = {c: i for i, c in enumerate([*CLASSES, "total"])}
    g = g.sort_values(
        ["town", "class"], key=lambda s: s.map(order if s.name == "town" else cls_order)
    )
    g["class_zh"] = g["class"].map({**CLASS_ZH, "total": TOTAL})
    g["plots"] = g["plots"].astype(int)
    g["area_m2"] = g["area_m2"].round(2)
    g["area_mu"] = to_mu(g["area_m2"]).round(2)
    columns = ["town", "class", "class_zh", "plots", "area_m2", "area_mu"]
    if "official_area_m2" in g:
        g["official_area_mu"] = to_mu(g["official_area_m2"]).round(2)
        g["official_area_m2"] = g["official_area_m2"].round(2)
        columns += ["official_area_m2", "official_area_mu"]
    return g[columns].reset_index(drop=True)


def safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell that Excel would run as a formula (``=``, ``+``,
    ``-``, ``@``, tab or CR first) prefixed by ``'``; numbers are left alone. Read back
    with :func:`zoning._io.formula_unescape`."""
    out = frame
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype.kind in "iufbmMc":
            continue
        escaped = formula_escape(column)
        if escaped is not column:
            if out is frame:
                out = frame.copy()
            out.isetitem(i, escaped.to_numpy())
    return out


def write_csv(df: pd.DataFrame, target: str | os.PathLike) -> None:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese text correctly; no cell
    can start a formula (:func:`safe_cells`). Every CSV of zoning is written here.
    Lines end in CRLF (RFC 4180), so a field holding a lone CR is quoted, not split."""
    with atomic_path(target) as tmp:
        safe_cells(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")


#: Excel's limit on the characters of one cell; xlsxwriter cuts longer text silently.
EXCEL_TEXT_MAX = 32_767
NOTE_COLUMNS = ["layer", "row", "id", "action", "reason"]


def fit_excel_text(
    frame: pd.DataFrame, where: str = "", id_column: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Text cells cut to Excel's 32,767 characters, and a note per cut cell.

    The notes have the columns of an issues file (``layer`` = ``where``, ``row`` 1-based
    in the frame, ``id`` = the row's ``id_column``, default its first column, ``action``,
    ``reason``) so a caller can add them to its issues file.
    """
    notes = []
    out = frame
    for c in frame.columns:
        if frame[c].dtype.kind in "iufbmMc":
            continue
        if not len(frame):
            lengths = pd.Series(dtype=float)
        elif isinstance(frame[c].dtype, pd.StringDtype):  # counted in Arrow: code points
            lengths = frame[c].str.len()
        else:
            lengths = frame[c].astype(object).str.len()
        long = lengths.fillna(0).to_numpy() > EXCEL_TEXT_MAX
        if not long.any():
            continue
        if out is frame:
            out = frame.copy()
        rows = np.flatnonzero(long)
        cells = out[c].to_numpy(dtype=object).copy()
        cells[rows] = [v[:EXCEL_TEXT_MAX] for v in cells[rows]]
        out[c] = cells
        ids = (
            (frame[id_column].iloc[rows] if id_column else frame.iloc[rows, 0])
            .astype(str)
            .to_numpy()
        )
        notes.append(
            pd.DataFrame(
                {
                    "layer": where,
                    "row": rows + 1,
                    "id": ids,
                    "action": "truncated",
                    "reason": [
                        f"{c}：文字 {int(n)} 字超过 Excel 单元格上限 {EXCEL_TEXT_MAX} 字，"
                        f"表格中已截断（CSV/GeoPackage 中为全文） / text cut to Excel's limit"
                        for n in lengths.to_numpy()[rows]
                    ],
                }
            )
        )
    frame_notes = (
        pd.concat(notes, ignore_index=True) if notes else pd.DataFrame(columns=NOTE_COLUMNS)
    )
    return out, frame_notes


def excel_writer(path, heading: Heading | None = None) -> pd.ExcelWriter:
    """An xlsxwriter workbook that stores text as text: a note starting with '=' never
    becomes a formula, nor a web address a link (and writing is faster). Its 'created'
    stamp is fixed (:data:`zoning._io.FIXED_STAMP`): the same data give the same bytes;
    when a run happened is in its run.json. Its zip deflates at :data:`ZIP_LEVEL`.
    ``heading`` (county, data date, as-of date) goes into the title row of every sheet
    written through :class:`Columns`."""
    from ._io import FIXED_STAMP

    writer = pd.ExcelWriter(
        path,
        engine="xlsxwriter",
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    )
    writer.book.set_properties({"created": FIXED_STAMP})
    writer.book._get_packager = _packager_class()  # xlsxwriter's hook for its packager
    writer.book._store_workbook = functools.partial(_store_at_level, writer.book, ZIP_LEVEL)
    writer.zoning_heading = heading or Heading()
    return writer


@dataclass(frozen=True)
class Heading:
    """What the title row of a printed sheet states besides its title: the county, the
    date of the data and the as-of date (截至日期). Dates as YYYY-MM-DD; empty = not known
    (printed as 未注明). Never today's date: the same data give the same workbook."""

    county: str = ""
    data_date: str = ""
    as_of: str = ""

    def title(self, title: str) -> str:
        """``慈溪市 村级工业用地分类汇总　数据日期：2026-01-01　截至日期：2026-01-01``."""
        county = f"{self.county} " if self.county and not title.startswith(self.county) else ""
        return (
            f"{county}{title}　数据日期：{self.data_date or '未注明'}"
            f"　截至日期：{self.as_of or '未注明'}"
        )[:EXCEL_TEXT_MAX]


def _heading(xl) -> Heading:
    return getattr(xl, "zoning_heading", None) or Heading()


#: Paper size of printed sheets (xlsxwriter's code 9 = A4).
PAPER_A4 = 9


def print_setup(sheet, header_rows: int, freeze_cols: int = 0, one_page: bool = False) -> None:
    """A sheet that prints: A4 landscape, fit to the page width (as many pages down as it
    takes; ``one_page``: the whole sheet on one page), the title and header rows repeated
    on every page, panes frozen below them, page numbers in the footer."""
    sheet.set_landscape()
    sheet.set_paper(PAPER_A4)
    sheet.fit_to_pages(1, 1 if one_page else 0)
    sheet.repeat_rows(0, header_rows - 1)
    sheet.freeze_panes(header_rows, freeze_cols)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.center_horizontally()
    sheet.set_footer("&C第 &P 页，共 &N 页")


#: Widths of the text columns a printed page must not cut (the rest: the sheet's width).
HEADER_WIDTHS = {"依据": 44, "编号": 16, "企业": 18, "企业名称": 18, "待整改事项": 18, "备注": 18}


def header_formats(headers, fmt: dict) -> dict:
    """The number format of a column by the words of its header: scores (得分, 总分) with
    2 decimals, shares (…率, …占比; not 劳动生产率) as per cent, mu (…亩…) with 2
    decimals, m² (平方米) with 1; other columns keep the sheet's."""
    out = {}
    for h in headers:
        if "得分" in h or h == "总分":
            out[h] = fmt["score"]
        elif h.endswith(("率", "占比")) and not h.endswith("生产率"):
            out[h] = fmt["pct"]
        elif "亩" in h and "等级" not in h:
            out[h] = fmt["mu"]
        elif "平方米" in h:
            out[h] = fmt["m2"]
    return out


def _formats(book) -> dict:
    """The few cell formats every report uses."""
    return {
        "head": book.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
            }
        ),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "int": book.add_format({"num_format": "#,##0", "border": 1}),
        "mu": book.add_format({"num_format": "#,##0.00", "border": 1}),
        "m2": book.add_format({"num_format": "#,##0.0", "border": 1}),
        "score": book.add_format({"num_format": "0.00", "border": 1}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "pct": book.add_format({"num_format": "0.0%"}),
    }


#: Text xlsxwriter writes into sharedStrings.xml other than as it is: XML escapes,
#: control characters and literal ``_xHHHH_`` (escaped), leading or trailing space
#: (``xml:space``), rich strings (``<r>``).
_SST_SPECIAL = r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$"

#: Of those, the strings only XML-escaped (``&``, ``<``, ``>``, as xlsxwriter's
#: ``_escape_data``) are escaped here at once; these go through its ``_write_si``.
_SST_OWN = r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$|^<r>"


#: Shared strings turned into XML at a time.
_SST_BLOCK = 65_536


def _write_sst_strings(sst) -> None:
    """The ``<si>`` elements of sharedStrings.xml, :data:`_SST_BLOCK` at a time (in place
    of xlsxwriter's ``SharedStrings._write_sst_strings``, a string at a time): plain text
    as ``<si><t>text</t></si>``, text needing only XML escapes escaped at once (a plot
    list's reasons hold ``<``: ~40,000 strings at 100k plots), any other string through
    xlsxwriter's own ``_write_si``."""
    import io

    strings, block = sst.string_table.string_array, _SST_BLOCK
    fh, buffer = sst.fh, io.StringIO()
    for lo in range(0, len(strings), block):
        part = pd.Series(strings[lo : lo + block], dtype=object)
        marked = part.str.contains(_SST_SPECIAL, na=True).to_numpy(dtype=bool)
        own = marked.copy()
        own[marked] = part[marked].str.contains(_SST_OWN, na=True).to_numpy(dtype=bool)
        escape = np.flatnonzero(marked & ~own)
        part.iloc[escape] = (
            part.iloc[escape]
            .str.replace("&", "&amp;", regex=False)
            .str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False)
        )
        special = np.flatnonzero(own)
        out = np.array("<si><t>" + part + "</t></si>", dtype=object)
        sst.fh = buffer
        try:
            for i in special.tolist():
                buffer.seek(0)
                buffer.truncate()
                sst._write_si(part.iat[i])
                out[i] = buffer.getvalue()
        finally:
            sst.fh = fh
        fh.write("".join(out.tolist()))


@functools.cache
def _packager_class():
    """The xlsxwriter Packager whose sharedStrings.xml is written by
    :func:`_write_sst_strings` (same bytes; a 100k-plot 清单 has ~250,000 strings)."""
    from xlsxwriter.packager import Packager
    from xlsxwriter.sharedstrings import SharedStrings

    class Strings(SharedStrings):
        def _write_sst_strings(self) -> None:
            _write_sst_strings(self)

    class FastPackager(Packager):
        def _write_shared_strings_file(self) -> None:
            if not self.workbook.str_table.count:
                return
            sst = Strings()
            sst.string_table = self.workbook.str_table
            sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
            sst._assemble_xml_file()

    return FastPackager


class _SheetData:
    """The data cells of a sheet written by :meth:`Columns.sheet`, kept as arrays and
    turned into the sheet's ``<sheetData>`` XML in one vectorised pass when the workbook
    is saved. xlsxwriter stores and writes a cell at a time (~10 µs a cell: ~20 s for the
    200,000 rows of a 100k-plot 清单). The XML is xlsxwriter's own, byte for byte: the
    shared strings are registered in the order its ``write_string`` calls would register
    them, the sheet's dimensions, row spans and cell styles (the column's format, read at
    save time as xlsxwriter does) are the same. Anything else (booleans, mixed columns,
    text near Excel's limit, rows with their own height or format, comments) is left to
    xlsxwriter: a column it does not cover is written cell by cell, and at save time the
    cells kept here go into xlsxwriter's table if the sheet holds any other data row."""

    #: Rows turned into XML at a time (bounds the memory of the pieces being joined).
    BLOCK = 32_768

    def __init__(self, sheet) -> None:
        self.sheet = sheet
        self.cols: list = []  # (column, sheet rows, "s" or "n", values, string indices)
        sheet._write_sheet_data = self.write  # xlsxwriter calls it when it saves the sheet

    @classmethod
    def of(cls, sheet) -> _SheetData:
        data = getattr(sheet, "_zoning_data", None)
        if data is None:
            data = sheet._zoning_data = cls(sheet)
        return data

    def add(self, col: int, rows: np.ndarray, values: np.ndarray | _Text, writer: str) -> bool:
        """Keep column ``col``'s cells (``rows`` ascending, 0-based sheet rows) as
        xlsxwriter's ``writer`` would store them; False (nothing kept) where this does not
        cover them (the caller writes them cell by cell)."""
        sheet = self.sheet
        if not len(rows):
            return True
        if (
            writer not in ("write_string", "write_number")
            or sheet.constant_memory
            or rows[-1] >= sheet.xls_rowmax
            or col >= sheet.xls_colmax
            or rows[0] < 0
        ):
            return False
        if writer == "write_number":
            if not np.isfinite(np.asarray(values, dtype=float)).all():
                return False  # xlsxwriter raises or writes an error cell
            self.cols.append((col, rows, "n", values, None))
        else:
            text = (
                values if isinstance(values, _Text) else _Text.of(pd.Series(values, dtype=object))
            )
            seen = pd.unique(text.codes)  # the slice's strings in order of appearance
            if len(seen) and text.lengths[seen].max() > sheet.xls_strmax // 2:
                return False  # xlsxwriter measures and cuts such text in UTF-16 units
            index = np.zeros(len(text.strings), dtype=np.int64)
            index[seen] = self._register(text.strings[seen])
            self.cols.append((col, rows, "s", text, index[text.codes]))
            sheet.str_table.count += len(text)  # one per string cell, as written
        sheet._check_dimensions(int(rows[0]), col)
        sheet._check_dimensions(int(rows[-1]), col)
        return True

    def _register(self, strings: np.ndarray) -> np.ndarray:
        """The shared-string indices of distinct ``strings``, new ones numbered in order
        (as xlsxwriter's ``_get_shared_string_index`` would, one call at a time)."""
        table = self.sheet.str_table
        index = np.array(list(map(table.string_table.get, strings)), dtype=object)
        new = np.flatnonzero(pd.isna(index))
        index[new] = np.arange(table.unique_count, table.unique_count + len(new))
        table.string_table.update(zip(strings[new].tolist(), index[new].tolist(), strict=True))
        table.unique_count += len(new)
        return index.astype(np.int64)

    def _fallback(self) -> None:
        """The kept cells into xlsxwriter's table, as its own writers store them."""
        from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple

        table = self.sheet.table
        for col, rows, kind, values, index in self.cols:
            cells = (
                (CellNumberTuple(v, None) for v in values)
                if kind == "n"
                else (CellStringTuple(i, None) for i in index.tolist())
            )
            for r, cell in zip(rows.tolist(), cells, strict=True):
                table[r][col] = cell

    def write(self) -> None:
        """The sheet's ``<sheetData>`` (in place of ``Worksheet._write_sheet_data``)."""
        sheet = self.sheet
        own = type(sheet)._write_sheet_data
        if not self.cols:
            return own(sheet)
        first = min(int(rows[0]) for _, rows, *_ in self.cols)
        if (
            sheet.excel_version != 2007
            or sheet.default_row_height != sheet.original_row_height
            or any(r >= first for r in sheet.row_info)
            or any(r >= first and v for r, v in sheet.comments.items())
            or any(r >= first and v for r, v in sheet.table.items())
        ):
            self._fallback()
            return own(sheet)
        spans = self._spans(first)
        sheet._xml_start_tag("sheetData")
        self._head_rows(first, spans)
        self._data_rows(first, spans)
        sheet._xml_end_tag("sheetData")
        return None

    def _spans(self, first: int) -> dict[int, str]:
        """The row spans xlsxwriter writes (first:last column of every 16 rows, 1-based)."""
        sheet = self.sheet
        rows = [rows for _, rows, *_ in self.cols]
        cols = [np.full(len(r), c) for c, r, *_ in self.cols]
        for r in range(sheet.dim_rowmin, first):
            for cells in (sheet.table.get(r, {}), sheet.comments.get(r, {})):
                rows.append(np.full(len(cells), r))
                cols.append(np.fromiter(cells, dtype=np.int64, count=len(cells)))
        limits = (
            pd.DataFrame({"b": np.concatenate(rows) // 16, "c": np.concatenate(cols)})
            .groupby("b")["c"]
            .agg(["min", "max"])
            + 1
        )
        return dict(
            zip(
                limits.index.tolist(),
                (limits["min"].astype(str) + ":" + limits["max"].astype(str)).tolist(),
                strict=True,
            )
        )

    def _head_rows(self, first: int, spans: dict[int, str]) -> None:
        """Rows above the data (title, header) as xlsxwriter's ``_write_rows`` writes them."""
        sheet = self.sheet
        for r in range(sheet.dim_rowmin, first):
            if r in sheet.row_info or r in sheet.comments or sheet.table[r]:
                span = spans.get(r // 16)
                if sheet.table[r]:
                    sheet._write_row(r, span, sheet.row_info.get(r))
                    for col in range(sheet.dim_colmin, sheet.dim_colmax + 1):
                        if col in sheet.table[r]:
                            sheet._write_cell(r, col, sheet.table[r][col])
                    sheet._xml_end_tag("row")
                else:
                    sheet._write_empty_row(r, span, sheet.row_info.get(r))

    def _data_rows(self, first: int, spans: dict[int, str]) -> None:
        """Write the data rows' XML: per block of rows a table of pieces (row tag, then
        per column the cell's five pieces, empty where the cell is), joined at once."""
        from xlsxwriter.utility import xl_col_to_name

        sheet = self.sheet
        stop = max(int(rows[-1]) for _, rows, *_ in self.cols) + 1
        cols = []
        for col, rows, kind, values, index in sorted(self.cols, key=lambda c: c[0]):
            info = sheet.col_info.get(col)
            style = (
                ""
                if info is None or info.column_format is None
                else f' s="{info.column_format._get_xf_index()}"'
            )
            kind_attr = ' t="s"' if kind == "s" else ""
            cols.append(
                (
                    rows,
                    index if kind == "s" else values,
                    kind,
                    f'<c r="{xl_col_to_name(col)}',
                    f'"{style}{kind_attr}><v>',
                )
            )
        width = 4 + 5 * len(cols)
        for lo in range(first, stop, self.BLOCK):
            hi = min(lo + self.BLOCK, stop)
            number = (np.arange(lo, hi) + 1).astype(str).astype(object)
            pieces = np.full((hi - lo, width), "", dtype=object)
            has = np.zeros(hi - lo, dtype=bool)
            for k, (rows, cells, kind, head, mid) in enumerate(cols):
                a, b = np.searchsorted(rows, [lo, hi])
                at = rows[a:b] - lo
                pieces[at, 3 + 5 * k] = head
                pieces[at, 4 + 5 * k] = number[at]
                pieces[at, 5 + 5 * k] = mid
                pieces[at, 6 + 5 * k] = (
                    cells[a:b].astype(str).astype(object)
                    if kind == "s"
                    else [f"{v:.16G}" for v in cells[a:b]]
                )
                pieces[at, 7 + 5 * k] = "</v></c>"
                has[at] = True
            pieces[:, 0] = '<row r="'
            pieces[:, 1] = number
            blocks = np.arange(lo, hi) // 16
            pieces[:, 2] = np.array(
                [
                    f'" spans="{spans[b]}">' if b in spans else '">'
                    for b in range(blocks[0], blocks[-1] + 1)
                ],
                dtype=object,
            )[blocks - blocks[0]]
            pieces[:, -1] = "</row>"
            sheet.fh.write("".join(pieces[has].ravel().tolist()))


class _Text:
    """A text column as codes into its distinct strings (``pd.factorize``: Arrow strings
    stay in Arrow until the distinct ones are needed); slices and ``tolist`` as an array
    of the strings."""

    def __init__(self, codes: np.ndarray, strings: np.ndarray, lengths: np.ndarray):
        self.codes, self.strings, self.lengths = codes, strings, lengths

    @classmethod
    def of(cls, values: pd.Series) -> _Text:
        codes, uniques = pd.factorize(values)
        strings = np.asarray(uniques, dtype=object)
        return cls(
            codes, strings, np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        )

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, where: slice) -> _Text:
        return _Text(self.codes[where], self.strings, self.lengths)

    def tolist(self) -> list:
        return self.strings[self.codes].tolist()


class Columns:
    """A table made ready for xlsxwriter once: per column the values to write, their row
    positions and the writer for the column's type. NaN, None and empty text are left
    as empty cells, not written. Slices of it (:meth:`sheet`) become sheets."""

    def __init__(self, frame: pd.DataFrame, where: str = "", id_column: str | None = None):
        frame, self.notes = fit_excel_text(frame, where, id_column)
        self.headers = [str(c) for c in frame.columns]
        self.n = len(frame)
        self.columns = []
        for name in frame.columns:
            values = frame[name]
            keep = values.notna().to_numpy()
            kind = values.dtype.kind
            if kind == "b":
                writer = "write_boolean"
            elif kind in "iuf":
                writer = "write_number"
            elif pd.api.types.infer_dtype(values, skipna=True) == "string":
                keep = keep & (values != "").to_numpy()
                rows = np.flatnonzero(keep)
                self.columns.append((rows, _Text.of(values[keep]), "write_string"))
                continue
            else:
                writer = "write"
            rows = np.flatnonzero(keep)
            self.columns.append((rows, values.to_numpy(dtype=object)[rows], writer))

    def sheet(
        self,
        xl,
        name: str,
        title: str,
        fmt: dict,
        start: int = 0,
        stop: int | None = None,
        width: int = 14,
        freeze_cols: int = 0,
        formats: dict | None = None,
    ):
        """Rows ``start:stop`` as one sheet: a title row, a formatted header, the rows,
        frozen panes and filters; ``formats`` maps a header to its column's cell format.
        Cells go straight to xlsxwriter, a column at a time (pandas' cell-by-cell writer
        is several times slower on 100k-row workbooks); text and number columns are kept
        as arrays and written as XML in one pass when the workbook is saved
        (:class:`_SheetData`)."""
        stop = self.n if stop is None else stop
        sheet = xl.book.add_worksheet(name)
        xl.sheets[name] = sheet
        sheet.write(0, 0, _heading(xl).title(title), fmt["title"])
        sheet.write_row(1, 0, self.headers, fmt["head"])
        data = _SheetData.of(sheet)
        for c, (rows, values, writer) in enumerate(self.columns):
            lo, hi = np.searchsorted(rows, [start, stop])
            at = rows[lo:hi] + (2 - start)
            if not data.add(c, at, values[lo:hi], writer):
                write = getattr(sheet, writer)
                for r, v in zip(at.tolist(), values[lo:hi].tolist(), strict=True):
                    write(r, c, v)
        sheet.set_column(0, len(self.headers) - 1, width)
        for header, cell_format in {**header_formats(self.headers, fmt), **(formats or {})}.items():
            if header in self.headers:
                c = self.headers.index(header)
                sheet.set_column(c, c, width, cell_format)
        for header, wide in HEADER_WIDTHS.items():
            if header in self.headers:
                c = self.headers.index(header)
                sheet.set_column(c, c, max(wide, width))
        print_setup(sheet, 2, freeze_cols)
        sheet.autofilter(1, 0, 1 + stop - start, len(self.headers) - 1)
        return sheet


def _table_sheet(
    xl,
    name: str,
    frame: pd.DataFrame,
    title: str,
    fmt: dict,
    width: int = 14,
    freeze_cols: int = 0,
    notes: list | None = None,
):
    """One sheet of a whole table (see :class:`Columns`); cells cut to Excel's limit are
    noted in ``notes`` (a list of frames, see :func:`fit_excel_text`)."""
    columns = Columns(frame, where=name)
    if notes is not None:
        notes.append(columns.notes)
    return columns.sheet(xl, name, title, fmt, width=width, freeze_cols=freeze_cols)


def excel_notes(notes: list, workbook: str | os.PathLike) -> pd.DataFrame:
    """The notes of a workbook's sheets as one table (columns of an issues file), each
    ``layer`` naming the workbook and its sheet."""
    notes = [n for n in notes if len(n)]
    if not notes:
        return pd.DataFrame(columns=NOTE_COLUMNS)
    out = pd.concat(notes, ignore_index=True)
    out["layer"] = os.path.basename(os.fspath(workbook)) + ":" + out["layer"].astype(str)
    return out


def write_summary_xlsx(
    summary: pd.DataFrame,
    target: str | os.PathLike,
    title: str = "村级工业用地分类汇总",
    heading: Heading | None = None,
    *,
    area_label: str = SUMMARY_ZH["town"],
) -> pd.DataFrame:
    """Formatted Excel: a pivot sheet (towns × classes, plots and mu) on one landscape
    page, and the long table; mu as printed add up (:func:`displayed_summary`).
    ``area_label`` heads the ``town`` column (a province's summary by county: 县（市、区）).

    Returns the notes of cells cut to Excel's limit (:func:`fit_excel_text`)."""
    notes: list = []
    summary = displayed_summary(summary)
    pivot_plots = summary.pivot(index="town", columns="class", values="plots")
    pivot_mu = summary.pivot(index="town", columns="class", values="area_mu")
    towns = [t for t in summary["town"].drop_duplicates() if t != TOTAL] + [TOTAL]
    official = (
        summary[summary["class"] == "total"].set_index("town")["official_area_mu"]
        if "official_area_mu" in summary
        else None
    )
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        book = xl.book
        fmt = _formats(book)
        head, title_fmt, int_fmt, mu_fmt = fmt["head"], fmt["title"], fmt["int"], fmt["mu"]
        text_fmt = book.add_format({"border": 1})
        bold_int = book.add_format({"num_format": "#,##0", "border": 1, "bold": True})
        bold_mu = book.add_format({"num_format": "#,##0.00", "border": 1, "bold": True})
        bold_text = book.add_format({"border": 1, "bold": True})

        ws = book.add_worksheet("汇总")
        ws.write(0, 0, _heading(xl).title(title), title_fmt)
        ws.write(1, 0, "面积单位：亩（1 亩 = 10000/15 平方米）")
        ws.merge_range(2, 0, 3, 0, area_label, head)
        col = 1
        for c in [*CLASSES, "total"]:
            ws.merge_range(2, col, 2, col + 1, CLASS_ZH.get(c, TOTAL), head)
            ws.write(3, col, "地块数", head)
            ws.write(3, col + 1, "面积（亩）", head)
            col += 2
        for r, town in enumerate(towns, start=4):
            is_total = town == TOTAL
            ws.write_string(r, 0, str(town)[:EXCEL_TEXT_MAX], bold_text if is_total else text_fmt)
            col = 1
            for c in CLASSES:
                ws.write_number(
                    r, col, int(pivot_plots.loc[town, c]), bold_int if is_total else int_fmt
                )
                ws.write_number(
                    r, col + 1, float(pivot_mu.loc[town, c]), bold_mu if is_total else mu_fmt
                )
                col += 2
            ws.write_number(r, col, int(pivot_plots.loc[town, "total"]), bold_int)
            ws.write_number(r, col + 1, float(pivot_mu.loc[town, "total"]), bold_mu)
            if official is not None:  # the survey's area beside the planar total
                ws.write_number(r, col + 2, float(official.loc[town]), bold_mu)
        if official is not None:
            ws.merge_range(2, col + 2, 3, col + 2, SUMMARY_ZH["official_area_mu"], head)
        ws.set_column(0, 0, 14)
        ws.set_column(1, 2 * len(CLASSES) + 3, 12)
        print_setup(ws, 4, 1, one_page=True)

        long = summary.rename(columns={**SUMMARY_ZH, "town": area_label})
        sheet = _table_sheet(xl, "明细", long, title + "（明细）", fmt, notes=notes)
        sheet.set_column(3, 3, 10, int_fmt)
        sheet.set_column(4, 7 if official is not None else 5, 16, mu_fmt)
    return excel_notes(notes, target)


def write_run_log(target: str | os.PathLike, info: dict) -> None:
    """The run log: inputs with their sha256, parameters, CRS, counts and timings (JSON)."""

    def plain(value):  # a read-only config table as its dict, anything else as text
        return dict(value) if isinstance(value, Mapping) else str(value)

    write_text(target, json.dumps(info, ensure_ascii=False, indent=2, default=plain) + "\n")


TRANSITION_ZH = {
    "town": "镇街",
    "from_class": "原分类",
    "to_class": "新分类",
    "plots": "地块数",
    "mu": "面积（亩）",
    "parcel_id": "地块编号",
    "from_rule": "原规则",
    "to_rule": "新规则",
    "from_target": "原目标",
    "to_target": "新目标",
    "to_reason": "新依据",
    "area_mu": "面积（亩）",
}


def write_transitions_xlsx(
    comparison, target: str | os.PathLike, heading: Heading | None = None
) -> pd.DataFrame:
    """Formatted Excel of a comparison: matrix, per town, changed plots (Chinese headers).
    Returns the notes of cells cut to Excel's limit."""
    notes: list = []
    t = comparison.transitions
    zh = {**CLASS_ZH}
    matrix_mu = t.pivot_table(
        index="from_class", columns="to_class", values="mu", aggfunc="sum", fill_value=0.0
    )
    matrix_n = t.pivot_table(
        index="from_class", columns="to_class", values="plots", aggfunc="sum", fill_value=0
    )
    classes = [c for c in CLASSES if c in matrix_mu.index or c in matrix_mu.columns]
    matrix_mu = matrix_mu.reindex(index=classes, columns=classes, fill_value=0.0)
    matrix_n = matrix_n.reindex(index=classes, columns=classes, fill_value=0)
    changed = comparison.changed.drop(columns="geometry")
    sheets = {
        "分镇街": comparison.by_town.assign(
            from_class=lambda d: d["from_class"].map(zh), to_class=lambda d: d["to_class"].map(zh)
        ),
        "变化地块": changed[
            [
                "parcel_id",
                "town",
                "from_class",
                "to_class",
                "from_rule",
                "to_rule",
                "from_target",
                "to_target",
                "area_mu",
                "to_reason",
            ]
        ].assign(
            from_class=lambda d: d["from_class"].map(zh), to_class=lambda d: d["to_class"].map(zh)
        ),
    }
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        fmt = _formats(xl.book)
        head = fmt["head"]
        bold = xl.book.add_format({"bold": True})  # a label over the matrix, unwrapped
        ws = xl.book.add_worksheet("转移矩阵")
        ws.write_string(
            0,
            0,
            _heading(xl).title(f"分类转移：{comparison.a.name} → {comparison.b.name}"),
            fmt["title"],
        )
        for block, (label, matrix, cell) in enumerate(
            (("面积（亩）", matrix_mu, fmt["mu"]), ("地块数", matrix_n, fmt["int"]))
        ):
            top = 2 + block * (len(classes) + 3)
            ws.write(top, 0, f"{label}：行 = 原分类，列 = 新分类", bold)
            for j, c in enumerate(classes):
                ws.write(top + 1, j + 1, zh[c], head)
                ws.write(top + 2 + j, 0, zh[c], head)
                for i, r in enumerate(classes):
                    ws.write_number(top + 2 + i, j + 1, float(matrix.loc[r, c]), cell)
        ws.set_column(0, len(classes), 16)
        print_setup(ws, 1, one_page=True)
        for name, frame in sheets.items():
            _table_sheet(xl, name, frame.rename(columns=TRANSITION_ZH), name, fmt, notes=notes)
        if getattr(comparison, "blocks", None) is not None:  # SPEC §11: blocks compared too
            block_change_sheets(
                xl, comparison.blocks, fmt, notes, (comparison.a.name, comparison.b.name)
            )
    return excel_notes(notes, target)


WORKSHOP_LIST_ZH = {
    "workshop_id": "作坊编号",
    "town": "镇街",
    "village": "村",
    "industry": "行业",
    "class_zh": "分类",
    "fixes_zh": "待整改事项",
    "risk_level_zh": "三合一风险等级",
    "checks_failed_zh": "未通过检查",
    "checks_unknown_zh": "待核查项",
    "no_industrial_power_zh": "源头管控",
    "parcel_id": "所在地块",
    "target_micro_park_id": "安置小微园",
    "distance_m": "距离（米）",
    "floor_area_m2": "面积（平方米）",
    "reason": "依据",
}
TOWN_TABLE_ZH = {
    "town": "镇街",
    "found": "排查数",
    "classed": "已分类",
    "eliminate": "整治淘汰",
    "demolish": "搬迁拆除",
    "to_park": "园区集聚",
    "upgrade": "改造提升",
    "three_in_one": "三合一",
    "hazards_found": "排查隐患",
    "hazards_rectified": "已整改隐患",
    "hazards_open": "未整改隐患",
    "rectification_rate": "隐患整改率",
    "no_open_hazard": "无未整改隐患作坊",
    "share_no_open_hazard": "无隐患作坊占比",
    "placed_own_town": "本镇街安置",
    "placed_other_town": "跨镇街安置",
    "shortfall_m2": "小微园缺口（平方米）",
}
PARK_ZH = {
    "micro_park_id": "园区编号",
    "name": "名称",
    "town": "镇街",
    "floor_area_m2": "建筑面积",
    "occupied_m2": "已使用",
    "capacity_m2": "可用空间",
    "used_m2": "本次安置",
    "remaining_m2": "剩余空间",
    "placed_workshops": "安置作坊数",
}


def write_workshops_xlsx(
    result, target: str | os.PathLike, heading: Heading | None = None
) -> pd.DataFrame:
    """workshops.xlsx of a workshop result: 清单, per town, per park (Chinese headers).
    Returns the notes of cells cut to Excel's limit."""
    from .vocab import FIX_ZH

    ws = result.workshops
    listing = ws.drop(columns="geometry").copy()
    listing["fixes_zh"] = (
        listing["fixes"].fillna("").map(lambda f: "、".join(FIX_ZH[x] for x in f.split(";") if x))
    )
    listing = safety_columns_zh(listing)
    listing = listing[[c for c in WORKSHOP_LIST_ZH if c in listing]].rename(
        columns=WORKSHOP_LIST_ZH
    )
    parks = result.micro_parks.drop(columns="geometry")
    parks = parks[[c for c in PARK_ZH if c in parks]].rename(columns=PARK_ZH)
    towns = result.towns.rename(columns=TOWN_TABLE_ZH)
    notes: list = []
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        fmt = _formats(xl.book)
        for name, frame, title in (
            ("清单", listing, "家庭作坊整治清单"),
            ("镇街", towns, "分镇街统计（台账）"),
            ("小微园", parks, "小微企业园安置"),
            *safety_sheets(ws, result.power_list),
        ):
            sheet = _table_sheet(xl, name, frame, title, fmt, width=13, freeze_cols=1, notes=notes)
            if name == "清单":
                sheet.set_column(len(frame.columns) - 1, len(frame.columns) - 1, 60)
            if name == "镇街":
                for col in ("隐患整改率", "无隐患作坊占比"):
                    i = list(frame.columns).index(col)
                    sheet.set_column(i, i, 12, fmt["pct"])
    return excel_notes(notes, target)


def write_grades_xlsx(
    grades: pd.DataFrame, target: str | os.PathLike, heading: Heading | None = None
) -> pd.DataFrame:
    """The 亩均 grading as a formatted sheet with Chinese headers; returns the notes of
    cells cut to Excel's limit."""
    notes: list = []
    from .vocab import GRADING_INDICATORS as INDICATORS

    zh = {
        "enterprise_id": "企业编号",
        "enterprise": "企业名称",
        "town": "镇街",
        "score": "总分",
        "grade": "等级",
        "rank": "排名",
        "flags": "缺项",
        "flags_en": "缺项（英文）",
    }
    for key, (_, _, name) in INDICATORS.items():
        zh[key] = name
        zh[f"score_{key}"] = f"{name}得分"
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        fmt = _formats(xl.book)
        _table_sheet(
            xl,
            "亩均评价",
            grades.rename(columns=zh).round(4),
            "亩均效益综合评价",
            fmt,
            width=12,
            freeze_cols=1,
            notes=notes,
        )
    return excel_notes(notes, target)


# --- the ledger's assessment (SPEC §8) ----------------------------------------------

#: Sheet names Excel refuses (case-insensitive) besides those of the workbook itself.
EXCEL_RESERVED_SHEETS = ("history",)


def sheet_names(towns, taken=("排名",)) -> list[str]:
    r"""A legal, unique Excel sheet name per town, in order: the characters []:*?/\ and
    control characters dropped, no apostrophe at either end, at most 31 characters,
    unique ignoring case (as Excel compares them) against each other and ``taken``;
    an empty result becomes 未知."""
    used = {t.casefold() for t in (*taken, *EXCEL_RESERVED_SHEETS)}
    names = []
    for town in towns:
        base = "".join(c for c in str(town or "") if c not in "[]:*?/\\" and c.isprintable())
        base = base.strip().strip("'").strip()[:31].strip("'") or "未知"
        name, k = base, 1
        while name.casefold() in used:
            k += 1
            suffix = f"({k})"
            name = base[: 31 - len(suffix)].rstrip("'") + suffix
        used.add(name.casefold())
        names.append(name)
    return names


def write_assessment(
    state: pd.DataFrame,
    scores: pd.DataFrame,
    target,
    grades: pd.Series | None = None,
    campaigns=None,
    heading=None,
) -> pd.DataFrame:
    """assessment.xlsx: the ranking, then one 清单 sheet per town (Chinese headers); with
    ``grades`` (grade per enterprise name) the plots' enterprises and 亩均 grades too;
    with ``campaigns`` (:func:`zoning.campaigns.campaign_table` and the items of each
    campaign, :func:`~zoning.campaigns.campaign_items`) one 清单 sheet per campaign.
    Each item shows its class in force (分类, adjusted where adjusted) and its computed
    class beside it (测算分类). Returns the cells cut to Excel's limit (issues)."""
    zh = {
        "kind": "类型",
        "item_id": "编号",
        **({"village": "村"} if "village" in state else {}),
        "class": "分类",
        "computed_class": "测算分类",
        "adjusted": "已调整",
        "status": "状态",
        "last_event": "最近填报日期",
        "note": "备注",
        "mu": "面积（亩）",
        "floor_m2": "面积（平方米）",
        **{
            c: w
            for c, w in (("reason", "依据"), ("deadline", "整改期限"), ("responsible", "责任人"))
            if c in state and state[c].fillna("").astype(str).ne("").any()
        },
    }
    state = state.assign(adjusted=np.where(state["class"] != state["computed_class"], "是", ""))
    if "official_mu" in state and state["official_mu"].notna().any():
        zh = {
            **{k: v for k, v in zh.items() if k != "floor_m2"},
            "official_mu": "图斑面积（调查，亩）",
            "floor_m2": zh["floor_m2"],
        }
    if "enterprise" in state:
        zh["enterprise"] = "企业"
        if grades is not None:
            state = state.assign(grade=state["enterprise"].map(grades).fillna(""))
            zh["grade"] = "亩均等级"
    from .vocab import ITEM_CLASS_ZH, KIND_ZH

    kinds = KIND_ZH
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        fmt = _formats(xl.book)
        ranking = ranking_table(scores)
        notes: list = []  # cells cut to Excel's limit, the 排名 sheet's and the 清单's
        _table_sheet(xl, "排名", ranking, "镇街考评排名", fmt, notes=notes)
        # one table sorted by town, made ready once; each town's rows become its sheet
        state = state.sort_values("town", kind="stable")
        class_zh = ITEM_CLASS_ZH
        table = Columns(
            state[list(zh)]
            .assign(
                kind=state["kind"].map(kinds),
                status=state["status"].map(STATUS_ZH),
                **{c: state[c].map(class_zh).fillna(state[c]) for c in ("class", "computed_class")},
            )
            .rename(columns=zh),
            where="清单",
            id_column=zh["item_id"],
        )
        notes.append(table.notes)
        formats = {
            zh["mu"]: fmt["mu"],
            zh["floor_m2"]: fmt["m2"],
            zh.get("official_mu", "-"): fmt["mu"],
        }
        towns = state["town"].to_numpy()
        starts = (
            np.flatnonzero(np.r_[True, towns[1:] != towns[:-1]]) if len(towns) else np.zeros(0, int)
        )
        names = sheet_names([towns[i] for i in starts])
        for start, stop, name in zip(starts, np.r_[starts[1:], len(towns)], names, strict=True):
            town = towns[start]
            table.sheet(
                xl, name, f"{town or '未知'} 清单", fmt, int(start), int(stop), formats=formats
            )
        if campaigns is not None and len(campaigns[0]):
            table, members = campaigns
            campaign_sheets(xl, table, members, fmt, notes, taken=("排名", *names))
    return excel_notes(notes, target)


def write_blocks_xlsx(result, target: str | os.PathLike, *, change: pd.DataFrame) -> pd.DataFrame:
    """The blocks workbook (SPEC §11), Chinese and print-ready: blocks per town with their
    mode, reason and the three indicators baseline → latest (change %); a town summary
    of modes; freed sites per town with their reuse; the quota table; the indicator
    history; ``change`` is :func:`zoning.blocks.change_table` of the blocks. Returns the
    notes of cells cut to Excel's limit."""
    from .vocab import BLOCK_COLUMNS_ZH as ZH
    from .vocab import BLOCK_INDICATORS as INDICATORS
    from .vocab import MODE_ZH, MODES, REUSE_ZH, REUSES

    notes: list = []
    years = list(result.years)
    blocks = pd.DataFrame(result.blocks.drop(columns="geometry"))
    blocks["town"] = blocks["town"].replace("", UNKNOWN_TOWN)
    listing = blocks.merge(change, on="block_id", how="left").sort_values(
        ["town", "block_id"], kind="stable"
    )
    columns = {
        c: ZH[c]
        for c in (
            "town",
            "block_id",
            "plots",
            "mu",
            "built_year",
            "floor_area_ratio",
            "d_share",
            "mode_zh",
            "rule",
            "reason",
        )
    }
    if years:
        first, last = years[0], years[-1]
        for name in INDICATORS:
            label = ZH[name].split("（")[0]
            columns[f"{name}_baseline"] = f"{label} {first}（基准）"
            columns[f"{name}_latest"] = f"{label} {last}（最新）"
            columns[f"{name}_change_pct"] = f"{label} 变化（%）"
    listing = listing[list(columns)].rename(columns=columns)

    towns = sorted(set(blocks["town"]))
    counts = blocks.pivot_table(
        index="town", columns="mode", values="mu", aggfunc=["size", "sum"], fill_value=0
    )
    summary = pd.DataFrame({ZH["town"]: [*towns, TOTAL]})
    for mode in MODES:
        n = (
            counts["size"][mode].reindex(towns, fill_value=0)
            if len(counts) and mode in counts["size"]
            else pd.Series(0, index=towns)
        )
        mu = (
            counts["sum"][mode].reindex(towns, fill_value=0.0)
            if len(counts) and mode in counts["sum"]
            else pd.Series(0.0, index=towns)
        )
        summary[f"{MODE_ZH[mode]} 区块数"] = [*n.astype(int).tolist(), int(n.sum())]
        summary[f"{MODE_ZH[mode]} 面积（亩）"] = [*mu.astype(float).tolist(), float(mu.sum())]

    sites = pd.DataFrame(result.freed_sites.drop(columns="geometry"))
    sites["town"] = sites["town"].replace("", UNKNOWN_TOWN)
    sites = sites.sort_values(["town", "site_id"], kind="stable")
    sites = sites[
        ["town", "site_id", "plots", "mu", "boundary_share", "reuse_zh", "rule", "reason"]
    ].rename(columns=ZH)

    quota = result.towns.copy()
    quota["reuse"] = quota["reuse"].map(REUSE_ZH)
    totals = result.towns.groupby("reuse", sort=False)[["sites", "mu", "quota_mu"]].sum()
    totals = totals.reindex(list(REUSES), fill_value=0).reset_index()
    totals["reuse"] = totals["reuse"].map(REUSE_ZH)
    totals.insert(0, "town", TOTAL)
    quota = (
        pd.concat([quota, totals], ignore_index=True)
        .rename(columns=ZH)
        .rename(columns={ZH["reuse"]: ZH["reuse_zh"]})
    )

    history = result.history.rename(columns=ZH)
    with atomic_path(target) as tmp, excel_writer(tmp) as xl:
        fmt = _formats(xl.book)
        two = xl.book.add_format({"num_format": "0.00", "border": 1})
        pct = xl.book.add_format({"num_format": "0.0", "border": 1})
        year_fmt = xl.book.add_format({"num_format": "0", "border": 1})
        span = f"{years[0]}–{years[-1]}" if years else "无企业表"
        sheet = _table_sheet(
            xl,
            "区块",
            listing,
            f"老旧工业区块改造方式（亩均指标 {span}）",
            fmt,
            width=12,
            freeze_cols=2,
            notes=notes,
        )
        two_heads = {ZH["mu"], ZH["floor_area_ratio"], ZH["d_share"]} | {
            columns[k] for k in columns if k.endswith(("_baseline", "_latest"))
        }
        for i, head in enumerate(listing.columns):
            if head == ZH["reason"]:
                sheet.set_column(i, i, 70)
            elif head == ZH["built_year"]:
                sheet.set_column(i, i, 12, year_fmt)
            elif head.endswith("（%）"):
                sheet.set_column(i, i, 12, pct)
            elif head in two_heads:
                sheet.set_column(i, i, 12, two)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(1)
        ws = _table_sheet(
            xl,
            "镇街汇总",
            summary,
            "分镇街改造方式（区块数、面积）",
            fmt,
            width=14,
            freeze_cols=1,
            notes=notes,
        )
        for i, head in enumerate(summary.columns):
            if head.endswith("（亩）"):
                ws.set_column(i, i, 14, fmt["mu"])
        ws = _table_sheet(
            xl,
            "腾退地块",
            sites,
            "腾退土地再利用（每片腾退地块）",
            fmt,
            width=12,
            freeze_cols=2,
            notes=notes,
        )
        ws.set_column(3, 3, 12, fmt["mu"])
        ws.set_column(4, 4, 12, two)
        ws.set_column(7, 7, 70)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(1)
        ws = _table_sheet(
            xl,
            "建设用地指标",
            quota,
            "腾退面积与建设用地指标（城乡建设用地增减挂钩，复垦面积计指标）",
            fmt,
            width=14,
            freeze_cols=1,
            notes=notes,
        )
        ws.set_column(3, 4, 16, fmt["mu"])
        ws = _table_sheet(
            xl,
            "历年指标",
            history,
            "区块亩均指标历年（万元/亩）",
            fmt,
            width=14,
            freeze_cols=1,
            notes=notes,
        )
        ws.set_column(2, 4, 16, two)
    return excel_notes(notes, target)


# --- workshop safety and source control (SPEC §12) ----------------------------------

CHECKS_ZH = {
    "workshop_id": "作坊编号",
    "town": "镇街",
    "village": "村",
    "industry": "行业",
    "residents": "住宿人数",
    "risk_level_zh": "风险等级",
    "checks_failed_zh": "未通过检查",
    "checks_unknown_zh": "待核查项（信息缺失）",
}
POWER_LIST_ZH = {
    "workshop_id": "作坊编号",
    "town": "镇街",
    "village": "村",
    "registered_year": "登记年份",
    "reason": "原因",
}


def checks_zh(codes: pd.Series) -> pd.Series:
    """Space-separated check codes in Chinese ('S2 S4' -> 'S2 居住部分未防火分隔；S4 …')."""
    from .vocab import SAFETY_CHECK_ZH

    return (
        codes.fillna("")
        .astype(str)
        .map(lambda text: "；".join(f"{c} {SAFETY_CHECK_ZH[c]}" for c in text.split()))
    )


def safety_columns_zh(listing: pd.DataFrame) -> pd.DataFrame:
    """The SPEC §12 columns of the workshop list in Chinese words (risk level, failed and
    unknown checks, source control); a list without them is returned as it is."""
    from .vocab import NO_POWER_ZH, RISK_ZH

    if "risk_level" not in listing:
        return listing
    return listing.assign(
        risk_level_zh=listing["risk_level"].map(RISK_ZH).fillna(""),
        checks_failed_zh=checks_zh(listing["checks_failed"]),
        checks_unknown_zh=checks_zh(listing["checks_unknown"]),
        no_industrial_power_zh=np.where(
            listing["no_industrial_power"].fillna(False).astype(bool), NO_POWER_ZH, ""
        ),
    )


def safety_sheets(ws: pd.DataFrame, power: pd.DataFrame | None) -> list[tuple]:
    """(sheet, frame, title) of workshops.xlsx for SPEC §12: the three-in-one checks
    (every three-in-one workshop, worst risk first) and the power company's list."""
    from .vocab import RISK_LEVELS

    if "risk_level" not in ws:
        return []
    three = ws[ws["risk_level"].ne("none")].drop(columns="geometry", errors="ignore")
    order = three["risk_level"].map({lvl: i for i, lvl in enumerate(RISK_LEVELS)})
    three = safety_columns_zh(
        three.assign(_order=order).sort_values(["_order", "workshop_id"], kind="stable")
    )
    three = three[[c for c in CHECKS_ZH if c in three]].rename(columns=CHECKS_ZH)
    sheets = [("三合一检查", three, "三合一场所消防安全检查（S1–S6）")]
    if power is not None:
        sheets.append(
            (
                "不予供电",
                power[[c for c in POWER_LIST_ZH if c in power]].rename(columns=POWER_LIST_ZH),
                "源头管控：不予提供三相工业用电清单（供电部门）",
            )
        )
    return sheets


# --- the safety grid (SPEC §12) ------------------------------------------------------

GRID_ZH = {
    "finding_zh": "问题类型",
    "town": "镇街",
    "village": "村",
    "cluster_id": "集聚点",
    "period": "期间",
    "reason": "说明",
    "finding": "代码",
}
GRID_TOWNS_ZH = {
    "town": "镇街",
    "villages": "村数",
    "no_officer": "未配安管员村数",
    "missed_months": "缺村级月度例会（村·月）",
    "missed_quarters": "缺镇级季度例会（季）",
}


def write_grid_xlsx(result, target: str | os.PathLike, as_of: str) -> pd.DataFrame:
    """grid.xlsx, print-ready (landscape, one page wide, header rows repeated): the
    per-town summary, the findings and the rejected meeting rows, in Chinese. Returns
    the notes of cells cut to Excel's limit."""
    from .vocab import GRID_FINDING_ZH

    span = f"{result.months[0]} 至 {result.months[-1]}" if result.months else ""
    findings = result.findings.assign(finding_zh=result.findings["finding"].map(GRID_FINDING_ZH))
    findings = findings[list(GRID_ZH)].rename(columns=GRID_ZH)
    towns = result.towns.rename(columns=GRID_TOWNS_ZH)
    rejected = result.rejected.rename(
        columns={
            "row": "行号",
            "reason": "退回原因",
            "date": "日期",
            "level": "级别",
            "town": "镇街",
            "village": "村",
        }
    )
    notes: list = []
    with atomic_path(target) as tmp, excel_writer(tmp) as xl:
        fmt = _formats(xl.book)
        for name, frame, title in (
            ("镇街汇总", towns, f"安全生产网格化 镇街汇总（截至 {as_of}，考核期 {span}）"),
            ("问题清单", findings, f"安全生产网格化 问题清单（截至 {as_of}，考核期 {span}）"),
            ("退回记录", rejected, "例会记录退回（行号为原表行号，表头为第 1 行）"),
        ):
            sheet = _table_sheet(xl, name, frame, title, fmt, width=14, notes=notes)
            if name == "问题清单":
                sheet.set_column(len(frame.columns) - 2, len(frame.columns) - 2, 60)
            sheet.set_landscape()
            sheet.set_paper(9)  # A4
            sheet.fit_to_pages(1, 0)
            sheet.repeat_rows(0, 1)
    return excel_notes(notes, target)


# --- industry campaigns (SPEC §12 一行业一方案) ------------------------------------------


def campaign_sheets(
    xl, table: pd.DataFrame, members: list[pd.DataFrame], fmt: dict, notes: list, taken=()
) -> None:
    """One 清单 sheet per campaign in assessment.xlsx (a row of ``table``,
    :func:`zoning.campaigns.campaign_table`, and its items in ``members``): its workshops
    with class in force, status and latest report; the title names the target and
    deadline."""
    zh = {
        "item_id": "作坊编号",
        "town": "镇街",
        "industry": "行业",
        "class": "分类",
        "status": "状态",
        "last_event": "最近填报日期",
        "note": "备注",
        "floor_m2": "面积（平方米）",
    }
    names = sheet_names([f"{c}清单" for c in table["campaign"]], taken=taken)
    for found, name, row in zip(members, names, table.itertuples(), strict=True):
        items = found.sort_values(["town", "item_id"], kind="stable")
        frame = (
            items[[c for c in zh if c in items]]
            .assign(
                **{
                    "class": items["class"].map(WORKSHOP_CLASS_ZH).fillna(items["class"]),
                    "status": items["status"].map(STATUS_ZH).fillna(items["status"]),
                }
            )
            .rename(columns=zh)
        )
        target = "" if pd.isna(row.target_closed) else f"，目标关停/拆除 {row.target_closed} 家"
        deadline = f"，期限 {row.deadline}" if row.deadline else ""
        title = (
            f"一行业一方案：{row.campaign} 清单（{row.workshops} 家，已完成 {row.final} 家，"
            f"已关停/拆除 {row.closed} 家{target}{deadline}）"
        )
        _table_sheet(xl, name, frame, title, fmt, notes=notes)


def largest_remainder(values, groups=None, totals=None, decimals: int = 2) -> np.ndarray:
    """``values`` rounded to ``decimals`` so that within each group they add up to the
    group's total: ``totals`` (one per group code, already rounded), by default the group's
    exact sum rounded. Each value goes to its floor or its ceiling (never more than one
    last digit off); the ceilings go to the largest remainders (ties: first in order).
    ``groups`` are integer codes 0…G-1 aligned to ``values`` (default: one group).

    Rounding each figure on its own can print parts that miss their printed total by a
    digit (7 of 19 towns were off by 0.01 mu); a reader checks the sum, so the parts give.
    """
    v = np.asarray(values, dtype=float)
    g = np.zeros(len(v), dtype=np.int64) if groups is None else np.asarray(groups, np.int64)
    n_groups = int(g.max()) + 1 if len(g) else 0
    scale = 10.0**decimals
    units = np.round(np.nan_to_num(v) * scale, 6)  # float noise off before the floor
    floor = np.floor(units)
    remainder = units - floor
    if totals is None:
        target = np.round(np.bincount(g, weights=units, minlength=n_groups), 0)
    else:
        target = np.round(np.asarray(totals, dtype=float) * scale, 0)
    short = target - np.bincount(g, weights=floor, minlength=n_groups)
    counts = np.bincount(g, minlength=n_groups)
    short = np.clip(short, 0, counts).astype(np.int64)
    order = np.lexsort((np.arange(len(v)), -remainder, g))  # by group, largest first
    starts = np.r_[0, np.cumsum(counts)[:-1]] if n_groups else np.zeros(0, np.int64)
    rank = np.empty(len(v), dtype=np.int64)
    rank[order] = np.arange(len(v)) - starts[g[order]]
    out = (floor + (rank < short[g])) / scale
    return np.where(np.isnan(v), np.nan, out)


def nested_round(values, levels=(), decimals: int = 2) -> np.ndarray:
    """The parts ``values`` rounded so that every printed total of every level adds up:
    the grand total is rounded, each group of the first level gets its share of it by
    :func:`largest_remainder`, each group of the next level (nested in the first) its
    share of its parent's, and so on down to the values. ``levels``: key arrays aligned
    to ``values``, coarse to fine (e.g. town, then class)."""
    v = np.nan_to_num(np.asarray(values, dtype=float))
    parent = np.zeros(len(v), dtype=np.int64)
    parent_total = np.array([np.round(v.sum(), decimals)])
    keys: list = []
    for level in levels:
        keys.append(np.asarray(level))
        codes = pd.MultiIndex.from_arrays(keys).factorize()[0] if len(v) else np.zeros(0, np.int64)
        n = int(codes.max()) + 1 if len(codes) else 0
        sums = np.bincount(codes, weights=v, minlength=n)
        first = np.zeros(n, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]  # a row of each group
        shown = largest_remainder(sums, parent[first], parent_total, decimals)
        parent, parent_total = codes, shown
    return largest_remainder(v, parent, parent_total, decimals)


def displayed_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarise`'s table with its mu as a workbook prints them: the county total
    rounded, each town's total its share of it and each class of a town its share of the
    town's (:func:`nested_round`); the county's class totals are the sums of the towns'
    printed figures. Every printed row and column adds up; every figure is within 0.01
    of the exact one."""
    out = summary.copy()
    cells = ((out["town"] != TOTAL) & (out["class"] != "total")).to_numpy()
    for mu, m2 in (("area_mu", "area_m2"), ("official_area_mu", "official_area_m2")):
        if mu not in out:
            continue
        shown = nested_round(
            to_mu(out.loc[cells, m2].to_numpy(dtype=float)), [out.loc[cells, "town"].to_numpy()]
        )
        part = out.loc[cells, ["town", "class"]].assign(v=shown)
        by_town = part.groupby("town", sort=False)["v"].sum()
        by_class = part.groupby("class", sort=False)["v"].sum()
        values = out[mu].to_numpy(dtype=float).copy()
        values[cells] = shown
        town_total = (
            (~cells) & (out["class"] == "total").to_numpy() & (out["town"] != TOTAL).to_numpy()
        )
        values[town_total] = out.loc[town_total, "town"].map(by_town).to_numpy()
        class_total = (out["town"] == TOTAL).to_numpy() & (out["class"] != "total").to_numpy()
        values[class_total] = out.loc[class_total, "class"].map(by_class).to_numpy()
        values[((out["town"] == TOTAL) & (out["class"] == "total")).to_numpy()] = shown.sum()
        out[mu] = np.round(values, 2)
    return out


#: Headers of the plot 清单 (classified.xlsx), in order.
PLOT_LIST_ZH = {
    "parcel_id": "编号",
    "town": "镇街",
    "village": "村",
    "enterprise": "企业",
    "industry": "行业",
    "area_mu": "面积（亩）",
    "official_area_mu": "图斑面积（调查，亩）",
    "class_zh": "分类",
    "rule": "规则",
    "reason": "依据",
    "target": "目标园区/集聚点",
}
SUBTOTAL = "小计"


def plot_list(
    parcels: pd.DataFrame,
    township_parks: pd.DataFrame | None = None,
    cluster_points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The plot 清单 of a classification (canonical columns of :data:`PLOT_LIST_ZH`), one
    row per plot, sorted by town, class (SPEC order) and id, and after each town's class
    a 小计 row (``parcel_id`` = 小计) and after each town a 合计 row. ``target`` names the
    township park (consolidate) or cluster point (retain, R1) the plot goes to, by its
    ``name`` and id: ``东区园区（P003）``. Mu as printed add up (:func:`nested_round`); the
    survey's official area (SPEC §3) beside the planar one where the plots carry it."""
    n = len(parcels)
    town = (
        parcels["town"].fillna("").astype(str).replace("", UNKNOWN_TOWN)
        if "town" in parcels
        else pd.Series(UNKNOWN_TOWN, index=parcels.index)
    )
    cls = parcels["class"].astype(str)
    out = pd.DataFrame(
        {"parcel_id": parcels["parcel_id"].astype(str).to_numpy(), "town": town.to_numpy()}
    )
    for c in ("village", "enterprise", "industry"):
        out[c] = parcels[c].fillna("").astype(str).to_numpy() if c in parcels else ""
    keys = [out["town"].to_numpy(), cls.to_numpy()]
    out["area_mu"] = nested_round(to_mu(parcels["area_m2"].astype(float).fillna(0.0)), keys)
    official = "official_area_m2" in parcels
    if official:
        out["official_area_mu"] = nested_round(
            to_mu(
                pd.to_numeric(parcels["official_area_m2"], errors="coerce")
                .astype(float)
                .fillna(0.0)
            ),
            keys,
        )
    out["class"] = cls.to_numpy()
    out["class_zh"] = cls.map(CLASS_ZH).fillna(cls).to_numpy()
    out["rule"] = parcels["rule"].fillna("").astype(str).to_numpy()
    out["reason"] = parcels["reason"].fillna("").astype(str).to_numpy()
    target = (
        parcels["target_id"].fillna("").astype(str).to_numpy()
        if "target_id" in parcels
        else np.full(n, "")
    )
    names = np.full(n, "", dtype=object)
    for layer, id_field, which in (
        (township_parks, "park_id", cls == "consolidate"),
        (cluster_points, "cluster_id", cls == "retain"),
    ):
        if layer is not None and "name" in layer and id_field in layer:
            by_id = (
                layer.drop_duplicates(id_field)
                .set_index(layer[id_field].drop_duplicates().astype(str))["name"]
                .fillna("")
                .astype(str)
            )
            found = pd.Series(target).map(by_id).fillna("").to_numpy(dtype=object)
            names = np.where(which.to_numpy(), found, names)
    out["target"] = np.where(names != "", names + "（" + target + "）", target)
    out["rule_zh"] = out["rule"].map(RULE_ZH).fillna("")
    out["rule"] = np.where(out["rule_zh"] != "", out["rule"] + " " + out["rule_zh"], out["rule"])
    out = out.drop(columns="rule_zh")
    towns = sorted(out["town"].unique())
    town_order = {t: i for i, t in enumerate(towns)}
    class_order = {c: i for i, c in enumerate(CLASSES)}
    out["_t"] = out["town"].map(town_order)
    out["_c"] = out["class"].map(class_order).fillna(len(CLASSES))
    out["_s"] = 0
    sums = ["area_mu", *(["official_area_mu"] if official else [])]
    sub = (
        out.groupby(["_t", "_c"], sort=False)
        .agg(
            town=("town", "first"),
            cls=("class", "first"),
            plots=("parcel_id", "size"),
            **{c: (c, "sum") for c in sums},
        )
        .reset_index()
    )
    sub = sub.assign(
        parcel_id=SUBTOTAL,
        class_zh=sub["cls"].map(CLASS_ZH).fillna(sub["cls"]),
        village=sub["plots"].map(lambda k: f"{k} 块"),
        _s=1,
    )
    tot = (
        sub.groupby("_t", sort=False)
        .agg(town=("town", "first"), plots=("plots", "sum"), **{c: (c, "sum") for c in sums})
        .reset_index()
    )
    tot = tot.assign(
        parcel_id=TOTAL, village=tot["plots"].map(lambda k: f"{k} 块"), _c=len(CLASSES) + 1, _s=2
    )
    rows = pd.concat(
        [out, sub.drop(columns=["cls", "plots"]), tot.drop(columns="plots")], ignore_index=True
    )
    rows = rows.sort_values(["_t", "_c", "_s", "parcel_id"], kind="stable")
    for c in sums:
        rows[c] = rows[c].astype(float).round(2)
    columns = [c for c in PLOT_LIST_ZH if c in rows]
    return rows[columns].fillna("").reset_index(drop=True).astype({c: float for c in sums})


def county_list(listing: pd.DataFrame) -> pd.DataFrame:
    """The county sheet of a :func:`plot_list`: every plot sorted by class, town and id,
    a 小计 row per class (the sum of the towns' printed figures) and the county's 合计."""
    rows = listing[~listing["parcel_id"].isin([SUBTOTAL, TOTAL])].copy()
    sums = [c for c in ("area_mu", "official_area_mu") if c in rows]
    order = {CLASS_ZH.get(c, c): i for i, c in enumerate(CLASSES)}
    rows["_c"] = rows["class_zh"].map(order).fillna(len(CLASSES))
    rows["_s"] = 0
    sub = (
        rows.groupby("_c", sort=False)
        .agg(
            class_zh=("class_zh", "first"),
            plots=("parcel_id", "size"),
            **{c: (c, "sum") for c in sums},
        )
        .reset_index()
    )
    sub = sub.assign(parcel_id=SUBTOTAL, village=sub["plots"].map(lambda k: f"{k} 块"), _s=1)
    tot = pd.DataFrame(
        {
            "parcel_id": [TOTAL],
            "village": [f"{len(rows)} 块"],
            "_c": [len(CLASSES) + 1],
            "_s": [2],
            **{c: [sub[c].sum()] for c in sums},
        }
    )
    out = pd.concat([rows, sub.drop(columns="plots"), tot], ignore_index=True)
    out = out.sort_values(["_c", "_s", "town", "parcel_id"], kind="stable", na_position="first")
    for c in sums:
        out[c] = out[c].astype(float).round(2)
    return (
        out[list(listing.columns)]
        .fillna("")
        .astype({c: float for c in sums})
        .reset_index(drop=True)
    )


def write_classified_xlsx(
    listing: pd.DataFrame, target: str | os.PathLike, heading: Heading | None = None
) -> pd.DataFrame:
    """classified.xlsx, the plot 清单 of :func:`plot_list`: a county sheet (全县) with a
    小计 per class, then one sheet per town with a 小计 per class and the town's 合计;
    Chinese headers, printable (landscape, fit to width, headers on every page).
    Returns the notes of cells cut to Excel's limit."""
    notes: list = []
    county = "全县"
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        fmt = _formats(xl.book)
        whole = Columns(
            county_list(listing).rename(columns=PLOT_LIST_ZH),
            where=county,
            id_column=PLOT_LIST_ZH["parcel_id"],
        )
        notes.append(whole.notes)
        widths = {"编号": 16, "依据": 48, "目标园区/集聚点": 20, "规则": 22, "企业": 18}
        sheets: list[tuple[Columns, str, str, int, int | None]] = [
            (whole, county, "村级工业用地分类清单（全县）", 0, None)
        ]
        towns = listing["town"].to_numpy()
        table = Columns(
            listing.rename(columns=PLOT_LIST_ZH),
            where="镇街清单",
            id_column=PLOT_LIST_ZH["parcel_id"],
        )
        notes.append(table.notes)
        starts = (
            np.flatnonzero(np.r_[True, towns[1:] != towns[:-1]]) if len(towns) else np.zeros(0, int)
        )
        stops = np.r_[starts[1:], len(towns)].astype(int)
        for start, stop, name in zip(
            starts, stops, sheet_names([towns[i] for i in starts], taken=(county,)), strict=True
        ):
            sheets.append(
                (table, name, f"{towns[start]} 村级工业用地分类清单", int(start), int(stop))
            )
        for columns, name, title, start, stop in sheets:
            sheet = columns.sheet(xl, name, title, fmt, start, stop, width=11, freeze_cols=1)
            for header, width in widths.items():
                if header in columns.headers:
                    c = columns.headers.index(header)
                    sheet.set_column(c, c, width, fmt["wrap"])
    return excel_notes(notes, target)


#: Headers of the assessment's ranking sheet: the score and the parts it is made of.
RANKING_ZH = {
    "rank": "排名",
    "town": "镇街",
    "score": "得分",
    "plot_points": "地块得分",
    "workshop_points": "作坊得分",
    "block_points": "区块得分",
    "site_points": "腾退地块得分",
    "plot_mu": "地块面积（亩）",
    "plot_mu_final": "已完成面积（亩）",
    "plot_share": "地块完成率",
    "workshops": "作坊数",
    "workshops_final": "已完成作坊数",
    "workshop_share": "作坊完成率",
    # a ledger listing blocks and freed sites (SPEC §11)
    "block_mu": "区块面积（亩）",
    "block_mu_final": "已改造区块面积（亩）",
    "block_share": "区块改造完成率",
    "site_mu": "腾退地块面积（亩）",
    "site_mu_final": "已利用腾退面积（亩）",
    "site_share": "腾退地块利用率",
}


def ranking_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The ranking sheet of assessment.xlsx from the ledger's town scores: rank, town,
    score and, where the scores carry them, its parts (plot points + workshop points =
    score as printed, :func:`largest_remainder`) and what they are made of. The weights
    are in the sheet's note row."""
    out = scores.copy()
    if {"plot_points", "workshop_points"} <= set(out):
        n = len(out)
        points = [
            c for c in ("plot_points", "workshop_points", "block_points", "site_points") if c in out
        ]
        shown = largest_remainder(
            np.concatenate([out[c].to_numpy(dtype=float) for c in points]),
            np.tile(np.arange(n), len(points)),
            out["score"].to_numpy(dtype=float).round(2),
        )
        for i, c in enumerate(points):
            out[c] = shown[i * n : (i + 1) * n]
        out["score"] = out["score"].round(2)
    return out[[c for c in RANKING_ZH if c in out]].rename(columns=RANKING_ZH)


def data_heading(config=None, source: dict | None = None, as_of: str = "") -> Heading:
    """The heading of a command's workbooks: the county is the data's name (the input
    file's stem; a config's ``[report] county`` wins where a config has one); the data
    date is the input's own date (:func:`zoning.layers.source_date`: a GeoPackage layer's
    last change, a shapefile's DBF date; ``[report] data_date`` wins); the as-of date is
    ``as_of``, else the data date (a classification states the data as they were).
    ``source``: ``{"path": …, "layer": …}`` as in a run log's inputs."""
    from pathlib import Path

    from .layers import source_date

    report = dict(getattr(config, "report", None) or {})
    path = (source or {}).get("path")
    county = report.get("county") or (Path(path).stem if path else "")
    data_date = report.get("data_date") or (
        source_date(path, (source or {}).get("layer")) if path else ""
    )
    return Heading(county, data_date, as_of or data_date)


# --- blocks that change mode, freed sites that change reuse (SPEC §11 what-ifs) ---------


def block_change_sheets(xl, block_changes, fmt: dict, notes: list, names=("A", "B")) -> None:
    """Two sheets into an open workbook: 变化区块 (blocks whose mode changes: block,
    town, mu, mode before → after, rules, the reason after) and 变化腾退地块 (freed sites
    whose reuse changes), Chinese headers and words. ``block_changes``: the pair of
    :func:`zoning.blocks.changes`; ``names``: the two scenarios."""
    from .vocab import BLOCK_CHANGES_ZH as ZH
    from .vocab import MODE_ZH, REUSE_ZH

    modes, reuses = block_changes
    for sheet, frame, word, words, what in (
        ("变化区块", modes, "mode", MODE_ZH, "改造方式"),
        ("变化腾退地块", reuses, "reuse", REUSE_ZH, "利用方向"),
    ):
        shown = frame.copy()
        for side in ("from", "to"):
            shown[f"{side}_{word}"] = shown[f"{side}_{word}"].map(words).fillna("")
        shown["town"] = shown["town"].replace("", UNKNOWN_TOWN)
        shown = shown.rename(columns=ZH)
        ws = _table_sheet(
            xl,
            sheet,
            shown,
            f"{what}变化：{names[0]} → {names[1]}（{len(shown)} 处）",
            fmt,
            width=12,
            freeze_cols=1,
            notes=notes,
        )
        ws.set_column(len(shown.columns) - 1, len(shown.columns) - 1, 70)


def write_block_changes_xlsx(
    block_changes, target: str | os.PathLike, names=("A", "B"), heading: Heading | None = None
) -> pd.DataFrame:
    """A workbook of the blocks that change mode and the freed sites that change reuse
    between two ``zoning blocks`` folders (:func:`block_change_sheets`). Returns the
    notes of cells cut to Excel's limit."""
    notes: list = []
    with atomic_path(target) as tmp, excel_writer(tmp, heading) as xl:
        block_change_sheets(xl, block_changes, _formats(xl.book), notes, names)
    return excel_notes(notes, target)


#: zlib level of the zip of every workbook written through :func:`excel_writer`
#: (xlsxwriter leaves zlib's default, 6). The 100k-plot classified.xlsx deflates in 0.3 s
#: at level 2 instead of 1.4 s, 17% larger (11.3 MiB instead of 9.7; BENCHMARKS.md,
#: issue 17, ``bench/deflate_bench.py``). The same data still give the same bytes.
ZIP_LEVEL = 2

#: The level of the workbook being saved (:func:`_store_at_level`); None: zlib's default.
_ZIP_LEVEL: contextvars.ContextVar = contextvars.ContextVar("zoning_zip_level", default=None)


@functools.cache
def _level_zip():
    """The ``ZipFile`` of xlsxwriter's workbook module, in place of
    :class:`zipfile.ZipFile`: the level set in a ContextVar by :func:`_store_at_level` for
    the duration of one workbook's save, zlib's default otherwise (other xlsxwriter users
    in the process see no change)."""
    import zipfile

    import xlsxwriter.workbook

    class LevelZipFile(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            if _ZIP_LEVEL.get() is not None:
                kwargs.setdefault("compresslevel", _ZIP_LEVEL.get())
            super().__init__(*args, **kwargs)

        def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
            # xlsxwriter's in_memory mode passes a ZipInfo, which ignores compresslevel
            if compresslevel is None:
                compresslevel = self.compresslevel
            super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    if xlsxwriter.workbook.ZipFile is zipfile.ZipFile:
        xlsxwriter.workbook.ZipFile = LevelZipFile
    return LevelZipFile


def _store_at_level(book, level: int | None) -> None:
    """Save ``book`` (xlsxwriter's ``Workbook._store_workbook``: the zip written at close)
    with its zip deflating at ``level`` (None: zlib's default)."""
    _level_zip()
    token = _ZIP_LEVEL.set(level)
    try:
        type(book)._store_workbook(book)
    finally:
        _ZIP_LEVEL.reset(token)
