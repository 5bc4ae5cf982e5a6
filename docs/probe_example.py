"""KA geometry of a model that is not one of the papers': the stem of a torchvision ResNet-18.

Run:  python docs/probe_example.py [--steps 100] [--examples 16] [--rotations 20]

1. Build `torchvision.models.resnet18(weights=None, num_classes=10)` (random init, no download)
   and keep `init = copy.deepcopy(model)` BEFORE training: the probe's reference.
2. Train it for a few SGD steps on the offline MNIST digits that ship with kag_utils
   (`load_mnist("embedded")`), average-pooled to 14 x 14 and repeated over the 3 colour channels.
3. Probe the stem (conv1 -> bn1 -> relu -> maxpool) as a map of the 196 pixels of a digit to its
   64 x 4 x 4 = 1,024 feature values: J(x): [B, 1024, 196], trained vs init, k = 1, 2, 3.
   k = 1 is exact (B * 1024 * 196 minors); k = 2, 3 are sampled on 500 x 500 tuple grids;
   RR uses 20 Haar rotations of SO(1024) (each a 1024^3 QR: the dominant cost on a CPU).
Prints the table (metric x k: ours / reference / normalised) and the wall times.
"""
from __future__ import annotations

import argparse
import copy
import time

import torch
import torchvision

import kag_utils
from kag_utils.mnist import load_mnist, normalize


def digits(n: int, split: str = "train", seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n embedded MNIST digits, normalised and pooled to 14 x 14: ([n, 1, 14, 14], [n])."""
    data = load_mnist("embedded")
    images = data.train_images if split == "train" else data.test_images
    labels = data.train_labels if split == "train" else data.test_labels
    idx = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
    x = normalize(torch.as_tensor(images)[idx]).reshape(-1, 1, 28, 28)
    return torch.nn.functional.avg_pool2d(x, 2), torch.as_tensor(labels)[idx]


def rgb(x: torch.Tensor) -> torch.Tensor:
    return x.expand(-1, 3, -1, -1)                                   # grey -> 3 channels


class Grey(torch.nn.Module):
    """Grey images [b, 1, H, W] -> the 3 identical colour channels a ResNet expects."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rgb(x)


def stem(model: torch.nn.Module) -> torch.nn.Module:
    """The first layers as a map of grey 14 x 14 images: [b, 1, 14, 14] -> [b, 64, 4, 4].
    An nn.Module, so the probe evaluates it in eval mode (BatchNorm's running statistics)."""
    return torch.nn.Sequential(Grey(), model.conv1, model.bn1, model.relu, model.maxpool)


def accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(rgb(x)).argmax(1) == y).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--examples", type=int, default=16)
    ap.add_argument("--rotations", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model = torchvision.models.resnet18(weights=None, num_classes=10)
    init = copy.deepcopy(model)                                      # the reference: before training

    t0 = time.perf_counter()
    x_train, y_train = digits(3000, "train")
    x_test, y_test = digits(500, "test")
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    for _ in range(args.steps):
        model.train()
        i = torch.randint(0, len(x_train), (64,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(rgb(x_train[i])), y_train[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    t_train = time.perf_counter() - t0
    print(f"ResNet-18, {args.steps} SGD steps (batch 64) in {t_train:.1f} s: test accuracy "
          f"{accuracy(init, x_test, y_test):.3f} at init -> {accuracy(model, x_test, y_test):.3f}")

    x, _ = digits(args.examples, "test", seed=2)                     # [B, 1, 14, 14]
    t0 = time.perf_counter()
    report = kag_utils.probe(stem(model), x, k=(1, 2, 3), reference=stem(init),
                             n_rotations=args.rotations, progress=False)
    t_probe = time.perf_counter() - t0
    info = report.info
    print(f"probe of the stem: J [{info['B']}, {info['m']}, {info['n']}], modes {report.mode}, "
          f"RR {info['rr_mode']}, {t_probe:.1f} s")
    print(report.table().to_string(float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
