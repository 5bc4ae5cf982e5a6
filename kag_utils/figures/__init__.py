"""Figures: the shared style (``style``: sizes for the printed page, one colour per k and per
model, panel grids of at most three per row) and the plotting functions of the notebooks
(drawing only: they take computed tables and return a figure)."""
