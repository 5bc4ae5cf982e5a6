"""The manuscript: the published numbers we compare against (``paper_values``) and the
generator of paper/generated/<set>/ from results/<set> (``generator``; run it with
``python -m kag_utils.manuscript build|generate|check``)."""
