# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # NN Title: the paper section this notebook reproduces
#
# Copy this file to `notebooks/NN_name.py`. The header above is required (a test checks it):
# the `kernelspec` makes papermill (`kag-run`) and JupyterLab (`bash scripts/lab.sh`) start the
# same `python3` kernel without asking, and the `jupytext` block keeps the percent format.
# The header is the one JupyterLab writes back on (auto)save, so reading the notebook in
# JupyterLab leaves this file unchanged.

# %% tags=["parameters"]
# Parameters: kag-run overrides these from params/<set>.yaml (the first three always).
params_name = "default"
output_root = ".."
scheduler = None

# %%
import kag_utils.pipeline.session as ks

session = ks.start("NN_name", params_name, output_root, {})

# %%
session.save()
