"""Notebook 06's figures (P2): accuracy during training, the Fig. 1 grid of KA signatures
against width, rotation ratios, GELU slopes, the timeline, the spatial selections (Figs. 2-3),
image regions, the lr x weight-decay ablation, convergence of the sampled estimates and the
Fashion-MNIST cells. Facet grids keep their legend inside (first panel) and are sized to the
printed width, at most three columns (layers, k or quantities)."""
from __future__ import annotations

import numpy as np

from ..figures import style
from ..mnist import spatial

TRAININGS = ["standard", "augmented"]


def facet_kws(ncols: int, width_fraction: float = 1.0, aspect: float = 1.4, **kw) -> dict:
    """seaborn relplot keywords: legend inside the first panel, figure as wide as it is
    printed."""
    return {**style.facet_size(ncols, width_fraction, aspect),
            "facet_kws": {"legend_out": False, "margin_titles": True, **kw}}


def cat_kws(ncols: int, width_fraction: float = 1.0, aspect: float = 1.4) -> dict:
    """The same for seaborn catplot (which takes the legend and title options itself)."""
    return {**style.facet_size(ncols, width_fraction, aspect), "legend_out": False,
            "margin_titles": True}


def baseline_lines(g, value: float = 1.0, where=None) -> None:
    """A dotted no-KA baseline on every panel (``where(key)`` -> value or None per panel)."""
    for key, ax in g.axes_dict.items():
        v = value if where is None else where(key)
        if v is not None:
            ax.axhline(v, color="0.4", lw=0.8, ls=":")


def widths_axis(g, hidden) -> None:
    """Log2 width axis with the widths as ticks on every panel."""
    for ax in g.axes.flat:
        ax.set_xscale("log", base=2)
        ax.set_xticks(hidden, [str(h) for h in hidden])
        ax.minorticks_off()


def finish(g, title: str, xlabel: str | None = None, ylabel: str | None = None,
           col_template: str = "{col_name}"):
    # rows are named on their y axes (a rotated margin title as tall as a long name would
    # squeeze the panels)
    g.set_titles(row_template="", col_template=col_template)
    if xlabel is not None or ylabel is not None:
        g.set_axis_labels(xlabel or "", ylabel or "")
    if g.row_names:
        for i, name in enumerate(g.row_names):
            label = g.axes[i, 0].get_ylabel()
            text = f"{name}: {label}" if label else str(name)
            # a long row name on two lines, so that it stays within its row of panels
            g.axes[i, 0].set_ylabel(text.replace(" (", "\n(", 1) if len(text) > 16 else text)
    style.suptitle(g.figure, title)
    # the legend goes below the panels before the layout, so that the layout leaves no room
    # for it inside (an empty band under the title)
    style.grid_legend(g.figure, g.axes.flat[0])
    g.tight_layout()
    return g.figure


def accuracy_curves(curves, paper_accuracy, data: str):
    """Test accuracy against epoch per width (colour) and training (line style); P2's final
    accuracies as grey lines."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(style.width(0.7), 2.8))
    widths = sorted(curves.hidden.unique())
    sns.lineplot(curves, x="epoch", y="test_acc", hue="hidden", style="training", errorbar="sd",
                 palette=style.palette(widths, "sequence"), ax=ax)
    for t, ls in (("standard", "--"), ("augmented", ":")):
        ax.axhline(paper_accuracy[t], color="0.3", ls=ls, lw=0.9, label=f"P2 {t}")
    ax.set_ylim(max(0.5, float(curves.test_acc.min())), 1.0)
    ax.set_ylabel("test accuracy (mean ± std)")
    ax.legend(ncols=2)
    ax.set_title(f"Test accuracy during training ({data} data)")
    return fig


def trained_vs_init(long, hidden, title: str):
    """The Fig. 1 grid: one row per metric, one column per layer, colour k, line style the
    training; mean ± std over seeds; dotted: no KA (ratio 1, KL 0)."""
    import seaborn as sns

    ncols = long.layer.nunique()
    g = sns.relplot(long, x="hidden", y="value", hue="k", style="training", row="metric",
                    col="layer", kind="line", marker="o", errorbar="sd", err_style="bars",
                    palette=style.palette(long.k.unique(), "k"),
                    **facet_kws(ncols, 0.8, 1.7, sharey="row"))
    widths_axis(g, hidden)
    baseline_lines(g, where=lambda key: 0.0 if str(key[0]).startswith("KL") else 1.0)
    return finish(g, title, "hidden width h", "")


def rotation_ratios(long, hidden, title: str):
    """RR of trained (solid) and initial (dashed) networks, per training (rows) and layer."""
    import seaborn as sns

    g = sns.relplot(long, x="hidden", y="RR", hue="k", style="state", row="training",
                    col="layer", kind="line", marker="o", errorbar="sd", err_style="bars",
                    palette=style.palette(long.k.unique(), "k"),
                    style_order=["trained", "init"], **facet_kws(long.layer.nunique(), 0.8, 1.5))
    widths_axis(g, hidden)
    baseline_lines(g)
    return finish(g, title, "hidden width h", "RR")


def gelu_slopes(long, hidden, title: str):
    """Shares of 'off' and 'on' GELU slopes per layer: initial, standard and augmented."""
    import seaborn as sns

    order = ["initial", "standard (trained)", "augmented (trained)"]
    g = sns.relplot(long, x="hidden", y="share", hue="model", style="slope", col="layer",
                    kind="line", marker="o", errorbar="sd", err_style="bars", hue_order=order,
                    palette=[style.INITIAL, style.color("standard"), style.color("augmented")],
                    **facet_kws(long.layer.nunique(), 0.8, 1.3))
    widths_axis(g, hidden)
    return finish(g, title, "hidden width h", "share of (image, unit) pairs")


def timeline(long, main_epochs: int, title: str):
    """PR ratio and KL over training epochs, per quantity (rows) and layer; dashed: the main
    runs' length."""
    import seaborn as sns

    g = sns.relplot(long, x="epoch", y="value", hue="training", style="k", row="quantity",
                    col="layer", kind="line", marker="o", errorbar="sd", err_style="bars",
                    hue_order=TRAININGS, palette=style.palette(TRAININGS),
                    **facet_kws(long.layer.nunique(), 0.8, 1.6, sharey="row"))
    for (quantity, _), ax in g.axes_dict.items():
        if quantity == "PR ratio":
            ax.axhline(1.0, color="0.3", lw=0.9, ls=":")
        ax.axvline(main_epochs, color="0.5", lw=0.8, ls="--")
    return finish(g, title)


def ball_regions(radii, draws, digit):
    """Fig. 2(a): nested balls around the centre and around our first seed pixel, and our
    seed pixels on a test image."""
    import matplotlib.pyplot as plt

    fig, axes = style.panel_grid(3, panel_height=2.2)
    cmap = plt.get_cmap("Blues", len(radii) + 1)
    for ax, (center, title) in zip(axes[:2], (((14, 14), "around the centre pixel"),
                                              (draws[0]["center"], "around our first seed pixel"))):
        img = spatial.nested_balls_image(center, radii).numpy().astype(float)
        shown = np.where(img < 0, np.nan, len(radii) + 1 - img)
        shown[img == 0] = 0
        ax.imshow(shown, cmap=cmap, vmin=0, vmax=len(radii) + 1)
        ax.plot(center[1], center[0], "*", color=style.TRAINED, ms=9)
        ax.set_title(f"balls r = {', '.join(str(int(r)) for r in radii)}\n{title}")
        ax.grid(False)
    axes[2].imshow(digit, cmap="gray_r")
    for s in draws:
        axes[2].plot(s["center"][1], s["center"][0], "*", color=style.TRAINED, ms=7)
        axes[2].add_patch(plt.Circle((s["center"][1], s["center"][0]), radii[0], fill=False,
                                     color=style.TRAINED, lw=0.8))
    axes[2].set_xlim(-0.5, 27.5)
    axes[2].set_ylim(27.5, -0.5)
    axes[2].set_title(f"our {len(draws)} seed pixels, r = {radii[0]:g},\non test image 0")
    axes[2].grid(False)
    return fig


def separated_tuples(examples, gen):
    """Fig. 3(a): example column tuples with pairwise distances >= d, one panel per (k, d)."""
    fig, axes = style.panel_grid(len(examples), panel_height=2.2)
    for ax, (k_ex, d_ex) in zip(axes, examples):
        tuples = spatial.example_separated_tuples(k_ex, d_ex, 4, gen)
        img = spatial.tuples_image(tuples).numpy().astype(float)
        ax.imshow(np.where(img == 0, np.nan, img), cmap="tab10", vmin=0.5, vmax=10.5)
        for t in tuples:
            pts = np.array([[int(p) // 28, int(p) % 28] for p in t])
            ax.plot(np.r_[pts[:, 1], pts[:1, 1]], np.r_[pts[:, 0], pts[:1, 0]], lw=0.8,
                    color="0.3")
        ax.set_xlim(-0.5, 27.5)
        ax.set_ylim(27.5, -0.5)
        ax.set_title(f"{k_ex}-tuples, pairwise distance ≥ {d_ex:g}")
        ax.grid(True, alpha=0.3)
    return fig


def spatial_box(frame, x, title, order=None, xlabel=None, width_fraction: float = 0.49):
    """Box plots of per-image PR ratios (images x draws x seeds), one panel per layer (rows)
    and k (columns), standard and augmented side by side; dotted: ratio 1."""
    import seaborn as sns

    g = sns.catplot(frame, x=x, y="pr_ratio", hue="training", col="k", row="layer", kind="box",
                    order=order, hue_order=TRAININGS, palette=style.palette(TRAININGS),
                    showfliers=False, linewidth=0.6, sharey=False,
                    **cat_kws(frame.k.nunique(), width_fraction, 1.0))
    baseline_lines(g)
    return finish(g, title, xlabel or x, "PR ratio", "k = {col_name}")


def pr_ratio_bars(frame, x, col, title, order=None, xlabel="", col_template="{col_name}"):
    """PR ratio (mean ± std) per level of ``x``, standard and augmented side by side, per
    layer (rows) and ``col`` (columns); dotted: ratio 1."""
    import seaborn as sns

    g = sns.catplot(frame, x=x, y="pr_ratio", hue="training", col=col, row="layer",
                    kind="bar", errorbar="sd", order=order, hue_order=TRAININGS,
                    palette=style.palette(TRAININGS), sharey=False,
                    **cat_kws(frame[col].nunique(), 1.0, 1.4))
    baseline_lines(g)
    for ax in g.axes.flat:
        ax.tick_params(axis="x", labelrotation=30)
    return finish(g, title, xlabel, "PR ratio", col_template)


def regions_bars(frame, regions, title):
    """PR ratio per image region, per layer (rows) and k (columns)."""
    return pr_ratio_bars(frame, "region", "k", title, list(regions), "region", "k = {col_name}")


def ablation_bars(frame, title):
    """PR ratio per (lr, weight decay) setting, per layer (rows) and width (columns)."""
    return pr_ratio_bars(frame, "setting", "hidden", title, col_template="h = {col_name}")


def convergence(table, title):
    """Sampled estimates against the count of rows, columns, images or rotations, colour k,
    line style the model; bands: ± 1 SE. Three panels a row: the grid quantities (PR ratio,
    KL) one row each across the axes, then the rotation-ratio quantities one row per axis."""
    import seaborn as sns

    cells = []
    grid_q = [q for q in dict.fromkeys(table.quantity) if not str(q).startswith("rr")]
    rr_q = [q for q in dict.fromkeys(table.quantity) if str(q).startswith("rr")]
    for q in grid_q:
        cells += [(q, a) for a in dict.fromkeys(table[table.quantity == q].axis)]
    for a in dict.fromkeys(table[table.quantity.isin(rr_q)].axis):
        cells += [(q, a) for q in rr_q if ((table.quantity == q) & (table.axis == a)).any()]
    fig, axes = style.panel_grid(len(cells), panel_height=1.55)
    pal = style.palette(table.k.unique(), "k")
    for i, (ax, (q, a)) in enumerate(zip(axes, cells)):
        sub = table[(table.quantity == q) & (table.axis == a)]
        sns.lineplot(sub, x="count", y="estimate", hue="k", style="model", marker="o", ax=ax,
                     palette=pal, legend=i == 0)
        for (k, _), d in sub.groupby(["k", "model"]):
            ax.fill_between(d["count"], d.estimate - d.se, d.estimate + d.se, alpha=0.15,
                            color=style.k_color(k))
        ax.set_xscale("log", base=2)
        ax.set(title=f"{q} · {a}", xlabel="count", ylabel="")
    style.figure_legend(fig, axes[:1])
    style.suptitle(fig, title)
    return fig


def fashion_bars(cells, title):
    """Seed-mean PR ratio per width, colour k, per training (rows) and layer (columns)."""
    import seaborn as sns

    g = sns.catplot(cells, x="hidden", y="pr_ratio_mean", hue="k", col="layer", row="training",
                    kind="bar", palette=style.palette(cells.k.unique(), "k"),
                    **cat_kws(cells.layer.nunique(), 0.8, 1.4))
    baseline_lines(g)
    return finish(g, title, "hidden width h", "PR ratio")
