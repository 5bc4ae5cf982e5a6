"""Generic "compute what the cache lacks" driver shared by every kind of cached result.

A *kind* (``"p1_run"`` for trained P1 models; later metric evaluations, MNIST runs) registers

* ``group(configs) -> list[list[config]]``: which missing configs are computed together
  (e.g. one batched ensemble). Results must not depend on the grouping.
* ``task(kind, configs, cache_root, on_result=None) -> list[str]``: a **pure, module-level**
  function that computes one group AND stores each result in ``Cache(cache_root)`` under
  ``(kind, config)`` (atomic writes), returning the cache keys in the order of ``configs``.
  It may call ``on_result(key)`` after each stored result (in-process progress only). Being
  module-level and pure, the same task can later be shipped to Dask workers that share the
  cache directory.
* ``dependencies(config) -> list[(kind, config)]`` (optional): results that must exist before
  this config can be computed (e.g. the base run of a bootstrapped model); they are computed
  first, recursively.

``compute_missing`` finds the missing entries, groups them and runs the tasks. An interrupted
sweep resumes where it stopped: whatever was stored is not recomputed.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .cache import Cache, _canonical

GroupFn = Callable[[list], list]
TaskFn = Callable[..., list]
DepsFn = Callable[[Any], list]


@dataclass(frozen=True)
class KindSpec:
    kind: str
    group: GroupFn
    task: TaskFn
    dependencies: DepsFn | None = None


_KINDS: dict[str, KindSpec] = {}
# Kinds whose module registers them on import (so a worker or caller need not import it first).
_BUILTIN_KINDS = {"p1_run": "kag_utils.runs"}


def register_kind(kind: str, *, group: GroupFn, task: TaskFn,
                  dependencies: DepsFn | None = None) -> KindSpec:
    """Register (or re-register) how results of ``kind`` are grouped and computed."""
    if not callable(group) or not callable(task):
        raise ValueError("group and task must be callables")
    if getattr(task, "__qualname__", "").count("<") or "." in getattr(task, "__qualname__", ""):
        raise ValueError(f"task for {kind!r} must be a module-level function (picklable by name)")
    spec = KindSpec(kind, group, task, dependencies)
    _KINDS[kind] = spec
    return spec


def get_kind(kind: str) -> KindSpec:
    if kind not in _KINDS and kind in _BUILTIN_KINDS:
        importlib.import_module(_BUILTIN_KINDS[kind])
    if kind not in _KINDS:
        raise ValueError(f"no sweep kind {kind!r} is registered; known: "
                         f"{', '.join(sorted(set(_KINDS) | set(_BUILTIN_KINDS)))}")
    return _KINDS[kind]


def unique(configs: Sequence[Any]) -> list[Any]:
    """Configs without duplicates (by canonical content), first occurrence order."""
    seen, out = set(), []
    for c in configs:
        k = repr(_canonical(c))
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


def find_missing(kind: str, configs: Sequence[Any], cache: Cache) -> list[Any]:
    """Configs without a valid cache entry (a corrupt entry is quarantined and counts as missing)."""
    return [c for c in unique(configs) if not cache.contains(kind, c)]


def compute_missing(kind: str, configs: Sequence[Any], cache: Cache | None = None,
                    progress: bool = True, scheduler: Any = None) -> list[str]:
    """Compute and store every config of ``kind`` that ``cache`` lacks; return their keys.

    Dependencies are computed first. ``scheduler``: only None (run the group tasks here, one
    after the other) is implemented; a Dask client will be accepted by a later issue.
    """
    if scheduler is not None:
        raise NotImplementedError("only scheduler=None (in-process) is implemented so far")
    cache = cache if cache is not None else Cache()
    spec = get_kind(kind)
    missing = find_missing(kind, configs, cache)
    if not missing:
        return []
    if spec.dependencies is not None:
        needed: dict[str, list] = {}
        for c in missing:
            for dep_kind, dep in spec.dependencies(c):
                needed.setdefault(dep_kind, []).append(dep)
        for dep_kind, deps in needed.items():
            compute_missing(dep_kind, deps, cache, progress=progress, scheduler=scheduler)
    groups = spec.group(missing)
    if sorted(map(repr, map(_canonical, (c for g in groups for c in g)))) != \
            sorted(map(repr, map(_canonical, missing))):
        raise RuntimeError(f"group function of {kind!r} must partition the missing configs")
    from tqdm.auto import tqdm
    keys: list[str] = []
    with tqdm(total=len(missing), desc=f"{kind} ({len(groups)} groups)", unit="item",
              disable=not progress, leave=False) as bar:
        for group in groups:
            keys.extend(spec.task(kind, list(group), str(cache.root),
                                  on_result=lambda _key: bar.update(1)))
    return keys
