"""``kag-run``: execute the notebooks headless with papermill and a named parameter set.

    kag-run                          # every notebook with params/default.yaml
    kag-run --params quick 01 02     # notebooks whose names start with 01 or 02
    kag-run --params paper --scheduler local
    kag-run --list                   # notebooks and the parameters each declares
    kag-run --params paper --paper   # every notebook, then the manuscript (paper/)

Each ``notebooks/NN_name.py`` (Jupytext percent format) is converted in memory, checked
against the parameter set (a parameter the notebook does not declare is an error), and
executed with papermill into ``runs/<set>/NN_name.ipynb``. The notebook itself writes its
figures to ``<out>/figures/<set>/`` and its numbers to ``<out>/results/<set>/NN_name.json``;
afterwards the runner merges all comparison rows into ``<out>/results/<set>/comparison.csv``.

``--scheduler`` is passed to every notebook, whose sweeps then run on Dask (see
kag_utils.pipeline.sweep). For ``local`` the runner starts one LocalCluster for the whole run and
passes its address, so worker processes start (and import torch) once, not per notebook.

Parameter files (``params/<set>.yaml``) have a ``common`` section passed to every notebook
and one section per notebook (keyed by its stem, e.g. ``01_setup``). Sections whose names
start with ``_`` are ignored: they hold YAML anchors shared by several notebooks.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from ..pipeline.paths import find_root
# the parameters the runner passes to every notebook (each declares them), and the cell parser
from ..pipeline.session import RUNNER_PARAMETERS, parameter_names


class ParameterError(ValueError):
    """A parameter set does not fit the notebooks it is run with."""


def list_notebooks(root: Path) -> list[Path]:
    return sorted(p for p in (root / "notebooks").glob("[0-9][0-9]_*.py"))


def select_notebooks(root: Path, prefixes: list[str]) -> list[Path]:
    notebooks = list_notebooks(root)
    if not prefixes:
        return notebooks
    chosen = [nb for nb in notebooks if any(nb.stem.startswith(p) for p in prefixes)]
    unknown = [p for p in prefixes if not any(nb.stem.startswith(p) for nb in notebooks)]
    if unknown:
        names = ", ".join(nb.stem for nb in notebooks)
        raise ParameterError(f"no notebook matches {unknown}; available: {names}")
    return chosen


def load_parameter_set(root: Path, name_or_path: str) -> tuple[str, dict[str, Any]]:
    """Return (set name, parsed YAML) for ``params/<name>.yaml`` or an explicit path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = root / "params" / f"{name_or_path}.yaml"
    if not path.exists():
        available = ", ".join(p.stem for p in sorted((root / "params").glob("*.yaml")))
        raise ParameterError(f"parameter set {name_or_path!r} not found ({path}); "
                             f"available: {available}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path} must be a mapping of sections")
    return path.stem, data


def read_notebook(path: Path):
    import jupytext

    notebook = jupytext.read(path)
    for cell in notebook.cells:  # papermill expects every cell to have a tags list
        cell.metadata.setdefault("tags", [])
    return notebook


def declared_parameters(notebook) -> dict[str, Any]:
    """Names (and default source text) declared in the notebook's ``parameters`` cell."""
    from papermill.inspection import _infer_parameters

    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ParameterError("notebook has no cell tagged 'parameters'")
    params = {p.name: p.default for p in _infer_parameters(notebook)}
    assigned = parameter_names(cells[0].source)
    unparsed = [name for name in assigned if name not in params]
    if unparsed:
        raise ParameterError(f"papermill cannot parse the parameters {unparsed}: keep each on "
                             "one line as 'name = value  # comment', with no '=' in the comment")
    return params


def notebook_parameters(stem: str, declared: dict[str, Any], param_set: dict[str, Any],
                        set_name: str) -> dict[str, Any]:
    """The parameters for one notebook: common + its own section; unknown names fail."""
    common = param_set.get("common") or {}
    own = param_set.get(stem) or {}
    merged = {**common, **own}
    unknown = sorted(set(merged) - set(declared))
    if unknown:
        raise ParameterError(
            f"params/{set_name}.yaml passes {unknown} to {stem}, which does not declare "
            f"them in its parameters cell (declared: {sorted(declared)})")
    return merged


def check_sections(param_set: dict[str, Any], all_stems: list[str], set_name: str) -> None:
    unknown = sorted(k for k in set(param_set) - set(all_stems) - {"common"}
                     if not str(k).startswith("_"))
    if unknown:
        raise ParameterError(f"params/{set_name}.yaml has sections for unknown notebooks "
                             f"{unknown}; notebooks are {all_stems}")


def run(params: str = "default", notebooks: list[str] | None = None,
        out: str | os.PathLike | None = None, run_dir: str | os.PathLike | None = None,
        scheduler: str | None = None, root: str | os.PathLike | None = None,
        log_output: bool = False) -> list[Path]:
    """Execute the selected notebooks; return the paths of the executed .ipynb files."""
    from ..pipeline import sweep
    from ..pipeline.results import write_comparison

    try:
        sweep.check_scheduler(scheduler)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    root = find_root(Path(root) if root else None)
    set_name, param_set = load_parameter_set(root, params)
    chosen = select_notebooks(root, notebooks or [])
    check_sections(param_set, [nb.stem for nb in list_notebooks(root)], set_name)
    out_root = Path(out).resolve() if out else root
    run_root = Path(run_dir).resolve() if run_dir else root / "runs" / set_name
    run_root.mkdir(parents=True, exist_ok=True)

    # Check every notebook's parameters before running any of them.
    plans = []
    for nb_path in chosen:
        nb = read_notebook(nb_path)
        try:
            declared = declared_parameters(nb)
        except ParameterError as exc:
            raise ParameterError(f"{nb_path.name}: {exc}") from None
        missing = [p for p in RUNNER_PARAMETERS if p not in declared]
        if missing:
            raise ParameterError(f"{nb_path.name} must declare {missing} in its parameters "
                                 "cell (the runner passes them)")
        values = notebook_parameters(nb_path.stem, declared, param_set, set_name)
        values.update(params_name=set_name, output_root=str(out_root), scheduler=scheduler)
        plans.append((nb_path, nb, values))

    own_cluster = False
    if sweep.is_local(scheduler) and plans:
        # One LocalCluster for all the notebooks of this run (its workers stay warm); each
        # notebook connects to it by address.
        own_cluster = not sweep.has_client(scheduler)
        address = sweep.get_client(scheduler).scheduler.address
        for _, _, values in plans:
            values["scheduler"] = address

    executed = []
    total_start = time.time()
    # Sweep progress bars (and the Dask dashboard link) go to this terminal, not into the
    # executed notebooks: the kernels inherit this environment.
    previous_progress = os.environ.get("KAG_PROGRESS")
    os.environ["KAG_PROGRESS"] = "terminal"
    try:
        for i, (nb_path, nb, values) in enumerate(plans, 1):
            executed.append(_execute(i, len(plans), nb_path, nb, values, root, run_root,
                                     set_name, log_output))
    finally:
        if previous_progress is None:
            os.environ.pop("KAG_PROGRESS", None)
        else:
            os.environ["KAG_PROGRESS"] = previous_progress
        if own_cluster:
            sweep.close_client(scheduler)
    csv_path = write_comparison(out_root / "results" / set_name)
    print(f"[kag-run] {len(plans)} notebook(s) in {time.time() - total_start:.0f} s; "
          f"results in {out_root / 'results' / set_name}"
          + (f"; comparison: {csv_path}" if csv_path else ""), flush=True)
    if csv_path:
        print(verdict_summary(csv_path), flush=True)
    return executed


def verdict_summary(csv_path: Path) -> str:
    """The verdict tally of a comparison.csv: the headline (comparable rows only) and the
    counts by paper section."""
    import csv

    from ..readings.verdicts import headline, summary_table
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return f"[kag-run] verdicts: {headline(rows)}\n{summary_table(rows)}"


def _execute(i: int, n: int, nb_path: Path, nb, values: dict, root: Path, run_root: Path,
             set_name: str, log_output: bool) -> Path:
    import papermill

    target = run_root / f"{nb_path.stem}.ipynb"
    print(f"[kag-run {i}/{n}] {nb_path.stem} with params/{set_name}.yaml "
          f"-> {target.relative_to(root) if target.is_relative_to(root) else target}",
          flush=True)
    start = time.time()
    try:
        papermill.execute_notebook(
            nb, str(target), parameters=values, kernel_name="python3",
            cwd=str(nb_path.parent), progress_bar=True, log_output=log_output)
    except papermill.PapermillExecutionError as exc:
        print(f"[kag-run] {nb_path.stem} FAILED in cell {exc.exec_count}: {exc.ename}: "
              f"{exc.evalue}\n          see the executed notebook {target}",
              file=sys.stderr, flush=True)
        raise
    print(f"[kag-run {i}/{n}] {nb_path.stem} done in {time.time() - start:.0f} s", flush=True)
    return target


def describe(root: Path) -> str:
    lines = []
    for nb_path in list_notebooks(root):
        declared = declared_parameters(read_notebook(nb_path))
        lines.append(f"{nb_path.stem}: " + ", ".join(sorted(declared)))
    sets = ", ".join(p.stem for p in sorted((root / "params").glob("*.yaml")))
    lines.append(f"parameter sets: {sets}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kag-run", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*",
                        help="notebook name prefixes (default: all), e.g. 01 02_zero")
    parser.add_argument("--params", default="default",
                        help="parameter set: quick, default, paper, or a YAML path")
    parser.add_argument("--out", help="where figures/ and results/ go (default: project root)")
    parser.add_argument("--run-dir", help="where executed notebooks go (default: runs/<set>)")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler for sweeps: 'local' (a LocalCluster of "
                             "$KAG_DASK_WORKERS worker processes, default 2), 'local:N', or "
                             "tcp://host:port (an existing scheduler; the cache, "
                             "$KAG_CACHE_DIR, must be on a filesystem every worker shares). "
                             "Default: serial, in the notebook's process")
    parser.add_argument("--root", help="project root (default: found from the cwd)")
    parser.add_argument("--log-output", action="store_true",
                        help="stream the notebooks' own output to this terminal")
    parser.add_argument("--paper", action="store_true",
                        help="afterwards, build the manuscript paper/ from this set's results "
                             "(as python -m kag_utils.manuscript build; needs TeX Live)")
    parser.add_argument("--list", action="store_true",
                        help="list notebooks with their declared parameters and exit")
    args = parser.parse_args(argv)
    try:
        if args.list:
            print(describe(find_root(Path(args.root) if args.root else None)))
            return 0
        run(args.params, args.notebooks, args.out, args.run_dir, args.scheduler, args.root,
            args.log_output)
        if args.paper:
            from .. import manuscript

            argv_paper = ["build", "--params", args.params]
            if args.out:
                argv_paper += ["--out", args.out]
            return manuscript.main(argv_paper)
    except (ParameterError, FileNotFoundError) as exc:
        print(f"kag-run: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - papermill errors were already reported
        if type(exc).__name__ == "PapermillExecutionError":
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
