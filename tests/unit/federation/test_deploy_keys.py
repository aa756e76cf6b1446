"""A lab's certificates and SuperNode keys (:mod:`psfl.federation.deploy_keys`): the files are
what Flower 1.42 loads, the server certificate passes a real TLS handshake on loopback for every
name it carries and only against its own CA, and writing again keeps what was registered."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_ssh_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID

from psfl.errors import PsflError
from psfl.federation.deploy_keys import make_lab, server_hosts, write_ca, write_server_cert


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_lab_layout_modes_and_names(tmp_path):
    lab = make_lab(tmp_path / "lab", 3, ["bs.lab", "10.0.0.5"])
    names = sorted(p.name for p in (tmp_path / "lab").iterdir())
    assert names == sorted(["ca.pem", "ca.key", "server.pem", "server.key",
                            *(f"supernode-{i}.{s}" for i in range(3) for s in ("key", "pub"))])
    for private in (lab.ca.key, lab.server.key, *(k.private for k in lab.nodes)):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    for public in (lab.ca.cert, lab.server.cert, *(k.public for k in lab.nodes)):
        assert stat.S_IMODE(public.stat().st_mode) == 0o644, public
    assert lab.hosts == ("bs.lab", "10.0.0.5", "localhost", "127.0.0.1")

    ca, server = _cert(lab.ca.cert), _cert(lab.server.cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["bs.lab", "localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5"),
                                                       ipaddress.ip_address("127.0.0.1")]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_node_keys_load_as_flower_loads_them(tmp_path):
    """The private key as ``flower-supernode --auth-supernode-private-key`` reads it, the public
    key as ``flwr supernode register`` reads it (Flower's own loader), and the two match."""
    pytest.importorskip("flwr")
    from flwr.cli.supernode.register import try_load_public_key
    from flwr.supercore.primitives.asymmetric import public_key_to_bytes, uses_nist_ec_curve

    lab = make_lab(tmp_path, 2)
    seen = set()
    for keys in lab.nodes:
        private = load_ssh_private_key(keys.private.read_bytes(), None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        assert private.curve.name == "secp384r1" and uses_nist_ec_curve(private.public_key())
        registered = try_load_public_key(keys.public)
        assert registered == public_key_to_bytes(private.public_key())
        assert keys.public.read_text().startswith("ecdsa-sha2-nistp384 ")
        seen.add(registered)
    assert len(seen) == 2  # one key per SuperNode


def _handshake(cert: Path, key: Path, cafile: Path, server_hostname: str) -> str:
    """Serve one TLS connection on 127.0.0.1 with ``cert``/``key``; a client that trusts only
    ``cafile`` connects asking for ``server_hostname``. Returns the negotiated version."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass  # the client refused us: its side raises

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                    client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
                tls.sendall(b"x")
                return str(tls.version())
        finally:
            thread.join(10)


def test_tls_handshake_for_every_name_and_only_with_its_ca(tmp_path):
    lab = make_lab(tmp_path / "lab", 0, ["bs.lab"])
    for name in ("bs.lab", "localhost", "127.0.0.1"):
        assert _handshake(lab.server.cert, lab.server.key, lab.ca.cert, name).startswith("TLS")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|match"):
        _handshake(lab.server.cert, lab.server.key, lab.ca.cert, "other.lab")
    stranger = write_ca(tmp_path / "other")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(lab.server.cert, lab.server.key, stranger.cert, "127.0.0.1")


def test_writing_again_keeps_the_ca_and_registered_keys(tmp_path):
    first = make_lab(tmp_path, 2, ["bs.lab"])
    ca, keys = first.ca.cert.read_bytes(), [k.public.read_bytes() for k in first.nodes]
    server = first.server.cert.read_bytes()
    again = make_lab(tmp_path, 3, ["bs2.lab"])
    assert again.ca.cert.read_bytes() == ca
    assert [k.public.read_bytes() for k in again.nodes[:2]] == keys
    assert again.nodes[2].public.is_file() and again.nodes[2].public.read_bytes() not in keys
    assert again.server.cert.read_bytes() != server  # issued anew, for the new host
    _cert(again.server.cert).verify_directly_issued_by(_cert(again.ca.cert))
    assert "bs2.lab" in again.hosts and "bs.lab" not in again.hosts


def test_bad_inputs_are_user_errors_before_anything_is_written(tmp_path):
    for host in ("bs.lab:9093", "a b", "", "user@bs"):
        with pytest.raises(PsflError, match="host"):
            make_lab(tmp_path / "x", 1, [host])
    assert not (tmp_path / "x").exists()
    assert server_hosts(["[::1]", "127.0.0.1"]) == ("::1", "127.0.0.1", "localhost")
    with pytest.raises(PsflError, match="at least 1"):
        make_lab(tmp_path / "d", 1, days=0)
    lab = make_lab(tmp_path / "half", 0)
    lab.ca.key.unlink()
    with pytest.raises(PsflError, match="ca.key is missing"):
        make_lab(tmp_path / "half", 1)
    with pytest.raises(PsflError, match="cannot read the CA"):
        write_server_cert(tmp_path / "half", lab.ca)
