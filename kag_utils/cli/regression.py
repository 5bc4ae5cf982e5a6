"""Notebook regression: compare a run's results files with committed reference numbers.

CI runs every notebook with the ``quick`` parameter set (tests/test_notebooks.py) and compares
each ``results/quick/<notebook>.json`` with ``tests/reference/quick/<notebook>.json`` under the
tolerances of ``tests/reference/tolerances.yaml`` (first matching glob pattern wins)::

    - {pattern: "*.epochs*", rtol: 0.1}
    - {pattern: "*", rtol: 0.02, atol: 1.0e-6}

A changed, missing or new number fails with a readable diff. After an intended change,
regenerate the references from a fresh quick run and review the diff in git::

    kag-run --params quick --out /tmp/quick
    python -m kag_utils.cli.regression update /tmp/quick/results/quick
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

REFERENCE_DIR = Path("tests") / "reference"


def load_tolerances(path: str | Path) -> list[dict[str, Any]]:
    rules = yaml.safe_load(Path(path).read_text()) or []
    for rule in rules:
        if "pattern" not in rule:
            raise ValueError(f"{path}: every tolerance rule needs a 'pattern': {rule}")
    return rules


def tolerance_for(key: str, rules: Sequence[dict[str, Any]]) -> tuple[float, float, bool]:
    """(rtol, atol, skip) of the first rule whose pattern matches ``key``."""
    for rule in rules:
        if fnmatch.fnmatchcase(key, rule["pattern"]):
            return float(rule.get("rtol", 0.0)), float(rule.get("atol", 0.0)), bool(
                rule.get("skip", False))
    return 0.0, 0.0, False


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool) or not (
            isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return a == b
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= atol + rtol * abs(b)


def compare_numbers(actual: dict[str, Any], reference: dict[str, Any],
                    rules: Sequence[dict[str, Any]]) -> list[str]:
    """Differences between two flat ``numbers`` dicts, as readable lines (empty: equal)."""
    lines = []
    for key in sorted(set(reference) | set(actual)):
        rtol, atol, skip = tolerance_for(key, rules)
        if skip:
            continue
        if key not in actual:
            lines.append(f"  missing  {key}: reference {reference[key]!r}")
        elif key not in reference:
            lines.append(f"  new      {key}: {actual[key]!r} (not in the reference)")
        elif not _close(actual[key], reference[key], rtol, atol):
            lines.append(f"  changed  {key}: {actual[key]!r} vs reference {reference[key]!r} "
                         f"(rtol {rtol:g}, atol {atol:g})")
    return lines


def compare_file(result_path: str | Path, reference_path: str | Path,
                 rules: Sequence[dict[str, Any]]) -> list[str]:
    actual = json.loads(Path(result_path).read_text())["numbers"]
    reference = json.loads(Path(reference_path).read_text())["numbers"]
    return compare_numbers(actual, reference, rules)


def update(results_dir: str | Path, reference_dir: str | Path) -> list[Path]:
    """Copy the ``numbers`` (and the parameter set) of each results file as the reference."""
    out = []
    reference_dir = Path(reference_dir)
    reference_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(results_dir).glob("[0-9][0-9]_*.json")):
        record = json.loads(path.read_text())
        ref = {"notebook": record["notebook"], "params_name": record["params_name"],
               "numbers": record["numbers"]}
        target = reference_dir / path.name
        target.write_text(json.dumps(ref, indent=1, sort_keys=True) + "\n")
        out.append(target)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kag_utils.cli.regression")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("update", help="make a results folder the new reference")
    up.add_argument("results_dir")
    up.add_argument("--reference-dir", default=str(REFERENCE_DIR / "quick"))
    cmp_ = sub.add_parser("compare", help="compare a results folder with the reference")
    cmp_.add_argument("results_dir")
    cmp_.add_argument("--reference-dir", default=str(REFERENCE_DIR / "quick"))
    cmp_.add_argument("--tolerances", default=str(REFERENCE_DIR / "tolerances.yaml"))
    args = parser.parse_args(argv)
    if args.command == "update":
        for path in update(args.results_dir, args.reference_dir):
            print(f"wrote {path}")
        return 0
    rules = load_tolerances(args.tolerances)
    failed = 0
    for ref in sorted(Path(args.reference_dir).glob("*.json")):
        result = Path(args.results_dir) / ref.name
        diff = (compare_file(result, ref, rules) if result.exists()
                else [f"  no results file {result}"])
        print(f"{ref.stem}: {'ok' if not diff else 'DIFFERS'}")
        print("\n".join(diff)) if diff else None
        failed += bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
