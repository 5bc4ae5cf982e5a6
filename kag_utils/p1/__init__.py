"""Paper 1 (arXiv 2509.12326): target functions, MLP parameters, the batched ensemble trainer,
cached runs (kind p1_run), cached evaluations (p1_eval, p1_rr) and the dead-neuron analysis."""
