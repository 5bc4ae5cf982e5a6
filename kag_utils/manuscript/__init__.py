"""The reproduction manuscript (``paper/``): result macros, generated tables, the LaTeX build.

    python -m kag_utils.manuscript build [--params paper] [--out ROOT]   # generate + latexmk
    python -m kag_utils.manuscript generate [--params quick] [--out /tmp/paper_quick]
    python -m kag_utils.manuscript check [--params paper]   # keys, figures, staleness, pending
    bash scripts/paper.sh [--params paper]                   # set-up, then ``build``

The pattern is showyourwork's: computing is split from writing. The notebooks write
``<out>/results/<set>/*.json`` and ``comparison.csv`` and ``<out>/figures/<set>/``; this package turns them into ``paper/generated/<set>/`` and the manuscript ``paper/main.tex`` reads every
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
verdict,status,note,notebook,window}`` (verdict and status: the row's verdict; window: a
window value such as "0.15-0.7" in words) with ``slug`` the claim lower-cased with every run of
other characters than a-z, 0-9 replaced by ``-`` (``%`` -> ``pct`` first, :func:`claim_slug`);
tallies ``tally/<group>.{agree,disagree,total,sentence,<verdict>}`` for ``all``, each notebook
stem and each paper section (:data:`SECTIONS`, the ``section`` column, nested in the notebooks:
every tally of the text comes from this one grouping); and ``phrase/<name>``, sentences whose
wording depends on a number's sign or size (:func:`summary.phrases`). Notes, causes, claims and
text values enter the TeX through :func:`prose.reader_tex` (no raw keys, Python literals,
True/False or manifest identifiers); ``tests/test_manuscript_prose.py`` checks every generated
sentence with :func:`prose.prose_problems`.

**Rounding** depends on the kind of number and is chosen by the first glob pattern of
:data:`FORMATS` that matches the key (R^2 to 4 decimals as Table I, percentages to 3 as
Table II, participation ratios to 2 as Table III, ...; otherwise 3 significant digits).

**Staleness.** ``generated/<set>/sources.json`` records the SHA-256 of every source (results
files, comparison.csv, figures, the generator's own modules); :func:`check_stale` reports a generated folder
whose sources changed since (git checkouts do not keep modification times, so content hashes
stand in for "older than"), that lacks a results file that exists now, or whose outputs were
edited by hand. The PDF carries a digest of its inputs in its metadata (:func:`pdf_digest`).

Modules, each one job (imports run down this list):

    tex         notebook sections and paper-section groups, macro names, escaping, number formats
    prose       program text -> reader's prose, phrases from numbers, the grammar checks
    resultset   a loaded result set, its lookup table of numbers, verdict tallies
    causes      the causes of disagreement, each explained once, and each row's own detail
    tables      the generated tables (Tables I-IV, verdicts by section, the per-claim appendix,
                provenance, parameters, ...)
    summary     the abstract's verdict tally and what ran at which protocol
    writer      paper/generated/<set>/ and its sources.json manifest; the input digest
    checks      keys and figures used vs defined; staleness
    latex       the latexmk build and the command line (``main``)

The names below are this package's API (what kag-run, scripts/paper.sh and the tests use).
"""
from .checks import (check_manuscript, check_stale, defined_figures, defined_keys, done_notebooks,
                     guarded_lines, typed_numbers, used_figures, used_keys)
from .latex import (APT_PACKAGES, PDF_NAME, BuildResult, build, install_hint, log_problems, main,
                    missing_tex, pdf_digest)
from .resultset import ResultSet, load_result_set, result_macros, tally_groups, tally_sentence
from .tables import (appendix_table, borrowed_notebooks, pending_notebooks, verdict_table,
                     wording_table)
from .tex import (FORMATS, NOTEBOOK_STEMS, NOTEBOOKS, SECTION_GROUPS, SECTIONS, ManuscriptError,
                  claim_slug, format_number, format_value, macro_name, row_group, source_group,
                  tex_escape)
from .prose import (AMBIGUITIES, change_phrase, comparison_cells, expand_manuscript,
                    plain_text, prose_problems, reader_tex, window_phrase)
from .causes import CAUSES, classify
from .writer import generate, input_digest, manuscript_sources, paper_dir, project_root, render
