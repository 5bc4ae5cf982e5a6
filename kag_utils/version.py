"""The package version: a leaf module (imports nothing of kag_utils), so the cache, sweeps and
results can read it without importing the package ``__init__``."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kag-utils")
except PackageNotFoundError:  # running from a source tree that was not pip-installed
    __version__ = "0.1.0"
