"""Readings behind notebooks 01-03 (kag_utils.readings.setup_tables, zero_rows, concentration) on
synthetic evaluation tables, against statistics computed by hand (``statistics`` module,
explicit loops) and against the rules they are documented to apply."""
import math
import statistics

import numpy as np
import pandas as pd
import pytest
import torch

from kag_utils.core.metrics import false_positive_rate, participation_ratio_max
from kag_utils.readings import claims, rules
from kag_utils.readings import concentration as conc
from kag_utils.readings import paper_values as paper
from kag_utils.readings import setup_tables as st
from kag_utils.readings import zero_rows as zr
from kag_utils.readings.aggregate import summarize
from kag_utils.readings.verdicts import numeric_verdict

Q1S = [0.0001, 0.001, 0.01]
TARGETS = ["xor", "linear", "random"]
SEEDS = [0, 1, 2, 3]
rng = np.random.default_rng(7)


def mean_sd(values):
    values = [float(v) for v in values]
    return statistics.fmean(values), statistics.stdev(values)


def eval_table(m=32):
    """One row per (target, seed) with the zero-row columns of kag.evaluate (fractions)."""
    rows = []
    for t, base in zip(TARGETS, (0.2, 0.02, 0.05)):
        for s in SEEDS:
            r = {"target": t, "seed": s, "m": m}
            for k in (1, 2, 3):
                for q in Q1S:
                    r[f"zero_frac_k{k}_q{q:g}"] = base * (1 + 10 * q) * k * rng.uniform(0.8, 1.2)
                    r[f"n_consistent_k{k}_q{q:g}"] = int(rng.integers(0, 3)) * k
                    if k > 1:
                        r[f"dep_frac_k{k}_q{q:g}"] = 0.1 * r[f"zero_frac_k{k}_q{q:g}"]
                        r[f"dep_of_zero_k{k}_q{q:g}"] = rng.uniform(0.05, 0.3)
            rows.append(r)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- setup_tables
def run_table():
    rows = [{"target": t, "m": m, "seed": s, "train_r2": r2 + 0.01 * s,
             "test_r2": r2 + 0.01 * s - gap, "epochs": ep + s}
            for t, m, r2, gap, ep in (("xor", 4, 0.4, 0.01, 100), ("xor", 32, 0.96, 0.02, 300),
                                      ("linear", 4, 1.0, 0.0, 50), ("random", 4, 0.3, 0.35, 900))
            for s in SEEDS]
    return pd.DataFrame(rows)


def test_table1_display_formats_ours_beside_the_paper():
    table = run_table()
    t1 = summarize(table, ["target", "m"], ["train_r2", "test_r2", "epochs"])
    show = st.table1_display(t1)
    assert list(show.columns) == ["target", "m", "train", "paper", "test", "epochs"]
    row = show[(show.target == "xor") & (show.m == 32)].iloc[0]
    mean, sd = mean_sd(table[(table.target == "xor") & (table.m == 32)].train_r2)
    assert row.train == f"{mean:.4f} ± {sd:.4f}"
    assert row.paper == "{:.4f} ± {:.4f}".format(*paper.TABLE_I["xor"][32])
    assert row.epochs == f"{statistics.fmean([300, 301, 302, 303]):.0f}"
    assert st.table1_display(t1, paper_table={}).paper.tolist() == ["–"] * len(t1)


def test_train_test_gap():
    gap = st.train_test_gap(run_table())
    assert gap["learnable_max"] == pytest.approx(0.02)          # xor(32), not random's 0.35
    assert gap["random_test_max"] == pytest.approx(0.33 - 0.35)        # seed 3
    assert gap["by_target"].loc["random", "mean"] == pytest.approx(0.35)
    assert st.train_test_gap(run_table().query("target != 'random'"))["random_test_max"] is None


def test_critical_batch_max_skips_undefined_widths():
    assert st.critical_batch_max(pd.DataFrame({"B_c": [120.0, None, 250.0]})) == 250.0
    assert st.critical_batch_max(pd.DataFrame({"B_c": [None, None]})) is None


def test_fig1_jacobian_summary():
    J_in = np.ones((4, 3))
    J_tr = np.array([[2.0, -2, 2], [0.1, 0, 0.1], [3, 3, -3], [1, 1, 1]])
    res = st.fig1_jacobian_summary(J_tr, J_in)
    assert res["jacobian_scale_ratio"] == pytest.approx(np.abs(J_tr).sum() / 12)
    assert res["smallest_jacobian_row"] == 2                      # 1-based
    with pytest.raises(ValueError, match="one shape"):
        st.fig1_jacobian_summary(J_tr, J_in[:3])


# ------------------------------------------------------------------------------- zero_rows
def test_false_positive_table():
    t = zr.false_positive_table(Q1S, 32)
    assert list(t.index) == ["q(1)", "q(2)", "q(3)"] and t.columns[0] == "q(1) = 0.0001"
    assert t.loc["q(3)", "q(1) = 0.01"] == 100 * false_positive_rate(0.01, 32, 3)
    assert t.loc["q(1)", "q(1) = 0.001"] == pytest.approx(0.1)


def test_low_rank_regime_and_machine_precision_and_order():
    df = eval_table()
    low = zr.low_rank_regime(df, "xor", 0.0001, 32)
    for k in (1, 2, 3):
        col = df[df.target == "xor"][f"zero_frac_k{k}_q0.0001"]
        mean, sd = mean_sd(col)
        assert low[k]["mean"] == pytest.approx(mean) and low[k]["se"] == pytest.approx(sd / 2)
        assert low[k]["fpr"] == false_positive_rate(0.0001, 32, k)
        assert low[k]["reading"]["verdict"] == "reproduced"       # 20 % against 0.01-0.03 %
    with pytest.raises(ValueError, match="no rows of target"):
        zr.low_rank_regime(df, "gaussian", 0.01, 32)

    tiny = pd.DataFrame({"log10_min": [-20.0, -19.0, -21.0], "exact_zeros": [0, 2, 1]})
    prec = zr.machine_precision(tiny)
    assert prec["mean"] == -20.0 and prec["exact_zeros"] == 3
    assert prec["se"] == pytest.approx(1 / math.sqrt(3))
    assert prec["reading"]["verdict"] == "reproduced"
    one = zr.machine_precision(tiny.iloc[:1].assign(log10_min=-15.0))
    assert one["se"] == 0.0 and one["reading"]["verdict"] == "not reproduced"

    grow = zr.low_rank_order(df, ["linear", "random", "xor"], 0.01)
    assert grow["means"] == pytest.approx([statistics.fmean(df[df.target == t]["zero_frac_k3_q0.01"])
                                           for t in ("linear", "random", "xor")])
    assert grow["reading"]["verdict"] == "reproduced"
    assert zr.low_rank_order(df, ["xor", "random", "linear"], 0.01)["reading"]["verdict"] == \
        "not reproduced"


def test_table2_cells_display_and_comparisons():
    df, df_test = eval_table(), eval_table()
    t2 = zr.table2(df, TARGETS, Q1S, 32)
    assert t2.model.tolist()[:3] == ["xor(32)"] * 3
    assert t2.row.tolist()[:3] == ["Zero", "Dependent(2)", "Dependent(3)"]
    cell = t2[(t2.model == "linear(32)") & (t2.row == "Dependent(2)")]["0.1%"].iloc[0]
    assert cell == pytest.approx(mean_sd(100 * df[df.target == "linear"]["dep_frac_k2_q0.001"]))

    show = zr.table2_display(t2, Q1S, 32)
    assert show.iloc[0]["1%"] == "{:.3f} ± {:.3f}".format(*t2.iloc[0]["1%"])
    assert show.iloc[0]["paper 1%"] == "{:.3f} ± {:.3f}".format(*paper.TABLE_II["xor"]["zero"][0.01])
    assert show.model.tolist()[-2:] == ["baseline", "baseline"]
    assert show.iloc[-2]["1%"] == f"{100 * false_positive_rate(0.01, 32, 3):.4g}"

    causes = {t: f"cause of {t}" for t in TARGETS}
    extra = [{"reading": "other", "verdict": "reproduced"}]
    cells = zr.table2_comparisons(t2, Q1S, 4, causes, df_test, lambda claim: extra)
    assert len(cells) == 9 * 3 and [c["q1"] for c in cells[:3]] == Q1S
    c = cells[4]                                  # xor(32), Dependent(2), q1 = 0.1 %
    assert (c["model"], c["row"], c["paper_key"], c["q1"]) == ("xor(32)", "Dependent(2)", "dep2", 0.001)
    assert c["numbers"] == {"table2.xor.dep2.q0.001": {"mean": c["mean"], "std": c["sd"]}}
    p_mean, p_sd = paper.TABLE_II["xor"]["dep2"][0.001]
    assert c["paper"] == (p_mean, p_sd)
    assert c["verdict"] == numeric_verdict(p_mean, c["mean"], p_sd, c["sd"], None, 4, 1e-3)["verdict"]
    tv = 100 * df_test[df_test.target == "xor"]["dep_frac_k2_q0.001"]
    assert c["readings"] == [{"reading": "test inputs", "ours_value": pytest.approx(tv.mean()),
                              "ours_sd": pytest.approx(tv.std(ddof=1)), "ours_n": 4}]
    row = c["comparison"]
    assert row["claim"] == "Table II xor(32) Dependent(2) q1=0.1%"
    assert (row["paper_value"], row["paper_sd"], row["ours_value"], row["ours_sd"]) == \
        (p_mean, p_sd, c["mean"], c["sd"])
    assert row["readings"] == c["readings"] + extra and row["note"] == zr.TABLE2_NOTE
    assert row["cause"] == ("" if c["verdict"] == "reproduced" else "cause of xor")
    assert zr.table2_comparisons(t2, Q1S, 4)[4]["comparison"]["readings"] == []
    other = zr.table2(df.assign(target=df.target.replace({"xor": "lambda"})), ["lambda"], Q1S, 32)
    assert all(c["paper"] is None and c["comparison"] is None and c["numbers"]
               for c in zr.table2_comparisons(other, Q1S, 4))


def test_xor_excess_tracks_and_shares():
    df = eval_table()
    t2 = zr.table2(df, TARGETS, Q1S, 32)
    ex = zr.xor_excess(t2, Q1S, 32)
    zero = mean_sd(100 * df[df.target == "xor"]["zero_frac_k3_q0.01"])
    assert ex[0.01]["zero"] == pytest.approx(zero)
    assert ex[0.01]["excess"] == pytest.approx(zero[0] / (100 * false_positive_rate(0.01, 32, 3)))

    tr = zr.tracks_fpr(df, "linear", 32)
    zs = 100 * df[df.target == "linear"]["zero_frac_k3_q0.01"]
    fpr = 100 * false_positive_rate(0.01, 32, 3)
    assert tr["fpr"] == fpr and tr["ratio"] == pytest.approx(zs.mean() / fpr)
    assert tr["reading"] == rules.near(float(zs.mean()), fpr, float(zs.std(ddof=1)) / 2, "close to")
    exact = df.assign(**{"zero_frac_k3_q0.01": false_positive_rate(0.01, 32, 3)})
    assert zr.tracks_fpr(exact, "random", 32)["reading"]["verdict"] == "reproduced"

    assert zr.ka_ideal_pct(32) == pytest.approx(100 * (1 - 1 / 4960))
    dep = zr.dependent_share(df, "xor", Q1S)
    assert list(dep.index) == [f"dep_of_zero_k3_q{q:g}" for q in Q1S]
    assert dep.iloc[2] == pytest.approx(statistics.fmean(df[df.target == "xor"]["dep_of_zero_k3_q0.01"]))


def test_zero_rows_by_k_table_and_numbers():
    df = eval_table()
    table = zr.zero_rows_by_k(df, TARGETS, Q1S, 32)
    assert len(table) == 9 and table.k.tolist()[:3] == [1, 2, 3]
    col = df[df.target == "random"]["zero_frac_k2_q0.001"]
    mean, sd = mean_sd(100 * col)
    row = table[(table.model == "random(32)") & (table.k == 2)].iloc[0]
    assert row["0.1%"] == f"{mean:.3f} ± {sd:.3f}"
    assert row["q(k) at 1%"] == f"{100 * false_positive_rate(0.01, 32, 2):.3f}"
    numbers = zr.zero_rows_by_k_numbers(df, TARGETS, Q1S)
    assert list(numbers)[:2] == ["zero_rows.xor.k1", "zero_rows.xor.k2"]
    assert numbers["zero_rows.random.k2"]["q0.001"] == pytest.approx(mean)


def test_consistent_counts_totals_and_dead_neurons():
    df = eval_table()
    cz = zr.consistent_counts(df, Q1S, 32)
    assert len(cz) == 3 * len(df) and list(cz.columns) == ["model", "seed", "k", "0.01%", "0.1%", "1%"]
    tot = zr.consistent_totals(cz, Q1S)
    for (model, k), row in tot.iterrows():
        t = model.split("(")[0]
        assert row["1%"] == sum(df[df.target == t][f"n_consistent_k{k}_q0.01"])
    dead = zr.dead_neuron_counts(cz, "xor(32)")
    assert dead.tolist() == df[df.target == "xor"]["n_consistent_k1_q0.01"].tolist()


def test_bias_reading():
    table = pd.DataFrame({"consistently_zero": [2, 1], "bias_silenced": [0, 0]})
    assert zr.bias_reading(table) == {"consistently_zero": 3, "bias_silenced": 0,
                                      "verdict": "reproduced"}
    assert zr.bias_reading(table.assign(bias_silenced=[1, 0]))["verdict"] == "not reproduced"
    assert zr.bias_reading(table.assign(consistently_zero=0))["verdict"] == "inconclusive"


def test_train_test_table_and_numbers():
    df, df_test = eval_table(), eval_table()
    table = zr.train_test_table(df, df_test, TARGETS, Q1S, 32)
    row = table[(table.model == "xor(32)") & (table.row == "Dependent(3)")].iloc[0]
    a = 100 * statistics.fmean(df[df.target == "xor"]["dep_frac_k3_q0.01"])
    b = 100 * statistics.fmean(df_test[df_test.target == "xor"]["dep_frac_k3_q0.01"])
    assert row["1% train / test"] == f"{a:.3f} / {b:.3f}"
    numbers = zr.test_numbers(df_test, TARGETS, Q1S)
    assert numbers["table2_test.xor.dep3"]["q0.01"] == pytest.approx(b)
    assert list(numbers)[:3] == ["table2_test.xor.zero", "table2_test.xor.dep2",
                                 "table2_test.xor.dep3"]


# --------------------------------------------------------------------------- concentration
WIDTHS = [4, 8, 32]


def conc_table():
    """One row per (target, m, seed) with the concentration columns of kag.evaluate."""
    rows = []
    for t, shift in zip(TARGETS, (0.3, 0.0, 0.05)):
        for m in WIDTHS:
            for s in SEEDS:
                r = {"target": t, "m": m, "seed": s}
                for k in (1, 2, 3):
                    e = 0.01 * (s - 1.5)
                    c0 = 1.1 + 0.02 * s + 0.001 * m            # initial c per (m, seed)
                    r.update({f"pr_k{k}": 5.0 * k - shift * k + e, f"pr_init_k{k}": 5.0 * k + 0.1 * s,
                              f"pr_norm_k{k}": 1 - shift * (k - 1) / 3 * (m >= 8) + e,
                              f"rr_norm_k{k}": 1 + shift * (k - 1) + e,
                              f"rr_signed_norm_k{k}": 1 + 1.2 * shift * (k - 1) + e,
                              f"rr_init_k{k}": c0 ** k, f"rr_signed_init_k{k}": (c0 + 0.1) ** k,
                              f"divergence_k{k}": (shift + 0.001) * (1 + 0.1 * m * (k > 1)) + 0.0001 * s,
                              f"entropy_init_k{k}": 0.99 - 0.001 * k - 0.0001 * s})
                rows.append(r)
    return pd.DataFrame(rows)


def test_table3_and_its_display():
    df = conc_table()
    t3 = conc.table3(df, TARGETS, 32)
    assert t3.index.tolist() == ["xor(32)", "linear(32)", "random(32)", "Initial(32)"]
    sub = df[(df.m == 32) & (df.target == "random")]
    assert t3.loc["random(32)", 2] == pytest.approx(mean_sd(sub.pr_k2))
    init = df[df.m == 32].drop_duplicates("seed")
    assert t3.loc["Initial(32)", 3] == pytest.approx(mean_sd(init.pr_init_k3))
    with pytest.raises(ValueError, match="width m = 16"):
        conc.table3(df, TARGETS, 16)
    show = conc.table3_display(t3, 32)
    assert show.loc["PR_max", "k = 2"] == f"{participation_ratio_max(32, 3, 2):.2f}"
    assert show.loc["PR_max", "paper"] == "9.80 / 38.57 / 70.43"
    assert show.loc["Initial(32)", "paper"].startswith("{:.2f} ± {:.2f}".format(*paper.TABLE_III["initial"][1]))
    assert set(conc.table3_paper_rows()) == {"xor(32)", "linear(32)", "random(32)", "Initial(32)"}

    numbers = conc.table3_numbers(t3, 32)
    assert list(numbers)[:4] == ["table3.xor.k1", "table3.xor.k2", "table3.xor.k3", "table3.linear.k1"]
    assert numbers["table3.initial.k3"] == dict(zip(("mean", "std"), t3.loc["Initial(32)", 3]))
    assert numbers["table3.pr_max.k2"] == participation_ratio_max(32, 3, 2)
    causes = {"xor": "a", "linear": "b", "random": "c", "Initial": "d"}
    rows = conc.table3_rows(t3, 32, causes, lambda claim: [{"reading": claim}])
    assert [r["claim"] for r in rows[:2]] == ["Table III PR xor(32) k=1", "Table III PR xor(32) k=2"]
    assert len(rows) == 4 * 3 + 3 and rows[-1]["claim"] == "Table III PR_max k=3"
    init = rows[9]
    assert (init["paper_value"], init["paper_sd"]) == paper.TABLE_III["initial"][1]
    assert (init["ours_value"], init["ours_sd"]) == t3.loc["Initial(32)", 1]
    assert init["cause"] == "d" and init["readings"] == [{"reading": "Table III PR Initial(32) k=1"}]
    assert all(r["agree"] for r in rows[-3:])                    # the closed form, to 0.006
    assert conc.table3_rows(conc.table3(df, TARGETS, 8), 8, causes) == []


def test_curves_long_summary_and_numbers():
    df = conc_table()
    long = conc.curves_long(df)
    assert len(long) == len(df) * 9 and set(long.metric) == {"pr_norm", "rr_norm", "divergence"}
    one = long[(long.metric == "rr_norm") & (long.k == 2) & (long.target == "xor") & (long.m == 8)]
    assert sorted(one.value) == sorted(df[(df.target == "xor") & (df.m == 8)].rr_norm_k2)
    summary = conc.curve_summary(df, "rr_signed_norm")
    numbers = conc.curve_numbers("fig6_signed", summary, "rr_signed_norm")
    vals = df[(df.target == "linear") & (df.m == 4)].rr_signed_norm_k3
    got = numbers["fig6_signed.linear.m4"]["k3"]
    assert got["mean"] == pytest.approx(statistics.fmean(vals))
    assert got["se"] == pytest.approx(statistics.stdev(vals) / 2)
    assert len(numbers) == len(TARGETS) * len(WIDTHS)


def test_fig4_and_entropy_numbers():
    tail = pd.DataFrame({"target": ["xor", "linear"], "below_mean": [3.0, 1.0],
                         "above_mean": [2.0, 1.1]})
    assert conc.fig4_numbers(tail) == {
        "fig4.xor.tail_shares_pct": {"below_initial_q01": 3.0, "above_initial_q99": 2.0},
        "fig4.linear.tail_shares_pct": {"below_initial_q01": 1.0, "above_initial_q99": 1.1}}
    ent = pd.DataFrame({"m": [4, 32], **{f"entropy_init_k{k}_mean": [0.9 + k / 100, 0.99]
                                         for k in (1, 2, 3)}})
    assert conc.entropy_numbers(ent)["initial_entropy.m4"] == {"k1": 0.91, "k2": 0.92, "k3": 0.93}


def test_pr_drop_and_linear_deviation():
    pr_sum = conc.curve_summary(conc_table(), "pr_norm")
    drop = conc.pr_drop(pr_sum, WIDTHS)
    assert drop["drop_m"] == [8, 32] and drop["expected"] == [8, 32] and drop["agree"]
    assert drop["k3"] < drop["k1"]
    pr_sum.loc[(pr_sum.target == "xor") & (pr_sum.m == 8), "pr_norm_k3_mean"] = 1.0
    assert conc.pr_drop(pr_sum, WIDTHS)["drop_m"] == [32]
    lin = pr_sum.copy()
    lin.loc[(lin.target == "linear") & (lin.m == 8), "pr_norm_k2_mean"] = 0.9
    dev = conc.linear_pr_deviation(lin)
    assert (dev["m"], dev["k"]) == (8, 2) and dev["worst"] == pytest.approx(0.1)
    assert dev["by_m"][8] == pytest.approx(0.1) and set(dev["by_m"]) == set(WIDTHS)

    rows = conc.fig5_rows(conc.pr_drop(pr_sum, WIDTHS), dev, tol=0.05)
    assert [r["agree"] for r in rows] == [False, True, False]
    assert rows[0]["ours_value"] == "significant at m = [32]"
    assert "m = 8: 0.10" in rows[2]["note"] and "within 5%" in rows[2]["note"]
    assert conc.fig5_rows(None, conc.linear_pr_deviation(pr_sum))[0]["agree"]
    assert conc.fig5_rows() == []


def toy_results():
    j1 = {"abs": np.array([[1.30, 1.66, 2.10], [1.32, 1.68, 2.16], [1.34, 1.67, 2.14]]),
          "signed": np.array([[1.46, 1.80, 2.60], [1.48, 1.81, 2.61], [1.47, 1.79, 2.62]])}
    g = torch.Generator().manual_seed(0)
    per_draw = {name: {r: {k: 0.9 + 0.2 * torch.rand(50, generator=g, dtype=torch.float64)
                           for k in (1, 2, 3)} for r in ("abs", "signed")} for name in ("J2", "J3")}
    return j1, per_draw


def test_table4_cells_fit_and_display():
    j1, per_draw = toy_results()
    cells = conc.table4_cells(j1, per_draw, 3, 50)
    assert [(c["name"], c["k"]) for c in cells[:4]] == [("J1", 1), ("J2", 1), ("J3", 1), ("J1", 2)]
    c = cells[0]
    assert c["stats"]["signed"] == pytest.approx(mean_sd(j1["signed"][:, 0]))
    assert c["alt"] == conc.reading_verdict(paper.TABLE_IV["J1"][1], *c["stats"]["signed"], 3,
                                            "signed maximum")
    assert c["verdicts"]["signed"] == "reproduced" and c["verdicts"]["abs"] == "not reproduced"
    assert c["percentile"] is None and set(c["numbers"]) == {"table4.J1.k1", "table4.J1.k1.signed"}
    c = cells[5]                                                   # J3, k = 2
    v = per_draw["J3"]["abs"][2]
    assert c["stats"]["abs"] == pytest.approx(mean_sd(v.tolist()))
    assert c["percentile"]["abs"] == pytest.approx(sum(float(x) < paper.TABLE_IV["J3"][2] for x in v) / 50)
    assert c["numbers"]["table4.J3.k2.signed"]["paper_percentile"] == c["percentile"]["signed"]
    row = cells[0]["comparison"]
    assert row["claim"] == "Table IV J1 (aligned) RR k=1" and row["readings"] == [cells[0]["alt"]]
    assert (row["ours_value"], row["paper_sd"], row["ours_sd"], row["paper_n"], row["ours_n"]) == \
        (cells[0]["stats"]["abs"][0], cells[0]["stats"]["abs"][1], cells[0]["stats"]["abs"][1], 1, 3)
    assert "fits the signed-maximum reading" in row["cause"]        # abs off, signed on
    assert cells[5]["comparison"]["ours_n"] == 50 and "percentile" in cells[5]["comparison"]["note"]
    fit, n_fit = conc.table4_fit(cells)
    assert list(fit["abs"])[:3] == ["J1 k=1", "J2 k=1", "J3 k=1"]
    assert n_fit == {r: sum(v == "reproduced" for v in fit[r].values()) for r in fit}
    v = numeric_verdict(1.483, 1.47, paper_sd=0.01, ours_sd=0.01, paper_n=1, ours_n=3)
    assert conc.reading_verdict(1.483, 1.47, 0.01, 3, "x") == {"reading": "x", "verdict": v["verdict"],
                                                               "ours_value": 1.47}
    show = conc.table4_display(j1, per_draw)
    assert show.Jacobian.tolist() == ["J1 (aligned)"] * 2 + ["J2 (Gaussian)"] * 2 + ["J3 (uniform)"] * 2
    assert show.iloc[0]["k = 1"] == "{:.3f} ± {:.3f}".format(*mean_sd(j1["abs"][:, 0]))


def test_scaling_rows():
    sc = {"global_change": 1e-12, "nonuniform_changes": [0.1, 0.2, 1e-13]}
    rows = conc.scaling_rows(sc)
    assert [r["agree"] for r in rows] == [True, True] and rows[1]["note"] == ""
    rows = conc.scaling_rows({"global_change": 1e-3, "nonuniform_changes": [0.1, 0.0, 0.01]})
    assert [r["agree"] for r in rows] == [False, False] and "k=3 changed" in rows[1]["note"]


def test_fig6_readings():
    df = conc_table()
    rr_sum, rr_signed = conc.curve_summary(df, "rr_norm"), conc.curve_summary(df, "rr_signed_norm")
    v, ok = conc.above_one(rr_sum, "rr_norm", WIDTHS)
    assert v == "reproduced" and ok == WIDTHS
    low = rr_sum.copy()
    low.loc[(low.target == "xor") & (low.m == 8), "rr_norm_k3_mean"] = 0.5
    v, ok = conc.above_one(low, "rr_norm", WIDTHS)
    assert v == "not reproduced" and ok == [4, 32]

    k1 = conc.k1_near_one(rr_sum)
    per = [rules.near(r.rr_norm_k1_mean, 1.0, r.rr_norm_k1_se, "~") for r in rr_sum.itertuples()]
    assert k1["verdict"] == claims.all_of(per) == "reproduced" and k1["far"] == {}
    far = rr_sum.copy()
    far.loc[(far.target == "random") & (far.m == 4), "rr_norm_k1_mean"] = 1.5
    k1 = conc.k1_near_one(far)
    assert k1["verdict"] == "not reproduced" and list(k1["far"]) == [("random", 4)]
    assert k1["max"] == 1.5

    sep = conc.separation_by_k(rr_sum, 32)
    at = rr_sum[rr_sum.m == 32].set_index("target")
    for k, (g, e) in zip((1, 2, 3), sep["gaps"]):
        i = int(np.argmax(at.loc[["linear", "random"], f"rr_norm_k{k}_mean"]))
        other = ["linear", "random"][i]
        assert g == pytest.approx(at.loc["xor", f"rr_norm_k{k}_mean"] - at.loc[other, f"rr_norm_k{k}_mean"])
        assert e == pytest.approx(math.hypot(at.loc["xor", f"rr_norm_k{k}_se"], at.loc[other, f"rr_norm_k{k}_se"]))
    assert sep["reading"]["verdict"] == "reproduced"

    side = conc.readings_side_by_side(rr_sum, rr_signed, 32)
    assert side.index.tolist() == sorted(TARGETS)
    r = rr_signed[(rr_signed.m == 32) & (rr_signed.target == "xor")].iloc[0]
    assert side.loc["xor", "k = 2 signed"] == f"{r.rr_signed_norm_k2_mean:.3f} ± {r.rr_signed_norm_k2_se:.3f}"


def test_initial_rotation_ratios_and_c_fit():
    df = conc_table()
    init = conc.initial_rr(df)
    assert init.m.tolist() == WIDTHS
    vals = df.drop_duplicates(["m", "seed"])
    assert init.iloc[0].rr_signed_init_k2_mean == pytest.approx(
        statistics.fmean(vals[vals.m == 4].rr_signed_init_k2))
    numbers = conc.initial_rr_numbers(init)
    assert list(numbers)[:2] == ["initial_rr.m4", "initial_rr_signed.m4"]
    assert numbers["initial_rr.m32"]["k3"] == init.iloc[-1].rr_init_k3_mean
    show = conc.initial_rr_display(init)
    assert show.index.tolist() == WIDTHS and show.columns[1] == "k = 1 signed"
    c = conc.initial_rr_c(df, 32)                      # rr_init = c0^k exactly: c = c0 per seed
    c0 = [1.1 + 0.02 * s + 0.032 for s in SEEDS]
    np.testing.assert_allclose(c["abs"]["c"], c0, rtol=1e-12)
    np.testing.assert_allclose(c["signed"]["c"], np.add(c0, 0.1), rtol=1e-12)
    assert c["abs"]["mean"] == pytest.approx(statistics.fmean(c0))
    assert c["abs"]["sd"] == pytest.approx(statistics.stdev(c0)) and c["abs"]["n"] == 4
    assert c["verdict"] == numeric_verdict(1.0, c["abs"]["mean"], ours_sd=c["abs"]["sd"], ours_n=4,
                                           wording="approximate")["verdict"]
    assert conc.initial_rr_c(df[df.seed == 0], 32)["abs"]["sd"] is None
    row = conc.initial_rr_c_row(c, 32)
    assert row["claim"] == "initial RR scales as c^k with c ~ 1.0 (m = 32)"
    assert (row["paper_value"], row["ours_value"], row["ours_sd"], row["wording"]) == \
        (1.0, c["abs"]["mean"], c["abs"]["sd"], "approximate")
    assert row["readings"] == [{"reading": "signed maximum", "ours_value": c["signed"]["mean"],
                                "ours_sd": c["signed"]["sd"], "ours_n": 4}]


def test_fig7_readings_and_entropy():
    df = conc_table()
    dv = conc.curve_summary(df, "divergence")
    order = conc.divergence_order(dv, WIDTHS)
    assert order == {"larger": True, "monotonic": True, "drops": []}
    dip = dv.copy()
    dip.loc[(dip.target == "xor") & (dip.m == 32), "divergence_k3_mean"] = 0.0
    order = conc.divergence_order(dip, WIDTHS)
    assert not order["larger"] and not order["monotonic"]
    big = dv[(dv.target == "xor") & (dv.m == 8)].divergence_k3_mean.iloc[0]
    assert order["drops"] == [(3, 8, 32, pytest.approx(big))]
    assert conc.divergence_order(dv[dv.target == "xor"], WIDTHS)["larger"] is True
    rows = conc.divergence_rows(order)
    assert [r["agree"] for r in rows] == [False, False]
    assert "at k=3 from m=8 to m=32" in rows[1]["note"]
    assert [r["agree"] for r in conc.divergence_rows(conc.divergence_order(dv, WIDTHS))] == [True, True]

    near = conc.stays_near_initial(dv, "linear", WIDTHS)
    ratios = [dv[(dv.target == "linear") & (dv.m == m)][f"divergence_k{k}_mean"].iloc[0]
              / dv[(dv.target == "xor") & (dv.m == m)][f"divergence_k{k}_mean"].iloc[0]
              for m in WIDTHS for k in (1, 2, 3)]
    assert near["worst"] == pytest.approx(max(ratios)) and near["verdict"] == "reproduced"
    assert conc.stays_near_initial(dv, "random", WIDTHS)["verdict"] == "not reproduced"

    ent = summarize(df.drop_duplicates(["m", "seed"]), "m", [f"entropy_init_k{k}" for k in (1, 2, 3)])
    assert conc.lowest_entropy(ent) == pytest.approx(0.99 - 0.003 - 0.0001 * 1.5)
