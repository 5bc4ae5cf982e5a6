"""The HTML edition: a static site of one parameter set's executed notebooks, its verdict table
and the manuscript PDF (``bash scripts/site.sh [SET]``, ``python -m kag_utils.cli.site``).

Input (nothing is run or computed here):

- the executed notebooks ``runs/<set>/NN_*.ipynb`` that ``kag-run --params <set>`` writes
  (git-ignored: they are not committed, so a set must have been run on this machine first);
- ``<out>/results/<set>/comparison.csv`` and the results files (``<out>``: the ``--out`` of
  that run, default the project root); a notebook the set borrows from another set (its
  record's ``from_set``, e.g. ``paper`` takes 06 from ``default``) is taken from
  ``runs/<that set>/``;
- the manuscript ``paper/kag-reproduction.pdf`` (or ``paper/build/<set>/`` for another set).

Output, ``site/<set>/`` by default (git-ignored): ``index.html`` (the notebooks, the verdict
tally by paper section and by notebook, links), one page per notebook (nbconvert's ``lab``
template with a navigation bar; every figure is a ``data:`` URI inside the page, so a page
shows its figures from a file system, offline; only MathJax comes from a CDN, and the text
reads without it), ``comparison.html`` (every claim with its verdict), ``comparison.csv`` and
the PDF. Links are relative: the folder can be served from anywhere (GitHub Pages:
.github/workflows/pages.yml).
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..pipeline.paths import find_root
from ..pipeline.results import fallback_dirs, load_results
from ..readings.verdicts import COMPARABLE, VERDICTS, headline, tally

PDF_NAME = "kag-reproduction.pdf"

# One colour per verdict category (background of the verdict cells and the tally headers).
VERDICT_COLOURS = {"reproduced": "#d9f2d9", "not reproduced": "#f9d6d5",
                   "inconclusive": "#eeeeee", "protocol-dependent": "#fbeccb",
                   "not comparable": "#dde6f5", "new result": "#e9def5"}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 72rem; padding: 1rem 1.5rem; line-height: 1.45; color: #1a1a1a; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; }
th { background: #f4f4f4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.verdict { white-space: nowrap; }
.note { color: #555; font-size: 0.9rem; }
nav.kag-nav { font-family: system-ui, sans-serif; font-size: 0.95rem; padding: 0.5rem 1rem;
              background: #f4f4f4; border-bottom: 1px solid #ccc; }
nav.kag-nav a { margin-right: 1.2rem; }
""" + "".join(f'.verdict[data-verdict="{v}"] {{ background: {c}; }}\n'
              for v, c in VERDICT_COLOURS.items())


class SiteError(RuntimeError):
    """A site that cannot be built from what is there (the message says what to run)."""


@dataclass
class NotebookPage:
    stem: str
    source: Path           # the executed .ipynb
    from_set: str          # the set whose run it is (differs for a borrowed notebook)
    title: str = ""
    page: str = ""         # file name in the site
    counts: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# inputs

def find_notebooks(set_name: str, runs: Path, results: Mapping[str, dict[str, Any]]
                   ) -> tuple[list[NotebookPage], list[str]]:
    """The executed notebooks of the set (``runs/NN_*.ipynb``) and, for the notebooks the set
    borrows from another set, ``runs/../<that set>/``; also the stems that have results but
    no executed notebook."""
    pages = {p.stem: NotebookPage(p.stem, p, set_name)
             for p in sorted(runs.glob("[0-9][0-9]_*.ipynb"))}
    missing = []
    for stem, record in sorted(results.items()):
        if stem in pages:
            continue
        borrowed = record.get("from_set")
        path = runs.parent / borrowed / f"{stem}.ipynb" if borrowed else None
        if path is not None and path.exists():
            pages[stem] = NotebookPage(stem, path, borrowed)
        else:
            missing.append(stem)
    return [pages[s] for s in sorted(pages)], missing


def read_comparison(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise SiteError(f"no verdict table {path}: run the notebooks of this set with kag-run "
                        "(it writes comparison.csv after every run)")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    bad = sorted({r.get("verdict", "") for r in rows} - set(VERDICTS))
    if bad:
        raise SiteError(f"{path}: unknown verdict(s) {bad}; categories are {list(VERDICTS)}")
    return rows


def notebook_title(nb) -> str:
    """The first Markdown heading of a notebook (its title), without the leading #s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def manuscript_pdf(root: Path, set_name: str, pdf: Path | None) -> Path | None:
    if pdf is not None:
        if not pdf.exists():
            raise SiteError(f"no PDF {pdf}")
        return pdf
    for path in ((root / "paper" / PDF_NAME) if set_name == "paper" else
                 root / "paper" / "build" / set_name / PDF_NAME, root / "paper" / PDF_NAME):
        if path.exists():
            return path
    return None


def pdf_status(pdf: Path, root: Path, out: Path, set_name: str) -> str:
    """Whether the PDF was built from exactly these results (the input digest it carries)."""
    from .. import manuscript as ms

    carried = ms.pdf_digest(pdf)
    try:
        here = ms.input_digest(ms.load_result_set(out, set_name), root / "paper")
    except (OSError, ValueError, ms.ManuscriptError):
        here = None
    if carried and carried == here:
        return f"built from these results of set <code>{html.escape(set_name)}</code>"
    command = f"bash scripts/paper.sh --params {set_name}" + (
        f" --out {out}" if out != root else "")
    return ("built from other inputs than these results (another set, run or manuscript "
            f"version; <code>{html.escape(command)}</code> builds it from these)")


# --------------------------------------------------------------------------------------------
# rendering

# The notebook page: nbconvert's lab template with a navigation bar, without require.js and
# mermaid (neither is used; they would load from a CDN). MathJax stays (from its CDN).
PAGE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}<style>{{ resources.kag.style }}</style>{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="kag-nav">{{ resources.kag.nav }}</nav>
{%- endblock body_header -%}
{% block body_footer %}
<nav class="kag-nav">{{ resources.kag.nav }}</nav>
{{ super() }}
{% endblock body_footer %}
"""


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="kag_page.html.j2",
                        extra_loaders=[DictLoader({"kag_page.html.j2": PAGE_TEMPLATE})],
                        embed_images=True)


def _nav(pages: Sequence[NotebookPage], i: int) -> str:
    links = ['<a href="index.html">index</a>']
    if i > 0:
        links.append(f'<a href="{pages[i - 1].page}">&larr; {html.escape(pages[i - 1].stem)}</a>')
    if i + 1 < len(pages):
        links.append(f'<a href="{pages[i + 1].page}">{html.escape(pages[i + 1].stem)} &rarr;</a>')
    links.append(f'<a href="comparison.html#{html.escape(pages[i].stem)}">'
                 "this notebook's verdicts</a>")
    return " ".join(links)


def render_notebook(nb, title: str, nav: str, exporter) -> str:
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title}, "kag": {"nav": nav, "style": STYLE}})
    return body


def _format_value(text: str) -> str:
    """A number of comparison.csv to 4 significant digits; any other text unchanged."""
    try:
        value = float(text)
    except ValueError:
        return text
    if value != value:  # NaN
        return "NaN"
    return f"{value:.4g}"


def _value_cell(row: Mapping[str, str], who: str) -> str:
    value = row.get(f"{who}_value", "")
    if value == "":
        return "&ndash;"
    text = html.escape(_format_value(value))
    if row.get(f"{who}_sd"):
        text += " &plusmn; " + html.escape(_format_value(row[f"{who}_sd"]))
    if row.get(f"{who}_n"):
        text += f' <span class="note">(n&nbsp;=&nbsp;{html.escape(row[f"{who}_n"])})</span>'
    return text


def verdict_cell(verdict: str) -> str:
    return f'<td class="verdict" data-verdict="{html.escape(verdict)}">{html.escape(verdict)}</td>'


def tally_table(rows: Sequence[Mapping[str, str]], by: str, label: str,
                links: Mapping[str, str] | None = None) -> str:
    """Verdict counts per value of ``by`` (table rows) and category (columns), with totals."""
    per = tally(rows, by=by)
    used = [v for v in VERDICTS if any(c[v] for c in per.values())]
    out = [f'<table class="tally" data-by="{by}"><thead><tr><th>{html.escape(label)}</th>']
    out += [f'<th class="verdict" data-verdict="{v}">{v}</th>' for v in used]
    out.append("<th>total</th></tr></thead><tbody>")
    for group, counts in per.items():
        name = html.escape(group)
        if links and group in links:
            name = f'<a href="{links[group]}">{name}</a>'
        out.append(f"<tr><td>{name}</td>" + "".join(f'<td class="num">{counts[v]}</td>'
                                                     for v in used)
                   + f'<td class="num">{sum(counts.values())}</td></tr>')
    total = tally(rows)
    out.append("<tr><th>all</th>" + "".join(f'<th class="num">{total[v]}</th>' for v in used)
               + f'<th class="num">{len(rows)}</th></tr></tbody></table>')
    return "".join(out)


def comparison_page(set_name: str, rows: Sequence[Mapping[str, str]],
                    pages: Mapping[str, NotebookPage]) -> str:
    """Every claim: paper vs ours and the verdict, grouped by notebook."""
    columns = ["claim", "source", "paper", "ours", "verdict", "cause and notes"]
    parts = [_head(f"Verdicts: parameter set {set_name}"),
             '<nav class="kag-nav"><a href="index.html">index</a>'
             '<a href="comparison.csv">comparison.csv</a></nav>',
             f"<h1>Every claim and its verdict (parameter set <code>{html.escape(set_name)}"
             "</code>)</h1>", f"<p>{html.escape(headline(rows))}</p>", _legend()]
    groups: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        groups.setdefault(row.get("notebook", ""), []).append(row)
    for stem, group in groups.items():
        page = pages.get(stem)
        title = html.escape(stem) + (f": {html.escape(page.title)}" if page and page.title else "")
        link = f' <a class="note" href="{page.page}">(notebook)</a>' if page else ""
        parts.append(f'<h2 id="{html.escape(stem)}">{title}{link}</h2>')
        parts.append('<table class="verdicts"><thead><tr>'
                     + "".join(f"<th>{c}</th>" for c in columns) + "</tr></thead><tbody>")
        for row in group:
            notes = "; ".join(html.escape(t) for t in _notes(row))
            parts.append(
                f"<tr><td>{html.escape(row['claim'])}</td>"
                f"<td>{html.escape(row.get('source', ''))}</td>"
                f'<td class="num">{_value_cell(row, "paper")}</td>'
                f'<td class="num">{_value_cell(row, "ours")}</td>'
                + verdict_cell(row["verdict"]) + f'<td class="note">{notes}</td></tr>')
        parts.append("</tbody></table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _notes(row: Mapping[str, str]) -> list[str]:
    """The row's cause, note and readings, each once (the note often repeats the cause)."""
    texts = [row[k].strip() for k in ("cause", "note", "readings") if (row.get(k) or "").strip()]
    return [t for i, t in enumerate(texts)
            if not any(t in u and (t != u or j < i) for j, u in enumerate(texts) if j != i)]


def _legend() -> str:
    meaning = {
        "reproduced": "consistent with the paper under the rule of verdicts.py (2 combined "
                      "standard errors, the paper's printed precision, its wording's tolerance)",
        "not reproduced": "inconsistent under that rule; the row names the likely cause",
        "inconclusive": "consistent, but the combined error is too large to tell",
        "protocol-dependent": "reproduced only under a reading of an unstated detail other "
                              "than ours (the row names the readings)",
        "not comparable": "our run is not the paper's protocol: not counted",
        "new result": "beyond the papers: nothing to compare with, not counted"}
    return ('<table class="legend"><tbody>' + "".join(
        f"<tr>{verdict_cell(v)}<td>{html.escape(meaning[v])}</td></tr>" for v in VERDICTS)
        + "</tbody></table>")


def _head(title: str) -> str:
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>")


def index_page(set_name: str, pages: Sequence[NotebookPage], missing: Sequence[str],
               rows: Sequence[Mapping[str, str]], pdf_line: str | None) -> str:
    parts = [_head(f"KA geometry reproduction: parameter set {set_name}"),
             "<h1>Kolmogorov&ndash;Arnold geometry: a reproduction</h1>",
             "<p>The executed notebooks of parameter set <code>"
             f"{html.escape(set_name)}</code>: narrative, code, outputs and figures of the "
             "reproduction of Freedman &amp; Mulligan, <em>Spontaneous Kolmogorov&ndash;Arnold "
             'Geometry in Shallow MLPs</em> (<a href="https://arxiv.org/abs/2509.12326">'
             "arXiv 2509.12326</a>, P1) and <em>Scale-Agnostic Kolmogorov&ndash;Arnold Geometry "
             'in Neural Networks</em> (<a href="https://arxiv.org/abs/2511.21626">arXiv '
             "2511.21626</a>, P2).</p>"]
    parts.append("<h2>The manuscript</h2>")
    if pdf_line:
        parts.append(f'<p><a href="{PDF_NAME}">{PDF_NAME}</a> ({pdf_line}).</p>')
    else:
        parts.append("<p>No PDF was found (<code>bash scripts/paper.sh</code> builds it).</p>")
    parts.append("<h2>The notebooks</h2>")
    counts_by_nb = tally(rows, by="notebook")
    used = [v for v in VERDICTS if any(c[v] for c in counts_by_nb.values())]
    parts.append('<table class="notebooks"><thead><tr><th>notebook</th><th>title</th>'
                 + "".join(f'<th class="verdict" data-verdict="{v}">{v}</th>' for v in used)
                 + "</tr></thead><tbody>")
    for page in pages:
        counts = counts_by_nb.get(page.stem, {})
        borrowed = (f' <span class="note">(run of set <code>{html.escape(page.from_set)}'
                    "</code>)</span>" if page.from_set != set_name else "")
        parts.append(f'<tr><td><a href="{page.page}">{html.escape(page.stem)}</a></td>'
                     f"<td>{html.escape(page.title)}{borrowed}</td>"
                     + "".join(f'<td class="num">{counts.get(v, 0)}</td>' for v in used)
                     + "</tr>")
    parts.append("</tbody></table>")
    if missing:
        parts.append('<p class="note">Results without an executed notebook here (run them with '
                     f"<code>kag-run --params {html.escape(set_name)}</code>): "
                     + ", ".join(html.escape(m) for m in missing) + ".</p>")
    parts.append("<h2>What reproduced</h2>")
    parts.append(f"<p>{html.escape(headline(rows))} "
                 '<a href="comparison.html">Every claim with its verdict</a> '
                 '(<a href="comparison.csv">comparison.csv</a>).</p>')
    parts.append(tally_table(rows, "section", "paper section"))
    parts.append(_legend())
    parts.append('<p class="note">Built by <code>bash scripts/site.sh '
                 f"{html.escape(set_name)}</code> (kag_utils.cli.site) from "
                 f"<code>runs/{html.escape(set_name)}/</code> and <code>results/"
                 f"{html.escape(set_name)}/</code>. Comparable categories: "
                 + ", ".join(COMPARABLE) + ".</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# the build

def build_site(set_name: str = "paper", out: str | os.PathLike | None = None,
               runs: str | os.PathLike | None = None, dest: str | os.PathLike | None = None,
               pdf: str | os.PathLike | None = None,
               root: str | os.PathLike | None = None) -> Path:
    """Build ``dest`` (default ``<root>/site/<set>``) from the executed notebooks in ``runs``
    (default ``<root>/runs/<set>``) and ``<out>/results/<set>`` (``out`` default: the root).
    Returns ``dest/index.html``."""
    import nbformat

    root = find_root(Path(root) if root else None)
    out = Path(out).resolve() if out else root
    runs = Path(runs).resolve() if runs else root / "runs" / set_name
    dest = Path(dest).resolve() if dest else root / "site" / set_name
    results_dir = out / "results" / set_name
    rows = read_comparison(results_dir / "comparison.csv")
    results = load_results(results_dir, fallback_dirs(results_dir))
    pages, missing = find_notebooks(set_name, runs, results)
    if not pages:
        raise SiteError(
            f"no executed notebooks in {runs}: executed notebooks are not committed; run the "
            f"set first, e.g.  kag-run --params {set_name}  (it writes runs/{set_name}/*.ipynb"
            f"), or pass --runs DIR (kag-run --run-dir)")
    notebooks = []
    for page in pages:
        nb = nbformat.read(page.source, as_version=4)
        page.title = notebook_title(nb) or page.stem
        page.page = f"{page.stem}.html"
        injected = ((nb.metadata.get("papermill") or {}).get("parameters") or {})
        if injected.get("params_name") not in (None, page.from_set):
            raise SiteError(f"{page.source} was run with parameter set "
                            f"{injected['params_name']!r}, not {page.from_set!r}")
        notebooks.append(nb)
    if dest.exists() and any(dest.iterdir()):
        if not (dest / "site.json").exists():
            raise SiteError(f"{dest} exists and holds something other than a site of this "
                            "command (no site.json): pass a new or empty --dest")
        shutil.rmtree(dest)           # the previous build of this site
    dest.mkdir(parents=True, exist_ok=True)
    exporter = _exporter()
    for i, (page, nb) in enumerate(zip(pages, notebooks)):
        (dest / page.page).write_text(render_notebook(nb, page.title, _nav(pages, i), exporter))
    by_stem = {p.stem: p for p in pages}
    (dest / "comparison.html").write_text(comparison_page(set_name, rows, by_stem))
    shutil.copyfile(results_dir / "comparison.csv", dest / "comparison.csv")
    pdf_path = manuscript_pdf(root, set_name, Path(pdf) if pdf else None)
    pdf_line = None
    if pdf_path is not None:
        shutil.copyfile(pdf_path, dest / PDF_NAME)
        pdf_line = pdf_status(pdf_path, root, out, set_name)
    index = dest / "index.html"
    index.write_text(index_page(set_name, pages, missing, rows, pdf_line))
    (dest / "site.json").write_text(json.dumps({
        "set": set_name, "notebooks": {p.stem: {"page": p.page, "title": p.title,
                                                "from_set": p.from_set} for p in pages},
        "missing": list(missing), "comparison_rows": len(rows),
        "pdf": PDF_NAME if pdf_path else None}, indent=1) + "\n")
    return index


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bash scripts/site.sh",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("set", nargs="?", default="paper",
                        help="parameter set (default: paper; e.g. quick)")
    parser.add_argument("--out", help="the kag-run --out folder holding results/<set> "
                                      "(default: the project root)")
    parser.add_argument("--runs", help="the executed notebooks (default: runs/<set>; "
                                       "kag-run --run-dir)")
    parser.add_argument("--dest", help="where the site goes (default: site/<set>)")
    parser.add_argument("--pdf", help="the manuscript PDF to include (default: "
                                      "paper/kag-reproduction.pdf for paper, else "
                                      "paper/build/<set>/ if built there)")
    parser.add_argument("--root", help="project root (default: found from the cwd)")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        index = build_site(args.set, args.out, args.runs, args.dest, args.pdf, args.root)
    except SiteError as exc:
        print(f"[site] {exc}", file=sys.stderr)
        return 2
    info = json.loads((index.parent / "site.json").read_text())
    print(f"[site] {index} ({len(info['notebooks'])} notebook pages, "
          f"{info['comparison_rows']} verdicts) in {time.time() - start:.0f} s", flush=True)
    if info["missing"]:
        print(f"[site] without an executed notebook: {', '.join(info['missing'])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
