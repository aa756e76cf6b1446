"""Psfl's federation through Flower's deployment engine on loopback, secured as the README
says (section "Running the federation on several machines"): a SuperLink (the BS host) with TLS
and SuperNode authentication, two SuperNodes (one per MU) each with its registered key and the
lab's CA, and ``flwr run flower_app`` — the same processes and commands as on several machines,
all on 127.0.0.1, with certificates and keys the test makes (:mod:`psfl.federation.deploy_keys`).

Why a separate test from the simulation: the deployment engine moves the apps into other
processes (``flwr-serverapp`` under the SuperLink, one ``flwr-clientapp`` per message under each
SuperNode), gives them their configuration only through the run config and node config, and
carries every payload over the Fleet API. None of that is exercised by ``run_simulation``.

What Flower 1.42 does, asserted here: ``flower-superlink --enable-supernode-auth`` (which needs
TLS) accepts only SuperNodes whose public key was registered through the Control API
(``flwr supernode register KEY.pub``); a SuperNode with another key is refused at activation
(``[code: 2004] Failed to activate SuperNode``), one without a key may not register itself
(``[code: 2001]``), and either exits with Flower's exit code 305 (process status 1) after one
attempt. ``--insecure`` stays an explicit opt-out: the last test checks that it still connects.

Every process is started by this test with bounded waits and is stopped at the end (terminate,
then kill); a failure carries the processes' logs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from psfl.config import load_config
from psfl.federation.checkpoint import MuState, RunLayout
from psfl.federation.deploy_keys import LabKeys, make_lab
from tests.fakes import GSC_S_ONLY

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # flower-superlink, flower-supernode, flwr of this venv
HOST = "127.0.0.1"
NUM_MUS = 2
TINY = ["data.max_train=120", "data.max_test=32", f"data.num_mus={NUM_MUS}",
        "federation.eval_images=16", "federation.local_steps=3", "federation.mentor_steps=2",
        "semantic.batch_size=8", "federation.rounds=1", "federation.strategy=psfl",
        "federation.round_timeout_s=600",
        GSC_S_ONLY]
START_S = 60.0    # a SuperLink that does not listen by then will not
CLI_S = 120.0     # one `flwr` command (it builds the FAB and talks to the Control API)
ONLINE_S = 90.0   # registered SuperNodes online (they activate within seconds)
REFUSE_S = 60.0   # a refused SuperNode exits after its one activation attempt
RUN_S = 900.0     # the whole round: 3 ClientApp processes per MU, each importing TensorFlow
STOP_S = 15.0     # terminate → kill


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on loopback (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex((HOST, port)) == 0


class Processes:
    """The long-running processes of the test, their logs, and a stop that always finishes.

    Flower starts ``flower-superexec`` (and under it ``flwr-serverapp``/``flwr-clientapp``) in
    new sessions, so a process-group kill would miss them: the descendants are collected by pid
    and stopped as well.
    """

    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env = root, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.seen: dict[int, psutil.Process] = {}

    def start(self, name: str, args: list[str], home: Path) -> subprocess.Popen[bytes]:
        home.mkdir(parents=True, exist_ok=True)
        env = dict(self.env, FLWR_HOME=str(home))  # one Flower home per "machine"
        with open(self.root / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=self.root, stdin=subprocess.DEVNULL)
        self.procs[name] = proc
        return proc

    def descendants(self) -> list[psutil.Process]:
        """Live descendants of our processes (remembered, so orphans are still stopped)."""
        for proc in self.procs.values():
            try:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    self.seen.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                pass
        return [p for p in self.seen.values() if _alive(p)]

    def running(self, marker: str) -> bool:
        """Whether a live descendant's command line contains ``marker``."""
        for p in self.descendants():
            try:
                if any(marker in part for part in p.cmdline()):
                    return True
            except psutil.Error:
                pass
        return False

    def dead(self) -> list[str]:
        return [f"{n} (exit {p.returncode})" for n, p in self.procs.items()
                if p.poll() is not None]

    def stop(self) -> list[str]:
        """Terminate everything, kill what is left after ``STOP_S``; returns survivors."""
        self.descendants()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_S
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_S)
        # SuperExec and the app processes watch their parent's pid and leave with it; make sure
        rest = [p for p in self.seen.values() if _alive(p)]
        for p in rest:
            _signal(p, psutil.Process.terminate)
        _, alive = psutil.wait_procs(rest, timeout=STOP_S)
        for p in alive:
            _signal(p, psutil.Process.kill)
        _, alive = psutil.wait_procs(alive, timeout=STOP_S)
        return [f"{p.pid}" for p in alive] + [n for n, p in self.procs.items()
                                              if p.poll() is None]

    def logs(self, tail: int = 6000) -> str:
        parts = []
        for log in sorted(self.root.glob("*.log")):
            text = log.read_text(errors="replace")
            parts.append(f"----- {log.name} (last {tail} chars) -----\n{text[-tail:]}")
        return "\n".join(parts)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _signal(p: psutil.Process, how: Any) -> None:
    try:
        how(p)
    except psutil.NoSuchProcess:
        pass


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Processes]:
    env = dict(os.environ)
    env.update(
        # SuperLink/SuperNode start flower-superexec, flwr-serverapp and flwr-clientapp by name
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        FLWR_TELEMETRY_ENABLED="0", FLWR_DISABLE_UPDATE_CHECK="1",  # loopback only
        PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2", PSFL_PROGRESS="0",
        CUDA_VISIBLE_DEVICES="")
    procs = Processes(tmp_path, env)
    try:
        yield procs
    finally:
        survivors = procs.stop()
        assert not survivors, f"processes still alive after kill: {survivors}\n{procs.logs()}"


def _flwr(lab: Processes, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(lab.env, FLWR_HOME=str(lab.root / "home" / "cli"))
    try:
        return subprocess.run([str(BIN / "flwr"), *args], capture_output=True, text=True,
                              env=env, cwd=lab.root, timeout=CLI_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`flwr {' '.join(args)}` ran past {CLI_S:.0f} s: {e.stdout!r}\n"
                    f"{lab.logs()}")


def _run_log(lab: Processes, run_id: str) -> str:
    """The processes' logs plus the run's own log stream (the ServerApp's records, e.g. its
    traceback, are uploaded to the SuperLink rather than written to its stdout)."""
    try:
        shown = _flwr(lab, "log", str(run_id), "lab", "--show")
        stream = shown.stdout[-6000:] + shown.stderr[-2000:]
    except pytest.fail.Exception as e:  # the log itself timed out: keep what we have
        stream = str(e)[:2000]
    return f"{lab.logs()}\n----- flwr log {run_id} --show -----\n{stream}"


def _state(layout: RunLayout) -> dict[str, Any] | None:
    loaded = layout.load()
    return None if loaded is None else loaded[1]


def _flwr_json(lab: Processes, *args: str) -> dict[str, Any]:
    """``flwr ARGS --format json`` that must succeed; its JSON answer."""
    done = _flwr(lab, *args, "--format", "json")
    assert done.returncode == 0 and "{" in done.stdout, \
        f"`flwr {' '.join(args)}` failed: {done.stdout}{done.stderr}\n{lab.logs()}"
    return json.loads(done.stdout[done.stdout.index("{"):])


def _start_superlink(lab: Processes, port: int, keys: LabKeys | None) -> None:
    """The SuperLink as the README starts it: TLS with the lab's certificate and SuperNode
    authentication, or ``--insecure`` (the opt-out) when ``keys`` is None. Waits until it
    listens, then writes the ``lab`` connection of ``flwr`` (``$FLWR_HOME/config.toml``)."""
    secure = ["--insecure"] if keys is None else [
        "--ssl-ca-certfile", str(keys.ca.cert), "--ssl-certfile", str(keys.server.cert),
        "--ssl-keyfile", str(keys.server.key), "--enable-supernode-auth"]
    lab.start("superlink", [str(BIN / "flower-superlink"), *secure, "--host", HOST,
                            "--port", str(port), "--disable-runtime-dependency-installation"],
              lab.root / "home" / "superlink")
    deadline = time.monotonic() + START_S
    while not _listening(port):
        if lab.dead() or time.monotonic() > deadline:
            pytest.fail(f"SuperLink not listening on {HOST}:{port} "
                        f"({lab.dead() or 'timeout'})\n{lab.logs()}")
        time.sleep(0.5)
    cli_home = lab.root / "home" / "cli"
    cli_home.mkdir(parents=True, exist_ok=True)
    trust = "insecure = true" if keys is None else f'root-certificates = "{keys.ca.cert}"'
    (cli_home / "config.toml").write_text(
        f'[superlink]\ndefault = "lab"\n\n[superlink.lab]\naddress = "{HOST}:{port}"\n'
        f"{trust}\n")


def _start_supernode(lab: Processes, name: str, link_port: int, port: int, mu: int,
                     keys: LabKeys | None, key: Path | None) -> subprocess.Popen[bytes]:
    """SuperNode ``name`` (MU ``mu``; ``port`` its Runtime API) trusting the lab's CA and
    signing with ``key``, or ``--insecure`` when ``keys`` is None."""
    secure = ["--insecure"] if keys is None else ["--root-certificates", str(keys.ca.cert)]
    auth = [] if key is None else ["--auth-supernode-private-key", str(key)]
    return lab.start(name, [str(BIN / "flower-supernode"), *secure, *auth,
                            "--superlink", f"{HOST}:{link_port}", "--host", HOST,
                            "--port", str(port),
                            "--node-config", f"partition-id={mu} num-partitions={NUM_MUS}"],
                     lab.root / "home" / name)


def _wait_online(lab: Processes, done: Callable[[set[str]], bool],
                 alive: list[str]) -> list[dict[str, Any]]:
    """The SuperLink's nodes (``flwr supernode list``) once ``done(online node ids)``; fails
    when one of the processes ``alive`` exits first or after ``ONLINE_S``."""
    deadline = time.monotonic() + ONLINE_S
    while True:
        nodes = _flwr_json(lab, "supernode", "list", "lab").get("nodes", [])
        if done({str(n["node-id"]) for n in nodes if n["status"] == "online"}):
            return nodes
        died = [f"{n} (exit {lab.procs[n].returncode})" for n in alive
                if lab.procs[n].poll() is not None]
        if died or time.monotonic() > deadline:
            pytest.fail(f"SuperNodes not online ({died or 'timeout'}); nodes: {nodes}\n"
                        f"{lab.logs()}")
        time.sleep(2.0)


def _round_finished(lab: Processes, out: Path, run_id: str) -> dict[str, Any]:
    """Wait for the BS's final evaluation in ``out``; fail early if a process or the ServerApp
    dies, or after ``RUN_S``. Returns the round checkpoint's state."""
    ckpt = RunLayout(out)
    deadline, server_seen = time.monotonic() + RUN_S, False
    while True:
        s = _state(ckpt)
        if s is not None and len(s.get("final_rows", [])) == NUM_MUS:
            return s
        if lab.dead():
            pytest.fail(f"{lab.dead()} exited during the run\n{_run_log(lab, run_id)}")
        serving = lab.running("flwr-serverapp")
        server_seen |= serving
        if server_seen and not serving and _state(ckpt) == s:
            pytest.fail(f"the ServerApp ended without the final evaluation; state: {s}\n"
                        f"{_run_log(lab, run_id)}")
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} unfinished after {RUN_S:.0f} s; state: {s}\n"
                        f"{_run_log(lab, run_id)}")
        time.sleep(2.0)


def _run_status(lab: Processes, run_id: str) -> str:
    """The run's status as Flower reports it, once finished (or after 60 s)."""
    deadline = time.monotonic() + 60.0
    while True:
        ls = _flwr(lab, "ls", "lab", "--run-id", str(run_id), "--format", "json")
        runs = json.loads(ls.stdout[ls.stdout.index("{"):]).get("runs", []) if "{" in ls.stdout \
            else []
        status = runs[0]["status"] if runs else f"unknown: {ls.stdout}{ls.stderr}"
        if status.startswith("finished") or time.monotonic() > deadline:
            return status
        time.sleep(3.0)


@pytest.mark.slow
def test_one_psfl_round_over_tls_with_authenticated_supernodes(lab: Processes) -> None:
    root = lab.root
    keys = make_lab(root / "keys", NUM_MUS)  # CA, server certificate for 127.0.0.1, node keys
    config = root / "psfl.toml"
    config.write_text(load_config(None, TINY).to_toml())
    out, state = root / "bs", root / "mu_state"
    link_port, *runtime_ports = _free_ports(1 + NUM_MUS)

    _start_superlink(lab, link_port, keys)
    node_ids = {str(_flwr_json(lab, "supernode", "register", str(k.public), "lab")["node-id"])
                for k in keys.nodes}
    assert len(node_ids) == NUM_MUS
    for mu, port in enumerate(runtime_ports):
        _start_supernode(lab, f"supernode{mu}", link_port, port, mu, keys,
                         keys.nodes[mu].private)
    _wait_online(lab, lambda online: online == node_ids, list(lab.procs))
    link_log = (root / "superlink.log").read_text()
    assert f"running on https://{HOST}:{link_port}" in link_log, link_log  # TLS, not HTTP

    app = shutil.copytree(REPO / "flower_app", root / "flower_app")
    run = _flwr_json(lab, "run", str(app), "lab", "--run-config",
                     f"config='{config}' out='{out}' state='{state}'")
    run_id = run["run-id"]
    s = _round_finished(lab, out, run_id)

    assert s["completed_rounds"] == 1, s
    assert sorted(r["mu"] for r in s["mu_rows"]) == list(range(NUM_MUS)), s["mu_rows"]
    assert all(r["status"] == "ok" for r in s["mu_rows"]), s["mu_rows"]
    assert all(r["round"] == 1 and r["bits_down"] > 0 for r in s["mu_rows"]), s["mu_rows"]
    assert sorted(r["mu"] for r in s["final_rows"]) == list(range(NUM_MUS)), s["final_rows"]
    for row in s["final_rows"]:
        assert math.isfinite(row["global_psnr"]) and row["global_psnr"] > 5.0, row
        assert math.isfinite(row["own_psnr"]) and row["own_psnr"] > 5.0, row
    # the MUs found their state directory through the run config, and trained their mentors
    for mu in range(NUM_MUS):
        assert MuState(state / f"mu{mu}").rounds("mentor") == [1]

    # and Flower agrees that the ServerApp finished cleanly
    status = _run_status(lab, run_id)
    assert status == "finished:completed", f"{status}\n{_run_log(lab, run_id)}"


def test_supernode_without_a_registered_key_is_refused(lab: Processes) -> None:
    """Only the registered key gets in: a SuperNode with another key, and one with none, are
    refused by the SuperLink and exit; the registered one (same CA, same flags) stays online,
    so the refusals are about the keys, not about TLS."""
    keys = make_lab(lab.root / "keys", 2)  # supernode-1's key is never registered
    link_port, *ports = _free_ports(4)
    _start_superlink(lab, link_port, keys)
    registered = str(_flwr_json(lab, "supernode", "register", str(keys.nodes[0].public),
                                "lab")["node-id"])
    _start_supernode(lab, "registered", link_port, ports[0], 0, keys, keys.nodes[0].private)
    refused = {
        "unregistered": (_start_supernode(lab, "unregistered", link_port, ports[1], 1, keys,
                                          keys.nodes[1].private),
                         "[code: 2004] Failed to activate SuperNode"),
        "keyless": (_start_supernode(lab, "keyless", link_port, ports[2], 2, keys, None),
                    "[code: 2001] SuperNode authentication is enabled"),
    }
    for name, (proc, why) in refused.items():
        try:
            code = proc.wait(timeout=REFUSE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"SuperNode {name} still running after {REFUSE_S:.0f} s\n{lab.logs()}")
        log = (lab.root / f"{name}.log").read_text(errors="replace")
        assert code == 1, f"{name} exited with {code}\n{log}"
        assert "Exit Code: 305" in log and why in log, log

    nodes = _wait_online(lab, lambda online: registered in online, ["superlink", "registered"])
    assert [str(n["node-id"]) for n in nodes] == [registered], nodes  # nobody else got an id


def test_insecure_opt_out_still_connects(lab: Processes) -> None:
    """``--insecure`` everywhere (a lab's explicit opt-out, README): no TLS, no node keys; a
    SuperNode registers itself and comes online."""
    link_port, port = _free_ports(2)
    _start_superlink(lab, link_port, None)
    assert "SuperNode authentication is disabled" in (lab.root / "superlink.log").read_text()
    _start_supernode(lab, "supernode0", link_port, port, 0, None, None)
    nodes = _wait_online(lab, lambda online: len(online) == 1, ["superlink", "supernode0"])
    assert len(nodes) == 1, nodes
