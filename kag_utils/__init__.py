"""kag_utils: reproduction toolkit for Kolmogorov-Arnold geometry in MLPs.

Papers: P1 = Freedman & Mulligan, "Spontaneous Kolmogorov-Arnold Geometry in Shallow MLPs"
(arXiv 2509.12326); P2 = "Scale-Agnostic Kolmogorov-Arnold Geometry in Neural Networks"
(arXiv 2511.21626). See docs/ARCHITECTURE.md for the module map. The names below are the
public API; everything else is importable from its submodule.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("kag-utils")
except PackageNotFoundError:  # running from a source tree that was not pip-installed
    __version__ = "0.1.0"

from .cache import Cache  # noqa: E402
from .evaluation import (EvalConfig, checkpoint_state, evaluate, first_layer_jacobian,  # noqa: E402
                       rotations, state_params)
from .jacobians import gelu, gelu_prime, mlp_jacobian, module_jacobian  # noqa: E402
from .metrics import (column_divergence, column_entropy, consistently_zero_rows,  # noqa: E402
                      dependent_zero_row_fraction, false_positive_rate, mean_excess,
                      p1_metrics, participation_ratio, participation_ratio_max,
                      quantile_ratio, random_rotation_ratio, random_rotation_ratios,
                      random_rotation_ratios_readings,
                      row_means, zero_row_fraction, zero_row_mask, zero_threshold)
from .minors import (combinations_index, iter_minor_blocks, minor_matrix,  # noqa: E402
                     sample_combinations, sampled_minor_stats, sampled_minors)
from .mnist import MNISTData, load_mnist  # noqa: E402
from .mnist_metrics import (inverse_participation_ratio_sampled,  # noqa: E402
                            minor_kl_divergence, minor_kl_divergence_sampled,
                            participation_ratio_sampled, pr_ratio, sampled_metrics,
                            sampled_rotation_ratio)
from .mnist_models import (MNISTRun, MNISTRunConfig, ensure_mnist_runs,  # noqa: E402
                           mlp_jacobians, run_configs)
from .models import first_layer, forward, hidden_features, init_params, predict  # noqa: E402
from .results import Recorder, agrees, defined, section_of, write_comparison  # noqa: E402
from .verdicts import COMPARABLE, VERDICTS, WORDING_TOLERANCE, numeric_verdict, tally  # noqa: E402
from .rotations import haar_rotations, rotated_max_minors, rotated_max_minors_readings  # noqa: E402
from .runs import (InputMap, Run, RunConfig, ensure_runs, initial_params, load_run,  # noqa: E402
                   main_grid, run_dataset)
from .session import Session, start  # noqa: E402
from .spatial import pixel_coords  # noqa: E402
from .sweep import compute_missing, register_kind  # noqa: E402
from .targets import (TARGETS, evaluate_target, make_dataset, make_inputs,  # noqa: E402
                      target_info)
from .training import critical_batch_size, r2_score, steps_to_criterion  # noqa: E402
from . import readings  # noqa: E402  (one rule per kind of verbal claim: onset, window, near, exceeds, ...)
from . import early_stopping  # noqa: E402  (the early-stopping sensitivity study, A-06)
from .dead_neurons import compare_dead_rows, dead_neuron_analysis, weight_row_sizes  # noqa: E402
from .tails import (log10_histogram, mef_fit, quantile_grid, quantile_summary,  # noqa: E402
                    tail_shares)
from .windows import ka_window  # noqa: E402
from .mnist_analysis import (MNISTEvalConfig, MNISTSpatialConfig, evaluate_mnist,  # noqa: E402
                             pair_metrics, spatial_mnist, spatial_pair, spatial_sample_table,
                             spatial_selections)
from .probe import ProbeReport, probe  # noqa: E402  (public KA-geometry probe for any differentiable map)
