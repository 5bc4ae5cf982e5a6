"""The agreement rule of the reproduction: one verdict per comparison row, on standard errors.

A comparison row puts a paper's value next to ours. Its verdict is one of :data:`VERDICTS`:

``reproduced``
    Consistent by the rule below, and our error is small enough to tell.
``not reproduced``
    Inconsistent by the rule below.
``inconclusive``
    Consistent only because the errors are too large to tell: twice the combined standard
    error exceeds :data:`INCONCLUSIVE_FRACTION` of the claim's scale (the paper's effect
    ``|paper - baseline|`` when a no-effect baseline is given, else ``|paper|``). A claim our
    noise cannot decide is not counted as reproduced.
``protocol-dependent``
    The default reading of a detail the paper leaves unstated does not reproduce the claim,
    another reading does (both named in the row).
``not comparable``
    Our run is not the paper's protocol (e.g. the MNIST rows of a CPU toy run).
``new result``
    A claim of ours beyond the papers (no paper value to compare with).

**The numeric rule.** The standard error of a mean over n seeds is sd / sqrt(n) (ddof = 1,
REPRODUCTION A-15); the paper's n is :data:`PAPER_SEEDS` unless it says otherwise. The means are
consistent when

    |paper - ours| <= 2 * sqrt(se_paper^2 + se_ours^2) + resolution / 2 + tolerance,

where ``resolution`` is the paper's last printed digit (its rounding) and ``tolerance`` is set by
the claim's own wording (:data:`WORDING_TOLERANCE`: "approximate", "about", "near", ...),
relative to the paper's value. Seed *standard deviations* are never used as the allowance:
a wide spread of ours would then agree with anything.

Verdicts of verbal claims ("exceeds", "~1", "window", ...) come from the rules in
:mod:`kag_utils.readings`, which return these same categories.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["VERDICTS", "COMPARABLE", "PAPER_SEEDS", "INCONCLUSIVE_FRACTION", "Z",
           "WORDING_TOLERANCE", "Tolerance", "standard_error", "numeric_verdict",
           "combine_readings", "check_verdict", "tally", "legacy_verdict", "headline",
           "summary_table", "summary_markdown"]

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "protocol-dependent",
            "not comparable", "new result")
# Verdicts that count in the headline tally (a comparison with the paper's protocol was made).
COMPARABLE = ("reproduced", "not reproduced", "inconclusive", "protocol-dependent")

PAPER_SEEDS = 4            # P1: "4 models per (function, m)"; P2: 5 (pass paper_n=5)
Z = 2.0                    # combined standard errors allowed
INCONCLUSIVE_FRACTION = 0.5   # 2 combined SE above half the claim's scale: cannot tell


@dataclass(frozen=True)
class Tolerance:
    """What a word of the paper allows: ``relative`` (a fraction of |paper value|) or, for
    ``log10`` tolerances, a band in decades (|log10 ours - log10 paper| <= log10)."""
    relative: float = 0.0
    log10: float | None = None
    reading: str = ""


# The one table of wording tolerances, used everywhere. Principle: a word that marks a value as
# approximate allows one unit of the value's leading printed digit at the paper's scale, which
# for P1's stated approximations (B ~ 250, R^2 ~ 0.85, lambda ~ 1.2, c ~ 1.0) is 10 %;
# "order of magnitude" allows half a decade either way.
WORDING_TOLERANCE: dict[str, Tolerance] = {
    "exact": Tolerance(0.0, reading="as printed"),
    "approximate": Tolerance(0.10, reading="'approximate' / '≈': within 10 %"),
    "about": Tolerance(0.10, reading="'about': within 10 %"),
    "near": Tolerance(0.10, reading="'near': within 10 %"),
    "~": Tolerance(0.10, reading="'~': within 10 %"),
    "close to": Tolerance(0.10, reading="'close to', 'tracks': within 10 %"),
    "similar": Tolerance(0.25, reading="'similar', 'comparable', 'about the same': within 25 %"),
    "order of magnitude": Tolerance(0.0, log10=0.5,
                                    reading="'an order of magnitude': within half a decade"),
}


def standard_error(sd: float | None, n: int | None, who: str = "ours") -> float:
    """sd / sqrt(n); 0 when there is no spread. A spread without its n is an error."""
    if sd is None or (isinstance(sd, float) and math.isnan(sd)):
        return 0.0
    if sd < 0:
        raise ValueError(f"{who}: a standard deviation must be >= 0, got {sd}")
    if n is None:
        raise ValueError(f"{who}: a standard deviation needs the number of seeds behind it "
                         f"(pass {who}_n=...): verdicts are judged on standard errors")
    if n < 1:
        raise ValueError(f"{who}_n must be >= 1, got {n}")
    return float(sd) / math.sqrt(n)


def _tolerance(wording: str | None) -> Tolerance:
    if wording is None:
        return WORDING_TOLERANCE["exact"]
    if wording not in WORDING_TOLERANCE:
        raise ValueError(f"unknown wording {wording!r}; add it to WORDING_TOLERANCE with its "
                         f"reading, or use one of {sorted(WORDING_TOLERANCE)}")
    return WORDING_TOLERANCE[wording]


def numeric_verdict(paper: float, ours: float, paper_sd: float | None = None,
                    ours_sd: float | None = None, paper_n: int | None = None,
                    ours_n: int | None = None, resolution: float = 0.0,
                    wording: str | None = None, baseline: float | None = None) -> dict:
    """The verdict of a numeric comparison (module docstring) and its numbers:
    {"verdict", "diff", "se", "z" (|diff| / combined SE, None without SE), "allowed", "scale"}."""
    for name, v in (("paper", paper), ("ours", ours)):
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{name} value must be a finite number, got {v!r}")
    if paper_sd is not None and paper_n is None:
        paper_n = PAPER_SEEDS
    se = math.hypot(standard_error(paper_sd, paper_n, "paper"),
                    standard_error(ours_sd, ours_n, "ours"))
    tol = _tolerance(wording)
    diff = float(ours) - float(paper)
    if tol.log10 is not None:
        if paper <= 0 or ours <= 0:
            raise ValueError("an order-of-magnitude comparison needs positive values")
        ok = abs(math.log10(ours) - math.log10(paper)) <= tol.log10
        allowed = abs(paper) * (10 ** tol.log10 - 1)
    else:
        allowed = Z * se + resolution / 2 + tol.relative * abs(paper)
        ok = abs(diff) <= allowed
    scale = abs(paper - baseline) if baseline is not None else abs(paper)
    if not ok:
        verdict = "not reproduced"
    elif se > 0 and Z * se > INCONCLUSIVE_FRACTION * scale:
        verdict = "inconclusive"
    else:
        verdict = "reproduced"
    return {"verdict": verdict, "diff": diff, "se": se, "z": abs(diff) / se if se else None,
            "allowed": allowed, "scale": scale}


def check_verdict(verdict: str) -> str:
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}; use one of {VERDICTS}")
    return verdict


def legacy_verdict(agree: bool) -> str:
    """A boolean judgement of a qualitative claim as a verdict."""
    return "reproduced" if agree else "not reproduced"


def combine_readings(default: str, readings: Sequence[Mapping[str, Any]]) -> str:
    """The row's verdict from its default reading's verdict and the verdicts of the other
    readings of an unstated protocol detail: ``protocol-dependent`` when the default does not
    reproduce the claim and another reading does."""
    check_verdict(default)
    if default == "reproduced" or default in ("not comparable", "new result"):
        return default
    if any(r["verdict"] == "reproduced" for r in readings):
        return "protocol-dependent"
    return default


def tally(rows: Iterable[Mapping[str, Any]], by: str | None = None) -> dict:
    """Counts of each verdict ({verdict: n}), or per value of the column ``by``
    ({group: {verdict: n}}), in VERDICTS order."""
    rows = list(rows)

    def count(rs):
        out = {v: 0 for v in VERDICTS}
        for r in rs:
            out[check_verdict(r["verdict"])] += 1
        return out
    if by is None:
        return count(rows)
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(str(r.get(by, "")), []).append(r)
    return {g: count(rs) for g, rs in groups.items()}


def headline(rows: Iterable[Mapping[str, Any]]) -> str:
    """One sentence for the comparable rows only: 'Of 180 comparisons made at the papers'
    protocols, 120 reproduced, ...; 21 more are not comparable.'"""
    counts = tally(rows)
    n_comp = sum(counts[v] for v in COMPARABLE)
    parts = [f"{counts[v]} {v}" for v in COMPARABLE if counts[v]]
    text = f"Of {n_comp} comparisons with the papers' protocols: {', '.join(parts) or 'none'}."
    rest = [f"{counts[v]} {v}" for v in VERDICTS if v not in COMPARABLE and counts[v]]
    if rest:
        text += f" Not counted: {', '.join(rest)}."
    return text


def summary_table(rows: Iterable[Mapping[str, Any]], by: str = "section") -> str:
    """A plain-text table of verdict counts per ``by`` (rows) and verdict (columns)."""
    per = tally(rows, by=by)
    used = [v for v in VERDICTS if any(c[v] for c in per.values())]
    width = max([len(by)] + [len(g) for g in per]) + 2
    head = by.ljust(width) + "".join(v.rjust(max(len(v), 3) + 2) for v in used) + "  total"
    lines = [head]
    for g in per:                       # in the order of the rows (notebook order)
        c = per[g]
        lines.append(g.ljust(width) + "".join(str(c[v]).rjust(max(len(v), 3) + 2) for v in used)
                     + str(sum(c.values())).rjust(7))
    return "\n".join(lines)


def summary_markdown(rows: Iterable[Mapping[str, Any]], by: str = "section") -> str:
    """The verdict counts per ``by`` as a Markdown table (for the README)."""
    rows = list(rows)
    per = tally(rows, by=by)
    used = [v for v in VERDICTS if any(c[v] for c in per.values())]
    lines = [f"| {by} | " + " | ".join(used) + " | total |",
             "|---|" + "---:|" * (len(used) + 1)]
    for g, c in per.items():
        lines.append(f"| {g} | " + " | ".join(str(c[v]) for v in used)
                     + f" | {sum(c.values())} |")
    total = tally(rows)
    lines.append("| **all** | " + " | ".join(f"**{total[v]}**" for v in used)
                 + f" | **{len(rows)}** |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kag_utils.verdicts results/paper/comparison.csv [--markdown]``: the
    headline and the verdict counts by paper section."""
    import argparse
    import csv

    parser = argparse.ArgumentParser(prog="python -m kag_utils.verdicts", description=main.__doc__)
    parser.add_argument("csv", help="a comparison.csv written by kag-run")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table (README)")
    args = parser.parse_args(argv)
    with open(args.csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    print(headline(rows))
    print(summary_markdown(rows) if args.markdown else summary_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
