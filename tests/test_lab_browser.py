"""End-to-end: open the notebooks in JupyterLab the way a reader does, in headless Chromium.

JupyterLab is started with the reading command's own configuration (``kag_utils.cli.lab``: the
``jupyter-config/`` overlay and the ``jupyter lab`` command line) plus isolated config, data,
runtime, settings and workspace directories under the test's temp dir, on a free 127.0.0.1
port. Each notebook is opened at ``/lab/tree/notebooks/<name>.py`` and must show a notebook
with as many cells as ``jupytext.read`` gives, no text editor, no dialog, and a started kernel.

- ``test_notebook_reads_as_notebook``: every ``notebooks/NN_*.py`` of this checkout.
- ``test_fixture_notebook_reads_as_notebook``: the notebook template and a long notebook in a
  temp copy of the project (runs even before the real notebooks exist).
- ``test_without_default_viewer_the_check_fails``: the same check with the default-viewer
  setting removed from the overlay sees the text editor, so the check has teeth.

Needs Debian's ``chromium`` and ``chromium-driver`` (CI installs them, see .ci/run; the
``browser`` fixture of tests/conftest.py); skips locally with a reason when they are absent,
fails under CI. A failing check leaves a
screenshot and the page's HTML in the test's temp dir; the message names them and the server log.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kag_utils.cli import lab

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"
SERVER_START_S = 120   # generous: a 2-core CI machine shared with other jobs
SETTLE_S = 120         # page load until a notebook, an editor or a dialog shows
KERNEL_S = 120         # kernel start until idle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab as the reading command starts it, with isolated directories under ``workdir``."""

    def __init__(self, root_dir: Path, workdir: Path, overlay: Path | None = lab.OVERLAY):
        self.root_dir, self.workdir, self.overlay = Path(root_dir), Path(workdir), overlay
        self.token = secrets.token_hex(16)
        self.log_path = self.workdir / "jupyterlab.log"
        self.runtime_dir = self.workdir / "runtime"
        self.process: subprocess.Popen | None = None

    def _environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        env = lab.lab_environment(self.overlay, env=base)
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self.workdir / sub)
        return env

    def start(self) -> "LabServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # the free port can be taken between probing and binding
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            args = ["--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                    "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                    # the checkpoint lab makes on opening goes here, not into the checkout
                    f"--FileCheckpoints.checkpoint_dir={self.workdir / 'checkpoints'}"]
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    lab.lab_command(self.root_dir, args, open_file=None), env=self._environment(),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
            deadline = time.monotonic() + SERVER_START_S
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    self.api("/api/status")
                    return self
                except (OSError, urllib.error.URLError):
                    time.sleep(0.25)
            self.stop()
            if "already in use" not in self.log_path.read_text(errors="replace"):
                break
        raise RuntimeError(f"JupyterLab did not come up on {self.url} within {SERVER_START_S} s; "
                           f"log {self.log_path}:\n{self.log_tail()}")

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def sessions(self) -> list[dict]:
        return self.api("/api/sessions")

    def shutdown_sessions(self) -> None:
        for session in self.sessions():
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def log_tail(self, n: int = 30) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        """Shut kernels down, SIGTERM, wait, SIGKILL (the server can hang after SIGTERM), then
        kill any kernel of ours still running (found by our runtime dir in its command line)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.shutdown_sessions()
            except (OSError, urllib.error.URLError):
                pass
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if str(self.runtime_dir).encode() in (proc / "cmdline").read_bytes():
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        self.process = None


def read_in_lab(driver, server: LabServer, relpath: str, expected_cells: int,
                artifacts: Path) -> list[str]:
    """Open ``relpath`` at /lab/tree/<relpath> as a reader does and return what is wrong
    (an empty list: a notebook with ``expected_cells`` cells, no text editor, no dialog, a
    started python3 kernel). On problems, saves a screenshot and the page HTML to
    ``artifacts`` first."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def count(selector):
        return len(driver.find_elements(By.CSS_SELECTOR, selector))

    def dialogs():
        texts = []
        for dialog in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog"):
            try:
                texts.append(dialog.text.replace("\n", " | ")[:200])
            except StaleElementReferenceException:  # closed while we read it
                pass
        return texts

    def wait(condition, seconds):
        try:
            WebDriverWait(driver, seconds, poll_frequency=0.25,
                          ignored_exceptions=(StaleElementReferenceException,)
                          ).until(lambda d: condition())
            return True
        except TimeoutException:
            return False

    problems: list[str] = []
    start = time.monotonic()
    marks = {}
    # ?reset: start from an empty workspace, as a reader's first visit does (otherwise the
    # notebook opened by the previous check is restored next to this one).
    driver.get(f"{server.url}/lab/tree/{relpath}?reset&token={server.token}")
    try:
        if not wait(lambda: count(CELLS) or count(".jp-FileEditor") or dialogs(), SETTLE_S):
            problems.append(f"nothing showed within {SETTLE_S} s (no notebook cell, editor or dialog)")
        marks["shown"] = time.monotonic() - start
        if count(".jp-NotebookPanel"):
            wait(lambda: count(CELLS) >= expected_cells or dialogs(), SETTLE_S)
            marks["cells"] = time.monotonic() - start
            # Kernel started: the server has an idle kernel for this notebook with the page
            # connected to it, and the toolbar's indicator says idle.
            def kernel_idle():
                return dialogs() or (
                    any(s["path"] == relpath and (s.get("kernel") or {}).get("execution_state")
                        == "idle" and s["kernel"].get("connections", 0) >= 1
                        for s in server.sessions())
                    and count('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]'))
            if not wait(kernel_idle, KERNEL_S) or dialogs():
                problems.append("the kernel did not start ("
                                + ("a dialog came first" if dialogs() else f"{KERNEL_S} s")
                                + f"); sessions: {[(s['path'], s.get('kernel')) for s in server.sessions()]}")
            marks["kernel idle"] = time.monotonic() - start
            kernels = {s["kernel"]["name"] for s in server.sessions()
                       if s["path"] == relpath and s.get("kernel")}
            if kernels and kernels != {"python3"}:
                problems.append(f"kernel {kernels}, not python3")
        if count(".jp-FileEditor"):
            problems.append("opened in the text editor (.jp-FileEditor): the default viewer for "
                            "python files is not 'Jupytext Notebook'")
        if count(".jp-NotebookPanel") != 1:
            problems.append(f"{count('.jp-NotebookPanel')} notebook panels instead of 1")
        elif count(CELLS) != expected_cells:
            problems.append(f"{count(CELLS)} cells shown, jupytext.read gives {expected_cells}")
        if dialogs():
            problems.append(f"dialog shown: {dialogs()}")
        if problems:
            artifacts.mkdir(parents=True, exist_ok=True)
            shot = artifacts / (Path(relpath).stem + ".png")
            driver.save_screenshot(str(shot))
            (artifacts / (Path(relpath).stem + ".html")).write_text(driver.page_source)
            problems.append(f"screenshot {shot}; server log {server.log_path}")
    finally:
        driver.get("about:blank")
        try:
            server.shutdown_sessions()  # frees the CPU for the next notebook
        except (OSError, urllib.error.URLError) as exc:
            problems.append(f"could not shut the kernel down: {exc}")
    print(f"[lab-browser] {relpath}: " + ", ".join(f"{k} at {v:.1f} s" for k, v in marks.items()))
    return problems


def expected_cells(path: Path) -> int:
    import jupytext

    return len(jupytext.read(path).cells)


# ----------------------------------------------------------------------------- fixtures


def _server(root_dir, workdir, overlay=lab.OVERLAY):
    pytest.importorskip("jupyterlab")
    server = LabServer(root_dir, workdir, overlay)
    try:
        yield server.start()
    finally:
        server.stop()


LONG_NOTEBOOK = "".join(
    [(ROOT / "docs" / "notebook_template.py").read_text().split("# %% [markdown]")[0]]
    + [f"# %% [markdown]\n# ## Part {i}\n\n# %%\nx_{i} = {i}\n\n" for i in range(40)])


@pytest.fixture(scope="module")
def fixture_project(tmp_path_factory):
    """A temp copy of the project's reading set-up: jupytext.toml, the notebook template as
    notebooks/01_template.py, and an 80-cell notebook (several screenfuls)."""
    project = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "jupytext.toml", project)
    (project / "notebooks").mkdir()
    shutil.copy(ROOT / "docs" / "notebook_template.py", project / "notebooks" / "01_template.py")
    (project / "notebooks" / "02_long.py").write_text(LONG_NOTEBOOK)
    return project


@pytest.fixture(scope="module")
def fixture_lab(browser, fixture_project, tmp_path_factory):
    yield from _server(fixture_project, tmp_path_factory.mktemp("lab-fixture"))


@pytest.fixture(scope="module")
def repo_lab(browser, tmp_path_factory):
    yield from _server(ROOT, tmp_path_factory.mktemp("lab-repo"))


@pytest.fixture(scope="module")
def lab_without_viewer(browser, fixture_project, tmp_path_factory):
    """The same overlay with the default-viewer setting removed."""
    workdir = tmp_path_factory.mktemp("lab-no-viewer")
    overlay = workdir / "overlay"
    shutil.copytree(lab.OVERLAY, overlay)
    (overlay / lab.VIEWER_OVERRIDES).unlink()
    yield from _server(fixture_project, workdir, overlay)


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", ["01_template", "02_long"])
def test_fixture_notebook_reads_as_notebook(browser, fixture_lab, fixture_project, name, tmp_path):
    path = fixture_project / "notebooks" / f"{name}.py"
    problems = read_in_lab(browser, fixture_lab, f"notebooks/{name}.py", expected_cells(path),
                           tmp_path)
    assert not problems, "\n".join(problems)


_REAL = [pytest.param(p, id=p.stem) for p in NOTEBOOKS] or [pytest.param(
    None, id="none", marks=pytest.mark.skip(reason="no notebooks/NN_*.py in this checkout yet"))]


@pytest.mark.parametrize("path", _REAL)
def test_notebook_reads_as_notebook(browser, repo_lab, path, tmp_path):
    problems = read_in_lab(browser, repo_lab, f"notebooks/{path.name}", expected_cells(path),
                           tmp_path)
    assert not problems, "\n".join(problems)


def test_without_default_viewer_the_check_fails(browser, lab_without_viewer, fixture_project,
                                                tmp_path):
    path = fixture_project / "notebooks" / "01_template.py"
    problems = read_in_lab(browser, lab_without_viewer, "notebooks/01_template.py",
                           expected_cells(path), tmp_path)
    assert any(p.startswith("opened in the text editor (.jp-FileEditor)") for p in problems), problems
    assert any("0 notebook panels" in p for p in problems), problems
    assert (tmp_path / "01_template.png").is_file()  # the failure artifact a real failure leaves
