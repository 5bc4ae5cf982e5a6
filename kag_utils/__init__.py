"""kag_utils: reproduction toolkit for Kolmogorov-Arnold geometry in MLPs.

Papers: P1 = Freedman & Mulligan, "Spontaneous Kolmogorov-Arnold Geometry in Shallow MLPs"
(arXiv 2509.12326); P2 = "Scale-Agnostic Kolmogorov-Arnold Geometry in Neural Networks"
(arXiv 2511.21626). See docs/ARCHITECTURE.md for the module map.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("kag-utils")
except PackageNotFoundError:  # running from a source tree that was not pip-installed
    __version__ = "0.1.0"
