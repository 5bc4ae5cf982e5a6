"""Open the project in JupyterLab with every ``notebooks/*.py`` shown as a notebook.

    bash scripts/lab.sh                      # set-up if needed, then this module
    python -m kag_utils.cli.lab [--no-browser] [--port 8899] [notebooks/03_x.py] [jupyter lab args]

Out of the box JupyterLab opens a percent-format ``.py`` in the text editor. Two settings
fix that, and they live in the project's configuration overlay ``jupyter-config/``
(committed files; the command writes no configuration anywhere):

- ``labconfig/default_setting_overrides.json``: the docmanager default viewer for the
  ``python`` file type is "Jupytext Notebook" (what ``jupytext-config set-default-viewer
  python`` would write into the user's global configuration). JupyterLab reads it when the
  server starts.
- ``jupyter_server_config.d/kag-paper-jupytext.json``: jupytext's server extension is
  enabled (without it the notebook view gets one empty cell and a NotJSONError dialog).

The overlay is put in front of ``JUPYTER_CONFIG_PATH`` for this one process, which gives it
precedence over the user's ``~/.jupyter`` and the environment's configuration, while the
user's own settings (theme, shortcuts) still apply and their files are left untouched.
Only this JupyterLab session is affected: a plain ``jupyter lab`` keeps its defaults. In
the session every ``.py`` opens as a notebook; open a module as text with right-click >
Open With > Editor.

:func:`lab_environment` and :func:`lab_command` are shared by the reading command and the
browser test (``tests/test_lab_browser.py``), so the test runs what readers run.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable, Mapping

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = ROOT / "jupyter-config"
VIEWER_OVERRIDES = Path("labconfig") / "default_setting_overrides.json"
SERVER_EXTENSION = Path("jupyter_server_config.d") / "kag-paper-jupytext.json"
DEFAULT_NOTEBOOK = Path("notebooks") / "01_setup.py"


def lab_environment(overlay: str | os.PathLike | None = OVERLAY,
                    env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the JupyterLab process: ``env`` (default ``os.environ``) with
    ``overlay`` first on ``JUPYTER_CONFIG_PATH`` and this interpreter's ``bin`` first on
    ``PATH`` (the ``python3`` kernelspec runs ``python`` from ``PATH``, so the kernel is the
    interpreter that has kag_utils). ``overlay=None`` leaves the configuration as it is."""
    env = dict(os.environ if env is None else env)
    if overlay is not None:
        overlay = Path(overlay).resolve()
        previous = env.get("JUPYTER_CONFIG_PATH")
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(overlay)] + ([previous] if previous else []))
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir] + [p for p in env.get("PATH", "").split(os.pathsep)
                                              if p and p != bindir])
    return env


def lab_command(root_dir: str | os.PathLike = ROOT, args: Iterable[str] = (),
                open_file: str | os.PathLike | None = DEFAULT_NOTEBOOK) -> list[str]:
    """The ``jupyter lab`` command line serving ``root_dir`` and opening ``open_file``
    (relative to ``root_dir``; skipped when it does not exist or when ``args`` name a file
    or folder to open)."""
    root_dir = Path(root_dir).resolve()
    # Files or folders named in args: absolute, since lab resolves them against its cwd.
    args = [str(Path(a).resolve()) if not a.startswith("-") and Path(a).exists() else a
            for a in args]
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        command.append("--allow-root")  # containers and CI run as root; lab refuses otherwise
    named = any(not a.startswith("-") and Path(a).exists() for a in args)
    if open_file is not None and not named and (root_dir / open_file).is_file():
        args.append(str(root_dir / open_file))
    return command + args


def check_overlay(overlay: Path = OVERLAY) -> None:
    """Fail with a clear message when the overlay's two files are missing."""
    missing = [str(p) for p in (VIEWER_OVERRIDES, SERVER_EXTENSION) if not (overlay / p).is_file()]
    if missing:
        raise SystemExit(f"[lab] the JupyterLab configuration overlay {overlay} lacks "
                         f"{', '.join(missing)}; run from a kag-paper checkout")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return 0
    check_overlay()
    env = lab_environment()
    command = lab_command(ROOT, args)
    opened = [a for a in command[3:] if not a.startswith("-") and Path(a).exists()]
    print(f"[lab] JupyterLab on {ROOT} with the configuration overlay {OVERLAY.name}/ "
          "(every .py opens as a notebook)"
          + (f"; opening {opened[0]}" if opened else ""), flush=True)
    os.chdir(ROOT)
    os.execvpe(command[0], command, env)
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
