# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # NN Title: the paper section this notebook reproduces
#
# Copy this file to `notebooks/NN_name.py`. The header above is required (a test checks it):
# the `kernelspec` makes papermill (`kag-run`) and JupyterLab (`bash scripts/lab.sh`) start the
# same `python3` kernel without asking, and the `jupytext` block keeps the percent format.

# %% tags=["parameters"]
# Parameters: kag-run overrides these from params/<set>.yaml (the first three always).
params_name = "default"
output_root = ".."
scheduler = None

# %%
import kag_utils.session as ks

session = ks.start("NN_name", params_name, output_root, {})

# %%
session.save()
