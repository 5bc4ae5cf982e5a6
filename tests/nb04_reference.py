"""Notebook 04's readings and comparison rows as the notebook computed them before they moved
into ``kag_utils.p1.dynamics`` and ``kag_utils.p1.lambda_xor``: the code cells of
notebooks/04_dynamics.py at commit 74a42b5, verbatim except that plots and displays are
removed, the runs and evaluations are passed in, and displayed tables are returned.
``tests/test_dynamics.py`` checks the library against it on synthetic evaluations, also on
the branches the quick parameter set does not reach (a lambda grid with 0.7 and 1.2 on it,
small lambdas, no dead-rows-out reading, fixed data seeds). Change it only together with an
intended change of a reading.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from kag_utils import paper_values as paper
from kag_utils import readings as an
from kag_utils.core.metrics import false_positive_rate
from kag_utils.p1.evaluation import checkpoint_state
from kag_utils.p1.runs import RunConfig
from kag_utils.pipeline.results import Recorder, agrees
from kag_utils.readings import claims
from kag_utils.readings.aggregate import pm, summarize
from kag_utils.readings.goldilocks import family_grid, goldilocks_window, modest_below, window_bound


def old_notebook(evo_raw, evo_runs, lam_raw, lam_base_raw, lam_runs, *, params_name="quick",
                 seeds=(0, 1, 2, 3), width=32, batch_size=250, max_epochs=10_000, patience=50,
                 evo_step=0.05, lam_step=0.1, lam_step_high=0.2, lam_max=2.5,
                 data_seeds="model", dead_rows_out=True, window_fraction=0.5,
                 small_lams=(0.1, 0.25), n_rot=100, n_x_rot=250, q1=0.01, n_sigma=2.0):
    """Run the old notebook's computations. ``evo_raw``: ``evaluate``'s table of the xor runs
    at every evolution state; ``lam_raw`` / ``lam_base_raw``: {reading: table} of the trained
    lambda-xor models (lambda-major, then seed) and of the initial models. Returns the
    Recorder and the intermediate readings and tables."""
    seeds = list(seeds)
    record = Recorder("04_dynamics", params_name)
    record.default_ours_n = len(seeds)
    protocol = dict(batch_size=batch_size, max_epochs=max_epochs, patience=patience)
    set_note = ("" if params_name == "paper" else
                f" [parameter set '{params_name}': {len(seeds)} seeds, lambda step {lam_step}, "
                f"R^2 step {evo_step}, RR {n_rot} rotations x {n_x_rot} inputs]")
    out = {"record": record}

    if data_seeds not in ("model", "fixed"):
        raise ValueError(f"data_seeds must be 'model' or 'fixed', got {data_seeds!r}")


    def xor_config(lam, seed, data_seed=0):
        """lambda-xor(m) run; lambda = 1 is the xor(m) run of notebook 01 (the same function;
        notebook 01 draws the inputs with data seed 0 for every model seed)."""
        if np.isclose(lam, 1.0):
            return RunConfig(target="xor", hidden=(width,), seed=seed, data_seed=data_seed,
                                 **protocol)
        return RunConfig(target="lambda_xor", target_param=float(lam), hidden=(width,),
                             seed=seed, data_seed=data_seed, **protocol)


    def lam_config(lam, seed):
        """A lambda-xor run of sections 2-3: data seed = model seed (data_seeds = "model") or 0."""
        return xor_config(lam, seed, seed if data_seeds == "model" else 0)



    METRICS = {  # name: (column of kag.evaluate, ks, direction of KA geometry, axis label)
        "zero": (f"zero_frac_k{{k}}_q{q1:g}", (1, 2, 3), +1, "zero rows (%)"),
        "dep": (f"dep_frac_k{{k}}_q{q1:g}", (2, 3), +1, "dependent zero rows (%)"),
        "zero_nc": (f"not_consistent_frac_k{{k}}_q{q1:g}", (1, 2, 3), +1,
                    "zero rows excl. dead rows (%)"),
        "pr": ("pr_norm_k{k}", (1, 2, 3), -1, "PR / PR(initial)"),
        "rr": ("rr_norm_k{k}", (1, 2, 3), +1, "RR / RR(initial)"),
        "div": ("divergence_k{k}", (1, 2, 3), +1, "column divergence"),
    }
    NAMES = {"zero": "size-{k} zero rows", "dep": "size-{k} dependent zero rows",
             "zero_nc": "size-{k} zero rows outside consistently-zero rows",
             "pr": "size-{k} PR", "rr": "size-{k} random rotation ratio",
             "div": "size-{k} column divergence"}
    PERCENT = ("zero", "dep", "zero_nc")

    INIT_X = -0.12               # where the initial model is drawn on the R^2 axis (its R^2 is < 0)


    def long_format(df, x):
        """One row per (seed, state, metric, k): percentages for the zero-row metrics."""
        parts = []
        for name, (col, ks, _, _) in METRICS.items():
            for k in ks:
                scale = 100.0 if name in PERCENT else 1.0
                parts.append(pd.DataFrame({"seed": df.seed.to_numpy(), "x": np.asarray(x),
                                           "metric": name, "k": f"k={k}",
                                           "value": df[col.format(k=k)].to_numpy() * scale}))
        return pd.concat(parts, ignore_index=True)


    def curve(summary, name, k, lo=-np.inf, hi=np.inf):
        """(x, mean, se) of one metric's seed-mean curve, sorted by x, points with >= 2 seeds."""
        c = summary[(summary.metric == name) & (summary.k == f"k={k}") & (summary.x > lo)
                    & (summary.x <= hi) & (summary.value_n >= 2)].sort_values("x")
        return c.x.to_numpy(), c.value_mean.to_numpy(), c.value_se.to_numpy()


    def fmt(v, digits=2):
        return "none" if v is None else f"{v:.{digits}f}"

    if abs(evo_step / 0.05 - round(evo_step / 0.05)) > 1e-9:
        raise ValueError("evo_step must be a multiple of the runs' 0.05 checkpoint grid (A-24)")
    r2_grid = [round(g, 2) for g in np.arange(0.0, 1.0 - 1e-9, evo_step)]
    evo_states = ["init"] + [checkpoint_state(g) for g in r2_grid] + ["final"]
    evo_cfgs = [xor_config(1.0, s) for s in seeds]
    evo = evo_raw.copy()
    evo = evo[evo.reached].reset_index(drop=True)
    final_r2 = float(np.mean([r.r2_train for r in evo_runs]))
    evo["x"] = [INIT_X if s == "init" else final_r2 if s == "final" else float(s[4:])
                for s in evo.state]
    if final_r2 <= max(r2_grid):
        evo.loc[evo.state == "final", "x"] = max(r2_grid) + 1e-3
    epochs = evo.pivot_table(index="state", columns="seed", values="state_epoch", sort=False)
    epochs.index = [s.replace("r2>=", "R2 >= ") for s in epochs.index]

    g_last = float(evo_runs[0].checkpoints["grid"][-1])
    late = [(r.selected_epoch - int(r.checkpoints["epoch"][-1])) / r.selected_epoch
            for r in evo_runs if int(r.checkpoints["epoch"][-1]) >= 0]
    record.add("evolution.late_epoch_share_mean", float(np.mean(late)) if late else None)

    evo_long = long_format(evo, evo.x)
    evo_sum = summarize(evo_long, ["metric", "k", "x"], "value")
    few = evo_sum[evo_sum.value_n < 2]
    out["few"] = sorted(set(few.x))
    evo_plot = evo_long.merge(evo_sum[["metric", "k", "x", "value_n"]]).query("value_n >= 2")
    baseline = {(r.metric, r.k): (r.value_mean, r.value_se)
                for r in evo_sum[evo_sum.x == INIT_X].itertuples()}

    evo_feat = {}
    for name, (_, ks, direction, _) in METRICS.items():
        for k in ks:
            x, mean, se = curve(evo_sum, name, k, lo=INIT_X)
            b, b_se = baseline[name, f"k={k}"]
            # per-seed values on the same points: checkpoints of the same runs are paired by seed
            per_seed = (evo_long[(evo_long.metric == name) & (evo_long.k == f"k={k}")]
                        .pivot_table(index="seed", columns="x", values="value")
                        .reindex(columns=x).to_numpy())
            ext = an.extremum(x, mean, se, kind="min" if direction < 0 else "max",
                              samples=per_seed)
            evo_feat[name, k] = {
                "baseline": b, "baseline_se": b_se,
                "onset": an.onset(x, mean, se, b, b_se, direction, n_sigma),
                "half_rise": an.half_rise(x, mean, b, direction),
                "extremum": ext, "x": x, "mean": mean, "se": se,
                "significant": an.significant(mean, se, b, b_se, direction, n_sigma)}


    def evo_row(name, k):
        f = evo_feat[name, k]
        on, hr, ext = f["onset"], f["half_rise"], f["extremum"]
        return {"metric": NAMES[name].format(k=k), "baseline": round(f["baseline"], 4),
                "onset R2": fmt(on and on["x"]), "first significant": fmt(on and on["first_significant"]),
                "half-rise R2": fmt(hr and hr["x"]),
                "extremum R2": "final" if ext["index"] == len(f["x"]) - 1 else fmt(ext["x"]),
                "plateau": f"{ext['plateau_low']:.2f}-{ext['plateau_high']:.2f}",
                "significant interior": ext["beyond_ends"]}

    record.add("evolution", {
        "final_r2_mean": final_r2,
        "checkpoint_epoch_mean": {s.replace("r2>=", "g"): float(v) for s, v in
                                  evo.groupby("state", sort=False).state_epoch.mean().items()},
        **{f"{name}_k{k}": {
            "x": f["x"], "mean": f["mean"], "se": f["se"], "baseline": f["baseline"],
            "extremum_value": f["extremum"]["value"],
            "features": {
                "onset": f["onset"] and f["onset"]["x"],
                "first_significant": f["onset"] and f["onset"]["first_significant"],
                "half_rise": f["half_rise"] and f["half_rise"]["x"],
                "extremum_x": f["extremum"]["x"], "extremum_interior": f["extremum"]["interior"],
                "extremum_significant": f["extremum"]["beyond_ends"]}}
           for (name, k), f in evo_feat.items()}})

    T0 = paper.EVOLUTION_TRANSITION_R2


    def onset_note(f, what):
        on, hr = f["onset"], f["half_rise"]
        if on is None:
            return (f"{what}: no sustained significant excess over the initial model up to the "
                    f"trained model (half-rise at R^2 = {fmt(hr and hr['x'])})")
        text = (f"{what}: our 2-SE onset is R^2 = {on['x']:.2f} (first significant point "
                f"{on['first_significant']:.2f}); half of the total change is reached at R^2 = "
                f"{fmt(hr and hr['x'])}. ")
        if on["x"] < T0:
            return text + ("A 2-SE test flags a change as soon as it exceeds the seed scatter, "
                           "before it is visible by eye; the paper's 'around 0.5' is a reading by eye")
        return text + ("The curve stays within 2 SE of the initial value (or dips back into it) "
                       "until then: a later development than the paper's")


    def onset_row(claim, f, what):
        """P1's "around R^2 ~ 0.5": the onset within the wording "near" (verdicts.WORDING_TOLERANCE)
        plus half of our R^2 grid step (the onset is located to the grid)."""
        ours = f["onset"] and f["onset"]["x"]
        kw = dict(wording="near", resolution=evo_step) if ours is not None else \
            dict(verdict="not reproduced")
        record.compare(claim, "P1 Sec IV.C text", T0, ours, **kw, cause=onset_note(f, what) + set_note)


    for k in (1, 2, 3):
        f = evo_feat["zero", k]
        onset_row(f"Fig 8a onset of size-{k} zero rows (training R2)", f, f"size-{k} zero rows")
        # "false positives ~ q(k) for R^2 < 0.5": the largest seed-mean below 0.5 vs q(k)
        qk = 100 * false_positive_rate(q1, width, k)
        below = evo[(evo.x >= 0) & (evo.x < T0)]
        if len(below):
            per = below.groupby("x")[METRICS["zero"][0].format(k=k)].agg(["mean", "std"]) * 100
            worst = per["mean"].idxmax()
            mean_w, sd_w = float(per.loc[worst, "mean"]), float(per.loc[worst, "std"])
            ok = agrees(qk, mean_w, ours_sd=sd_w, ours_n=len(seeds), wording="~")
            record.compare(f"Fig 8a size-{k} zero rows ~ q(k) (false positives) for R2 < 0.5, "
                           f"largest value below 0.5 (%)", "P1 Sec IV.C text", qk, mean_w,
                           ours_sd=sd_w, agree=ok, note="" if ok else
                           f"the largest value below R^2 = 0.5 (at R^2 = {worst:.2f}) is "
                           f"{mean_w / qk:.2f} x q(k), outside 2 seed SD of q(k); the sustained onset "
                           f"is at R^2 = {fmt(f['onset'] and f['onset']['x'])}. The paper's "
                           "'approximately equal' tolerates such a small excess by eye, our 2-SD "
                           "rule does not" + set_note)
        # "steady increase after the onset": readings.monotone from the onset to the trained model
        if f["onset"] is not None:
            i = f["onset"]["index"]
            steps = np.diff(f["mean"][i:])
            frac = float((steps > 0).mean()) if len(steps) else float("nan")
            mono = (an.monotone(f["x"][i:], f["mean"][i:], f["se"][i:], direction=+1)
                    if len(steps) else {"verdict": "inconclusive", "z_total": float("nan"),
                                        "reversals": []})
            record.compare(f"Fig 8a size-{k} zero rows increase steadily with R2 after the onset",
                           "P1 Sec IV.C text", "steady increase",
                           f"{f['mean'][i]:.2f}% at onset -> {f['mean'][-1]:.2f}% trained; "
                           f"{frac:.0%} of grid steps increase", verdict=mono["verdict"],
                           note=f"readings.monotone: end-to-end rise {mono['z_total']:.1f} SE, "
                           f"significant steps down at grid indices {mono['reversals']}"
                           + ("" if len(steps) else "; the onset is the trained model itself"),
                           cause="the rise from the onset to the trained model is not significant, "
                           "or the curve falls significantly on some grid step: a hump rather than "
                           "a steady increase" + set_note)

    onset_row("Fig 8b onset of size-2 dependent zero rows (training R2)", evo_feat["dep", 2],
              "size-2 dependent zero rows")
    f = evo_feat["dep", 3]
    sig_at = f["x"][f["significant"]]
    ok = len(sig_at) == 0
    record.compare("Fig 8b no significant signal in size-3 dependent zero rows",
                   "P1 Sec IV.C text", "no significant signal",
                   "none" if ok else f"significant at R2 = {', '.join(f'{v:.2f}' for v in sig_at)}; "
                   f"largest excess {np.max(f['mean'] - f['baseline']):.2f} points over "
                   f"{f['baseline']:.2f}%", agree=ok, note="" if ok else
                   "our 2-SE test flags part of the curve; compare the size of the excess with the "
                   "size-2 dependent rows in Fig. 8b: a small signal the paper could not discern by "
                   "eye" + set_note)

    # Fig. 8 endpoint = Table II xor(32) at q(1) = 0.01 (REPRODUCTION: consistency check)
    fin = evo[evo.state == "final"]
    for row, col in (("zero", f"zero_frac_k3_q{q1:g}"), ("dep2", f"dep_frac_k2_q{q1:g}"),
                     ("dep3", f"dep_frac_k3_q{q1:g}")):
        p_mean, p_sd = paper.TABLE_II["xor"][row][q1]
        v = fin[col] * 100
        record.compare(f"Fig 8 endpoint = Table II xor(32) {row} at q1={q1:g} (%)",
                       "P1 Table II (Fig 8 endpoint)", p_mean, float(v.mean()), paper_sd=p_sd,
                       ours_sd=float(v.std(ddof=1)), ours_n=len(v), resolution=1e-3, cause=
                       "the trained xor(32) models of notebook 02; see its Table II discussion "
                       "(seeds and early-stopping rule differ from the paper's, A-05, A-06)" + set_note)

    # concentration onsets and extrema (Fig. 9)
    for name, label, kind in (("pr", "PR decrease", "minimum"), ("rr", "RR increase", "maximum"),
                              ("div", "column divergence increase", "maximum")):
        for k in (1, 2, 3):
            f = evo_feat[name, k]
            ours = f["onset"] and f["onset"]["x"]
            v = claims.at_or_before(ours, T0, "near", resolution=evo_step)
            record.compare(f"Fig 9 onset of size-{k} {label} around or before R2 0.5",
                           "P1 Sec IV.C text", T0, ours, verdict=v["verdict"],
                           cause=onset_note(f, f"size-{k} {label}") + set_note)
            ext = f["extremum"]
            ours = ext["x"]
            v = claims.extremum_near(ext, paper.EVOLUTION_EXTREMUM_R2, "near", resolution=evo_step)
            where = "the trained model (monotone curve)" if ext["index"] == len(f["x"]) - 1 else \
                "the first grid point" if ext["index"] == 0 else f"R^2 = {ext['x']:.2f}"
            short = {"pr": "PR", "rr": "RR", "div": "column divergence"}[name]
            record.compare(f"Fig 9 size-{k} {short} {kind} near R2 0.85 (training R2)",
                           "P1 Sec IV.C text (A-27)", paper.EVOLUTION_EXTREMUM_R2, ours,
                           verdict=v["verdict"], cause=
                           ("location within 'near' but " if v["location"] == "reproduced" else "")
                           + f"our {kind} is at {where}, plateau R^2 {ext['plateau_low']:.2f}-"
                           f"{ext['plateau_high']:.2f}; significant interior extremum (paired by seed, "
                           f"2 SE from both ends): {ext['beyond_ends']}" + set_note)

    for name, label in (("pr", "PR"), ("div", "column divergence")):
        pairs = [(evo_feat[name, k]["onset"], evo_feat["zero", k]["onset"]) for k in (1, 2, 3)]
        earlier = [a is not None and (b is None or a["x"] < b["x"]) for a, b in pairs]
        text = "; ".join(f"k={k}: {fmt(a and a['x'])} vs {fmt(b and b['x'])}"
                         for k, (a, b) in zip((1, 2, 3), pairs))
        record.compare(f"Fig 9 {label} onsets precede the zero-row onsets (Fig 8)",
                       "P1 Sec IV.C text", "earlier onset", text, agree=all(earlier),
                       note="" if all(earlier) else
                       f"{label} onset not earlier than the zero-row onset for every k" + set_note)

    lams = family_grid(paper.LAMBDA_XOR_RANGE[0], paper.LAMBDA_XOR_RANGE[1], lam_max, lam_step,
                       lam_step_high)
    all_lams = sorted(set(lams) | {round(float(v), 2) for v in small_lams})
    lam_cfgs = [lam_config(lam, s) for lam in all_lams for s in seeds]
    READINGS = {"in": "all rows (P1)", "out": "dead rows left out"}
    lam_dfs, lam_base_dfs = {}, {}
    for reading in READINGS:
        if reading == "out" and not dead_rows_out:
            continue
        df = lam_raw[reading].copy()
        df["lam"] = [lam for lam in all_lams for _ in seeds]
        df["train_r2"] = [r.r2_train for r in lam_runs]
        df["test_r2"] = [r.r2_test for r in lam_runs]
        df["epochs"] = [r.stop_epoch for r in lam_runs]
        lam_dfs[reading] = df
        # the no-KA baseline: the initial models of these seeds, on these seeds' inputs
        lam_base_dfs[reading] = lam_base_raw[reading]
    lam_df = lam_dfs["in"]
    r2_sum = summarize(lam_df, "lam", ["train_r2", "test_r2", "epochs"])

    main = r2_sum[r2_sum.lam.isin(lams)]

    lo_w, hi_w = paper.GOLDILOCKS["lambda_xor"]

    r2_at = {round(r.lam, 2): r for r in r2_sum.itertuples()}
    record.add("lambda_xor", {"lams": lams, "train_r2_mean": main.train_r2_mean.to_numpy(),
                              "train_r2_se": main.train_r2_se.to_numpy(),
                              "test_r2_mean": main.test_r2_mean.to_numpy(),
                              "test_r2_se": main.test_r2_se.to_numpy(),
                              "data_seeds": data_seeds})
    lam_easy = paper.LAMBDA_XOR_EASY_MAX
    easy = main[main.lam <= lam_easy + 1e-9]
    min_easy = float(easy.train_r2_mean.min())
    ok = min_easy >= paper.LAMBDA_XOR_R2_AT_EXTREMUM - 1e-12
    record.compare("Fig 10 lambda-xor easily learned for lambda <~ 1.2: lowest mean training R2 "
                   "for lambda <= 1.2", "P1 Sec IV.C text (Fig 10; text cites Fig 16, A-33)",
                   f">= {paper.LAMBDA_XOR_R2_AT_EXTREMUM} (R2 at 1.2)", min_easy, agree=ok,
                   note="" if ok else
                   f"the mean training R^2 drops below {paper.LAMBDA_XOR_R2_AT_EXTREMUM} at "
                   f"lambda = {float(easy.lam[easy.train_r2_mean.idxmin()]):.2f}" + set_note)
    hard = main[main.lam >= lam_easy - 1e-9].sort_values("lam")
    # "increasingly difficult to learn for lambda > 1.2": readings.monotone (a significant decrease
    # from lambda = 1.2 to the end of the grid, no significant step up), on training and test R^2
    for split, what in (("train", "training"), ("test", "test")):
        claim = (f"Fig 10 increasingly difficult to learn for lambda > 1.2 (slope of mean {what} "
                 "R2 over lambda >= 1.2, per unit lambda)")
        if len(hard) < 2:
            record.compare(claim, "P1 Sec IV.C text", "decreasing", None, verdict="inconclusive",
                           note="fewer than two lambda >= 1.2 on this parameter set's grid" + set_note)
            continue
        slope = float(np.polyfit(hard.lam, hard[f"{split}_r2_mean"], 1)[0])
        mono = an.monotone(hard.lam, hard[f"{split}_r2_mean"], hard[f"{split}_r2_se"], direction=-1)
        record.compare(claim, "P1 Sec IV.C text", "decreasing", slope, verdict=mono["verdict"],
                       note=f"end-to-end decrease {mono['z_total']:.1f} SE; significant steps up at "
                       f"lambda = {[float(hard.lam.iloc[i]) for i in mono['reversals']]}",
                       cause=f"no significant monotone decrease of the {what} R^2 beyond lambda = 1.2"
                       + set_note)
        record.add(f"lambda_xor.{split}_r2_slope_above_1p2" if split == "test" else
                   "lambda_xor.r2_slope_above_1p2", slope)

    # Fig. 10 shows the test R^2 beside the training R^2; P1 (Sec. III): test performance is
    # "indistinguishable (i.e., no 'overfitting' ...)". Read as: at every lambda the test R^2 is
    # near the training R^2 (readings.near, wording "close to": 10 % of the training R^2, plus 2 SE
    # of the per-seed train - test gap, paired because both come from the same models)
    gap = summarize(lam_df[lam_df.lam.isin(lams)].assign(gap=lam_df.train_r2 - lam_df.test_r2),
                    "lam", "gap").merge(main[["lam", "train_r2_mean", "test_r2_mean"]], on="lam")
    tracks = claims.near_each(gap.test_r2_mean, gap.train_r2_mean, gap.gap_se.fillna(0.0), "close to")
    worst = gap.iloc[tracks["worst_index"]]
    record.add("lambda_xor.train_test_gap_mean", gap.gap_mean.to_numpy())
    record.add("lambda_xor.train_test_gap_se", gap.gap_se.fillna(0.0).to_numpy())
    record.compare("Fig 10 test R2 indistinguishable from training R2 at every lambda (largest "
                   "mean train - test gap)", "P1 Sec III text / Fig 10", 0.0,
                   float(worst.gap_mean), verdict=tracks["verdict"],
                   note=f"largest gap at lambda = {worst.lam:.2f}: training {worst.train_r2_mean:.3f}, "
                   f"test {worst.test_r2_mean:.3f} ({tracks['n_off']} of {len(gap)} lambda outside 10 % "
                   "+ 2 SE of the paired gap)",
                   cause="our hardest lambda-xor models fit their 1000 training inputs better than "
                   "new inputs: the restored best-epoch weights (A-06) after long training at low R^2"
                   + set_note)
    r12 = r2_at.get(round(lam_easy, 2))
    claim = "Fig 10 training R2 at lambda ~ 1.2 roughly 0.85"
    source = "P1 Sec IV.C text (Fig 10; text cites Fig 16, A-33)"
    if r12 is None:
        record.compare(claim, source, paper.LAMBDA_XOR_R2_AT_EXTREMUM, None, agree=False,
                       note="lambda = 1.2 is not on this parameter set's grid" + set_note)
    else:
        ok = agrees(paper.LAMBDA_XOR_R2_AT_EXTREMUM, r12.train_r2_mean, ours_sd=r12.train_r2_std,
                        ours_n=len(seeds), wording="about")
        record.compare(claim, source, paper.LAMBDA_XOR_R2_AT_EXTREMUM, r12.train_r2_mean,
                       ours_sd=r12.train_r2_std, agree=ok, note="" if ok else
                       "our lambda = 1.2 models reach a different training R^2 than the paper's "
                       "'roughly 0.85' (seeds and early-stopping rule differ, A-05, A-06)" + set_note)
    r1 = r2_at[1.0]
    p_mean, p_sd = paper.TABLE_I["xor"][width]
    _ = record.compare(f"Fig 10 at lambda = 1 equals Table I xor({width}) training R2",
                       "P1 Table I / Fig 10", p_mean, r1.train_r2_mean, paper_sd=p_sd,
                       ours_sd=r1.train_r2_std, resolution=1e-4,
                       note=("" if data_seeds != "model" else
                             "our lambda = 1 models draw their inputs with data seed = model seed "
                             "(notebook 01: data seed 0 for every seed)"),
                       cause="the xor(32) runs: see notebook 01's Table I discussion" + set_note)

    lam_base = {}
    lam_feat_by = {}
    lam_long_by = {}
    for reading, df in lam_dfs.items():
        base_long = long_format(lam_base_dfs[reading], np.zeros(len(seeds)))
        base_sum = summarize(base_long, ["metric", "k"], "value")
        lam_base[reading] = {(r.metric, r.k): (r.value_mean, r.value_se)
                             for r in base_sum.itertuples()}
        long = long_format(df, df.lam)
        summ = summarize(long, ["metric", "k", "x"], "value")
        lam_long_by[reading] = (long, summ)
        feats = {}
        for name, (_, ks, direction, _) in METRICS.items():
            for k in ks:
                x, mean, se = curve(summ, name, k, lo=min(lams) - 1e-9, hi=max(lams) + 1e-9)
                b, b_se = lam_base[reading][name, f"k={k}"]
                i1 = int(np.argmin(np.abs(x - 1.0)))
                w = goldilocks_window(x, mean, se, b, b_se, mean[i1], se[i1], direction,
                                      window_fraction, n_sigma)
                feats[name, k] = {
                    "baseline": b, "baseline_se": b_se, "x": x, "mean": mean, "se": se,
                    "window": w if w["n_inside"] else None, "rule": w,
                    "half_max": an.half_max_window(x, mean, b, direction),
                    "extremum": an.extremum(x, mean, se, kind="min" if direction < 0 else "max"),
                    "significant": np.asarray(w["significant"])}
        lam_feat_by[reading] = feats
    lam_feat = lam_feat_by["in"]
    lam_long, lam_sum = lam_long_by["in"]
    lam_plot = lam_long[lam_long.x.isin(lams)]

    def window_text(f):
        w = f["window"]
        return f"{w['low']:.2f}-{w['high']:.2f}" if w else "none"


    def lam_row(name, k):
        row = {"metric": NAMES[name].format(k=k)}
        for reading, label in READINGS.items():
            if reading not in lam_feat_by:
                continue
            f = lam_feat_by[reading][name, k]
            ext = f["extremum"]
            row[f"window ({label})"] = window_text(f)
            row[f"extremum λ ({label})"] = ext["x"]
        f = lam_feat[name, k]
        h = f["half_max"]
        row["half-max window (all rows)"] = f"{h['low']:.2f}-{h['high']:.2f}" if h else "none"
        row["plateau (all rows)"] = (f"{f['extremum']['plateau_low']:.2f}-"
                                     f"{f['extremum']['plateau_high']:.2f}")
        return row

    dead_col, share_col = f"n_consistent_k1_q{q1:g}", f"consistent_share_k1_q{q1:g}"
    dead = summarize(lam_df.assign(share=lam_df[share_col].fillna(0.0)), "lam", [dead_col, "share"])
    dead_by_lam = dict(zip(dead.lam.round(2), dead[f"{dead_col}_mean"]))
    record.add("lambda_xor.dead_neurons_mean", dead[dead.lam.isin(lams)][f"{dead_col}_mean"].to_numpy())
    out["dead_table"] = pd.DataFrame({"lambda": dead.lam, "dead neurons per model": dead[f"{dead_col}_mean"].round(2),
                  "share of size-1 zero rows in dead neurons": dead["share_mean"].round(3)})

    record.add("lambda_xor", {f"{name}_k{k}": {
        "mean": f["mean"], "se": f["se"],
        "features": {
            "window_low": f["window"] and f["window"]["low"],
            "window_high": f["window"] and f["window"]["high"],
            "half_max_low": f["half_max"] and f["half_max"]["low"],
            "half_max_high": f["half_max"] and f["half_max"]["high"],
            "extremum_x": f["extremum"]["x"], "extremum_significant": f["extremum"]["beyond_ends"],
            "plateau_low": f["extremum"]["plateau_low"],
            "plateau_high": f["extremum"]["plateau_high"]}}
        for (name, k), f in lam_feat.items()})
    if "out" in lam_feat_by:
        record.add("lambda_xor_dead_rows_out", {f"{name}_k{k}": {
            "mean": f["mean"], "se": f["se"], "window_low": f["window"] and f["window"]["low"],
            "window_high": f["window"] and f["window"]["high"], "extremum_x": f["extremum"]["x"]}
            for (name, k), f in lam_feat_by["out"].items()})

    def other_reading(name, k, what):
        """The dead-rows-out reading of one feature, for the row's note."""
        if "out" not in lam_feat_by:
            return ""
        f = lam_feat_by["out"][name, k]
        if what == "window":
            return f"; dead rows left out: window {window_text(f)}"
        return f"; dead rows left out: extremum at lambda = {f['extremum']['x']:.2f}"


    def window_rows(name, k, label, source):
        """P1's bounds "0.7 <~ lambda <~ 1.2" against our window (goldilocks.window_bound: the
        bound closes inside the grid and lies within the wording "near" plus half a grid step)."""
        f = lam_feat[name, k]
        h = f["half_max"]
        hm = f"half-maximum window {h['low']:.2f}-{h['high']:.2f}" if h else "no excess at all"
        for side, p in (("low", lo_w), ("high", hi_w)):
            v = window_bound(f["rule"], side, p, "near", resolution=lam_step)
            record.compare(f"{source} {label} Goldilocks window {side} bound (lambda)",
                           "P1 Sec IV.C text", p, v["ours"], verdict=v["verdict"],
                           note=f"{v['why']}; {hm}" + other_reading(name, k, "window"),
                           cause=v["why"] + set_note)


    for k in (1, 2, 3):
        window_rows("zero", k, f"size-{k} zero rows", "Fig 11a")
    window_rows("dep", 2, "size-2 dependent zero rows", "Fig 11b")
    for name, label in (("pr", "PR"), ("rr", "RR"), ("div", "column divergence")):
        for k in (1, 2, 3):
            window_rows(name, k, f"size-{k} {label}", {"pr": "Fig 12a", "rr": "Fig 12b",
                                                       "div": "Fig 12c"}[name])

    f = lam_feat["dep", 3]
    sig_at = f["x"][f["significant"]]
    ok = len(sig_at) == 0
    record.compare("Fig 11b no discernible size-3 dependent zero rows", "P1 Sec IV.C text",
                   "none", "none" if ok else
                   f"significant at lambda = {', '.join(f'{v:.2f}' for v in sig_at)}; largest "
                   f"excess {np.max(f['mean'] - f['baseline']):.2f} points over {f['baseline']:.2f}%",
                   agree=ok, note="" if ok else
                   "our 2-SE test flags some lambda; compare the excess with the size-2 dependent "
                   "rows (Fig. 11b): a small signal the paper could not discern by eye" + set_note)


    def extremum_row(name, k, claim, source, p):
        """"An extremum near p": claims.extremum_near (wording "near" plus half a grid step;
        inconclusive when the extremum is not a significant interior one)."""
        ext = lam_feat[name, k]["extremum"]
        v = claims.extremum_near(ext, p, "near", resolution=lam_step)
        record.compare(claim, source, p, ext["x"], verdict=v["verdict"],
                       note=f"plateau of points within 2 SE {ext['plateau_low']:.2f}-"
                       f"{ext['plateau_high']:.2f}, significant interior extremum: "
                       f"{ext['beyond_ends']}" + other_reading(name, k, "extremum"),
                       cause=f"our extremum is at lambda = {ext['x']:.2f}"
                       + ("" if v["location"] == "reproduced" else ", away from the paper's")
                       + ("" if ext["beyond_ends"] else "; its plateau reaches an end of the grid")
                       + set_note)
        return ext


    humps = []
    for k in (1, 2, 3):
        humps.append(extremum_row("zero", k, f"Fig 11a maximum of size-{k} zero rows near lambda 1.2",
                                  "P1 Sec IV.C text", paper.LAMBDA_XOR_ZERO_MAX))
    humps.append(extremum_row("dep", 2, "Fig 11b maximum of size-2 dependent zero rows near lambda 1.0",
                              "P1 Sec IV.C text", paper.LAMBDA_XOR_DEP2_MAX))
    broad = [e["plateau_high"] > e["plateau_low"] for e in humps]
    record.compare("Fig 11 maxima: large error bars, definitive maxima or broad humps unclear",
                   "P1 Sec IV.C text", "broad humps possible",
                   "; ".join(f"{lab}: plateau {e['plateau_low']:.2f}-{e['plateau_high']:.2f}"
                             for lab, e in zip(("zero k=1", "zero k=2", "zero k=3", "dep k=2"), humps)),
                   agree=any(broad), note="" if any(broad) else
                   "every maximum stands above its neighbours by more than 2 SE: definite maxima "
                   "in our data" + set_note)

    r2_by_lam = dict(zip(main.lam.round(2), main.train_r2_mean))
    for name, label, kind in (("pr", "PR", "minimum"), ("rr", "RR", "maximum"),
                              ("div", "column divergence", "maximum")):
        for k in (1, 2, 3):
            f = lam_feat[name, k]
            ext = extremum_row(name, k, f"Fig 12 size-{k} {label} {kind} near lambda 1.2",
                               "P1 Sec IV.C text", paper.LAMBDA_XOR_EXTREMUM)
            # "the same training R^2 achieved at lambda ~ 1.2" as the evolution extrema (~0.85)
            r2x = r2_at[round(ext["x"], 2)]
            v = an.near(float(r2x.train_r2_mean), paper.LAMBDA_XOR_R2_AT_EXTREMUM,
                        float(r2x.train_r2_se), "~")
            record.compare(f"Fig 12 training R2 at the size-{k} {label} {kind} ~ R2 of the Fig 9 "
                           "extrema (0.85)", "P1 Sec IV.C text", paper.LAMBDA_XOR_R2_AT_EXTREMUM,
                           float(r2x.train_r2_mean), ours_sd=float(r2x.train_r2_std),
                           verdict=v["verdict"], cause=f"our {kind} is at lambda = {ext['x']:.2f} "
                           f"where the mean training R^2 is {r2x.train_r2_mean:.3f}" + set_note)
        # "modest indications below 0.7, which decrease as lambda -> 0.5": below 0.7 every lambda
        # is outside the window (significant-but-below-half is "modest"; no signal also fits) and
        # the effect at 0.5 is smaller than at 0.7 (modest_below)
        reads = {reading: [modest_below(lam_feat_by[reading][name, k]["rule"], lo_w)
                           for k in (1, 2, 3)] for reading in lam_feat_by}
        mods = reads["in"]
        holds = [md["holds"] for md in mods]
        verdict = ("inconclusive" if any(h is None for h in holds) else
                   "reproduced" if all(holds) else "not reproduced")

        def describe(ms):
            return " / ".join("n/a" if md["holds"] is None else
                              f"{md['effect_start']:.2f}->{md['effect_bound']:.2f}"
                              f"{'' if md['not_noticeable'] else ' (noticeable below 0.7)'}"
                              for md in ms)
        record.compare(f"Fig 12 {label}: modest KA geometry below lambda 0.7, decreasing towards 0.5 "
                       "(share of xor(32)'s effect at 0.5 -> at 0.7, k = 1/2/3; modest = below half)",
                       "P1 Sec IV.C text", "below half, decreasing", describe(mods),
                       verdict=verdict,
                       note=(f"dead rows left out: {describe(reads['out'])}; " if "out" in reads
                             else "") + "significant-but-modest lambda below 0.7 (k = 1/2/3): "
                       + "/".join(str(md["n_modest"]) for md in mods),
                       cause=("lambda = 0.7 or 0.5 is not on this parameter set's grid"
                              if verdict == "inconclusive" else
                              "below lambda = 0.7 some lambda reaches half of xor(32)'s effect, or "
                              "the effect does not decrease towards 0.5, for some k") + set_note)

    # %% [markdown]
    # ### $\lambda \to 0$ (remark of P1, not shown in its figures)
    #
    # P1: "as $\lambda \to 0$, KA geometry entirely disappears; in this limit,
    # $\lambda$-xor$(x) \to (\lambda\pi)^n \prod_i x_i$". We trained `small_lams` as a check. "No
    # KA geometry" here means: no significant excess in zero rows ($k$ = 1–3), PR or RR. The
    # column divergence is left out of this test, since any training moves the softmax columns
    # away from the initial model's (it is also positive at $\lambda$ where the other metrics
    # show nothing).

    # %%
    if small_lams:
        rows = []
        for lam in sorted(round(float(v), 2) for v in small_lams):
            s = lam_sum[np.isclose(lam_sum.x, lam)]
            for r in s.itertuples():
                name, k = r.metric, int(r.k[2:])
                b, b_se = lam_base["in"][name, r.k]
                sig = bool(an.significant([r.value_mean], [r.value_se], b, b_se,
                                          METRICS[name][2], n_sigma)[0])
                rows.append({"lambda": lam, "key": name, "metric": NAMES[name].format(k=k),
                             "mean": r.value_mean, "se": r.value_se, "baseline": b,
                             "significant": sig})
        small = pd.DataFrame(rows)
        lam0 = min(small["lambda"])
        tested = small[(small["lambda"] == lam0) & small.key.isin(["zero", "pr", "rr"])]
        flagged = tested[tested.significant].metric.tolist()
        record.add("lambda_xor.small", {f"lam{lam0:g}": {
            "train_r2_mean": float(r2_at[lam0].train_r2_mean),
            "n_significant": len(flagged)}})
        record.compare(f"KA geometry disappears as lambda -> 0 (lambda = {lam0:g}: metrics with a "
                       "significant excess)", "P1 Sec IV.C text (not shown)", "none",
                       ", ".join(flagged) or "none", agree=not flagged, note="" if not flagged else
                       "some metrics still differ significantly from the initial model at the "
                       "smallest lambda" + set_note)
        out["small"] = (small.pivot_table(index="metric", columns="lambda", values=["mean", "significant"],
                                  aggfunc="first"))

    def loc(d, key="x"):
        return fmt(d and d[key])


    zero_on = [evo_feat["zero", k]["onset"] for k in (1, 2, 3)]
    lines = [
        f"Evolution of xor({width}), {len(seeds)} seeds, R^2 grid step {evo_step}:",
        "  zero-row onsets (k = 1/2/3): " + " / ".join(loc(o) for o in zero_on)
        + f"   [P1: around R^2 = {T0}]",
        "  zero-row half-rise points:   " + " / ".join(loc(evo_feat["zero", k]["half_rise"])
                                                  for k in (1, 2, 3)),
        f"  size-2 dependent zero rows: onset {loc(evo_feat['dep', 2]['onset'])}; size-3: "
        f"onset {loc(evo_feat['dep', 3]['onset'])}",
    ]
    for name, kind in (("pr", "minimum"), ("rr", "maximum"), ("div", "maximum")):
        lines.append(f"  {name.upper():>3} onsets " + " / ".join(loc(evo_feat[name, k]["onset"])
                                                             for k in (1, 2, 3))
                     + f"; {kind} at R^2 " + " / ".join(
                         fmt(evo_feat[name, k]["extremum"]["x"]) + ("*" if evo_feat[name, k][
                             "extremum"]["beyond_ends"] else "") for k in (1, 2, 3))
                     + f"   [P1: near {paper.EVOLUTION_EXTREMUM_R2}]")
    lines += ["  (* = significant interior extremum, paired by seed)", "",
              f"lambda-xor({width}), lambda step {lam_step}: training R^2 "
              + ", ".join(f"{v:.1f}: {r2_by_lam[round(v, 2)]:.2f}" for v in lams[::max(1, len(lams) // 6)])]
    for name, ks in (("zero", (1, 2, 3)), ("zero_nc", (1, 2, 3)), ("dep", (2,)),
                     ("pr", (1, 2, 3)), ("rr", (1, 2, 3)), ("div", (1, 2, 3))):
        for k in ks:
            f = lam_feat[name, k]
            w, h = f["window"], f["half_max"]
            lines.append(f"  {NAMES[name].format(k=k):<50} 2-SE window "
                         f"{(loc(w, 'low') + '-' + loc(w, 'high')) if w else 'none':<10} half-max "
                         f"{(loc(h, 'low') + '-' + loc(h, 'high')) if h else 'none':<10} extremum "
                         f"{f['extremum']['x']:.2f}")
    lines.append(f"  [P1: Goldilocks {lo_w}-{hi_w}; extrema near {paper.LAMBDA_XOR_EXTREMUM} "
                 f"(dependent zero rows: {paper.LAMBDA_XOR_DEP2_MAX})]")
    lines.append("  dead neurons per model: " + ", ".join(
        f"{v:.1f}: {dead_by_lam[round(v, 2)]:.1f}" for v in lams))
    out["summary"] = "\n".join(lines)

    out.update(evo=evo, final_r2=final_r2, epochs=epochs, late=late, evo_feat=evo_feat,
               evo_cfgs=evo_cfgs, lam_cfgs=lam_cfgs, lams=lams, all_lams=all_lams,
               lam_dfs=lam_dfs, r2_sum=r2_sum, lam_feat_by=lam_feat_by, lam_base=lam_base,
               dead_by_lam=dead_by_lam,
               evo_table=pd.DataFrame([evo_row(n, k) for n in METRICS for k in METRICS[n][1]]),
               lam_table=pd.DataFrame([lam_row(n, k) for n in METRICS for k in METRICS[n][1]]))
    return out
