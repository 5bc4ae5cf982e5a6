"""The package layout is its architecture (docs/ARCHITECTURE.md). Parsed with ``ast``, so each
rule fails on the first module that breaks it:

* ``__version__`` lives in the leaf module ``kag_utils.version``; no module imports the
  package ``__init__`` (which imports everything);
* no import cycle between modules;
* imports run one way, down through LAYERS; peers in one layer (p1, mnist) do not import each
  other;
* every name imported inside the package exists (function-level imports too), and no private
  name (leading underscore) is imported from another module;
* the package ``__init__`` only re-exports public names, and every ``kag.<name>`` that the
  notebooks, tests, docs and benchmarks use exists;
* the run cache's keys are those of the flat layout (no recomputation after the move);
* every sweep kind is registered under the module a Dask worker imports to find it;
* the entry points (``kag-run``, ``python -m ...`` in scripts/ and docs/) resolve, and
  docs/ARCHITECTURE.md lists every module of the tree.

Imports are read at every depth (a function-level import counts like a top-level one).
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "kag_utils"

# Lowest first. A module may import from its own subpackage and from lower layers only.
# Each entry is one layer; the names in it are peers (they must not import each other).
LAYERS = [
    ("version",),            # __version__ (a leaf: imports nothing of kag_utils)
    ("core",),               # pure math: jacobians, minors, rotations, metrics, threads
    ("readings",),           # seed aggregation, claim and curve rules, verdicts, tails
    ("figures",),            # the figure style and the notebooks' drawing functions
    ("pipeline",),           # paths, cache, sweep, results, session
    ("p1", "mnist"),         # the two papers: models, training, cached kinds
    ("manuscript", "plots"), # the TeX generator; what the notebooks draw (peers)
    ("cli",),                # kag-run, lab, regression
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


# ------------------------------------------------------------------------------- the graph
def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def is_package(mod: str) -> bool:
    return MODULES[mod].name == "__init__.py"


def resolve(mod: str, node: ast.ImportFrom) -> str:
    """The absolute module named by ``from <...> import`` inside ``mod``."""
    if node.level == 0:
        return node.module or ""
    base = mod.split(".")
    if not is_package(mod):
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(mod: str) -> list[tuple[str, str | None, int]]:
    """(target module, imported name or None, line) for every kag_utils import in ``mod``.
    ``from pkg import sub`` where sub is a module is an import of pkg.sub."""
    tree = ast.parse(MODULES[mod].read_text(), filename=str(MODULES[mod]))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names
                    if a.name.split(".")[0] == "kag_utils"]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(mod, node)
            if target.split(".")[0] != "kag_utils":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((sub, None, node.lineno) if sub in MODULES
                           else (target, a.name, node.lineno))
    return out


GRAPH = {mod: imports(mod) for mod in MODULES}


def component(mod: str) -> str:
    """The subpackage (or leaf module) directly under kag_utils that holds ``mod``."""
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


# ------------------------------------------------------------------------------- the rules
def test_every_module_sits_in_a_layer():
    loose = sorted(m for m in MODULES if m != "kag_utils" and component(m) not in RANK)
    assert not loose, f"modules outside the layers of tests/test_architecture.py: {loose}"


def test_version_is_a_leaf_and_nothing_imports_the_package_init():
    assert GRAPH["kag_utils.version"] == [], "kag_utils.version must import nothing of kag_utils"
    bad = [f"{mod}:{line} imports {name!r} from the package __init__"
           for mod, edges in GRAPH.items() if mod != "kag_utils"
           for target, name, line in edges if target == "kag_utils"]
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    edges = {m: sorted({t for t, _, _ in GRAPH[m] if t in MODULES and t != m}) for m in MODULES}
    state: dict[str, int] = {}      # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in edges[m]:
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m)


def test_imports_run_down_the_layers():
    bad = []
    for mod, edges in GRAPH.items():
        if mod == "kag_utils":      # the facade re-exports every layer
            continue
        src = component(mod)
        for target, _, line in edges:
            dst = component(target)
            if dst == src or target == "kag_utils":
                continue
            if RANK[dst] >= RANK[src]:
                kind = "a peer" if RANK[dst] == RANK[src] else "a higher layer"
                bad.append(f"{mod}:{line} imports {target} ({kind}: {dst} is not below {src})")
    assert not bad, "\n".join(bad)


def test_names_imported_inside_the_package_exist():
    """Every ``from .x import name`` in the package (also inside functions, which run only
    when called) names something x defines: a rename fails here, not in a notebook run."""
    bad = []
    for mod, edges in GRAPH.items():
        for target, name, line in edges:
            if name and name != "*" and not hasattr(importlib.import_module(target), name):
                bad.append(f"{mod}:{line} imports {name!r}, which {target} does not define")
    assert not bad, "\n".join(bad)


def test_no_private_name_crosses_modules():
    bad = [f"{mod}:{line} imports private {name!r} from {target}"
           for mod, edges in GRAPH.items() for target, name, line in edges
           if name and name.startswith("_") and not (name.startswith("__") and name.endswith("__"))]
    assert not bad, "make the name public or move the code:\n" + "\n".join(bad)


def test_package_init_only_reexports_public_names():
    tree = ast.parse(MODULES["kag_utils"].read_text())
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue            # the docstring
        assert isinstance(node, ast.ImportFrom) and node.level == 1, (
            f"kag_utils/__init__.py:{node.lineno}: only relative re-exports belong here")
        private = [a.name for a in node.names
                   if a.name.startswith("_") and a.name != "__version__"]
        assert not private and not any(a.asname for a in node.names), (
            f"kag_utils/__init__.py:{node.lineno}: re-export public names under their own name")


def kag_attributes(path: Path) -> set[str]:
    """Names used as ``kag.<name>`` in a file that does ``import kag_utils as kag``."""
    try:
        tree = ast.parse(path.read_text())
    except SyntaxError:
        return set()
    aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
               for a in n.names if a.name == "kag_utils"}
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id in aliases}


def test_names_used_through_the_package_exist():
    import kag_utils as kag

    files = [p for d in ("notebooks", "tests", "benchmarks", "docs") for p in (ROOT / d).rglob("*.py")]
    missing = sorted({f"kag.{name} ({p.relative_to(ROOT)})" for p in files
                      for name in kag_attributes(p) if not hasattr(kag, name)})
    assert not missing, "\n".join(missing)


def test_imports_outside_the_package_resolve():
    """Every ``import kag_utils.x`` / ``from kag_utils.x import y`` in notebooks, tests, docs,
    benchmarks names a module and a name that exist (a moved module fails here, not in a
    notebook run)."""
    files = [p for d in ("notebooks", "tests", "benchmarks", "docs") for p in (ROOT / d).rglob("*.py")]
    bad = []
    for p in files:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                mods = [(a.name, None) for a in node.names if a.name.split(".")[0] == "kag_utils"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kag_utils":
                mods = [(node.module, a.name) for a in node.names]
            else:
                continue
            for mod, name in mods:
                where = f"{p.relative_to(ROOT)}:{node.lineno}"
                try:
                    module = importlib.import_module(mod)
                except ImportError as exc:
                    bad.append(f"{where}: {exc}")
                    continue
                if PKG not in Path(module.__file__).resolve().parents:
                    # an editable install elsewhere can serve a module this checkout lacks
                    bad.append(f"{where}: {mod} is not in this checkout ({module.__file__})")
                    continue
                if name and name != "*" and not hasattr(module, name) \
                        and importlib.util.find_spec(f"{mod}.{name}") is None:
                    bad.append(f"{where}: {mod} has no {name!r}")
    assert not bad, "\n".join(bad)


# Keys of the flat layout (main at 8ed0d4e): the move must not recompute any cached entry.
KEYS = {
    "p1_run": "3844dd4f55a51dd62e9d3e4ac6852a82",
    "p1_eval": "28e28b5153dca13ea291cef0f50b24b5",
    "p1_rr": "419d35e2db180529b977d8be524f6eb6",
    "p1_rr_init": "e971c8d243b49f95a9168e4f9a0cec9d",
    "mnist_run": "a7f9886d42ad75e9979590104d7c6086",
    "mnist_eval": "0b8478ff6cda40e29d2d505658e8f46d",
    "mnist_spatial": "229d5bef19fba6f0bbb1b0733976e1fd",
}


def test_cache_keys_unchanged_by_the_layout():
    import kag_utils as kag
    from kag_utils.mnist import evaluation as me
    from kag_utils.p1.evaluation import eval_config, rr_config
    from kag_utils.pipeline.cache import config_key

    run, ecfg = kag.RunConfig(), kag.EvalConfig(n_x=1000, n_rot=400, n_x_rot=1000)
    mrun = kag.MNISTRunConfig(hidden=64, seed=0)
    assert kag.__version__ == "0.1.0"
    got = {
        "p1_run": config_key("p1_run", run),
        "p1_eval": config_key("p1_eval", eval_config(run, "final", ecfg)),
        "p1_rr": config_key("p1_rr", rr_config(run, "final", ecfg)),
        "p1_rr_init": config_key("p1_rr", rr_config(run, "init", ecfg)),
        "mnist_run": config_key("mnist_run", mrun),
        "mnist_eval": config_key("mnist_eval", me.eval_config(mrun, kag.MNISTEvalConfig())),
        "mnist_spatial": config_key("mnist_spatial",
                                    me.spatial_config(mrun, kag.MNISTSpatialConfig())),
    }
    assert got == KEYS


def test_every_sweep_kind_is_registered_under_its_module():
    import kag_utils  # noqa: F401  (imports every module that registers a kind)
    from kag_utils.pipeline import sweep

    assert set(sweep.KIND_MODULES) == set(sweep.registered_kinds())
    for kind, module in sweep.KIND_MODULES.items():
        spec = sweep.get_kind(kind)
        assert spec.task.__module__ == module, (kind, spec.task.__module__, module)
        assert importlib.util.find_spec(module) is not None


def test_architecture_doc_lists_every_module():
    """docs/ARCHITECTURE.md's module map names every subpackage and module of the tree, under
    its subpackage."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    tree = doc[doc.index("kag_utils/                "):doc.index("\nnotebooks/")]
    blocks = re.split(r"\n  (?=\w+/ )", tree)       # one block per subpackage
    listed = {b.split("/", 1)[0]: b for b in blocks[1:]}
    missing = []
    for mod, path in MODULES.items():
        rel = path.relative_to(PKG)
        if len(rel.parts) == 1:
            if f"  {rel.name} " not in blocks[0]:
                missing.append(str(rel))
        elif rel.parts[0] not in listed:
            missing.append(f"{rel.parts[0]}/")
        elif rel.name != "__init__.py" and f"    {rel.name} " not in listed[rel.parts[0]]:
            missing.append(str(rel))
    assert not missing, f"docs/ARCHITECTURE.md does not list: {sorted(set(missing))}"


def python_m_modules(text: str) -> set[str]:
    return set(re.findall(r"python -m (kag_utils[\w.]*)", text))


def test_entry_points_resolve():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name, target in scripts.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), name
    texts = [p.read_text() for p in [*(ROOT / "scripts").glob("*.sh"), *(ROOT / "docs").glob("*.md")]]
    mods = set().union(*(python_m_modules(t) for t in texts))
    assert "kag_utils.manuscript" in mods
    for mod in sorted(mods):
        spec = importlib.util.find_spec(mod)
        assert spec is not None, f"python -m {mod}: no such module"
        if spec.submodule_search_locations is not None:     # a package needs __main__
            assert importlib.util.find_spec(f"{mod}.__main__") is not None, mod
