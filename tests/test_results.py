"""Results files, comparison rows and the agreement rule."""
import csv
import json
import math

import pytest

from kag_utils.pipeline.results import Recorder, agrees, defined, flatten, load_results, write_comparison


def test_agrees_is_the_reproduced_verdict():
    assert agrees(10.0, 10.0)
    assert not agrees(10.0, 10.4)                     # no spread, no wording: as printed
    assert agrees(10.0, 10.4, wording="about")
    assert agrees(1.0, 1.05, paper_sd=0.05, ours_sd=0.05, ours_n=4)    # 2 SE = 0.071
    assert not agrees(1.0, 1.5, paper_sd=0.2, ours_sd=0.2, ours_n=4)   # 2 SD would allow it
    assert agrees(1.0, 0.99996, 0.0, 1e-6, ours_n=4, resolution=1e-4)  # printed rounding


def test_flatten_and_refuse_nan():
    assert flatten({"a": {"b": 1, "c": [1.0, 2.0]}}) == {"a.b": 1, "a.c": [1.0, 2.0]}
    with pytest.raises(ValueError, match="non-finite"):
        flatten({"x": math.nan})


def test_recorder_writes_json_and_comparison(tmp_path):
    rec = Recorder("01_setup", "quick", {"seeds": [0, 1]}, output_root=tmp_path)
    rec.add(table1={"xor": {"m32": 0.98}})
    rec.compare("xor(32) R2", "Table I", 0.985, 0.98, paper_sd=0.0081, ours_sd=0.01, ours_n=2)
    with pytest.raises(ValueError, match="note"):
        rec.compare("random(32) R2", "Table I", 0.021, 0.08)
    rec.compare("random(32) R2", "Table I", 0.021, 0.08, note="early-stopping monitor (A-06)")
    path = rec.save()
    data = json.loads(path.read_text())
    assert data["numbers"]["table1.xor.m32"] == 0.98
    assert data["parameters"] == {"seeds": [0, 1]}
    assert data["provenance"]["parameter_set"] == "quick"
    assert "wall_time_s" in data["provenance"] and "torch" in data["provenance"]["versions"]
    assert set(load_results(tmp_path / "results" / "quick")) == {"01_setup"}
    csv_path = write_comparison(tmp_path / "results" / "quick")
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["verdict"] for r in rows] == ["reproduced", "not reproduced"]
    assert rows[1]["note"].startswith("early-stopping")


def test_qualitative_claims_need_explicit_verdict(tmp_path):
    rec = Recorder("02", "quick", output_root=tmp_path)
    with pytest.raises(ValueError, match="verdict="):
        rec.compare("linear tracks q(k)", "Sec IV.A", "yes", "yes")
    row = rec.compare("linear tracks q(k)", "Sec IV.A", "yes", "yes", verdict="reproduced")
    assert row["verdict"] == "reproduced"


def test_defined_turns_undefined_numbers_into_none():
    import numpy as np
    assert defined({"a": math.nan, "b": [1.0, math.inf], "c": np.float64(2.5), "d": np.int64(3)}) == \
        {"a": None, "b": [1.0, None], "c": 2.5, "d": 3}
    assert type(defined(np.int64(3))) is int


def test_paper_set_borrows_missing_notebooks_from_default(tmp_path):
    for name, nb, val in (("paper", "01_a", 1.0), ("default", "01_a", 2.0), ("default", "06_b", 3.0)):
        rec = Recorder(nb, name, output_root=tmp_path)
        rec.compare(f"{nb} claim", "P2 Fig 1", 1.0, val, note="" if val == 1.0 else "differs")
        rec.save()
    records = load_results(tmp_path / "results" / "paper", [tmp_path / "results" / "default"])
    assert records["01_a"]["params_name"] == "paper" and "from_set" not in records["01_a"]
    assert records["06_b"]["from_set"] == "default"
    rows = list(csv.DictReader(write_comparison(tmp_path / "results" / "paper").open()))
    assert [r["claim"] for r in rows] == ["01_a claim", "06_b claim"]
    assert rows[1]["note"].startswith("[from the 'default' run: no 'paper' results yet] differs")
    assert write_comparison(tmp_path / "results" / "default", fallback=[]) is not None


def test_agreement_through_our_spread_is_inconclusive(tmp_path):
    rec = Recorder("02", "quick", output_root=tmp_path)
    rec.default_ours_n = 4
    row = rec.compare("random zero rows", "Table II", 4.9, 24.0, paper_sd=0.15, ours_sd=22.0,
                      note="early stopping")
    assert row["verdict"] == "inconclusive" and "inconclusive" in row["note"]
    row = rec.compare("xor zero rows", "Table II", 12.3, 11.0, paper_sd=3.0, ours_sd=2.5)
    assert row["verdict"] == "reproduced" and row["note"] == ""


def test_saved_figures_are_byte_reproducible(tmp_path):
    """The same figure saved twice (a second apart) gives the same PNG and PDF bytes, so a
    re-run of a notebook leaves committed figures unchanged."""
    import time

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kag_utils.pipeline.session import start

    digests = []
    for i in range(2):
        session = start("99_test", "paper", tmp_path / str(i), parameters={})
        fig, ax = plt.subplots()
        ax.plot([0, 1, 4], label=r"$\lambda$")
        path = session.savefig(fig, "fig")
        plt.close(fig)
        digests.append((path.read_bytes(), path.with_suffix(".pdf").read_bytes()))
        time.sleep(1.1)
    assert digests[0] == digests[1]


def test_readings_text_names_the_default_verdict_when_verdict_is_passed(tmp_path):
    # a qualitative row (verdict= from a rule) with an alternative reading: the readings column
    # must show the default reading's own verdict, not the combined one
    rec = Recorder("05_appendices", "quick", output_root=tmp_path)
    row = rec.compare("App A: x", "P1", 4.0, 4.66, verdict="not reproduced", cause="rounding",
                      readings=[{"reading": "decade", "verdict": "reproduced"}])
    assert row["verdict"] == "protocol-dependent"
    assert row["readings"].startswith("default: not reproduced; decade: reproduced")
