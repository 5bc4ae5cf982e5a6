"""The early-stopping sensitivity study (issue 12 item 3; REPRODUCTION A-06, A-10).

P1 says only "early-stopping with a patience parameter equal to 50 epochs". What is monitored,
what counts as an improvement and which weights are kept are unstated, so every affected claim
is judged under each *reading* of the rule: monitor x min_delta x restore-best.

**The default reading and its principle** (stated before comparing with P1's numbers): read
the sentence literally and fill the gaps with the framework defaults. P1 mentions no
validation set and counts patience in *epochs*, so the monitor is the epoch-level training
loss that a training loop reports for an epoch: the mean of its mini-batch losses (Keras'
``loss``, ``train_batch_mse``); an improvement is any decrease (Keras/Lightning default
``min_delta = 0``); the model kept is the best epoch's (the point of monitoring a best
value; ``restore_best = True``). This is the project's default (RunConfig); the study
does not change it.

Training is shared: a reading does not change a model's trajectory (the validation set is
separate from the 1000 training inputs), so the runs of one seed under all readings are ONE
ensemble member with several stopping readings (kag_utils.p1.runs.group_runs,
kag_utils.p1.training.train_readings), each stored under its own config's key. Evaluation is
shared too: readings that select the same epoch of the same trajectory have the same weights,
which are evaluated once.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..figures import style
from ..readings import claim_names as names
from ..readings import paper_values as paper
from .evaluation import EvalConfig, evaluate
from ..core.metrics import false_positive_rate
from .runs import READING_FIELDS, RunConfig, ensure_runs, trajectory_key

DEFAULT_READING = {"monitor": "train_batch_mse", "min_delta": 0.0, "restore_best": True}
MONITORS = ("train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse")
MIN_DELTAS = (0.0, 1e-4, 1e-3)
RESTORE = (True, False)
RUN_COLUMNS = {"train_r2": lambda r: r.r2_train, "test_r2": lambda r: r.r2_test,
               "val_r2": lambda r: r.r2_val, "epochs": lambda r: r.stop_epoch}


def reading_grid(monitors: Sequence[str] = MONITORS, min_deltas: Sequence[float] = MIN_DELTAS,
                 restore_best: Sequence[bool] = RESTORE) -> list[dict]:
    """All readings monitor x min_delta x restore_best, the default first (when included)."""
    grid = [{"monitor": m, "min_delta": float(d), "restore_best": bool(r)}
            for m, d, r in itertools.product(monitors, min_deltas, restore_best)]
    if not grid:
        raise ValueError("the reading grid is empty: give at least one monitor, min_delta and "
                         "restore_best value")
    return sorted(grid, key=lambda r: r != DEFAULT_READING)


def reading_label(reading: dict) -> str:
    """Short name of a reading, e.g. 'val_mse, d=1e-3, last'."""
    r = {**DEFAULT_READING, **reading}
    restore = "best" if r["restore_best"] else "last"
    return f"{r['monitor']}, d={r['min_delta']:g}, {restore}"


def with_reading(config: RunConfig, reading: dict) -> RunConfig:
    unknown = set(reading) - set(READING_FIELDS)
    if unknown:
        raise ValueError(f"a reading sets only {READING_FIELDS}, got {sorted(unknown)}")
    return config.replace(**reading)


def claim_configs(claims: Sequence["Claim"], readings: Sequence[dict]) -> list[RunConfig]:
    """Every run the study needs (unique, in order): train them with a notebook's own sweep so
    that one trajectory per seed serves the default and every other reading."""
    return list(dict.fromkeys(with_reading(x, r) for c in claims for x in c.configs
                              for r in readings))


@dataclass(frozen=True)
class Claim:
    """One affected claim: a seed-averaged column of its runs, against the paper.

    ``configs``: the claim's runs under the default protocol, one per seed (the readings
    replace their stopping fields). ``column``: an evaluate() column or a run column
    (RUN_COLUMNS), times ``scale``. Verdict: against ``paper_value`` by the numeric rule
    (kag_utils.readings.verdicts), or ``near`` a target by the "~" rule (kag_utils.readings), or by
    ``rule(mean, SE)``, or "new result" when there is none of these."""
    name: str
    source: str
    configs: tuple[RunConfig, ...]
    column: str
    scale: float = 1.0
    paper_value: float | None = None
    paper_sd: float | None = None
    resolution: float = 0.0
    wording: str | None = None
    baseline: float | None = None
    near: float | None = None
    rule: Callable[[float, float], str] | None = None   # (mean, SE) -> verdict, overrides


def with_rule(claims: Sequence[Claim], name: str, rule: Callable[[float, float], str]) -> list[Claim]:
    """``claims`` with ``rule`` (mean, SE -> verdict) judging the claim called ``name``: the
    notebook's own rule for that row, so that every reading is judged as the row is."""
    if name not in {c.name for c in claims}:
        raise ValueError(f"no claim {name!r} among {[c.name for c in claims]}")
    return [dataclasses.replace(c, rule=rule) if c.name == name else c for c in claims]


def claim_verdict(claim: Claim, mean: float, sd: float | None, n: int) -> str:
    from ..readings import near
    from ..readings.verdicts import numeric_verdict

    if not math.isfinite(mean):
        return "not reproduced" if claim.paper_value is not None or claim.near is not None \
            else "new result"
    sd = None if sd is None or not math.isfinite(sd) else sd
    if claim.rule is not None:
        return claim.rule(mean, (sd or 0.0) / math.sqrt(n))
    if claim.paper_value is not None:
        return numeric_verdict(claim.paper_value, mean, paper_sd=claim.paper_sd, ours_sd=sd,
                               ours_n=n if sd is not None else None,
                               resolution=claim.resolution, wording=claim.wording,
                               baseline=claim.baseline)["verdict"]
    if claim.near is not None:
        se = (sd or 0.0) / math.sqrt(n)
        return near(mean, claim.near, se, wording=claim.wording or "~",
                    scale=claim.baseline)["verdict"]
    return "new result"


def sensitivity_table(claims: Sequence[Claim], readings: Sequence[dict],
                      ecfg: EvalConfig | None = None, scheduler: Any = None, cache=None,
                      progress: bool = False):
    """Claim x reading table: mean, sd, n over seeds and the verdict of each claim under each
    reading (pandas DataFrame; ``default`` marks the default reading's rows).

    Trains what the cache lacks (readings of one seed share one trajectory) and evaluates each
    distinct selected weight set once with ``ecfg`` (default: no rotations)."""
    import numpy as np
    import pandas as pd

    if not claims or not readings:
        raise ValueError("need at least one claim and one reading")
    ecfg = ecfg if ecfg is not None else EvalConfig(n_x=1000, n_rot=0)
    cells = {(c.name, reading_label(r)): [with_reading(x, r) for x in c.configs]
             for c in claims for r in readings}
    configs = claim_configs(claims, readings)
    runs = dict(zip(configs, ensure_runs(configs, cache=cache, progress=progress,
                                         scheduler=scheduler)))
    metric_rows = _evaluate_distinct(
        [x for x in configs if any(c.column not in RUN_COLUMNS and x in cells[c.name, reading_label(r)]
                                   for c in claims for r in readings)],
        runs, ecfg, scheduler, cache, progress)
    rows = []
    for c in claims:
        for r in readings:
            xs = cells[c.name, reading_label(r)]
            if c.column in RUN_COLUMNS:
                vals = [RUN_COLUMNS[c.column](runs[x]) for x in xs]
            else:
                if c.column not in metric_rows[xs[0]]:
                    raise ValueError(f"claim {c.name!r}: no column {c.column!r} in evaluate() "
                                     "output (check the EvalConfig's q1s and ks)")
                vals = [metric_rows[x][c.column] for x in xs]
            v = c.scale * np.asarray(vals, dtype=float)
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if len(v) else math.nan
            sd = float(v.std(ddof=1)) if len(v) > 1 else None
            rows.append({"claim": c.name, "source": c.source, "reading": reading_label(r), **r,
                         "default": r == DEFAULT_READING, "mean": mean, "sd": sd, "n": len(v),
                         "paper": c.paper_value if c.paper_value is not None else c.near,
                         "verdict": claim_verdict(c, mean, sd, max(len(v), 1))})
    return pd.DataFrame(rows)


def _evaluate_distinct(configs, runs, ecfg, scheduler, cache, progress) -> dict:
    """evaluate() row (dict) per config, evaluating one config per distinct selected weights:
    (trajectory, selected epoch) determines them."""
    rep: dict[tuple, RunConfig] = {}
    for x in configs:
        rep.setdefault((trajectory_key(x), runs[x].selected_epoch), x)
    reps = list(rep.values())
    if not reps:
        return {}
    df = evaluate(reps, ecfg=ecfg, cache=cache, progress=progress, scheduler=scheduler)
    by_rep = dict(zip(reps, df.to_dict("records")))
    return {x: by_rep[rep[trajectory_key(x), runs[x].selected_epoch]] for x in configs}


def distinct_weights(configs: Sequence[RunConfig], runs: Sequence) -> int:
    """How many distinct selected weight sets ``configs`` have (evaluations needed)."""
    return len({(trajectory_key(c), r.selected_epoch) for c, r in zip(configs, runs)})


def compare_readings(table, claim: str) -> list[dict]:
    """The non-default readings of ``claim`` in the form Recorder.compare(readings=...) takes."""
    sub = table[(table.claim == claim) & ~table.default]
    return [{"reading": r.reading, "ours_value": r.mean, "ours_sd": r.sd, "ours_n": int(r.n),
             "verdict": r.verdict} for r in sub.itertuples()]


def slug(text: str) -> str:
    """A results key from a claim or reading name (letters, digits, '_', '-')."""
    import re
    return re.sub(r"[^A-Za-z0-9-]+", "_", text.replace(".", "p")).strip("_")


def attach_readings(record, table) -> list[str]:
    """Give every comparison row of ``record`` that ``table`` judges its other readings:
    the row lists each reading's verdict and becomes ``protocol-dependent`` when its own
    (default-reading) verdict is not reproduced and another reading is. Returns the claims."""
    from ..readings.verdicts import combine_readings

    done = []
    claims = set(table.claim)
    for row in record.comparison:
        if row["claim"] not in claims or row.get("readings"):
            continue
        reads = compare_readings(table, row["claim"])
        default = row["verdict"]
        row["verdict"] = combine_readings(default, reads)
        row["readings"] = f"default: {default}; " + "; ".join(
            f"{r['reading']}: {r['verdict']}" for r in reads)
        done.append(row["claim"])
    return done


def row_verdicts(table):
    """Per claim: the default reading's verdict, the readings that reproduce it and the row
    verdict (kag_utils.readings.verdicts.combine_readings)."""
    import pandas as pd

    from ..readings.verdicts import combine_readings

    out = []
    for claim, sub in table.groupby("claim", sort=False):
        default = sub[sub.default]
        if default.empty:
            raise ValueError(f"claim {claim!r} has no default-reading row: include the default "
                             "reading in the grid")
        d = default.iloc[0].verdict
        others = sub[~sub.default]
        out.append({"claim": claim, "default_verdict": d,
                    "reproduced_by": [r for r, v in zip(others.reading, others.verdict)
                                      if v == "reproduced"],
                    "verdict": combine_readings(d, others[["verdict"]].to_dict("records"))})
    return pd.DataFrame(out)


def summary(rows, readings: Sequence[dict]) -> dict:
    """Counts for the text from :func:`row_verdicts`: claims, readings, claims reproduced under
    the default reading, protocol-dependent claims (the default fails, another reading
    reproduces), claims no reading reproduces, and claims whose verdict changes with the reading
    at all (some reading's verdict differs from the default's)."""
    if len(rows) == 0:
        raise ValueError("summary() needs the rows of row_verdicts() for at least one claim")
    default = list(rows.default_verdict)
    final = list(rows.verdict)
    return {"claims": len(rows), "readings": len(readings),
            "default_reproduced": default.count("reproduced"),
            "protocol_dependent": final.count("protocol-dependent"),
            "reproduced_by_none": sum(1 for d, r in zip(default, rows.reproduced_by)
                                      if d != "reproduced" and not len(r)),
            "default_not_reproduced": sum(1 for d in default if d != "reproduced")}


VERDICT_CODES = {"not reproduced": 0, "new result": 1, "inconclusive": 2, "reproduced": 3}


def verdict_heatmap(table, title: str = "", ax=None, width_fraction: float = 1.0):
    """Claim x reading heatmap of verdicts (green reproduced, yellow inconclusive, grey new
    result, red not reproduced); the default reading is the first column. The figure is drawn
    for ``width_fraction`` of the printed text width. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    readings = list(dict.fromkeys(table.reading))
    claims = list(dict.fromkeys(table.claim))
    codes = table.assign(code=table.verdict.map(VERDICT_CODES)).pivot(
        index="claim", columns="reading", values="code").loc[claims, readings]
    if ax is None:
        # room for the rotated reading names below (constrained layout collapses without it)
        fig, ax = plt.subplots(figsize=(style.width(width_fraction), 2.8 + 0.16 * len(claims)))
    else:
        fig = ax.figure
    cmap = ListedColormap(["#d9534f", "#bbbbbb", "#f0ad4e", "#5cb85c"])
    ax.imshow(codes.to_numpy(dtype=float), cmap=cmap, vmin=-0.5, vmax=3.5, aspect="auto",
              interpolation="nearest")
    ax.set_xticks(range(len(readings)), readings, rotation=90, fontsize=style.MIN_FONT_PT)
    ax.set_yticks(range(len(claims)), claims, fontsize=style.MIN_FONT_PT)
    ax.grid(False)
    ax.axvline(0.5, color="k", lw=1)
    title = title or "verdict per claim and early-stopping reading (first column: default)"
    if ax is None or len(fig.axes) == 1:
        style.suptitle(fig, title)  # the figure's width, not the heatmap's, bounds the title
    else:
        ax.set_title(title)
    from matplotlib.patches import Patch
    fig.legend(handles=[Patch(color=cmap(i), label=v) for v, i in VERDICT_CODES.items()],
               loc="outside lower center", ncols=len(VERDICT_CODES))
    return fig


# ---------------------------------------------------------------------------------------------
# The affected claims (row names as in notebooks 01, 02, 03 and 05)
# ---------------------------------------------------------------------------------------------
def _configs(target, seeds, width=32, param=None, **protocol) -> tuple[RunConfig, ...]:
    return tuple(RunConfig(target=target, target_param=param, hidden=(width,), seed=s, **protocol)
                 for s in seeds)


def table_claims(seeds: Sequence[int], protocol: dict, random_widths=(4, 8, 16, 32),
                 q1: float = 0.01) -> list[Claim]:
    """Tables I-III at B = protocol's batch size: training R^2 of random(m) and xor(32),
    linear(32); Table II zero / dependent zero rows at ``q1``; Table III PR (k = 1, 2, 3)."""
    out = [Claim(names.table1_r2("random", m), "P1 Table I", _configs("random", seeds, m, **protocol),
                 "train_r2", paper_value=paper.TABLE_I["random"][m][0],
                 paper_sd=paper.TABLE_I["random"][m][1], resolution=1e-4)
           for m in random_widths if m in paper.TABLE_I["random"]]
    for t in ("xor", "linear"):
        out.append(Claim(names.table1_r2(t, 32), "P1 Table I", _configs(t, seeds, **protocol),
                         "train_r2", paper_value=paper.TABLE_I[t][32][0],
                         paper_sd=paper.TABLE_I[t][32][1], resolution=1e-4))
    rows = (("Zero", "zero", "zero_frac_k3"), ("Dependent(2)", "dep2", "dep_frac_k2"),
            ("Dependent(3)", "dep3", "dep_frac_k3"))
    for t in ("xor", "linear", "random"):
        for label, key, col in rows:
            p_mean, p_sd = paper.TABLE_II[t][key][q1]
            out.append(Claim(names.table2(f"{t}(32)", label, q1), "P1 Table II",
                             _configs(t, seeds, **protocol), f"{col}_q{q1:g}", scale=100.0,
                             paper_value=p_mean, paper_sd=p_sd, resolution=1e-3))
    for t in ("xor", "linear", "random"):
        for k in (1, 2, 3):
            p_mean, p_sd = paper.TABLE_III[t][k]
            out.append(Claim(names.table3_pr(f"{t}(32)", k), "P1 Table III",
                             _configs(t, seeds, **protocol), f"pr_k{k}", paper_value=p_mean,
                             paper_sd=p_sd, resolution=0.01))
    return out


def table_study(prefix: str, seeds: Sequence[int], protocol: dict, monitors: Sequence[str],
                min_deltas: Sequence[float], restore: Sequence[bool], n_x: int,
                scheduler: Any = None):
    """The claim x reading table (:func:`sensitivity_table`) of the Table II or III claims of
    :func:`table_claims` whose names start with ``prefix`` ("Table II", "Table III PR"), under
    the reading grid of ``monitors`` x ``min_deltas`` x ``restore``, evaluated on ``n_x``
    inputs without rotations at q(1) = 1 %: what notebooks 02 and 03 attach to their rows."""
    claims = [c for c in table_claims(seeds, protocol, random_widths=())
              if c.name.startswith(prefix)]
    if not claims:
        raise ValueError(f"no Table II/III claim starts with {prefix!r}")
    return sensitivity_table(claims, reading_grid(monitors, min_deltas, restore),
                             ecfg=EvalConfig(n_x=n_x, n_rot=0, q1s=(0.01,)), scheduler=scheduler)


def app_b_claims(seeds: Sequence[int], batch_sizes: Sequence[int], protocol: dict,
                 q1: float = 0.01) -> list[Claim]:
    """random(32) at each batch size (P1 App. B, Fig. 15): the share of size-1 zero rows that
    are consistently zero (97 %, 95 % at B = 32, 64), no consistently zero rows at larger B,
    and no KA signal (normalised PR k = 3 ~ 1) at the critical batch size."""
    out = []
    none_bs = [B for B, s in paper.APP_B_CONSISTENT_SHARE.items() if s == 0.0 and B in batch_sizes]
    if none_bs:
        cfgs = tuple(c for B in none_bs for c in _configs("random", seeds, **{**protocol, "batch_size": B}))
        out.append(Claim(f"App B: no consistently zero rows in random(32) for B in {none_bs}",
                         "P1 App B text", cfgs, f"n_consistent_k1_q{q1:g}", paper_value=0.0,
                         resolution=1.0))
    for B in batch_sizes:
        cfgs = _configs("random", seeds, **{**protocol, "batch_size": B})
        share = paper.APP_B_CONSISTENT_SHARE.get(B)
        if share:
            out.append(Claim(f"App B: share of size-1 zero rows consistently zero, random(32) B={B}",
                             "P1 App B text", cfgs, f"consistent_share_k1_q{q1:g}",
                             paper_value=share, resolution=0.01))
        elif share == 0.0:
            out.append(Claim(f"App B: consistently zero rows per model, random(32) B={B}",
                             "P1 App B text", cfgs, f"n_consistent_k1_q{q1:g}", paper_value=0.0,
                             resolution=1.0))
        if B == paper.APP_B_CRITICAL_BATCH:
            out.append(Claim(f"App B: random(32) at B={B} shows no KA signal (normalised PR k=3)",
                             "P1 App B text (Fig 15)", cfgs, "pr_norm_k3", near=1.0))
    return out


def lambda_xor_claims(seeds: Sequence[int], lambdas: Sequence[float], protocol: dict,
                      q1: float = 0.01, width: int = 32, data_seeds: str = "fixed",
                      make_config=None) -> list[Claim]:
    """lambda-xor(32) at and beyond the window's upper end (P1 Sec. IV.C, Figs. 10-12):
    training R^2 (P1 gives no number: a new result) and, outside the window (lambda > 1.2),
    no KA geometry: normalised PR (k = 3) ~ 1 and size-3 zero rows ~ q(3).
    The runs are notebook 04's, so that both notebooks share them: lambda-xor(width) with
    ``protocol`` (xor(width) at lambda = 1), inputs drawn with data seed 0 (``data_seeds =
    "fixed"``) or with each model seed (``"model"``); ``make_config(lam, seed)`` overrides."""
    if data_seeds not in ("fixed", "model"):
        raise ValueError(f"data_seeds must be 'fixed' or 'model', got {data_seeds!r}")
    hi = paper.GOLDILOCKS["lambda_xor"][1]
    q3 = 100.0 * false_positive_rate(q1, width, 3)
    if make_config is None:
        def make_config(lam, seed):
            ds = seed if data_seeds == "model" else 0
            if math.isclose(lam, 1.0):
                return RunConfig(target="xor", hidden=(width,), seed=seed, data_seed=ds, **protocol)
            return RunConfig(target="lambda_xor", target_param=float(lam), hidden=(width,),
                             seed=seed, data_seed=ds, **protocol)
    out = []
    for lam in lambdas:
        cfgs = tuple(make_config(lam, s) for s in seeds)
        out.append(Claim(f"lambda-xor(32) lambda={lam:g}: training R2", "P1 Fig 10", cfgs,
                         "train_r2"))
        outside = lam > hi + 1e-9
        out.append(Claim(f"lambda-xor(32) lambda={lam:g}: normalised PR k=3"
                         + (" ~ 1 (outside the window)" if outside else ""), "P1 Fig 12",
                         cfgs, "pr_norm_k3", near=1.0 if outside else None))
        out.append(Claim(f"lambda-xor(32) lambda={lam:g}: size-3 zero rows (%)"
                         + (" ~ q(3) (outside the window)" if outside else ""), "P1 Fig 11",
                         cfgs, f"zero_frac_k3_q{q1:g}", scale=100.0,
                         near=q3 if outside else None))
    return out
