"""Static figures for slides and reports (matplotlib): an overview map and mu per town.

Chinese labels need a CJK font; where none is installed the figures fall back to
English labels rather than printing empty boxes.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._io import atomic_path
from .measures import to_mu
from .vocab import CLASS_EN, CLASS_ZH, CLASSES, PALETTE

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei",
                "PingFang SC", "Heiti SC")


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
    """Text shown as it is: matplotlib reads ``$...$`` as mathtext (``$\\foo$`` raises),
    so every ``$`` of data or a title is escaped."""
    return str(text).replace("$", r"\$")


def _save(fig, target: str | os.PathLike) -> None:
    with atomic_path(target) as tmp, warnings.catch_warnings():
        # without a CJK font, Chinese town names fall back to boxes: one warning per glyph
        # would bury the command's own messages
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight")


def overview_png(data: dict[str, gpd.GeoDataFrame], target: str | os.PathLike,
                 title: str | None = None) -> Path:
    """The whole county: towns, development boundary, parks, plots coloured by class."""
    plt, names, zh = _setup()
    fig, ax = plt.subplots(figsize=(10, 8))
    if data.get("towns") is not None:
        data["towns"].boundary.plot(ax=ax, color="#777777", linewidth=0.5)
    if data.get("dev_boundary") is not None:
        data["dev_boundary"].plot(ax=ax, color="#7B3294", alpha=0.08, edgecolor="#7B3294",
                                  linewidth=0.6, linestyle="--")
    if data.get("township_parks") is not None:
        data["township_parks"].plot(ax=ax, color="#56B4E9", alpha=0.4, edgecolor="black",
                                    linewidth=0.6)
    parcels = data["parcels"]
    handles = []
    for c in CLASSES:
        part = parcels[(parcels["class"] == c) & parcels.geometry.notna()]
        if len(part):
            # tiny plots vanish at county scale: draw them with an outline of their colour
            part.plot(ax=ax, color=PALETTE[c], edgecolor=PALETTE[c], linewidth=0.6)
            mu = to_mu(part["area_m2"].astype(float)).sum()
            unit = "块" if zh else "plots"
            handles.append(plt.Rectangle((0, 0), 1, 1, color=PALETTE[c],
                                         label=f"{names[c]} {len(part)} {unit} / "
                                               f"{mu:,.2f} {'亩' if zh else 'mu'}"))
    ax.legend(handles=handles, loc="lower right", frameon=True)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(plain(title) if (title and zh) else ("村级工业用地分类" if zh else
                                               "Village industrial land by class"))
    _save(fig, target)
    plt.close(fig)
    return Path(target)


def towns_bar_png(parcels: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Stacked bars: mu per town and class, towns by total mu."""
    plt, names, zh = _setup()
    p = parcels.assign(mu=to_mu(parcels["area_m2"].astype(float).fillna(0.0)),
                       town=parcels["town"].fillna("").astype(str))
    table = p.pivot_table(index="town", columns="class", values="mu", aggfunc="sum",
                          fill_value=0.0)
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


#: Towns named in the completion chart; beyond this the rest are drawn as grey lines.
CHART_TOWNS = 20


def completion_png(history: pd.DataFrame, target) -> None:
    """A line per town: its score over time. With more than :data:`CHART_TOWNS` towns the
    first and last ten at the latest date are named, the others drawn thin and grey."""
    plt, _, zh = _setup()
    fig, ax = plt.subplots(figsize=(9, 5))
    latest = history[history["date"] == history["date"].max()].sort_values(
        ["score", "town"], ascending=[False, True])["town"].tolist()
    named = set(latest) if len(latest) <= CHART_TOWNS else \
        set(latest[:CHART_TOWNS // 2] + latest[-(CHART_TOWNS // 2):])
    dates = pd.to_datetime(history["date"])
    for town, t in history.groupby("town", sort=True):
        if town in named:
            ax.plot(dates[t.index], t["score"], marker="o", label=plain(town), zorder=2)
        else:
            ax.plot(dates[t.index], t["score"], color="#cccccc", linewidth=0.6, zorder=1)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonthday=-1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.set_ylabel("得分" if zh else "score")
    ax.set_ylim(0, min(100.0, max(10.0, 1.15 * float(history["score"].max() or 0))))
    ax.grid(color="#dddddd")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.set_title("各镇街完成度" if zh else "Completion per town")
    _save(fig, target)
    plt.close(fig)
