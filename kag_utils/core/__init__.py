"""Pure mathematics, no I/O: Jacobians, k x k minors, Haar rotations and the rotated-minor
kernels, P1's metrics and the sampled-minor (P2) metrics; torch thread control."""
