"""Paper 2 (arXiv 2511.21626): MNIST data, the 784-h-h-10 MLP and its cached runs (kind
mnist_run), spatial pixel samplers, cached evaluations (mnist_eval, mnist_spatial,
mnist_timeline), the convergence of the sampled estimates with the sample counts, and
notebook 06's readings and comparison rows."""
