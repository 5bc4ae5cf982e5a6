"""Every notebook runs end to end with params/quick.yaml and its numbers match the committed
reference (tests/reference/quick/) within tests/reference/tolerances.yaml.

One session-scoped run (the ``quick_run`` fixture of tests/conftest.py, shared with
tests/test_manuscript.py) executes all notebooks into a temporary folder with an empty run
cache, as on a fresh CI machine. To accept an intended change of numbers, see
kag_utils/cli/regression.py (``python -m kag_utils.cli.regression update``).
"""
from pathlib import Path

import pytest

from kag_utils.cli import regression
from kag_utils.cli import runner

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [p.stem for p in runner.list_notebooks(ROOT)]
REFERENCE = ROOT / "tests" / "reference"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_quick_numbers_match_reference(quick_run, notebook):
    result = quick_run / "results" / "quick" / f"{notebook}.json"
    assert result.exists(), f"{notebook} wrote no results file"
    reference = REFERENCE / "quick" / f"{notebook}.json"
    if not reference.exists():
        pytest.fail(f"no reference numbers for {notebook}: review {result} and run "
                    f"`python -m kag_utils.cli.regression update {result.parent}`")
    rules = regression.load_tolerances(REFERENCE / "tolerances.yaml")
    diff = regression.compare_file(result, reference, rules)
    assert not diff, f"{notebook} numbers changed:\n" + "\n".join(diff)


@pytest.mark.slow
def test_comparison_rows_have_notes(quick_run):
    """Every row has a verdict, and every row that is not reproduced names its likely cause."""
    import csv

    from kag_utils.readings.verdicts import VERDICTS
    path = quick_run / "results" / "quick" / "comparison.csv"
    rows = list(csv.DictReader(path.open()))
    assert rows, "no comparison rows written"
    assert {r["verdict"] for r in rows} <= set(VERDICTS)
    bad = [r["claim"] for r in rows if r["verdict"] != "reproduced"
           and not (r["note"].strip() or r["cause"].strip())]
    assert not bad, f"rows not reproduced without a cause: {bad}"
