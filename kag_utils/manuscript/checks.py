"""Checks before LaTeX runs: every ``\\kag`` key and ``\\kagfig`` figure the manuscript uses is
defined (or guarded by ``\\kagifnotebook``), and the generated folder is not stale."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Iterable

from .resultset import sha256
from .writer import generator_sha256, manuscript_sources


# --------------------------------------------------------------------------------------------
# checks

_COMMENT = re.compile(r"(?<!\\)%.*")
_KEY_USE = re.compile(r"\\kag\s*\{([^{}]*)\}")
_FIG_USE = re.compile(r"\\kagfig\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}")


def _strip_comments(text: str) -> str:
    return "\n".join(_COMMENT.sub("", line) for line in text.splitlines())


def _uses(tex_files: Iterable[Path], pattern: re.Pattern) -> dict[str, list[str]]:
    """Names ``pattern`` (group 1) finds in the hand-written files -> where (file:line)."""
    out: dict[str, list[str]] = {}
    for path in tex_files:
        for i, line in enumerate(_strip_comments(Path(path).read_text()).splitlines(), 1):
            for m in pattern.finditer(line):
                out.setdefault(m.group(1).strip(), []).append(f"{Path(path).name}:{i}")
    return out


def used_keys(tex_files: Iterable[Path]) -> dict[str, list[str]]:
    """``\\kag{...}`` names used by the hand-written files -> where (file:line)."""
    return _uses(tex_files, _KEY_USE)


_IFNOTEBOOK = re.compile(r"\\kagifnotebook\s*\{([^{}]*)\}\s*\{")
_IFDEF = re.compile(r"\\kagifdef\s*\{([^{}]*)\}\s*\{")


def _group_end(text: str, start: int) -> int:
    """Index just past the ``}`` closing the group whose ``{`` is at ``start - 1``."""
    depth = 1
    i = start
    while i < len(text) and depth:
        if text[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return i


def guarded_lines(tex_files: Iterable[Path], pattern: re.Pattern = _IFNOTEBOOK
                  ) -> dict[str, set[str]]:
    """``file:line`` places inside the *yes* branch of ``\\kagifnotebook{<stem>}{...}{...}``,
    by ``<stem>``: the text there is typeset only when the notebook has results, so its keys
    and figures need not exist while the notebook is pending. With ``pattern=_IFDEF`` the same
    for ``\\kagifdef{<key>}{...}{...}``, by ``<key>`` (text typeset only where the key exists)."""
    out: dict[str, set[str]] = {}
    for path in tex_files:
        text = _strip_comments(Path(path).read_text())
        for m in pattern.finditer(text):
            end = _group_end(text, m.end())
            first = text.count("\n", 0, m.end()) + 1
            last = text.count("\n", 0, end) + 1
            out.setdefault(m.group(1).strip(), set()).update(
                f"{Path(path).name}:{i}" for i in range(first, last + 1))
    return out


def done_notebooks(gen: Path) -> set[str]:
    """Notebooks with results in a generated set (its ``\\kagnotebookdone`` lines)."""
    figures = Path(gen) / "figures.tex"
    text = figures.read_text() if figures.exists() else ""
    return set(re.findall(r"\\kagnotebookdone\{([^{}]*)\}", text))


def used_figures(tex_files: Iterable[Path]) -> dict[str, list[str]]:
    """``\\kagfig{...}`` names used by the hand-written files -> where (file:line)."""
    return _uses(tex_files, _FIG_USE)


def defined_keys(gen: Path) -> set[str]:
    text = (gen / "numbers.tex").read_text()
    return set(re.findall(r"^\\kagdef\{([^{}]*)\}", text, flags=re.M))


def defined_figures(gen: Path) -> dict[str, str]:
    text = (gen / "figures.tex").read_text()
    return dict(re.findall(r"^\\kagfigfile\{([^{}]*)\}\{([^{}]*)\}", text, flags=re.M))


def check_manuscript(gen: Path, tex_files: Iterable[Path] | None = None) -> list[str]:
    """Problems of the manuscript against one generated set: keys no result defines, and
    figures that no notebook produced or whose file is missing."""
    gen = Path(gen)
    tex_files = list(tex_files) if tex_files is not None else manuscript_sources(
        gen.parent.parent)
    tex_files = [p for p in tex_files if p.suffix == ".tex"]
    problems = []
    # uses inside \kagifnotebook{<stem>}{...} of a pending notebook are never typeset
    done = done_notebooks(gen)
    hidden = set().union(*[lines for stem, lines in guarded_lines(tex_files).items()
                           if stem not in done])
    keys = defined_keys(gen)
    # and uses inside \kagifdef{<key>}{...} of a key this set does not define
    hidden |= set().union(*[lines for key, lines in guarded_lines(tex_files, _IFDEF).items()
                            if key not in keys])
    for key, where in sorted(used_keys(tex_files).items()):
        where = [w for w in where if w not in hidden]
        if where and key not in keys:
            problems.append(f"undefined result key {key!r} used at {', '.join(where)}")
    figs = defined_figures(gen)
    pdir = gen.parent.parent
    for name, where in sorted(used_figures(tex_files).items()):
        where = [w for w in where if w not in hidden]
        if not where:
            continue
        if name not in figs:
            problems.append(f"figure {name!r} used at {', '.join(where)} was not produced by any "
                            "notebook of this set")
        elif not (pdir / figs[name]).exists():
            problems.append(f"figure {name!r} used at {', '.join(where)}: file {figs[name]} is "
                            "missing")
    return problems


def check_stale(gen: Path, root: Path | None = None) -> list[str]:
    """Problems that make a generated folder out of date with its sources (see the module
    docstring): changed or missing sources, a results file it does not know, a generator that
    changed, or an output edited by hand."""
    gen = Path(gen)
    manifest_path = gen / "sources.json"
    if not manifest_path.exists():
        return [f"{gen} has no sources.json: generate it"]
    manifest = json.loads(manifest_path.read_text())
    root = root or gen.parent.parent.parent
    problems = []
    hint = (f"regenerate: python -m kag_utils.manuscript generate --params {manifest['set']}"
            + ("" if manifest.get("out") in ("..", str(root)) else f" --out {manifest.get('out')}"))
    if manifest.get("generator_sha256") != generator_sha256():
        problems.append("kag_utils/manuscript/ (the generator) changed since the files were "
                        "generated")
    known = set()
    for rel, info in manifest.get("sources", {}).items():
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        known.add(path.resolve())
        if not path.exists():
            problems.append(f"source {rel} is gone")
        elif sha256(path) != info["sha256"]:
            problems.append(f"source {rel} changed since the files were generated (newer than "
                            "them)")
    out = Path(manifest["out"]) if Path(manifest["out"]).is_absolute() else (
        gen.parent.parent / manifest["out"])
    results_dir = out / "results" / manifest["set"]
    for path in sorted(results_dir.glob("*.json")) + sorted(results_dir.glob("comparison.csv")):
        if path.resolve() not in known:
            problems.append(f"results file {path} is newer than the generated files (not "
                            "among their sources)")
    for name, digest in manifest.get("outputs", {}).items():
        path = gen / name
        if not path.exists():
            problems.append(f"generated file {name} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"generated file {name} was edited by hand")
    return [f"{p}; {hint}" for p in problems]


def typed_numbers(tex: str) -> list[str]:
    """Decimal numbers and percentages typed into manuscript prose (should be macros).
    Section numbers such as ``Sec.~3.1`` or ``(IV.5)`` are allowed."""
    text = _strip_comments(tex)
    text = re.sub(r"(Sec|App|Eq|Table|Fig|Figs|Sect)\.?~?\s*[A-Z]?\d+(\.\d+)*", "", text)
    text = re.sub(r"arXiv:\S+|\\cite\w*\{[^}]*\}|\\(ref|label|eqref)\{[^}]*\}", "", text)
    # lengths (layout, not results): 0.55\linewidth, 2.4cm, 1.12 as \arraystretch
    text = re.sub(r"\d*\.?\d+\s*(cm|mm|pt|em|ex|in|\\(line|text)(width|height))", "", text)
    text = re.sub(r"\\renewcommand\{?\\arraystretch\}?\{[^}]*\}", "", text)
    return re.findall(r"(?<![\w.{])\d+\.\d+(?![\w}])|\d+\s*\\%", text)
