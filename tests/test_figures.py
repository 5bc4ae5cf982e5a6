"""Figures made for the page (issue 16): the shared style (kag_utils.figures.style), the
layout rule Session.savefig enforces, every library drawing function on synthetic tables, the
manuscript's figure references, and (slow) every figure of a quick run at its printed size."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kag_utils.figures import style  # noqa: E402
from kag_utils.manuscript import captions  # noqa: E402
from kag_utils.manuscript.checks import used_figures  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "paper" / "main.tex"
REFERENCE = ROOT / "tests" / "reference" / "quick"


@pytest.fixture(autouse=True)
def styled():
    style.apply()
    yield
    plt.close("all")


# ------------------------------------------------------------------------------- the style
def test_text_width_is_the_manuscripts():
    tex = MAIN.read_text()
    assert "a4paper" in tex
    margin = re.search(r"\\usepackage\[margin=([\d.]+)cm\]\{geometry\}", tex)
    assert margin, "paper/main.tex: geometry margin not found; update style.TEXT_WIDTH_IN"
    assert style.TEXT_WIDTH_IN == pytest.approx((21.0 - 2 * float(margin.group(1))) / 2.54)
    assert style.width(0.5) == pytest.approx(style.TEXT_WIDTH_IN / 2)
    with pytest.raises(ValueError):
        style.width(1.2)


def test_one_colour_per_k_and_per_name():
    assert style.k_color(2) == style.k_color("k=2") == style.k_color("k = 2") == style.k_color("2")
    assert len({style.k_color(k) for k in (1, 2, 3)}) == 3
    assert style.palette(["k=1", "k=2", "k=3"]) == {f"k={k}": style.K_COLORS[k] for k in (1, 2, 3)}
    assert style.palette([3, 1]) == {3: style.K_COLORS[3], 1: style.K_COLORS[1]}
    assert style.color("λ-xor") == style.color("lambda_xor") == style.color("lambda-xor")
    assert style.color("xor(32)") == style.color("xor")
    assert style.color("layer 2") == style.color("L2") != style.color("L1")
    assert style.color("trained") != style.color("initial")
    assert style.color("standard") != style.color("augmented")
    with pytest.raises(ValueError, match="COLORS"):
        style.color("no such model")
    # unknown names take spare colours, deterministically and distinct from the fixed ones
    pal = style.palette(["gelu", "gelu+0.1sin(10z)", "z+0.1sin(10z)"])
    assert pal["gelu"] == style.COLORS["gelu"] and len(set(pal.values())) == 3
    assert pal == style.palette(["gelu", "gelu+0.1sin(10z)", "z+0.1sin(10z)"])


@pytest.mark.parametrize("n", range(1, 8))
def test_panel_grid_wraps_at_three(n):
    fig, axes = style.panel_grid(n)
    assert len(axes) == n == len(fig.axes)
    rows = style.panel_rows(fig)
    assert max(rows) == min(n, 3)
    assert fig.get_size_inches()[0] == pytest.approx(style.TEXT_WIDTH_IN)
    style.check_layout(fig)


def test_panel_grid_rejects_bad_shapes():
    with pytest.raises(ValueError):
        style.panel_grid(0)
    with pytest.raises(ValueError):
        style.panel_grid(4, ncols=4)


def test_check_layout_catches_what_does_not_print():
    fig, _ = plt.subplots(1, 4, figsize=(style.TEXT_WIDTH_IN, 2))
    with pytest.raises(ValueError, match="4 panels in a row"):
        style.check_layout(fig)
    fig, _ = plt.subplots(figsize=(13, 3))
    with pytest.raises(ValueError, match="width 13.00 in"):
        style.check_layout(fig)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("tiny", fontsize=5)
    with pytest.raises(ValueError, match="below 7 pt"):
        style.check_layout(fig)
    fig, ax = plt.subplots(figsize=(3, 2))     # a colour bar is not a panel
    fig.colorbar(ax.imshow(np.eye(3)), ax=ax)
    assert style.panel_rows(fig) == [1]


def test_reserve_strip_leaves_room_below_the_curves():
    fig, axes = style.panel_grid(2, sharey=True)
    for ax in axes:
        ax.plot([0, 1], [1, 2])
    lo, hi = axes[0].get_ylim()
    style.reserve_strip(axes)                  # shared axes are lowered once
    lo2, hi2 = axes[0].get_ylim()
    assert hi2 == hi and (lo - lo2) / (hi2 - lo2) == pytest.approx(0.17)
    assert all(style.strip_y(j) < 0.17 for j in range(3))


def test_savefig_refuses_figures_that_do_not_print(tmp_path):
    from kag_utils.pipeline.session import start

    session = start("99_test", "quick", tmp_path, parameters={})
    fig, ax = plt.subplots(figsize=(13, 3))
    with pytest.raises(ValueError, match="printed width"):
        session.savefig(fig, "wide")
    fig, ax = plt.subplots(figsize=(style.width(0.5), 2))
    ax.plot([0, 1])
    fig.text(1.05, 0.5, "a note placed outside the figure, which the tight box keeps")
    with pytest.raises(ValueError, match="saved .* wide"):
        session.savefig(fig, "text_out")
    fig, ax = plt.subplots(figsize=(style.width(0.5), 2))
    ax.plot([0, 1])
    path = session.savefig(fig, "ok")
    assert style.saved_width(path) <= style.width(0.5) + 0.05
    label = [t for t in fig.texts if t.get_text() == "params: quick"][0]
    assert label.get_position()[1] >= 1.0       # above the panels, clear of every tick


# --------------------------------------------------------------- the library's drawings
def _check(fig, fraction=1.0):
    """The figure passes Session.savefig's checks at ``fraction`` of the text width: layout,
    and nothing sticking out of it once saved (titles, legends)."""
    import tempfile

    style.check_layout(fig, max_width=style.width(fraction))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fig.png"
        fig.savefig(path)
        style.check_saved_width(path, max_width=style.width(fraction))


def _dyn_readings(xs, ks=(1, 2, 3), names=("zero", "dep", "pr")):
    rng = np.random.default_rng(0)
    rows = [{"x": x, "value": rng.normal(), "k": f"k={k}", "metric": n, "seed": s}
            for n in names for k in ks for x in xs for s in range(3)]
    feats = {(n, k): {"baseline": 0.0, "onset": {"x": xs[1]} if k < 3 else None,
                      "window": {"low": xs[1], "high": xs[-1]}} for n in names for k in ks}
    metrics = {n: (n, ks, 1, n.upper()) for n in names}
    return pd.DataFrame(rows), feats, metrics


def test_dynamics_figures_draw():
    from kag_utils.plots import dynamics

    long, feats, metrics = _dyn_readings([-0.12, 0.0, 0.5, 0.9])
    fig = dynamics.evolution_figure({"plot": long, "features": feats}, metrics,
                                    ("zero", "dep", "pr"), ("a", "b", "c"), (0.5,), "t", 0.01)
    _check(fig)
    # the k = 1 and k = 2 onsets at the same x stay apart (different heights and markers)
    onsets = [ln for ln in fig.axes[0].get_lines() if ln.get_transform() is not None
              and len(ln.get_xdata()) == 1]
    assert len({(ln.get_ydata()[0], ln.get_marker()) for ln in onsets}) == len(onsets) == 2
    lams = [0.5, 1.0, 1.5]
    long, feats, metrics = _dyn_readings(lams)
    r = {"long": {"in": (long, None), "out": (long, None)},
         "features": {"in": feats, "out": feats}}
    _check(dynamics.lambda_figure(r, metrics, ("zero", "dep", "pr"), ("in",), lams, "t", 0.01,
                                  ("a", "b", "c")))
    fig = dynamics.lambda_figure(r, metrics, ("zero", "dep", "pr"), ("in", "out"), lams, "t", 0.01)
    assert max(style.panel_rows(fig)) == 2
    _check(fig)


def test_appendix_figures_draw():
    from kag_utils.plots import appendices

    rng = np.random.default_rng(0)
    pooled = {(s, k): rng.lognormal(size=500) for s in ("initial", "trained") for k in (1, 2, 3)}
    _check(appendices.minor_densities(pooled, (1, 2, 3), 20, "t"))
    q = np.linspace(0.9, 0.999, 50)
    fits = {(s, k): {"mef_norm": 1 + q, "intercept": 1.0, "slope": 1.0}
            for s in ("initial", "trained") for k in (1, 2, 3)}
    _check(appendices.mean_excess(fits, q, q > 0.95, (1, 2, 3), "t"))
    f16 = pd.DataFrame([{"batch_size": b, "series": s, "seed": i, "train_r2": rng.random(),
                         "test_r2": rng.random()} for b in (32, 1000)
                        for s in ("a", "b", "c") for i in range(2)])
    _check(appendices.bootstrapped_r2(f16, ["a", "b", "c"], "t"), 0.8)


def test_mnist_figures_draw():
    import torch

    from kag_utils.plots import mnist

    rng = np.random.default_rng(0)
    hidden = [32, 64]
    base = [dict(training=t, layer=l, k=k, hidden=h, seed=s) for t in ("standard", "augmented")
            for l in ("L1", "L2") for k in (1, 2) for h in hidden for s in range(2)]
    fig1 = pd.DataFrame([{**b, "metric": m, "value": rng.random()} for b in base
                         for m in ("PR ratio", "KL")])
    _check(mnist.trained_vs_init(fig1, hidden, "t"), 0.8)
    rr = pd.DataFrame([{**b, "state": st, "RR": rng.random()} for b in base
                       for st in ("trained", "init")])
    _check(mnist.rotation_ratios(rr, hidden, "t"), 0.8)
    act = pd.DataFrame([dict(model=m, hidden=h, seed=s, layer=l, slope=sl, share=rng.random())
                        for m in ("initial", "standard (trained)", "augmented (trained)")
                        for h in hidden for s in range(2) for l in ("L1", "L2")
                        for sl in ("off", "on")])
    _check(mnist.gelu_slopes(act, hidden, "t"), 0.8)
    tl = pd.DataFrame([dict(epoch=e, value=rng.random(), training=t, k=1, quantity=q, layer=l,
                            seed=s) for e in (0, 5) for t in ("standard", "augmented")
                       for q in ("PR ratio", "KL") for l in ("L1", "L2") for s in range(2)])
    _check(mnist.timeline(tl, 3, "t"), 0.8)
    curves = pd.DataFrame([dict(epoch=e, test_acc=0.9, hidden=h, training=t, seed=s)
                           for e in (1, 2) for h in hidden for t in ("standard", "augmented")
                           for s in range(2)])
    _check(mnist.accuracy_curves(curves, {"standard": 0.98, "augmented": 0.97}, "embedded"), 0.7)
    draws = [{"center": (10, 12)}, {"center": (15, 9)}]
    _check(mnist.ball_regions([1.0, 3.0], draws, np.zeros((28, 28))))
    _check(mnist.separated_tuples(((2, 1.0), (3, 7.0)), torch.Generator().manual_seed(0)))
    box = pd.DataFrame([dict(radius=r, pr_ratio=rng.random() + 1, training=t, k=k, layer=l)
                        for r in (1, 3, 5) for t in ("standard", "augmented") for k in (2, 3)
                        for l in ("L1", "L2") for _ in range(4)])
    _check(mnist.spatial_box(box, "radius", "t", xlabel="r"), 0.49)
    reg = box.rename(columns={"radius": "region"}).assign(region=lambda d: d.region.map(
        {1: "top left", 3: "centre", 5: "bottom right"}))
    _check(mnist.regions_bars(reg, ["top left", "centre", "bottom right"], "t"))
    ab = box.rename(columns={"radius": "setting"}).assign(hidden=32)
    _check(mnist.ablation_bars(ab, "t"))
    conv = pd.DataFrame([dict(count=c, estimate=rng.random(), se=0.1, k=k, model=m, quantity=q,
                              axis=a) for c in (4, 8) for k in (1, 2) for m in ("h32",)
                         for q in ("pr_ratio", "kl", "rr_init", "rr_ratio")
                         for a in ("rows", "cols", "images") + (("rotations",) if q[:2] == "rr" else ())])
    _check(mnist.convergence(conv, "t"))
    cells = pd.DataFrame([dict(hidden=h, pr_ratio_mean=rng.random(), k=k, layer=l, training=t)
                          for h in hidden for k in (1, 2) for l in ("L1", "L2")
                          for t in ("standard", "augmented")])
    _check(mnist.fashion_bars(cells, "t"), 0.8)


def test_open_question_figures_draw():
    from kag_utils.plots import open_questions as oqf
    from kag_utils.readings import open_questions as oq

    rng = np.random.default_rng(0)
    ex = pd.DataFrame([dict(metric=m, k=k, excess=rng.normal(), target=t, model=mo, seed=s)
                       for m, k in oq.PRIMARY for t in ("xor", "linear") for mo in ("KAN", "MLP")
                       for s in range(2)])
    _check(oqf.excess_panels(ex, "target", "model", "t"))
    fig = oqf.excess_panels(ex, "model", "model", "t", row="target")
    assert max(style.panel_rows(fig)) == 2
    _check(fig)
    many = pd.concat([ex.assign(target=f"λ={v}") for v in range(5)])
    _check(oqf.excess_panels(many, "model", "model", "t", row="target"))
    runs = pd.DataFrame([dict(target_label=t, activation=a, epochs_to_criterion=10 + s,
                              r2_train=0.9) for t in ("xor", "λ=1.5")
                         for a in ("gelu", "gelu+0.1sin(10z)") for s in range(2)])
    _check(oqf.activation_speed(runs, 0.9))
    samp = pd.DataFrame([dict(n_minors=n, ratio=1 + rng.normal(0, 0.01), network=f"h={h} L1",
                              metric=m) for n in (100, 1000) for h in (32, 64)
                         for m in ("PR", "KL", "PR ratio") for _ in range(2)])
    _check(oqf.exact_vs_sampled(samp, "t"), 0.8)


def test_verdict_heatmap_draws_at_its_width():
    from kag_utils.p1 import early_stopping as es

    table = pd.DataFrame([dict(claim=f"claim {c}", reading=f"reading {r}",
                               verdict=["reproduced", "not reproduced"][(c + r) % 2])
                          for c in range(6) for r in range(8)])
    _check(es.verdict_heatmap(table, "t", width_fraction=0.8), 0.8)


# ------------------------------------------------------------ the manuscript's figures
def _figure_environments(tex: str):
    """(figure names, caption text) of every figure environment of the manuscript."""
    for block in re.findall(r"\\begin\{figure\}.*?\\end\{figure\}", tex, flags=re.S):
        names = re.findall(r"\\kagfig\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}", block)
        cap = re.search(r"\\caption\{(.*)\}", block, flags=re.S)
        yield names, cap.group(1) if cap else ""


def _reference_figures() -> set[str]:
    import json

    return {f for p in REFERENCE.glob("*.json")
            for f in json.loads(p.read_text())["numbers"].get("figures", [])}


def test_every_figure_the_manuscript_cites_is_made_by_a_notebook():
    used = used_figures([MAIN])
    missing = sorted(set(used) - _reference_figures())
    assert not missing, f"figures in paper/main.tex that no notebook saves: {missing}"
    tex = MAIN.read_text()
    labels = set(re.findall(r"\\label\{(fig:[^}]*)\}", tex))
    refs = set(re.findall(r"\\ref\{(fig:[^}]*)\}", tex))
    assert refs <= labels, f"\\ref to figures without a \\label: {sorted(refs - labels)}"


def test_captions_give_the_papers_figure_number():
    bad = []
    for names, caption in _figure_environments(MAIN.read_text()):
        for name in names:
            label = captions.paper_figure(name)
            if label is None:
                continue
            paper, number = captions.PAPER_FIGURES[name]
            macro = {"P1": r"\Pone{}", "P2": r"\Ptwo{}"}[paper]
            first = number.split("-")[0]
            # "\Pone{} Fig.~8", or one of several: "\Pone{} Figs.~11 (top) and 12 (bottom)"
            if not re.search(re.escape(macro) + r"\s*Figs?\.~[^:]*?(?<![\d.])" + re.escape(first)
                             + r"(?!\d)", caption):
                bad.append(f"{name}: caption lacks '{label}'")
    assert not bad, "\n".join(bad)
    assert set(captions.PAPER_FIGURES) <= _reference_figures()


def test_generated_captions_name_the_paper_figure():
    assert captions.paper_figure("fig8_zero_rows_evolution") == "P1 Fig. 8"
    assert captions.paper_figure("fig11_12_lambda_dead_rows_out") == "P1 Figs. 11-12"
    assert captions.paper_figure_tex("fig2a_ball_regions") == "P2 Fig.~2(a)"
    assert captions.paper_figure("fig0_targets") is None


def _included_widths() -> dict[str, float]:
    """figure name -> the fraction of \\linewidth the manuscript prints it at."""
    out = {}
    for opts, name in re.findall(r"\\kagfig\s*\[([^\]]*)\]\s*\{([^{}]*)\}", MAIN.read_text()):
        m = re.search(r"width=([\d.]*)\\linewidth", opts)
        if m:
            out[name] = float(m.group(1) or 1.0)
    return out


@pytest.mark.slow
def test_quick_run_figures_print_legibly(quick_run):
    """Every figure a quick run saves is at most as wide as the text, and every figure the
    manuscript includes is at most as wide as it prints (never shrunk: fonts stay >= 7 pt)."""
    figs = sorted((quick_run / "figures" / "quick").glob("*.png"))
    assert figs
    slack = 0.05
    wide = [f"{p.stem}: {style.saved_width(p):.2f} in" for p in figs
            if style.saved_width(p) > style.TEXT_WIDTH_IN + slack]
    assert not wide, f"wider than the text ({style.TEXT_WIDTH_IN:.2f} in): {wide}"
    saved = {p.stem: style.saved_width(p) for p in figs}
    missing = sorted(set(used_figures([MAIN])) - set(saved))
    assert not missing, f"figures the manuscript cites that the quick run did not save: {missing}"
    shrunk = [f"{n}: {saved[n]:.2f} in printed at {f:g} linewidth" for n, f in
              _included_widths().items() if saved[n] > style.width(f) + slack]
    assert not shrunk, "figures shrunk below their font sizes on the page:\n" + "\n".join(shrunk)


def test_titles_wrap_to_the_figure_width_outside_math():
    text = "random(32) against batch size ($q^{(1)}$ = 0.01; dotted: false-positive rates q(k))"
    lines = style.wrap(text, 2.0).split("\n")
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(line.count("$") % 2 == 0 for line in lines)
    assert style.wrap("a" * 20 + " $x_3 = 0.5$ b", 0.1).split("\n")[1].startswith("$x_3 = 0.5$")


def test_savefig_outside_strict_mode_warns_and_keeps_the_figure(tmp_path, monkeypatch):
    """A long run must not lose its results to a layout check: without KAG_STRICT_FIGURES the
    illegible figure is saved and a warning names the problem."""
    from kag_utils.pipeline.session import start

    monkeypatch.setenv("KAG_STRICT_FIGURES", "0")
    session = start("99_test", "quick", tmp_path, parameters={})
    fig, ax = plt.subplots(figsize=(13, 3))
    with pytest.warns(UserWarning, match="printed width.*saved anyway"):
        path = session.savefig(fig, "wide")
    assert path.exists() and path.with_suffix(".pdf").exists()


def _printed_fraction(opts: str) -> float | None:
    """The \\linewidth fraction a \\kagfig option list prints at (None: the drawn size)."""
    m = re.search(r"width\s*=\s*([\d.]*)\s*\\linewidth", opts or "")
    if not m:
        return None
    return float(m.group(1) or 1.0)


def test_committed_figures_print_at_their_drawn_size():
    """Every figure of the committed manuscript prints at (about) the size it was drawn at, so
    that its fonts reach the page at their nominal sizes (>= style.MIN_FONT_PT): a figure drawn
    wider than the text and scaled down, or given a smaller \\kagfig width than it was drawn
    for, prints its 7.5-pt ticks below 7 pt."""
    from kag_utils.manuscript.checks import defined_figures

    files = defined_figures(ROOT / "paper" / "generated" / "paper")
    shrunk = []
    tex = re.sub(r"(?<!\\)%.*", "", MAIN.read_text())          # comments out
    for opts, name in re.findall(r"\\kagfig\s*(?:\[([^\]]*)\])?\s*\{([^{}]*)\}", tex):
        png = (ROOT / "paper" / files[name]).with_suffix(".png")
        drawn = style.saved_width(png)
        frac = _printed_fraction(opts)
        printed = min(drawn, style.TEXT_WIDTH_IN) if frac is None else frac * style.TEXT_WIDTH_IN
        scale = printed / drawn
        if scale * style.SMALL_PT < style.MIN_FONT_PT - 1e-6:
            shrunk.append(f"{name}: drawn {drawn:.2f} in, printed {printed:.2f} in "
                          f"(fonts x {scale:.2f})")
    assert not shrunk, ("figures printed smaller than drawn (redraw them with "
                        "kag_utils.figures.style, or give \\kagfig no width):\n" + "\n".join(shrunk))


def test_printed_fraction_reads_the_width_option():
    assert _printed_fraction("width=0.5\\linewidth") == 0.5
    assert _printed_fraction("width=\\linewidth") == 1.0
    assert _printed_fraction("") is None and _printed_fraction("height=3cm") is None
