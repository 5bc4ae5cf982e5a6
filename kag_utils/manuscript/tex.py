"""Names, escaping and number formats of the generated TeX: the notebooks' sections and the
paper-section groups, macro names and claim slugs, TeX escaping, rounding by key."""
from __future__ import annotations

import fnmatch
import math
import re
import unicodedata
from typing import Any, Mapping

# The manuscript's sections, in the notebooks' order: (notebook stem, title, paper sections).
NOTEBOOKS = [
    ("01_setup", "Set-up, training protocol and Table I", "P1 Sec. II-III"),
    ("02_zero_rows", "Zero rows and Table II", "P1 Sec. IV.A"),
    ("03_minor_concentration", "Minor concentration and Tables III-IV", "P1 Sec. IV.B"),
    ("04_dynamics", "Dynamics and the lambda-xor interpolation", "P1 Sec. IV.C"),
    ("05_appendices", "Appendices A-C", "P1 App. A-C"),
    ("06_mnist_spatial", "MNIST: scale-agnostic KA geometry", "P2"),
    ("07_open_questions", "Beyond the papers", "open questions of P1 Sec. V and P2"),
]
NOTEBOOK_STEMS = [stem for stem, _, _ in NOTEBOOKS]

# Comparison rows are grouped by the section of the paper they belong to, the ``section``
# column of comparison.csv (kag_utils.pipeline.results.section_of: one section per notebook,
# notebook 05 split by appendix), in this order: (group id, section label, title). Every tally
# of the manuscript (abstract, verdict table, sections, appendix) uses this one grouping.
SECTIONS = [
    ("p1-ii-iii", "P1 §II–III", "P1 Sec. II–III: set-up, training and Table I"),
    ("p1-iv-a", "P1 §IV.A", "P1 Sec. IV.A: zero rows"),
    ("p1-iv-b", "P1 §IV.B", "P1 Sec. IV.B: minor concentration"),
    ("p1-iv-c", "P1 §IV.C", "P1 Sec. IV.C: dynamics and interpolation"),
    ("p1-app-a", "P1 App. A", "P1 App. A: tails of the minor distributions"),
    ("p1-app-b", "P1 App. B", "P1 App. B: batch size and latent KA geometry"),
    ("p1-app-c", "P1 App. C", "P1 App. C: other interpolations"),
    ("p2", "P2", "P2: MNIST"),
    ("beyond", "Beyond the papers", "Beyond the papers: new results"),
    ("other", "", "Other claims"),
]
SECTION_GROUPS = [(gid, title) for gid, _, title in SECTIONS]
_SECTION_IDS = {label: gid for gid, label, _ in SECTIONS if label}


def row_group(row: Mapping[str, str]) -> str:
    """The :data:`SECTIONS` id of a comparison row, from its ``section`` column (from its
    source, :func:`source_group`, for rows without one)."""
    label = (row.get("section") or "").strip()
    if label in _SECTION_IDS:
        return _SECTION_IDS[label]
    if label.startswith("P1 App."):
        return "p1-app-" + label[-1].lower() if label[-1] in "ABC" else "other"
    group = source_group(row.get("source", ""))
    return "p1-ii-iii" if group in ("p1-ii", "p1-iii") else group


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


def source_group(source: str) -> str:
    """The :data:`SECTION_GROUPS` id a comparison row's source belongs to."""
    text = source.strip()
    if text.startswith("Beyond the papers"):    # notebook 07's new results
        return "beyond"
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
