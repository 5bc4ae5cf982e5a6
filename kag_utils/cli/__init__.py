"""Command-line entry points: ``kag-run`` (runner), ``python -m kag_utils.cli.lab``
(JupyterLab with the project overlay), ``python -m kag_utils.cli.regression`` (quick-run
numbers against tests/reference/quick), ``python -m kag_utils.cli.site`` (the HTML edition,
scripts/site.sh)."""
