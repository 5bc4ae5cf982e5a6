"""The names of the comparison rows that more than one place looks up: the notebooks that
write them, the early-stopping study that attaches readings to them, and the manuscript's
tables that read them. One function per family of names, so that a rename is made once and a
name no generator knows fails a test (tests/test_manuscript.py), not the paper.

``model`` is the model label as the notebooks print it, e.g. ``"xor(32)"``.
"""
from __future__ import annotations

__all__ = ["table1_r2", "table2", "table3_pr", "table3_pr_max", "table4", "TABLE2_ROWS"]

# Table II rows: (results key, row label in the claim name)
TABLE2_ROWS = (("zero", "Zero"), ("dep2", "Dependent(2)"), ("dep3", "Dependent(3)"))


def table1_r2(target: str, m: int) -> str:
    """P1 Table I: training R^2 of target(m)."""
    return f"Table I train R2 {target}({m})"


def table2(model: str, row: str, q1: float) -> str:
    """P1 Table II: ``row`` ("Zero", "Dependent(2)", "Dependent(3)") of ``model`` at q(1)."""
    return f"Table II {model} {row} q1={100 * q1:g}%"


def table3_pr(model: str, k: int) -> str:
    """P1 Table III: size-k participation ratio of ``model`` ("xor(32)", "Initial(32)")."""
    return f"Table III PR {model} k={k}"


def table3_pr_max(k: int) -> str:
    """P1 Table III: the largest possible size-k participation ratio."""
    return f"Table III PR_max k={k}"


def table4(name: str, k: int) -> str:
    """P1 Table IV: random rotation ratio of the toy Jacobian ``name`` (J1 aligned; J2, J3
    one random draw)."""
    if name == "J1":
        return f"Table IV J1 (aligned) RR k={k}"
    return f"Table IV {name} RR k={k} (one random draw)"
