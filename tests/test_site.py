"""The HTML edition (kag_utils.cli.site, ``bash scripts/site.sh``).

Fast tests build a site from a synthetic run (one executed notebook with a figure, a borrowed
one, comparison.csv). The slow test builds the site of the quick run (the ``quick_run``
session fixture of tests/conftest.py, shared with the notebook and manuscript tests) and opens
every page in headless Chromium with name resolution switched off (so nothing can come from a
CDN): each notebook page shows its figures (every ``img`` loaded with a natural width > 0, at
least as many as the notebook saved), the index shows the verdict tally with its categories
and links every notebook page, the PDF and the verdict table, and the verdict table has one
row per comparison.csv row, each with a known category. A page whose figure is broken fails
the same check (the check has teeth). Needs Debian's chromium and chromium-driver: skips
locally without them, fails under CI.
"""
from __future__ import annotations

import base64
import csv
import json
import struct
import subprocess
import time
import zlib
from pathlib import Path

import nbformat
import pytest

from conftest import start_chromium
from kag_utils.cli import site
from kag_utils.readings.verdicts import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
# file:// pages only: every host name fails to resolve, so a page that needed a CDN for its
# figures or tables would show that here.
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND"]


def _png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


ROWS = [
    {"claim": "Table I train R2 xor(32)", "section": "P1 §II–III", "source": "P1 Table I",
     "paper_value": "0.985", "paper_sd": "0.0081", "paper_n": "4", "ours_value": "0.98039933",
     "ours_sd": "0.0015", "ours_n": "4", "verdict": "reproduced", "notebook": "01_setup"},
    {"claim": "critical batch size", "section": "P1 §II–III", "source": "P1 Sec III",
     "paper_value": "250", "ours_value": "153.3", "verdict": "not reproduced",
     "cause": "criterion unstated <b>", "note": "criterion unstated <b>; more",
     "notebook": "01_setup"},
    {"claim": "P2 ratio", "section": "P2", "source": "P2 Fig. 1", "paper_value": "> 1",
     "ours_value": "1.2", "verdict": "not comparable", "notebook": "06_mnist_spatial"},
]


def _executed(stem: str, set_name: str, png: bytes) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"params_name": set_name}}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {stem[:2]} · A title of {stem}\n\ntext $x^2$"),
                nbformat.v4.new_code_cell("plot()", execution_count=1, outputs=[
                    nbformat.v4.new_output("display_data", data={
                        "image/png": base64.b64encode(png).decode(),
                        "text/plain": "<Figure>"})])]
    return nb


@pytest.fixture
def synthetic(tmp_path):
    """``out`` with results/paper (01) and results/default (06, borrowed), comparison.csv, and
    executed notebooks runs/paper/01_setup.ipynb and runs/default/06_mnist_spatial.ipynb."""
    out = tmp_path / "out"
    for set_name, stem in (("paper", "01_setup"), ("default", "06_mnist_spatial")):
        res = out / "results" / set_name
        res.mkdir(parents=True)
        (res / f"{stem}.json").write_text(json.dumps({
            "notebook": stem, "params_name": set_name, "numbers": {"figures": ["fig"]},
            "comparison": [], "provenance": {}}))
        runs = out / "runs" / set_name
        runs.mkdir(parents=True)
        nbformat.write(_executed(stem, set_name, _png()), runs / f"{stem}.ipynb")
    with (out / "results" / "paper" / "comparison.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=sorted({k for r in ROWS for k in r}))
        writer.writeheader()
        writer.writerows(ROWS)
    return out


def _build(out: Path, dest: Path, set_name: str = "paper", runs: Path | None = None) -> Path:
    return site.build_site(set_name, out=out, runs=runs or out / "runs" / set_name, dest=dest,
                           root=ROOT)


def test_site_from_a_synthetic_run(synthetic, tmp_path):
    index = _build(synthetic, tmp_path / "site")
    dest = index.parent
    info = json.loads((dest / "site.json").read_text())
    assert info["notebooks"] == {
        "01_setup": {"page": "01_setup.html", "title": "01 · A title of 01_setup",
                     "from_set": "paper"},
        "06_mnist_spatial": {"page": "06_mnist_spatial.html",
                             "title": "06 · A title of 06_mnist_spatial", "from_set": "default"}}
    assert info["missing"] == [] and info["comparison_rows"] == 3
    assert (dest / site.PDF_NAME).read_bytes() == (ROOT / "paper" / site.PDF_NAME).read_bytes()
    page = (dest / "01_setup.html").read_text()
    assert page.count('src="data:image/png;base64,') == 1          # the figure is in the page
    assert 'href="06_mnist_spatial.html"' in page and 'href="index.html"' in page
    assert "require.js" not in page and "mermaid" not in page       # no CDN but MathJax
    text = index.read_text()
    for link in ("01_setup.html", "06_mnist_spatial.html", "comparison.html", site.PDF_NAME):
        assert f'href="{link}"' in text
    assert "(run of set <code>default</code>)" in text
    comparison = (dest / "comparison.html").read_text()
    assert comparison.count('<td class="verdict" data-verdict=') == len(ROWS) + len(VERDICTS)
    assert "0.985 &plusmn; 0.0081" in comparison and "0.9804 &plusmn; 0.0015" in comparison
    assert comparison.count("criterion unstated &lt;b&gt;") == 1     # escaped, and once


def test_site_replaces_only_its_own_folder(synthetic, tmp_path):
    dest = tmp_path / "site"
    _build(synthetic, dest)
    (dest / "stale.html").write_text("from an earlier build")
    _build(synthetic, dest)                                  # a site of this command: rebuilt
    assert not (dest / "stale.html").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("not ours")
    with pytest.raises(site.SiteError, match="new or empty --dest"):
        _build(synthetic, other)
    assert (other / "keep.txt").exists()


def test_site_without_executed_notebooks_says_what_to_run(synthetic, tmp_path):
    with pytest.raises(site.SiteError, match=r"kag-run --params paper"):
        _build(synthetic, tmp_path / "site", runs=tmp_path / "empty")


def test_site_refuses_a_notebook_of_another_set(synthetic, tmp_path):
    nb = _executed("01_setup", "quick", _png())
    nbformat.write(nb, synthetic / "runs" / "paper" / "01_setup.ipynb")
    with pytest.raises(site.SiteError, match="run with parameter set 'quick', not 'paper'"):
        _build(synthetic, tmp_path / "site")


def test_site_refuses_an_unknown_verdict(synthetic, tmp_path):
    path = synthetic / "results" / "paper" / "comparison.csv"
    path.write_text(path.read_text().replace("not comparable", "sort of"))
    with pytest.raises(site.SiteError, match="unknown verdict"):
        _build(synthetic, tmp_path / "site")


def test_site_script_and_pages_workflow():
    """scripts/site.sh is the command line; the Pages workflow runs the set (the executed
    notebooks are not committed), builds the PDF and the site from that run and deploys it."""
    import yaml

    text = (ROOT / "scripts" / "site.sh").read_text()
    assert "python -m kag_utils.cli.site" in text and "scripts/setup.sh" in text
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "site.sh")]).returncode == 0
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = flow["jobs"]["build"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    order = [runs.index(c) for c in ("scripts/setup.sh", "kag-run --params", "scripts/paper.sh",
                                     "scripts/site.sh")]
    assert order == sorted(order), runs
    assert "actions/upload-pages-artifact" in uses and "actions/setup-python" in uses
    assert [s["uses"].split("@")[0] for s in flow["jobs"]["deploy"]["steps"]] == [
        "actions/deploy-pages"]
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


# --------------------------------------------------------------------------------------------
# the quick run in headless Chromium (slow)

def page_problems(driver, url: str, min_images: int) -> list[str]:
    """What is wrong with a notebook page: its figures (every img loaded, natural width > 0,
    at least ``min_images`` of them) and its navigation bar."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
        "i.src.slice(0, 40)])")
    problems = [f"figure {i} not shown (complete={c}, naturalWidth={w}, src {s}...)"
                for i, (c, w, s) in enumerate(images) if not (c and w > 0)]
    if len(images) < min_images:
        problems.append(f"{len(images)} figures on the page, the notebook saved {min_images}")
    if not driver.find_elements(By.CSS_SELECTOR, "nav.kag-nav a[href='index.html']"):
        problems.append("no navigation bar back to the index")
    if not driver.find_elements(By.CSS_SELECTOR, ".jp-Cell"):
        problems.append("no notebook cells")
    return problems


@pytest.fixture(scope="module")
def offline_browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-site"), OFFLINE)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def quick_site(quick_run, tmp_path_factory):
    start = time.monotonic()
    index = site.build_site("quick", out=quick_run, runs=quick_run / "runs",
                            dest=tmp_path_factory.mktemp("site") / "quick", root=ROOT)
    print(f"[site] quick site built in {time.monotonic() - start:.1f} s")
    return index.parent


@pytest.mark.slow
def test_quick_site_renders_in_chromium(offline_browser, quick_site, quick_run):
    from selenium.webdriver.common.by import By

    driver = offline_browser
    info = json.loads((quick_site / "site.json").read_text())
    expected = sorted(p.stem for p in (quick_run / "results" / "quick").glob("[0-9][0-9]_*.json"))
    assert sorted(info["notebooks"]) == expected and info["missing"] == []

    # index: a link to every page and the PDF, the verdict tally with its categories
    driver.get((quick_site / "index.html").as_uri())
    links = {a.get_attribute("href").rsplit("/", 1)[-1]
             for a in driver.find_elements(By.CSS_SELECTOR, "a")}
    wanted = {p["page"] for p in info["notebooks"].values()} | {"comparison.html", site.PDF_NAME}
    assert wanted <= links, f"index lacks links to {wanted - links}"
    for name in wanted:
        assert (quick_site / name).is_file()
    heads = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table.tally thead th")]
    assert heads[0] == "paper section" and heads[-1] == "total"
    assert set(heads[1:-1]) <= set(VERDICTS) and "reproduced" in heads

    # the verdict table: one row per claim, each with a category and its colour
    rows = list(csv.DictReader(open(quick_run / "results" / "quick" / "comparison.csv")))
    driver.get((quick_site / "comparison.html").as_uri())
    cells = driver.find_elements(By.CSS_SELECTOR, "table.verdicts tbody td.verdict")
    assert len(cells) == len(rows)
    assert [c.text for c in cells] == [r["verdict"] for r in rows]
    colours = {c.value_of_css_property("background-color") for c in cells}
    assert "rgba(0, 0, 0, 0)" not in colours

    # every notebook page shows its figures
    problems = {}
    for stem, page in sorted(info["notebooks"].items()):
        saved = json.loads((quick_run / "results" / "quick" / f"{stem}.json").read_text())
        n_figures = len(saved["numbers"].get("figures", []))
        found = page_problems(driver, (quick_site / page["page"]).as_uri(), n_figures)
        if found:
            problems[stem] = found
    assert not problems, problems


@pytest.mark.slow
def test_a_broken_figure_fails_the_check(offline_browser, quick_site, tmp_path):
    stem = next(p.stem for p in sorted(quick_site.glob("[0-9][0-9]_*.html")))
    text = (quick_site / f"{stem}.html").read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace('src="data:image/png;base64,iVBOR',
                                   'src="data:image/png;base64,AAAAA', 1))
    problems = page_problems(offline_browser, broken.as_uri(), 0)
    assert any(p.startswith("figure 0 not shown") for p in problems), problems
