"""Run cache: keys, round trips, atomicity, and corrupt entries never used."""
import os

import pytest
import torch

from kag_utils.pipeline.cache import MAGIC, Cache, config_key


@pytest.fixture
def cache(tmp_path):
    return Cache(tmp_path / "cache")


def test_round_trip(cache):
    payload = {"w": torch.arange(6.0).reshape(2, 3), "curve": [1.0, 0.5], "meta": {"epochs": 3}}
    cache.store("run", {"m": 32, "seed": 0}, payload)
    got = cache.load("run", {"seed": 0, "m": 32})  # key order does not matter
    assert torch.equal(got["w"], payload["w"]) and got["curve"] == [1.0, 0.5]
    assert got["meta"] == {"epochs": 3}


def test_key_depends_on_config_kind_and_version():
    base = config_key("run", {"m": 32})
    assert base == config_key("run", {"m": 32})
    assert base != config_key("run", {"m": 16})
    assert base != config_key("eval", {"m": 32})
    assert base != config_key("run", {"m": 32}, version="9.9.9")
    assert config_key("run", {"x": (1, 2)}) == config_key("run", {"x": [1, 2]})


def test_missing_is_none_and_get_or_compute_computes_once(cache):
    assert cache.load("run", {"m": 4}) is None
    calls = []

    def compute():
        calls.append(1)
        return {"v": torch.tensor([1.0])}

    first = cache.get_or_compute("run", {"m": 4}, compute)
    second = cache.get_or_compute("run", {"m": 4}, compute)
    assert len(calls) == 1 and torch.equal(first["v"], second["v"])
    assert cache.contains("run", {"m": 4}) and not cache.contains("run", {"m": 5})


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "empty"])
def test_corrupt_entry_is_quarantined_and_recomputed(cache, damage):
    cfg = {"m": 8}
    path = cache.store("run", cfg, {"v": torch.ones(100)})
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        body = bytearray(data)
        body[-10] ^= 0xFF
        path.write_bytes(bytes(body))
    elif damage == "header":
        path.write_bytes(b"garbage\n" + data[len(MAGIC):])
    else:
        path.write_bytes(b"")
    with pytest.warns(RuntimeWarning, match="corrupt cache entry"):
        assert cache.load("run", cfg) is None
    assert not path.exists() and path.with_suffix(".corrupt").exists()
    got = cache.get_or_compute("run", cfg, lambda: {"v": torch.zeros(2)})
    assert torch.equal(got["v"], torch.zeros(2))


def test_store_leaves_no_temporary_files(cache):
    path = cache.store("run", {"m": 1}, {"v": 1})
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_failed_write_leaves_nothing(cache, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.store("run", {"m": 2}, {"v": 1})
    monkeypatch.undo()
    assert cache.load("run", {"m": 2}) is None
    assert not any(p.is_file() for p in cache.root.rglob("*"))


def test_bad_configs_raise(cache):
    with pytest.raises(ValueError, match="finite"):
        cache.store("run", {"lr": float("nan")}, {})
    with pytest.raises(TypeError, match="cannot use"):
        cache.store("run", {"f": object()}, {})
    with pytest.raises(ValueError, match="kind"):
        cache.store("run/../x", {}, {})


def test_default_location_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KAG_CACHE_DIR", str(tmp_path / "here"))
    assert Cache().root == tmp_path / "here"


def test_numpy_values_are_stored_as_loadable_types(cache):
    import numpy as np
    cache.store("run", {"m": 3}, {"x": np.float64(0.5), "a": np.arange(3), "n": [np.int64(2)]})
    got = cache.load("run", {"m": 3})
    assert got["x"] == 0.5 and type(got["x"]) is float
    assert torch.equal(got["a"], torch.arange(3)) and got["n"] == [2]
