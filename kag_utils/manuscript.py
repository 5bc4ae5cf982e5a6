"""The reproduction manuscript (``paper/``): result macros, generated tables, the LaTeX build.

    python -m kag_utils.manuscript build [--params paper] [--out ROOT]   # generate + latexmk
    python -m kag_utils.manuscript generate [--params quick] [--out /tmp/paper_quick]
    python -m kag_utils.manuscript check [--params paper]   # keys, figures, staleness, pending
    bash scripts/paper.sh [--params paper]                   # set-up, then ``build``

The pattern is showyourwork's: computing is split from writing. The notebooks write
``<out>/results/<set>/*.json`` and ``comparison.csv`` and ``<out>/figures/<set>/``; this module
turns them into ``paper/generated/<set>/`` and the manuscript ``paper/main.tex`` reads every
number, table and figure from there. Nothing in the text is retyped.

**Macro names.** Every number of a results file becomes one entry of a lookup table, read in
the manuscript as ``\\kag{<notebook>/<key>}``: the notebook's stem, a slash, and the flat
dotted key exactly as in its results JSON, e.g. ``\\kag{01_setup/table1.xor.m32.train_r2_mean}``.
(LaTeX macro names cannot hold digits or dots; ``\\kag`` looks the name up with ``\\csname``,
which can.) Three characters cannot appear in a TeX argument and are mapped: ``%`` -> ``pct``,
a space -> ``_``, and any of ``\\ { } # ~ ^ & $`` -> ``-`` (:func:`macro_name`). A name no
result defines is a LaTeX error (``Package kag Error: Undefined result key``) and is also
caught before LaTeX runs (:func:`check_manuscript`, ``tests/test_manuscript.py``).
Besides ``numbers`` the table holds, per notebook:

- ``<nb>/<base>.pm``: ``mean +- std`` (or ``+- se``) for every key pair ``<base>.mean`` and
  ``<base>.std|.se|.sd`` (also ``<base>_mean``/``<base>_std``);
- ``<nb>/<key>.count``: the length of a list value;
- ``<nb>/param.<name>`` (and ``.count``): the notebook's parameters;
- ``<nb>/prov.<field>``: provenance (``git_commit``, ``device``, ``wall_time_s``,
  ``wall_time_min``, ``timestamp_utc``, ``versions.<package>``);

and for the whole set: ``set/name``, ``set/device``, ``set/wall_time_min``, ``set/digest``,
``set/notebooks``; one entry per comparison row, ``cmp/<slug>.{claim,source,paper,ours,
verdict,status,note,notebook}`` (verdict: agrees/disagrees; status: reproduced/not reproduced) with ``slug`` the claim lower-cased with every run of other
characters than a-z, 0-9 replaced by ``-`` (``%`` -> ``pct`` first, :func:`claim_slug`); and
tallies ``tally/<group>.{agree,disagree,total,sentence}`` for ``all``, each notebook stem and
each paper-section group (:data:`SECTION_GROUPS`).

**Rounding** depends on the kind of number and is chosen by the first glob pattern of
:data:`FORMATS` that matches the key (R^2 to 4 decimals as Table I, percentages to 3 as
Table II, participation ratios to 2 as Table III, ...; otherwise 3 significant digits).

**Staleness.** ``generated/<set>/sources.json`` records the SHA-256 of every source (results
files, comparison.csv, figures, this module); :func:`check_stale` reports a generated folder
whose sources changed since (git checkouts do not keep modification times, so content hashes
stand in for "older than"), that lacks a results file that exists now, or whose outputs were
edited by hand. The PDF carries a digest of its inputs in its metadata (:func:`pdf_digest`).
"""
from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .verdicts import COMPARABLE, VERDICTS, tally

# The manuscript's sections, in the notebooks' order: (notebook stem, title, paper sections).
NOTEBOOKS = [
    ("01_setup", "Set-up, training protocol and Table I", "P1 Sec. II-III"),
    ("02_zero_rows", "Zero rows and Table II", "P1 Sec. IV.A"),
    ("03_minor_concentration", "Minor concentration and Tables III-IV", "P1 Sec. IV.B"),
    ("04_dynamics", "Dynamics and the lambda-xor interpolation", "P1 Sec. IV.C"),
    ("05_appendices", "Appendices A-C", "P1 App. A-C"),
    ("06_mnist_spatial", "MNIST: scale-agnostic KA geometry", "P2"),
]
NOTEBOOK_STEMS = [stem for stem, _, _ in NOTEBOOKS]

# Comparison rows are grouped by the section of the paper their ``source`` points to, in this
# order: (group id, title). :func:`source_group` maps a source string to a group id.
SECTION_GROUPS = [
    ("p1-ii", "P1 Sec. II: KA geometry"),
    ("p1-iii", "P1 Sec. III: targets, training and Table I"),
    ("p1-iv-a", "P1 Sec. IV.A: zero rows"),
    ("p1-iv-b", "P1 Sec. IV.B: minor concentration"),
    ("p1-iv-c", "P1 Sec. IV.C: dynamics and interpolation"),
    ("p1-app-a", "P1 App. A: tails of the minor distributions"),
    ("p1-app-b", "P1 App. B: batch size and latent KA geometry"),
    ("p1-app-c", "P1 App. C: other interpolations"),
    ("p2", "P2: MNIST"),
    ("other", "Other claims"),
]
_FIG_GROUP = {1: "p1-ii", 2: "p1-iv-a", 3: "p1-iv-a", 4: "p1-iv-b", 5: "p1-iv-b", 6: "p1-iv-b",
              7: "p1-iv-b", 8: "p1-iv-c", 9: "p1-iv-c", 10: "p1-iv-c", 11: "p1-iv-c",
              12: "p1-iv-c", 13: "p1-app-a", 14: "p1-app-a", 15: "p1-app-b", 16: "p1-app-b",
              17: "p1-app-c", 18: "p1-app-c"}
_TABLE_GROUP = {"I": "p1-iii", "II": "p1-iv-a", "III": "p1-iv-b", "IV": "p1-iv-b"}
_SEC_GROUP = {"II": "p1-ii", "III": "p1-iii", "IV.A": "p1-iv-a", "IV.B": "p1-iv-b",
              "IV.C": "p1-iv-c"}

# Rounding by kind of number: the first pattern matching the key (without the notebook
# prefix) wins. Kinds: int, decN (N decimals), sigN (N significant digits), pctN (a fraction
# shown as a percentage with N decimals), auto (ints exact, floats 3 significant digits).
FORMATS = [
    ("*epoch*share*", "pct1"),
    ("*epoch*ratio*", "dec2"),
    ("*.features.*", "dec2"),
    ("*epoch*", "int"),
    ("critical_batch*.E_min", "int"),
    ("critical_batch*.S_min", "int"),
    ("critical_batch*B_c", "int"),
    ("critical_batch_max", "int"),
    ("param.q1s", "pctg"),
    ("param.*", "g"),
    ("prov.wall_time*", "dec1"),
    ("*r2*", "dec4"),
    ("*percentile*", "pct0"),
    ("*share*", "pct1"),
    ("table2*", "dec3"),
    ("zero_rows.*", "dec3"),
    ("*zero*over_fpr*", "dec1"),
    ("*excess*", "dec1"),
    ("table3.*", "dec2"),
    ("table4*", "dec3"),
    ("fig5*", "dec3"),
    ("fig6*", "dec3"),
    ("*pr_norm*", "dec3"),
    ("*rr*", "dec3"),
    ("*entropy*", "dec4"),
    ("*", "auto"),
]

# The Debian packages of TeX Live the build needs (verified on Debian 12 from a bare system:
# latexmk pulls texlive-base, texlive-latex-base and texlive-binaries).
APT_PACKAGES = ["latexmk", "texlive-latex-recommended"]
TEX_PROGRAMS = ["latexmk", "pdflatex", "bibtex", "kpsewhich"]
TEX_FILES = ["amsmath.sty", "amssymb.sty", "graphicx.sty", "booktabs.sty", "longtable.sty",
             "array.sty", "xcolor.sty", "caption.sty", "natbib.sty", "hyperref.sty",
             "geometry.sty", "microtype.sty", "plainnat.bst"]

PDF_NAME = "kag-reproduction"
GENERATOR = Path(__file__).resolve()


class ManuscriptError(RuntimeError):
    """Something the manuscript build cannot proceed without; the message says what to do."""


# --------------------------------------------------------------------------------------------
# names, escaping, formatting

def macro_name(notebook: str, key: str) -> str:
    """The lookup name of a result: ``<notebook>/<key>`` with ``%`` -> ``pct``, spaces -> ``_``
    and the characters a TeX argument cannot hold (``\\ { } # ~ ^ & $``) -> ``-``."""
    name = f"{notebook}/{key}" if notebook else key
    name = name.replace("%", "pct").replace(" ", "_")
    return re.sub(r"[\\{}#~^&$]", "-", name)


def claim_slug(claim: str) -> str:
    """``cmp/<slug>`` of a comparison row: lower case, ``%`` -> ``pct``, other runs -> ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", claim.lower().replace("%", "pct")).strip("-")
    return slug or "row"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                "#": r"\#", "_": r"\_", "%": r"\%", "~": r"\ensuremath{\sim}",
                "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                "|": r"\textbar{}"}


# Non-ASCII characters that appear in notes and claims, as commands of the fonts every TeX Live
# has in scalable form (a raw "±" would pull a bitmap TS1 font, which microtype cannot expand).
_TEX_UNICODE = {"±": r"\ensuremath{\pm}", "×": r"\ensuremath{\times}", "≈": r"\ensuremath{\approx}",
                "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}", "≠": r"\ensuremath{\ne}",
                "−": r"\ensuremath{-}", "→": r"\ensuremath{\to}", "←": r"\ensuremath{\leftarrow}",
                "∞": r"\ensuremath{\infty}", "√": r"\ensuremath{\surd}", "·": r"\ensuremath{\cdot}",
                "∈": r"\ensuremath{\in}", "∼": r"\ensuremath{\sim}", "°": r"\ensuremath{^\circ}",
                "²": r"\ensuremath{^2}", "³": r"\ensuremath{^3}", "ᵏ": r"\ensuremath{^k}",
                "ᵀ": r"\ensuremath{^T}", "⊙": r"\ensuremath{\odot}", "…": r"\ldots{}",
                "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "\u00a0": "~"}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta",
          "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "π": "pi", "ρ": "rho", "σ": "sigma",
          "τ": "tau", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta",
          "Θ": "Theta", "Λ": "Lambda", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"}
_TEX_UNICODE.update({c: r"\ensuremath{\%s}" % name for c, name in _GREEK.items()})


def _tex_char(c: str) -> str:
    if c in _TEX_ESCAPES:
        return _TEX_ESCAPES[c]
    if c.isascii():
        return c
    if c in _TEX_UNICODE:
        return _TEX_UNICODE[c]
    plain = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
    return tex_escape(plain) if plain else f"[U+{ord(c):04X}]"


def tex_escape(text: Any) -> str:
    """Plain text for LaTeX: special characters escaped (``~`` as "approximately", ``^`` before
    digits as a superscript), non-ASCII characters written as
    commands (±, ≤, Greek letters, ...), accented letters stripped to ASCII, anything else as
    ``[U+XXXX]``, so that the output is pure ASCII and needs no font beyond Computer Modern."""
    # notes write powers as R^2, 10^45, exp(-z^2/2): a caret before digits is a superscript
    parts = re.split(r"\^(-?\d+)", str(text))
    return "".join(("".join(_tex_char(c) for c in part) if i % 2 == 0
                    else r"\ensuremath{^{" + part + "}}") for i, part in enumerate(parts))


def format_kind(key: str) -> str:
    for pattern, kind in FORMATS:
        if fnmatch.fnmatchcase(key, pattern):
            return kind
    return "auto"


def _neg(text: str) -> str:
    return r"\ensuremath{-}" + text[1:] if text.startswith("-") else text


def _sci(value: float, sig: int = 3) -> str:
    mantissa, exponent = f"{value:.{sig - 1}e}".split("e")
    return r"\ensuremath{" + mantissa + r"\times10^{" + str(int(exponent)) + "}}"


def _group_thousands(text: str) -> str:
    head, dot, tail = text.partition(".")
    sign = "-" if head.startswith("-") else ""
    digits = head.lstrip("-")
    if len(digits) > 4:
        parts = []
        while digits:
            parts.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = "{,}".join(parts)
    return sign + digits + dot + tail


def format_number(value: float | int, kind: str = "auto") -> str:
    """One number as LaTeX text for a kind of :data:`FORMATS`."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "int" or (isinstance(value, int) and kind.startswith(("dec", "sig"))):
        return _neg(_group_thousands(f"{round(value):d}"))
    if kind.startswith("dec"):
        return _neg(_group_thousands(f"{value:.{int(kind[3:])}f}"))
    if kind == "g":
        return _neg(_group_thousands(str(value) if isinstance(value, int) else f"{value:g}"))
    if kind.startswith("pct"):
        digits = kind[3:]
        text = f"{100 * value:g}" if digits == "g" else f"{100 * value:.{int(digits)}f}"
        return _neg(text) + r"\%"
    sig = int(kind[3:]) if kind.startswith("sig") else 3
    if isinstance(value, int):
        return _neg(_group_thousands(str(value)))
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return _sci(value, sig)
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(value))))
    return _neg(_group_thousands(f"{value:.{decimals}f}"))


def format_value(key: str, value: Any) -> str:
    """A result value as LaTeX text, rounded by its kind (:data:`FORMATS`)."""
    kind = format_kind(key)
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format_number(value, kind)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(key, v) for v in value)
    return tex_escape(value)


def _decimals_for(paper_text: str, paper: float) -> int:
    """Decimals to show a paper value and ours beside it: the paper's printed decimals, at least
    3 significant digits of the paper's value."""
    printed = len(paper_text.split(".")[1]) if "." in paper_text and "e" not in paper_text else 0
    if printed > 4 and paper != 0:
        # P1 prints at most 4 decimals: this is a value derived from its tables (e.g. a ratio
        # of Table III means), shown to 3 significant digits
        printed = max(0, 2 - math.floor(math.log10(abs(paper))))
    if paper == 0:
        return max(printed, 2)
    if paper == int(paper) and abs(paper) >= 10:
        return 0
    return min(6, max(printed, 1 - math.floor(math.log10(abs(paper))), 2 if abs(paper) < 10 else 0))


def _to_float(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def comparison_cells(row: Mapping[str, str]) -> tuple[str, str]:
    """(paper, ours) of a comparison row as LaTeX text: numbers with the paper's precision
    and ``+- sd`` where given, anything else escaped."""
    paper, ours = _to_float(row.get("paper_value", "")), _to_float(row.get("ours_value", ""))
    decimals = _decimals_for(row["paper_value"], paper) if paper is not None else 3

    def cell(value_text: str, value: float | None, sd_text: str) -> str:
        if value is None:
            return tex_escape(value_text)
        text = format_number(value, f"dec{decimals}") if abs(value) >= 10 ** -decimals or \
            value == 0 else format_number(value, "sig3")
        sd = _to_float(sd_text)
        if sd is not None:
            text += r" \ensuremath{\pm} " + format_number(sd, f"dec{decimals}")
        return text

    return (cell(row["paper_value"], paper, row.get("paper_sd", "")),
            cell(row["ours_value"], ours, row.get("ours_sd", "")))


def source_group(source: str) -> str:
    """The :data:`SECTION_GROUPS` id a comparison row's source belongs to."""
    text = source.strip()
    if re.match(r"(P2|MNIST)\b", text):         # notebook 06 writes "MNIST Fig 1", ...
        return "p2"
    tokens = [(m.start(), kind, m.group(1)) for kind, pat in (
        ("table", r"Table\s+(IV|III|II|I)\b"), ("fig", r"Fig\.?\s*(\d+)"),
        ("sec", r"Sec\.?\s*(IV\.[A-C]|III|II|IV)\b"), ("app", r"App\.?\s*([ABC])\b"))
        for m in re.finditer(pat, text)]
    for _, kind, value in sorted(tokens):
        if kind == "table":
            return _TABLE_GROUP[value]
        if kind == "fig" and int(value) in _FIG_GROUP:
            return _FIG_GROUP[int(value)]
        if kind == "sec" and value in _SEC_GROUP:
            return _SEC_GROUP[value]
        if kind == "app":
            return f"p1-app-{value.lower()}"
    return "other"


# --------------------------------------------------------------------------------------------
# loading a result set

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class ResultSet:
    """The results and figures of one parameter set, as the notebooks wrote them."""

    name: str
    out: Path
    records: dict[str, dict[str, Any]]
    comparison: list[dict[str, str]]
    figures: dict[str, Path] = field(default_factory=dict)

    @property
    def results_dir(self) -> Path:
        return self.out / "results" / self.name

    @property
    def figures_dir(self) -> Path:
        return self.out / "figures" / self.name

    def source_files(self) -> list[Path]:
        files = sorted(self.results_dir.glob("*.json")) + sorted(
            Path(r["path"]) for r in self.records.values() if r.get("from_set"))
        csv_path = self.results_dir / "comparison.csv"
        return files + ([csv_path] if csv_path.exists() else []) + sorted(self.figures.values())


def load_result_set(out: str | os.PathLike, name: str) -> ResultSet:
    """Read ``<out>/results/<name>/*.json``, ``comparison.csv`` and ``<out>/figures/<name>/``.
    Notebooks the set lacks are borrowed from its fallback sets (``results.FALLBACK_SETS``:
    the paper set takes notebook 06 from ``default`` until a GPU has run the full protocol);
    their records carry ``from_set`` and their figures come from that set's folder."""
    from .results import comparison_rows, fallback_dirs, load_results, normalize_row

    out = Path(os.path.abspath(out))
    results_dir = out / "results" / name
    if not results_dir.is_dir() or not any(results_dir.glob("*.json")):
        raise ManuscriptError(
            f"no results in {results_dir}: run the notebooks first, e.g. "
            f"`kag-run --params {name} --out {out}`")
    fallback = [d for d in fallback_dirs(results_dir) if d.is_dir()]
    records = load_results(results_dir, fallback)
    csv_path = results_dir / "comparison.csv"
    rows: list[dict[str, str]] = []
    if csv_path.exists():
        with csv_path.open(newline="") as fh:
            rows = [normalize_row(r) for r in csv.DictReader(fh)]
    expected = len(comparison_rows(results_dir, fallback))
    if len(rows) != expected:
        raise ManuscriptError(
            f"{csv_path} has {len(rows)} rows but the results files hold {expected}: it is out "
            f"of date; rewrite it with `python -c \"from kag_utils.results import "
            f"write_comparison; write_comparison('{results_dir}')\"`")
    figures = {}
    for record in records.values():
        figures_dir = out / "figures" / record.get("from_set", name)
        for fig in record.get("numbers", {}).get("figures", []) or []:
            for ext in (".pdf", ".png"):
                if (figures_dir / f"{fig}{ext}").exists():
                    figures[fig] = figures_dir / f"{fig}{ext}"
                    break
    return ResultSet(name=name, out=out, records=records, comparison=rows, figures=figures)


# --------------------------------------------------------------------------------------------
# the lookup table of numbers

def _flat(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            out.update(_flat(f"{prefix}.{k}", v))
        return out
    return {prefix: value}


def _add_pm(numbers: Mapping[str, Any]) -> dict[str, str]:
    """``<base>.pm`` for every mean with a std/se/sd sibling."""
    out = {}
    for key, value in numbers.items():
        for mean_suffix, sep in ((".mean", "."), ("_mean", "_")):
            if not key.endswith(mean_suffix) or not isinstance(value, (int, float)):
                continue
            base = key[: -len(mean_suffix)]
            for spread in ("std", "se", "sd"):
                sd = numbers.get(f"{base}{sep}{spread}")
                if isinstance(sd, (int, float)) and not isinstance(sd, bool):
                    kind = format_kind(key)
                    mean_text = format_value(key, value)
                    sd_text = (format_number(sd, kind) if kind.startswith("dec")
                               else format_value(key, sd))
                    out[f"{base}.pm"] = mean_text + r"\,\ensuremath{\pm}\," + sd_text
                    break
    return out


def result_macros(rs: ResultSet) -> dict[str, str]:
    """Every lookup name of the set (see the module docstring) -> LaTeX text."""
    entries: dict[str, str] = {}
    origin: dict[str, str] = {}

    def put(notebook: str, key: str, text: str) -> None:
        name = macro_name(notebook, key)
        if name in entries and origin[name] != f"{notebook}/{key}":
            raise ManuscriptError(f"result keys {origin[name]!r} and {notebook}/{key!r} map to "
                                  f"the same macro name {name!r}: rename one of them")
        entries[name] = text
        origin[name] = f"{notebook}/{key}"

    wall = 0.0
    devices = set()
    for nb, record in rs.records.items():
        numbers = record.get("numbers", {})
        for key, value in numbers.items():
            put(nb, key, format_value(key, value))
            if isinstance(value, list):
                put(nb, f"{key}.count", str(len(value)))
        for key, text in _add_pm(numbers).items():
            if key not in numbers:
                put(nb, key, text)
        for key, value in record.get("parameters", {}).items():
            put(nb, f"param.{key}", format_value(f"param.{key}", value))
            if isinstance(value, list):
                put(nb, f"param.{key}.count", str(len(value)))
        prov = dict(record.get("provenance", {}))
        if isinstance(prov.get("wall_time_s"), (int, float)):
            wall += prov["wall_time_s"]
            prov["wall_time_min"] = prov["wall_time_s"] / 60
        if prov.get("git_commit"):
            prov["git_commit"] = str(prov["git_commit"])[:10] + (
                "+dirty" if str(prov["git_commit"]).endswith("+dirty") else "")
        if prov.get("device"):
            devices.add(prov["device"])
        for key, value in _flat("prov", prov).items():
            put(nb, key, format_value(key, value))
    put("set", "name", tex_escape(rs.name))
    put("set", "notebooks", str(len(rs.records)))
    put("set", "wall_time_min", format_number(wall / 60, "dec1"))
    put("set", "device", tex_escape(devices.pop()) if len(devices) == 1 else "several machines")

    slugs: dict[str, int] = {}
    for row in rs.comparison:
        slug = claim_slug(row["claim"])
        if slug in slugs:
            slugs[slug] += 1
            slug = f"{slug}-{slugs[slug]}"
        else:
            slugs[slug] = 1
        paper, ours = comparison_cells(row)
        for key, text in (("claim", tex_escape(row["claim"])), ("source", tex_escape(row["source"])),
                          ("paper", paper), ("ours", ours),
                          ("verdict", row["verdict"]), ("status", row["verdict"]),
                          ("note", tex_escape(row.get("note", ""))),
                          ("notebook", tex_escape(row.get("notebook", "")))):
            put("cmp", f"{slug}.{key}", text)
    for group, rows in tally_groups(rs).items():
        counts = tally(rows)
        comparable = sum(counts[v] for v in COMPARABLE)
        put("tally", f"{group}.agree", str(counts["reproduced"]))
        put("tally", f"{group}.disagree", str(comparable - counts["reproduced"]))
        put("tally", f"{group}.total", str(comparable))
        for v, n in counts.items():
            put("tally", f"{group}.{claim_slug(v)}", str(n))
        put("tally", f"{group}.sentence", tally_sentence(counts))
    return entries


def tally_sentence(counts: Mapping[str, int]) -> str:
    """'12 of 15 comparisons reproduced (2 not reproduced, 1 inconclusive); 3 more not
    comparable' from verdict counts; only comparable rows count in the first number."""
    comparable = sum(counts.get(v, 0) for v in COMPARABLE)
    rest = [f"{counts[v]} {v}" for v in COMPARABLE[1:] if counts.get(v)]
    text = (f"{counts.get('reproduced', 0)} of {comparable} comparison"
            f"{'s' if comparable != 1 else ''} reproduced")
    if rest:
        text += f" ({', '.join(rest)})"
    extra = [f"{counts[v]} {v}" for v in VERDICTS if v not in COMPARABLE and counts.get(v)]
    if extra:
        text += f"; not counted: {', '.join(extra)}"
    return text


def _agrees(row: Mapping[str, str]) -> bool:
    return row.get("verdict") == "reproduced"


def tally_groups(rs: ResultSet) -> dict[str, list[dict[str, str]]]:
    """Comparison rows by ``all``, by notebook stem and by paper-section group (all present)."""
    groups: dict[str, list[dict[str, str]]] = {"all": list(rs.comparison)}
    for stem in NOTEBOOK_STEMS + sorted(set(rs.records) - set(NOTEBOOK_STEMS)):
        groups[stem] = [r for r in rs.comparison if r.get("notebook") == stem]
    for gid, _ in SECTION_GROUPS:
        groups[gid] = [r for r in rs.comparison if source_group(r["source"]) == gid]
    return groups


# --------------------------------------------------------------------------------------------
# generated tables

def _num(rs: ResultSet, nb: str, key: str) -> Any:
    return rs.records.get(nb, {}).get("numbers", {}).get(key)


def _fmt(rs: ResultSet, nb: str, key: str) -> str:
    value = _num(rs, nb, key)
    return "--" if value is None else format_value(key, value)


def _pm(rs: ResultSet, nb: str, mean_key: str, sd_key: str) -> str:
    mean, sd = _num(rs, nb, mean_key), _num(rs, nb, sd_key)
    if mean is None:
        return "--"
    text = format_value(mean_key, mean)
    if isinstance(sd, (int, float)):
        kind = format_kind(mean_key)
        text += r"\,\ensuremath{\pm}\," + (format_number(sd, kind) if kind.startswith("dec")
                                          else format_value(mean_key, sd))
    return text


def _claims(rs: ResultSet) -> dict[str, dict[str, str]]:
    return {r["claim"]: r for r in rs.comparison}


def _paper_cell(row: Mapping[str, str] | None) -> str:
    return comparison_cells(row)[0] if row else "--"


def _mark(row: Mapping[str, str] | None) -> str:
    return "" if row is None or _agrees(row) else r"\kagdiffers"


def _params(rs: ResultSet, nb: str) -> dict[str, Any]:
    return rs.records.get(nb, {}).get("parameters", {})


def _tabular(colspec: str, header: list[str], body: list[str], note: str = "") -> str:
    lines = [f"% generated by kag_utils.manuscript from results/{{set}}: do not edit",
             r"\begin{tabular}{" + colspec + "}", r"\toprule", " & ".join(header) + r" \\",
             r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]
    if note:
        lines.append(note)
    return "\n".join(lines) + "\n"


def _missing(nb: str) -> str:
    return (r"\kagpendingbox{Notebook \texttt{" + tex_escape(nb) + r"} has no results in this "
            r"parameter set.}" + "\n")


def table1(rs: ResultSet) -> str:
    """P1 Table I: training R^2 per target and width, ours and P1 (comparison rows)."""
    nb = "01_setup"
    if nb not in rs.records:
        return _missing(nb)
    p = _params(rs, nb)
    widths, targets = p.get("widths", []), p.get("targets", [])
    claims = _claims(rs)
    body = []
    for t in targets:
        rows = [claims.get(f"Table I train R2 {t}({m})") for m in widths]
        body.append(r"\texttt{" + tex_escape(t) + "} & P1 & " +
                    " & ".join(_paper_cell(r) for r in rows) + r" \\")
        body.append(" & ours & " + " & ".join(
            _pm(rs, nb, f"table1.{t}.m{m}.train_r2_mean", f"table1.{t}.m{m}.train_r2_std")
            + _mark(r) for m, r in zip(widths, rows)) + r" \\")
        body.append(" & \\textit{test} & " + " & ".join(
            _pm(rs, nb, f"table1.{t}.m{m}.test_r2_mean", f"table1.{t}.m{m}.test_r2_std")
            for m in widths) + r" \\[2pt]")
    return _tabular("ll" + "c" * len(widths), ["target", ""] + [f"$m = {m}$" for m in widths],
                    body)


_T2_ROWS = [("zero", "Zero", "Zero"), ("dep2", "Dependent(2)", "Dependent(2)"),
            ("dep3", "Dependent(3)", "Dependent(3)")]


def table2(rs: ResultSet) -> str:
    """P1 Table II: zero and dependent zero rows (%) of the width-m models, with the
    false-positive baselines q^(k) of (IV.4) evaluated for the notebook's m and q1."""
    from .metrics import false_positive_rate

    nb = "02_zero_rows"
    if nb not in rs.records:
        return _missing(nb)
    p = _params(rs, nb)
    m, q1s, targets = p.get("width", 32), p.get("q1s", []), p.get("targets", [])
    claims = _claims(rs)
    body = []
    for t in targets:
        for key, label, claim_label in _T2_ROWS:
            rows = [claims.get(f"Table II {t}({m}) {claim_label} q1={100 * q1:g}%") for q1 in q1s]
            first = r"\texttt{" + tex_escape(f"{t}({m})") + "}" if key == "zero" else ""
            body.append(f"{first} & {label} & P1 & " +
                        " & ".join(_paper_cell(r) for r in rows) + r" \\")
            body.append(" & & ours & " + " & ".join(
                _pm(rs, nb, f"table2.{t}.{key}.q{q1:g}.mean", f"table2.{t}.{key}.q{q1:g}.std")
                + _mark(r) for q1, r in zip(q1s, rows)) + (r" \\[2pt]" if key == "dep3" else r" \\"))
    body.append(r"\midrule")
    for k in (3, 2):
        body.append(f"baseline & $q^{{({k})}}$ (IV.4) & & " + " & ".join(
            format_number(100 * false_positive_rate(q1, m, k), "sig4") for q1 in q1s) + r" \\")
    return _tabular("lll" + "c" * len(q1s), ["model", "row", ""] + [f"$q^{{(1)}} = {100 * q1:g}\\%$" for q1 in q1s], body)


def table3(rs: ResultSet) -> str:
    """P1 Table III: size-k participation ratios of the largest width, with PR_max."""
    nb = "03_minor_concentration"
    if nb not in rs.records:
        return _missing(nb)
    p = _params(rs, nb)
    big = max(p.get("widths", [32]))
    claims = _claims(rs)
    body = []
    for t in list(p.get("targets", [])) + ["initial"]:
        label = "Initial" if t == "initial" else t
        rows = [claims.get(f"Table III PR {label}({big}) k={k}") for k in (1, 2, 3)]
        body.append(r"\texttt{" + tex_escape(f"{label}({big})") + "} & P1 & " +
                    " & ".join(_paper_cell(r) for r in rows) + r" \\")
        body.append(" & ours & " + " & ".join(
            _pm(rs, nb, f"table3.{t}.k{k}.mean", f"table3.{t}.k{k}.std") + _mark(r)
            for k, r in zip((1, 2, 3), rows)) + r" \\[2pt]")
    rows = [claims.get(f"Table III PR_max k={k}") for k in (1, 2, 3)]
    body.append(r"\midrule")
    body.append(r"$PR^{(k)}_{\max}$ & P1 & " + " & ".join(_paper_cell(r) for r in rows) + r" \\")
    body.append(r" & ours & " + " & ".join(
        format_number(_num(rs, nb, f"table3.pr_max.k{k}"), "dec2") + _mark(r)
        if _num(rs, nb, f"table3.pr_max.k{k}") is not None else "--"
        for k, r in zip((1, 2, 3), rows)) + r" \\")
    return _tabular("llccc", ["model", "", "$k = 1$", "$k = 2$", "$k = 3$"], body)


def table4(rs: ResultSet) -> str:
    """P1 Table IV: random rotation ratios of the toy Jacobians J1-J3."""
    nb = "03_minor_concentration"
    if nb not in rs.records:
        return _missing(nb)
    claims = _claims(rs)
    body = []
    for name, label, claim in (("J1", "$J_1$ (aligned)", "Table IV J1 (aligned) RR k={k}"),
                               ("J2", "$J_2$ (Gaussian)", "Table IV J2 RR k={k} (one random draw)"),
                               ("J3", "$J_3$ (uniform)", "Table IV J3 RR k={k} (one random draw)")):
        rows = [claims.get(claim.format(k=k)) for k in (1, 2, 3)]
        sd = "sd_over_rotation_sets" if name == "J1" else "sd"
        body.append(f"{label} & P1 & " + " & ".join(_paper_cell(r) for r in rows) + r" \\")
        cells = []
        for k, r in zip((1, 2, 3), rows):
            text = _pm(rs, nb, f"table4.{name}.k{k}.mean", f"table4.{name}.k{k}.{sd}") + _mark(r)
            pct = _num(rs, nb, f"table4.{name}.k{k}.paper_percentile")
            if pct is not None:
                text += r" {\footnotesize[" + format_number(pct, "pct0") + "]}"
            cells.append(text)
        body.append(" & ours & " + " & ".join(cells) + r" \\[2pt]")
    return _tabular("llccc", ["Jacobian", "", "$k = 1$", "$k = 2$", "$k = 3$"], body)


def early_stopping_table(rs: ResultSet) -> str:
    """Notebook 01's early-stopping ablation of random(32)."""
    nb = "01_setup"
    if nb not in rs.records:
        return _missing(nb)
    body = []
    for monitor in _params(rs, nb).get("es_monitors", []):
        base = f"early_stopping.{monitor}"
        body.append(r"\texttt{" + tex_escape(monitor) + "} & " + " & ".join([
            _pm(rs, nb, f"{base}.train_r2_mean", f"{base}.train_r2_std"),
            _fmt(rs, nb, f"{base}.test_r2_mean"), _fmt(rs, nb, f"{base}.epochs_mean"),
            *[_fmt(rs, nb, f"{base}.pr_norm_k{k}_mean") for k in (1, 2, 3)]]) + r" \\")
    return _tabular("lcccccc", ["monitor", "train $R^2$", "test $R^2$", "epochs",
                                r"$\widehat{PR}^{(1)}$", r"$\widehat{PR}^{(2)}$",
                                r"$\widehat{PR}^{(3)}$"], body)


VERDICT_MARKS = {"reproduced": r"\kagyes", "not reproduced": r"\kagno",
                 "inconclusive": r"\kaginconclusive", "protocol-dependent": r"\kagprotocol",
                 "not comparable": r"\kagnotcomparable", "new result": r"\kagnew"}


def _verdict(row: Mapping[str, str]) -> str:
    return VERDICT_MARKS[row["verdict"]]


def grouped_rows(rs: ResultSet) -> list[tuple[str, str, list[dict[str, str]]]]:
    """(group id, title, rows) in :data:`SECTION_GROUPS` order, non-empty groups only."""
    out = []
    for gid, title in SECTION_GROUPS:
        rows = [r for r in rs.comparison if source_group(r["source"]) == gid]
        if rows:
            out.append((gid, title, rows))
    return out


def wording_table() -> str:
    """Table of the wording tolerances (verdicts.WORDING_TOLERANCE), the one place they live."""
    from .verdicts import WORDING_TOLERANCE
    body = []
    for word, tol in WORDING_TOLERANCE.items():
        allowed = (f"{tol.log10:g} decades" if tol.log10 is not None
                   else f"{100 * tol.relative:g}\\% of the paper's value")
        body.append(f"{tex_escape(word)} & {allowed} & {tex_escape(tol.reading)} \\\\")
    return ("% generated by kag_utils.manuscript from kag_utils.verdicts: do not edit\n"
            "\\begin{table}[htbp]\\centering\\small\n"
            "\\caption{Tolerances set by the papers' wording (\\texttt{WORDING\\_TOLERANCE}), "
            "added to two combined standard errors and half the last printed digit.}"
            "\\label{tab:wording}\n"
            + _tabular("llp{0.5\\linewidth}", ["wording", "allowed", "reading"], body)
            + "\\end{table}\n")


def appendix_table(rs: ResultSet) -> str:
    """The reproduction report: every comparison row, grouped by paper section, with tallies."""
    rows = rs.comparison
    lines = ["% generated by kag_utils.manuscript from results/<set>/comparison.csv: do not edit",
             f"% {len(rows)} rows: {tally_sentence(tally(rows))}",
             r"\begingroup\footnotesize\setlength{\tabcolsep}{3pt}",
             r"\newcolumntype{R}[1]{>{\raggedright\hspace{0pt}}p{#1}}",
             r"\begin{longtable}{@{}R{0.2\linewidth}R{0.095\linewidth}R{0.13\linewidth}"
             r"R{0.14\linewidth}c>{\raggedright\arraybackslash\hspace{0pt}}p{0.3\linewidth}@{}}",
             r"\toprule claim & source & paper & ours & verdict & note \\ \midrule \endfirsthead",
             r"\toprule claim & source & paper & ours & verdict & note \\ \midrule \endhead",
             r"\midrule \multicolumn{6}{r}{\emph{continued}} \\ \endfoot",
             r"\bottomrule \endlastfoot"]
    for gid, title, group in grouped_rows(rs):
        lines.append(r"\multicolumn{6}{@{}l}{\rule{0pt}{2.6ex}\textbf{" + tex_escape(title) +
                     r"} \quad (" + tally_sentence(tally(group)) + r")} \\*[1pt]")
        for r in group:
            paper, ours = comparison_cells(r)
            lines.append(f"% row: {claim_slug(r['claim'])}")
            lines.append(" & ".join([tex_escape(r["claim"]), tex_escape(r["source"]), paper, ours,
                                     _verdict(r), tex_escape(r.get("note", ""))]) + r" \\")
    lines.append(r"\midrule")
    lines.append(r"\multicolumn{6}{@{}l}{\textbf{All rows}\quad " +
                 tally_sentence(tally(rows)) + r"} \\")
    lines += [r"\end{longtable}", r"\endgroup"]
    return "\n".join(lines) + "\n"


def notebook_comparison_table(rs: ResultSet, nb: str) -> str:
    """A compact table of one notebook's comparison rows (claim, paper, ours, agrees)."""
    rows = [r for r in rs.comparison if r.get("notebook") == nb]
    if not rows:
        return ""
    lines = [r"\begingroup\small",
             r"\newcolumntype{R}[1]{>{\raggedright\hspace{0pt}}p{#1}}",
             r"\begin{longtable}{@{}R{0.5\linewidth}R{0.17\linewidth}R{0.17\linewidth}c@{}}",
             r"\toprule claim & paper & ours & verdict \\ \midrule \endhead",
             r"\bottomrule \endlastfoot"]
    for r in rows:
        paper, ours = comparison_cells(r)
        lines.append(" & ".join([tex_escape(r["claim"]), paper, ours, _verdict(r)]) + r" \\")
    lines += [r"\end{longtable}", r"\endgroup"]
    return "\n".join(lines) + "\n"


def disagreements(rs: ResultSet) -> str:
    """An itemised list of the comparable rows that are not reproduced (not reproduced,
    inconclusive, protocol-dependent), grouped, each with its verdict and note."""
    lines = ["% generated by kag_utils.manuscript: do not edit"]
    groups = [(gid, title, [r for r in rows if r["verdict"] in COMPARABLE[1:]])
              for gid, title, rows in grouped_rows(rs)]
    groups = [g for g in groups if g[2]]
    if not groups:
        return lines[0] + "\nEvery comparison row agrees with the paper.\n"
    lines.append(r"\begin{description}\small")
    for gid, title, rows in groups:
        lines.append(r"\item[" + tex_escape(title) + "]" + r"\leavevmode\vspace{-\parskip}")
        lines.append(r"\begin{itemize}")
        for r in rows:
            paper, ours = comparison_cells(r)
            lines.append(r"\item " + tex_escape(r["claim"]) + f" ({r['verdict']}; paper {paper}, "
                         f"ours {ours}): "
                         + (tex_escape(r.get("note", "")) or "no note"))
        lines.append(r"\end{itemize}")
    lines.append(r"\end{description}")
    return "\n".join(lines) + "\n"


def provenance_table(rs: ResultSet) -> str:
    """Per notebook: results file hash, commit, device, wall time, timestamp."""
    body = []
    for nb, record in rs.records.items():
        prov = record.get("provenance", {})
        path = rs.results_dir / f"{nb}.json"
        commit = str(prov.get("git_commit") or "unknown")
        body.append(" & ".join([
            r"\texttt{" + tex_escape(nb) + "}",
            r"\texttt{" + sha256(path)[:12] + "}" if path.exists() else "--",
            r"\texttt{" + tex_escape(commit[:10] + ("+dirty" if commit.endswith("+dirty") else ""))
            + "}",
            tex_escape(prov.get("device", "?")),
            format_number(prov.get("wall_time_s", 0) / 60, "dec1") if isinstance(
                prov.get("wall_time_s"), (int, float)) else "--",
            tex_escape(prov.get("timestamp_utc", "?"))]) + r" \\")
    return _tabular("@{}llllrl@{}", ["notebook", "results sha256", "commit", "device", "min",
                                     "finished (UTC)"], body)


def parameters_table(rs: ResultSet) -> str:
    """Every notebook's parameters, as run."""
    lines = [r"\begingroup\footnotesize",
             r"\begin{longtable}{@{}p{0.24\linewidth}p{0.24\linewidth}p{0.44\linewidth}@{}}",
             r"\toprule notebook & parameter & value \\ \midrule \endhead",
             r"\bottomrule \endlastfoot"]
    for nb, record in rs.records.items():
        first = True
        for key, value in record.get("parameters", {}).items():
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            lines.append((r"\texttt{" + tex_escape(nb) + "}" if first else "") + " & " +
                         r"\texttt{" + tex_escape(key) + "} & " + tex_escape(text) + r" \\")
            first = False
    lines += [r"\end{longtable}", r"\endgroup"]
    return "\n".join(lines) + "\n"


def notebook_auto_section(rs: ResultSet, nb: str) -> str:
    """Interim content for a notebook the prose does not cover yet: its figures (generic
    captions) and its comparison rows."""
    record = rs.records[nb]
    lines = [f"% generated by kag_utils.manuscript for {nb}: do not edit",
             r"\paragraph{Results of \texttt{" + tex_escape(nb) + r"} (generated).}",
             tex_escape(f"The notebook recorded {len(record.get('numbers', {}))} numbers and "
                        f"{len([r for r in rs.comparison if r.get('notebook') == nb])} comparison "
                        f"rows with parameter set '{record.get('from_set', rs.name)}'; its "
                        f"figures and comparisons follow.")]
    if record.get("from_set"):
        lines.append(r"\kagpendingbox{" + tex_escape(
            f"These results come from the '{record['from_set']}' parameter set: the "
            f"'{rs.name}' set has not run this notebook yet (its full protocol needs a GPU).")
            + "}")
    for fig in record.get("numbers", {}).get("figures", []) or []:
        if fig not in rs.figures:
            continue
        lines += [r"\begin{figure}[htbp]\centering",
                  r"\kagfig[width=\linewidth,height=0.4\textheight,keepaspectratio]{" + fig + "}",
                  r"\caption{\texttt{" + tex_escape(fig) + r"} from notebook \texttt{" +
                  tex_escape(nb) + r"} (generated caption).}",
                  r"\end{figure}"]
    lines.append(notebook_comparison_table(rs, nb))
    return "\n".join(lines) + "\n"


def pending_notebooks(rs: ResultSet) -> list[str]:
    """Notebooks of the manuscript (:data:`NOTEBOOKS`) without results in this set."""
    return [stem for stem in NOTEBOOK_STEMS if stem not in rs.records]


# --------------------------------------------------------------------------------------------
# generation

def project_root() -> Path:
    from .runner import find_root

    return find_root()


def paper_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "paper"


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when it lies in the project (``base``'s parent), so that
    committed generated files do not hold this machine's paths; else absolute."""
    path, base = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    return os.path.relpath(path, base) if path.is_relative_to(base.parent) else str(path)


def manuscript_sources(pdir: Path) -> list[Path]:
    """The hand-written manuscript files (scanned for keys, part of the PDF digest)."""
    return sorted(p for p in pdir.glob("*.tex")) + sorted(pdir.glob("*.sty")) + sorted(
        pdir.glob("*.bib"))


def input_digest(rs: ResultSet, pdir: Path) -> str:
    """SHA-256 over the results, figures, generator and hand-written manuscript files."""
    h = hashlib.sha256()
    for path in rs.source_files() + [GENERATOR] + manuscript_sources(pdir):
        h.update(path.name.encode() + b"\0" + sha256(path).encode() + b"\n")
    return h.hexdigest()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


def render(rs: ResultSet, pdir: Path) -> dict[str, str]:
    """All generated files of a set, relative path -> text (nothing written)."""
    macros = result_macros(rs)
    digest = input_digest(rs, pdir)
    macros[macro_name("set", "digest")] = digest[:16]
    header = (f"% generated by kag_utils.manuscript from {_rel(rs.results_dir, pdir)}: "
              "do not edit\n")
    numbers = header + "".join(f"\\kagdef{{{name}}}{{{text}}}\n"
                               for name, text in sorted(macros.items()))
    numbers += f"\\def\\kagdigest{{{digest}}}\n"
    figs = [header]
    for name, path in sorted(rs.figures.items()):
        figs.append(f"\\kagfigfile{{{name}}}{{{_rel(path, pdir)}}}\n")
    for stem in rs.records:
        figs.append(f"\\kagnotebookdone{{{stem}}}\n")
    pending = pending_notebooks(rs)
    pend = header + (r"\begin{itemize}" + "".join(
        r"\item \texttt{" + tex_escape(p) + "}: " + tex_escape(dict(
            (s, f"{t} ({src})") for s, t, src in NOTEBOOKS)[p]) for p in pending) +
        r"\end{itemize}" + "\n" if pending else "No section is pending.\n")
    files = {
        "numbers.tex": numbers,
        "figures.tex": "".join(figs),
        "table1.tex": table1(rs),
        "table2.tex": table2(rs),
        "table3.tex": table3(rs),
        "table4.tex": table4(rs),
        "early_stopping.tex": early_stopping_table(rs),
        "appendix.tex": appendix_table(rs),
        "disagreements.tex": disagreements(rs),
        "wording.tex": wording_table(),
        "provenance.tex": provenance_table(rs),
        "parameters.tex": parameters_table(rs),
        "pending.tex": pend,
    }
    for stem in rs.records:
        files[f"nb/{stem}.tex"] = notebook_auto_section(rs, stem)
    return files


def sources_manifest(rs: ResultSet, pdir: Path, files: Mapping[str, str]) -> dict[str, Any]:
    root = pdir.parent
    return {
        "generator": "kag_utils.manuscript",
        "set": rs.name,
        "out": _rel(rs.out, pdir),
        "generator_sha256": sha256(GENERATOR),
        "digest": input_digest(rs, pdir),
        "pending": pending_notebooks(rs),
        "sources": {os.path.relpath(os.path.abspath(p), os.path.abspath(root))
                    if Path(os.path.abspath(p)).is_relative_to(os.path.abspath(root)) else str(p):
                    {"sha256": sha256(p), "bytes": p.stat().st_size}
                    for p in rs.source_files()},
        "outputs": {name: hashlib.sha256(text.encode()).hexdigest()
                    for name, text in sorted(files.items())},
    }


def generate(set_name: str = "paper", out: str | os.PathLike | None = None,
             pdir: str | os.PathLike | None = None) -> Path:
    """Write ``paper/generated/<set>/`` from ``<out>/results/<set>``; return that folder."""
    pdir = Path(pdir) if pdir else paper_dir()
    rs = load_result_set(out or pdir.parent, set_name)
    gen = pdir / "generated" / set_name
    files = render(rs, pdir)
    if gen.exists():  # outputs of notebooks that are gone
        for old in gen.rglob("*.tex"):
            if old.relative_to(gen).as_posix() not in files:
                old.unlink()
    for name, text in files.items():
        _write(gen / name, text)
    _write(gen / "sources.json", json.dumps(sources_manifest(rs, pdir, files), indent=1) + "\n")
    return gen


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


def guarded_lines(tex_files: Iterable[Path]) -> dict[str, set[str]]:
    """``file:line`` places inside the *yes* branch of ``\\kagifnotebook{<stem>}{...}{...}``,
    by ``<stem>``: the text there is typeset only when the notebook has results, so its keys
    and figures need not exist while the notebook is pending."""
    out: dict[str, set[str]] = {}
    for path in tex_files:
        text = _strip_comments(Path(path).read_text())
        for m in _IFNOTEBOOK.finditer(text):
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
    if manifest.get("generator_sha256") != sha256(GENERATOR):
        problems.append("kag_utils/manuscript.py changed since the files were generated")
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


# --------------------------------------------------------------------------------------------
# LaTeX build

def missing_tex() -> list[str]:
    """Programs and LaTeX files of :data:`TEX_PROGRAMS`/:data:`TEX_FILES` that are missing."""
    missing = [p for p in TEX_PROGRAMS if shutil.which(p) is None]
    if "kpsewhich" in missing:
        return missing + TEX_FILES
    for name in TEX_FILES:
        found = subprocess.run(["kpsewhich", name], capture_output=True, text=True).stdout
        if not found.strip():
            missing.append(name)
    return missing


def install_hint() -> str:
    return ("apt-get install -y --no-install-recommends " + " ".join(APT_PACKAGES))


_LOG_PROBLEMS = [
    re.compile(r"LaTeX Warning: (Reference|Citation|Hyper reference) `[^']*' .*undefined.*"),
    re.compile(r"LaTeX Warning: There were undefined references.*"),
    re.compile(r"LaTeX Warning: There were multiply-defined labels.*"),
    re.compile(r"LaTeX Warning: Label\(s\) may have changed.*"),
    re.compile(r"Package natbib Warning: .*"),
    re.compile(r"Package kag Warning: .*"),
    re.compile(r"LaTeX Warning: File `[^']*' not found.*"),
    re.compile(r"! .*"),
]


def log_problems(log_text: str) -> list[str]:
    """Warnings in a LaTeX log that make the PDF wrong (undefined references or citations,
    unresolved labels, errors); overfull boxes are not among them."""
    # build() sets max_print_line so that TeX does not wrap these lines.
    text = log_text
    out = []
    for pattern in _LOG_PROBLEMS:
        out += [m.group(0).strip() for m in pattern.finditer(text)]
    return out


@dataclass
class BuildResult:
    pdf: Path
    log: Path
    seconds: float
    warnings: list[str]
    pending: list[str]


def build(set_name: str = "paper", out: str | os.PathLike | None = None,
          pdir: str | os.PathLike | None = None, quiet: bool = True) -> BuildResult:
    """Generate, check and compile the manuscript for one parameter set. The PDF is
    ``paper/build/<set>/kag-reproduction.pdf``; for ``paper`` it is also copied to
    ``paper/kag-reproduction.pdf`` (committed)."""
    start = time.time()
    pdir = Path(pdir) if pdir else paper_dir()
    missing = missing_tex()
    if missing:
        raise ManuscriptError(
            "cannot build the PDF: missing " + ", ".join(missing) + ". Install Debian's TeX "
            "Live with\n    " + install_hint() + "\n(as root; prefix sudo otherwise)")
    gen = generate(set_name, out, pdir)
    problems = check_manuscript(gen)
    if problems:
        raise ManuscriptError("the manuscript does not fit the results of set "
                              f"{set_name!r}:\n  " + "\n  ".join(problems))
    outdir = pdir / "build" / set_name
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           f"-jobname={PDF_NAME}", f"-outdir=build/{set_name}",
           "-usepretex=\\def\\kagset{" + set_name + "}", "main.tex"]
    if quiet:
        cmd.insert(1, "-quiet")
    env = dict(os.environ, BIBINPUTS=f"{pdir}{os.pathsep}", TEXINPUTS=f"{pdir}{os.pathsep}",
               max_print_line="100000")
    proc = subprocess.run(cmd, cwd=pdir, capture_output=True, text=True, env=env)
    log = outdir / f"{PDF_NAME}.log"
    log_text = log.read_text(errors="replace") if log.exists() else ""
    if proc.returncode != 0:
        # -file-line-error writes errors as "<file>:<line>: <message>"; TeX's own as "! ...".
        errors = [line for line in log_text.splitlines()
                  if line.startswith("!") or re.search(r"\.(tex|sty|cls):\d+: ", line)]
        raise ManuscriptError(f"latexmk failed (exit {proc.returncode}); log: {log}\n"
                              + "\n".join(errors[:20] or proc.stdout.splitlines()[-20:]))
    warnings = log_problems(log_text)
    blg = outdir / f"{PDF_NAME}.blg"
    if blg.exists():
        warnings += [line for line in blg.read_text().splitlines() if line.startswith("Warning--")]
    if warnings:
        raise ManuscriptError(f"the PDF built but its log reports problems ({log}):\n  "
                              + "\n  ".join(warnings))
    pdf = outdir / f"{PDF_NAME}.pdf"
    if set_name == "paper":
        shutil.copyfile(pdf, pdir / f"{PDF_NAME}.pdf")
        pdf = pdir / f"{PDF_NAME}.pdf"
    rs_pending = json.loads((gen / "sources.json").read_text())["pending"]
    return BuildResult(pdf=pdf, log=log, seconds=time.time() - start, warnings=warnings,
                       pending=rs_pending)


def pdf_digest(pdf: Path) -> str | None:
    """The input digest a PDF of this build carries in its metadata (``/Keywords``, written
    by hyperref either as plain text or as octal-escaped UTF-16)."""
    data = Path(pdf).read_bytes()
    for m in re.finditer(rb"/Keywords\s*\(((?:\\.|[^\\)])*)\)", data):
        raw = re.sub(rb"\\([0-7]{3})", lambda e: bytes([int(e.group(1), 8)]), m.group(1))
        raw = re.sub(rb"\\(.)", rb"\1", raw)
        text = (raw[2:].decode("utf-16-be", "replace") if raw.startswith(b"\xfe\xff")
                else raw.decode("latin-1"))
        found = re.search(r"kag-digest:([0-9a-f]{64})", text)
        if found:
            return found.group(1)
    return None


# --------------------------------------------------------------------------------------------
# command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kag_utils.manuscript",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "generate", "check"])
    parser.add_argument("--params", default="paper", help="parameter set (default: paper)")
    parser.add_argument("--out", default=None,
                        help="folder holding results/<set> and figures/<set> (default: the "
                             "project root)")
    args = parser.parse_args(argv)
    set_name = Path(args.params).stem if Path(args.params).suffix else args.params
    pdir = paper_dir()
    try:
        if args.command == "generate":
            gen = generate(set_name, args.out, pdir)
            print(f"[paper] generated {gen}")
        elif args.command == "check":
            gen = pdir / "generated" / set_name
            problems = check_stale(gen) + check_manuscript(gen)
            pending = json.loads((gen / "sources.json").read_text()).get("pending", []) \
                if (gen / "sources.json").exists() else []
            for p in problems:
                print(f"[paper] {p}")
            if pending:
                print(f"[paper] pending sections (no results in {set_name!r}): "
                      + ", ".join(pending))
            print(f"[paper] {gen}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
            return 1 if problems else 0
        else:
            res = build(set_name, args.out, pdir)
            print(f"[paper] {res.pdf} built in {res.seconds:.0f} s from results/{set_name}; "
                  "log clean")
            if res.pending:
                print(f"[paper] pending sections (no results yet): {', '.join(res.pending)}")
    except ManuscriptError as exc:
        print(f"[paper] {exc}", file=sys.stderr)
        return 3 if "apt-get install" in str(exc) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
