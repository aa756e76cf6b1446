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


def test_demo_checks_include_every_mentor_above_its_student():
    from psfl.federation.demo import demo_checks

    fed = {"final_global_psnr": 25.0, "personal_psnr_last_round": 26.0}
    link = [{"snr_db": s, "student_psnr": 20.0 + s / 2, "digital_psnr": 22.0,
             "digital_success": 1.0} for s in (0.0, 10.0, 20.0)]
    checks = demo_checks(fed, link, {0: 0.8, 1: -0.3, 2: 1.2})
    [(text, ok)] = [(t, ok) for t, ok in checks.items() if t.startswith("every mentor")]
    assert not ok and "MU 1 -0.30 dB" in text
    checks = demo_checks(fed, link, {0: 0.8, 2: 1.2})
    assert [ok for t, ok in checks.items() if t.startswith("every mentor")] == [True]
    assert not any(t.startswith("every mentor") for t in demo_checks(fed, link))
    assert checks["global student >= 24 dB at the MUs (25.00 dB)"]
    assert checks["global student beats the digital baseline at 0 dB (20.00 vs 22.00 dB, 100 % "
                  "delivered)"] is False
