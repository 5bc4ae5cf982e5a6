"""Notebooks are thin (issue 13): narrative, a parameters cell, calls into kag_utils and plots.
A function a notebook defines may only draw: it calls a plotting API and returns nothing or its
figure (a name such as ``g``, ``fig``, ``ax``); any helper that computes a number belongs in the
library, with a test."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.py"))
PLOT_NAMES = {"ax", "axes", "plt", "sns", "g", "fig", "session"}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_functions_only_draw(path):
    tree = ast.parse(path.read_text())
    bad = []
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        returns = [r for r in ast.walk(fn) if isinstance(r, ast.Return) and r.value is not None
                   and not (isinstance(r.value, ast.Name) and r.value.id in PLOT_NAMES)]
        if returns or not (_names(fn) & PLOT_NAMES):
            bad.append(f"{fn.name} (line {fn.lineno})")
    assert not bad, (f"{path.name} defines functions that compute rather than draw: {bad}; "
                     "move them into kag_utils with a test")


def test_the_rule_catches_a_numeric_helper(tmp_path):
    src = "def mean_se(v):\n    return sum(v) / len(v)\n"
    fn = ast.parse(src).body[0]
    assert [r for r in ast.walk(fn) if isinstance(r, ast.Return) and r.value is not None]
