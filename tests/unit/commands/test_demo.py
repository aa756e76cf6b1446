"""``psfl demo``'s settings: what the user chose is honoured under the demo's budgets
(issue #13, moved from test_inputs.py)."""



from psfl.commands.demo import _demo_config
from psfl.config import load_config


def test_quick_demo_keeps_what_the_user_set():
    cfg = _demo_config(load_config(None, ["federation.rounds=3"]), quick=True)
    assert cfg.federation.rounds == 3
    assert cfg.federation.local_steps == 4 and cfg.semantic.batch_size == 8  # quick's own
    # Values equal to the defaults (20, 32, 128) are choices too.
    cfg = _demo_config(load_config(None, ["federation.local_steps=20",
                                          "semantic.batch_size=32"]), quick=True)
    assert cfg.federation.local_steps == 20 and cfg.semantic.batch_size == 32
    assert _demo_config(load_config(None, ["semantic.batch_size=32"]),
                        quick=False).semantic.batch_size == 32


def test_quick_demo_keeps_what_the_file_set(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[federation]\neval_images = 128\n[data]\nnum_mus = 5\n")
    cfg = _demo_config(load_config(path), quick=True)
    assert cfg.federation.eval_images == 128 and cfg.data.num_mus == 5
    assert cfg.data.max_train == 160 and cfg.federation.rounds == 1


def test_demo_settings_unchanged_without_choices():
    quick = _demo_config(load_config(), quick=True)
    assert (quick.federation.rounds, quick.federation.local_steps, quick.federation.mentor_steps,
            quick.federation.eval_images, quick.federation.backend) == (1, 4, 2, 16, "loop")
    assert (quick.data.max_train, quick.data.max_test, quick.data.num_mus) == (160, 48, 2)
    assert quick.semantic.batch_size == 8 and list(quick.semantic.eval_snr_db) == [0.0, 10.0]
    full = _demo_config(load_config(), quick=False)
    assert (full.federation.rounds, full.federation.local_steps, full.federation.mentor_steps,
            full.federation.eval_images, full.semantic.batch_size) == (5, 40, 16, 64, 16)
