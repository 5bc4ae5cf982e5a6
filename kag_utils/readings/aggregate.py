"""Small table helpers shared by the notebooks: seed aggregation (of a table's groups,
:func:`summarize`, or of one sequence, :func:`mean_sd` / :func:`mean_sd_se`) and "mean ± std"
strings.

Error statistics (REPRODUCTION A-15): std uses ddof = 1; the standard error is std / sqrt(n).
Two settings are compared by Welch's t and by the t of differences paired by seed
(compare_to_baseline).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd


def summarize(df: pd.DataFrame, by: Sequence[str] | str, values: Sequence[str] | str,
              ddof: int = 1) -> pd.DataFrame:
    """Mean, std (ddof=1), standard error and count of ``values`` over the rows of each group
    (typically: over model seeds). Columns are ``<value>_mean``, ``_std``, ``_se``, ``_n``."""
    by = [by] if isinstance(by, str) else list(by)
    values = [values] if isinstance(values, str) else list(values)
    missing = [c for c in by + values if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the table (have {list(df.columns)})")
    g = df.groupby(by, sort=True, dropna=False)[values]
    mean, std, n = g.mean(), g.std(ddof=ddof), g.count()
    out = pd.concat({"mean": mean, "std": std, "n": n}, axis=1)
    out.columns = [f"{v}_{stat}" for stat, v in out.columns]
    for v in values:
        out[f"{v}_se"] = out[f"{v}_std"] / np.sqrt(out[f"{v}_n"])
    return out.reset_index()


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """(mean, sample std with ddof=1) of one sequence, e.g. a metric over seeds; the std is
    None for fewer than two values. numpy's mean and std (not pandas'), so the numbers are
    those of ``np.asarray(values).mean()``."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("mean_sd() needs at least one value")
    return float(v.mean()), (float(v.std(ddof=1)) if v.size > 1 else None)


def mean_sd_se(values: Sequence[float]) -> tuple[float, float | None, float]:
    """(mean, std or None, standard error) of one sequence (:func:`mean_sd`); the standard
    error is std / sqrt(n), 0 for a single value."""
    m, sd = mean_sd(values)
    return m, sd, (sd or 0.0) / math.sqrt(len(values))


def pm(mean: float, sd: float | None = None, digits: int = 4) -> str:
    """'0.9850 ± 0.0081' (or just the mean when sd is None/NaN)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if sd is None or (isinstance(sd, float) and math.isnan(sd)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def welch(a: Sequence[float], b: Sequence[float]) -> dict:
    """Welch's two-sample t statistic of mean(a) - mean(b) (unequal variances): the
    difference, its standard error sqrt(s_a^2/n_a + s_b^2/n_b), t, the Welch-Satterthwaite
    degrees of freedom and the two-sided p-value. NaN values are dropped; NaN statistics when
    a side has fewer than 2 values or both variances are zero."""
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out = {"diff": math.nan, "diff_se": math.nan, "t": math.nan, "df": math.nan, "p": math.nan}
    if len(a) and len(b):
        out["diff"] = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    out["diff_se"] = se
    if se == 0:
        return out
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    t = out["diff"] / se
    out.update(t=t, df=df, p=float(2 * stats.t.sf(abs(t), df)))
    return out


def paired(a: Sequence[float], b: Sequence[float]) -> dict:
    """Paired t statistic of a - b over the pairs where both are finite (e.g. the same model
    seed under two settings): n_pairs, mean difference, its standard error (sd / sqrt(n),
    ddof = 1), t (df = n - 1) and the two-sided p-value; NaN where fewer than 2 pairs or the
    differences are all equal."""
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d)]
    out = {"n_pairs": int(len(d)), "diff": float(d.mean()) if len(d) else math.nan,
           "diff_se": math.nan, "t": math.nan, "p": math.nan}
    if len(d) < 2:
        return out
    se = d.std(ddof=1) / math.sqrt(len(d))
    out["diff_se"] = float(se)
    if se == 0:
        return out
    t = out["diff"] / se
    out.update(t=float(t), p=float(2 * stats.t.sf(abs(t), len(d) - 1)))
    return out


def compare_to_baseline(df: pd.DataFrame, by: Sequence[str], group: str, baseline: Any,
                        value: str = "value", pair: str | None = "seed") -> pd.DataFrame:
    """Each level of ``group`` against its ``baseline`` level, within every combination of
    ``by`` (e.g. group "activation" vs "gelu" per target and metric): one row per (by, level)
    with the level's and the baseline's mean, se (ddof = 1) and n over the rows (typically
    seeds; NaN values are dropped and not counted), :func:`welch`'s diff, diff_se, t, df, p
    and, when ``pair`` names a column (the seed), :func:`paired`'s statistics of the
    differences between rows with the same ``pair`` value (``paired_*``)."""
    by = list(by)
    cols = by + [group, value] + ([pair] if pair else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the table (have {list(df.columns)})")
    if not (df[group] == baseline).any():
        raise ValueError(f"baseline {baseline!r} is not a level of {group!r} "
                         f"(levels: {sorted(map(str, df[group].unique()))})")

    def stats_of(v: pd.Series) -> tuple[float, float, int]:
        v = v.dropna()
        n = len(v)
        return (float(v.mean()) if n else math.nan,
                float(v.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan, n)

    rows = []
    groups = df.groupby(by, sort=True, dropna=False) if by else [((), df)]
    for keys, sub in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        base = sub[sub[group] == baseline]
        if base.empty:
            continue
        mb, sb, nb = stats_of(base[value])
        for level, cur in sub.groupby(group, sort=False):
            if level == baseline:
                continue
            m, s, n = stats_of(cur[value])
            row = {**dict(zip(by, keys)), group: level, "baseline": baseline, "mean": m, "se": s,
                   "n": n, "mean_base": mb, "se_base": sb, "n_base": nb,
                   **{f"welch_{k}": v for k, v in welch(cur[value], base[value]).items()}}
            if pair:
                both = cur[[pair, value]].merge(base[[pair, value]], on=pair,
                                                suffixes=("", "_base"))
                row.update({f"paired_{k}": v for k, v in
                            paired(both[value], both[f"{value}_base"]).items()})
            rows.append(row)
    return pd.DataFrame(rows)
