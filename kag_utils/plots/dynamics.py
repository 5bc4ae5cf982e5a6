"""Notebook 04's figures: metrics over training (P1 Figs. 8-9) and across lambda (Figs. 11-12),
seed means ± SE per k, with our readings marked in a strip below the curves (onsets as one
marker per k, windows as bars), so that no mark hides another or a curve."""
from __future__ import annotations

from ..figures import style
from ..p1 import dynamics as dyn
from ..p1 import lambda_xor as lx


def metric_panel(ax, d, name, metrics, legend=True):
    """One metric's seed means ± SE per k (``d``: long table with x, value, k, metric) and
    its baselines (dotted, per k). ``metrics``: name -> (column, ks, direction, label)."""
    import seaborn as sns

    sub = d[d.metric == name]
    sns.lineplot(sub, x="x", y="value", hue="k", style="k", palette=style.palette(sub.k.unique()),
                 markers={k: style.k_marker(k) for k in sub.k.unique()}, dashes=False,
                 errorbar="se", err_style="bars", ax=ax, legend=legend)
    if legend and ax.get_legend():
        ax.get_legend().set_title(None)


def marks(ax, name, metrics, feats, mark):
    """Per k: its baseline (dotted) and our onset (marker, mark="onset") or window (bar,
    mark="window"), drawn in the strip that :func:`style.reserve_strip` left free."""
    tr = ax.get_xaxis_transform()
    for j, k in enumerate(metrics[name][1]):
        f, color = feats[name, k], style.k_color(k)
        ax.axhline(f["baseline"], ls=":", color=color, lw=0.9)
        y = style.strip_y(j)
        if mark == "onset" and f["onset"]:
            ax.plot(f["onset"]["x"], y, marker=style.k_marker(k), color=color, ms=5,
                    mec="white", mew=0.5, transform=tr, ls="none")
        if mark == "window" and f["window"]:
            ax.plot([f["window"]["low"], f["window"]["high"]], [y, y], color=color, lw=3,
                    solid_capstyle="butt", transform=tr)


def ylabel(metrics, name, q1):
    """The metric's axis label (the zero-row threshold q1 belongs in the figure title)."""
    return metrics[name][3]


def evolution_figure(r, metrics, names, titles, vlines, title, q1):
    """Seed means ± SE over training (``r``: dyn.evolution_readings), one panel per metric
    name (<= 3 a row); markers in the bottom strip: our onsets; dashed: ``vlines``."""
    fig, axes = style.panel_grid(len(names), panel_height=2.3)
    for i, (ax, name, t) in enumerate(zip(axes, names, titles)):
        metric_panel(ax, r["plot"], name, metrics, legend=i == 0)
        for g in vlines:
            ax.axvline(g, ls="--", color="0.4", lw=0.9)
        ax.set_xticks([dyn.INIT_X, 0, 0.25, 0.5, 0.75, 1], ["init", 0, 0.25, 0.5, 0.75, 1])
        ax.set(xlabel="training $R^2$", title=t, ylabel=ylabel(metrics, name, q1))
    style.reserve_strip(axes)
    for ax, name in zip(axes, names):
        marks(ax, name, metrics, r["features"], "onset")
    style.figure_legend(fig, axes)
    style.suptitle(fig, title)
    return fig


def lambda_figure(r, metrics, names, readings, lams, title, q1, titles=None):
    """Seed means ± SE across lambda (``r``: lx.lambda_readings); one reading: the metrics
    in rows of <= 3 panels; several readings: one row per metric, one column per reading.
    Grey: P1's window; bars in the bottom strip: our windows."""
    if len(readings) == 1:
        fig, axes = style.panel_grid(len(names), panel_height=2.3, sharex=True)
        cells = [(ax, name, readings[0]) for ax, name in zip(axes, names)]
    else:
        if len(readings) > style.MAX_PER_ROW:
            raise ValueError(f"at most {style.MAX_PER_ROW} readings side by side")
        import matplotlib.pyplot as plt

        fig, grid = plt.subplots(len(names), len(readings), squeeze=False, sharex=True,
                                 sharey="row",
                                 figsize=(style.width(0.8), 1.75 * len(names)))
        cells = [(grid[i, j], name, reading) for i, name in enumerate(names)
                 for j, reading in enumerate(readings)]
    for i, (ax, name, reading) in enumerate(cells):
        long, _ = r["long"][reading]
        ax.axvspan(*lx.GOLDILOCKS, color="0.92", zorder=0)
        metric_panel(ax, long[long.x.isin(lams)], name, metrics, legend=i == 0)
        ax.set_xlabel(r"$\lambda$")
        if len(readings) == 1:
            ax.set(title=(titles[i] if titles else None), ylabel=ylabel(metrics, name, q1))
        else:
            ax.set(ylabel=metrics[name][3] if reading == readings[0] else "",
                   title=lx.READINGS[reading] if name == names[0] else None)
    style.reserve_strip([c[0] for c in cells])
    for ax, name, reading in cells:
        marks(ax, name, metrics, r["features"][reading], "window")
    style.figure_legend(fig, [c[0] for c in cells])
    style.suptitle(fig, title)
    return fig
