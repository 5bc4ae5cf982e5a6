"""Fixtures shared by several test modules."""
import os
import shutil
from pathlib import Path

import pytest

from kag_utils.cli import runner

ROOT = Path(__file__).resolve().parents[1]

# Illegible figures fail the tests (kag-run's notebooks inherit this); outside the tests a
# figure that fails the layout check is saved with a warning, so a long run loses nothing.
os.environ.setdefault("KAG_STRICT_FIGURES", "1")


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """Every notebook run once with params/quick.yaml into a temporary folder (results/quick,
    figures/quick) with an empty run cache, as on a fresh CI machine. Slow (minutes): only
    tests marked ``slow`` use it."""
    out = tmp_path_factory.mktemp("quick")
    old = os.environ.get("KAG_CACHE_DIR")
    os.environ["KAG_CACHE_DIR"] = str(out / "cache")
    try:
        runner.run("quick", out=out, run_dir=out / "runs", root=ROOT)
    finally:
        if old is None:
            os.environ.pop("KAG_CACHE_DIR", None)
        else:
            os.environ["KAG_CACHE_DIR"] = old
    return out


# ------------------------------------------------------------------------ headless Chromium

CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000"]
PAGE_LOAD_S = 120   # generous: a 2-core CI machine shared with other jobs


def require_browser() -> tuple[str, str]:
    """Debian's chromium and chromedriver and selenium: skip locally without them, fail under CI
    (.ci/run installs them)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        missing = [n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p]
        reason = (f"browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} "
                  "not on PATH; install with: apt-get install chromium chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; under CI they must be there (.ci/run installs them)")
        pytest.skip(reason)
    pytest.importorskip("selenium")
    return chromium, driver


def start_chromium(workdir: Path, extra_flags=()):
    """A selenium driver of headless Chromium with its profile, config and cache in ``workdir``
    (the caller quits it)."""
    chromium, chromedriver = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS + list(extra_flags) + [f"--user-data-dir={workdir / 'profile'}"]:
        options.add_argument(flag)
    env = {**os.environ, "XDG_CONFIG_HOME": str(workdir / "xdg-config"),
           "XDG_CACHE_HOME": str(workdir / "xdg-cache")}
    service = Service(chromedriver, env=env, log_output=str(workdir / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(PAGE_LOAD_S)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium for one test module."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()
