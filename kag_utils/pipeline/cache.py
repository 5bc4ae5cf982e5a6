"""Content-addressed on-disk cache for trained runs and evaluated metrics.

Every entry is keyed by a hash of ``(kind, config, package version)``, so a later notebook
reuses what an earlier one computed, and changing any setting (or the package version)
computes afresh. Entries are written atomically (temporary file, fsync, rename): a process
that dies mid-write leaves no partial entry, and two processes writing the same key are
harmless (the last rename wins; both files are complete and equal in content). A process
killed mid-write (a Dask worker, say) can leave only its temporary file
``.<key>.<host>.<pid>.<random>.tmp`` next to the entry; :meth:`Cache.remove_stale_temps`
deletes those whose writer is gone (sweeps call it when they finish).

Each file carries a magic line and the SHA-256 of its body. A truncated, corrupted or
mismatching entry is never used: it is renamed to ``*.corrupt`` (kept for inspection),
a warning names it, and the caller recomputes.

Location: ``$KAG_CACHE_DIR`` if set, else ``~/.cache/kag-paper``. Any path every worker can
reach works (a shared filesystem for a cluster).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import socket
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import torch

from ..version import __version__

MAGIC = b"KAGCACHE1\n"


def default_cache_dir() -> Path:
    """``$KAG_CACHE_DIR`` if set, else ``~/.cache/kag-paper``."""
    env = os.environ.get("KAG_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kag-paper"


#: Field metadata that leaves a dataclass field out of its canonical form (and so out of every
#: cache key) while it holds its default: ``field(default=..., metadata={OMIT_IF_DEFAULT: True})``.
#: A field added this way keeps the keys of every config that existed before it.
OMIT_IF_DEFAULT = "omit_if_default"


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise ValueError(f"field {f.name!r} is marked {OMIT_IF_DEFAULT} but has no default")


def canonical(obj: Any) -> Any:
    """Turn a config into plain JSON types (dataclasses, tuples, paths) with stable order.

    A dataclass becomes the dict of its fields (as ``dataclasses.asdict`` would give, applied
    recursively), less the fields marked :data:`OMIT_IF_DEFAULT` that equal their default."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.metadata.get(OMIT_IF_DEFAULT) and value == _field_default(f):
                continue
            out[f.name] = value
        return canonical(out)
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"cache configs must hold finite numbers, got {obj!r}")
        return obj
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return canonical(obj.item())
    raise TypeError(f"cannot use {type(obj).__name__} in a cache config: {obj!r}")


def config_key(kind: str, config: Any, version: str = __version__) -> str:
    """Hex key hashed from the kind, the canonical JSON config and the package version."""
    blob = json.dumps(
        {"kind": kind, "config": canonical(config), "version": version},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _storable(obj: Any) -> Any:
    """Payload in the types ``torch.load(weights_only=True)`` accepts: numpy scalars become
    Python numbers, numpy arrays become tensors, tuples stay tuples."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: _storable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_storable(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_storable(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


class CorruptEntry(Exception):
    """Raised internally when an entry fails its integrity checks."""


class Cache:
    """An on-disk cache of payloads (nested dicts/lists of tensors and plain values).

    >>> cache = Cache("/tmp/kag-cache")
    >>> result = cache.get_or_compute("run", {"m": 32, "seed": 0}, lambda: {"w": torch.zeros(3)})
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------
    def key(self, kind: str, config: Any) -> str:
        return config_key(kind, config)

    def path(self, kind: str, config: Any) -> Path:
        if not kind.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"cache kind must be alphanumeric (with - or _), got {kind!r}")
        key = self.key(kind, config)
        return self.root / kind / key[:2] / f"{key}.pt"

    # -- reading -----------------------------------------------------------------------
    def _read(self, path: Path, kind: str, config: Any) -> Any:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            raise CorruptEntry("bad header")
        header_end = data.index(b"\n", len(MAGIC))
        digest = data[len(MAGIC):header_end].decode("ascii", "replace")
        body = data[header_end + 1:]
        if hashlib.sha256(body).hexdigest() != digest:
            raise CorruptEntry("checksum mismatch (truncated or modified)")
        try:
            record = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means corrupt
            raise CorruptEntry(f"unreadable body: {exc}") from exc
        if record.get("kind") != kind or record.get("config") != canonical(config):
            raise CorruptEntry("stored config differs from the requested one")
        return record["payload"]

    def load(self, kind: str, config: Any) -> Any | None:
        """The cached payload, or None if absent. A corrupt entry is quarantined, never used."""
        path = self.path(kind, config)
        if not path.exists():
            return None
        try:
            return self._read(path, kind, config)
        except (CorruptEntry, ValueError, OSError) as exc:
            quarantine = path.with_suffix(".corrupt")
            try:
                os.replace(path, quarantine)
            except OSError:
                pass
            warnings.warn(
                f"ignoring corrupt cache entry {path} ({exc}); moved to {quarantine.name} "
                "and recomputing", RuntimeWarning, stacklevel=2,
            )
            return None

    def contains(self, kind: str, config: Any) -> bool:
        """True when a valid entry exists (verifies its checksum)."""
        path = self.path(kind, config)
        if not path.exists():
            return False
        return self.load(kind, config) is not None

    # -- writing -----------------------------------------------------------------------
    def store(self, kind: str, config: Any, payload: Any) -> Path:
        """Write the payload atomically; return its path."""
        path = self.path(kind, config)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save({"kind": kind, "config": canonical(config), "version": __version__,
                    "payload": _storable(payload)}, buffer)
        body = buffer.getvalue()
        header = MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n"
        # The temporary name carries host and pid so a dead writer's leftover can be identified.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp",
                                   prefix=f".{path.stem}.{socket.gethostname()}.{os.getpid()}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(header)
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    # -- housekeeping ------------------------------------------------------------------
    def temp_files(self, kind: str, config: Any) -> list[Path]:
        """Temporary files of in-flight (or abandoned) writes of this entry."""
        path = self.path(kind, config)
        return sorted(path.parent.glob(f".{path.stem}.*.tmp")) if path.parent.is_dir() else []

    def remove_stale_temps(self, entries: Any) -> int:
        """Delete temporary files of the ``(kind, config)`` entries whose writer was a process
        on this host that no longer exists (a killed worker). Writes still in flight, and those
        of other hosts, are left alone. Returns how many files were removed."""
        host = socket.gethostname()
        removed = 0
        for kind, config in entries:
            for tmp in self.temp_files(kind, config):
                # .<key>.<host>.<pid>.<random>.tmp: the host may contain dots, <random> has none
                parts = tmp.name[len(self.path(kind, config).stem) + 2:-len(".tmp")].rsplit(".", 2)
                if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                    continue
                if _process_alive(int(parts[1])):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed += 1
        return removed

    def get_or_compute(self, kind: str, config: Any, compute: Callable[[], Any]) -> Any:
        """Load the entry for (kind, config), or compute, store and return it."""
        payload = self.load(kind, config)
        if payload is None:
            payload = compute()
            self.store(kind, config, payload)
        return payload



def _process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) no longer writes anything
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
