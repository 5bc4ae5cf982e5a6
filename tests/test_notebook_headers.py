"""Every notebook (and the template authors copy) carries the Jupytext header with the
``python3`` kernelspec, so papermill and JupyterLab start the same kernel without asking, and
a cell tagged ``parameters`` for papermill."""
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "docs" / "notebook_template.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
KERNELSPEC = {"language": "python", "name": "python3"}
# "Python 3 (ipykernel)" is what JupyterLab writes back on save (the installed kernelspec's name)
DISPLAY_NAMES = {"Python 3", "Python 3 (ipykernel)"}


def _params():
    params = [pytest.param(TEMPLATE, id="docs/notebook_template.py")]
    params += [pytest.param(p, id=f"notebooks/{p.name}") for p in NOTEBOOKS]
    return params


@pytest.mark.parametrize("path", _params())
def test_header_and_parameters_cell(path):
    text = path.read_text()
    assert text.startswith("# ---\n# jupyter:\n"), (
        f"{path.name} must start with the Jupytext header (copy it from docs/notebook_template.py)")
    nb = jupytext.read(path)
    kernelspec = dict(nb.metadata.get("kernelspec", {}))
    display_name = kernelspec.pop("display_name", None)
    assert kernelspec == KERNELSPEC and display_name in DISPLAY_NAMES, (
        f"{path.name}: the header's kernelspec must be {KERNELSPEC} with display_name one of "
        f"{sorted(DISPLAY_NAMES)}, found {nb.metadata.get('kernelspec')}")
    representation = nb.metadata.get("jupytext", {}).get("text_representation", {})
    assert representation.get("format_name") == "percent", (
        f"{path.name}: the header must declare text_representation format_name: percent")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code", (
        f"{path.name} needs exactly one code cell tagged parameters "
        f"(`# %% tags=[\"parameters\"]`), found {len(tagged)}")
