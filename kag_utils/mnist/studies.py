"""Notebook 06's further studies, each one call: the timeline of one width trained longer
with checkpoints (section 2b, M-21), the lr x weight-decay ablation (section 7, M-03), the
convergence of the sampled estimates (section 8) and Fashion-MNIST's full-size training set
(section 9). Each trains what the run cache lacks, evaluates, and returns the tables the
notebook draws and the :class:`~kag_utils.mnist.comparison.Claims` (numbers and comparison
rows) it records; the readings themselves live in :mod:`kag_utils.mnist.readings` and
:mod:`kag_utils.mnist.comparison`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd
import torch

from . import comparison as mc
from . import readings as mr
from .convergence import Convergence, ConvergenceConfig, convergence, run_pairs
from .data import MNISTData, load_mnist
from .evaluation import MNISTEvalConfig, evaluate_mnist, timeline_mnist
from .models import ensure_mnist_runs, run_configs

# The MNISTEvalConfig fields whose counts the convergence study checks (section 8).
USED_COUNTS = ("n_rows", "n_cols", "n_images", "rr_rows", "rr_cols", "rr_images", "n_rot")


# ----------------------------------------------------------------------------- timeline
@dataclass
class Timeline:
    """Checkpoints against the initial networks: one row per (run, epoch, layer, k)
    (:func:`evaluation.timeline_mnist`), its seed means (:func:`readings.timeline_summary`),
    the standard networks' trend after the main runs' length (:func:`readings.timeline_trend`)
    and the results entries of both."""

    table: pd.DataFrame
    summary: pd.DataFrame
    trend: dict | None
    numbers: dict[str, Any]


def timeline(hidden: int, seeds: Sequence[int], epochs: int, every: int, ecfg: MNISTEvalConfig,
             run: mc.RunInfo, *, data: MNISTData | None = None, data_dir=None,
             scheduler: Any = None, cache=None, progress: bool = True) -> Timeline:
    """Section 2b: width ``hidden``, standard and augmented, trained for ``epochs`` on the main
    runs' data with a checkpoint every ``every`` epochs, each checkpoint evaluated by ``ecfg``;
    the trend is read at the main runs' length (``run.epochs``)."""
    cfgs = run_configs([hidden], seeds, augment=(False, True), epochs=epochs, data=run.data,
                       checkpoint_every=every)
    ensure_mnist_runs(cfgs, cache=cache, progress=progress, data=data, data_dir=data_dir,
                      scheduler=scheduler)
    table = timeline_mnist(cfgs, ecfg, cache=cache, progress=progress, scheduler=scheduler,
                           data_dir=data_dir)
    summary = mr.timeline_summary(table)
    trend = mr.timeline_trend(summary, run.epochs)
    return Timeline(table, summary, trend, {**mr.timeline_numbers(summary),
                                            **mr.timeline_trend_numbers(trend)})


# ----------------------------------------------------------------------------- ablation
@dataclass
class Ablation:
    """The lr x weight-decay ablation: the weight decays trained, the per-run Fig. 1 table
    (:func:`readings.ablation_table`), the per-setting readings
    (:func:`readings.ablation_readings`) and the claims (numbers and rows)."""

    weight_decays: list[float]
    table: pd.DataFrame
    readings: pd.DataFrame
    claims: mc.Claims


def ablation_weight_decays(weight_decays: Sequence[float], matched: bool, run: mc.RunInfo
                           ) -> list[float]:
    """``weight_decays``, plus (``matched``) the decay that shrinks the weights over the main
    runs' steps as much as 1e-2 at lr 1e-3 over P2's (:func:`readings.matched_weight_decay`)."""
    return list(weight_decays) + ([mr.matched_weight_decay(1e-3, 1e-2, run.steps, mc.p2_steps())]
                                  if matched else [])


def ablation(hidden: Sequence[int], seeds: Sequence[int], lrs: Sequence[float],
             weight_decays: Sequence[float], matched_decay: bool, run: mc.RunInfo,
             ecfg: MNISTEvalConfig, *, data: MNISTData | None = None, data_dir=None,
             scheduler: Any = None, cache=None, progress: bool = True) -> Ablation | None:
    """Section 7: train the grid lr x weight decay x ``hidden`` x ``seeds``, standard and
    augmented, with the main runs' epochs and data (``run``), evaluate it as Fig. 1 (``ecfg``)
    and read it (:func:`comparison.ablation_claims`). None when a grid axis is empty."""
    if not (hidden and lrs and weight_decays):
        return None
    wds = ablation_weight_decays(weight_decays, matched_decay, run)
    cfgs = mr.ablation_configs(hidden, seeds, lrs, wds, epochs=run.epochs, data=run.data)
    ensure_mnist_runs(cfgs, cache=cache, progress=progress, data=data, data_dir=data_dir,
                      scheduler=scheduler)
    table = mr.ablation_table(evaluate_mnist(cfgs, ecfg, cache=cache, progress=progress,
                                             scheduler=scheduler, data_dir=data_dir))
    summary = mr.ablation_summary(table)
    read = mr.ablation_readings(summary, run.steps)
    claims = (mc.Claims(mr.ablation_numbers(summary, read))
              + mc.ablation_claims(read, hidden, len(seeds), run))
    return Ablation(wds, table, read, claims)


# ----------------------------------------------------------------------------- convergence
@dataclass
class ConvergenceStudy:
    """The convergence study on this run's networks: its ladders (``result``), the counts the
    run used, their check (:func:`readings.convergence_check`) and the results entry."""

    result: Convergence
    used: dict[str, int]
    check: dict[str, Any]
    numbers: dict[str, Any]     # Recorder key "convergence"

    @property
    def counts(self) -> pd.DataFrame:
        """Chosen against used count per field (two rows)."""
        return pd.DataFrame({"chosen": self.result.chosen, "used": self.used}).T

    @property
    def ranges(self) -> pd.DataFrame:
        """How far each estimate still wanders near the tops of its row, column and rotation
        ladders (one row per quantity and k; :func:`readings.convergence_ranges`)."""
        r = self.numbers["ranges"]
        return pd.DataFrame({(q, k): v for q, per in r.items() for k, v in per.items()}).T


def used_counts(ecfg: MNISTEvalConfig) -> dict[str, int]:
    """The sample counts a Fig. 1 evaluation used (:data:`USED_COUNTS` of ``ecfg``)."""
    return {f: int(getattr(ecfg, f)) for f in USED_COUNTS}


def ladder_tops(result: Convergence) -> dict[str, int]:
    """{MNISTEvalConfig field: the largest top of its ladders} (a ladder's top is capped by
    the combinations that exist: C(h, k) rows at small h)."""
    return {f: int(d["top"].max()) for f, d in result.choices.groupby("field", sort=False)}


def convergence_study(runs: Sequence, data: MNISTData, hidden: Sequence[int], seed: int,
                      layers: Sequence[str], cfg: ConvergenceConfig, ecfg: MNISTEvalConfig
                      ) -> ConvergenceStudy:
    """Section 8: the convergence ladders (:func:`convergence.convergence`) on the standard
    networks of ``runs`` with width in ``hidden`` and seed ``seed``, per layer, at the first
    test images of ``data`` (float64; max(cfg.images, cfg.rr_images) of them), and the check of
    the counts ``ecfg`` used against the chosen ones."""
    picked = [r for r in runs if r.config.hidden in hidden and r.config.seed == seed
              and not r.config.augment]
    x = data.inputs("test", torch.float64)[:max(cfg.images, cfg.rr_images)]   # [N, 784]
    result = convergence(run_pairs(picked, x, layers), cfg)
    used = used_counts(ecfg)
    tops = dict(rows=cfg.rows, cols=cfg.cols, images=cfg.images, rr_rows=cfg.rr_rows,
                rr_cols=cfg.rr_cols, rr_images=cfg.rr_images, n_rot=cfg.n_rot)
    check = mr.convergence_check(result.chosen, used, ladder_tops(result))
    return ConvergenceStudy(result, used, check, {"chosen": result.chosen, "used": used,
                                                  "check": check, "tops": tops,
                                                  "ranges": mr.convergence_ranges(result.table)})


# ----------------------------------------------------------------------------- Fashion-MNIST
@dataclass
class DataSizeStudy:
    """Fig. 1 on another training set: its run, the seed-mean cells, the checks table beside
    the main run's, and the claims; or only why it was skipped."""

    skipped: str | None = None
    run: mc.RunInfo | None = None
    cells: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    claims: mc.Claims | None = None


def data_size_table(main_cells: pd.DataFrame, other_cells: pd.DataFrame) -> pd.DataFrame:
    """Per Fig. 1 direction (:func:`comparison.data_size_checks`): holds and cells on the other
    training set, and 'holds/cells' on the main run (when both have the same directions)."""
    a, b = mc.data_size_checks(main_cells), mc.data_size_checks(other_cells)
    table = pd.DataFrame(b, index=["holds", "cells"]).T
    return table.assign(main=[f"{n}/{m}" for n, m in a.values()] if set(a) == set(b) else None)


def fashion_study(hidden: Sequence[int], seeds: Sequence[int], epochs: int,
                  ecfg: MNISTEvalConfig, main_cells: pd.DataFrame, main_run: mc.RunInfo, *,
                  data_dir=None, scheduler: Any = None, cache=None, progress: bool = True
                  ) -> DataSizeStudy:
    """Section 9: P2's networks trained on Fashion-MNIST (``hidden`` x ``seeds``, standard and
    augmented, ``epochs``), evaluated as Fig. 1 (``ecfg``), and P2's Fig. 1 directions on it
    beside the main run's (:func:`comparison.data_size_claims`). Skipped (with the reason)
    when ``hidden`` is empty or the data is missing."""
    if not hidden:
        return DataSizeStudy(skipped="fashion_hidden = []")
    try:
        fashion = load_mnist("fashion", data_dir=data_dir)
    except FileNotFoundError as err:
        return DataSizeStudy(skipped=str(err))
    cfgs = run_configs(hidden, seeds, augment=(False, True), epochs=epochs, data="fashion")
    runs = ensure_mnist_runs(cfgs, cache=cache, progress=progress, data=fashion,
                             data_dir=data_dir, scheduler=scheduler)
    acc = mr.accuracy_summary(mr.run_table(runs))
    # the evaluation reloads the test images (in its workers) from the same folder
    ev = evaluate_mnist(cfgs, ecfg, cache=cache, progress=progress, scheduler=scheduler,
                        data_dir=data_dir)
    cells = mr.cells(mr.fig1_summary(ev, bool(ecfg.n_rot)))
    run = mc.RunInfo(main_run.params_name, "fashion", fashion.n_train, epochs, len(seeds),
                     max(hidden))
    claims = (mc.Claims({"fashion_accuracy": mr.accuracy_numbers(acc)})
              + mc.data_size_claims(main_cells, cells, main_run, run, "Fashion-MNIST"))
    return DataSizeStudy(None, run, cells, data_size_table(main_cells, cells), claims)
