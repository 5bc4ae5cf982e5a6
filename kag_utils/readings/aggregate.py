"""Small table helpers shared by the notebooks: seed aggregation (of a table's groups,
:func:`summarize`, or of one sequence, :func:`mean_sd` / :func:`mean_sd_se`) and "mean ± std"
strings.

Error statistics (REPRODUCTION A-15): std uses ddof = 1; the standard error is std / sqrt(n).
"""
from __future__ import annotations

import math
from typing import Sequence

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
