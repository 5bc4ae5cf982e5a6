"""Reader's prose from program text: the notes, causes, claims and values the notebooks write
(``results/<set>/comparison.csv``) turned into LaTeX a reader can read, phrases built from
numbers, and the grammar checks the tests run on every generated sentence.

:func:`reader_tex` is the one way a program-written string enters the manuscript. It writes
``R2``/``R^2`` as R$^2$, ``1e-16`` as $10^{-16}$, Python lists as plain enumerations, ``True``
and ``False`` as yes and no, symbols (``lambda``, ``sigma'``, ``q(k)``, ``B_c``, ``c^k``, ``<=``)
as mathematics, internal keys (``pr_norm_k3``, ``zero_frac_k3_q0.01``) by the names of their
metrics, and drops the identifiers of the reproduction manifest (``A-06``, ``M-03``,
``cf. REPRODUCTION S-1``), which Appendix~C lists with their titles (:data:`AMBIGUITIES`).

:func:`prose_problems` finds what must never reach the reader (repeated adjacent words, "lower
by" a negative number, raw keys, Python literals, ``True``/``False``, manifest identifiers,
empty values); ``tests/test_manuscript_prose.py`` runs it on every generated file and on the
manuscript with its numbers filled in.
"""
from __future__ import annotations

import math
import re
from typing import Iterable, Mapping, Sequence

from .tex import format_number, tex_escape

# --------------------------------------------------------------------------------------------
# the ambiguities of the reproduction manifest (REPRODUCTION.md, section 4): id -> title

AMBIGUITIES: dict[str, str] = {
    "A-01": "Input distribution", "A-02": "Test and validation sets; data sharing",
    "A-03": "Function randomness", "A-04": "Initialisation variance", "A-05": "Seed values",
    "A-06": "Early stopping", "A-07": "Critical batch size", "A-08": "Mini-batching",
    "A-09": "Optimiser and numerics details", "A-10": "Training R^2 of which weights",
    "A-11": "Evaluation inputs", "A-12": "Pooling for Q(k)", "A-13": "Denominators",
    "A-14": "Consistently zero", "A-15": "Error statistics", "A-16": "Normalisation",
    "A-17": "Random rotation ratio", "A-18": "Table IV J2 and J3", "A-19": "Column softmax",
    "A-20": "Floating-point precision", "A-21": "Distribution plots, MEF and quantile ratio",
    "A-22": "Fig. 1", "A-23": "Zipf plots (Figs. 2, 3)", "A-24": "Evolution checkpoints",
    "A-25": "Interpolation grids and settings", "A-26": "Fig. 5 wording",
    "A-27": "Extrema near R^2 of 0.85", "A-28": "Bootstrapped model (Fig. 16)",
    "A-29": "App. B details", "A-30": "SO(alpha)-xor", "A-31": "G(lambda) learnability",
    "A-32": "Fig. 15 axis ranges", "A-33": "Errata", "A-34": "Out of scope",
    "S-1": "'Up to ~25x for k = 3': a rotation ratio that P1 does not print",
    "S-2": "'Early stopping based on validation performance'",
    "S-3": "'Critical batch size (~250) to avoid dead neurons'",
    "M-01": "Hidden sizes", "M-02": "Architecture details",
    "M-03": "Learning rate and weight decay", "M-04": "Initialisation formula",
    "M-05": "Augmentation parameters", "M-06": "Minor orders per figure", "M-07": "PR formula",
    "M-08": "PR-ratio expression", "M-09": "KL histogram", "M-10": "Rotation ratio",
    "M-11": "Sampling design", "M-12": "Which test images", "M-13": "Ball radii and seed pixels",
    "M-14": "Minimum distances", "M-15": "Rectangular patches", "M-16": "Error-bar width",
    "M-17": "Layer used in the spatial figures", "M-18": "Jacobian input space",
    "M-19": "'30%' against '30-40%'", "M-20": "P2's description of P1",
    "M-21": "Timeline", "M-22": "Precision on GPU",
}

_ID = r"(?:[AM]-\d{2}|S-\d)"
_ID_RE = re.compile(r"\b" + _ID + r"\b")


def cited_ambiguities(texts: Iterable[str]) -> list[str]:
    """The manifest identifiers the texts cite, in :data:`AMBIGUITIES` order."""
    found = set()
    for text in texts:
        found.update(_ID_RE.findall(text or ""))
    return [a for a in AMBIGUITIES if a in found] + sorted(found - set(AMBIGUITIES))


# --------------------------------------------------------------------------------------------
# program text -> reader's TeX

# internal metric keys the notebooks print -> their names
_METRIC_KEYS = {"pr_norm": "normalised PR", "rr_norm": "normalised RR",
                "divergence": "column divergence", "zero_frac": "zero-row share",
                "zero": "zero rows", "dep": "dependent zero rows", "pr": "PR", "rr": "RR",
                "entropy": "column entropy"}
_KEY_RE = re.compile(r"\b(pr_norm|rr_norm|divergence|zero_frac|entropy|zero|dep|pr|rr)_k(\d)"
                     r"(?:_q([\d.]*\d))?\b")
_RULE_RE = re.compile(r"\b(?:readings|claims)\.(\w+)(\((?:[^()]|\([^()]*\))*\))?")
_SCI_RE = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)e([+-]?\d+)\b")
_POW_RE = re.compile(r"\b10\^\(?(-?\d+(?:\.\d+)?)\)?")
_LIST_RE = re.compile(r"(\bin |= ?|: )?\[((?:-?\d+(?:\.\d+)?)(?:, -?\d+(?:\.\d+)?)*)?\]")
_SNAKE_RE = re.compile(r"\b([A-Za-z]+)_([A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)\b")


class _Tex:
    """Text with placeholders for TeX snippets (escaped once at the end)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, tex: str) -> str:
        self.parts.append(tex)
        return f"\x00{len(self.parts) - 1}\x00"

    def math(self, tex: str) -> str:
        return self.put(r"\ensuremath{" + tex + "}")

    def restore(self, text: str) -> str:
        while "\x00" in text:
            text = re.sub(r"\x00(\d+)\x00", lambda m: self.parts[int(m.group(1))], text)
        return text


def _drop_ids(text: str) -> str:
    """Remove manifest identifiers and the punctuation that only held them."""
    text = re.sub(r"\s*\(?cf\.\s+REPRODUCTION\s+[\w.-]+\)?", "", text)
    text = re.sub(r"\s*\bREPRODUCTION\s+(?:\d+(?:\.\d+)*|" + _ID + r")", "", text)
    ids = _ID + r"(?: [a-c]\b)?"
    text = re.sub(r"\(\s*" + ids + r"(?:\s*,\s*" + ids + r")*\s*\)", "", text)
    text = re.sub(r"\(\s*" + ids + r"\s*[;,]\s*", "(", text)                         # (A-06; see
    text = re.sub(r"\s*[;,]\s*" + ids + r"(?:\s*,\s*" + ids + r")*\s*(?=[);])", "", text)
    text = re.sub(r"\b" + ids, "", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\(\s*[;,]\s*", "(", text)
    text = re.sub(r"\s+([,;.)])", r"\1", text)
    return re.sub(r"  +", " ", text).strip()


def reader_tex(text: object) -> str:
    """Program-written text (a note, cause, claim or value) as reader's LaTeX (module
    docstring); pure ASCII like :func:`tex_escape`."""
    if text is None:
        return ""
    s = _drop_ids(str(text))
    t = _Tex()
    # bracketed remarks and Python lists
    s = re.sub(r"\[((?:inconclusive|from the)[^\]]*)\]", r"(\1)", s)

    def plain_list(m: re.Match) -> str:
        lead, items = m.group(1) or "", m.group(2)
        if not items:
            return (lead if lead.strip() in ("=", ":") else lead) + "none"
        if lead.startswith("in "):
            return "in " + t.math(r"\{" + items.replace(", ", ",") .replace(",", ", ") + r"\}")
        return lead + items
    s = _LIST_RE.sub(plain_list, s)
    s = re.sub(r"\bTrue\b", "yes", s)
    s = re.sub(r"\bFalse\b", "no", s)
    # rules and internal keys
    s = _RULE_RE.sub(lambda m: f"the '{m.group(1).replace('_', ' ')}' rule", s)
    s = s.replace("n_rot x n_x_rot", "rotations times inputs").replace(
        "paper_sd", "the paper's sd")

    def key(m: re.Match) -> str:
        name = _METRIC_KEYS[m.group(1)]
        q = f", {t.math('q^{(1)}')} = {float(m.group(3)):g}" if m.group(3) else ""
        return f"{name} ({t.math('k = ' + m.group(2))}{q})"
    s = _KEY_RE.sub(key, s)
    s = re.sub(r"\bPR_norm\b", "normalised PR", s)
    s = re.sub(r"\bRR_norm\b", "normalised RR", s)
    s = re.sub(r"\bPR_max\b", lambda m: t.math(r"\mathrm{PR}_{\max}"), s)
    s = re.sub(r"\b(PR|RR)_(init|norm|trained)\b",
               lambda m: t.math(r"\mathrm{" + m.group(1) + r"}_{\mathrm{" + m.group(2) + "}}"), s)
    # numbers and symbols
    s = _POW_RE.sub(lambda m: t.math("10^{" + m.group(1) + "}"), s)

    def sci(m: re.Match) -> str:
        mant, exp = m.group(1), int(m.group(2))
        if float(mant) == 0:
            return "0"
        if float(mant) in (1.0, -1.0):
            return t.math(("-" if mant.startswith("-") else "") + "10^{" + str(exp) + "}")
        return t.math(mant + r"\times10^{" + str(exp) + "}")
    s = _SCI_RE.sub(sci, s)
    s = re.sub(r"\bR\^?2\b", lambda m: "R" + t.math("^2"), s)
    s = re.sub(r"\b([qQ])\(([k\d])\)", lambda m: t.math(m.group(1) + "^{(" + m.group(2) + ")}"), s)
    s = re.sub(r"\bq1\s*=\s*", lambda m: t.math("q^{(1)}") + " = ", s)
    s = re.sub(r"\bq1\b", lambda m: t.math("q^{(1)}"), s)
    s = re.sub(r"\bB_c\b", lambda m: t.math("B_c"), s)
    s = re.sub(r"\bc\^k\b", lambda m: t.math("c^k"), s)
    s = re.sub(r"\bA\^T\b", lambda m: t.math("A^T"), s)
    s = re.sub(r"\bz_j\b", lambda m: t.math("z_j"), s)
    s = re.sub(r"\bsigma'", lambda m: t.math(r"\sigma'"), s)
    s = re.sub(r"\b(lambda|alpha|sigma)\b", lambda m: t.math("\\" + m.group(1)), s)
    for plain, tex in (("<=", r"\le"), (">=", r"\ge"), ("!=", r"\ne"), ("->", r"\to"),
                       ("<~", r"\lesssim"), (">~", r"\gtrsim")):
        s = s.replace(plain, t.math(tex))
    # any other snake_case key: its words
    s = _SNAKE_RE.sub(lambda m: m.group(0).replace("_", " "), s)
    return t.restore(tex_escape(s))


# --------------------------------------------------------------------------------------------
# the cells of a comparison row

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
    and ``+- sd`` where given, anything else as reader's prose (:func:`prose.reader_tex`)."""
    paper, ours = _to_float(row.get("paper_value", "")), _to_float(row.get("ours_value", ""))
    decimals = _decimals_for(row["paper_value"], paper) if paper is not None else 3
    ours_decimals = decimals
    if paper is not None and paper == int(paper) and "log10" in row.get("claim", ""):
        # a power of ten as P1 prints it ("10^4", "10^45"): the exponent without invented
        # decimals; ours with two
        decimals, ours_decimals = 0, 2

    def cell(value_text: str, value: float | None, sd_text: str, decimals: int) -> str:
        if value is None:
            return reader_tex(value_text)
        text = format_number(value, f"dec{decimals}") if abs(value) >= 10 ** -decimals or \
            value == 0 else format_number(value, "sig3")
        sd = _to_float(sd_text)
        if sd is not None:
            text += r" \ensuremath{\pm} " + format_number(sd, f"dec{decimals}")
        return text

    return (cell(row["paper_value"], paper, row.get("paper_sd", ""), decimals),
            cell(row["ours_value"], ours, row.get("ours_sd", ""), ours_decimals))


# --------------------------------------------------------------------------------------------
# phrases from numbers

def join_words(items: Sequence[str], conj: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def change_phrase(value: float, kind: str = "dec3", lower: str = "lower",
                  higher: str = "higher") -> str:
    """'lower by 0.3' for a positive reduction, 'higher by 0.451' for a negative one: never
    'lower by -0.451'."""
    if value is None:
        return "n/a"
    word = lower if value >= 0 else higher
    return f"{word} by {format_number(abs(value), kind)}"


def window_phrase(text: str, symbol: str = r"\lambda") -> str:
    """A window as our rows write it ('0.15-0.7', '0.7-0.7', 'no lambda') as words."""
    text = (text or "").strip()
    m = re.fullmatch(r"(-?[\d.]+)\s*-\s*(-?[\d.]+)", text)
    if m:
        lo, hi = m.groups()
        if float(lo) == float(hi):
            return rf"only \ensuremath{{{symbol} = {lo}}}"
        return rf"\ensuremath{{{lo} \le {symbol} \le {hi}}}"
    if not text or text.lower().startswith("no "):
        return rf"no \ensuremath{{{symbol}}}"
    return reader_tex(text)


def verdict_clauses(items: Sequence[tuple[str, str]]) -> str:
    """'that A is reproduced and that B is not reproduced' from (what, verdict) pairs; claims
    with the same verdict share it: 'that A and that B are both reproduced'."""
    groups: dict[str, list[str]] = {}
    for what, verdict in items:
        groups.setdefault(verdict, []).append(what)
    parts = []
    for verdict, whats in groups.items():
        if len(whats) == 1:
            parts.append(f"{whats[0]} is {verdict}")
        else:
            parts.append(f"{join_words(whats)} are {'both ' if len(whats) == 2 else 'all '}"
                         f"{verdict}")
    return join_words(parts, "; and" if len(parts) > 2 else "and").replace(
        "; and", ", and")


# --------------------------------------------------------------------------------------------
# the checks

_VERDICT_WORDS = r"(?:not reproduced|reproduced|inconclusive|protocol-dependent|not comparable)"


def plain_text(tex: str) -> str:
    """TeX with commands, math and file names removed, close to what a reader sees (the
    document body only, without table preambles and displayed equations)."""
    text = re.sub(r"(?<!\\)%.*", "", tex)
    if r"\begin{document}" in text:
        text = text.split(r"\begin{document}", 1)[1]
    text = re.sub(r"\\begin\{(equation|align)\*?\}.*?\\end\{\1\*?\}", " M ", text, flags=re.S)
    text = "\n".join(line for line in text.splitlines()
                     if not re.search(r"\\(newcolumntype|begin\{(longtable|tabular)\})", line))
    text = text.replace(r"\Pone{}", "P1").replace(r"\Ptwo{}", "P2")
    text = re.sub(r"\\(texttt|nb|model|ref|eqref|cite\w*)(\[[^\]]*\])?\{[^{}]*\}", " X ", text)
    text = re.sub(r"\\(label|kagfig\w*|input|includegraphics|begin|end|multicolumn|rule|"
                  r"hypersetup|kagdef|row|setlength|renewcommand)(\[[^\]]*\])?\{[^{}]*\}",
                  " ", text)
    text = re.sub(r"\\ensuremath\{\\?-\}", "-", text)
    text = re.sub(r"\\ensuremath\{(?:[^{}]|\{[^{}]*\})*\}", " M ", text)
    text = re.sub(r"\$[^$]*\$", " M ", text)
    text = re.sub(r"\\[a-zA-Z@]+\*?", " ", text)
    text = re.sub(r"[{}~]", " ", text)
    return re.sub(r"\s+", " ", text)


_PROBLEMS = [
    ("repeated word", re.compile(r"\b([A-Za-z][a-z]{1,})\s+\1\b(?![-.\d])")),
    ("same verdict twice", re.compile(r"\b(" + _VERDICT_WORDS + r")(?:,| and| or) \1\b")),
    ("a bare list of verdicts", re.compile(
        _VERDICT_WORDS + r", " + _VERDICT_WORDS + r"(?:, " + _VERDICT_WORDS + r")* and "
        + _VERDICT_WORDS)),
    ("a verdict without its verb", re.compile(
        r"\b(?:which|onset|bound|share|ratio|divergence) " + _VERDICT_WORDS + r"\b")),
    ("'lower/higher by' a negative number", re.compile(
        r"\b(?:lower|higher|smaller|larger|less|more) by\s*(?:-|\\ensuremath\{-\}|−)")),
    ("True/False", re.compile(r"\b(?:True|False)\b")),
    ("a Python list", re.compile(r"\[-?\d[\d.]*(?:, -?\d[\d.]*)*\]|\[\]")),
    ("e-notation", re.compile(r"(?<![\w.])\d+(?:\.\d+)?e[+-]?\d+\b")),
    ("a manifest identifier", re.compile(r"\b(?:[AM]-\d{2}|S-\d)\b|REPRODUCTION")),
    ("an internal key", re.compile(r"\b[a-z]+(?:_[a-z0-9.]+)+\b|\\_")),
    ("raw R2", re.compile(r"\bR2\b|R\\textasciicircum")),
    ("a raw caret", re.compile(r"\\textasciicircum")),
    ("an empty value", re.compile(r"\b(?:ours|paper) \)|\b(?:ours|paper) [,;:]|\(\s*\)|,\s*\)|\(\s*,")),
    ("an invented decimal exponent", re.compile(r"10\^\{?\d+\.0+\b")),
]


def prose_problems(tex: str, where: str = "") -> list[str]:
    """What the reader must never see in generated TeX (see the module docstring), each as
    '<where>: <problem>: ...<context>...'."""
    text = plain_text(tex)
    # raw checks read the TeX itself, without the commands whose arguments are names
    raw = re.sub(r"(?<!\\)%.*", "", tex)
    if r"\begin{document}" in raw:
        raw = raw.split(r"\begin{document}", 1)[1]
    raw = re.sub(r"\\begin\{(equation|align)\*?\}.*?\\end\{\1\*?\}", " M ", raw, flags=re.S)
    raw = re.sub(r"\\(texttt|nb|model|label|ref|input|includegraphics|kagfig\w*|kagfigfile|"
                 r"kagnotebookdone|kagdef|kag|hypersetup|cite\w*|url|href)"
                 r"(\[[^\]]*\])?\{[^{}]*\}", " ", raw)
    no_math = re.sub(r"\\ensuremath\{(?:[^{}]|\{[^{}]*\})*\}|\$[^$]*\$", " M ", raw)
    sources = {"an invented decimal exponent": raw, "a raw caret": no_math,
               "an internal key": no_math, "raw R2": no_math}
    out = []
    for name, pattern in _PROBLEMS:
        source = sources.get(name, text)
        for m in pattern.finditer(source):
            ctx = source[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
            out.append(f"{where}: {name}: ...{ctx}...")
    return out


# --------------------------------------------------------------------------------------------
# the manuscript with its numbers filled in

def _group(text: str, start: int) -> tuple[str, int]:
    """The brace group starting at ``text[start] == '{'``: (contents, index after it)."""
    assert text[start] == "{", text[start:start + 20]
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        i += 1
        if depth == 0:
            return text[start + 1:i - 1], i
    raise ValueError("unbalanced braces")


def expand_manuscript(tex: str, macros: Mapping[str, str], done: Iterable[str]) -> str:
    """``tex`` with ``\\kag{key}`` replaced by its value, ``\\kagifnotebook`` resolved by the
    notebooks in ``done``, ``\\kagifdef`` by the keys of ``macros`` and ``\\kagifequal`` by
    comparing the expanded texts (what LaTeX typesets, without running it)."""
    done = set(done)
    text = re.sub(r"(?<!\\)%.*", "", tex)
    text = re.sub(r"\\kag\{([^{}]*)\}", lambda m: macros.get(m.group(1), "??"), text)
    for name, nargs in (("kagifnotebook", 3), ("kagifdef", 3), ("kagifequal", 4)):
        while True:
            m = re.search(r"\\" + name + r"\s*(?=\{)", text)
            if not m:
                break
            args, i = [], m.end()
            for _ in range(nargs):
                while text[i].isspace():
                    i += 1
                arg, i = _group(text, i)
                args.append(arg)
            if name == "kagifnotebook":
                out = args[1] if args[0].strip() in done else args[2]
            elif name == "kagifdef":
                out = args[1] if args[0].strip() in macros else args[2]
            else:
                out = args[2] if args[0].strip() == args[1].strip() else args[3]
            text = text[:m.start()] + out + text[i:]
    return text
