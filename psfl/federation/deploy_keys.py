"""Certificates and keys for a secured Flower deployment: TLS for the SuperLink and SuperNode
authentication (README, "Running the federation on several machines").

Flower 1.42 secures a deployment in two independent layers, and this module writes the files
both need, with :mod:`cryptography` (a Flower dependency), no ``openssl`` or ``ssh-keygen``:

* **TLS.** The SuperLink serves the Fleet, Control and Runtime APIs on one HTTPS port
  (``--ssl-certfile server.pem --ssl-keyfile server.key --ssl-ca-certfile ca.pem``); SuperNodes
  (``--root-certificates ca.pem``) and ``flwr`` (``root-certificates`` in the connection) check
  its certificate against the lab's own CA. The server certificate names the BS host in its
  subject alternative names (SAN): every name or IP address the SuperNodes and ``flwr`` dial,
  and always ``127.0.0.1`` and ``localhost`` — the SuperLink's own ``flower-superexec`` reaches
  the Runtime API on loopback (a bind-all ``--host 0.0.0.0`` becomes ``127.0.0.1``).
* **SuperNode authentication.** With ``flower-superlink --enable-supernode-auth`` the SuperLink
  accepts only SuperNodes whose public key was registered through the Control API
  (``flwr supernode register supernode-0.pub <connection>``); each SuperNode signs its requests
  with its private key (``flower-supernode --auth-supernode-private-key supernode-0.key``). A key
  pair is an elliptic-curve key on a NIST curve (P-384 here) in OpenSSH format, as
  ``ssh-keygen -t ecdsa -b 384 -N ""`` writes it. A SuperNode whose key is not registered is
  refused when it connects ("Failed to activate SuperNode") and exits.

:func:`make_lab` writes one directory::

    ca.pem, ca.key                  the lab's CA (keep ca.key on the machine that made it)
    server.pem, server.key          the SuperLink's certificate (SAN: the hosts) and key
    supernode-<i>.key, .pub         SuperNode i's private key (only on that MU) and public key

Private keys are written readable by their owner only (0600), certificates and public keys
0644, every file atomically. Running it again on the same directory keeps the CA and the node
keys that exist (so registered keys stay valid), adds the missing nodes and issues the server
certificate anew for the hosts given.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psfl.errors import PsflError
from psfl.results import atomic_write_bytes

#: Names every server certificate carries, whatever else is asked for: the SuperLink's own
#: SuperExec connects to its Runtime API on loopback.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
#: How long the certificates are valid, in days (a lab's certificates, not a public service's).
DEFAULT_DAYS = 365
#: File name of SuperNode ``i``'s keys, without the suffix (``.key`` private, ``.pub`` public).
NODE_STEM = "supernode-{i}"


@dataclass(frozen=True)
class CertFiles:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class NodeKeys:
    """SuperNode ``index``'s key pair in OpenSSH format."""

    index: int
    private: Path
    public: Path


@dataclass(frozen=True)
class LabKeys:
    """Everything :func:`make_lab` wrote (or kept) in one directory."""

    ca: CertFiles
    server: CertFiles
    nodes: tuple[NodeKeys, ...]
    hosts: tuple[str, ...]


def _write(path: Path, data: bytes, private: bool) -> Path:
    """Write ``data`` atomically; readable by the owner only when ``private``."""
    atomic_write_bytes(path, data)  # created 0600 by mkstemp
    if not private:
        os.chmod(path, 0o644)
    return path


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "psfl lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: Any, issuer: Any, public_key: Any, days: int) -> Any:
    from cryptography import x509

    if days < 1:
        raise PsflError(f"certificate validity of {days} days; give at least 1")
    start = _dt.datetime.now(_dt.UTC) - _dt.timedelta(minutes=5)  # clock skew
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + _dt.timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                           critical=False))


def write_ca(out: str | Path, *, name: str = "psfl lab CA", days: int = DEFAULT_DAYS) -> CertFiles:
    """Write a self-signed CA (``ca.pem``, ``ca.key``; EC P-384) into ``out``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    cert = (_builder(_name(name), _name(name), key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA384()))
    return CertFiles(cert=_write(out / "ca.pem", cert.public_bytes(serialization.Encoding.PEM),
                                 private=False),
                     key=_write(out / "ca.key", _pem_key(key), private=True))


def server_hosts(hosts: Sequence[str] = ()) -> tuple[str, ...]:
    """``hosts`` (names or IP addresses the SuperLink is reached at) followed by the loopback
    names, each once, in order; an empty or malformed name is a :class:`PsflError`."""
    out: list[str] = []
    for host in [*hosts, *LOOPBACK_HOSTS]:
        host = host.strip()
        if host.startswith("[") and host.endswith("]"):  # an IPv6 address as in host:port
            host = host[1:-1]
        if not host or (any(c in host for c in " /:@") and not _is_ip(host)):
            raise PsflError(f"host {host!r} is neither a host name nor an IP address; give "
                            "the name or address the SuperNodes dial, without a port")
        if host not in out:
            out.append(host)
    return tuple(out)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def write_server_cert(out: str | Path, ca: CertFiles, hosts: Sequence[str] = (), *,
                      days: int = DEFAULT_DAYS) -> CertFiles:
    """Write the SuperLink's TLS certificate ``server.pem`` and key ``server.key`` (EC P-256)
    into ``out``, signed by ``ca``; its SAN holds :func:`server_hosts` of ``hosts``, IP
    addresses as IP entries and names as DNS entries, and its common name is the first."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    names = server_hosts(hosts)
    try:
        ca_cert = x509.load_pem_x509_certificate(Path(ca.cert).read_bytes())
        ca_key = serialization.load_pem_private_key(Path(ca.key).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PsflError(f"cannot read the CA ({ca.cert}, {ca.key}): {exc}; write one with "
                        "write_ca or psfl deploy-keys") from exc
    sans = [x509.IPAddress(ipaddress.ip_address(h)) if _is_ip(h) else x509.DNSName(h)
            for h in names]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(_name(names[0]), ca_cert.subject, key.public_key(), days)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()), critical=False)
            .sign(ca_key, hashes.SHA384()))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return CertFiles(
        cert=_write(out / "server.pem", cert.public_bytes(serialization.Encoding.PEM),
                    private=False),
        key=_write(out / "server.key", _pem_key(key), private=True))


def node_key_paths(out: str | Path, index: int) -> NodeKeys:
    """Where SuperNode ``index``'s keys are (or will be) in ``out``."""
    stem = Path(out) / NODE_STEM.format(i=index)
    return NodeKeys(index=index, private=stem.with_suffix(".key"),
                    public=stem.with_suffix(".pub"))


def write_node_key(out: str | Path, index: int) -> NodeKeys:
    """Write SuperNode ``index``'s EC P-384 key pair in OpenSSH format into ``out``: the private
    key for ``flower-supernode --auth-supernode-private-key``, the public key (one line,
    ``ecdsa-sha2-nistp384 …``) for ``flwr supernode register``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    paths = node_key_paths(out, index)
    paths.private.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH)
    _write(paths.private, private, private=True)
    _write(paths.public, public + f" psfl-{paths.private.stem}\n".encode(), private=False)
    return paths


def make_lab(out: str | Path, nodes: int, hosts: Sequence[str] = (), *,
             days: int = DEFAULT_DAYS) -> LabKeys:
    """Write (or complete) a lab's CA, the SuperLink's certificate for ``hosts`` and the key
    pairs of SuperNodes ``0 … nodes-1`` in ``out`` (layout in the module docstring).

    An existing CA (``ca.pem`` with ``ca.key``) and existing node key pairs are kept; the server
    certificate is always written anew, signed by the (kept) CA.
    """
    if nodes < 0:
        raise PsflError(f"{nodes} SuperNodes; give 0 or more")
    out = Path(out)
    names = server_hosts(hosts)  # checked before anything is written
    ca = CertFiles(cert=out / "ca.pem", key=out / "ca.key")
    have = [p.is_file() for p in (ca.cert, ca.key)]
    if any(have) and not all(have):
        missing = ca.key if have[0] else ca.cert
        raise PsflError(f"{missing} is missing beside its pair; restore it, or remove "
                        f"{ca.cert} and {ca.key} to start a new CA (then every SuperNode and "
                        "flwr needs the new ca.pem)")
    if not all(have):
        ca = write_ca(out, days=days)
    server = write_server_cert(out, ca, names, days=days)
    keys = []
    for i in range(nodes):
        paths = node_key_paths(out, i)
        keep = paths.private.is_file() and paths.public.is_file()
        keys.append(paths if keep else write_node_key(out, i))
    return LabKeys(ca=ca, server=server, nodes=tuple(keys), hosts=names)
