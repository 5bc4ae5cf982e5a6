"""Generic "compute what the cache lacks" driver shared by every kind of cached result.

A *kind* (``"p1_run"`` for trained P1 models, ``"p1_eval"``/``"p1_rr"`` for metrics, later
MNIST runs) registers

* ``group(configs) -> list[list[config]]``: which missing configs are computed together
  (e.g. one batched ensemble).
* ``task(kind, configs, cache_root, on_result=None) -> list[str]``: a **pure, module-level**
  function that computes one group AND stores each result in ``Cache(cache_root)`` under
  ``(kind, config)`` (atomic writes), returning the cache keys in the order of ``configs``.
  It may call ``on_result(key)`` after each stored result (in-process progress only). Being
  module-level and pure, the same task is shipped to Dask workers that share the cache
  directory: a task that dies leaves nothing partial, and running one twice is harmless.
* ``dependencies(config) -> list[(kind, config)]`` (optional): results that must exist before
  this config can be computed (e.g. the trained run an evaluation reads); they are computed
  first, recursively.
* ``splittable`` (default False): the task's results are bitwise independent of how configs
  are grouped, so a Dask sweep may split groups into smaller tasks for load balance. Kinds
  that are not splittable run the same groups as the serial sweep (hence the same bits).

:func:`compute_missing` plans the sweep (missing entries, their missing dependencies, the
groups) and runs it

* in-process, one group after the other (``scheduler=None``, the default; no Dask needed), or
* on a Dask cluster (``scheduler="local"``: a ``LocalCluster`` of worker processes on this
  machine; ``"tcp://host:port"``: an existing scheduler; or a ``distributed.Client``). Each
  group is one task (groups of splittable kinds are split further, to at least
  ``TASKS_PER_THREAD`` tasks per worker thread); a task waits only for the groups that
  produce its own dependencies, so evaluations start while other models still train.
  Workers write straight into the cache, which must therefore be a path every worker
  reaches under the same name (a shared filesystem, ``$KAG_CACHE_DIR``). Dask reschedules
  the tasks of a worker that dies; the results are those of the serial sweep, bit for bit.

Either way, every planned entry is checked afterwards (it must exist and load), and an
interrupted sweep resumes where it stopped: whatever was stored is not recomputed.

Clusters are started lazily, once per process and scheduler string (a notebook calls
``ensure_runs``/``evaluate`` many times), and closed when the process exits; a sweep that
finds everything cached never starts one.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib
import importlib.util
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..version import __version__
from .cache import Cache, canonical

GroupFn = Callable[[list], list]
TaskFn = Callable[..., list]
DepsFn = Callable[[Any], list]

#: A Dask sweep splits the groups of a splittable kind until there are at least this many
#: per worker thread (load balance).
TASKS_PER_THREAD = 2
#: Worker processes of ``scheduler="local"`` when neither ``local:N`` nor $KAG_DASK_WORKERS says.
DEFAULT_LOCAL_WORKERS = 2
#: Thread settings of LocalCluster worker processes: parallelism comes from processes.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1"}


@dataclass(frozen=True)
class KindSpec:
    kind: str
    group: GroupFn
    task: TaskFn
    dependencies: DepsFn | None = None
    splittable: bool = False


_KINDS: dict[str, KindSpec] = {}
# The package's kinds and the module that registers each on import, so a worker or caller
# need not import it first (tests/test_architecture.py checks that every kind is listed).
KIND_MODULES = {"p1_run": "kag_utils.p1.runs", "p1_rr": "kag_utils.p1.evaluation",
                "p1_eval": "kag_utils.p1.evaluation", "p1_alive": "kag_utils.p1.dead_neurons",
                "p1_layers": "kag_utils.p1.depth",
                "mnist_run": "kag_utils.mnist.models",
                "mnist_eval": "kag_utils.mnist.evaluation",
                "mnist_spatial": "kag_utils.mnist.evaluation",
                "mnist_timeline": "kag_utils.mnist.evaluation"}


def register_kind(kind: str, *, group: GroupFn, task: TaskFn,
                  dependencies: DepsFn | None = None, splittable: bool = False) -> KindSpec:
    """Register (or re-register) how results of ``kind`` are grouped and computed."""
    if not callable(group) or not callable(task):
        raise ValueError("group and task must be callables")
    if getattr(task, "__qualname__", "").count("<") or "." in getattr(task, "__qualname__", ""):
        raise ValueError(f"task for {kind!r} must be a module-level function (picklable by name)")
    spec = KindSpec(kind, group, task, dependencies, bool(splittable))
    _KINDS[kind] = spec
    return spec


def registered_kinds() -> list[str]:
    """The kinds registered so far in this process."""
    return sorted(_KINDS)


def get_kind(kind: str) -> KindSpec:
    if kind not in _KINDS and kind in KIND_MODULES:
        importlib.import_module(KIND_MODULES[kind])
    if kind not in _KINDS:
        raise ValueError(f"no sweep kind {kind!r} is registered; known: "
                         f"{', '.join(sorted(set(_KINDS) | set(KIND_MODULES)))}")
    return _KINDS[kind]


def _ident(config: Any) -> str:
    return repr(canonical(config))


def unique(configs: Sequence[Any]) -> list[Any]:
    """Configs without duplicates (by canonical content), first occurrence order."""
    seen, out = set(), []
    for c in configs:
        k = _ident(c)
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


def find_missing(kind: str, configs: Sequence[Any], cache: Cache) -> list[Any]:
    """Configs without a valid cache entry (a corrupt entry is quarantined and counts as missing)."""
    return [c for c in unique(configs) if not cache.contains(kind, c)]


def split_groups(groups: Sequence[Sequence[Any]], min_groups: int) -> list[list[Any]]:
    """Halve the largest group (first of equals) until there are ``min_groups`` groups or
    every group is a single config. Deterministic; keeps the order of the members."""
    out = [list(g) for g in groups if len(g)]
    while len(out) < min_groups:
        i = max(range(len(out)), key=lambda j: len(out[j]), default=None)
        if i is None or len(out[i]) < 2:
            break
        g = out[i]
        half = (len(g) + 1) // 2
        out[i:i + 1] = [g[:half], g[half:]]
    return out


# ------------------------------------------------------------------------------- planning
@dataclass
class Node:
    """One group task of a sweep: ``configs`` of ``kind``, after the nodes ``deps``."""
    kind: str
    configs: list
    deps: list[int]
    top: bool                        # computes configs the caller asked for (not dependencies)
    keys: list[str] = field(default_factory=list)


@dataclass
class Plan:
    nodes: list[Node] = field(default_factory=list)
    producer: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def entries(self) -> list[tuple[str, Any]]:
        return [(n.kind, c) for n in self.nodes for c in n.configs]

    def summary(self) -> str:
        counts: dict[str, list[int]] = {}
        for n in self.nodes:
            c = counts.setdefault(n.kind, [0, 0])
            c[0] += len(n.configs)
            c[1] += 1
        return ", ".join(f"{k} {e} in {g} task{'s' * (g != 1)}" for k, (e, g) in counts.items())


def plan_sweep(kind: str, configs: Sequence[Any], cache: Cache,
               min_groups: int | Callable[[], int] = 0) -> Plan:
    """The group tasks that compute every missing ``(kind, config)`` and, first, their missing
    dependencies. Nodes are in a valid execution order (the serial order: all dependencies of
    a kind before it, each kind grouped once per level). ``min_groups``: split the groups of
    each splittable kind to at least this many (see :func:`split_groups`); a callable is
    called once, when first needed (so nothing is asked of a cluster when nothing is
    missing)."""
    plan = Plan()
    if callable(min_groups):
        provider, memo = min_groups, []

        def min_groups() -> int:
            if not memo:
                memo.append(int(provider()))
            return memo[0]
    else:
        value = int(min_groups)
        min_groups = lambda: value  # noqa: E731
    _plan(kind, configs, cache, plan, min_groups, top=True)
    return plan


def _plan(kind: str, configs: Sequence[Any], cache: Cache, plan: Plan,
          min_groups: Callable[[], int], top: bool) -> None:
    spec = get_kind(kind)
    missing = [c for c in unique(configs)
               if (kind, _ident(c)) not in plan.producer and not cache.contains(kind, c)]
    if not missing:
        return
    deps_of = {}
    if spec.dependencies is not None:
        needed: dict[str, list] = {}
        for c in missing:
            deps_of[_ident(c)] = list(spec.dependencies(c))
            for dep_kind, dep in deps_of[_ident(c)]:
                needed.setdefault(dep_kind, []).append(dep)
        for dep_kind, deps in needed.items():
            _plan(dep_kind, deps, cache, plan, min_groups, top=False)
    groups = spec.group(missing)
    if sorted(_ident(c) for g in groups for c in g) != sorted(_ident(c) for c in missing):
        raise RuntimeError(f"group function of {kind!r} must partition the missing configs")
    if spec.splittable:
        groups = split_groups(groups, min_groups())
    for group in groups:
        deps = sorted({plan.producer[(dk, _ident(d))] for c in group
                       for dk, d in deps_of.get(_ident(c), [])
                       if (dk, _ident(d)) in plan.producer})
        index = len(plan.nodes)
        plan.nodes.append(Node(kind, list(group), deps, top,
                               [cache.key(kind, c) for c in group]))
        for c in group:
            plan.producer[(kind, _ident(c))] = index


# ------------------------------------------------------------------------------ the driver
def compute_missing(kind: str, configs: Sequence[Any], cache: Cache | None = None,
                    progress: bool = True, scheduler: Any = None) -> list[str]:
    """Compute and store every config of ``kind`` that ``cache`` lacks; return their keys.

    Dependencies are computed first. ``scheduler``: None runs the group tasks here, one after
    the other; ``"local"`` (or ``"local:N"``) a LocalCluster of N worker processes on
    127.0.0.1 (N from $KAG_DASK_WORKERS, default 2); ``"tcp://host:port"`` an existing Dask
    scheduler; or a ``distributed.Client``. Results are identical either way. Raises
    RuntimeError naming the entries that are missing or unreadable afterwards."""
    cache = cache if cache is not None else Cache()
    check_scheduler(scheduler)
    get_kind(kind)
    if scheduler is None:
        plan = plan_sweep(kind, configs, cache)
        if plan.nodes:
            _run_serial(plan, cache, progress)
    else:
        # The cluster is reached only once something is missing (a cached sweep starts none).
        plan = plan_sweep(kind, configs, cache,
                          lambda: TASKS_PER_THREAD * _total_threads(get_client(scheduler)))
        if plan.nodes:
            _run_dask(plan, cache, progress, get_client(scheduler))
    if not plan.nodes:
        return []
    _verify(plan, cache)
    return [key for n in plan.nodes if n.top and n.kind == kind for key in n.keys]


def compute_and_load(kind: str, configs: Sequence[Any], cache: Cache | None = None,
                     progress: bool = True, scheduler: Any = None) -> list[Any]:
    """:func:`compute_missing`, then the cached payload of every config, in order. Raises
    RuntimeError naming the config whose entry cannot be read back (e.g. removed meanwhile)."""
    cache = cache if cache is not None else Cache()
    compute_missing(kind, configs, cache, progress=progress, scheduler=scheduler)
    payloads = []
    for config in configs:
        payload = cache.load(kind, config)
        if payload is None:
            raise RuntimeError(f"{kind} entry {_ident(config)[:200]} is missing after computing "
                               f"it; is the cache {cache.root} writable?")
        payloads.append(payload)
    return payloads


def _verify(plan: Plan, cache: Cache) -> None:
    bad = [(k, c) for k, c in plan.entries if not cache.contains(k, c)]
    if bad:
        shown = "; ".join(f"{k} {cache.key(k, c)} ({_ident(c)[:120]})" for k, c in bad[:5])
        raise RuntimeError(
            f"{len(bad)} of {len(plan.entries)} cache entries are missing or unreadable after "
            f"the sweep: {shown}{' ...' if len(bad) > 5 else ''}. With Dask workers, is the "
            f"cache {cache.root} a filesystem every worker shares under this path "
            "($KAG_CACHE_DIR), and do they run this kag_utils version?")


def _terminal_stream():
    """Under ``kag-run`` ($KAG_PROGRESS=terminal): a text stream to the terminal that started
    the notebook's kernel (inside an IPython kernel, stderr's fileno() is the kernel's original
    stderr), else None. The caller closes it."""
    if os.environ.get("KAG_PROGRESS") != "terminal" or sys.stderr is None:
        return None
    if sys.stderr is sys.__stderr__:
        return None  # not in a kernel: stderr already is the terminal
    try:
        return open(os.dup(sys.stderr.fileno()), "w", buffering=1)  # noqa: SIM115
    except (OSError, ValueError, AttributeError):
        pass
    try:  # a kernel that does not capture fd 2 (e.g. under pytest): fd 2 is the terminal
        return open(os.dup(sys.__stderr__.fileno()), "w", buffering=1)  # noqa: SIM115
    except (OSError, ValueError, AttributeError):
        return None


def _say(message: str) -> None:
    """Print to the notebook (stdout) and, under kag-run, to the terminal as well."""
    print(message, flush=True)
    stream = _terminal_stream()
    if stream is not None:
        with stream:
            stream.write(message + "\n")


def _progress_bar(total: int, desc: str, progress: bool):
    """A tqdm bar. Under ``kag-run`` ($KAG_PROGRESS=terminal) it goes to the terminal that
    started the notebook's kernel, not into the executed notebook."""
    from tqdm.auto import tqdm

    stream = _terminal_stream() if progress else None
    if stream is not None:
        from tqdm import tqdm as text_tqdm

        bar = text_tqdm(total=total, desc=desc, unit="item", file=stream, leave=True,
                        dynamic_ncols=True, mininterval=1.0)
        bar_close = bar.close

        def close():
            bar_close()
            stream.close()
        bar.close = close  # type: ignore[method-assign]
        return bar
    return tqdm(total=total, desc=desc, unit="item", disable=not progress, leave=False)


def _run_serial(plan: Plan, cache: Cache, progress: bool) -> None:
    start = time.perf_counter()
    bar = _progress_bar(len(plan.entries), f"sweep: {plan.summary()}", progress)
    try:
        for node in plan.nodes:
            get_kind(node.kind).task(node.kind, list(node.configs), str(cache.root),
                                     on_result=lambda _key: bar.update(1))
    finally:
        bar.close()
    if progress:
        _say(f"[kag sweep] {plan.summary()}: done in-process in "
             f"{time.perf_counter() - start:.1f} s")


# ----------------------------------------------------------------------------------- Dask
_LOCAL = re.compile(r"^local(?::(\d+))?$")
_ADDRESS = re.compile(r"^([a-z]+://\S+|[\w.\-]+:\d+)$")
_CLIENTS: dict[str, Any] = {}


def check_scheduler(scheduler: Any) -> None:
    """Raise ValueError for a scheduler that is none of None, "local", "local:N", a scheduler
    address ("tcp://host:port") or a ``distributed.Client`` (checked without connecting)."""
    if scheduler is None or _is_client(scheduler):
        return
    if isinstance(scheduler, str) and (_LOCAL.match(scheduler) or _ADDRESS.match(scheduler)):
        return
    raise ValueError(f"unknown scheduler {scheduler!r}: use None (in-process), 'local' or "
                     "'local:N' (a LocalCluster of N worker processes), a scheduler address "
                     "like 'tcp://host:8786', or a distributed.Client")


def _is_client(obj: Any) -> bool:
    return type(obj).__name__ == "Client" and type(obj).__module__.startswith("distributed")


def local_workers(scheduler: str = "local") -> int:
    m = _LOCAL.match(scheduler)
    n = m.group(1) if m and m.group(1) else os.environ.get("KAG_DASK_WORKERS",
                                                           DEFAULT_LOCAL_WORKERS)
    try:
        n = int(n)
        if n < 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"the number of local Dask workers must be a positive integer, "
                         f"got {n!r} (scheduler 'local:N' or $KAG_DASK_WORKERS)") from None
    return n


def get_client(scheduler: Any):
    """The Dask client for ``scheduler``, created once per process and closed at exit."""
    check_scheduler(scheduler)
    if scheduler is None:
        raise ValueError("scheduler=None runs in-process; there is no client")
    if _is_client(scheduler):
        return scheduler
    client = _CLIENTS.get(scheduler)
    if client is not None and client.status == "running":
        return client
    from distributed import Client

    if _LOCAL.match(scheduler):
        from distributed import LocalCluster

        n = local_workers(scheduler)
        try:
            import bokeh  # noqa: F401 - the dashboard needs it
            dashboard = True
        except ImportError:
            dashboard = False
        # Everything on the loopback interface; the scheduler's HTTP server (and dashboard)
        # on a free port.
        import dask

        saved = dict(os.environ)
        try:
            # Not Dask's MALLOC_TRIM_THRESHOLD_: it pins glibc's mmap threshold, so every
            # tensor above 128 KiB is mmapped and unmapped again (3x slower training here).
            # Without a dashboard nobody reads the workers' statistical profiles: skip them.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_":
                                  None, "distributed.worker.profile.enabled": dashboard}):
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                       scheduler_kwargs={"dashboard": dashboard},
                                       env=dict(WORKER_ENV))
        finally:
            # The nannies set their workers' thread variables (OMP_NUM_THREADS=1, ...) in this
            # process's environment before spawning them: undo that for this process and for
            # what it starts later (e.g. kag-run's notebook kernels).
            for k in set(os.environ) | set(saved):
                if os.environ.get(k) != saved.get(k):
                    if k in saved:
                        os.environ[k] = saved[k]
                    else:
                        del os.environ[k]
        client = Client(cluster)
        plural = "es" if n != 1 else ""
        where = f"LocalCluster at {cluster.scheduler_address} ({n} worker process{plural})"
        link = client.dashboard_link if dashboard else "none (install bokeh for it)"
    else:
        client = Client(scheduler, timeout="30s")
        n = len(client.scheduler_info()["workers"])
        where = f"scheduler {scheduler} ({n} worker{'s' * (n != 1)} now)"
        try:
            dashboard = client.run_on_scheduler(_scheduler_has_dashboard)
        except Exception:  # noqa: BLE001 - informational only
            dashboard = True
        link = client.dashboard_link if dashboard else "none (no bokeh on the scheduler)"
    if not _CLIENTS:
        atexit.register(close_clients)
    _CLIENTS[scheduler] = client
    _say(f"[kag sweep] Dask: {where}; dashboard: {link}")
    return client


def _scheduler_has_dashboard() -> bool:
    return importlib.util.find_spec("bokeh") is not None


def has_client(scheduler: str) -> bool:
    """Whether this process already holds a running client for ``scheduler``."""
    client = _CLIENTS.get(scheduler)
    return client is not None and client.status == "running"


def is_local(scheduler: Any) -> bool:
    """Whether ``scheduler`` asks for a LocalCluster ("local" or "local:N")."""
    return isinstance(scheduler, str) and bool(_LOCAL.match(scheduler))


def close_client(scheduler: str) -> None:
    """Close the client this process made for ``scheduler`` (and its LocalCluster)."""
    client = _CLIENTS.pop(scheduler, None)
    if client is None:
        return
    cluster = getattr(client, "cluster", None)
    try:
        client.close()
        if cluster is not None:
            cluster.close()
    except Exception:  # noqa: BLE001 - best effort (also at exit)
        pass


def close_clients() -> None:
    """Close every client (and LocalCluster) this process started."""
    for scheduler in list(_CLIENTS):
        close_client(scheduler)


def _total_threads(client) -> int:
    workers = client.scheduler_info()["workers"].values()
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers))


_MALLOC_TUNED = False


def _tune_malloc() -> None:
    """Let glibc keep freed tensor memory for reuse (once per process). A Dask nanny starts
    its workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes the mmap threshold at
    128 KiB: every larger tensor is then mmapped and unmapped again, and the P1 trainer
    spends most of its time in page faults (3x slower). These are glibc's own dynamic limits."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)
        libc.mallopt(m_trim_threshold, 64 << 20)
    except (OSError, AttributeError):  # not glibc
        pass


def run_group_task(task: TaskFn, kind: str, configs: list, cache_root: str, version: str,
                   *after: Any) -> list[str]:
    """What a Dask worker runs for one group (``after``: results of the groups it waits for).
    Pins one torch and one numba thread (parallelism comes from worker processes) and tunes
    malloc (see :func:`_tune_malloc`); results do not depend on either."""
    if version != __version__:
        raise RuntimeError(f"this worker runs kag_utils {__version__}, the sweep expects "
                           f"{version}: install the same version on every worker")
    import torch

    _tune_malloc()
    torch.set_num_threads(1)
    try:
        from ..core.rotations import numba_available
        if numba_available():
            import numba
            numba.set_num_threads(1)
            # numba re-reads NUMBA_NUM_THREADS whenever it compiles and refuses a value other
            # than the size of the thread pool it launched; a paper run on 2 workers once died
            # so ("currently have 1, trying to set 2"). Keep the variable at the pool's size.
            os.environ["NUMBA_NUM_THREADS"] = str(numba.config.NUMBA_NUM_THREADS)
    except Exception:  # noqa: BLE001 - numba is optional for every kind
        pass
    keys = task(kind, list(configs), cache_root)
    return list(keys)


def _task_name(node: Node, token: str) -> str:
    digest = hashlib.sha256("".join(sorted(node.keys)).encode()).hexdigest()[:12]
    return f"kag-{node.kind}-{len(node.configs)}-{digest}-{token}"


def _run_dask(plan: Plan, cache: Cache, progress: bool, client) -> None:
    from distributed import as_completed

    root = os.path.abspath(str(cache.root))
    token = uuid.uuid4().hex[:8]
    futures = []
    for node in plan.nodes:
        spec = get_kind(node.kind)
        futures.append(client.submit(
            run_group_task, spec.task, node.kind, list(node.configs), root, __version__,
            *[futures[j] for j in node.deps], key=_task_name(node, token), pure=False))
    node_of = {f.key: n for f, n in zip(futures, plan.nodes)}
    start = time.perf_counter()
    bar = _progress_bar(len(plan.entries), f"sweep on Dask: {plan.summary()}", progress)
    future = None
    try:
        for future in as_completed(futures):
            node = node_of[future.key]
            try:
                keys = future.result()
            except Exception as exc:
                raise RuntimeError(f"sweep task {future.key} ({node.kind}, {len(node.configs)} "
                                   f"configs) failed: {type(exc).__name__}: {exc}") from exc
            if list(keys) != node.keys:
                raise RuntimeError(f"sweep task {future.key} stored other keys than planned: "
                                   "do the workers run this kag_utils version?")
            bar.update(len(node.configs))
    finally:
        bar.close()
        client.cancel([f for f in futures if not f.done()])
        del futures, future
        # A worker killed mid-write leaves a temporary file: remove those of dead writers,
        # here and (other hosts) on every worker.
        cache.remove_stale_temps(plan.entries)
        try:
            client.run(_remove_stale_temps, root, plan.entries, on_error="ignore")
        except Exception:  # noqa: BLE001 - housekeeping only
            pass
    if progress:
        _say(f"[kag sweep] {plan.summary()}: done on Dask in {time.perf_counter() - start:.1f} s")


def _remove_stale_temps(cache_root: str, entries: list) -> int:
    return Cache(cache_root).remove_stale_temps(entries)
