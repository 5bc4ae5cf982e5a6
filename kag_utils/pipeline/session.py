"""What every notebook does first and last: one call to :func:`start`, one to ``save``.

    session = kag.start("02_zero_rows", params_name, output_root, parameters=locals_params)
    ...
    session.savefig(fig, "fig2_zipf_xor32")     # -> <output_root>/figures/<set>/fig2_zipf_xor32.png
    session.record.add(table2=...)              # numbers for results/<set>/02_zero_rows.json
    session.record.compare(...)                 # a row of the paper comparison
    session.save()

Figures from a parameter set other than ``paper`` carry a small label saying so, so a quick or
default figure is never mistaken for a full-fidelity one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .results import Recorder


def setup_style() -> None:
    """The seaborn/matplotlib style shared by every figure of the project."""
    import matplotlib
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150,
                                "figure.constrained_layout.use": True,
                                "savefig.bbox": "tight", "axes.titlesize": "medium"})


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

    def savefig(self, fig, name: str, label: bool = True) -> Path:
        """Save ``fig`` as ``figures/<set>/<name>.png`` (and .pdf for the paper build)."""
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        if label and self.params_name != "paper":
            fig.text(0.995, 0.005, f"params: {self.params_name}", ha="right", va="bottom",
                     fontsize=7, color="0.45")
        path = self.figures_dir / f"{name}.png"
        fig.savefig(path)
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
    :class:`Session` whose recorder writes ``results/<set>/<notebook>.json``."""
    setup_style()
    root = Path(output_root).resolve()
    params = dict(parameters or {})
    print(f"{notebook}: parameter set '{params_name}'; outputs under {root}")
    if params_name != "paper":
        print("  (not the paper's full-fidelity settings: figures are labelled accordingly)")
    record = Recorder(notebook=notebook, params_name=params_name, parameters=params,
                      output_root=root)
    return Session(notebook=notebook, params_name=params_name, output_root=root, record=record)
