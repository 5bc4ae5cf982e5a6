"""One figure style for every notebook (issue 16: figures made for the page).

* **Sizes.** The manuscript (paper/main.tex: A4, 2.4 cm margins) prints a figure at
  ``\\linewidth`` = :data:`TEXT_WIDTH_IN` inches or a fraction of it. A figure is drawn at the
  width it is printed (``width(0.5)`` for ``\\kagfig[width=0.5\\linewidth]``), so its fonts
  (:data:`FONT_PT`, ticks and legends :data:`SMALL_PT`) land on the page at their nominal sizes,
  never below :data:`MIN_FONT_PT`.
* **Colours.** One colour per k (:data:`K_COLORS`, markers :data:`K_MARKERS`) and one per
  model, target, state, training or layer (:data:`COLORS`), the same in every figure;
  :func:`palette` gives seaborn the mapping for the levels a figure shows.
* **Grids.** :func:`panel_grid` lays out n panels at most :data:`MAX_PER_ROW` to a row
  (longer rows wrap); :func:`check_layout` is what ``Session.savefig`` enforces.

In-image titles say what a panel shows; the figure numbers (ours and P1's / P2's) belong to
the manuscript's captions, not to the image.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# paper/main.tex: \documentclass[11pt,a4paper], \usepackage[margin=2.4cm]{geometry}
PAGE_WIDTH_CM = 21.0
MARGIN_CM = 2.4
TEXT_WIDTH_IN = (PAGE_WIDTH_CM - 2 * MARGIN_CM) / 2.54     # 6.38 in: \linewidth

FONT_PT = 8.5           # labels, titles
SMALL_PT = 7.5          # tick labels, legends, annotations
MIN_FONT_PT = 7.0       # no text of a saved figure is smaller (check_layout)
MAX_PER_ROW = 3         # panels in one row of a figure
PANEL_HEIGHT_IN = 1.9   # default height of one row of panels
DPI = 150               # saved PNGs (the PDF is vector)

# Okabe-Ito / seaborn "colorblind": k = 1, 2, 3 are blue, orange, green in every figure.
K_COLORS = {1: "#0173B2", 2: "#DE8F05", 3: "#029E73", 4: "#CC78BC", 5: "#CA9161"}
K_MARKERS = {1: "o", 2: "s", 3: "^", 4: "D", 5: "v"}

INITIAL = "#8C8C8C"     # the initial (untrained) model: grey everywhere
TRAINED = "#D55E00"     # the trained model: vermillion everywhere

# One colour per named thing. Keys are normalised by :func:`key` (lower case, no spaces,
# "λ" -> "lambda"), so "λ-xor", "lambda_xor" and "lambda-xor" are one entry.
COLORS = {
    # states
    "trained": TRAINED, "final": TRAINED, "initial": INITIAL, "init": INITIAL,
    # P1 targets
    "xor": "#0072B2", "linear": "#E69F00", "random": "#555555",
    "lambda_xor": "#CC79A7", "so_xor": "#009E73", "gaussian": "#56B4E9",
    # splits of a data set
    "train": "#D55E00", "training": "#D55E00", "test": "#6A3D9A",
    # P2 training
    "standard": "#332288", "augmented": "#44AA99",
    # layers of an MLP (P2: L1, L2; notebook 07: layer 1, 2, 3)
    "l1": "#882255", "l2": "#117733", "l3": "#999933", "l4": "#AA4499",
    # models of notebook 07
    "mlp": "#0072B2", "kan": "#D55E00",
    "gelu": "#0072B2", "sin": "#E69F00", "gelu_sin": "#CC79A7", "linear_sin": "#009E73",
    # the papers' values drawn beside ours
    "paper": "#333333", "p1": "#333333", "p2": "#333333",
}
ALIASES = {"g": "gaussian", "g(lambda)": "gaussian", "soxor": "so_xor",
           "so(alpha)": "so_xor", "so(alpha)-xor": "so_xor", "lambdaxor": "lambda_xor",
           "layer1": "l1", "layer2": "l2", "layer3": "l3", "layer4": "l4",
           "layer_1": "l1", "layer_2": "l2", "layer_3": "l3", "layer_4": "l4"}
EXTRA = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]


def width(fraction: float = 1.0) -> float:
    """Figure width (inches) of a figure printed at ``fraction`` of ``\\linewidth``."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction of the text width must be in (0, 1], got {fraction}")
    return fraction * TEXT_WIDTH_IN


def key(name) -> str:
    """The :data:`COLORS` key of a level name ("λ-xor" -> "lambda_xor", "L1" -> "l1")."""
    s = str(name).strip().lower().replace("λ", "lambda").replace("α", "alpha")
    s = re.sub(r"[\s\-]+", "_", s)
    s = re.sub(r"\(\d[^)]*\)$", "", s)          # xor(32) -> xor
    return ALIASES.get(s.replace("_", ""), ALIASES.get(s, s))


def k_of(level) -> int | None:
    """The k of a level: 2, "2", "k=2", "k = 2" -> 2; anything else -> None."""
    if isinstance(level, (int,)) and not isinstance(level, bool):
        return int(level)
    m = re.fullmatch(r"\s*(?:k\s*=\s*)?(\d+)\s*", str(level))
    return int(m.group(1)) if m else None


def k_color(k) -> str:
    kk = k_of(k)
    if kk not in K_COLORS:
        raise ValueError(f"no colour for k = {k!r}: K_COLORS has k in {sorted(K_COLORS)}")
    return K_COLORS[kk]


def k_marker(k) -> str:
    return K_MARKERS.get(k_of(k), "o")


def color(name) -> str:
    """The colour of a named model, target, state, training or layer; k levels (1, "k=2")
    get :data:`K_COLORS`. An unknown name is an error (add it to :data:`COLORS`)."""
    if k_of(name) is not None:
        return k_color(name)
    c = COLORS.get(key(name))
    if c is None:
        raise ValueError(f"no colour for {name!r} (key {key(name)!r}): add it to "
                         "kag_utils.figures.style.COLORS")
    return c


def palette(levels: Iterable, kind: str = "auto") -> dict:
    """{level: colour} for seaborn's ``palette=``. ``kind``: "k" (levels are k values),
    "name" (models, targets, states, trainings, layers: their :data:`COLORS`; other names
    the unused colours of :data:`EXTRA` in level order), "auto" (k where every level reads as
    a k, else names), or "sequence" (ordered levels such as widths or batch sizes: a
    sequential map, the same for the same number of levels)."""
    levels = list(dict.fromkeys(levels))
    if kind == "auto":
        kind = "k" if levels and all(k_of(v) is not None for v in levels) else "name"
    if kind == "k":
        return {v: k_color(v) for v in levels}
    if kind == "name":
        # a name without a fixed colour takes the next unused one of EXTRA, in level order
        fixed = {v: COLORS[key(v)] for v in levels if key(v) in COLORS}
        spare = iter([c for c in EXTRA if c not in fixed.values()] + EXTRA * len(levels))
        return {v: fixed[v] if v in fixed else next(spare) for v in levels}
    if kind == "sequence":
        return dict(zip(levels, sequence_colors(len(levels))))
    raise ValueError(f"palette kind must be 'auto', 'k', 'name' or 'sequence', got {kind!r}")


def sequence_colors(n: int) -> list:
    """n colours along one sequential map (ordered levels: widths, batch sizes, lambda)."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * i / max(n - 1, 1)) for i in range(n)]


def rc() -> dict:
    """The matplotlib rcParams of the style."""
    return {
        "font.size": FONT_PT, "axes.titlesize": FONT_PT, "axes.labelsize": FONT_PT,
        "figure.titlesize": FONT_PT + 0.5, "xtick.labelsize": SMALL_PT,
        "ytick.labelsize": SMALL_PT, "legend.fontsize": SMALL_PT,
        "legend.title_fontsize": SMALL_PT, "lines.linewidth": 1.2, "lines.markersize": 4.0,
        "axes.linewidth": 0.6, "grid.linewidth": 0.5, "xtick.major.width": 0.6,
        "ytick.major.width": 0.6, "patch.linewidth": 0.6, "legend.frameon": False,
        "legend.handlelength": 1.6, "legend.borderaxespad": 0.3,
        "figure.figsize": (width(1.0), 2.4), "figure.dpi": 110, "savefig.dpi": DPI,
        "figure.constrained_layout.use": True, "savefig.bbox": "tight",
        "savefig.pad_inches": 0.02, "axes.prop_cycle": _cycle(),
    }


def _cycle():
    from cycler import cycler

    return cycler(color=[K_COLORS[k] for k in sorted(K_COLORS)] + EXTRA)


def apply() -> None:
    """Set the style (seaborn's whitegrid theme, then :func:`rc`)."""
    import matplotlib
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette=[K_COLORS[k] for k in sorted(K_COLORS)])
    matplotlib.rcParams.update(rc())


def panel_grid(n: int, ncols: int = MAX_PER_ROW, width_fraction: float = 1.0,
               panel_height: float = PANEL_HEIGHT_IN, **subplot_kw):
    """A figure of ``n`` panels, at most ``ncols`` (<= 3) per row, rows wrapped; returns
    (figure, list of n axes in reading order). Unused cells of the last row are removed."""
    import matplotlib.pyplot as plt

    if n < 1:
        raise ValueError(f"a panel grid needs at least one panel, got n = {n}")
    if not 1 <= ncols <= MAX_PER_ROW:
        raise ValueError(f"ncols must be 1..{MAX_PER_ROW}, got {ncols}")
    cols = min(n, ncols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(width(width_fraction), panel_height * rows), **subplot_kw)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def facet_size(ncols: int, width_fraction: float = 1.0, aspect: float = 1.4) -> dict:
    """``height`` and ``aspect`` for a seaborn FacetGrid of ``ncols`` (<= 3) columns whose
    figure is printed at ``width_fraction`` of the text width (legend inside)."""
    if not 1 <= ncols <= MAX_PER_ROW:
        raise ValueError(f"a facet grid has 1..{MAX_PER_ROW} columns, got {ncols}")
    panel_w = width(width_fraction) / ncols
    return {"height": panel_w / aspect, "aspect": aspect}


def k_label(k) -> str:
    return f"$k = {k_of(k)}$"


def style_k_lines(ax, ks: Sequence) -> None:
    """Give the lines of ``ax`` labelled k = ... their k marker (after a seaborn draw)."""
    for line in ax.get_lines():
        kk = k_of(str(line.get_label()).replace("$", ""))
        if kk in K_MARKERS:
            line.set_marker(K_MARKERS[kk])


# ---------------------------------------------------------------------------- the layout rule
def panel_rows(fig) -> list[int]:
    """Number of panels in each row of ``fig``: visible axes with their axis on (colour bars
    and twin axes excluded), grouped by overlapping vertical extent, counted by their left
    edges."""
    axes = [ax for ax in fig.get_axes() if ax.get_visible() and ax.axison
            and ax.get_label() != "<colorbar>"]
    boxes = [ax.get_position() for ax in axes]
    rows = []
    for b in boxes:
        mid = 0.5 * (b.y0 + b.y1)
        lefts = {round(o.x0, 3) for o in boxes if o.y0 <= mid <= o.y1}
        rows.append(len(lefts))
    return rows


def small_texts(fig, min_pt: float = MIN_FONT_PT) -> list[str]:
    """Visible non-empty texts of ``fig`` smaller than ``min_pt``."""
    from matplotlib.text import Text

    return sorted({f"{t.get_text()[:30]!r} at {t.get_fontsize():g} pt"
                   for t in fig.findobj(Text)
                   if t.get_visible() and t.get_text().strip() and t.get_fontsize() < min_pt - 1e-6})


def check_layout(fig, max_width: float = TEXT_WIDTH_IN, max_per_row: int = MAX_PER_ROW,
                 min_pt: float = MIN_FONT_PT) -> None:
    """Raise ValueError unless ``fig`` prints legibly: at most the text width wide, at most
    ``max_per_row`` panels in a row, and no text smaller than ``min_pt``."""
    problems = []
    w = fig.get_size_inches()[0]
    if w > max_width + 1e-3:
        problems.append(f"width {w:.2f} in > the printed width {max_width:.2f} in "
                        "(use kag_utils.figures.style.width(fraction))")
    rows = panel_rows(fig)
    if rows and max(rows) > max_per_row:
        problems.append(f"{max(rows)} panels in a row > {max_per_row} "
                        "(use kag_utils.figures.style.panel_grid)")
    small = small_texts(fig, min_pt)
    if small:
        problems.append(f"text below {min_pt:g} pt: {', '.join(small[:5])}")
    if problems:
        raise ValueError("figure not legible at the printed size: " + "; ".join(problems))


def saved_width(path) -> float:
    """Width (inches) of a saved PNG at :data:`DPI`."""
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0] / DPI


def check_saved_width(path, max_width: float = TEXT_WIDTH_IN, slack: float = 0.05) -> None:
    """Raise ValueError if the saved PNG (tight bounding box: what the page prints) is wider
    than ``max_width`` (+ ``slack`` inches): a legend or label sticks out of the figure."""
    w = saved_width(path)
    if w > max_width + slack:
        raise ValueError(f"{path}: saved {w:.2f} in wide > the printed width {max_width:.2f} in "
                         "(a legend or label outside the figure? place it inside)")


def reserve_strip(axes, fraction: float = 0.17) -> None:
    """Lower each axis' y-range so that its bottom ``fraction`` is empty: room for markers
    (onsets, significance windows) that must not overlap the curves. Axes that share y are
    adjusted once."""
    done: set[int] = set()
    for ax in axes:
        group = ax.get_shared_y_axes().get_siblings(ax)
        if any(id(a) in done for a in group):
            continue
        done.update(id(a) for a in group)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - fraction * (hi - lo) / (1 - fraction), hi)


def strip_y(j: int, fraction: float = 0.17) -> float:
    """Axes-fraction height of the j-th marker row (k index) inside the reserved strip."""
    return fraction * (0.2 + 0.3 * j)


def figure_legend(fig, axes, ncols: int | None = None) -> None:
    """One legend for the whole figure, centred below the panels (constrained layout keeps it
    inside the printed width), instead of a legend inside a panel that may hide a curve: the
    entries of the panels' legends (or labelled artists), without duplicates."""
    handles, labels = [], []
    for ax in axes:
        leg = ax.get_legend()
        if leg is not None:
            h, lab = leg.legend_handles, [t.get_text() for t in leg.get_texts()]
            leg.remove()
        else:
            h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab):
            if ll not in labels and not ll.startswith("_"):
                handles.append(hh)
                labels.append(ll)
    if handles:
        fig.legend(handles, labels, loc="outside lower center",
                   ncols=ncols or min(len(labels), 6))


def grid_legend(fig, ax) -> None:
    """Move the legend of ``ax`` (a seaborn facet grid's, drawn inside its first panel) below
    the figure, in as many columns as fit the figure's width, so that it hides no data."""
    leg = ax.get_legend()
    if leg is None:
        return
    handles, labels = leg.legend_handles, [t.get_text() for t in leg.get_texts()]
    leg.remove()
    w = fig.get_size_inches()[0]
    sizes = [0.45 + 0.55 * SMALL_PT / 72 * len(lab) for lab in labels]     # inches per entry
    ncols = len(labels)
    while ncols > 1 and sum(sorted(sizes)[-ncols:]) > w:
        ncols -= 1
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=ncols,
               frameon=False)


def wrap(text: str, width_in: float, size_pt: float = FONT_PT + 0.5) -> str:
    """``text`` broken into lines that fit ``width_in`` inches at ``size_pt`` (an estimate: an
    average glyph is 0.55 em), never inside a $...$ math span; existing line breaks stay."""
    per_line = max(20, int(width_in * 72 / (0.55 * size_pt)))
    out = []
    for para in text.split("\n"):
        words, merged = para.split(" "), []
        for w in words:                      # keep a math span in one piece
            if merged and merged[-1].count("$") % 2 == 1:
                merged[-1] += " " + w
            else:
                merged.append(w)
        line = ""
        for w in merged:
            if line and len(line) + 1 + len(w) > per_line:
                out.append(line)
                line = w
            else:
                line = f"{line} {w}" if line else w
        out.append(line)
    return "\n".join(out)


def suptitle(fig, text: str) -> None:
    """The figure's title, wrapped to its width."""
    fig.suptitle(wrap(text, fig.get_size_inches()[0]))
