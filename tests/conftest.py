"""Fixtures shared by several test modules."""
import os
from pathlib import Path

import pytest

from kag_utils.cli import runner

ROOT = Path(__file__).resolve().parents[1]

# Illegible figures fail the tests (kag-run's notebooks inherit this); outside the tests a
# figure that fails the layout check is saved with a warning, so a long run loses nothing.
os.environ.setdefault("KAG_STRICT_FIGURES", "1")


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """Every notebook run once with params/quick.yaml into a temporary folder (results/quick,
    figures/quick) with an empty run cache, as on a fresh CI machine. Slow (minutes): only
    tests marked ``slow`` use it."""
    out = tmp_path_factory.mktemp("quick")
    old = os.environ.get("KAG_CACHE_DIR")
    os.environ["KAG_CACHE_DIR"] = str(out / "cache")
    try:
        runner.run("quick", out=out, run_dir=out / "runs", root=ROOT)
    finally:
        if old is None:
            os.environ.pop("KAG_CACHE_DIR", None)
        else:
            os.environ["KAG_CACHE_DIR"] = old
    return out
