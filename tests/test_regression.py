"""The regression comparator itself (it must be able to fail)."""
import json

from kag_utils.cli import regression

RULES = [{"pattern": "*epochs*", "rtol": 0.1}, {"pattern": "wall*", "skip": True},
         {"pattern": "*", "rtol": 0.01, "atol": 1e-9}]


def test_equal_and_within_tolerance():
    ref = {"a": 1.0, "run.epochs": 100, "l": [1.0, 2.0], "s": "x"}
    assert regression.compare_numbers(dict(ref), ref, RULES) == []
    assert regression.compare_numbers({**ref, "a": 1.005, "run.epochs": 108}, ref, RULES) == []


def test_changed_missing_new_are_reported():
    ref = {"a": 1.0, "b": 2.0, "l": [1.0, 2.0]}
    diff = regression.compare_numbers({"a": 1.1, "c": 3.0, "l": [1.0, 2.5]}, ref, RULES)
    text = "\n".join(diff)
    assert "changed  a: 1.1 vs reference 1.0" in text
    assert "missing  b" in text and "new      c" in text and "changed  l" in text


def test_skip_rule_and_update(tmp_path):
    assert regression.compare_numbers({"wall_s": 5}, {"wall_s": 1}, RULES) == []
    res = tmp_path / "res"
    res.mkdir()
    (res / "01_x.json").write_text(json.dumps({"notebook": "01_x", "params_name": "quick",
                                               "numbers": {"a": 1}, "provenance": {}}))
    out = regression.update(res, tmp_path / "ref")
    assert json.loads(out[0].read_text())["numbers"] == {"a": 1}
    assert regression.compare_file(res / "01_x.json", out[0], RULES) == []
