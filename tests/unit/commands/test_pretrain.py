"""``psfl pretrain``'s starting point is read once per run directory: an export replaces the
zoo file a warm start began from, and a later --now must not count the export as the start."""

import argparse

from psfl.commands import pretrain
from psfl.results import RunDir


def test_the_start_is_kept_with_the_checkpoints(tmp_path, monkeypatch):
    import psfl.semantic.pretrain as sp

    seen = iter([("pretrained:gsc-m-awgn", 80000), ("pretrained:gsc-m-awgn", 508448)])
    monkeypatch.setattr(sp, "start_point", lambda init, channel: next(seen))
    args = argparse.Namespace(init="pretrained:gsc-m", channel="awgn")
    first = pretrain._start(args, RunDir(tmp_path / "run", "pretrain"))
    (tmp_path / "run" / "summary.json").write_text("{}")  # an earlier run's output, versioned
    again = pretrain._start(args, RunDir(tmp_path / "run", "pretrain"))
    assert first == again == ("pretrained:gsc-m-awgn", 80000)
    fresh = pretrain._start(args, RunDir(tmp_path / "other", "pretrain"))
    assert fresh == ("pretrained:gsc-m-awgn", 508448)
