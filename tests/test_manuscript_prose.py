"""The manuscript's generated prose reads like a paper: no raw program output (keys, Python
literals, True/False, e-notation, manifest identifiers, R2), no template defects (repeated words,
'lower by' a negative number, a bare list of verdicts, an empty value), one tally everywhere.
The checks (kag_utils.manuscript.prose.prose_problems) are tested against bad samples, so that
they can fail, and then run on every file generated from the committed paper results and on
paper/main.tex with those numbers filled in."""
import re
import shutil
from pathlib import Path

import pytest

from kag_utils import manuscript as ms
from kag_utils.manuscript import causes, prose, resultset
from kag_utils.readings.verdicts import tally

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("raw,expected", [
    ("Table I train R2 xor(32)", r"Table I train R\ensuremath{^2} xor(32)"),
    ("test R^2 0.95", r"test R\ensuremath{^2} 0.95"),
    ("interior extremum (paired by seed): False", "interior extremum (paired by seed): no"),
    ("argmax B for k=1,2,3: [64, 64, 32]", "argmax B for k=1,2,3: 64, 64, 32"),
    ("significant steps down at grid indices []", "significant steps down at grid indices none"),
    ("at B in [512, 1000]", r"at B in \ensuremath{\{512, 1000\}}"),
    ("max change 2.2e-16", r"max change \ensuremath{2.2\times10^{-16}}"),
    ("below 1e-16", r"below \ensuremath{10^{-16}}"),
    ("changes 0.174 / 0.0e+00", "changes 0.174 / 0"),
    ("ours is 10^4.66", r"ours is \ensuremath{10^{4.66}}"),
    ("trains longer (A-06; see section 4)", "trains longer (see section 4)"),
    ("seeds (unknown seeds, A-05) and rule (A-06, A-08)", "seeds (unknown seeds) and rule"),
    ("weight decay (M-03); RR", "weight decay; RR"),
    ("hold with RR > 1 (cf. REPRODUCTION S-1)", r"hold with RR \textgreater{} 1"),
    ("pr_norm_k3: 0.0667 vs 0.429", r"normalised PR (\ensuremath{k = 3}): 0.0667 vs 0.429"),
    ("zero_frac_k3_q0.01: 0.044", r"zero-row share (\ensuremath{k = 3}, \ensuremath{q^{(1)}} = 0.01): 0.044"),
    ("rule: readings.near(., 0.5, SE, 'about')", "rule: the 'near' rule"),
    ("PR/PR_init (k=2)", r"PR/\ensuremath{\mathrm{PR}_{\mathrm{init}}} (k=2)"),
    ("B_c and c^k", r"\ensuremath{B_c} and \ensuremath{c^k}"),
    ("Zero q1=0.01%", r"Zero \ensuremath{q^{(1)}} = 0.01\%"),
    ("lambda <= 1.2 -> 0.5", r"\ensuremath{\lambda} \ensuremath{\le} 1.2 \ensuremath{\to} 0.5"),
])
def test_reader_tex_writes_program_text_as_prose(raw, expected):
    out = prose.reader_tex(raw)
    assert out == expected
    assert prose.prose_problems(out) == []


BAD = {
    "repeated word": "the trained the the model",
    "same verdict twice": "statements are reproduced and reproduced.",
    "a bare list of verdicts": "are, in turn, not reproduced, reproduced, reproduced and reproduced.",
    "a verdict without its verb": "the size-1 onset not reproduced, which reproduced with P1",
    "'lower/higher by' a negative number": r"is lower by \ensuremath{-}0.451 in layer 1",
    "True/False": "significant interior extremum: True",
    "a Python list": "argmax B: [64, 64, 32]",
    "e-notation": "max change 2.2e-16",
    "a manifest identifier": "the rule (A-06) and (M-03), cf. REPRODUCTION S-1",
    "an internal key": r"pr\_norm\_k3: 0.0667",
    "raw R2": "Table I train R2 xor(32)",
    "an empty value": "(paper 0.50, ours ):",
    "an invented decimal exponent": r"$10^{4.00}$ at initialisation",
}


@pytest.mark.parametrize("problem", sorted(BAD))
def test_prose_checks_can_fail(problem):
    found = prose.prose_problems(BAD[problem], "sample")
    assert any(f": {problem}:" in f for f in found), (problem, found)


def test_prose_checks_pass_clean_prose():
    good = (r"\Pone{}'s statement is reproduced; the second is not reproduced. The ratio is "
            r"higher by 0.451 (ours), \ensuremath{2.2\times10^{-16}}, R\ensuremath{^2} of "
            r"\texttt{06\_mnist\_spatial}, $10^{4}$ and $10^{4.66}$.")
    assert prose.prose_problems(good) == []


def test_phrases_from_numbers():
    assert prose.change_phrase(0.3) == "lower by 0.300"
    assert prose.change_phrase(-0.451) == "higher by 0.451"
    assert prose.window_phrase("0.15-0.7") == r"\ensuremath{0.15 \le \lambda \le 0.7}"
    assert prose.window_phrase("0.7-0.7") == r"only \ensuremath{\lambda = 0.7}"
    assert prose.window_phrase("no lambda") == r"no \ensuremath{\lambda}"


def test_power_of_ten_keeps_the_papers_precision():
    row = {"claim": "App A: log10 Q(0.99)/Q(0.01) of size-3 minors, xor(32) at initialisation",
           "paper_value": "4.0", "ours_value": "4.663286848570404", "ours_sd": "0.0866"}
    assert ms.comparison_cells(row) == ("4", r"4.66 \ensuremath{\pm} 0.09")


def test_expand_manuscript_resolves_guards():
    tex = (r"A \kag{x/y}. \kagifnotebook{01}{done \kagifequal{\kag{x/y}}{3}{three}{other}}"
           r"{pending}. \kagifnotebook{02}{yes}{no}.")
    assert prose.expand_manuscript(tex, {"x/y": "3"}, {"01"}) == "A 3. done three. no."
    tex = r"\kagifdef{x/y}{has \kag{x/y}}{none}; \kagifdef{x/z}{has \kag{x/z}}{none}."
    assert prose.expand_manuscript(tex, {"x/y": "3"}, set()) == "has 3; none."


# --------------------------------------------------------------------------------------------
# the committed paper results

@pytest.fixture(scope="module")
def paper_set(tmp_path_factory):
    """The manuscript generated from the committed results/paper in a copy of paper/."""
    results = ROOT / "results" / "paper"
    if not any(results.glob("*.json")):
        pytest.skip("no committed results/paper")
    tmp = tmp_path_factory.mktemp("prose")
    pdir = tmp / "paper"
    pdir.mkdir()
    for path in ms.manuscript_sources(ROOT / "paper"):
        shutil.copy(path, pdir)
    for name in ("results", "figures"):
        (tmp / name).symlink_to(ROOT / name)
    gen = ms.generate("paper", tmp, pdir)
    return ms.load_result_set(tmp, "paper"), gen, pdir


def test_generated_prose_of_the_paper_set_is_clean(paper_set):
    rs, gen, pdir = paper_set
    problems = []
    for path in sorted(gen.rglob("*.tex")):
        if path.name in ("numbers.tex", "figures.tex", "ambiguities.tex") or \
                path.parent.name == "nb":
            continue
        problems += prose.prose_problems(path.read_text(), path.name)
    macros = dict(re.findall(r"^\\kagdef\{([^{}]*)\}\{(.*)\}$", (gen / "numbers.tex").read_text(),
                             flags=re.M))
    for name, text in macros.items():
        if name.startswith(("tally/", "phrase/")) or (name.startswith("cmp/") and name.endswith(
                (".claim", ".paper", ".ours", ".note", ".window"))):
            problems += prose.prose_problems(text, name)
    text = prose.expand_manuscript((pdir / "main.tex").read_text(), macros, rs.records)
    problems += prose.prose_problems(text, "main.tex")
    assert not problems, "\n".join(problems[:30])


def test_one_tally_everywhere(paper_set):
    """Sections nest in notebooks: every notebook's tally is the sum of its sections' rows of
    the verdict table, and the sections add up to all rows."""
    rs, gen, _ = paper_set
    groups = resultset.tally_groups(rs)
    sections = [g for g, _ in ms.SECTION_GROUPS]
    assert sum(len(groups[g]) for g in sections) == len(rs.comparison)
    for stem in ms.NOTEBOOK_STEMS:
        mine = [g for g in sections if groups[g] and
                all(r.get("notebook") == stem for r in groups[g])]
        assert sum(len(groups[g]) for g in mine) == len(groups[stem]), stem
    table = (gen / "verdicts.tex").read_text()
    total = tally(rs.comparison)
    assert rf"\textbf{{{total['reproduced']}}}" in table
    assert f"{total['reproduced']} are reproduced" in (gen / "summary.tex").read_text()


def test_every_disagreement_has_one_cause(paper_set):
    rs, gen, _ = paper_set
    appendix = (gen / "appendix.tex").read_text()
    for row in rs.comparison:
        cause = causes.classify(row)
        assert (cause is None) == (row["verdict"] in ("reproduced", "new result")), row["claim"]
    # a clause shared by several rows is said once (in its cause), not in every row
    shared = causes.shared_clauses(rs.comparison)
    assert shared
    for clause in shared:
        assert appendix.count(prose.reader_tex(clause)) <= 2, clause
    # each cause is explained once, in the section
    text = (gen / "causes.tex").read_text()
    for cause in {causes.classify(r) for r in rs.comparison} - {None}:
        assert text.count(r"\paragraph{" + causes.CAUSE_BY_ID[cause].title + " (") == 1
