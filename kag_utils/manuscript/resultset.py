"""A result set (``<out>/results/<set>`` and its figures) loaded, its lookup table of numbers
(the ``\\kag{<nb>/<key>}`` macros) and its verdict tallies."""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..readings.verdicts import COMPARABLE, VERDICTS, tally
from .tex import (ManuscriptError, NOTEBOOK_STEMS, SECTION_GROUPS, claim_slug, format_kind,
                  format_number, format_value, macro_name, row_group, tex_escape)
from .prose import comparison_cells, reader_tex, window_phrase


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
    from ..pipeline.results import comparison_rows, fallback_dirs, load_results, normalize_row

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
            f"of date; rewrite it with `python -c \"from kag_utils.pipeline.results import "
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
            # text the notebooks wrote (answers, labels) is prose for the reader
            put(nb, key, reader_tex(value) if isinstance(value, str) else format_value(key, value))
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
    put("set", "device", r"\texttt{" + tex_escape(devices.pop()) + "}" if len(devices) == 1
        else "several machines")

    slugs: dict[str, int] = {}
    for row in rs.comparison:
        slug = claim_slug(row["claim"])
        if slug in slugs:
            slugs[slug] += 1
            slug = f"{slug}-{slugs[slug]}"
        else:
            slugs[slug] = 1
        paper, ours = comparison_cells(row)
        for key, text in (("claim", reader_tex(row["claim"])), ("source", reader_tex(row["source"])),
                          ("paper", paper), ("ours", ours),
                          ("verdict", row["verdict"]), ("status", row["verdict"]),
                          ("note", reader_tex(row.get("note", ""))),
                          ("notebook", tex_escape(row.get("notebook", "")))):
            put("cmp", f"{slug}.{key}", text)
        put("cmp", f"{slug}.window", window_phrase(row["ours_value"]))
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
    """'12 of 15 comparisons reproduced (2 not reproduced, 1 inconclusive); not counted: 3 not
    comparable' from verdict counts; only comparable rows count in the first number. Without
    comparable rows: 'no comparison at the papers' protocols (not counted: 21 not
    comparable)'."""
    comparable = sum(counts.get(v, 0) for v in COMPARABLE)
    rest = [f"{counts[v]} {v}" for v in COMPARABLE[1:] if counts.get(v)]
    extra = [f"{counts[v]} {v}{'s' if v == 'new result' and counts[v] != 1 else ''}"
             for v in VERDICTS if v not in COMPARABLE and counts.get(v)]
    if not comparable:
        return ("no comparison at the papers' protocols"
                + (f" (not counted: {', '.join(extra)})" if extra else ""))
    text = (f"{counts.get('reproduced', 0)} of {comparable} comparison"
            f"{'s' if comparable != 1 else ''} reproduced")
    if rest:
        text += f" ({', '.join(rest)})"
    if extra:
        text += f"; not counted: {', '.join(extra)}"
    return text


def row_agrees(row: Mapping[str, str]) -> bool:
    return row.get("verdict") == "reproduced"


def tally_groups(rs: ResultSet) -> dict[str, list[dict[str, str]]]:
    """Comparison rows by ``all``, by notebook stem and by paper section (:data:`SECTIONS`,
    the ``section`` column); every tally of the manuscript comes from here. The sections nest
    in the notebooks (notebook 05 is App. A, B and C), so the two agree."""
    groups: dict[str, list[dict[str, str]]] = {"all": list(rs.comparison)}
    for stem in NOTEBOOK_STEMS + sorted(set(rs.records) - set(NOTEBOOK_STEMS)):
        groups[stem] = [r for r in rs.comparison if r.get("notebook") == stem]
    for gid, _ in SECTION_GROUPS:
        groups[gid] = [r for r in rs.comparison if row_group(r) == gid]
    return groups
