"""Charts as matplotlib ``Figure`` objects (no pyplot, no GUI backend) drawn with the bundled CJK font.

The GUI embeds the same Figure in a Qt canvas; PDFs take it as a PNG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache

from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from townapp.outputs.pdf import font_path


@lru_cache(maxsize=1)
def cjk_font() -> FontProperties:
    return FontProperties(fname=str(font_path()))


def _plain(values: Sequence[Decimal | float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def series_chart(years: Sequence[int], bars: dict[str, Sequence[Decimal | None]],
                 lines: dict[str, Sequence[Decimal | None]], *, title: str, unit: str,
                 figure: Figure | None = None, size: tuple[float, float] = (7.0, 3.4)) -> Figure:
    """Bars (e.g. income) and lines (e.g. debt) per year on one axis; ``figure`` is redrawn in place if given."""
    fig = figure or Figure(figsize=size, dpi=100)
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    font = cjk_font()
    positions = list(range(len(years)))
    count = max(len(bars), 1)
    width = 0.8 / count
    colours = ["#4e79a7", "#59a14f", "#9c755f", "#76b7b2"]
    for index, (name, values) in enumerate(bars.items()):
        offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
        ax.bar(offsets, _plain(values), width=width * 0.95, label=name, color=colours[index % len(colours)])
    for index, (name, values) in enumerate(lines.items()):
        ax.plot(positions, _plain(values), marker="o", linewidth=2, label=name,
                color=["#e15759", "#f28e2b"][index % 2])
    ax.set_xticks(positions)
    ax.set_xticklabels([f"{y}年" for y in years], fontproperties=font)
    ax.set_ylabel(unit, fontproperties=font)
    ax.set_title(title, fontproperties=font)
    ax.grid(axis="y", alpha=0.3)
    if bars or lines:
        top = max([v for v in (_plain([x for s in [*bars.values(), *lines.values()] for x in s])) if v == v] or [1])
        ax.set_ylim(0, top * 1.3)  # room for the legend above the tallest bar
        ax.legend(prop=font, loc="upper center", ncol=len(bars) + len(lines), frameon=False)
    if not years:
        ax.text(0.5, 0.5, "暂无年度数据", transform=ax.transAxes, ha="center", va="center", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
    fig.tight_layout()
    return fig


def stacked_bars(groups: Sequence[str], layers: Sequence[tuple[str, Sequence[int], str]], *, title: str, unit: str,
                 empty_text: str, legend_columns: int, legend_below: float,
                 figure: Figure | None = None, size: tuple[float, float] = (7.0, 3.6)) -> Figure:
    """One bar per group (village) stacked from ``layers`` (label, count per group, colour), legend under the axis.

    More than eight groups turn their names 45° and push the legend further down; ``legend_below`` is its
    offset (in axes heights) otherwise.
    """
    fig = figure or Figure(figsize=size, dpi=100)
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    font = cjk_font()
    positions = list(range(len(groups)))
    bottoms = [0] * len(groups)
    for label, counts, colour in layers:
        ax.bar(positions, counts, bottom=bottoms, label=label, color=colour, width=0.7)
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    many = len(groups) > 8
    ax.set_xticks(positions)
    ax.set_xticklabels(groups, fontproperties=font, rotation=45 if many else 0, ha="right" if many else "center",
                       fontsize=8)
    ax.set_ylabel(unit, fontproperties=font)
    ax.set_title(title, fontproperties=font, fontsize=11)
    ax.legend(prop=font, fontsize=8, ncol=legend_columns, loc="upper center",
              bbox_to_anchor=(0.5, -0.35 if many else -legend_below), frameon=False)
    if not groups:
        ax.text(0.5, 0.5, empty_text, transform=ax.transAxes, ha="center", va="center", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def figure_png(figure: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes (for PDFs and for "save as picture")."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
