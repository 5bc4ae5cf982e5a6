"""The JupyterLab configuration overlay and the reading command's environment (no browser;
tests/test_lab_browser.py checks what a reader sees)."""
import json
import os
import sys
from pathlib import Path

from kag_utils.cli import lab


def test_overlay_sets_jupytext_default_viewer_and_server_extension():
    overrides = json.loads((lab.OVERLAY / lab.VIEWER_OVERRIDES).read_text())
    assert overrides == {"@jupyterlab/docmanager-extension:plugin":
                         {"defaultViewers": {"python": "Jupytext Notebook"}}}
    server = json.loads((lab.OVERLAY / lab.SERVER_EXTENSION).read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {"jupyterlab_jupytext": True}
    lab.check_overlay()


def test_environment_puts_overlay_first_and_leaves_os_environ_alone(tmp_path):
    before = dict(os.environ)
    env = lab.lab_environment(env={"JUPYTER_CONFIG_PATH": "/elsewhere", "PATH": "/usr/bin"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(lab.OVERLAY), "/elsewhere"]
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert "JUPYTER_CONFIG_PATH" not in lab.lab_environment(overlay=None, env={})
    assert dict(os.environ) == before


def test_command_serves_root_and_opens_default_notebook(tmp_path):
    (tmp_path / "notebooks").mkdir()
    command = lab.lab_command(tmp_path, ["--no-browser", "--port", "8899"])
    assert command[:4] == [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={tmp_path}"]
    assert command[-3:] == ["--no-browser", "--port", "8899"]  # no 01_setup.py: opens /lab
    (tmp_path / "notebooks" / "01_setup.py").write_text("")
    assert lab.lab_command(tmp_path)[-1] == str(tmp_path / "notebooks" / "01_setup.py")
    other = tmp_path / "notebooks" / "03_x.py"
    other.write_text("")
    assert lab.lab_command(tmp_path, [str(other)])[-1] == str(other)  # named file replaces it
