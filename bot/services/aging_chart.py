"""The aging chart of the weekly summary: one stacked bar per currency, as a PNG (DESIGN: an aging chart image).

Each currency's bar splits its open items into the aging buckets, as shares of
that currency's open items (currencies are never added, and their scales differ
by orders of magnitude: 1,000 USD beside 40,000,000 IRR), with the amount open
written beside it. Drawn with matplotlib's object API on an Agg canvas: no pyplot
global state and no display, so it is safe in a server thread; the PNG carries no
software or date metadata, so the same report gives the same bytes.
"""

from __future__ import annotations

import io
from decimal import Decimal

from bot.domain.balances import BUCKETS

BUCKET_COLOURS = ("#4c9a2a", "#c5d86d", "#f2c14e", "#f78154", "#b33f40")  # current .. 90+
DPI = 100
WIDTH_PX, FRAME_PX, BAR_PX = 800, 160, 60


def chart_data(weekly: dict) -> list[tuple[str, list[Decimal]]]:
    """(currency, bucket amounts in BUCKETS order) for each currency with anything in a bucket."""
    out = []
    for cur in weekly["currencies"]:
        amounts = [Decimal(cur["buckets"][b]) for b in BUCKETS]
        if any(amounts):
            out.append((cur["currency"], amounts))
    return out


def figure_size(weekly: dict) -> tuple[int, int]:
    """The PNG's (width, height) in pixels: 800 wide, 60 per currency plus 160 for title, axis and legend."""
    return WIDTH_PX, FRAME_PX + BAR_PX * max(len(chart_data(weekly)), 1)


def aging_figure(weekly: dict):  # noqa: ANN201  (a matplotlib Figure; imported lazily)
    """The chart as a matplotlib Figure (for tests and other renderers); `aging_chart_png` draws it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = chart_data(weekly)
    width, height = figure_size(weekly)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    scope = f" - {weekly['rep_slack_id']}" if weekly.get("rep_slack_id") else ""
    ax.set_title(f"Aging as of {weekly['as_of']}{scope}", loc="left", fontsize=11)
    if not data:
        ax.text(0.5, 0.5, "Nothing open", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    labels = [cur for cur, _ in data]
    lefts = [0.0] * len(data)
    for i, bucket in enumerate(BUCKETS):  # shares are exact Decimals; float only for matplotlib's drawing
        shares = [float(amounts[i] * 100 / sum(amounts)) for _, amounts in data]
        ax.barh(labels, shares, left=lefts, color=BUCKET_COLOURS[i], label=bucket, height=0.6)
        lefts = [a + b for a, b in zip(lefts, shares, strict=True)]
    for y, (_, amounts) in enumerate(data):
        ax.text(101, y, f"{sum(amounts):,.2f}", va="center", fontsize=9)
    ax.set_xlim(0, 125)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("% of open items (amount open at the right)")
    ax.invert_yaxis()
    ax.legend(ncols=len(BUCKETS), loc="upper center", bbox_to_anchor=(0.45, -0.35 if len(data) < 3 else -0.2),
              fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def aging_chart_png(weekly: dict) -> bytes:
    """PNG bytes of the chart of a `weekly_document`; size as `figure_size` says."""
    buf = io.BytesIO()
    aging_figure(weekly).savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
