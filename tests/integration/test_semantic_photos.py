"""The whole-photo digital baseline as psfl link uses it: one PhotoBaseline per receiver, bound
to each photo's k."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("decoder", ["ldpc", "abstraction"])
def test_the_photo_baseline_bound_to_a_photo_delivers_at_high_snr(decoder):
    from psfl.phy import PhyConfig, UplinkLink
    from psfl.semantic.config import SemanticConfig
    from psfl.semantic.evaluate import digital_baseline

    phy = PhyConfig(channel="awgn")
    base = digital_baseline(phy, SemanticConfig(), 512)
    photo = np.linspace(0, 1, 64 * 96 * 3, dtype=np.float32).reshape(1, 64, 96, 3)
    scheme = base.for_photo(3072, decoder)
    assert scheme.k == 3072 and scheme.decoder == decoder and scheme.codec == "jpeg"
    assert base.for_photo(1024, decoder).baseline is scheme.baseline  # one per receiver
    _, info = scheme.transmit(photo, UplinkLink(phy), 30.0)
    assert info["success"].all() and info["decoder"] == decoder and info["psnr"][0] > 30
    _, lost = scheme.transmit(photo, UplinkLink(phy), -10.0)
    assert not lost["success"].any()
