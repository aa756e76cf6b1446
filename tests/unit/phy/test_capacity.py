"""Tests of the capacity reference of the digital baseline (psfl.phy.digital.capacity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import exp1
from skimage import data as skdata

from psfl.phy import PhyConfig, UplinkLink
from psfl.phy.digital import DigitalBaseline
from psfl.phy.digital.capacity import capacity_bits, capacity_reference
from psfl.phy.digital.source import CODECS

K = 512


def images(n: int = 3) -> np.ndarray:
    photos = [skdata.astronaut(), skdata.coffee(), skdata.chelsea()]
    x = np.stack([photos[i % 3][80 + 30 * i : 112 + 30 * i, 120:152, :3] for i in range(n)])
    return x.astype(np.float32) / 255.0


def test_awgn_capacity_closed_form() -> None:
    np.testing.assert_allclose(capacity_bits(100, [0.0, 10 * math.log10(3)]), [100.0, 200.0])
    assert capacity_bits(512, 10.0, batch=4).shape == (4,)
    link = UplinkLink(PhyConfig(channel="awgn"))
    np.testing.assert_allclose(capacity_bits(64, 5.0, link, batch=3),
                               64 * math.log2(1 + 10**0.5), rtol=1e-5)


def test_rayleigh_capacity_per_image_and_its_mean() -> None:
    """One slot per image, one coefficient per slot: bits = k log2(1 + g rho), g ~ Exp(1), whose
    mean is k e^(1/rho) E1(1/rho) / ln 2 (the ergodic capacity)."""
    rho = 10.0
    bits = capacity_bits(64, 10.0, UplinkLink(PhyConfig(channel="rayleigh")), batch=2000)
    assert bits.std() > 0.2 * bits.mean()  # every image has its own realization
    ergodic = 64 * math.exp(1 / rho) * exp1(1 / rho) / math.log(2)
    assert abs(bits.mean() - ergodic) < 0.04 * ergodic
    assert bits.mean() < 64 * math.log2(1 + rho)  # Jensen


def test_reference_bounds_every_coder_error_free() -> None:
    x = images()
    previous = -np.inf
    for snr in (0.0, 10.0, 20.0):
        _, ref = capacity_reference(x, K, snr)
        assert np.all(ref["payload_bytes"] == math.floor(K * math.log2(1 + 10 ** (snr / 10)) / 8))
        assert set(ref["codec"]) <= set(CODECS)
        for codec in CODECS:
            db = DigitalBaseline(K, codec=codec)
            _, info = db.source_roundtrip(x, db.select_mcs(snr))
            assert np.all(info["source_bits"] <= 8 * ref["payload_bytes"])
            assert np.all(ref["psnr"] >= info["psnr"] - 1e-4), (snr, codec)
        assert ref["psnr"].mean() > previous
        previous = ref["psnr"].mean()


def test_reference_is_the_best_single_coder() -> None:
    x = images(2)
    _, both = capacity_reference(x, K, 5.0, codecs=("jpeg", "avif"))
    single = [capacity_reference(x, K, 5.0, codecs=(c,))[1]["psnr"] for c in ("jpeg", "avif")]
    np.testing.assert_allclose(both["psnr"], np.maximum(*single))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="simulate"):
        capacity_bits(K, 10.0, link=lambda x, s: (x, s))
    with pytest.raises(ValueError, match="finite"):
        capacity_bits(K, float("nan"))
    with pytest.raises(ValueError, match="unknown source coder .*; choose one of"):
        capacity_reference(images(1), K, 10.0, codecs=("bpg",))
