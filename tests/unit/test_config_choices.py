"""Every choice list of the configuration names exactly what the code implements.

A name that validates must run (``phy.equalizer = "zf"`` used to validate and then fail in the
link); a name the code implements must be offered. Each list is checked against the code that
consumes it.
"""

from __future__ import annotations

import numpy as np
import pytest

from psfl.config import DataConfig, load_config
from psfl.federation.config import AGGREGATORS, SMALL_SCALE_CHANNELS, FederationConfig
from psfl.hil.config import HilConfig
from psfl.phy.config import CHANNELS, EQUALIZERS, PATHLOSS_CHANNELS
from psfl.semantic.config import MODEL_NAMES


def _choices(cls, name):
    """A field's choices; a registry's names as it lists them now."""
    c = next(f for f in cls.__dataclass_fields__.values() if f.name == name).metadata["choices"]
    return c.names() if hasattr(c, "names") else c


def test_equalizers_are_the_combiners():
    from psfl.phy.estimation import COMBINERS

    assert tuple(COMBINERS) == EQUALIZERS


@pytest.mark.parametrize("method", EQUALIZERS)
def test_every_equalizer_combines_over_two_antennas(method):
    import tensorflow as tf

    from psfl.phy.estimation import combine

    rng = np.random.default_rng(0)
    h = (rng.normal(size=(2, 2, 1, 4)) + 1j * rng.normal(size=(2, 2, 1, 4))).astype(np.complex64)
    x = np.exp(1j * rng.uniform(0, 2 * np.pi, size=(2, 1, 1, 4))).astype(np.complex64)
    x_hat, no_eff = combine(tf.constant(h * x), tf.constant(h), tf.constant([1e-3, 1e-3]),
                            method=method)
    assert np.allclose(x_hat.numpy(), x[:, 0], atol=1e-5)
    assert np.all(np.isfinite(no_eff.numpy()))


def test_unknown_equalizer_names_the_offered_ones():
    import tensorflow as tf

    from psfl.phy.estimation import combine

    one = tf.ones([1, 2, 1, 1], tf.complex64)
    with pytest.raises(ValueError, match="unknown equalizer 'zf'; choose one of lmmse, mrc"):
        combine(one, one, tf.constant([1.0]), method="zf")


@pytest.mark.parametrize("rule", AGGREGATORS)
def test_every_aggregator_combines(rule):
    from psfl.federation.aggregate import aggregate

    updates = [[np.full(3, float(i))] for i in range(5)]
    out = aggregate(updates, [1, 1, 1, 1, 1], rule, trim_fraction=0.2, byzantine=1)
    assert out[0].shape == (3,) and np.all(np.isfinite(out[0]))


def test_unknown_aggregator_is_refused():
    from psfl.federation.aggregate import aggregate

    with pytest.raises(ValueError, match="unknown aggregator"):
        aggregate([[np.zeros(1)]] * 2, [1, 1], "mean")


@pytest.mark.parametrize("rule", _choices(FederationConfig, "agp_weighting"))
def test_every_agp_weighting_is_a_weight_rule(rule):
    from psfl.federation.aggregate import update_weight

    assert update_weight(10, 0.5, rule) > 0


@pytest.mark.parametrize("scheme", _choices(DataConfig, "partition"))
def test_every_partition_scheme_splits(scheme):
    from psfl.data import partition

    parts = partition(np.arange(40) % 4, 3, scheme, 0.5, seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(40))


def test_channel_lists_come_from_phy():
    assert _choices(FederationConfig, "scenario") == PATHLOSS_CHANNELS
    assert set(SMALL_SCALE_CHANNELS) <= set(CHANNELS) - set(PATHLOSS_CHANNELS)
    assert _choices(FederationConfig, "small_scale") == SMALL_SCALE_CHANNELS
    assert _choices(HilConfig, "model") == MODEL_NAMES


def test_every_choice_default_validates():
    cfg = load_config()
    for section in cfg.to_dict():
        obj = getattr(cfg, section)
        for f in obj.__dataclass_fields__.values():
            if f.metadata.get("choices") is not None:
                assert getattr(obj, f.name) in f.metadata["choices"]
