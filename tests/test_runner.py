"""The papermill runner on a tiny throwaway project."""
import json
import textwrap

import pytest

from kag_utils.cli import runner

NOTEBOOK = textwrap.dedent('''\
    # ---
    # jupyter:
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %% [markdown]
    # # Demo

    # %% tags=["parameters"]
    params_name = "default"
    output_root = ".."
    scheduler = None
    n = 3

    # %%
    import kag_utils.pipeline.session as ks
    session = ks.start("01_demo", params_name, output_root, {"n": n})
    session.record.add(total=sum(range(n)))
    session.save()
    ''')


@pytest.fixture
def project(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks" / "01_demo.py").write_text(NOTEBOOK)
    (tmp_path / "params" / "quick.yaml").write_text("01_demo:\n  n: 5\n")
    (tmp_path / "params" / "bad.yaml").write_text("01_demo:\n  m: 5\n")
    (tmp_path / "params" / "typo.yaml").write_text("01_dmeo:\n  n: 5\n")
    return tmp_path


def test_declared_parameters(project):
    nb = runner.read_notebook(project / "notebooks" / "01_demo.py")
    assert set(runner.declared_parameters(nb)) == {"params_name", "output_root", "scheduler", "n"}


def test_undeclared_parameter_fails_before_running(project):
    with pytest.raises(runner.ParameterError, match=r"passes \['m'\] to 01_demo"):
        runner.run("bad", root=project)
    with pytest.raises(runner.ParameterError, match="unknown notebooks"):
        runner.run("typo", root=project)
    with pytest.raises(runner.ParameterError, match="not found"):
        runner.run("nonexistent", root=project)
    with pytest.raises(runner.ParameterError, match="no notebook matches"):
        runner.run("quick", ["07"], root=project)
    assert not (project / "results").exists()


@pytest.mark.slow
def test_runs_notebook_and_writes_results(project, tmp_path):
    out = tmp_path / "out"
    executed = runner.run("quick", root=project, out=out)
    assert executed[0].exists()
    data = json.loads((out / "results" / "quick" / "01_demo.json").read_text())
    assert data["numbers"]["total"] == 10 and data["params_name"] == "quick"
    assert data["provenance"]["wall_time_s"] >= 0


def test_cli_reports_parameter_errors(project, capsys):
    assert runner.main(["--root", str(project), "--params", "bad"]) == 2
    assert "does not declare" in capsys.readouterr().err


def test_unparseable_parameter_is_an_error(project):
    path = project / "notebooks" / "01_demo.py"
    path.write_text(path.read_text().replace("n = 3", "n = 3   # n >= 1 (an '=' papermill trips on)"))
    with pytest.raises(runner.ParameterError, match=r"cannot parse the parameters \['n'\]"):
        runner.declared_parameters(runner.read_notebook(path))


def test_start_records_the_parameters_cell(project, tmp_path, monkeypatch):
    """kag.start reads the declared parameters from the notebook's parameters cell and their
    values from the caller's globals: the cell is the one place they are listed."""
    from kag_utils.pipeline import session

    names = session.declared_parameter_names("01_demo", root=project)
    assert names == ["n"]                         # the runner's own are not recorded
    assert session.parameter_values("01_demo", {"n": 7, "other": 1}, root=project) == {"n": 7}
    with pytest.raises(ValueError, match="after the parameters cell"):
        session.parameter_values("01_demo", {}, root=project)
    with pytest.raises(ValueError, match="parameters=dict"):
        session.declared_parameter_names("99_missing", root=project)
    monkeypatch.chdir(project)
    globals()["n"] = 5                            # start() reads its caller's globals
    try:
        s = session.start("01_demo", "quick", tmp_path)
        assert s.record.parameters == {"n": 5}
    finally:
        del globals()["n"]


@pytest.mark.parametrize("set_name", ["default", "quick", "paper"])
def test_parameter_sets_hold_only_what_differs_from_the_cells(set_name):
    """A params/<set>.yaml may only override a notebook's parameters cell, never repeat it:
    the cell is the one place a default lives."""
    import ast
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    text = (root / "params" / f"{set_name}.yaml").read_text()
    sets = yaml.safe_load(text) or {}
    # keys written in a notebook's own section (not merged in from a shared "_block" anchor)
    node = yaml.compose(text)
    own = {k.value: {kk.value for kk, _ in v.value if kk.value != "<<"}
           for k, v in (node.value if node else []) if isinstance(v, yaml.MappingNode)}
    repeated, shared = [], {}
    for nb in runner.list_notebooks(root):
        declared = runner.declared_parameters(runner.read_notebook(nb))
        for key, value in {**(sets.get("common") or {}), **(sets.get(nb.stem) or {})}.items():
            assert key in declared, f"{nb.stem} does not declare {key}"
            same = ast.literal_eval(declared[key]) == value
            if key in own.get(nb.stem, ()) or key in own.get("common", ()):
                if same:
                    repeated.append(f"{nb.stem}.{key} = {value!r}")
            else:   # from a shared block: a repeat if it equals every cell it reaches
                shared.setdefault(key, []).append(same)
    repeated += [f"shared {k}" for k, s in shared.items() if all(s)]
    assert not repeated, f"params/{set_name}.yaml repeats the cells' defaults: {repeated}"


def test_notebooks_show_p1_protocol_from_its_one_source():
    """Each P1 notebook declares P1's training protocol in its parameters cell (so that a
    reader sees it and papermill can override it); the values are those of the one source,
    kag_utils.p1.protocol.P1_PROTOCOL, from which RunConfig takes its defaults."""
    import ast
    from pathlib import Path

    from kag_utils.p1.protocol import P1_PROTOCOL
    from kag_utils.p1.runs import RunConfig

    root = Path(__file__).resolve().parents[1]
    seen = 0
    for nb in runner.list_notebooks(root):
        declared = runner.declared_parameters(runner.read_notebook(nb))
        for key, value in P1_PROTOCOL.items():
            if key in declared and not nb.stem.startswith("06"):
                seen += 1
                got = ast.literal_eval(declared[key])
                got = tuple(got) if isinstance(got, list) else got
                assert got == value, f"{nb.stem}: {key} = {got!r}, P1_PROTOCOL says {value!r}"
    assert seen >= 15, "the P1 notebooks no longer declare the protocol"
    run = RunConfig()
    for key in ("batch_size", "lr", "max_epochs", "patience"):
        assert getattr(run, key) == P1_PROTOCOL[key]
