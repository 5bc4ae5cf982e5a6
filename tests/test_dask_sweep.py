"""Sweeps on a Dask cluster (issue 9): the same cache entries, bit for bit, as the serial
sweep; a worker process killed mid-sweep costs nothing but time; a cached sweep runs nothing.

The cluster tests (marked slow) start one LocalCluster of two worker processes on 127.0.0.1
for the module, through ``sweep.get_client("local")`` (the path notebooks take), and reach it
three ways: the "local" string, its tcp:// address, and the Client object.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import kag_utils
import kag_utils as kag
from kag_utils.cli import runner
from kag_utils.pipeline import sweep
from kag_utils.pipeline.cache import MAGIC, Cache, _process_alive
from kag_utils.p1.evaluation import EVAL_KIND, RR_KIND
from kag_utils.p1.runs import KIND as RUN_KIND

# Tiny P1 runs and metrics: seconds in all.
SMALL = dict(n_train=100, n_val=30, n_test=30, max_epochs=30, patience=5, batch_size=40)
ECFG = kag.EvalConfig(n_x=50, n_rot=5, n_x_rot=20)
# Runs that take ~2 s per group of two on one thread, so a kill lands mid-task.
SLOW = dict(n_train=200, n_val=50, n_test=50, max_epochs=2000, patience=100_000, batch_size=40)
# Payload fields that describe how a run was computed (its ensemble), not what it computed.
RUN_METADATA = {"wall_time_s", "group_size"}


def small_grid():
    return [kag.RunConfig(target=t, hidden=(m,), seed=s, **SMALL)
            for t in ("xor", "random") for m in (4, 6) for s in (0, 1)]


# ------------------------------------------------------------------- helpers (no cluster)
def read_record(path: Path) -> dict:
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    body = data[data.index(b"\n", len(MAGIC)) + 1:]
    return torch.load(__import__("io").BytesIO(body), map_location="cpu", weights_only=True)


def identical(a, b, where="") -> None:
    """Bitwise equality of nested payloads (NaN equals NaN; tensors also in dtype and shape)."""
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            identical(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a.view(torch.uint8) if a.is_floating_point() else a,
                           b.view(torch.uint8) if b.is_floating_point() else b), where
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b, f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, where


def entries(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in root.rglob("*.pt")}


def assert_clean(root: Path) -> None:
    assert not list(root.rglob("*.corrupt")), "corrupt entries"
    assert not list(root.rglob("*.tmp")), "temporary files left behind"


# ---------------------------------------------------------------------- fast unit tests
def test_split_groups_halves_the_largest_first():
    assert sweep.split_groups([[1, 2, 3, 4, 5], [6]], 4) == [[1, 2], [3], [4, 5], [6]]
    assert sweep.split_groups([[1, 2], [3]], 10) == [[1], [2], [3]]
    assert sweep.split_groups([[1, 2, 3]], 0) == [[1, 2, 3]]


def test_plan_orders_dependencies_and_links_them(tmp_path):
    cache = Cache(tmp_path)
    grid = small_grid()
    cfgs = [grid[0], grid[1], grid[2], grid[4]]    # xor(4) s0, s1, xor(6) s0, random(4) s0
    items = [kag.p1.evaluation.eval_config(c, s, ECFG) for c in cfgs for s in ("final", "init")]
    plan = sweep.plan_sweep(EVAL_KIND, items, cache)
    kinds = [n.kind for n in plan.nodes]
    # serial order kept; the initial model's RR is shared by xor(4) s0 and random(4) s0
    assert kinds == [RUN_KIND] * 2 + [RR_KIND] * 7 + [EVAL_KIND] * 4
    assert [len(n.configs) for n in plan.nodes[:2]] == [3, 1]         # ensembles by width
    for i, node in enumerate(plan.nodes):
        assert all(j < i for j in node.deps)
        if node.kind == RR_KIND:            # init RR needs no run; final RR needs its run
            state = node.configs[0]["state"]
            assert (node.deps == []) == (state == "init")
        if node.kind == EVAL_KIND:          # a run, its final RR and its init RR
            assert {plan.nodes[j].kind for j in node.deps} == {RUN_KIND, RR_KIND}
    assert [n.top for n in plan.nodes] == [False] * 9 + [True] * 4
    # a cluster splits evaluations, never training ensembles (p1_run is not splittable)
    split = sweep.plan_sweep(EVAL_KIND, items, cache, min_groups=lambda: 8)
    assert [len(n.configs) for n in split.nodes if n.kind == RUN_KIND] == [3, 1]
    assert [len(n.configs) for n in split.nodes if n.kind == EVAL_KIND] == [1] * 8


def test_scheduler_strings_are_checked_without_connecting():
    for ok in (None, "local", "local:3", "tcp://10.0.0.1:8786", "tls://host.example:8786",
               "127.0.0.1:8786"):
        sweep.check_scheduler(ok)
    for bad in ("dask", "local:x", "tcp:/x", 3):
        with pytest.raises(ValueError, match="unknown scheduler"):
            sweep.check_scheduler(bad)
    with pytest.raises(ValueError, match="positive integer"):
        sweep.local_workers("local:0")
    assert runner.main(["--scheduler", "slurm"]) == 2


def test_importing_kag_utils_needs_no_dask():
    code = "import sys, kag_utils; print('distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert out.stdout.strip() == "False"


def test_rotation_kernel_does_not_depend_on_thread_count():
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba is limited to one thread here")
    x = kag.make_inputs(1000, "train")[:60].to(torch.float64)
    for m in (4, 32):
        J = kag.first_layer_jacobian(kag.init_params(0, (m,), 3, 1, torch.float64), x)
        R = kag_utils.p1.evaluation.fixed_rotations(m, 20, 0)
        one = kag.rotated_max_minors(J, R, (1, 2, 3), backend="numba", num_threads=1)
        two = kag.rotated_max_minors(J, R, (1, 2, 3), backend="numba", num_threads=2)
        for k in (1, 2, 3):
            assert torch.equal(one[k], two[k])


@pytest.mark.xfail(strict=False, reason="known: for hidden widths that are not a multiple of "
                   "4, torch's gelu_backward and MKL's bmm round differently by ensemble size, "
                   "so p1_run is registered as not splittable (a Dask sweep trains the serial "
                   "sweep's ensembles); if this passes, p1_run could be made splittable")
def test_training_is_independent_of_ensemble_size_for_width_6(tmp_path):
    from kag_utils.p1.runs import train_runs_task

    cfgs = [kag.RunConfig(target=t, hidden=(6,), seed=s, **SMALL)
            for t in ("xor", "random") for s in (0, 1)]
    together, alone = Cache(tmp_path / "a"), Cache(tmp_path / "b")
    train_runs_task(RUN_KIND, cfgs, str(together.root))
    for c in cfgs:
        train_runs_task(RUN_KIND, [c], str(alone.root))
    for c in cfgs:
        a, b = together.load(RUN_KIND, c), alone.load(RUN_KIND, c)
        identical(a["params"], b["params"], str(c.seed))


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    cache = Cache(tmp_path)
    cfg = {"x": 1}
    path = cache.path("toy", cfg)
    path.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = __import__("socket").gethostname()
    names = {"dead": f".{path.stem}.{host}.{dead.pid}.abc_123.tmp",
             "alive": f".{path.stem}.{host}.{os.getpid()}.def456.tmp",
             "elsewhere": f".{path.stem}.other.host.example.{dead.pid}.ghi789.tmp"}
    for name in names.values():
        (path.parent / name).write_bytes(b"partial")
    assert cache.remove_stale_temps([("toy", cfg)]) == 1
    assert sorted(p.name for p in cache.temp_files("toy", cfg)) == sorted(
        [names["alive"], names["elsewhere"]])
    cache.store("toy", cfg, {"v": 1})           # a real write leaves no temporary file
    assert len(cache.temp_files("toy", cfg)) == 2


# ------------------------------------------------------------------------ cluster tests
@pytest.fixture(scope="module")
def client():
    """A LocalCluster of two worker processes on 127.0.0.1, started as notebooks start it."""
    previous = os.environ.get("KAG_DASK_WORKERS")
    os.environ["KAG_DASK_WORKERS"] = "2"
    try:
        c = sweep.get_client("local")
    finally:
        if previous is None:
            os.environ.pop("KAG_DASK_WORKERS")
        else:
            os.environ["KAG_DASK_WORKERS"] = previous
    assert sweep.get_client("local") is c                      # memoized per process
    yield c
    sweep.close_clients()


def _executing(dask_worker) -> list[str]:
    return [str(ts.key) for ts in dask_worker.state.executing]


def _threads() -> tuple:
    import numba
    return (torch.get_num_threads(), numba.get_num_threads(), os.environ.get("OMP_NUM_THREADS"),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"))


@pytest.mark.slow
def test_dask_sweep_equals_serial_bit_for_bit(client, tmp_path):
    info = client.scheduler_info()["workers"]
    assert len(info) == 2 and all(a.startswith("tcp://127.0.0.1:") for a in info)
    assert all(w["nthreads"] == 1 for w in info.values())
    cfgs = small_grid()
    serial, dask = Cache(tmp_path / "serial"), Cache(tmp_path / "dask")
    df_serial = kag.evaluate(cfgs, ("final", "init"), ECFG, cache=serial, progress=False)
    df_dask = kag.evaluate(cfgs, ("final", "init"), ECFG, cache=dask, progress=False,
                           scheduler="local")
    # the workers ran one torch and one numba thread each, with glibc's malloc defaults
    assert set(client.run(_threads).values()) == {(1, 1, "1", None)}
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ     # the driver's environment is restored
    a, b = entries(serial.root), entries(dask.root)
    assert a.keys() == b.keys()
    assert sum(k.startswith(RUN_KIND) for k in a) == len(cfgs)
    assert sum(k.startswith(EVAL_KIND) for k in a) == 2 * len(cfgs)
    for rel in sorted(a):
        ra, rb = read_record(a[rel]), read_record(b[rel])
        assert ra["config"] == rb["config"]
        pa, pb = ra["payload"], rb["payload"]
        if rel.startswith(RUN_KIND):
            pa, pb = ({k: v for k, v in p.items() if k not in RUN_METADATA} for p in (pa, pb))
        identical(pa, pb, rel)
    __import__("pandas").testing.assert_frame_equal(df_serial, df_dask, check_exact=True)
    assert_clean(dask.root)


@pytest.mark.slow
def test_killed_worker_costs_only_time(client, tmp_path, monkeypatch):
    import distributed

    cache = Cache(tmp_path / "cache")
    # four ensembles (by width) of two members: four tasks of about two seconds each
    cfgs = [kag.RunConfig(target="xor", hidden=(m,), seed=s, **SLOW)
            for m in (4, 8, 12, 16) for s in (0, 1)]
    address = client.scheduler.address                          # reach it as a user would
    pids = client.run(os.getpid)
    killed: dict = {}
    done = threading.Event()

    def kill_a_busy_worker():
        deadline = time.monotonic() + 300
        while not done.is_set() and time.monotonic() < deadline:
            busy = {a: keys for a, keys in client.run(_executing).items()
                    if any(k.startswith(f"kag-{RUN_KIND}") for k in keys)}
            if busy:
                addr = sorted(busy)[0]
                os.kill(pids[addr], signal.SIGKILL)
                killed.update(address=addr, pid=pids[addr], keys=busy[addr])
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    try:
        keys = sweep.compute_missing(RUN_KIND, cfgs, cache, progress=False, scheduler=address)
    finally:
        done.set()
        killer.join(30)
    assert killed, "no worker was killed while running a task"
    assert not _process_alive(killed["pid"])
    # every expected entry exactly once, each loads, nothing corrupt or partial
    expected = {cache.key(RUN_KIND, c) for c in cfgs}
    assert sorted(keys) == sorted(expected)
    files = list((cache.root / RUN_KIND).rglob("*.pt"))
    assert sorted(p.stem for p in files) == sorted(expected)
    assert all(cache.contains(RUN_KIND, c) for c in cfgs)
    assert_clean(cache.root)
    # the restarted worker rejoined
    deadline = time.monotonic() + 120
    while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(client.scheduler_info()["workers"]) == 2

    # a second invocation finds everything cached and submits nothing
    submitted = []
    real_submit = distributed.Client.submit
    monkeypatch.setattr(distributed.Client, "submit",
                        lambda self, *a, **k: submitted.append(a) or real_submit(self, *a, **k))
    assert sweep.compute_missing(RUN_KIND, cfgs, cache, progress=False, scheduler=address) == []
    assert kag.ensure_runs(cfgs, cache=cache, progress=False, scheduler="local")
    assert submitted == []


def _always_fails(kind, configs, cache_root, on_result=None):
    raise ArithmeticError(f"cannot compute {configs}")


@pytest.mark.slow
def test_failing_task_is_reported(client, tmp_path):
    sweep.register_kind("dask_test_fail", group=lambda cs: [cs], task=_always_fails)
    with pytest.raises(RuntimeError, match="dask_test_fail.*ArithmeticError: cannot compute"):
        sweep.compute_missing("dask_test_fail", [{"x": 1}], Cache(tmp_path), progress=False,
                              scheduler=client)


NOTEBOOK = '''\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
params_name = "default"
output_root = ".."
scheduler = None
seeds = [0]

# %%
import kag_utils as kag
session = kag.start("01_dask", params_name, output_root, {"seeds": seeds})
cfgs = [kag.RunConfig(target="xor", hidden=(4,), seed=s, n_train=50, n_val=20, n_test=20,
                      max_epochs=5, patience=2, batch_size=25) for s in seeds]
runs = kag.ensure_runs(cfgs, scheduler=scheduler)
session.record.add(scheduler=scheduler, r2=[r.r2_train for r in runs])
session.save()
'''


@pytest.mark.slow
def test_kag_run_local_passes_one_cluster_to_the_notebooks(tmp_path, monkeypatch):
    """`kag-run --scheduler local`: the runner starts one LocalCluster and the notebook's
    sweep runs on it (by address); the cluster is closed after the run."""
    import json

    for d in ("notebooks", "params"):
        (tmp_path / d).mkdir()
    (tmp_path / "notebooks" / "01_dask.py").write_text(NOTEBOOK)
    (tmp_path / "params" / "tiny.yaml").write_text("01_dask:\n  seeds: [0, 1]\n")
    monkeypatch.setenv("KAG_CACHE_DIR", str(tmp_path / "cache"))
    assert not sweep.has_client("local:1")
    assert runner.main(["--params", "tiny", "--root", str(tmp_path), "--scheduler", "local:1"]) == 0
    result = json.loads((tmp_path / "results" / "tiny" / "01_dask.json").read_text())
    text = json.dumps(result)
    assert "tcp://127.0.0.1:" in text
    assert len(list((tmp_path / "cache" / RUN_KIND).rglob("*.pt"))) == 2
    assert not sweep.has_client("local:1")                       # the runner closed it
