"""The reproduction manuscript (paper/): result macros, generated tables, checks and the build.

Fast tests run the generator on a small synthetic results set and check paper/main.tex against
the committed quick reference numbers and, once they exist, the committed paper results. Tests
marked ``slow`` compile LaTeX: a tiny document (undefined key -> LaTeX error), the manuscript
from the quick notebook run (tests/conftest.py) and from the committed results/paper; they
need Debian's TeX Live (``python -m kag_utils.manuscript`` prints the apt-get line) and skip
without it, except under CI where a missing TeX Live fails.
"""
import csv
import json
import os
import re
import shutil
import struct
import subprocess
import warnings
import zlib
from pathlib import Path

import pytest

from kag_utils import manuscript as ms
from kag_utils.manuscript import latex as ms_latex
from kag_utils.cli import runner

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "paper"
MAIN = PAPER / "main.tex"
REFERENCE = ROOT / "tests" / "reference" / "quick"
HAVE_TEX = not ms.missing_tex()


def need_tex():
    if not HAVE_TEX:
        if os.environ.get("CI"):
            pytest.fail("TeX Live is missing under CI: " + ms.install_hint())
        pytest.skip("TeX Live missing: " + ms.install_hint())


# --------------------------------------------------------------------------------------------
# a small synthetic results set

def _png() -> bytes:
    """A valid 1x1 grey PNG."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def _write_set(out: Path, name: str = "quick") -> Path:
    """Two notebooks' results files, comparison.csv and one figure under ``out``."""
    res = out / "results" / name
    res.mkdir(parents=True)
    figs = out / "figures" / name
    figs.mkdir(parents=True)
    (figs / "fig_a.png").write_bytes(_png())
    comparisons = {
        "01_setup": [
            {"claim": "Table I train R2 xor(32)", "source": "P1 Table I", "paper_value": 0.985,
             "paper_sd": 0.0081, "ours_value": 0.9804, "ours_sd": 0.0015, "agrees": True,
             "note": "", "notebook": "01_setup"},
            {"claim": "critical batch size (max over m)", "source": "P1 Sec III text",
             "paper_value": 250, "paper_sd": None, "ours_value": 153.3, "ours_sd": None,
             "agrees": False, "note": "criterion unstated (A-07); 50% & more_ (+0.45 ± 0.2, λ ≤ 3)",
             "notebook": "01_setup"}],
        "02_zero_rows": [
            {"claim": "Table II xor(32) Zero q1=1%", "source": "P1 Table II", "paper_value": 12.339,
             "paper_sd": 3.012, "ours_value": 9.91, "ours_sd": 2.57, "agrees": True, "note": "",
             "notebook": "02_zero_rows"},
            {"claim": "zero rows well below the KA ideal", "source": "P1 Sec IV.A text",
             "paper_value": "< 99.98%", "paper_sd": None, "ours_value": "max 9.91%",
             "ours_sd": None, "agrees": True, "note": "", "notebook": "02_zero_rows"}],
    }
    records = {
        "01_setup": {"numbers": {"table1.xor.m32.train_r2_mean": 0.98039933,
                                 "table1.xor.m32.train_r2_std": 0.00146,
                                 "table1.xor.m32.epochs_mean": 946.0,
                                 "critical_batch_max": 153.29, "fig5_drop_at_m": [8, 32],
                                 "figures": ["fig_a"]},
                     "parameters": {"seeds": [0, 1], "widths": [32], "targets": ["xor"],
                                    "batch_size": 250, "max_epochs": 1000, "patience": 50,
                                    "es_monitors": []}},
        "02_zero_rows": {"numbers": {"table2.xor.zero.q0.01.mean": 9.910987,
                                     "table2.xor.zero.q0.01.std": 2.5695,
                                     "consistently_zero_rows_total.xor(32).k1.1%": 3,
                                     "xor_dependent_share_of_zero_k3.q0.01": 0.11704,
                                     "tiny": 7.1e-4, "figures": []},
                         "parameters": {"width": 32, "q1s": [0.01], "targets": ["xor"]}},
    }
    for nb, rec in records.items():
        record = {"notebook": nb, "params_name": name, **rec, "comparison": comparisons[nb],
                  "provenance": {"git_commit": "abcdef0123456789", "device": "cpu: test",
                                 "wall_time_s": 60.0, "timestamp_utc": "2026-01-01T00:00:00Z"}}
        (res / f"{nb}.json").write_text(json.dumps(record))
    from kag_utils.pipeline.results import write_comparison
    write_comparison(res)
    return res


MINI_MAIN = r"""\documentclass{article}
\providecommand\kagset{quick}
\usepackage{booktabs,longtable,array}
\usepackage{microtype}
\usepackage{kag}
\input{\kaggen/numbers}
\input{\kaggen/figures}
\begin{document}
%s
\end{document}
"""


@pytest.fixture
def synth(tmp_path):
    """(out, pdir): a synthetic results set and a manuscript folder with kag.sty."""
    out = tmp_path / "out"
    _write_set(out)
    pdir = tmp_path / "paper"
    pdir.mkdir()
    shutil.copy(PAPER / "kag.sty", pdir)
    (pdir / "main.tex").write_text(MINI_MAIN % r"R2 \kag{01_setup/table1.xor.m32.train_r2.pm}.")
    return out, pdir


# --------------------------------------------------------------------------------------------
# names and formatting

def test_macro_names_and_slugs():
    assert ms.macro_name("01_setup", "table1.xor.m32.train_r2_mean") == \
        "01_setup/table1.xor.m32.train_r2_mean"
    assert ms.macro_name("02_zero_rows", "consistently_zero_rows_total.xor(32).k1.0.01%") == \
        "02_zero_rows/consistently_zero_rows_total.xor(32).k1.0.01pct"
    assert ms.macro_name("x", "a b{c}#~^&$\\") == "x/a_b-c-------"
    assert ms.claim_slug("Table II xor(32) Zero q1=0.01%") == "table-ii-xor-32-zero-q1-0-01pct"
    assert ms.claim_slug("xor(m) k>1 normalised RR > 1 for all m") == \
        "xor-m-k-1-normalised-rr-1-for-all-m"


@pytest.mark.parametrize("key,value,text", [
    ("table1.xor.m32.train_r2_mean", 0.98039933, "0.9804"),
    ("table1.xor.m32.epochs_mean", 946.4, "946"),
    ("table2.xor.zero.q0.01.mean", 9.910987, "9.911"),
    ("table3.xor.k1.mean", 6.068167, "6.07"),
    ("fig5_xor_k3_significant_drop_at_m", [8, 32], "8, 32"),
    ("xor_dependent_share_of_zero_k3.q0.01", 0.11704, r"11.7\%"),
    ("table4.J2.k1.paper_percentile", 0.45, r"45\%"),
    ("random_test_r2_max", -0.0108, r"\ensuremath{-}0.0108"),
    ("tiny", 7.1e-4, r"\ensuremath{7.10\times10^{-4}}"),
    ("count", 123456, "123{,}456"),
    ("param.q1s", [0.0001, 0.001, 0.01], r"0.01\%, 0.1\%, 1\%"),
    ("param.cb_criterion", 0.9, "0.9"),
    ("flag", True, "yes"),
    ("missing", None, "n/a"),
    ("note", "R^2 of 50% & x_1 ~1 a^b", r"R\ensuremath{^{2}} of 50\% \& x\_1 \ensuremath{\sim}1 a\textasciicircum{}b"),
])
def test_format_value(key, value, text):
    assert ms.format_value(key, value) == text


def test_tex_escape_writes_pure_ascii():
    """A raw "±" in a note once pulled a bitmap TS1 font that stopped pdflatex under microtype."""
    assert ms.tex_escape("± ≤ λ") == r"\ensuremath{\pm} \ensuremath{\le} \ensuremath{\lambda}"
    assert ms.tex_escape("café ✓") == "cafe [U+2713]"
    assert ms.tex_escape("".join(map(chr, range(32, 0x3000)))).isascii()


def test_comparison_cells_use_the_papers_precision():
    row = {"paper_value": "0.0042", "paper_sd": "0.0009", "ours_value": "0.011294",
           "ours_sd": "0.00557"}
    assert ms.comparison_cells(row) == (r"0.0042 \ensuremath{\pm} 0.0009",
                                        r"0.0113 \ensuremath{\pm} 0.0056")
    assert ms.comparison_cells({"paper_value": "250", "ours_value": "153.29"}) == ("250", "153")
    assert ms.comparison_cells({"paper_value": "0.595963", "ours_value": "0.71234"}) == \
        ("0.596", "0.712")
    assert ms.comparison_cells({"paper_value": "< 99.98%", "ours_value": "max 9.91%"}) == \
        (r"\textless{} 99.98\%", r"max 9.91\%")


@pytest.mark.parametrize("source,group", [
    ("P1 Table I", "p1-iii"), ("P1 Table II", "p1-iv-a"), ("P1 Table IV", "p1-iv-b"),
    ("P1 Sec III text", "p1-iii"), ("P1 Sec IV.A text", "p1-iv-a"),
    ("P1 Fig 5 / Sec IV.B text", "p1-iv-b"), ("P1 Fig 7", "p1-iv-b"), ("P1 App B text", "p1-app-b"),
    ("MNIST Fig 1", "p2"), ("MNIST Sec 3 text", "p2"), ("P1 Fig 12", "p1-iv-c"), ("P1 Fig 15", "p1-app-b"), ("P2 Sec 3.1", "p2"), ("S", "other"),
    ("Beyond the papers: P2 sampled minors", "beyond"),
])
def test_source_groups(source, group):
    assert ms.source_group(source) == group


def test_typed_numbers_lint():
    assert ms.typed_numbers(r"R$^2$ of 0.985 and 12\% vs \kag{01_setup/x.y}") == ["0.985", r"12\%"]
    assert ms.typed_numbers(r"(IV.5), Sec.~3.1, P2 eq.~3, % 0.5 in a comment") == []


# --------------------------------------------------------------------------------------------
# the generator on a synthetic set

def test_generate_writes_macros_tables_and_manifest(synth):
    out, pdir = synth
    gen = ms.generate("quick", out, pdir)
    numbers = (gen / "numbers.tex").read_text()
    assert r"\kagdef{01_setup/table1.xor.m32.train_r2_mean}{0.9804}" in numbers
    assert (r"\kagdef{01_setup/table1.xor.m32.train_r2.pm}{0.9804\,\ensuremath{\pm}\,0.0015}"
            in numbers)
    assert r"\kagdef{02_zero_rows/consistently_zero_rows_total.xor(32).k1.1pct}{3}" in numbers
    assert r"\kagdef{01_setup/param.seeds.count}{2}" in numbers
    assert r"\kagdef{01_setup/prov.git_commit}{abcdef0123}" in numbers
    assert r"\kagdef{cmp/critical-batch-size-max-over-m.verdict}{not reproduced}" in numbers
    assert r"\kagdef{cmp/critical-batch-size-max-over-m.status}{not reproduced}" in numbers
    assert r"\kagdef{tally/all.sentence}{3 of 4 comparisons reproduced (1 not reproduced)}" in numbers
    assert r"\kagdef{tally/p1-ii-iii.total}{2}" in numbers
    assert r"\kagdef{set/name}{quick}" in numbers
    assert "fig_a" in (gen / "figures.tex").read_text()
    assert r"\kagnotebookdone{02_zero_rows}" in (gen / "figures.tex").read_text()
    assert (gen / "nb" / "01_setup.tex").exists()
    manifest = json.loads((gen / "sources.json").read_text())
    assert manifest["pending"] == ["03_minor_concentration", "04_dynamics", "05_appendices",
                                   "06_mnist_spatial", "07_open_questions"]
    assert len(manifest["sources"]) == 4                        # 2 results, csv, 1 figure
    assert ms.check_stale(gen, root=pdir.parent) == []
    assert ms.check_manuscript(gen) == []


def test_appendix_lists_every_comparison_row_grouped(synth):
    out, pdir = synth
    gen = ms.generate("quick", out, pdir)
    appendix = (gen / "appendix.tex").read_text()
    with open(out / "results" / "quick" / "comparison.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        assert ms.reader_tex(row["claim"]) in appendix, row["claim"]
        assert f"% row: {ms.claim_slug(row['claim'])}" in appendix
    assert appendix.count("% row: ") == len(rows)
    # groups in paper order, each with its tally, then the overall tally
    heads = re.findall(r"\\textbf\{(P1 Sec\. [^}]*)\}\\quad (\d+) of (\d+) comparisons? "
                       r"reproduced", appendix)
    assert [h[0] for h in heads] == ["P1 Sec. II--III: set-up, training and Table I",
                                     "P1 Sec. IV.A: zero rows"]
    assert heads[0][1:] == ("1", "2")
    assert "3 of 4 comparisons reproduced (1 not reproduced)" in appendix
    # the row's cause and its own note, as prose: no manifest identifier, no raw key
    assert r"\emph{batch criterion}: criterion unstated; 50\% \& more\_ (" in appendix
    assert "A-07" not in appendix


def test_undefined_key_and_missing_figure_are_caught(synth):
    out, pdir = synth
    gen = ms.generate("quick", out, pdir)
    (pdir / "main.tex").write_text(MINI_MAIN % (
        r"\kag{01_setup/table1.xor.m32.train_r2_mean} \kag{01_setup/no.such.key}"
        r" \kagfig{fig_a} \kagfig[width=2cm]{fig_b} % \kag{01_setup/commented.out}"))
    problems = ms.check_manuscript(gen)
    assert len(problems) == 2, problems
    assert "undefined result key '01_setup/no.such.key' used at main.tex:9" in problems[0]
    assert "figure 'fig_b'" in problems[1]
    (out / "figures" / "quick" / "fig_a.png").unlink()
    assert any("fig_a" in p and "missing" in p for p in ms.check_manuscript(gen))


def test_keys_of_a_pending_notebook_may_be_missing_inside_its_guard(synth):
    """Text in \\kagifnotebook{<stem>}{...}{...} is typeset only once <stem> has results."""
    out, pdir = synth
    gen = ms.generate("quick", out, pdir)
    guarded = (r"\kagifnotebook{04_dynamics}{see \kag{04_dynamics/evolution.x}"
               "\n" r"and {\kagfig{fig8}}}{\kagnotebook{04_dynamics}}")
    (pdir / "main.tex").write_text(MINI_MAIN % guarded)
    assert ms.check_manuscript(gen) == []
    (pdir / "main.tex").write_text(MINI_MAIN % (guarded + "\n" + r"\kag{04_dynamics/evolution.x}"))
    assert ms.check_manuscript(gen) == [
        "undefined result key '04_dynamics/evolution.x' used at main.tex:11"]
    # once the notebook has results, its guarded keys must exist
    guarded_done = guarded.replace("04_dynamics", "02_zero_rows")
    (pdir / "main.tex").write_text(MINI_MAIN % guarded_done)
    assert len(ms.check_manuscript(gen)) == 2


def test_keys_inside_a_kagifdef_of_a_missing_key_may_be_missing(synth):
    """Text in \\kagifdef{<key>}{...}{...} is typeset only where <key> exists: its keys need
    not exist in a set without <key>, and must exist in a set with it."""
    out, pdir = synth
    gen = ms.generate("quick", out, pdir)
    guarded = r"\kagifdef{01_setup/no.such.guard}{see \kag{01_setup/no.such.key}}{}"
    (pdir / "main.tex").write_text(MINI_MAIN % guarded)
    assert ms.check_manuscript(gen) == []
    defined = sorted(ms.checks.defined_keys(gen))[0]
    (pdir / "main.tex").write_text(MINI_MAIN % guarded.replace("01_setup/no.such.guard", defined))
    problems = ms.check_manuscript(gen)
    assert len(problems) == 1 and "01_setup/no.such.key" in problems[0]


def test_generated_files_older_than_their_results_are_stale(synth):
    out, pdir = synth
    gen = ms.generate("quick", out, pdir)
    assert ms.check_stale(gen, root=pdir.parent) == []
    result = out / "results" / "quick" / "01_setup.json"
    result.write_text(result.read_text().replace("0.98039933", "0.97"))    # a re-run
    problems = ms.check_stale(gen, root=pdir.parent)
    assert len(problems) == 1 and "01_setup.json changed" in problems[0]
    ms.generate("quick", out, pdir)
    assert ms.check_stale(gen, root=pdir.parent) == []
    (out / "results" / "quick" / "03_new.json").write_text(
        json.dumps({"notebook": "03_new", "numbers": {}, "comparison": []}))
    assert any("03_new.json" in p for p in ms.check_stale(gen, root=pdir.parent))
    (gen / "table1.tex").write_text("edited")
    assert any("table1.tex was edited" in p for p in ms.check_stale(gen, root=pdir.parent))


def test_out_of_date_comparison_csv_is_refused(synth):
    out, pdir = synth
    path = out / "results" / "quick" / "comparison.csv"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ms.ManuscriptError, match="out of date"):
        ms.generate("quick", out, pdir)


def test_missing_tex_prints_the_install_line(synth, monkeypatch, capsys):
    out, pdir = synth
    monkeypatch.setattr(ms_latex.shutil, "which", lambda name: None)
    with pytest.raises(ms.ManuscriptError) as exc:
        ms.build("quick", out, pdir)
    assert ("apt-get install -y --no-install-recommends latexmk texlive-latex-recommended"
            in str(exc.value))
    monkeypatch.setattr(ms_latex, "paper_dir", lambda root=None: pdir)
    assert ms.main(["build", "--params", "quick", "--out", str(out)]) == 3
    assert "apt-get install" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# the real manuscript

def _main_sources():
    return [p for p in ms.manuscript_sources(PAPER) if p.suffix == ".tex"]


def _parameter_names(notebook: Path) -> set[str]:
    """Names assigned in a percent-format notebook's cell tagged "parameters" (what
    runner.declared_parameters finds, without starting jupytext and papermill)."""
    cell = re.search(r'^# %% tags=\["parameters"\]\n(.*?)^# %%', notebook.read_text(),
                     flags=re.M | re.S)
    assert cell, f"{notebook} has no parameters cell"
    return set(re.findall(r"^(\w+)\s*=", cell.group(1), flags=re.M))


def test_manuscript_keys_exist_in_the_quick_reference():
    """Every \\kag key of the manuscript about a notebook's numbers or parameters exists in the
    committed quick reference numbers (tests/reference/quick) or among the parameters the
    notebook declares; set/tally/cmp keys have a known form. Notebooks without a reference yet
    (pending sections) are skipped."""
    refs = {p.stem: json.loads(p.read_text())["numbers"] for p in REFERENCE.glob("*.json")}
    notebooks = {p.stem: p for p in runner.list_notebooks(ROOT)}
    declared = {}
    tally_groups = {"all"} | set(ms.NOTEBOOK_STEMS) | {g for g, _ in ms.SECTION_GROUPS}
    from kag_utils.manuscript.summary import phrases
    phrase_names = set(phrases(ms.ResultSet("quick", ROOT, {s: {"numbers": n} for s, n in
                                                             refs.items()}, [])))
    problems = []
    for key, where in ms.used_keys(_main_sources()).items():
        scope, _, rest = key.partition("/")
        if scope == "set":
            ok = rest in {"name", "notebooks", "wall_time_min", "device", "digest"}
        elif scope == "tally":
            group, _, fld = rest.rpartition(".")
            ok = group in tally_groups and fld in {"agree", "disagree", "total", "sentence"}
        elif scope == "cmp":
            ok = rest.rpartition(".")[2] in {"claim", "source", "paper", "ours", "verdict",
                                             "status", "note", "notebook", "window"}
        elif scope == "phrase":
            ok = rest in phrase_names
        elif scope in refs:
            if rest.startswith("param."):
                name = rest[len("param."):].removesuffix(".count")
                if scope not in declared:
                    declared[scope] = _parameter_names(notebooks[scope])
                ok = name in declared[scope]
            elif rest.startswith("prov."):
                ok = True
            else:
                names = {ms.macro_name("", k): v for k, v in refs[scope].items()}
                base = rest.removesuffix(".count").removesuffix(".pm")
                ok = rest in names or (rest.endswith(".count") and base in names) or (
                    rest.endswith(".pm") and any(f"{base}{s}" in names for s in (
                        ".mean", "_mean")))
        else:
            ok = scope in ms.NOTEBOOK_STEMS     # a pending notebook: no reference yet
        if not ok:
            problems.append(f"{key} ({', '.join(where)})")
    assert not problems, "keys that no quick result defines:\n  " + "\n  ".join(problems)


def test_manuscript_uses_every_figure_of_the_reference_notebooks():
    """Each figure notebooks 01-03 produce is in the text (04-06 land via \\kagnotebook)."""
    used = ms.used_figures(_main_sources())
    for path in REFERENCE.glob("0[1-3]_*.json"):
        for fig in json.loads(path.read_text())["numbers"].get("figures", []):
            assert fig in used, f"{path.stem} figure {fig} is not in paper/main.tex"


def test_no_numbers_typed_into_the_manuscript():
    typed = ms.typed_numbers(MAIN.read_text())
    assert not typed, f"numbers typed into paper/main.tex (use \\kag macros): {typed}"


def _committed_paper_results():
    results = ROOT / "results" / "paper"
    if not any(results.glob("*.json")):
        pytest.skip("no committed results/paper yet (run the notebooks with --params paper)")
    return results


def test_committed_paper_manuscript_is_current():
    """paper/generated/paper/ is not older than results/paper, and every key and figure the
    manuscript uses exists in it."""
    _committed_paper_results()
    gen = PAPER / "generated" / "paper"
    assert (gen / "sources.json").exists(), ("paper/generated/paper is missing: "
                                             "bash scripts/paper.sh")
    stale = ms.check_stale(gen, ROOT)
    assert not stale, "\n".join(stale)
    problems = ms.check_manuscript(gen)
    assert not problems, "\n".join(problems)


def test_committed_pdf_is_built_from_the_committed_sources():
    _committed_paper_results()
    pdf = PAPER / f"{ms.PDF_NAME}.pdf"
    assert pdf.exists(), "paper/kag-reproduction.pdf is not committed: bash scripts/paper.sh"
    rs = ms.load_result_set(ROOT, "paper")
    assert ms.pdf_digest(pdf) == ms.input_digest(rs, PAPER), (
        "paper/kag-reproduction.pdf was built from other results, figures or manuscript "
        "sources: rebuild it with bash scripts/paper.sh")


def test_pending_sections_are_listed():
    """Lists the manuscript's sections whose notebook has no committed paper results (or
    no quick reference): they render as 'Pending' boxes."""
    from kag_utils.pipeline.results import fallback_dirs
    paper_dir = ROOT / "results" / "paper"
    have_paper = {p.stem for d in [paper_dir, *fallback_dirs(paper_dir)] if d.is_dir()
                  for p in d.glob("*.json")}     # 06 is borrowed from 'default' until a GPU run
    have_ref = {p.stem for p in REFERENCE.glob("*.json")}
    pending_paper = [s for s in ms.NOTEBOOK_STEMS if s not in have_paper]
    pending_ref = [s for s in ms.NOTEBOOK_STEMS if s not in have_ref]
    if pending_paper or pending_ref:
        warnings.warn(f"manuscript sections pending: without results/paper: {pending_paper}; "
                      f"without quick reference: {pending_ref}")
    gen = PAPER / "generated" / "paper"
    if have_paper and (gen / "sources.json").exists():
        assert json.loads((gen / "sources.json").read_text())["pending"] == pending_paper
    text = MAIN.read_text()
    for stem in ms.NOTEBOOK_STEMS[3:]:
        assert rf"\kagnotebook{{{stem}}}" in text, f"no section for {stem} in main.tex"


def test_the_pdf_date_is_the_newest_results_timestamp(synth):
    """SOURCE_DATE_EPOCH comes from the inputs (the newest provenance.timestamp_utc), not from
    the clock; one set outside wins; FORCE_SOURCE_DATE makes \\today follow it too."""
    out, _ = synth
    rs = ms.load_result_set(out, "quick")
    for stem, stamp in (("01_setup", "2026-01-02T03:04:05Z"), ("02_zero_rows", "2025-06-01T00:00:00Z")):
        rs.records[stem].setdefault("provenance", {})["timestamp_utc"] = stamp
    assert ms_latex.source_date_epoch(rs) == 1767323045   # 2026-01-02T03:04:05Z
    env = ms_latex.reproducible_env(1767323045, base={"PATH": "/bin"})
    assert env == {"PATH": "/bin", "SOURCE_DATE_EPOCH": "1767323045", "FORCE_SOURCE_DATE": "1"}
    assert ms_latex.reproducible_env(5, base={"SOURCE_DATE_EPOCH": "7"})["SOURCE_DATE_EPOCH"] == "7"
    rs.records["01_setup"]["provenance"]["timestamp_utc"] = "yesterday"
    with pytest.raises(ms.ManuscriptError, match="timestamp_utc 'yesterday'"):
        ms_latex.source_date_epoch(rs)
    for record in rs.records.values():
        record["provenance"].pop("timestamp_utc")
    assert ms_latex.source_date_epoch(rs) == 0


# --------------------------------------------------------------------------------------------
# LaTeX (slow)

@pytest.mark.slow
def test_latex_stops_at_an_undefined_key(synth):
    need_tex()
    out, pdir = synth
    ms.generate("quick", out, pdir)
    (pdir / "main.tex").write_text(MINI_MAIN % r"\kag{01_setup/no.such.key}")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "main.tex"], cwd=pdir, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Package kag Error: Undefined result key `01_setup/no.such.key'" in \
        (pdir / "main.log").read_text()
    (pdir / "main.tex").write_text(MINI_MAIN % (r"\kag{01_setup/table1.xor.m32.train_r2.pm} "
                                                r"\kagfig[width=1cm]{fig_a} "
                                                r"\input{\kaggen/verdicts}"))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "main.tex"], cwd=pdir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]


def _build_copy(tmp_path, set_name, out):
    """Build the manuscript in a copy of paper/ beside links to ``out``'s results/ and
    figures/, so that the checkout stays untouched and generated paths read as in it."""
    pdir = tmp_path / "paper"
    pdir.mkdir()
    for path in ms.manuscript_sources(PAPER):
        shutil.copy(path, pdir)
    for name in ("results", "figures"):
        (tmp_path / name).symlink_to(Path(out) / name)
    return pdir, ms.build(set_name, tmp_path, pdir)


@pytest.mark.slow
def test_manuscript_builds_from_the_quick_run(quick_run, tmp_path):
    """paper/main.tex against the numbers the notebooks write now: every key and figure
    exists, and the PDF builds with no undefined reference, citation or key."""
    need_tex()
    pdir, res = _build_copy(tmp_path, "quick", quick_run)
    assert res.pdf.exists() and res.warnings == []
    rows = list(csv.DictReader(open(quick_run / "results" / "quick" / "comparison.csv")))
    appendix = (pdir / "generated" / "quick" / "appendix.tex").read_text()
    assert appendix.count("% row: ") == len(rows)
    # Tables I-IV find P1's values by the notebooks' claim strings: none may be missing
    for table in ("table1", "table2", "table3", "table4"):
        text = (pdir / "generated" / "quick" / f"{table}.tex").read_text()
        p1_rows = [line for line in text.splitlines() if "& P1 &" in line]
        assert p1_rows and not any("--" in line for line in p1_rows), (
            f"{table}: a P1 cell found no comparison row (claim renamed in a notebook?)")


@pytest.mark.slow
def test_committed_paper_results_build(tmp_path):
    """What CI checks for the committed PDF: the manuscript builds from results/paper (no
    retraining), its log is clean, and the generated files equal the committed ones."""
    _committed_paper_results()
    need_tex()
    pdir, res = _build_copy(tmp_path, "paper", ROOT)
    assert res.warnings == []
    fresh, committed = pdir / "generated" / "paper", PAPER / "generated" / "paper"
    for path in sorted(fresh.rglob("*.tex")):
        rel = path.relative_to(fresh)
        assert (committed / rel).exists() and (committed / rel).read_text() == \
            path.read_text(), f"paper/generated/paper/{rel} differs from a fresh generation"
    # Byte-identical rebuild: the fresh PDF (another folder, another time) equals the committed
    # one, whose digest test_committed_pdf_is_built_from_the_committed_sources ties to these
    # inputs. Built by another pdfTeX, the committed PDF cannot be compared: then a second
    # fresh build (another folder again) must equal the first.
    committed_pdf = PAPER / f"{ms.PDF_NAME}.pdf"
    if _pdftex_producer(committed_pdf) == _pdftex_producer(res.pdf):
        reference, what = committed_pdf, "the committed paper/kag-reproduction.pdf"
    else:
        warnings.warn(f"{committed_pdf} was built by {_pdftex_producer(committed_pdf)}, this "
                      f"machine has {_pdftex_producer(res.pdf)}: comparing two fresh builds")
        (tmp_path / "second").mkdir()
        reference = _build_copy(tmp_path / "second", "paper", ROOT)[1].pdf
        what = "a second fresh build"
    assert _sha256(res.pdf) == _sha256(reference), (
        f"a fresh build from the committed inputs differs from {what}: the build is not "
        "reproducible (SOURCE_DATE_EPOCH, trailer ID, figure PDFs?) or the committed PDF is "
        "out of date (bash scripts/paper.sh)")


def _sha256(path: Path) -> str:
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _pdftex_producer(pdf: Path) -> str | None:
    found = re.search(rb"/Producer\s*\((pdfTeX-[^)]*)\)", Path(pdf).read_bytes())
    return found.group(1).decode() if found else None


def test_tables_find_every_claim_they_read_in_the_paper_set():
    """Tables I-IV look their rows up by the names of kag_utils.readings.claim_names; a row the
    notebooks renamed or dropped fails here instead of showing as '--' in the paper."""
    from kag_utils.manuscript.resultset import load_result_set
    from kag_utils.manuscript.tables import expected_claims

    rs = load_result_set(ROOT, "paper")
    have = {r["claim"] for r in rs.comparison}
    expected = expected_claims(rs)
    assert len(expected) > 40
    assert [c for c in expected if c not in have] == []
