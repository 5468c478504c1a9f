"""Charts as inline SVG drawn with matplotlib, labelled in Chinese.

The SVG has its text converted to paths (svg.fonttype 'path'), so the page needs no font and no
script to show a chart, offline, in any browser or PDF. Drawing needs a font with Chinese
glyphs: the first family of phrases.yml `charts.fonts` that matplotlib knows. matplotlib's font
list is cached from the first run; a CJK font installed later (fonts-noto-cjk) is added from
the system font folders when no preferred family is in that list.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Sequence
from datetime import date
from functools import cache

log = logging.getLogger(__name__)

# font files worth adding to matplotlib's list when its cache predates them
_CJK_FILE = re.compile(
    r"(cjk|wqy|wenquanyi|sourcehan|droidsansfallback|uming|ukai|simhei|"
    r"msyh|pingfang|notosanssc|notoserifsc)",
    re.I,
)
COLORS = ["#c0392b", "#2471a3", "#7d8c8d", "#d68910", "#229954", "#6c3483"]


def _matplotlib():
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    return matplotlib, font_manager, Figure


@cache
def find_cjk_font(preferred: tuple[str, ...]) -> str | None:
    """The first preferred family matplotlib can draw with, or None. WAREHOUSE_BULLETIN_FONT
    (a font file) is added first when set."""
    _mpl, fm, _fig = _matplotlib()
    extra = os.environ.get("WAREHOUSE_BULLETIN_FONT")
    if extra:
        try:
            fm.fontManager.addfont(extra)
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("WAREHOUSE_BULLETIN_FONT %s cannot be used: %s", extra, exc)

    def known() -> list[str]:
        names = {f.name for f in fm.fontManager.ttflist}
        return [f for f in preferred if f in names]

    found = known()
    if not found:
        for path in fm.findSystemFonts():
            if _CJK_FILE.search(os.path.basename(path)):
                try:
                    fm.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = known()
    if extra and not found:
        names = [f.name for f in fm.fontManager.ttflist if f.fname == extra]
        found = names[:1]
    return found[0] if found else None


FONT_PT = 9
WIDTH = 8.0  # inches; the page scales the SVG to its width


def label_inches(labels: Sequence[str], size_pt: float = FONT_PT) -> float:
    """About how wide the longest label is drawn: a Chinese character is one em, others
    about 0.6 em (enough to set margins without a second drawing pass)."""
    ems = max(
        (sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in label) for label in labels), default=0.0
    )
    return ems * size_pt / 72


class Charts:
    """Draws the bulletin's charts with one font; each method returns an SVG string. Margins
    are set from the labels' length: a tight bounding box would draw every chart twice."""

    def __init__(self, font: str, salt: str):
        self.font = font
        self.salt = salt
        self._n = 0

    def _svg(self, fig) -> str:
        mpl, _fm, _fig = _matplotlib()
        self._n += 1
        buf = io.StringIO()
        with mpl.rc_context({"svg.hashsalt": f"{self.salt}-{self._n}"}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        text = buf.getvalue()
        # inline in HTML: drop the XML declaration, DOCTYPE, RDF metadata (links to
        # matplotlib's site) and comments, and let the page size it
        text = text[text.index("<svg") :]
        text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
        # matplotlib writes each label again in a comment: a name holding "-->" would end it
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
        return text.replace("<svg", '<svg role="img" style="width:100%;height:auto"', 1)

    def _rc(self):
        """Every chart is built and saved inside this: tick labels are made at draw time."""
        mpl, _fm, _fig = _matplotlib()
        return mpl.rc_context(
            {
                "font.family": [self.font, "DejaVu Sans"],
                "axes.unicode_minus": False,
                "svg.fonttype": "path",
                "font.size": FONT_PT,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        )

    @staticmethod
    def _figure(
        height: float, *, left: float, top: float = 0.45, bottom: float = 0.45, right: float = 0.25
    ):
        """A figure WIDTH x height inches with margins in inches."""
        _mpl, _fm, Figure = _matplotlib()
        fig = Figure(figsize=(WIDTH, height), dpi=100)
        fig.subplots_adjust(
            left=left / WIDTH, right=1 - right / WIDTH, top=1 - top / height, bottom=bottom / height
        )
        return fig

    def trend(
        self,
        title: str,
        days: Sequence[date],
        visits: Sequence[int],
        found: Sequence[int],
        rectified: Sequence[int],
        labels: dict[str, str],
        weekly: bool,
    ) -> str:
        import matplotlib.dates as mdates

        with self._rc():
            fig = self._figure(4.2, left=0.75, top=0.45, bottom=0.4)
            top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1.2))
            fig.subplots_adjust(hspace=0.12)
            width = 5 if weekly else 0.8
            top.bar(days, visits, width=width, color=COLORS[1], label=labels["visits"])
            top.set_ylabel(labels["visits"])
            bottom.plot(days, found, marker="o", ms=3, color=COLORS[0], label=labels["found"])
            bottom.plot(
                days, rectified, marker="s", ms=3, color=COLORS[4], label=labels["rectified"]
            )
            bottom.legend(loc="best", frameon=False, ncols=2)
            bottom.set_ylabel(labels["hazards"])
            bottom.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
            for ax in (top, bottom):
                ax.grid(axis="y", color="#dddddd", linewidth=0.6)
                ax.set_axisbelow(True)
            fig.suptitle(title, fontsize=11)
            return self._svg(fig)

    def paired_bars(
        self,
        title: str,
        categories: Sequence[str],
        first: Sequence[int],
        second: Sequence[int],
        names: tuple[str, str],
    ) -> str:
        with self._rc():
            fig = self._figure(
                max(2.4, 0.45 * len(categories) + 1.3),
                left=label_inches(categories) + 0.3,
                bottom=0.75,
            )
            ax = fig.subplots()
            pos = list(range(len(categories)))
            ax.barh([p - 0.2 for p in pos], first, height=0.4, color=COLORS[1], label=names[0])
            ax.barh([p + 0.2 for p in pos], second, height=0.4, color=COLORS[4], label=names[1])
            for p, a, b in zip(pos, first, second, strict=True):
                ax.text(a, p - 0.2, f" {a}", va="center", fontsize=8)
                ax.text(b, p + 0.2, f" {b}", va="center", fontsize=8)
            ax.set_yticks(pos, categories)
            ax.invert_yaxis()
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False, ncols=2)
            ax.set_title(title, fontsize=11)
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
            ax.set_axisbelow(True)
            ax.margins(x=0.12)
            return self._svg(fig)

    def bars(self, title: str, categories: Sequence[str], values: Sequence[int], axis: str) -> str:
        with self._rc():
            fig = self._figure(
                max(2.2, 0.32 * len(categories) + 1.2),
                left=label_inches(categories) + 0.3,
                bottom=0.6,
            )
            ax = fig.subplots()
            pos = list(range(len(categories)))
            ax.barh(pos, values, height=0.6, color=COLORS[0])
            for p, v in zip(pos, values, strict=True):
                ax.text(v, p, f" {v}", va="center", fontsize=8)
            ax.set_yticks(pos, categories)
            ax.invert_yaxis()
            ax.set_xlabel(axis)
            ax.set_title(title, fontsize=11)
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
            ax.set_axisbelow(True)
            ax.margins(x=0.12)
            return self._svg(fig)

    def small_multiples(
        self, title: str, categories: Sequence[str], panels: Sequence[tuple[str, Sequence[int]]]
    ) -> str:
        """One horizontal bar panel per metric, side by side, sharing the units' axis."""
        with self._rc():
            fig = self._figure(
                max(2.4, 0.3 * len(categories) + 1.3),
                left=label_inches(categories) + 0.3,
                top=0.75,
                bottom=0.4,
            )
            axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
            fig.subplots_adjust(wspace=0.12)
            pos = list(range(len(categories)))
            for i, (ax, (name, values)) in enumerate(zip(axes, panels, strict=True)):
                ax.barh(pos, values, height=0.6, color=COLORS[i % len(COLORS)])
                for p, v in zip(pos, values, strict=True):
                    ax.text(v, p, f" {v}", va="center", fontsize=7)
                ax.set_title(name, fontsize=9)
                ax.margins(x=0.25)
                ax.grid(axis="x", color="#dddddd", linewidth=0.6)
                ax.set_axisbelow(True)
            axes[0].set_yticks(pos, categories)
            axes[0].invert_yaxis()
            fig.suptitle(title, fontsize=11)
            return self._svg(fig)
