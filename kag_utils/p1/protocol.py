"""P1's training protocol (arXiv 2509.12326 sec. III; REPRODUCTION.md 1.2, 4.1): the one place
its values live. ``RunConfig`` and the trainer take their defaults from here, and
tests/test_params.py checks that every notebook's parameters cell shows these same values
(a notebook declares them so that a reader sees them and papermill can override them)."""
from __future__ import annotations

__all__ = ["P1_PROTOCOL"]

P1_PROTOCOL = {
    "seeds": (0, 1, 2, 3),    # model seeds: P1 trains 4 seeds per model
    "batch_size": 250,        # the critical batch size of sec. III
    "lr": 0.01,               # Adam's learning rate
    "max_epochs": 10_000,     # epoch cap
    "patience": 50,           # early-stopping patience on the training-batch MSE
}
