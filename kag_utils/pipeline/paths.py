"""Where the project lives: the checkout root (notebooks/ and params/) that kag-run, the
manuscript generator and the dev tools work in."""
from __future__ import annotations

from pathlib import Path


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest parent of ``start`` (default cwd) holding notebooks/
    and params/, else the checkout this package was installed from."""
    candidates = [Path(start or Path.cwd()).resolve()]
    candidates += list(candidates[0].parents)
    candidates.append(Path(__file__).resolve().parents[2])
    for path in candidates:
        if (path / "notebooks").is_dir() and (path / "params").is_dir():
            return path
    raise FileNotFoundError("cannot find the project root (a folder with notebooks/ and "
                            "params/); run kag-run from inside the kag-paper checkout or "
                            "pass --root")
