"""Static figures for slides and reports (matplotlib): an overview map and mu per town.

Chinese labels need a CJK font; where none is installed the figures fall back to
English labels rather than printing empty boxes.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._io import atomic_path, safe_stem
from .measures import to_mu
from .vocab import CLASS_EN, CLASS_ZH, CLASSES, PALETTE

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)


def cjk_font() -> str | None:
    """The first installed font family that can show Chinese, or None."""
    from matplotlib import font_manager

    def find() -> str | None:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FAMILIES if name in installed), None)

    found = find()
    if found is None:  # matplotlib's font cache may predate an installed CJK font
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower() for key in ("cjk", "wqy", "sourcehan")):
                font_manager.fontManager.addfont(path)
        found = find()
    return found


def _setup():
    import matplotlib.pyplot as plt  # headless machines fall back to Agg by themselves

    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, *plt.rcParams["font.sans-serif"]]
    plt.rcParams["axes.unicode_minus"] = False
    names = CLASS_ZH if font else CLASS_EN
    return plt, names, font is not None


def plain(text) -> str:
    r"""Text shown as it is: matplotlib reads ``$...$`` as mathtext (``$\foo$`` raises),
    so every ``$`` of data or a title is escaped."""
    return str(text).replace("$", r"\$")


def _save(fig, target: str | os.PathLike) -> None:
    with atomic_path(target) as tmp, warnings.catch_warnings():
        # without a CJK font, Chinese town names fall back to boxes: one warning per glyph
        # would bury the command's own messages
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight")


def overview_png(
    data: dict[str, gpd.GeoDataFrame], target: str | os.PathLike, title: str | None = None
) -> Path:
    """The whole county: towns, development boundary, parks, plots coloured by class."""
    plt, names, zh = _setup()
    fig, ax = plt.subplots(figsize=(10, 8))
    if data.get("towns") is not None:
        data["towns"].boundary.plot(ax=ax, color="#777777", linewidth=0.5)
    if data.get("dev_boundary") is not None:
        data["dev_boundary"].plot(
            ax=ax, color="#7B3294", alpha=0.08, edgecolor="#7B3294", linewidth=0.6, linestyle="--"
        )
    if data.get("township_parks") is not None:
        data["township_parks"].plot(
            ax=ax, color="#56B4E9", alpha=0.4, edgecolor="black", linewidth=0.6
        )
    parcels = data["parcels"]
    handles: list[Any] = []
    for c in CLASSES:
        part = parcels[(parcels["class"] == c) & parcels.geometry.notna()]
        if len(part):
            # tiny plots vanish at county scale: draw them with an outline of their colour
            part.plot(ax=ax, color=PALETTE[c], edgecolor=PALETTE[c], linewidth=0.6)
            mu = to_mu(part["area_m2"].astype(float)).sum()
            unit = "块" if zh else "plots"
            handles.append(
                plt.Rectangle(
                    (0, 0),
                    1,
                    1,
                    color=PALETTE[c],
                    label=f"{names[c]} {len(part)} {unit} / {mu:,.2f} {'亩' if zh else 'mu'}",
                )
            )
    ax.legend(handles=handles, loc="lower right", frameon=True)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(
        plain(title)
        if (title and zh)
        else ("村级工业用地分类" if zh else "Village industrial land by class")
    )
    _save(fig, target)
    plt.close(fig)
    return Path(target)


def towns_bar_png(parcels: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Stacked bars: mu per town and class, towns by total mu."""
    plt, names, zh = _setup()
    p = parcels.assign(
        mu=to_mu(parcels["area_m2"].astype(float).fillna(0.0)),
        town=parcels["town"].fillna("").astype(str),
    )
    table = p.pivot_table(index="town", columns="class", values="mu", aggfunc="sum", fill_value=0.0)
    table = table[[c for c in CLASSES if c in table.columns and c != "unclassified"]]
    table = table.loc[table.sum(axis=1).sort_values().index]
    table.index = [plain(t) for t in table.index]  # town names as text, never mathtext
    fig, ax = plt.subplots(figsize=(9, max(4, 0.35 * len(table) + 1)))
    left = pd.Series(0.0, index=table.index)
    for c in table.columns:
        ax.barh(table.index, table[c], left=left, color=PALETTE[c], label=names[c])
        left += table[c]
    ax.set_xlabel("面积（亩）" if zh else "area (mu)")
    ax.legend(loc="lower right")
    ax.set_title("各镇街村级工业用地分类面积" if zh else "Village industrial land per town")
    ax.grid(axis="x", color="#dddddd")
    ax.set_axisbelow(True)
    _save(fig, target)
    plt.close(fig)
    return Path(target)


# --- file names ----------------------------------------------------------------------

# --- map sheets (A3 landscape, PDF and PNG) ------------------------------------------

#: A3 landscape in inches (420 x 297 mm).
A3_INCHES = (420 / 25.4, 297 / 25.4)
#: How the context layers are drawn on a sheet: (face, edge, alpha, line width, zh, en).
SHEET_CONTEXT = {
    "protected": ("#A6DBA0", "#4D9221", 0.45, 0.3, "生态保护红线/永久基本农田", "Protected land"),
    "dev_boundary": ("none", "#7B3294", 1.0, 0.9, "城镇开发边界", "Urban development boundary"),
    "township_parks": ("#56B4E9", "#000000", 0.35, 0.8, "镇级工业园区", "Township industrial park"),
    "cluster_points": ("#F0E442", "#E69F00", 0.45, 0.9, "村级工业集聚点", "Village cluster point"),
}
HIGHLIGHT = "#D7191C"


def cjk_font_file() -> str | None:
    """The file of the CJK font the figures use (Noto Sans CJK on Debian), or None."""
    from matplotlib import font_manager

    family = cjk_font()
    if family is None:
        return None
    return font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )


#: Fixed words of a sheet (their characters go into the sheet font).
SHEET_WORDS = (
    "村级工业用地分类全域合计块亩图例北千米数据来源日期制图坐标系面积按分析平面计（）：·—、，＝平方米"
    "生态保护红线永久基本农田城镇开发边界镇级园区集聚点"
)


def sheet_font(text: str, folder: str | os.PathLike) -> str | None:
    """A font holding just the characters of ``text`` (and ASCII), cut once from the CJK
    font into ``folder`` and registered with matplotlib; returns its family, or None.

    Embedding a subset of the 20 MB Noto Sans CJK collection costs seconds per PDF (the
    whole font is read each time); a small font cut once makes every sheet cheap.
    """
    import uuid

    from fontTools import subset, ttLib
    from matplotlib import font_manager

    family, path = cjk_font(), cjk_font_file()
    if family is None or path is None:
        return None
    if path.lower().endswith((".ttc", ".otc")):
        fonts = ttLib.TTCollection(path, lazy=True).fonts
        font = next((f for f in fonts if f["name"].getDebugName(1) == family), fonts[0])
    else:
        font = ttLib.TTFont(path, lazy=True)
    options = subset.Options()
    options.name_IDs, options.name_languages = ["*"], ["*"]
    sub = subset.Subsetter(options)
    chars = (
        set(text)
        | set(SHEET_WORDS)
        | set("".join(CLASS_ZH.values()))
        | {chr(c) for c in range(32, 127)}
        | set("²±")
    )
    sub.populate(text="".join(sorted(chars)))
    sub.subset(font)
    tag = uuid.uuid4().hex[:8]  # a family of its own: matplotlib caches fonts by family
    name = f"{family} zoning {tag}"
    postscript = f"{family.replace(' ', '')}-Zoning{tag}"  # e.g. NotoSansCJKSC-Zoning1a2b
    for record in font["name"].names:
        if record.nameID in (1, 3, 4, 16):
            record.string = name
        elif record.nameID == 6:
            record.string = postscript
    target = Path(folder) / f"{postscript}.otf"
    font.save(target)
    font_manager.fontManager.addfont(str(target))
    return name


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^n metres) of about a fifth of ``span_m``."""
    import math

    target = max(span_m / 5.0, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return max(s * power for s in (1, 2, 5) if s * power <= target)


def _scale_bar(ax, x0, y0, x1, y1, zh: bool) -> None:
    """A four-segment scale bar in the map's lower left (the CRS's metres)."""
    from matplotlib.patches import Rectangle

    length = nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by),
                length / 4,
                h,
                zorder=20,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
            )
        )
    unit, scale = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for frac in (0, 0.5, 1):
        value = frac * length / scale
        ax.text(
            bx + frac * length,
            by + 1.6 * h,
            f"{value:g}",
            ha="center",
            va="bottom",
            fontsize=8,
            zorder=20,
        )
    ax.text(
        bx + length + 0.01 * (x1 - x0),
        by,
        ("千米" if zh else "km") if unit == "km" else ("米" if zh else "m"),
        va="bottom",
        fontsize=8,
        zorder=20,
    )


def _north_arrow(ax, zh: bool) -> None:
    ax.annotate(
        "北" if zh else "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=14,
        zorder=20,
        arrowprops={"facecolor": "black", "width": 5, "headwidth": 14, "headlength": 14},
    )


def _window(bounds, aspect: float, pad: float = 0.06):
    """Bounds padded by ``pad`` and widened to the axes' aspect (width / height)."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 500.0), max(y1 - y0, 500.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _clip(gdf: gpd.GeoDataFrame | None, box) -> gpd.GeoDataFrame | None:
    import shapely

    if gdf is None or not len(gdf):
        return None
    return gdf[shapely.intersects(gdf.geometry.array, shapely.box(*box))]


def _sheet_extent(
    parcels: gpd.GeoDataFrame, towns: gpd.GeoDataFrame | None, town: str | None
) -> tuple:
    """(the sheet's plots, the town's outline or None, the frame the map window fits)."""
    if town is not None:
        mine = parcels[parcels["town"].fillna("") == town]
        outline = towns[towns["town"] == town] if towns is not None and "town" in towns else None
        frame = outline if outline is not None and len(outline) else mine
    else:
        mine = parcels
        outline = None
        frame = towns if towns is not None and len(towns) else parcels
    if not len(frame) or frame.geometry.isna().all():
        frame = parcels
    return mine, outline, frame


def _draw_context(
    ax, data: dict[str, gpd.GeoDataFrame], box, town: str | None, zh: bool
) -> list[Any]:
    """The context layers and the town boundaries (named on the county's sheet) within
    ``box``; returns the legend handles of the context layers drawn."""
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for layer, (face, edge, alpha, lw, zh_name, en_name) in SHEET_CONTEXT.items():
        part = _clip(data.get(layer), box)
        if part is None or not len(part):
            continue
        part.plot(
            ax=ax,
            facecolor=face,
            edgecolor=edge,
            alpha=alpha,
            linewidth=lw,
            linestyle="--" if layer == "dev_boundary" else "-",
            zorder=2,
        )
        handles.append(
            Patch(
                facecolor=face,
                edgecolor=edge,
                alpha=alpha,
                linestyle="--" if layer == "dev_boundary" else "-",
                label=zh_name if zh else en_name,
            )
        )
    near = _clip(data.get("towns"), box)
    if near is not None and len(near):
        near.boundary.plot(ax=ax, color="#777777", linewidth=0.6, zorder=3)
        if town is None and "town" in near:  # the county: every town named
            for name, pt in zip(near["town"], near.geometry.representative_point(), strict=True):
                ax.text(
                    pt.x,
                    pt.y,
                    plain(name),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="#333333",
                    zorder=15,
                    bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 1},
                )
    return handles


def _draw_plots(ax, parcels: gpd.GeoDataFrame, box, town: str | None) -> None:
    """The plots within ``box`` by class; on a town's sheet the other towns' faded."""
    plots = _clip(parcels, box)
    if plots is None:  # no plots at all: nothing to colour
        plots = parcels
    inside = (
        plots["town"].fillna("").to_numpy() == town
        if town is not None
        else np.ones(len(plots), dtype=bool)
    )
    for c in CLASSES:
        is_c = (plots["class"] == c).to_numpy()
        for here, alpha in ((False, 0.3), (True, 1.0)):  # other towns' plots faded
            part = plots[is_c & (inside == here)]
            if len(part):
                # tiny plots vanish at county scale: an outline of their colour
                part.plot(
                    ax=ax,
                    color=PALETTE[c],
                    edgecolor=PALETTE[c],
                    linewidth=0.4,
                    alpha=alpha,
                    zorder=5,
                )


def _class_rows(mine: gpd.GeoDataFrame, names: dict, zh: bool) -> list[Any]:
    """The legend rows of the sheet's classes (count and mu each) and their total."""
    from matplotlib.patches import Patch

    mu_all = to_mu(mine["area_m2"].astype(float).fillna(0.0))
    unit, mu_word = ("块", "亩") if zh else ("plots", "mu")
    rows = []
    for c in CLASSES:
        is_c = (mine["class"] == c).to_numpy()
        if is_c.any():
            rows.append(
                Patch(
                    facecolor=PALETTE[c],
                    edgecolor=PALETTE[c],
                    label=f"{names[c]}  {int(is_c.sum())} {unit}  "
                    f"{mu_all[is_c].sum():,.2f} {mu_word}",
                )
            )
    total = f"{'合计' if zh else 'Total'}  {len(mine)} {unit}  {mu_all.sum():,.2f} {mu_word}"
    rows.append(Patch(facecolor="none", edgecolor="none", label=total))
    return rows


def map_sheet(
    data: dict[str, gpd.GeoDataFrame],
    targets,
    town: str | None = None,
    title: str | None = None,
    source: str = "",
    date: str = "",
    font: str | None = None,
    lang: str = "zh",
):
    """One A3 landscape sheet (PDF and/or PNG, by each target's suffix) of the county or
    of one ``town``: plots by class, context, legend with count and mu per class, scale
    bar, north arrow, the town outlined and named, data source and date.

    Fonts are embedded (``pdf.fonttype`` 42), so the Chinese prints anywhere; ``font`` is
    a family from :func:`sheet_font` (quicker to embed than the whole CJK font). ``lang``
    ``"en"`` labels the sheet in English (as does a machine without a CJK font).
    """
    import datetime as dt

    import matplotlib
    from matplotlib.lines import Line2D

    plt, names, zh = _setup()
    if lang != "zh":
        names, zh = CLASS_EN, False
    parcels = data["parcels"]
    towns = data.get("towns")
    mine, outline, frame = _sheet_extent(parcels, towns, town)
    rc: dict[str, Any] = {"pdf.fonttype": 42, "ps.fonttype": 42}
    if font:
        rc["font.sans-serif"] = [font, *plt.rcParams["font.sans-serif"]]
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]  # keys are rcParams names
        fig = plt.figure(figsize=A3_INCHES)
        ax = fig.add_axes([0.02, 0.04, 0.72, 0.86])
        box = _window(
            frame.total_bounds if len(frame) else (0, 0, 1000, 1000),
            (0.72 * A3_INCHES[0]) / (0.86 * A3_INCHES[1]),
        )
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("#fbfaf7")
        handles = _draw_context(ax, data, box, town, zh)
        _draw_plots(ax, parcels, box, town)
        handles += block_outlines(ax, data, box, town, zh)  # SPEC §11, when given
        if outline is not None and len(outline):
            outline.boundary.plot(ax=ax, color=HIGHLIGHT, linewidth=2.4, zorder=10)
            pt = outline.geometry.union_all().representative_point()
            ax.text(
                pt.x,
                pt.y,
                plain(town),
                ha="center",
                va="center",
                fontsize=20,
                color=HIGHLIGHT,
                zorder=16,
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"},
            )
            handles.insert(0, Line2D([], [], color=HIGHLIGHT, linewidth=2.4, label=plain(town)))
        ax.set_xlabel("")
        ax.set_ylabel("")
        x0, y0, x1, y1 = box
        _scale_bar(ax, x0, y0, x1, y1, zh)
        _north_arrow(ax, zh)

        # the side panel: title, legend, notes
        heading = (
            plain(title)
            if title
            else ("村级工业用地分类" if zh else "Village industrial land by class")
        )
        sub = plain(town) if town is not None else ("全域" if zh else "whole county")
        fig.text(0.02, 0.955, f"{heading} · {sub}", fontsize=22, va="center")
        fig.legend(
            handles=_class_rows(mine, names, zh),
            loc="upper left",
            bbox_to_anchor=(0.755, 0.9),
            title="村级工业用地分类" if zh else "Village industrial land",
            fontsize=11,
            title_fontsize=13,
            frameon=False,
            alignment="left",
        )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.755, 0.55),
            title="图例" if zh else "Legend",
            fontsize=10,
            title_fontsize=12,
            frameon=False,
            alignment="left",
        )
        crs = parcels.crs.to_string() if parcels.crs is not None else "?"
        today = dt.date.today().isoformat()
        lines = (
            [
                f"数据来源：{plain(source)}" if source else "数据来源：—",
                f"数据日期：{date or '—'}",
                f"制图日期：{today}",
                f"坐标系：{crs}",
                "面积按分析坐标系平面面积计（1 亩 = 666.67 平方米）",
            ]
            if zh
            else [
                f"Source: {plain(source) or '—'}",
                f"Data date: {date or '—'}",
                f"Drawn: {today}",
                f"CRS: {crs}",
                "Areas planar in the analysis CRS (1 mu = 666.67 m²)",
            ]
        )
        fig.text(
            0.755, 0.05, "\n".join(lines), fontsize=9, va="bottom", color="#333333", linespacing=1.6
        )
        written = []
        for target in targets:
            target = Path(target)
            with atomic_path(target) as tmp, warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message="Glyph .* missing from", category=UserWarning
                )
                fig.savefig(tmp, format=target.suffix.lstrip(".").lower(), dpi=150)
            written.append(target)
        plt.close(fig)
    return written


def write_map_sheets(
    data: dict[str, gpd.GeoDataFrame],
    out_dir: str | os.PathLike,
    title: str | None = None,
    source: str = "",
    date: str = "",
    progress=None,
    lang: str = "zh",
) -> list[Path]:
    """``county.pdf``/``county.png`` and ``<town>.pdf``/``<town>.png`` per town (names
    by :func:`safe_stem`) in ``out_dir``; returns the files written."""
    out_dir = Path(out_dir)
    report = progress or (lambda _message: None)
    towns = sorted(set(data["parcels"]["town"].dropna().astype(str)))
    names = set(towns)
    if data.get("towns") is not None and "town" in data["towns"]:
        names |= set(data["towns"]["town"].dropna().astype(str))
    written = []
    with tempfile.TemporaryDirectory(prefix="zoning-font-") as folder:
        font = sheet_font("".join(names) + (title or "") + source + date + BLOCK_WORDS, folder)
        report(f"map sheet: county ({len(data['parcels'])} plots)")
        written += map_sheet(
            data,
            [out_dir / "county.pdf", out_dir / "county.png"],
            None,
            title,
            source,
            date,
            font,
            lang,
        )
        for i, town in enumerate(towns, start=1):
            stem = safe_stem(town)
            report(f"map sheet {i}/{len(towns)}: {town} -> {stem}.pdf")
            written += map_sheet(
                data,
                [out_dir / f"{stem}.pdf", out_dir / f"{stem}.png"],
                town,
                title,
                source,
                date,
                font,
                lang,
            )
    return written


def sheet_notes(folder: str | os.PathLike) -> tuple[str, str]:
    """The data source (input file names) and the date of a classification, from the
    ``run.json`` beside its ``classified.gpkg``; empty where there is none."""
    import json

    folder = Path(folder)
    run = (folder if folder.is_dir() else folder.parent) / "run.json"
    try:
        record = json.loads(run.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", ""
    inputs = record.get("inputs") or {}
    names = dict.fromkeys(
        Path(str(v.get("path", ""))).name
        for v in inputs.values()
        if isinstance(v, dict) and v.get("path")
    )
    return "、".join(names), str(record.get("started", ""))[:10]


# --- line charts ----------------------------------------------------------------------

#: Up to this many lines a legend names them; beyond it each line carries its name at its
#: end (a legend of 19 colours cannot be matched by eye).
LEGEND_LINES = 10


def line_colours(n: int) -> list:
    """``n`` distinct colours: tab10 then tab20's light shades, then evenly spaced hues."""
    from matplotlib import colormaps

    tab10 = [colormaps["tab10"](i) for i in range(10)]
    light = [colormaps["tab20"](2 * i + 1) for i in range(10)]
    colours = tab10 + light
    if n > len(colours):
        colours += [colormaps["hsv"](i / (n - 20)) for i in range(n - 20)]
    return colours[:n]


def spread(
    values, gap: float, low: float = float("-inf"), high: float = float("inf")
) -> list[float]:
    """Label positions near ``values``, at least ``gap`` apart, order kept, within
    [``low``, ``high``] where there is room: overlapping neighbours push each other apart
    by equal shares, so a crowd of labels centres on its lines."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ys = [float(values[i]) for i in order]
    for _ in range(200):
        moved = False
        for k in range(len(ys) - 1):
            d = ys[k + 1] - ys[k]
            if d < gap - 1e-9:
                push = (gap - d) / 2
                ys[k] -= push
                ys[k + 1] += push
                moved = True
        if ys:
            ys = [y + max(0.0, low - ys[0]) - max(0.0, ys[-1] - high) for y in ys]
        if not moved:
            break
    out = [0.0] * len(values)
    for i, y in zip(order, ys, strict=True):
        out[i] = y
    return out


def completion_png(history: pd.DataFrame, target: str | os.PathLike) -> Path:
    """A line per town: its score over time (``town``, ``date``, ``score``). Each town
    has its own colour; with more than :data:`LEGEND_LINES` towns the lines are named at
    their ends instead of in a legend."""
    import matplotlib.dates as mdates

    plt, _, zh = _setup()
    towns = sorted(history["town"].astype(str).unique())
    labelled = len(towns) > LEGEND_LINES
    fig, ax = plt.subplots(figsize=(11 if labelled else 9, 6 if labelled else 5))
    dates = pd.to_datetime(history["date"])
    colours = dict(zip(towns, line_colours(len(towns)), strict=True))
    ends = {}
    for town, t in history.assign(date=dates).sort_values("date").groupby("town"):
        ax.plot(
            t["date"],
            t["score"],
            marker="o",
            markersize=3,
            linewidth=1.4,
            color=colours[str(town)],
            label=plain(town),
        )
        ends[str(town)] = (t["date"].iloc[-1], float(t["score"].iloc[-1]))
    top = min(100.0, max(10.0, 1.15 * float(history["score"].max() or 0)))
    ax.set_ylim(0, top)
    if labelled and ends:
        names = list(ends)
        ys = spread([ends[n][1] for n in names], gap=top / 34, low=0, high=top)
        last = max(d for d, _ in ends.values())
        for name, y in zip(names, ys, strict=True):
            d, v = ends[name]
            ax.annotate(
                plain(name),
                xy=(d, v),
                xytext=(last + pd.Timedelta(days=4), y),
                textcoords="data",
                va="center",
                fontsize=8,
                color=[0.7 * c for c in colours[name][:3]],  # light hues darker
                arrowprops={
                    "arrowstyle": "-",
                    "color": colours[name],
                    "linewidth": 0.5,
                    "alpha": 0.6,
                },
            )
        ax.set_xlim(dates.min() - pd.Timedelta(days=3), last + pd.Timedelta(days=40))
    else:
        ax.legend(fontsize=8, ncol=2, loc="upper left")
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonthday=-1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate()
    ax.set_ylabel("得分" if zh else "score")
    ax.grid(color="#dddddd")
    ax.set_title("各镇街完成度" if zh else "Completion per town")
    _save(fig, target)
    plt.close(fig)
    return Path(target)


def sweep_chart(table: pd.DataFrame, target: str | os.PathLike | None = None, ax=None):
    """A line chart of mu per class against the swept parameter (PNG if ``target``): the
    table of :func:`zoning.scenario.sweep`."""
    plt, names, zh = _setup()
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(7, 4))
    for c in CLASSES:
        col = f"mu_{c}"
        if col in table and (table[col] > 0).any():
            ax.plot(table.index, table[col], marker="o", color=PALETTE[c], label=names[c])
    ax.set_xlabel(table.index.name)
    ax.set_ylabel("面积（亩）" if zh else "area (mu)")
    ax.grid(color="#dddddd")
    ax.legend()
    if own and target is not None:
        _save(fig, target)
        plt.close(fig)
    return ax


# --- old industrial blocks and freed land on the map sheets (SPEC §11) ----------------

#: How a sheet outlines a ``zoning blocks`` output: layer -> (column, line width, line
#: style, legend prefix zh, en, unit zh, en).
SHEET_BLOCKS: dict[str, tuple[Any, ...]] = {
    "blocks": ("mode", 1.6, "-", "区块·", "Block: ", "个", "blocks"),
    "freed_sites": ("reuse", 1.2, "--", "腾退·", "Freed: ", "片", "sites"),
}


def _block_words() -> str:
    from .vocab import MODE_ZH, REUSE_ZH

    return "区块腾退个片" + "".join(MODE_ZH.values()) + "".join(REUSE_ZH.values())


#: Words of the blocks' legend rows (their characters go into the sheet font).
BLOCK_WORDS = _block_words()


def block_outlines(ax, data: dict[str, gpd.GeoDataFrame], box, town: str | None, zh: bool) -> list:
    """The blocks outlined in the colour of their renovation mode and the freed sites
    (dashed) in that of their suggested reuse, over the plots; returns the legend rows
    (per mode and reuse: how many the town, or the county, has). Nothing when ``data``
    has no blocks."""
    from matplotlib.lines import Line2D

    from .vocab import MODE_EN, MODE_PALETTE, MODE_ZH, REUSE_EN, REUSE_PALETTE, REUSE_ZH

    looks: dict[str, tuple[dict[str, str], dict[str, str]]] = {
        "blocks": (MODE_PALETTE, MODE_ZH if zh else MODE_EN),
        "freed_sites": (REUSE_PALETTE, REUSE_ZH if zh else REUSE_EN),
    }
    rows = []
    for layer, (column, width, style, pre_zh, pre_en, unit_zh, unit_en) in SHEET_BLOCKS.items():
        gdf = data.get(layer)
        if gdf is None or not len(gdf) or column not in gdf:
            continue
        palette, names = looks[layer]
        part = _clip(gdf, box)
        assert part is not None  # gdf has rows
        mine = gdf if town is None or "town" not in gdf else gdf[gdf["town"].fillna("") == town]
        for key, colour in palette.items():
            here = part[part[column] == key]
            if len(here):
                here.boundary.plot(ax=ax, color=colour, linewidth=width, linestyle=style, zorder=8)
            n = int((mine[column] == key).sum())
            if n:
                rows.append(
                    Line2D(
                        [],
                        [],
                        color=colour,
                        linewidth=width * 1.5,
                        linestyle=style,
                        label=f"{pre_zh if zh else pre_en}{names[key]}  {n} "
                        f"{unit_zh if zh else unit_en}",
                    )
                )
    return rows
