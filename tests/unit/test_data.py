"""Data loaders on files the tests write, the embedded set, partitions and reproducibility."""

import numpy as np
import pytest
from PIL import Image

from psfl.config import load_config
from psfl.data import (
    SKIMAGE_SOURCES,
    as_dataset,
    load_cifar10,
    load_folder,
    load_images,
    load_skimage,
    partition,
    partition_stats,
)
from psfl.errors import DataError
from tests.fakes import write_cifar


@pytest.fixture(scope="module")
def skimage_sets():
    return load_skimage(32)


def test_embedded_set_shapes_and_split(skimage_sets):
    train, test = skimage_sets
    for s in (train, test):
        assert s.images.dtype == np.float32
        assert s.images.shape[1:] == (32, 32, 3)
        assert 0.0 <= s.images.min() and s.images.max() <= 1.0
    assert len(train) > 1000 and len(test) > 200
    # every photo contributes to both splits
    assert set(np.unique(train.labels)) == set(range(len(SKIMAGE_SOURCES)))
    assert set(np.unique(test.labels)) == set(range(len(SKIMAGE_SOURCES)))
    frac = len(test) / (len(train) + len(test))
    assert 0.1 < frac < 0.35


def test_no_patch_shared_between_train_and_test(skimage_sets):
    train, test = skimage_sets
    tr = {p.tobytes() for p in (train.images * 255).round().astype(np.uint8)}
    te = {p.tobytes() for p in (test.images * 255).round().astype(np.uint8)}
    assert not tr & te


def test_overlapping_stride_does_not_leak():
    # stride 8 < patch 32: patches overlap, but never across the train/test region boundary
    from psfl.data import _cut_regions

    rng = np.random.default_rng(0)
    img = rng.random((256, 256, 3)).astype(np.float32)
    train, test = _cut_regions(img, 32, 8, 0.25, "synthetic")
    assert train and test

    def pixels(patches):
        return {tuple(px) for p in patches for px in p.reshape(-1, 3)}

    assert not pixels(train) & pixels(test)


def test_split_is_deterministic_and_independent_of_seed():
    a = load_images(load_config(None, ["data.max_train=0"]).data, seed=1)
    b = load_images(load_config().data, seed=2)
    np.testing.assert_array_equal(a[1].images, b[1].images)


def test_cifar10_loader_reads_python_batches(tmp_path):
    d, written = write_cifar(tmp_path)
    for path in (d, tmp_path):  # the batches folder or its parent
        train, test = load_cifar10(path)
        assert train.images.shape == (40, 32, 32, 3)
        assert test.images.shape == (10, 32, 32, 3)
    data, labels = written["data_batch_1"]
    # channel-planar rows → HWC: red plane first
    np.testing.assert_allclose(train.images[0, :, :, 0], data[0, :1024].reshape(32, 32) / 255.0)
    np.testing.assert_allclose(train.images[0, :, :, 2], data[0, 2048:].reshape(32, 32) / 255.0)
    assert list(train.labels[:20]) == labels
    assert train.label_names[3] == "cat"


def test_cifar10_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_cifar10(tmp_path / "missing")
    with pytest.raises(DataError, match="no CIFAR-10 python batches"):
        load_cifar10(tmp_path)
    d, _ = write_cifar(tmp_path)
    with pytest.raises(DataError, match="patch_size = 32"):
        load_cifar10(d, patch_size=16)
    (d / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="data_batch_2.*corrupt"):
        load_cifar10(d)


def _write_images(folder, sizes, fmt="PNG"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i, (w, h) in enumerate(sizes):
        arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        ext = "png" if fmt == "PNG" else "jpg"
        Image.fromarray(arr).save(folder / f"img{i}.{ext}", fmt)


def test_folder_loader_tiles_and_center(tmp_path):
    _write_images(tmp_path / "a", [(200, 150), (64, 64)], "PNG")
    _write_images(tmp_path / "a" / "sub", [(100, 90)], "JPEG")
    train, test = load_folder(tmp_path / "a", patch_size=32, mode="tiles")
    assert train.images.shape[1:] == (32, 32, 3) and len(train) > 0 and len(test) > 0
    assert len(train.label_names) == 3
    train, test = load_folder(tmp_path / "a", patch_size=48, mode="center", test_fraction=0.34)
    assert len(train) + len(test) == 3 and len(test) == 1
    assert train.images.shape[1:] == (48, 48, 3)


def test_folder_loader_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no PNG/JPEG images"):
        load_folder(tmp_path / "empty")
    _write_images(tmp_path / "small", [(64, 64), (20, 40)])
    with pytest.raises(DataError, match=r"img1\.png.*20x40, smaller than the 32x32 patch"):
        load_folder(tmp_path / "small")
    _write_images(tmp_path / "corrupt", [(64, 64)])
    (tmp_path / "corrupt" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(DataError, match=r"broken\.jpg.*cannot be read"):
        load_folder(tmp_path / "corrupt")


def test_load_images_dispatch_and_caps(tmp_path):
    d, _ = write_cifar(tmp_path)
    cfg = load_config(None, ["data.source=cifar10", f"data.path={str(d)!r}", "data.max_train=7",
                             "data.max_test=3"]).data
    train, test = load_images(cfg)
    assert len(train) == 7 and len(test) == 3


def test_partition_iid_is_balanced_and_dirichlet_is_skewed(skimage_sets):
    labels = skimage_sets[0].labels
    iid = partition(labels, 5, "iid", seed=0)
    skew = partition(labels, 5, "dirichlet", alpha=0.1, seed=0)
    flat = partition(labels, 5, "dirichlet", alpha=100.0, seed=0)
    for parts in (iid, skew, flat):
        allidx = np.concatenate(parts)
        assert len(allidx) == len(labels) and len(np.unique(allidx)) == len(labels)
    s_iid, s_skew, s_flat = (partition_stats(labels, p) for p in (iid, skew, flat))
    assert s_iid["size_cv"] < 0.01 and s_iid["mean_tv"] < 0.08
    assert s_skew["mean_tv"] > 0.3 and s_skew["mean_tv"] > 3 * s_flat["mean_tv"]
    assert s_flat["mean_tv"] < 0.1


def test_partition_is_reproducible_and_seed_dependent(skimage_sets):
    labels = skimage_sets[0].labels
    a = partition(labels, 4, "dirichlet", alpha=0.5, seed=11)
    b = partition(labels, 4, "dirichlet", alpha=0.5, seed=11)
    c = partition(labels, 4, "dirichlet", alpha=0.5, seed=12)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_partition_errors():
    with pytest.raises(DataError, match="cannot give 10 MUs"):
        partition(np.zeros(5, int), 10)
    with pytest.raises(ValueError, match="unknown partition scheme"):
        partition(np.zeros(50, int), 2, "zipf")


def test_dataset_order_reproducible(skimage_sets):
    imgs = skimage_sets[1].images[:64]
    a = next(iter(as_dataset(imgs, 16, shuffle=True, seed=5))).numpy()
    b = next(iter(as_dataset(imgs, 16, shuffle=True, seed=5))).numpy()
    c = next(iter(as_dataset(imgs, 16, shuffle=True, seed=6))).numpy()
    assert a.shape == (16, 32, 32, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
