"""The agreement rule (kag_utils.readings.verdicts), the verbal-claim rules (kag_utils.readings) and the
verdict columns of Recorder.compare / comparison.csv."""
import csv
import math

import numpy as np
import pytest

from kag_utils import readings as rd
from kag_utils.readings import verdicts as vd
from kag_utils.pipeline.results import Recorder, normalize_row, section_of, write_comparison


def old_rule(paper, ours, paper_sd, ours_sd):
    """The rule this project used before verdicts: 2 combined seed *standard deviations*."""
    return abs(paper - ours) < 2.0 * math.sqrt(paper_sd ** 2 + ours_sd ** 2)


def test_random32_table2_row_is_not_reproduced():
    # P1 Table II random(32) "Zero (q1 = 0.01 %)": 0.045 +- 0.004; ours 17.76 +- 19.07 (4 seeds)
    assert old_rule(0.045, 17.76, 0.004, 19.07)          # the old rule called this agreement
    v = vd.numeric_verdict(0.045, 17.76, 0.004, 19.07, paper_n=4, ours_n=4)
    assert v["verdict"] == "inconclusive"
    assert v["z"] > 1.5


def test_large_standard_error_is_inconclusive_not_reproduced():
    # consistent within 2 SE only because our SE is half the paper's value
    v = vd.numeric_verdict(1.0, 1.2, None, 1.0, ours_n=4)
    assert v["verdict"] == "inconclusive"
    assert vd.numeric_verdict(1.0, 1.015, None, 0.02, ours_n=4)["verdict"] == "reproduced"


@pytest.mark.parametrize("seed", range(200))
def test_no_reproduced_row_beyond_three_standard_errors(seed):
    rng = np.random.default_rng(seed)
    paper, ours = rng.normal(0, 5, 2)
    psd, osd = rng.exponential(1, 2)
    v = vd.numeric_verdict(paper, ours, psd, osd, paper_n=4, ours_n=int(rng.integers(2, 9)))
    if v["verdict"] == "reproduced":
        assert abs(paper - ours) <= 3 * v["se"]
    # the rule is on standard errors: half the old allowance at n = 4
    assert v["allowed"] == pytest.approx(2 * v["se"])


def test_standard_error_and_n():
    assert vd.standard_error(2.0, 4) == 1.0
    assert vd.standard_error(None, None) == 0.0
    with pytest.raises(ValueError, match="ours_n"):
        vd.numeric_verdict(1.0, 1.0, None, 0.1)
    # the paper's n defaults to 4 seeds
    assert vd.numeric_verdict(1.0, 1.0, 0.2, None)["se"] == pytest.approx(0.1)


def test_printed_precision_and_wording():
    # no spread: within half of the last printed digit
    assert vd.numeric_verdict(0.985, 0.9854, resolution=1e-3)["verdict"] == "reproduced"
    assert vd.numeric_verdict(0.985, 0.9870, resolution=1e-3)["verdict"] == "not reproduced"
    # "approximate" critical batch size 250 vs 265; "near R^2 0.85" vs 0.85
    assert vd.numeric_verdict(250, 265)["verdict"] == "not reproduced"
    assert vd.numeric_verdict(250, 265, wording="approximate")["verdict"] == "reproduced"
    assert vd.numeric_verdict(250, 300, wording="approximate")["verdict"] == "not reproduced"
    assert vd.numeric_verdict(0.85, 0.85, wording="near")["verdict"] == "reproduced"
    assert vd.numeric_verdict(10.0, 25.0, wording="order of magnitude")["verdict"] == "reproduced"
    assert vd.numeric_verdict(10.0, 40.0, wording="order of magnitude")["verdict"] == "not reproduced"
    with pytest.raises(ValueError, match="WORDING_TOLERANCE"):
        vd.numeric_verdict(1, 1, wording="roughly-ish")
    with pytest.raises(ValueError, match="finite"):
        vd.numeric_verdict(1.0, float("nan"))


def test_every_wording_has_a_reading():
    for word, tol in vd.WORDING_TOLERANCE.items():
        assert tol.reading, word
        assert tol.relative >= 0


def test_baseline_sets_the_inconclusive_scale():
    # paper 1.10 against a no-effect baseline 1.0: the effect is 0.10; SE 0.05 cannot tell
    v = vd.numeric_verdict(1.10, 1.12, None, 0.1, ours_n=4, baseline=1.0)
    assert v["verdict"] == "inconclusive"
    assert vd.numeric_verdict(1.10, 1.12, None, 0.1, ours_n=4)["verdict"] == "reproduced"


def test_combine_readings_and_tally():
    assert vd.combine_readings("not reproduced", [{"verdict": "reproduced"}]) == "protocol-dependent"
    assert vd.combine_readings("inconclusive", [{"verdict": "reproduced"}]) == "protocol-dependent"
    assert vd.combine_readings("reproduced", [{"verdict": "not reproduced"}]) == "reproduced"
    assert vd.combine_readings("not reproduced", [{"verdict": "not reproduced"}]) == "not reproduced"
    rows = [{"verdict": "reproduced", "s": "a"}, {"verdict": "inconclusive", "s": "a"},
            {"verdict": "reproduced", "s": "b"}]
    assert vd.tally(rows)["reproduced"] == 2
    assert vd.tally(rows, by="s")["a"] == {**{v: 0 for v in vd.VERDICTS}, "reproduced": 1,
                                           "inconclusive": 1}
    with pytest.raises(ValueError, match="unknown verdict"):
        vd.tally([{"verdict": "agrees"}])


def test_recorder_compare_verdicts(tmp_path):
    rec = Recorder("02_zero_rows", "test", output_root=tmp_path)
    rec.default_ours_n = 4
    row = rec.compare("random(32) zero", "P1 Table II", 0.045, 17.76, paper_sd=0.004,
                      ours_sd=19.07, note="early stopping")
    assert row["verdict"] == "inconclusive" and "inconclusive" in row["note"]
    assert row["paper_n"] == 4 and row["ours_n"] == 4 and row["section"] == "P1 §IV.A"
    row = rec.compare("xor R2", "P1 Table I", 0.98, 0.90, paper_sd=0.01, ours_sd=0.01,
                      note="x", readings=[{"reading": "monitor=val_mse", "ours_value": 0.979,
                                           "ours_sd": 0.01}])
    assert row["verdict"] == "protocol-dependent"
    assert "monitor=val_mse: reproduced" in row["readings"]
    assert "default: not reproduced" in row["readings"]
    with pytest.raises(ValueError, match="cause"):
        rec.compare("bad", "P1", 1.0, 2.0)
    with pytest.raises(ValueError, match="verdict="):
        rec.compare("text", "P1", "~1", "0.9")
    row = rec.compare("text", "P1", "~1", "0.9", verdict="reproduced")
    assert row["verdict"] == "reproduced"
    assert rec.compare("legacy", "P1", "a", "b", agree=False, note="n")["verdict"] == "not reproduced"
    rec.protocol_matches = False
    assert rec.compare("mnist", "P2", 1.0, 1.0, note="toy run")["verdict"] == "not comparable"
    rec.save()
    path = write_comparison(rec.results_dir)
    rows = list(csv.DictReader(path.open()))
    assert {r["verdict"] for r in rows} <= set(vd.VERDICTS)
    assert "agrees" not in rows[0]


def test_borrowed_and_legacy_rows(tmp_path):
    legacy = {"claim": "c", "agrees": "True", "notebook": "05_appendices"}
    assert normalize_row(legacy)["verdict"] == "reproduced"
    assert section_of("05_appendices", "App B: x") == "P1 App. B"
    assert section_of("06_mnist_spatial") == "P2"
    other = Recorder("06_mnist_spatial", "default", output_root=tmp_path)
    other.compare("p2", "P2 Fig 1", 1.0, 1.0, note="n")
    other.save()
    (tmp_path / "results" / "paper").mkdir(parents=True)
    rows = list(csv.DictReader(write_comparison(tmp_path / "results" / "paper").open()))
    assert rows[0]["verdict"] == "not comparable" and "default" in rows[0]["note"]
    new = Recorder("07_open_questions", "default", output_root=tmp_path)
    new.compare("x learns faster", "Beyond the papers: P1 Sec. V", "proposed", "faster",
                verdict="new result", note="evidence")
    new.save()
    rows = list(csv.DictReader(write_comparison(tmp_path / "results" / "paper").open()))
    borrowed = {r["claim"]: r for r in rows}
    assert borrowed["x learns faster"]["verdict"] == "new result"          # nothing to compare
    assert "default" in borrowed["x learns faster"]["note"]
    assert borrowed["p2"]["verdict"] == "not comparable"


# ------------------------------------------------------------------------------- readings
def test_exceeds():
    assert rd.exceeds(3.0, 0.5, 1.0)["verdict"] == "reproduced"
    assert rd.exceeds(-1.0, 0.5, 1.0)["verdict"] == "not reproduced"       # the other way
    assert rd.exceeds(1.05, 0.01, 1.0)["verdict"] == "reproduced"
    assert rd.exceeds(1.0, 0.01, 1.0)["verdict"] == "not reproduced"       # measured null
    assert rd.exceeds(1.3, 0.4, 1.0)["verdict"] == "inconclusive"          # too noisy
    assert rd.exceeds(0.5, 0.1, 1.0, direction=-1)["verdict"] == "reproduced"
    with pytest.raises(ValueError, match="scale"):
        rd.exceeds(0.1, 0.1, 0.0)


def test_near():
    assert rd.near(1.05, 1.0)["verdict"] == "reproduced"                    # within 10 %
    assert rd.near(1.3, 1.0)["verdict"] == "not reproduced"
    assert rd.near(1.3, 1.0, se=0.3)["verdict"] == "inconclusive"
    assert rd.near(1.18, 1.0, wording="close to")["verdict"] == "not reproduced"
    assert rd.near(1.18, 1.0, se=0.05, wording="close to")["verdict"] == "reproduced"


def test_stable_and_monotone():
    assert rd.stable([1.0, 1.02, 0.98, 1.05])["verdict"] == "reproduced"
    assert rd.stable([1.0, 1.5, 1.0, 1.0])["verdict"] == "not reproduced"
    x = [4, 8, 16, 32]
    assert rd.monotone(x, [1, 2, 3, 4], 0.1)["verdict"] == "reproduced"
    assert rd.monotone(x, [1, 2, 1.5, 4], 0.1)["verdict"] == "not reproduced"
    assert rd.monotone(x, [1, 2, 1.9, 4], 0.1)["verdict"] == "reproduced"   # dip within error
    assert rd.monotone(x, [1, 1.1, 1.0, 1.1], 0.1)["verdict"] == "inconclusive"
    assert rd.monotone(x, [4, 3, 2, 1], 0.1, direction=-1)["verdict"] == "reproduced"


def test_window_with_reference_fraction():
    lam = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    mean = [1.1, 1.2, 1.6, 1.8, 2.0, 2.0, 1.9, 1.7, 1.02]
    w = rd.window(lam, mean, 0.02, baseline=1.0)                     # significance alone
    assert (w["low"], w["high"]) == (0.5, 1.2)
    w = rd.window(lam, mean, 0.02, baseline=1.0, reference=2.0, fraction=0.5)
    assert (w["low"], w["high"]) == (0.7, 1.2)
    assert w["modest"][:2] == [True, True] and not w["modest"][2]
    assert rd.window(lam, [1.0] * 9, 0.02, baseline=1.0, reference=2.0) is None
    with pytest.raises(ValueError, match="reference"):
        rd.window(lam, mean, 0.02, baseline=1.0, reference=0.5)


def test_headline_counts_comparable_rows_only():
    rows = [{"verdict": "reproduced", "section": "P1 §IV.A"},
            {"verdict": "inconclusive", "section": "P1 §IV.A"},
            {"verdict": "not comparable", "section": "P2"}]
    text = vd.headline(rows)
    assert text.startswith("Of 2 comparisons") and "1 not comparable" in text
    table = vd.summary_table(rows).splitlines()
    assert table[1].startswith("P1 §IV.A") and table[2].startswith("P2")
    assert table[1].split()[-1] == "2"


def test_summary_markdown_and_cli(tmp_path, capsys):
    rows = [{"verdict": "reproduced", "section": "P1 §IV.A"},
            {"verdict": "not comparable", "section": "P2"}]
    md = vd.summary_markdown(rows).splitlines()
    assert md[0] == "| section | reproduced | not comparable | total |"
    assert md[-1] == "| **all** | **1** | **1** | **2** |"
    path = tmp_path / "c.csv"
    path.write_text("claim,section,verdict\na,P1 §IV.A,reproduced\nb,P2,not comparable\n")
    assert vd.main([str(path), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Of 1 comparisons") and "| P2 | 0 | 1 | 1 |" in out


def test_note_column_carries_the_cause_of_a_row_not_reproduced():
    row = normalize_row({"claim": "c", "verdict": "not reproduced", "note": "", "cause": "A-06",
                         "notebook": "01_setup"})
    assert row["note"] == "A-06"
    row = normalize_row({"claim": "c", "verdict": "reproduced", "note": "", "cause": "",
                         "notebook": "01_setup"})
    assert row["note"] == ""
