"""kag_utils: reproduction toolkit for Kolmogorov-Arnold geometry in MLPs.

Papers: P1 = Freedman & Mulligan, "Spontaneous Kolmogorov-Arnold Geometry in Shallow MLPs"
(arXiv 2509.12326); P2 = "Scale-Agnostic Kolmogorov-Arnold Geometry in Neural Networks"
(arXiv 2511.21626). See docs/ARCHITECTURE.md for the layers and the module map. The names
below are the public API; everything else is importable from its subpackage:

    core        pure math: activations, jacobians, minors, rotations, metrics, sampled_metrics,
                exact_minors, threads
    readings    aggregate (seed means), rules (verbal claims, curves), claims, verdicts, tails,
                windows, paper_values (the published numbers)
    pipeline    paths, cache, sweep, results, session
    p1, mnist   the two papers' models, trainers and cached kinds
    manuscript  generator (python -m kag_utils.manuscript)
    cli         runner (kag-run), lab, regression
"""
from .version import __version__

from .core.activations import GELU, Activation
from .core.jacobians import gelu, gelu_prime, mlp_jacobian, mlp_layer_jacobians, module_jacobian
from .core.metrics import (column_divergence, column_entropy, consistently_zero_rows,
                           dependent_zero_row_fraction, false_positive_rate, mean_excess,
                           p1_metrics, participation_ratio, participation_ratio_max,
                           quantile_ratio, random_rotation_ratio, random_rotation_ratios,
                           random_rotation_ratios_readings, row_means, zero_row_fraction, zero_row_mask, zero_threshold)
from .core.minors import (combinations_index, iter_minor_blocks, minor_matrix,
                          sample_combinations, sampled_minor_stats, sampled_minors)
from .core.exact_minors import exact_minor_stats, grid_minor_stats
from .core.probe import ProbeReport, probe  # public KA-geometry probe for any differentiable map
from .core.rotations import haar_rotations, rotated_max_minors, rotated_max_minors_readings
from .core.sampled_metrics import (inverse_participation_ratio_sampled, minor_kl_divergence,
                                   minor_kl_divergence_sampled, participation_ratio_sampled,
                                   pr_ratio, sampled_metrics, sampled_rotation_ratio)
from . import readings  # one rule per kind of verbal claim: onset, window, near, exceeds, ...
from .readings import paper_values
from .readings.aggregate import pm, summarize
from .readings.tails import (log10_histogram, mef_fit, quantile_grid, quantile_summary,
                             tail_shares)
from .readings.verdicts import COMPARABLE, VERDICTS, WORDING_TOLERANCE, numeric_verdict, tally
from .pipeline.cache import Cache
from .pipeline.results import Recorder, agrees, defined, section_of, write_comparison
from .pipeline.session import Session, start
from .pipeline.sweep import compute_missing, register_kind
from .p1 import early_stopping  # the early-stopping sensitivity study
from .p1 import kan  # a KAN beside the MLP (notebook 07: kan.kan_vs_mlp, kan.compare_models)
from .p1.activations import activation_study  # open question of P1 §V: oscillatory activations
from .p1.depth import LayerEvalConfig, depth_study, layer_jacobians  # deeper MLPs, per layer
from .p1.dead_neurons import compare_dead_rows, dead_neuron_analysis, weight_row_sizes
from .p1.evaluation import (EvalConfig, checkpoint_state, evaluate, first_layer_jacobian,
                            fixed_rotations, state_params)
from .p1.models import first_layer, forward, hidden_features, init_params, predict
from .p1.runs import (InputMap, Run, RunConfig, ensure_runs, initial_params, load_run,
                      main_grid, run_dataset)
from .p1.targets import TARGETS, evaluate_target, make_dataset, make_inputs, target_info
from .p1.training import critical_batch_size, r2_score, steps_to_criterion
from .mnist.data import MNISTData, load_mnist
from .mnist.evaluation import (MNISTEvalConfig, MNISTSpatialConfig, evaluate_mnist,
                               pair_metrics, spatial_mnist, spatial_pair, spatial_sample_table,
                               spatial_selections)
from .mnist.models import MNISTRun, MNISTRunConfig, ensure_mnist_runs, mlp_jacobians, run_configs
from .mnist.spatial import pixel_coords
