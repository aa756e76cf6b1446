"""``psfl deploy-keys --out DIR --nodes N --host BS_HOST`` — the certificates and keys of a
secured Flower deployment (TLS + SuperNode authentication) for one lab.

Writes the lab's CA, the SuperLink's TLS certificate for the given hosts (plus ``127.0.0.1``
and ``localhost``) and one EC key pair per SuperNode with
:func:`psfl.federation.deploy_keys.make_lab`, then prints which file goes where. Running it
again on the same directory keeps the CA and the existing node keys. A command that makes no
run: it provides :func:`show` instead of ``run``, so the CLI creates no run directory and starts
no TensorFlow; a bad input is one line and exit code 2.
"""

from __future__ import annotations

import argparse

from psfl.errors import PsflError
from psfl.federation.deploy_keys import DEFAULT_DAYS, LabKeys, make_lab

HELP = ("Write the CA, the SuperLink's TLS certificate and the SuperNodes' authentication keys "
        "for a secured Flower deployment (README: several machines).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", required=True,
                        help="directory for the files (created; existing CA and node keys kept)")
    parser.add_argument("--nodes", metavar="N", type=int, default=2,
                        help="number of SuperNodes (MUs), keys supernode-0 … N-1 (default 2)")
    parser.add_argument("--host", metavar="HOST", action="append", default=[], dest="hosts",
                        help="name or IP address the SuperNodes and flwr use for the SuperLink "
                             "(repeatable; 127.0.0.1 and localhost are always included)")
    parser.add_argument("--days", metavar="D", type=int, default=DEFAULT_DAYS,
                        help=f"validity of the certificates in days (default {DEFAULT_DAYS})")


def describe(lab: LabKeys) -> str:
    """Which file goes where, and the commands that use them (for SuperNode 0 at the first host;
    ``lab`` must hold at least one node)."""
    host, node = lab.hosts[0], lab.nodes[0]
    lines = [f"CA:                {lab.ca.cert}  (copy to every host; keep {lab.ca.key.name} "
             "private)",
             f"SuperLink (BS):    {lab.server.cert}, {lab.server.key}",
             f"  SAN:             {', '.join(lab.hosts)}"]
    lines += [f"SuperNode {k.index}:       {k.private} (only on MU {k.index}), register "
              f"{k.public.name}" for k in lab.nodes]
    lines += ["", "next (README, \"Running the federation on several machines\"):",
              f"  flower-superlink --ssl-ca-certfile {lab.ca.cert} --ssl-certfile "
              f"{lab.server.cert} --ssl-keyfile {lab.server.key} --enable-supernode-auth ...",
              f"  flwr supernode register {node.public} lab   # connection with "
              f"root-certificates = \"{lab.ca.cert}\"",
              f"  flower-supernode --superlink {host}:9093 --root-certificates {lab.ca.cert} "
              f"--auth-supernode-private-key {node.private} ..."]
    return "\n".join(lines)


def show(args: argparse.Namespace) -> int:
    """Write the lab's files and print where each goes; returns the exit code."""
    if args.nodes < 1:
        raise PsflError(f"--nodes {args.nodes}: give at least 1 SuperNode")
    try:
        lab = make_lab(args.out, args.nodes, args.hosts, days=args.days)
    except OSError as exc:  # an unwritable --out: one line, not a traceback
        raise PsflError(f"--out {args.out}: {exc.strerror or exc}") from exc
    print(describe(lab), flush=True)
    return 0
