"""``psfl deploy-keys``: writes a lab's files without a run directory, prints where each goes,
and turns bad input into one line with exit code 2."""

from __future__ import annotations

from psfl.cli import main


def test_writes_the_lab_and_says_where_each_file_goes(tmp_path, capsys):
    out = tmp_path / "keys"
    assert main(["deploy-keys", "--out", str(out), "--nodes", "3", "--host", "bs.lab"]) == 0
    printed = capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= {"ca.pem", "server.pem", "supernode-2.pub"}
    assert not (out / "run.json").exists() and not (out / "summary.json").exists()
    assert "SAN:             bs.lab, localhost, 127.0.0.1" in printed
    assert f"--root-certificates {out / 'ca.pem'}" in printed
    assert "flwr supernode register" in printed and "--enable-supernode-auth" in printed


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["deploy-keys", "--out", str(tmp_path / "k"), "--nodes", "0"]) == 2
    assert main(["deploy-keys", "--out", str(tmp_path / "k"), "--host", "bs:9093"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 2 and all(ln.startswith("psfl deploy-keys: error:") for ln in err)
    assert not (tmp_path / "k").exists()
