import numpy as np
import pandas as pd
import pytest

from kag_utils.readings.aggregate import pm, summarize


def test_summarize_matches_numpy():
    df = pd.DataFrame({"f": ["a"] * 3 + ["b"] * 2, "v": [1.0, 2.0, 4.0, 3.0, 5.0]})
    s = summarize(df, "f", "v").set_index("f")
    assert s.loc["a", "v_mean"] == pytest.approx(7 / 3)
    assert s.loc["a", "v_std"] == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert s.loc["b", "v_se"] == pytest.approx(np.std([3, 5], ddof=1) / np.sqrt(2))
    assert s.loc["b", "v_n"] == 2
    with pytest.raises(ValueError, match="not in the table"):
        summarize(df, "g", "v")


def test_pm():
    assert pm(0.985, 0.0081) == "0.9850 ± 0.0081"
    assert pm(1.0, float("nan"), 2) == "1.00"
    assert pm(float("nan")) == "n/a"
