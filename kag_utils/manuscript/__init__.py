"""The manuscript: ``generator`` writes paper/generated/<set>/ from results/<set> and builds
the PDF (``python -m kag_utils.manuscript build|generate|check``)."""
