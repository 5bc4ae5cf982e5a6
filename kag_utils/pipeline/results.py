"""Machine-readable results: each notebook's numbers with provenance, and the paper comparison.

A notebook creates one :class:`Recorder` in its set-up cell, adds numbers and comparison rows
as it goes, and calls :meth:`Recorder.save` at the end, which writes
``<output_root>/results/<params_name>/<notebook>.json``::

    {"notebook": "02_zero_rows", "params_name": "paper", "parameters": {...},
     "numbers": {"table2.xor.q0.01.zero.mean": 12.1, ...},
     "comparison": [{"claim": ..., "source": "Table II", "paper_value": ..., ...}],
     "provenance": {"git_commit": ..., "versions": {...}, "device": ..., "wall_time_s": ...}}

:func:`write_comparison` merges the comparison rows of every notebook of a parameter set into
``results/<params_name>/comparison.csv`` (the paper's is ``results/paper/comparison.csv``).
Nothing here is hard-coded: the paper's values are typed once, in the notebook that compares
against them, next to the citation of where the paper states them.
"""
from __future__ import annotations

import csv
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..readings.verdicts import (PAPER_SEEDS, check_verdict, combine_readings, legacy_verdict,
                       numeric_verdict, tally)

COMPARISON_FIELDS = ["claim", "section", "source", "paper_value", "paper_sd", "paper_n",
                     "ours_value", "ours_sd", "ours_n", "z", "verdict", "readings", "cause",
                     "note", "notebook"]


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
        return out + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(root: str | os.PathLike | None = None) -> dict[str, Any]:
    """Git commit, package versions, device and host facts for a results file."""
    import numpy
    import torch

    from ..version import __version__

    versions = {"python": platform.python_version(), "kag_utils": __version__,
                "torch": torch.__version__, "numpy": numpy.__version__}
    for name in ("scipy", "numba", "pandas", "seaborn", "papermill"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    if torch.cuda.is_available():
        device = f"cuda: {torch.cuda.get_device_name(0)}"
    else:
        device = f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return {
        "git_commit": _git_commit(Path(root) if root else Path.cwd()),
        "versions": versions,
        "device": device,
        "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def flatten(numbers: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    flat: dict[str, Any] = {}
    for key, value in numbers.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        else:
            flat[name] = _plain(value)
    return flat


def _plain(value: Any) -> Any:
    """Plain JSON value; NaN/inf are refused so that no silent NaN reaches a results file."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("refusing to record a non-finite number; record None with a note "
                         "explaining why the value is undefined")
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item"):
        return _plain(value.item())
    raise TypeError(f"cannot record {type(value).__name__}: {value!r}")


def defined(value: Any) -> Any:
    """A recordable value: NaN/inf (an undefined number, e.g. a std over one seed or a ratio
    with no zero rows) becomes None, numpy scalars become Python numbers; dicts and lists are
    converted item by item. Use it where a number can legitimately be undefined, and say why
    in the notebook; the Recorder itself refuses NaN so that none slips in unnoticed."""
    if isinstance(value, Mapping):
        return {k: defined(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [defined(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def agrees(paper: float, ours: float, paper_sd: float | None = None,
           ours_sd: float | None = None, paper_n: int | None = None,
           ours_n: int | None = None, resolution: float = 0.0,
           wording: str | None = None) -> bool:
    """Whether the numeric verdict (:func:`kag_utils.readings.verdicts.numeric_verdict`, on standard
    errors) is ``reproduced``."""
    return numeric_verdict(paper, ours, paper_sd, ours_sd, paper_n, ours_n, resolution,
                           wording)["verdict"] == "reproduced"


# Paper sections by notebook; notebook 05 splits by appendix (its claims start "App A/B/C").
SECTIONS = {"01": "P1 §II–III", "02": "P1 §IV.A", "03": "P1 §IV.B", "04": "P1 §IV.C",
            "06": "P2", "07": "Beyond the papers"}


def section_of(notebook: str, claim: str = "") -> str:
    """The paper section a comparison row belongs to (for tallies by section)."""
    nb = str(notebook)[:2]
    if nb == "05":
        m = re.match(r"App\.? ?([ABC])", claim)
        return f"P1 App. {m.group(1)}" if m else "P1 App."
    return SECTIONS.get(nb, str(notebook))


def _reading_row(r: Mapping[str, Any], paper_value, paper_sd, paper_n, resolution, wording,
                 baseline, default_n) -> dict[str, Any]:
    if "reading" not in r:
        raise ValueError(f"each alternative reading needs a 'reading' name, got {dict(r)}")
    if r.get("verdict") is not None:
        return {"reading": str(r["reading"]), "verdict": check_verdict(r["verdict"]),
                "ours_value": _plain(r.get("ours_value"))}
    v = numeric_verdict(paper_value, r["ours_value"], paper_sd, r.get("ours_sd"), paper_n,
                        r.get("ours_n", default_n), resolution, wording, baseline)
    return {"reading": str(r["reading"]), "verdict": v["verdict"],
            "ours_value": _plain(r["ours_value"])}


@dataclass
class Recorder:
    """Collects one notebook's numbers and comparison rows and writes its results file."""

    notebook: str
    params_name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    output_root: str | os.PathLike = "."
    numbers: dict[str, Any] = field(default_factory=dict)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    # seeds behind ``ours_sd`` when a row does not pass ours_n (set once per notebook)
    default_ours_n: int | None = None
    # False when this run is not the paper's protocol: every row is then "not comparable"
    protocol_matches: bool = True

    def add(self, name: str | None = None, value: Any = None, **named: Any) -> None:
        """Record numbers: ``add("a.b", 1.0)``, ``add(a={"b": 1.0})`` or ``add(x=2)``."""
        if name is not None:
            named = {name: value, **named}
        self.numbers.update(flatten(named))

    def compare(self, claim: str, source: str, paper_value: Any, ours_value: Any,
                paper_sd: float | None = None, ours_sd: float | None = None,
                note: str = "", agree: bool | None = None, resolution: float = 0.0, *,
                paper_n: int | None = None, ours_n: int | None = None,
                wording: str | None = None, baseline: float | None = None,
                verdict: str | None = None, readings: Sequence[Mapping[str, Any]] = (),
                cause: str = "", comparable: bool = True) -> dict[str, Any]:
        """Add one row of the paper comparison, with its verdict (:mod:`kag_utils.readings.verdicts`).

        Numeric values are judged by :func:`~kag_utils.readings.verdicts.numeric_verdict` on standard
        errors: ``paper_sd``/``ours_sd`` are standard deviations over ``paper_n`` (default 4)
        and ``ours_n`` seeds (default :attr:`default_ours_n`); ``resolution`` is the paper's
        printed precision and ``wording`` names the tolerance its words set. Qualitative claims
        pass ``verdict=`` (from a rule of :mod:`kag_utils.readings`); ``agree=`` is the legacy
        boolean form. ``readings`` are other readings of a detail the paper leaves unstated
        ({"reading", "ours_value", "ours_sd", "ours_n"} or {"reading", "verdict"}): if the
        default is not reproduced and one of them is, the row is ``protocol-dependent``.
        ``comparable=False`` marks a run that is not the paper's protocol. A row that is not
        reproduced needs a ``cause`` or a ``note`` naming its likely cause; ``cause`` may be
        passed always (it is dropped when the claim is reproduced)."""
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in (paper_value, ours_value))
        if ours_sd is not None and ours_n is None:
            ours_n = self.default_ours_n
        stats: dict[str, Any] = {}
        if verdict is None and agree is not None:
            verdict = legacy_verdict(bool(agree))
        if verdict is None:
            if not numeric:
                raise ValueError(f"claim {claim!r}: pass verdict= (a rule of kag_utils.readings) "
                                 "for non-numeric values")
            stats = numeric_verdict(paper_value, ours_value, paper_sd, ours_sd, paper_n, ours_n,
                                    resolution, wording, baseline)
            verdict = stats["verdict"]
        check_verdict(verdict)
        alts = [_reading_row(r, paper_value, paper_sd, paper_n, resolution, wording, baseline,
                             ours_n) for r in readings]
        comparable = comparable and self.protocol_matches
        default_verdict = verdict       # the default reading's own verdict
        verdict = combine_readings(verdict, alts) if comparable else "not comparable"
        if verdict == "inconclusive" and stats:
            note = (f"{note} " if note else "") + (
                f"[inconclusive: 2 combined standard errors ({2 * stats['se']:.3g}) exceed half "
                f"of the claim's scale ({stats['scale']:.3g})]")
        reading_text = "; ".join(f"{r['reading']}: {r['verdict']}" for r in alts)
        if alts:
            reading_text = f"default: {default_verdict}; " + reading_text
        row = {"claim": claim, "section": section_of(self.notebook, claim), "source": source,
               "paper_value": _plain(paper_value), "paper_sd": _plain(paper_sd),
               "paper_n": paper_n if paper_sd is not None and paper_n is not None else
               (PAPER_SEEDS if paper_sd is not None else None),
               "ours_value": _plain(ours_value), "ours_sd": _plain(ours_sd),
               "ours_n": ours_n if ours_sd is not None else None,
               "z": None if not stats or stats["z"] is None else round(stats["z"], 2),
               "verdict": verdict, "readings": reading_text, "cause": cause, "note": note,
               "notebook": self.notebook}
        if verdict == "reproduced":
            row["cause"] = ""            # a cause explains a disagreement; there is none
        elif not (note.strip() or cause.strip()):
            raise ValueError(f"claim {claim!r} is {verdict}: give a cause= or note= with its "
                             "likely cause")
        self.comparison = [r for r in self.comparison if r["claim"] != claim] + [row]
        return row

    def tally_text(self) -> str:
        """'12 reproduced, 3 not reproduced, ... of 17 rows' for this notebook's rows."""
        counts = tally(self.comparison)
        parts = [f"{n} {v}" for v, n in counts.items() if n]
        return f"{', '.join(parts) or 'no rows'} (of {len(self.comparison)} comparison rows)"

    def comparison_table(self):
        """This notebook's comparison rows as a DataFrame (claim, paper, ours, verdict,
        readings, note), for the notebook's closing "Comparison to paper" cell."""
        import pandas as pd
        cols = ["claim", "source", "paper_value", "paper_sd", "ours_value", "ours_sd",
                "verdict", "readings", "note"]
        return pd.DataFrame(self.comparison, columns=COMPARISON_FIELDS)[cols]

    @property
    def results_dir(self) -> Path:
        return Path(self.output_root) / "results" / self.params_name

    @property
    def path(self) -> Path:
        return self.results_dir / f"{self.notebook}.json"

    def save(self) -> Path:
        """Write the results JSON (with wall time since the recorder was created)."""
        prov = provenance(self.output_root)
        prov["wall_time_s"] = round(time.time() - self.started, 1)
        prov["parameter_set"] = self.params_name
        record = {"notebook": self.notebook, "params_name": self.params_name,
                  "parameters": flatten(self.parameters), "numbers": self.numbers,
                  "comparison": self.comparison, "provenance": prov}
        self.results_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
        os.replace(tmp, self.path)
        return self.path


# Until the full protocol of a notebook has run, a parameter set may borrow that notebook's
# results from a lighter set: the `paper` set takes notebook 06 (MNIST, which needs a GPU at
# full fidelity) from `default`. Borrowed records carry "from_set"; their comparison rows say so.
FALLBACK_SETS = {"paper": ("default",)}


def fallback_dirs(results_dir: str | os.PathLike) -> list[Path]:
    """The results folders a set may borrow missing notebooks from (see FALLBACK_SETS)."""
    results_dir = Path(results_dir)
    return [results_dir.parent / name for name in FALLBACK_SETS.get(results_dir.name, ())]


def load_results(results_dir: str | os.PathLike,
                 fallback: Iterable[str | os.PathLike] = ()) -> dict[str, dict[str, Any]]:
    """All notebook results files in a directory, keyed by notebook name; notebooks missing
    there are taken from the ``fallback`` directories in order, marked with ``from_set``."""
    out: dict[str, dict[str, Any]] = {}
    for i, folder in enumerate([results_dir, *fallback]):
        for path in sorted(Path(folder).glob("[0-9][0-9]_*.json")):
            record = json.loads(path.read_text())
            name = record.get("notebook", path.stem)
            if name in out:
                continue
            if i:
                record["from_set"] = record.get("params_name", Path(folder).name)
                record["path"] = str(path)
            out[name] = record
    return out


def normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A comparison row in the current schema: rows written before verdicts existed carry a
    boolean ``agrees``, which becomes ``reproduced`` / ``not reproduced``; ``section`` is filled
    from the notebook and claim."""
    row = dict(row)
    if not row.get("verdict"):
        agree = str(row.get("agrees", "")).strip().lower() in ("true", "1", "yes")
        row["verdict"] = legacy_verdict(agree)
    row.pop("agrees", None)
    if row["verdict"] != "reproduced" and not str(row.get("note") or "").strip():
        row["note"] = row.get("cause") or ""      # a reader of the note column sees the cause
    row.setdefault("section", section_of(row.get("notebook", ""), row.get("claim", "")))
    if not row["section"]:
        row["section"] = section_of(row.get("notebook", ""), row.get("claim", ""))
    return row


def comparison_rows(results_dir: str | os.PathLike,
                    fallback: Iterable[str | os.PathLike] = ()) -> list[dict[str, Any]]:
    """Every notebook's comparison rows (:func:`normalize_row`). A borrowed notebook's rows
    are ``not comparable`` (its run is another set's protocol), except a "new result" (no
    paper value to compare with), and their notes say so."""
    rows = []
    for record in load_results(results_dir, fallback).values():
        for row in record.get("comparison", []):
            row = normalize_row(row)
            if record.get("from_set"):
                verdict = "new result" if row.get("verdict") == "new result" else "not comparable"
                row = {**row, "verdict": verdict,
                       "note": f"[from the '{record['from_set']}' run: no "
                               f"'{Path(results_dir).name}' results yet] "
                               f"{row.get('note', '')}".strip()}
            rows.append(row)
    return rows


def write_comparison(results_dir: str | os.PathLike,
                     extra_rows: Iterable[Mapping[str, Any]] = (),
                     fallback: Iterable[str | os.PathLike] | None = None) -> Path | None:
    """Merge every notebook's comparison rows into ``<results_dir>/comparison.csv``, borrowing
    notebooks the set lacks from ``fallback`` (default: :data:`FALLBACK_SETS`)."""
    fallback = fallback_dirs(results_dir) if fallback is None else list(fallback)
    rows = comparison_rows(results_dir, fallback)
    rows.extend(extra_rows)
    if not rows:
        return None
    path = Path(results_dir) / "comparison.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COMPARISON_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k))
                             for k in COMPARISON_FIELDS})
    return path
