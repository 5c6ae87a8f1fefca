"""A throwaway certificate authority for tests that need real TLS on the loopback interface.

Interoperability peers such as Fedify look WebFinger handles up over ``https`` only, so a
server under test has to present a certificate the peer trusts.  :func:`make_test_ca` writes
a fresh CA and a leaf certificate for ``localhost``, ``127.0.0.1`` and ``::1`` signed by it;
point the peer at the CA (``NODE_EXTRA_CA_CERTS`` for Node, ``SSL_CERT_FILE`` or an
``ssl.SSLContext`` for Python) and serve with the leaf.  Never use these outside tests.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TestCA", "make_test_ca"]

_DNS_NAMES = ("localhost",)
_IP_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TestCA:
    """Paths of the PEM files written by :func:`make_test_ca`."""

    __test__ = False  # not a pytest test class

    ca_cert_path: Path
    """The CA certificate: what a client must trust."""
    cert_path: Path
    """The leaf certificate for localhost / 127.0.0.1 / ::1, followed by the CA certificate."""
    key_path: Path
    """The leaf's private key (unencrypted PKCS#8)."""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fedi test CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_test_ca(directory: str | Path, *, days: int = 7) -> TestCA:
    """Create a CA and a ``localhost`` leaf certificate signed by it in ``directory``.

    Writes ``ca.pem``, ``cert.pem`` (leaf then CA, a full chain) and ``key.pem``.  The CA's
    private key is not kept: nothing else can ever be signed by it.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(minutes=5)
    not_after = now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("fedi throwaway test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in _DNS_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _IP_ADDRESSES]
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    ca_path = out / "ca.pem"
    cert_path = out / "cert.pem"
    key_path = out / "key.pem"
    ca_path.write_bytes(ca_pem)
    cert_path.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return TestCA(ca_cert_path=ca_path, cert_path=cert_path, key_path=key_path)
