"""The /stats chart: answers per hour over the pack's life, and the distribution of workers'
trust scores, drawn with matplotlib's Agg backend into a PNG in memory (no file, no display).

The figure is built with the object API (Figure + FigureCanvasAgg, never pyplot's global
state), so that drawing can run in a worker thread while the bot goes on serving.
"""

from __future__ import annotations

import io
from datetime import datetime

from handlers.texts import t
from tasks.operator.packs import PackStats

WIDTH_INCHES, HEIGHT_INCHES, DPI = 9.0, 4.2, 110  # 990 x 462 pixels: sharp on a phone
ANSWERS_COLOUR = "#3b6ea8"
TRUST_COLOUR = "#5a9a5a"
TRUST_BINS = [i / 10 for i in range(11)]


def draw_stats(stats: PackStats, language: str) -> bytes:
    """The PNG of the chart (a few tens of KB)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    answers_axes, trust_axes = figure.subplots(1, 2, width_ratios=[3, 2])
    title = stats.line.progress.title
    figure.suptitle(title if len(title) <= 70 else title[:69] + "…", fontsize=12)

    answers_axes.set_title(t(language, "chart_answers_title"), fontsize=10)
    answers_axes.set_ylabel(t(language, "chart_answers"))
    if stats.hours:
        moments: list[datetime] = [moment for moment, _ in stats.hours]
        counts = [count for _, count in stats.hours]
        answers_axes.bar(moments, counts, width=1 / 24 * 0.9, align="edge", color=ANSWERS_COLOUR)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        answers_axes.xaxis.set_major_locator(locator)
        answers_axes.xaxis.set_major_formatter(
            ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        )
    else:
        _empty(answers_axes, language)

    trust_axes.set_title(t(language, "chart_trust_title"), fontsize=10)
    trust_axes.set_ylabel(t(language, "chart_workers"))
    if stats.trust:
        trust_axes.hist(stats.trust, bins=TRUST_BINS, color=TRUST_COLOUR, edgecolor="white")
        trust_axes.set_xlim(0, 1)
        trust_axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    else:
        _empty(trust_axes, language)
    for axes in (answers_axes, trust_axes):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", alpha=0.3)

    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _empty(axes: object, language: str) -> None:
    axes.text(  # type: ignore[attr-defined]
        0.5, 0.5, t(language, "chart_no_data"), ha="center", va="center", color="grey"
    )
