"""Notebook 05's figures (P1 App. A-C): minor densities (Fig. 13), mean excess functions (Fig.
14), the KA-metric panels of Figs. 15, 17 and 18 against batch size, alpha or lambda, and the
bootstrapped model's R^2 (Fig. 16)."""
from __future__ import annotations

import pandas as pd

from ..core.metrics import false_positive_rate
from ..figures import style
from ..p1.appendices import KS, long_metrics, panels
from ..readings.tails import log10_histogram


def minor_densities(pooled, ks, bins, title):
    """Densities of log10 of the size-k minors, initial and trained (``pooled``: (state, k)
    -> values); the exact zeros, which have no logarithm, are counted in each panel."""
    fig, axes = style.panel_grid(len(ks), panel_height=2.2)
    for ax, k in zip(axes, ks):
        h = log10_histogram({s: pooled[(s, k)] for s in ("initial", "trained")}, bins=bins)
        for s in ("initial", "trained"):
            ax.stairs(h[s]["density"], h["edges"], label=s, color=style.color(s), fill=True,
                      alpha=0.3)
            ax.stairs(h[s]["density"], h["edges"], color=style.color(s))
        ax.set(title=f"k = {k}", xlabel=r"$\log_{10}$ size-%d minor" % k)
        ax.text(0.03, 0.96, f"exact zeros\ninitial {h['initial']['n_zero']}\n"
                f"trained {h['trained']['n_zero']}", transform=ax.transAxes, va="top",
                fontsize=style.SMALL_PT)
    axes[0].set_ylabel("density")
    style.figure_legend(fig, axes[:1])
    style.suptitle(fig, title)
    return fig


def mean_excess(fits, qgrid, sel, ks, title):
    """Normalised mean excess functions per k, initial and trained (``fits``: (state, k) ->
    mef_fit result); dashed: the linear fits over ``qgrid[sel]``."""
    fig, axes = style.panel_grid(len(ks), panel_height=2.2)
    for ax, k in zip(axes, ks):
        for s in ("initial", "trained"):
            fit = fits[(s, k)]
            ax.plot(qgrid, fit["mef_norm"], color=style.color(s), label=s)
            ax.plot(qgrid[sel], fit["intercept"] + fit["slope"] * qgrid[sel], "--",
                    color=style.color(s), lw=0.9)
        ax.set(title=f"k = {k}", xlabel="quantile rank q")
    axes[0].set_ylabel("MEF(Q(q)) / MEF(Q(0.90))")
    style.figure_legend(fig, axes[:1])
    style.suptitle(fig, title)
    return fig


def metric_panels(df: pd.DataFrame, x: str, title: str, xlabel: str, categorical: bool,
                  q1: float, extra: tuple | None = None, hue: str = "k", span=None):
    """P1's Fig. 15 panels (:func:`kag_utils.p1.appendices.panels`: zero rows, dependent zero
    rows, normalised PR and RR, column divergence) of ``df`` against column ``x``, mean ± SE
    over seeds, three panels a row; dotted: the false-positive rates q(k) of the zero-row
    panel. ``categorical``: x as categories (pointplot) or numbers (lineplot). ``extra``:
    (long table with a "series" column and "value", title) of a sixth panel, e.g. R^2.
    ``hue``: "k", or a column of df (then k = 3 only). ``span``: (low, high) of x shaded on
    the metric panels (P1's window). Panels without data are hidden. Returns the figure."""
    import seaborn as sns

    specs = panels(q1)
    data = long_metrics(df, x, q1) if hue == "k" else None
    n = len(specs) + (extra is not None)
    fig, axes = style.panel_grid(n, panel_height=2.0)

    def draw(ax, d, h, label, legend):
        pal = style.palette(d[h].unique())
        if categorical:
            sns.pointplot(d, x=x, y="value", hue=h, order=sorted(df[x].unique()), errorbar="se",
                          dodge=0.3, markersize=3, linewidth=1.0, ax=ax, palette=pal)
        else:
            sns.lineplot(d, x=x, y="value", hue=h, errorbar="se", marker="o", ax=ax, palette=pal)
        ax.set(title=label, xlabel=xlabel, ylabel="")
        if ax.get_legend():
            if legend:
                ax.legend(title=None)
            else:
                ax.get_legend().remove()

    first = True
    for ax, (name, label, cols, scale, ref) in zip(axes, specs):
        if hue == "k":
            d = data[data.panel == name]
        else:                      # one column per panel: its k = 3 column, coloured by hue
            d = df.assign(value=df[cols[-1]] * scale, k=df[hue]) if cols[-1] in df else df[:0]
        if d.empty:
            ax.set_visible(False)
            continue
        if span is not None:
            ax.axvspan(*span, color="0.9", zorder=0)
        draw(ax, d, "k", label + ("" if hue == "k" else " (k=3)"), legend=first)
        first = False
        if ref is not None:
            ax.axhline(ref, ls="--", color="0.4", lw=0.9)
        if name == "zero" and hue == "k":
            for k in KS:
                ax.axhline(100 * false_positive_rate(q1, 32, k), ls=":", color=style.k_color(k),
                           lw=0.9)
    if extra is not None:
        draw(axes[-1], extra[0], "series", extra[1], legend=True)
    style.figure_legend(fig, axes)
    style.suptitle(fig, title)
    return fig


def bootstrapped_r2(f16df: pd.DataFrame, series_order, title):
    """Fig. 16: best training and test R^2 against batch size, one colour per series."""
    import seaborn as sns

    fig, axes = style.panel_grid(2, width_fraction=0.8, panel_height=2.6)
    pal = dict(zip(series_order, style.EXTRA))
    for ax, col, label in zip(axes, ("train_r2", "test_r2"), ("best training $R^2$", "test $R^2$")):
        sns.pointplot(f16df, x="batch_size", y=col, hue="series", hue_order=series_order,
                      errorbar="se", dodge=0.4, markersize=3, linewidth=1.0, ax=ax, palette=pal,
                      legend=ax is axes[0])
        ax.set(xlabel="batch size B", ylabel=label)
    style.figure_legend(fig, axes[:1], ncols=3)
    axes[1].axhline(0, ls="--", color="0.4", lw=0.9)
    style.suptitle(fig, title)
    return fig
