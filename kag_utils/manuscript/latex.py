"""The LaTeX build (latexmk and the Debian TeX Live packages it needs) and the command line
``python -m kag_utils.manuscript build|generate|check``."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .tex import ManuscriptError
from .resultset import ResultSet, load_result_set
from .writer import generate, paper_dir
from .checks import check_manuscript, check_stale


# The Debian packages of TeX Live the build needs (verified on Debian 12 from a bare system:
# latexmk pulls texlive-base, texlive-latex-base and texlive-binaries).
APT_PACKAGES = ["latexmk", "texlive-latex-recommended"]
TEX_PROGRAMS = ["latexmk", "pdflatex", "bibtex", "kpsewhich"]
TEX_FILES = ["amsmath.sty", "amssymb.sty", "graphicx.sty", "booktabs.sty", "longtable.sty",
             "array.sty", "xcolor.sty", "caption.sty", "natbib.sty", "hyperref.sty",
             "geometry.sty", "microtype.sty", "plainnat.bst"]

PDF_NAME = "kag-reproduction"


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


# --------------------------------------------------------------------------------------------
# reproducible output: the same inputs give the same bytes

def source_date_epoch(rs: ResultSet) -> int:
    """The PDF's date (``SOURCE_DATE_EPOCH``): when its newest result was computed, the latest
    ``provenance.timestamp_utc`` of the set's records (borrowed ones included). It is part of
    the inputs (the results files, which the digest covers), so it does not move with the
    time or place of the build; a set without timestamps gets 0 (1970-01-01)."""
    stamps = []
    for stem, record in rs.records.items():
        text = (record.get("provenance") or {}).get("timestamp_utc")
        if not text:
            continue
        try:
            when = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise ManuscriptError(f"results of {stem}: provenance.timestamp_utc {text!r} is "
                                  "not YYYY-MM-DDTHH:MM:SSZ") from None
        stamps.append(int(when.timestamp()))
    return max(stamps, default=0)


def reproducible_env(epoch: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a byte-reproducible pdfTeX run: ``SOURCE_DATE_EPOCH`` sets
    /CreationDate, /ModDate and the trailer /ID's seed, ``FORCE_SOURCE_DATE=1`` also
    ``\\today`` and ``\\time``. A ``SOURCE_DATE_EPOCH`` already set outside wins (the
    reproducible-builds convention)."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SOURCE_DATE_EPOCH", str(epoch))
    env["FORCE_SOURCE_DATE"] = "1"
    return env


# Prepended to main.tex (latexmk -usepretex): the trailer /ID from the input digest instead of
# the output file's path, and no /PTEX.FileName etc. in included figure PDFs (paths of the
# build); the PDF then depends only on its inputs and the TeX Live version.
REPRODUCIBLE_PRETEX = r"\pdftrailerid{kag-%s}\pdfsuppressptexinfo=-1\relax "


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
    sources = json.loads((gen / "sources.json").read_text())
    epoch = source_date_epoch(load_result_set(out or pdir.parent, set_name))
    outdir = pdir / "build" / set_name
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           f"-jobname={PDF_NAME}", f"-outdir=build/{set_name}",
           "-usepretex=" + REPRODUCIBLE_PRETEX % sources["digest"][:32]
           + "\\def\\kagset{" + set_name + "}", "main.tex"]
    if quiet:
        cmd.insert(1, "-quiet")
    env = dict(reproducible_env(epoch), BIBINPUTS=f"{pdir}{os.pathsep}",
               TEXINPUTS=f"{pdir}{os.pathsep}", max_print_line="100000")
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
    return BuildResult(pdf=pdf, log=log, seconds=time.time() - start, warnings=warnings,
                       pending=sources["pending"])


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
