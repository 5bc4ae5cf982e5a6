"""Ensemble trainer vs loops: prints per-step and end-to-end timings and speed ratios.

    PYTHONPATH=$PWD python benchmarks/bench_training.py [--members 12] [--width 32] [--epochs 100]

All at one torch thread (REPRODUCTION/PERFORMANCE-NOTES: one thread beats two on these sizes).
Compared, for E members (m hidden units, B = 250, float64 unless --float32):
  step   one optimisation step of all E members:
         manual  = hand-written batched grads + batched Adam (what kag_utils.p1.training uses)
         autograd= batched forward, autograd grads, same batched Adam
         torchopt= batched forward, autograd, torch.optim.Adam on the flat [E, P] tensor
         loop    = E separate nn.Sequential models, each with its own torch.optim.Adam
  train  E members for a fixed number of epochs (no early stop), with per-epoch train/val/test
         evaluation: train_ensemble (manual / autograd) vs a loop of train_one vs a plain
         per-model PyTorch loop (nn.Module + torch.optim.Adam + the same evaluation).
"""
from __future__ import annotations

import argparse
import time

import torch

from kag_utils.p1.models import init_params
from kag_utils.p1.targets import make_dataset
from kag_utils.core.threads import torch_threads
from kag_utils.p1.training import (Member, _autograd_grads, _manual_grads, adam_step_, flatten,
                                train_ensemble, train_one, unflatten)


def timeit(fn, repeat: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def torch_model(params, dtype):
    (W0, b0), (W1, b1) = (params[0]["W"], params[0]["b"]), (params[1]["W"], params[1]["b"])
    net = torch.nn.Sequential(torch.nn.Linear(*W0.shape), torch.nn.GELU(), torch.nn.Linear(*W1.shape)).to(dtype)
    with torch.no_grad():
        net[0].weight.copy_(W0.T), net[0].bias.copy_(b0), net[2].weight.copy_(W1.T), net[2].bias.copy_(b1)
    return net


def plain_loop_train(members, epochs, batch_size, dtype):
    """Reference: the usual PyTorch way, one model after another."""
    for i, m in enumerate(members):
        net = torch_model(m.params, dtype)
        opt = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
        g = torch.Generator().manual_seed(i)
        for _ in range(epochs):
            perm = torch.randperm(len(m.y_train), generator=g)
            for s in range(0, len(perm), batch_size):
                idx = perm[s:s + batch_size]
                loss = torch.nn.functional.mse_loss(net(m.x_train[idx]).squeeze(-1), m.y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                for x, y in ((m.x_train, m.y_train), (m.x_val, m.y_val), (m.x_test, m.y_test)):
                    ((net(x).squeeze(-1) - y) ** 2).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=12)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--float32", action="store_true")
    a = ap.parse_args()
    dtype = torch.float32 if a.float32 else torch.float64
    E, m, B = a.members, a.width, a.batch
    targets = ["xor", "linear", "random"]
    members = []
    for i in range(E):
        d = make_dataset(targets[i % 3], dtype=dtype)
        members.append(Member(init_params(i, (m,), dtype=dtype), *d["train"], *d["val"], *d["test"],
                              seed=i, patience=10**9, max_epochs=a.epochs))
    print(f"E={E} m={m} B={B} {dtype} epochs={a.epochs}, 1 torch thread")
    with torch_threads(1):
        shapes = [tuple(p["W"].shape) for p in members[0].params]
        theta = torch.stack([flatten(mm.params) for mm in members])
        x = torch.stack([mm.x_train[:B] for mm in members])
        y = torch.stack([mm.y_train[:B] for mm in members])
        st = [torch.zeros_like(theta), torch.zeros_like(theta)]

        def manual():
            g, _ = _manual_grads(unflatten(theta, shapes), x, y)
            adam_step_(theta.clone(), st[0].clone(), st[1].clone(), g, 1, 0.01, 0.9, 0.999, 1e-8)

        def autograd():
            g, _ = _autograd_grads(theta, shapes, x, y)
            adam_step_(theta.clone(), st[0].clone(), st[1].clone(), g, 1, 0.01, 0.9, 0.999, 1e-8)

        th = theta.clone().requires_grad_(True)
        opt = torch.optim.Adam([th], lr=0.01)

        def torchopt():
            from kag_utils.p1.training import _forward
            out, _ = _forward(unflatten(th, shapes), x, keep=False)
            loss = ((out - y) ** 2).mean(1).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()

        nets = [torch_model(mm.params, dtype) for mm in members]
        opts = [torch.optim.Adam(n.parameters(), lr=0.01) for n in nets]

        def loop():
            for n, o, xi, yi in zip(nets, opts, x, y):
                loss = torch.nn.functional.mse_loss(n(xi).squeeze(-1), yi)
                o.zero_grad()
                loss.backward()
                o.step()

        steps = {k: timeit(f, 200) for k, f in
                 (("manual", manual), ("autograd", autograd), ("torchopt", torchopt), ("loop", loop))}
        print("one step of all members (ms): " + ", ".join(f"{k} {v * 1e3:.2f}" for k, v in steps.items()))
        print(f"  speed-up of manual: vs autograd {steps['autograd'] / steps['manual']:.1f}x, "
              f"vs torch.optim {steps['torchopt'] / steps['manual']:.1f}x, "
              f"vs per-model loop {steps['loop'] / steps['manual']:.1f}x")

        t = time.perf_counter(); train_ensemble(members, batch_size=B); ens = time.perf_counter() - t
        t = time.perf_counter(); train_ensemble(members, batch_size=B, backend="autograd")
        ens_ag = time.perf_counter() - t
        t = time.perf_counter()
        for mm in members:
            train_one(mm, batch_size=B)
        alone = time.perf_counter() - t
        t = time.perf_counter(); plain_loop_train(members, a.epochs, B, dtype); plain = time.perf_counter() - t
    print(f"{a.epochs} epochs incl. per-epoch train/val/test evaluation (s): ensemble {ens:.2f}, "
          f"ensemble+autograd {ens_ag:.2f}, loop of train_one {alone:.2f}, plain PyTorch loop {plain:.2f}")
    print(f"  ensemble speed-up: vs ensemble+autograd {ens_ag / ens:.1f}x, vs loop of train_one "
          f"{alone / ens:.1f}x, vs plain PyTorch loop {plain / ens:.1f}x; "
          f"{ens / (E * a.epochs) * 1e3:.2f} ms per member-epoch")


if __name__ == "__main__":
    main()
