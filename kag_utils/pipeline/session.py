"""What every notebook does first and last: one call to :func:`start`, one to ``save``.

    session = kag.start("02_zero_rows", params_name, output_root)   # reads the parameters cell
    ...
    session.savefig(fig, "fig2_zipf_xor32")     # -> <output_root>/figures/<set>/fig2_zipf_xor32.png
    session.record.add(table2=...)              # numbers for results/<set>/02_zero_rows.json
    session.record.compare(...)                 # a row of the paper comparison
    session.save()

Figures from a parameter set other than ``paper`` carry a small label saying so, so a quick or
default figure is never mistaken for a full-fidelity one.
"""
from __future__ import annotations

import ast
import inspect
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..figures import style
from .paths import find_root
from .results import Recorder

# Parameters the runner (kag-run) passes to every notebook; each notebook declares them. They
# say where a run goes, not what it computes, so they are not recorded as parameters.
RUNNER_PARAMETERS = ("params_name", "output_root", "scheduler")


def parameter_names(source: str) -> list[str]:
    """Names assigned in a notebook's parameters cell (its source code), in order."""
    return [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)]


def declared_parameter_names(notebook: str, root: Path | None = None) -> list[str]:
    """The parameters a notebook declares (``notebooks/<notebook>.py``, the cell tagged
    ``parameters``), without the runner's own."""
    import jupytext

    path = (root or find_root()) / "notebooks" / f"{notebook}.py"
    if not path.exists():
        raise ValueError(f"cannot find {path} to read the parameters of {notebook!r}: pass "
                         "parameters=dict(...) to kag.start, or run from the kag-paper checkout")
    cells = [c for c in jupytext.read(path).cells
             if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ValueError(f"{path} has no cell tagged 'parameters'")
    return [n for n in parameter_names(cells[0].source) if n not in RUNNER_PARAMETERS]


def parameter_values(notebook: str, namespace: dict[str, Any],
                     root: Path | None = None) -> dict[str, Any]:
    """The current value of every parameter ``notebook`` declares, read from ``namespace``
    (the notebook's globals: the parameters cell, then papermill's injected values)."""
    names = declared_parameter_names(notebook, root)
    missing = [n for n in names if n not in namespace]
    if missing:
        raise ValueError(f"parameters {missing} of {notebook!r} are not defined yet: call "
                         "kag.start after the parameters cell")
    return {n: namespace[n] for n in names}


def setup_style() -> None:
    """The style shared by every figure of the project (kag_utils.figures.style)."""
    style.apply()


@dataclass
class Session:
    notebook: str
    params_name: str
    output_root: Path
    record: Recorder
    figures: list[str] = field(default_factory=list)

    @property
    def figures_dir(self) -> Path:
        return self.output_root / "figures" / self.params_name

    @staticmethod
    def _check(check, obj) -> None:
        """Run a legibility check: raise when $KAG_STRICT_FIGURES is set, else warn."""
        try:
            check(obj)
        except ValueError as err:
            if os.environ.get("KAG_STRICT_FIGURES", "") not in ("", "0"):
                raise
            warnings.warn(f"{err} (saved anyway; KAG_STRICT_FIGURES=1 makes this an error)",
                          stacklevel=3)

    def savefig(self, fig, name: str, label: bool = True) -> Path:
        """Save ``fig`` as ``figures/<set>/<name>.png`` (and .pdf for the paper build).
        The figure must print legibly (``style.check_layout``: at most the text width, at
        most three panels a row, no text below 7 pt). A figure that does not is still saved,
        with a warning, so that nothing computed is lost; with ``$KAG_STRICT_FIGURES=1`` (set by
        the test suite) it raises ValueError instead."""
        self._check(style.check_layout, fig)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        if label and self.params_name != "paper":
            # above the top right corner, clear of every panel, tick and title
            fig.text(0.995, 1.0, f"params: {self.params_name}", ha="right", va="bottom",
                     fontsize=style.MIN_FONT_PT, color="0.45")
        path = self.figures_dir / f"{name}.png"
        fig.savefig(path)
        self._check(style.check_saved_width, path)
        # no creation date: the same figure gives the same bytes, so a re-run leaves git clean
        fig.savefig(path.with_suffix(".pdf"), metadata={"CreationDate": None})
        self.figures.append(name)
        return path

    def save(self) -> Path:
        self.record.add(figures=sorted(set(self.figures)))
        return self.record.save()


def start(notebook: str, params_name: str, output_root: str | os.PathLike,
          parameters: dict[str, Any] | None = None) -> Session:
    """Begin a notebook: set the plotting style, say which parameter set runs, and return a
    :class:`Session` whose recorder writes ``results/<set>/<notebook>.json``.

    The parameters recorded with the results are, by default, every name the notebook's
    parameters cell declares, with the values the caller's globals hold now (so the cell is
    the one place they are listed); pass ``parameters`` to record others."""
    setup_style()
    root = Path(output_root).resolve()
    if parameters is None:
        caller = inspect.currentframe().f_back.f_globals
        parameters = parameter_values(notebook, caller)
    params = dict(parameters)
    print(f"{notebook}: parameter set '{params_name}'; outputs under {root}")
    if params_name != "paper":
        print("  (not the paper's full-fidelity settings: figures are labelled accordingly)")
    record = Recorder(notebook=notebook, params_name=params_name, parameters=params,
                      output_root=root)
    return Session(notebook=notebook, params_name=params_name, output_root=root, record=record)
