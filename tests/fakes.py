"""Small stand-ins for data sets the tests cannot ship or download, and small settings."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

#: An override giving every MU 24 MB of training memory: at batch sizes 4 to 16 only gsc-s fits
#: (16·P + B·A bytes, :mod:`psfl.federation.mentor`: gsc-s 21.1 MiB at 16, gsc-m 25.7 MiB at 4),
#: so federation tests whose point is not the mentor's size build and train the cheapest mentor.
GSC_S_ONLY = "federation.memory_mb=[24.0]"


def write_cifar(root: Path, n_train: int = 20, n_test: int = 10, with_train: bool = True,
                smooth_test: bool = False) -> tuple[Path, dict[str, Any]]:
    """A ``cifar-10-batches-py`` folder in ``root`` with random python-version batches
    (``data_batch_1``, ``data_batch_2``, ``test_batch``); ``smooth_test``: test images are
    colour gradients (something a codec can reconstruct, unlike uniform noise)."""
    d = root / "cifar-10-batches-py"
    d.mkdir()
    rng = np.random.default_rng(0)

    def batch(n: int, name: str, smooth: bool = False) -> tuple[np.ndarray, list[int]]:
        if smooth:
            ramp = np.linspace(0, 1, 32)
            planes = [np.outer(ramp, ramp), np.outer(ramp, 1 - ramp), np.outer(1 - ramp, ramp)]
            base = np.concatenate([p.ravel() for p in planes])  # channel-planar, 3072
            data = (255 * (0.2 + 0.6 * base[None] * rng.uniform(0.5, 1, (n, 1)))).astype(np.uint8)
        else:
            data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        with open(d / name, "wb") as fh:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": name.encode()}, fh)
        return data, labels

    out = {}
    if with_train:
        out["data_batch_1"] = batch(n_train, "data_batch_1")
        out["data_batch_2"] = batch(n_train, "data_batch_2")
    out["test_batch"] = batch(n_test, "test_batch", smooth_test)
    return d, out
