"""Notebook 07's figures (beyond the papers): learning speed and final R^2 per activation, the
excess of the primary KA metrics over the initial model (activations, depth, KAN vs MLP), and
sampled over exact 2-minor estimates."""
from __future__ import annotations

from ..figures import style
from ..readings import open_questions as oq


def excess_panels(data, x, hue, title, row=None, xlabel="", order=None, hue_order=None):
    """Seed means ± SE of the excess over the initial model, one panel per primary metric
    (two a row); with ``row`` (a column of ``data``): metrics in rows and the levels of
    ``row`` in columns when there are at most three, else one 2-panel row pair per level."""
    import seaborn as sns

    metrics = [oq.primary_label(m, k) for m, k in oq.PRIMARY]
    d = data.reset_index(drop=True)
    d = d.assign(metric=[oq.primary_label(m, k) for m, k in zip(d["metric"], d["k"])])
    levels = list(dict.fromkeys(d[hue])) if hue_order is None else list(hue_order)
    kw = dict(x=x, y="excess", hue=hue, kind="point", errorbar="se", dodge=0.35, sharey=False,
              linestyle="none", order=order, hue_order=levels, palette=style.palette(levels),
              legend_out=False)
    if row is None:
        g = sns.catplot(d, col="metric", col_order=metrics, col_wrap=2, **kw,
                        **style.facet_size(2, 1.0, 2.0))
        g.set_titles("{col_name}")
    elif d[row].nunique() <= style.MAX_PER_ROW:
        cols = list(dict.fromkeys(d[row]))
        g = sns.catplot(d, row="metric", row_order=metrics, col=row, col_order=cols, **kw,
                        **style.facet_size(len(cols), 1.0, 1.9 if len(cols) > 1 else 3.0))
        g.set_titles("{row_name} · {col_name}")
    else:
        d = d.assign(panel=d[row].astype(str) + " · " + d["metric"])
        panels = [f"{r} · {m}" for r in dict.fromkeys(d[row].astype(str)) for m in metrics]
        g = sns.catplot(d, col="panel", col_order=panels, col_wrap=2, **kw,
                        **style.facet_size(2, 1.0, 2.2))
        g.set_titles("{col_name}")
    for ax in g.axes.flat:
        ax.axhline(0, color="0.5", lw=0.8, ls=":")
        ax.tick_params(axis="x", labelrotation=30)
    g.set_axis_labels(xlabel, "excess")
    style.suptitle(g.figure, title)
    g.tight_layout()
    style.grid_legend(g.figure, g.axes.flat[0])
    return g.figure


def activation_speed(runs, criterion):
    """Epochs to the criterion and final training R^2 per target, one colour per activation."""
    import seaborn as sns

    fig, axes = style.panel_grid(2, panel_height=2.5)
    levels = list(dict.fromkeys(runs["activation"]))
    pal = style.palette(levels)
    sns.pointplot(runs, x="target_label", y="epochs_to_criterion", hue="activation",
                  errorbar="se", dodge=0.35, linestyle="none", ax=axes[0], palette=pal)
    axes[0].set(xlabel="", ylabel=f"epochs to training $R^2$ ≥ {criterion:g}", yscale="log",
                title="Learning speed (runs that reached it)")
    sns.pointplot(runs, x="target_label", y="r2_train", hue="activation", errorbar="se",
                  dodge=0.35, linestyle="none", ax=axes[1], legend=False, palette=pal)
    axes[1].set(xlabel="", ylabel="training $R^2$ (selected weights)", title="Final training $R^2$")
    style.figure_legend(fig, axes[:1], ncols=3)
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def exact_vs_sampled(samp, title):
    """Sampled over exact estimates against the number of sampled minors, per metric (two a
    row), one colour per network; mean ± sd over draws; dotted: 1."""
    import seaborn as sns

    levels = list(dict.fromkeys(samp["network"]))
    g = sns.relplot(samp, x="n_minors", y="ratio", hue="network", col="metric", kind="line",
                    errorbar="sd", err_style="bars", marker="o", col_wrap=2,
                    hue_order=levels, palette=style.palette(levels),
                    facet_kws=dict(sharey=False, legend_out=False),
                    **style.facet_size(2, 0.8, 1.5))
    for ax in g.axes.flat:
        ax.set_xscale("log")
        ax.axhline(1.0, color="0.4", lw=0.8, ls=":")
    g.set_titles("{col_name}")
    g.set_axis_labels("sampled minors per image", "sampled / exact")
    style.suptitle(g.figure, title)
    g.tight_layout()
    style.grid_legend(g.figure, g.axes.flat[0])
    return g.figure
