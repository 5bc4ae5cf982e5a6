"""RunConfig, ensure_runs and the generic sweep driver: per-member cache entries, reuse,
corrupt entries, resume after interruption, grouping independence, bootstrapped inputs."""
import pytest
import torch

import kag_utils.p1.runs as runs_mod
from kag_utils.pipeline import sweep
from kag_utils.pipeline.cache import Cache
from kag_utils.p1.models import hidden_features
from kag_utils.p1.runs import KIND, InputMap, Run, RunConfig, ensure_runs, initial_params, run_dataset
from kag_utils.p1.targets import make_dataset

SMALL = dict(n_train=100, n_val=30, n_test=30, max_epochs=12, patience=3, batch_size=40)


def small(**kw):
    return RunConfig(**{**SMALL, "hidden": (4,), **kw})


def grid():
    return [small(target=t, seed=s) for t in ("xor", "linear", "random") for s in (0, 1)] + [
        small(target="so_xor", target_param=1, hidden=(6,), monitor="val_mse"),
        small(target="gaussian", target_param=0.4, hidden=(4, 4), max_epochs=8)]


@pytest.fixture
def cache(tmp_path):
    return Cache(tmp_path / "cache")


@pytest.fixture
def trained(monkeypatch):
    """Counts members handed to the trainer."""
    count = []
    real = runs_mod.train_readings

    def counting(members, **kw):
        count.append(len(members))
        return real(members, **kw)

    monkeypatch.setattr(runs_mod, "train_readings", counting)
    return count


def same(a: Run, b: Run):
    return (all(torch.equal(u[k], v[k]) for u, v in zip(a.params, b.params) for k in "Wb")
            and torch.equal(a.history["train_r2"], b.history["train_r2"])
            and (a.best_epoch, a.stop_epoch) == (b.best_epoch, b.stop_epoch))


def test_config_validation_and_normalisation():
    assert RunConfig(target="lambda_xor", target_param=1).key() == \
        RunConfig(target="lambda_xor", target_param=1.0).key()
    assert RunConfig(hidden=[8]).hidden == (8,)
    with pytest.raises(ValueError, match="unknown target 'sin'"):
        RunConfig(target="sin")
    with pytest.raises(ValueError, match="needs its parameter"):
        RunConfig(target="gaussian")
    with pytest.raises(ValueError, match="takes no parameter"):
        RunConfig(target="xor", target_param=2.0)
    with pytest.raises(ValueError, match="unknown monitor"):
        RunConfig(monitor="val_loss")
    with pytest.raises(ValueError, match="must share"):
        RunConfig(input_map=InputMap(RunConfig(data_seed=1)))
    assert RunConfig(seed=1).key() != RunConfig(seed=2).key()


def test_initial_model_same_across_targets():
    a = initial_params(RunConfig(target="xor", hidden=(16,), seed=2))
    for t, p in [("linear", None), ("random", None), ("gaussian", 0.3), ("so_xor", 1)]:
        b = initial_params(RunConfig(target=t, target_param=p, hidden=(16,), seed=2, batch_size=64))
        assert all(torch.equal(u[k], v[k]) for u, v in zip(a, b) for k in "Wb")


def test_ensure_runs_stores_each_member_and_reuses_cache(cache, trained):
    configs = grid()
    runs = ensure_runs(configs, cache=cache, progress=False)
    assert [r.config for r in runs] == configs
    assert sum(trained) == len(configs) and len(trained) == 3      # 3 ensembles: (4,), (6,), (4, 4)
    files = sorted((cache.root / KIND).rglob("*.pt"))
    assert len(files) == len(configs)
    for c in configs:
        assert cache.path(KIND, c).exists()
    r = runs[2]                                                    # linear, seed 0
    assert set(r.target_info) >= {"c", "c0"} and r.r2["train"] > 0.5
    assert torch.equal(r.init_params[0]["W"], initial_params(r.config)[0]["W"])
    assert r.history["train_r2"].shape == (r.stop_epoch + 1,)
    first = int(torch.nonzero(r.history["train_r2"] >= 0.5)[0, 0])
    assert r.steps_to(0.5) == first * 3                            # ceil(100 / 40) steps per epoch
    assert r.checkpoint(0.5) is r.checkpoints["params"][10]
    again = ensure_runs(configs, cache=cache, progress=False)
    assert sum(trained) == len(configs)                            # nothing retrained
    assert all(same(a, b) for a, b in zip(runs, again))


def test_payload_layout(cache):
    c = small(target="linear")
    ensure_runs([c], cache=cache, progress=False)
    p = cache.load(KIND, c)
    assert set(p) == {"config", "version", "target_info", "init_params", "params", "last_params",
                      "history", "checkpoints", "best_epoch", "stop_epoch", "selected_epoch",
                      "stopped_early", "r2", "mse", "wall_time_s", "group_size"}
    assert p["params"][0]["W"].shape == (3, 4) and p["params"][1]["W"].shape == (4, 1)
    assert set(p["checkpoints"]) == {"grid", "epoch", "r2", "params"}
    assert p["config"]["hidden"] == [4]


def test_results_do_not_depend_on_grouping(tmp_path):
    configs = grid()
    together = ensure_runs(configs, cache=Cache(tmp_path / "a"), progress=False)
    alone = [ensure_runs([c], cache=Cache(tmp_path / "b"), progress=False)[0] for c in configs[::-1]]
    assert all(same(a, b) for a, b in zip(together, alone[::-1]))


def test_corrupt_entry_is_retrained(cache, trained):
    configs = grid()[:4]
    first = ensure_runs(configs, cache=cache, progress=False)
    path = cache.path(KIND, configs[1])
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="corrupt"):
        again = ensure_runs(configs, cache=cache, progress=False)
    assert trained == [4, 1]                                       # only the corrupt one
    assert all(same(a, b) for a, b in zip(first, again))


def test_resume_after_interruption(cache, trained, monkeypatch, tmp_path):
    configs = grid()[:6]                                          # one ensemble of 6
    real_store = Cache.store
    stored = []

    def flaky_store(self, kind, config, payload):
        if len(stored) == 2:
            raise KeyboardInterrupt("simulated interruption")
        stored.append(config)
        return real_store(self, kind, config, payload)

    monkeypatch.setattr(Cache, "store", flaky_store)
    with pytest.raises(KeyboardInterrupt):
        ensure_runs(configs, cache=cache, progress=False)
    monkeypatch.setattr(Cache, "store", real_store)
    assert len(list((cache.root / KIND).rglob("*.pt"))) == 2
    resumed = ensure_runs(configs, cache=cache, progress=False)
    assert trained == [6, 4]                                      # the 2 stored are not retrained
    fresh = ensure_runs(configs, cache=Cache(tmp_path / "fresh"), progress=False)
    assert all(same(a, b) for a, b in zip(resumed, fresh))


def test_bootstrapped_inputs_train_dependencies_first(cache, trained):
    base = small(target="random", hidden=(6,), seed=1)
    boot_final = small(target="random", hidden=(5,), seed=1, input_map=InputMap(base, "final"))
    boot_init = small(target="random", hidden=(5,), seed=1, input_map=InputMap(base, "initial"))
    assert boot_final.model_n_in == 6
    runs = ensure_runs([boot_final, boot_init], cache=cache, progress=False)
    assert trained == [1, 2]                                     # base first, then both together
    assert runs[0].params[0]["W"].shape == (6, 5)
    base_run = ensure_runs([base], cache=cache, progress=False)[0]
    d = run_dataset(boot_final, cache)
    x = make_dataset("random", n_train=100, n_val=30, n_test=30)["train"][0]
    assert torch.equal(d["train"][0], hidden_features(base_run.params, x))
    assert torch.equal(run_dataset(boot_init, cache)["train"][0], hidden_features(base_run.init_params, x))
    assert not torch.equal(runs[0].params[0]["W"], runs[1].params[0]["W"])


def test_scheduler_and_unknown_kind(cache):
    with pytest.raises(ValueError, match="unknown scheduler 'dask'"):
        ensure_runs([small()], cache=cache, progress=False, scheduler="dask")
    with pytest.raises(ValueError, match="no sweep kind 'nope'.*p1_run"):
        sweep.compute_missing("nope", [1], cache)


# -- the generic driver with a toy kind (module-level functions, as a Dask worker needs) -------
CALLS = []


def toy_group(configs):
    return [configs[i:i + 2] for i in range(0, len(configs), 2)]


def toy_task(kind, configs, cache_root, on_result=None):
    cache = Cache(cache_root)
    CALLS.append(list(configs))
    keys = []
    for c in configs:
        cache.store(kind, c, {"square": torch.tensor(c["x"] ** 2)})
        keys.append(cache.key(kind, c))
        if on_result:
            on_result(keys[-1])
    return keys


def test_generic_compute_missing_with_registered_kind(cache):
    sweep.register_kind("toy", group=toy_group, task=toy_task)
    CALLS.clear()
    configs = [{"x": i} for i in range(5)] + [{"x": 1}]
    keys = sweep.compute_missing("toy", configs, cache, progress=False)
    assert len(keys) == 5 and [len(g) for g in CALLS] == [2, 2, 1]
    assert sweep.compute_missing("toy", configs, cache, progress=False) == []
    assert int(cache.load("toy", {"x": 3})["square"]) == 9
    with pytest.raises(ValueError, match="module-level"):
        sweep.register_kind("bad", group=toy_group, task=lambda *a, **k: [])


def same_payload(a: dict, b: dict) -> bool:
    """Equal stored runs (bitwise tensors; NaN == NaN), wall time and group size aside."""
    skip = {"wall_time_s", "group_size"}

    def eq(u, v):
        if isinstance(u, torch.Tensor):
            return (isinstance(v, torch.Tensor) and u.shape == v.shape
                    and torch.equal(u.nan_to_num(7.0), v.nan_to_num(7.0)))
        if isinstance(u, dict):
            return set(u) == set(v) and all(eq(u[k], v[k]) for k in u)
        if isinstance(u, (list, tuple)):
            return len(u) == len(v) and all(eq(x, y) for x, y in zip(u, v))
        return u == v or (u != u and v != v)
    return set(a) == set(b) and all(eq(a[k], b[k]) for k in a if k not in skip)


def test_stopping_readings_share_one_trajectory_and_equal_alone(tmp_path, trained):
    """Configs differing only in (monitor, min_delta, restore_best) train as one member with
    several readings; each is stored under its own (unchanged) key and equals its run alone,
    the default reading included."""
    readings = [dict(), dict(monitor="train_last_batch_mse"), dict(monitor="val_mse", min_delta=1e-3),
                dict(monitor="train_mse", restore_best=False)]
    configs = [small(target=t, seed=s, hidden=(8,), max_epochs=40, **r)
               for t, s in (("random", 0), ("xor", 1)) for r in readings]
    assert configs[0].key() == small(target="random", seed=0, hidden=(8,), max_epochs=40).key()
    groups = runs_mod.group_runs(configs, max_size=1)        # one trajectory per group
    assert [len(g) for g in groups] == [4, 4]
    a = Cache(tmp_path / "a")
    ensure_runs(configs, cache=a, progress=False)
    assert trained == [2]                                     # 8 configs, 2 trajectories
    b = Cache(tmp_path / "b")
    for c in configs:
        ensure_runs([c], cache=b, progress=False)
    assert trained[1:] == [1] * 8
    assert len({a.load(KIND, c)["stop_epoch"] for c in configs}) >= 3
    for c in configs:
        assert same_payload(a.load(KIND, c), b.load(KIND, c)), c
