"""Which figure of P1 or P2 each notebook figure reproduces, so that a caption gives the
paper's figure number beside ours (LaTeX numbers ours). Figures not listed reproduce none
(our additions: targets, Table I as a plot, the early-stopping study, controls, P2-style
diagnostics, the open questions)."""
from __future__ import annotations

# figure name (figures/<set>/<name>.png) -> (paper, its figure number as the paper prints it)
PAPER_FIGURES = {
    "fig1_weights_jacobian": ("P1", "1"),
    "fig2_zipf_xor": ("P1", "2"),
    "fig3_zipf_targets": ("P1", "3"),
    "fig4_minor_distributions": ("P1", "4"),
    "fig5_normalised_pr": ("P1", "5"),
    "fig6_normalised_rr": ("P1", "6"),
    "fig7_column_divergence": ("P1", "7"),
    "fig8_zero_rows_evolution": ("P1", "8"),
    "fig9_concentration_evolution": ("P1", "9"),
    "fig10_lambda_r2": ("P1", "10"),
    "fig11_lambda_zero_rows": ("P1", "11"),
    "fig12_lambda_concentration": ("P1", "12"),
    "fig11_12_lambda_dead_rows_out": ("P1", "11-12"),
    "fig13_minor_distributions": ("P1", "13"),
    "fig14_mean_excess": ("P1", "14"),
    "fig15_random32_batch_size": ("P1", "15"),
    "fig16_bootstrapped_r2": ("P1", "16"),
    "fig17_so_xor": ("P1", "17"),
    "fig17_so_xor_dead_rows_out": ("P1", "17"),
    "fig18_gaussian": ("P1", "18"),
    "fig18_gaussian_dead_rows_out": ("P1", "18"),
    "fig1_trained_vs_init": ("P2", "1"),
    "fig1_rotation_ratios": ("P2", "1"),
    "fig2a_ball_regions": ("P2", "2(a)"),
    "fig2b_pr_ratio_vs_radius": ("P2", "2(b)"),
    "fig3a_separated_tuples": ("P2", "3(a)"),
    "fig3b_pr_ratio_vs_distance": ("P2", "3(b)"),
}


def paper_figure(name: str) -> str | None:
    """"P1 Fig. 8", "P1 Figs. 11-12", "P2 Fig. 2(a)" for a figure that reproduces one, else
    None."""
    if name not in PAPER_FIGURES:
        return None
    paper, number = PAPER_FIGURES[name]
    return f"{paper} Fig{'s' if '-' in number else ''}. {number}"


def paper_figure_tex(name: str) -> str | None:
    """:func:`paper_figure` as TeX (``P1 Fig.~8``, ``P1 Figs.~11--12``)."""
    label = paper_figure(name)
    return None if label is None else label.replace(". ", ".~").replace("-", "--")
