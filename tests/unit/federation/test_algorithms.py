"""Unit tests of the PSFL algorithm pieces: mentor choice, PLD loss, aggregation, AGP."""

import math

import numpy as np
import pytest

from psfl.config import ConfigError, load_config
from psfl.federation.aggregate import aggregate, check_update, weighted_average
from psfl.federation.agp import (
    apply_masks,
    choose_ratio,
    magnitude_masks,
    model_bits,
    prunable,
)
from psfl.federation.mentor import select_mentor, training_compute_flops, training_memory_bytes
from psfl.federation.population import MobileUser, make_population

COSTS = [
    {"name": "gsc-s", "params": 100_000, "flops": 10e6, "activation_memory_bytes": 200_000},
    {"name": "gsc-m", "params": 400_000, "flops": 40e6, "activation_memory_bytes": 600_000},
    {"name": "gsc-l", "params": 1_600_000, "flops": 160e6, "activation_memory_bytes": 2_000_000},
]


def _mu(mem_mb, gflop, n=100):
    return MobileUser(mu=0, distance_m=50.0, memory_bytes=mem_mb * 2**20,
                      compute_flops=gflop * 1e9, num_samples=n)


def test_load_formulas():
    assert training_memory_bytes(COSTS[0], 8) == 16 * 100_000 + 8 * 200_000
    assert training_compute_flops(COSTS[0], 8, 10) == 3 * 10e6 * 8 * 10


@pytest.mark.parametrize("mem, gflop, expect, fits", [
    (1024, 1000, "gsc-l", True),   # rich MU: the largest
    (1024, 50, "gsc-m", True),     # compute-bound: m needs 38.4 GFLOP, l 153.6
    (20, 1000, "gsc-m", True),     # memory-bound: m needs 6.4 + 9.6 MB, l 25.6 + 32 MB
    (2, 1000, "gsc-s", False),     # nothing fits: cheapest, flagged
])
def test_mentor_selection(mem, gflop, expect, fits):
    choice = select_mentor(COSTS, _mu(mem, gflop), batch_size=16, steps=20)
    assert choice["name"] == expect and choice["fits"] is fits


def test_mentor_selection_is_monotone_in_resources():
    order = [c["name"] for c in COSTS]
    prev = -1
    for gflop in (1, 5, 20, 80, 320, 1280):
        idx = order.index(select_mentor(COSTS, _mu(4096, gflop), 16, 20)["name"])
        assert idx >= prev
        prev = idx
    with pytest.raises(ValueError):
        select_mentor([], _mu(1, 1), 1, 1)


def test_population_is_reproducible_and_in_range():
    a = make_population([10, 20, 30, 40], min_distance_m=20, max_distance_m=300,
                        memory_mb=(64.0, 1024.0), compute_gflop=(50.0,), seed=3)
    b = make_population([10, 20, 30, 40], min_distance_m=20, max_distance_m=300,
                        memory_mb=(64.0, 1024.0), compute_gflop=(50.0,), seed=3)
    assert a == b
    assert all(20 <= m.distance_m <= 300 for m in a)
    assert {m.memory_bytes for m in a} == {64 * 2**20, 1024 * 2**20}  # every tier dealt
    assert sorted(m.memory_bytes for m in a) == [64 * 2**20] * 2 + [1024 * 2**20] * 2
    assert [m.num_samples for m in a] == [10, 20, 30, 40]


def test_pld_loss_matches_formula_and_blocks_mentor_gradient():
    import tensorflow as tf

    from psfl.federation.distill import pld_loss

    rng = np.random.default_rng(0)
    x, s, m = (tf.constant(rng.random((2, 4, 4, 3)), tf.float32) for _ in range(3))
    lam = 0.3
    expect = lam * np.mean((x - s) ** 2) + (1 - lam) * np.mean((m - s) ** 2)
    np.testing.assert_allclose(pld_loss(x, s, m, lam).numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(pld_loss(x, s, m, 1.0).numpy(), np.mean((x - s) ** 2), rtol=1e-6)
    mv = tf.Variable(m)
    with tf.GradientTape() as tape:
        loss = pld_loss(x, s, mv, 0.5)
    assert tape.gradient(loss, mv) is None
    with pytest.raises(ValueError):
        pld_loss(x, s, m, 1.5)


def test_per_image_distillation_uses_the_teacher_only_where_it_is_better():
    import tensorflow as tf

    from psfl.federation.distill import pld_loss, pld_per_image_loss, teacher_is_better

    rng = np.random.default_rng(1)
    x = rng.random((2, 4, 4, 3)).astype(np.float32)
    s = x + 0.1  # student error 0.01 on both images
    m = x.copy()
    m[0] += 0.05  # teacher better on image 0 (0.0025) ...
    m[1] += 0.3   # ... and worse on image 1 (0.09)
    lam = 0.4
    truth = np.mean((x - s) ** 2, axis=(1, 2, 3))
    mimic = np.mean((m - s) ** 2, axis=(1, 2, 3))
    expect = np.mean([lam * truth[0] + (1 - lam) * mimic[0], truth[1]])
    got = pld_per_image_loss(*(tf.constant(a) for a in (x, s, m)), lam).numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-5)
    m_good = x + 0.01  # better everywhere: equals the paper's loss
    np.testing.assert_allclose(pld_per_image_loss(*(tf.constant(a) for a in (x, s, m_good)),
                                                  lam).numpy(),
                               pld_loss(*(tf.constant(a) for a in (x, s, m_good)), lam).numpy(),
                               rtol=1e-5)
    mv = tf.Variable(m)
    with tf.GradientTape() as tape:
        loss = pld_per_image_loss(tf.constant(x), tf.constant(s), mv, lam)
    assert tape.gradient(loss, mv) is None
    assert teacher_is_better(25.1, 25.0) and not teacher_is_better(25.0, 25.0)


def test_attention_transfer_matches_formula_and_blocks_mentor_gradient():
    import tensorflow as tf

    from psfl.federation.distill import attention_transfer, pld_feature_loss, pld_loss

    rng = np.random.default_rng(2)
    h_s = rng.normal(size=(3, 4, 4, 5)).astype(np.float32)   # student: coarse grid, 5 wide
    h_m = rng.normal(size=(3, 8, 8, 7)).astype(np.float32)   # mentor: finer grid, 7 wide

    def att(h, g):  # A(h): channel mean of h², average-pooled to g x g, unit norm
        q = (h**2).mean(-1)
        f = q.shape[1] // g
        q = q.reshape(len(h), g, f, g, f).mean((2, 4)).reshape(len(h), -1)
        return q / np.linalg.norm(q, axis=1, keepdims=True)

    expect = np.mean(np.sum((att(h_s, 4) - att(h_m, 4)) ** 2, axis=1))
    got = attention_transfer(tf.constant(h_s), tf.constant(h_m)).numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-5)
    assert got > 1e-3
    # a map is scale-free, and equal maps cost nothing
    np.testing.assert_allclose(attention_transfer(tf.constant(3 * h_s), tf.constant(h_m)), got,
                               rtol=1e-5)
    assert float(attention_transfer(tf.constant(h_s), tf.constant(-2 * h_s))) < 1e-10
    x, s_img, m_img = (tf.constant(rng.random((3, 4, 4, 3)), tf.float32) for _ in range(3))
    total = pld_feature_loss(x, s_img, m_img, 0.3, 0.5, h=tf.constant(h_s),
                             h_teacher=tf.constant(h_m))
    np.testing.assert_allclose(total, pld_loss(x, s_img, m_img, 0.3) + 0.5 * got, rtol=1e-5)
    mv = tf.Variable(h_m)
    with tf.GradientTape() as tape:
        loss = attention_transfer(tf.constant(h_s), mv)
    assert tape.gradient(loss, mv) is None
    with pytest.raises(ValueError, match="distill_feature_weight"):
        pld_feature_loss(x, s_img, m_img, 0.3, -1.0, h=tf.constant(h_s), h_teacher=mv)


def test_feature_distillation_moves_the_students_attention_to_the_mentors():
    """The ``feature`` variant through psfl's trainer: with the attention term alone weighted up,
    a few steps bring a CSC's decoder attention maps toward a GSC mentor's on the same images."""
    import tensorflow as tf

    from psfl.federation.distill import attention_transfer
    from psfl.federation.local import local_trainer
    from psfl.semantic.models import build_codec
    from psfl.semantic.train import transmit_features

    def link(z, snr):  # AWGN at the given SNR, noise from a fixed seed
        no = tf.pow(10.0, -snr / 10.0)[:, None]
        noise = tf.complex(*(tf.random.stateless_normal(tf.shape(z, out_type=tf.int32), [1, i])
                             for i in (0, 1)))
        return z + tf.cast(tf.sqrt(no / 2), tf.complex64) * noise, tf.broadcast_to(no, tf.shape(z))

    tf.keras.utils.set_random_seed(0)
    student, mentor = build_codec("csc"), build_codec("gsc-s")
    x = np.random.default_rng(3).random((16, 32, 32, 3), dtype=np.float32)
    snr = tf.fill([16], 10.0)

    def distance():
        _, h = transmit_features(student, link, x, snr)
        _, h_m = transmit_features(mentor, link, x, snr)
        return float(attention_transfer(h, h_m))

    before = distance()
    trainer = local_trainer(student, link, learning_rate=3e-3, objective="pld", mentor=mentor,
                            distill_lambda=1.0, distill="feature", feature_weight=1.0)
    trainer.fit(x, steps=30, batch_size=16, snr_db_range=(10.0, 10.0), seed=0)
    assert distance() < 0.5 * before, (before, distance())


def test_update_weight_rules():
    from psfl.federation.aggregate import update_weight

    assert update_weight(100, 0.25, "size") == 100.0
    assert update_weight(100, 0.25, "kept") == 75.0
    assert update_weight(100, 0.0) == 100.0
    with pytest.raises(ValueError, match="outside"):
        update_weight(100, 1.0)
    with pytest.raises(ValueError, match="unknown update weighting"):
        update_weight(100, 0.1, "bits")


def test_weighted_average_formula():
    a = [np.array([1.0, 2.0]), np.array([[0.0]])]
    b = [np.array([3.0, 6.0]), np.array([[4.0]])]
    out = weighted_average([a, b], [1, 3])
    np.testing.assert_allclose(out[0], [2.5, 5.0])
    np.testing.assert_allclose(out[1], [[3.0]])
    with pytest.raises(ValueError):
        weighted_average([a, b], [0, 0])


def test_masked_average_uses_only_holders_and_falls_back():
    a = [np.array([1.0, 2.0, 9.0])]
    b = [np.array([3.0, 0.0, 0.0])]
    ma = [np.array([1.0, 1.0, 0.0])]
    mb = [np.array([1.0, 0.0, 0.0])]
    fb = [np.array([7.0, 7.0, 7.0])]
    out = weighted_average([a, b], [1, 1], masks=[ma, mb], fallback=fb)
    np.testing.assert_allclose(out[0], [2.0, 2.0, 7.0])


def test_robust_aggregators_resist_an_outlier():
    good = [[np.full(4, v)] for v in (1.0, 1.1, 0.9, 1.05)]
    bad = [[np.full(4, 1e6)]]
    ups = good + bad
    n = [1] * 5
    assert np.all(aggregate(ups, n, "weighted")[0] > 1e5)
    for rule in ("median", "trimmed-mean", "krum"):
        out = aggregate(ups, n, rule, trim_fraction=0.2, byzantine=1)[0]
        assert np.all(np.abs(out - 1.0) < 0.11), rule
    assert not np.array_equal(aggregate(ups, n, "krum")[0], bad[0][0])
    with pytest.raises(ValueError, match="unknown aggregator"):
        aggregate(ups, n, "mode")


def test_robust_rules_are_the_textbook_rules():
    """Median and trimmed mean coordinate-wise; Krum picks the update whose n−f−2 nearest
    neighbours are closest (computed by hand here)."""
    rng = np.random.default_rng(3)
    ups = [[rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=5).astype(np.float32)]
           for _ in range(5)]
    n = [1] * 5
    med = aggregate(ups, n, "median")
    trim = aggregate(ups, n, "trimmed-mean", trim_fraction=0.2)
    for t in range(2):
        stack = np.stack([u[t] for u in ups])
        np.testing.assert_allclose(med[t], np.median(stack, axis=0), rtol=1e-6)
        np.testing.assert_allclose(trim[t], np.sort(stack, axis=0)[1:4].mean(axis=0), rtol=1e-5)
        assert med[t].dtype == np.float32
    flat = np.stack([np.concatenate([x.ravel() for x in u]) for u in ups]).astype(np.float64)
    d = ((flat[:, None] - flat[None]) ** 2).sum(-1)
    scores = [np.sort(np.delete(d[i], i))[:5 - 1 - 2].sum() for i in range(5)]
    krum = aggregate(ups, n, "krum", byzantine=1)
    for a, b in zip(krum, ups[int(np.argmin(scores))]):
        np.testing.assert_array_equal(a, b)


def test_check_update_rejects_bad_weights():
    ref = [np.zeros((2, 3)), np.zeros(3)]
    assert check_update([np.ones((2, 3)), np.ones(3)], ref) is None
    assert "NaN" in check_update([np.full((2, 3), np.nan), np.ones(3)], ref)
    assert "NaN or Inf" in check_update([np.ones((2, 3)), np.array([1, np.inf, 0])], ref)
    assert "shape" in check_update([np.ones((3, 2)), np.ones(3)], ref)
    assert "tensors" in check_update([np.ones((2, 3))], ref)


def _model(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(8, 16)).astype(np.float32), rng.normal(size=16).astype(np.float32),
            rng.normal(size=(3, 3, 4, 4)).astype(np.float32)]


def test_magnitude_pruning_ratio_and_bias_untouched():
    w = _model()
    assert prunable(w) == [True, False, True]
    masks = magnitude_masks(w, 0.5)
    n_prunable = 8 * 16 + 3 * 3 * 4 * 4
    assert int(sum(m.size - m.sum() for m in masks)) == round(0.5 * n_prunable)
    assert masks[1].all()
    kept = np.concatenate([np.abs(x[m > 0]) for x, m in zip(w, masks) if x.ndim >= 2])
    dropped = np.concatenate([np.abs(x[m == 0]) for x, m in zip(w, masks) if x.ndim >= 2])
    assert kept.min() >= dropped.max()
    with pytest.raises(ValueError):
        magnitude_masks(w, 1.0)


def test_prune_then_expand_round_trip():
    dense = _model(1)
    high = magnitude_masks(dense, 0.7)
    low = magnitude_masks(dense, 0.2)
    for h, lo in zip(high, low):
        assert np.all(h <= lo)  # nested: expansion only restores
    pruned = apply_masks(dense, high)
    expanded = apply_masks(dense, low)
    restored = [(lo - h) > 0 for h, lo in zip(high, low)]
    for p, e, d, r in zip(pruned, expanded, dense, restored):
        np.testing.assert_array_equal(e[r], d[r])   # restored from the dense copy
        assert np.all(p[r] == 0)
    full = apply_masks(dense, magnitude_masks(dense, 0.0))
    for f, d in zip(full, dense):
        np.testing.assert_array_equal(f, d)


def test_bit_counting():
    w = [np.zeros((10, 100), np.float32), np.zeros(10, np.float32)]
    assert model_bits(w) == 1010 * 32
    m = [np.zeros((10, 100), np.float32), np.ones(10, np.float32)]
    m[0].flat[:50] = 1  # 50 of 1000 kept: coordinates (50*10 bits) beat a bitmap (1000)
    assert model_bits(w, m) == 50 * 32 + 50 * math.ceil(math.log2(1000)) + 32 + 10 * 32
    m[0].flat[:600] = 1  # 600 kept: bitmap is cheaper
    assert model_bits(w, m, weight_bits=16) == 600 * 16 + 1000 + 32 + 10 * 16


def test_ratio_rule_worse_channel_prunes_more():
    w = _model(2)
    bw, p = 1e6, 1.0

    def energy(snr_db):
        return lambda bits: p * bits / (bw * math.log2(1 + 10 ** (snr_db / 10)))

    dense_bits = model_bits(w)
    budget = energy(10.0)(dense_bits) * 1.01  # the dense model just fits at 10 dB
    ratios = [choose_ratio(w, energy(s), budget)["ratio"] for s in (20, 10, 5, 2, 0, -5)]
    assert ratios[0] == 0.0 and ratios[1] == 0.0
    assert all(b >= a for a, b in zip(ratios, ratios[1:]))
    assert ratios[-2] > 0.3
    hopeless = choose_ratio(w, energy(-30.0), budget, max_ratio=0.9)
    assert hopeless["ratio"] == 0.9 and hopeless["fits"] == 0.0
    ok = choose_ratio(w, energy(2.0), budget)
    assert ok["energy_j"] <= budget and ok["fits"] == 1.0


def test_federation_config_validation():
    cfg = load_config(None, ["federation.strategy=fedprox-csc", "federation.rounds=3"])
    assert cfg.federation.strategy == "fedprox-csc"
    with pytest.raises(ConfigError, match="federation.strategy"):
        load_config(None, ["federation.strategy=fedsgd"])
    with pytest.raises(ConfigError, match="min_distance_m"):
        load_config(None, ["federation.min_distance_m=500"])


def test_energy_sweep_agp_against_distance():
    from psfl.federation.energy import distance_sweep
    from psfl.phy import dbm_to_w, model_transfer_energy_j

    config = load_config(None, ["federation.agp_energy_budget_j=2.5"])
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(64, 256)).astype(np.float32) for _ in range(11)]  # ~CSC size
    rows = distance_sweep(config, [10, 50, 150, 400, 800], weights)
    ratios = [r["prune_ratio"] for r in rows]
    assert ratios == sorted(ratios) and ratios[0] == 0.0 and ratios[-1] > 0.3
    bw = config.phy.noise_bandwidth_hz
    for r in rows:
        dense = model_transfer_energy_j(r["bits_dense"], dbm_to_w(43.0), bw, r["downlink_snr_db"])
        assert math.isclose(r["energy_down_dense_j"], dense, rel_tol=1e-9)
        assert r["energy_down_agp_j"] <= r["energy_down_dense_j"]
        assert r["energy_up_agp_j"] <= r["energy_up_dense_j"]
        if r["prune_ratio"] < config.federation.agp_max_ratio:
            assert r["energy_down_agp_j"] <= 2.5
    assert rows[0]["uplink_snr_db"] > rows[-1]["uplink_snr_db"]
    with pytest.raises(ValueError):
        distance_sweep(config, [0.0], weights)
