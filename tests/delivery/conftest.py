"""Fixtures for delivery tests: a real aiosmtpd server per test, a self-signed certificate, small PNG icons."""

from __future__ import annotations

import shutil
import ssl
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_server import SmtpTestServer

from reporting.mdc import ASSURANCE, VARIATION


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A plain (no TLS, no AUTH) SMTP server on 127.0.0.1 and a free port, stopped after the test."""
    with SmtpTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 / localhost, self-signed; the TLS tests skip without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {result.stderr.strip()[:200]}")
    return cert, key


@pytest.fixture(scope="session")
def server_tls_context(tls_cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, tls_cert))
    return context


@pytest.fixture(scope="session")
def client_tls_context(tls_cert: tuple[Path, Path]) -> ssl.SSLContext:
    """Verifies the server certificate and host name, trusting only the test certificate."""
    return ssl.create_default_context(cafile=str(tls_cert[0]))


def png_circle(size: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG (RGBA, a filled circle) made with zlib alone."""
    rows = []
    r = size / 2
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            inside = (x + 0.5 - r) ** 2 + (y + 0.5 - r) ** 2 <= (r - 0.5) ** 2
            row += bytes([*rgb, 255 if inside else 0])
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


_COLOURS = {
    "improvement": (0x28, 0x9D, 0xE0),
    "concern": (0xFA, 0xB4, 0x28),
    "neutral": (0x36, 0x14, 0x75),
    "common_cause": (0x7B, 0x7D, 0x7D),
}


@pytest.fixture(scope="session")
def icon_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """MDC icon code -> a small distinct PNG (each one different, so cid checks can compare bytes)."""
    folder = tmp_path_factory.mktemp("icons")
    out = {}
    for i, (code, (_, colour, _)) in enumerate({**VARIATION, **ASSURANCE}.items()):
        path = folder / f"{code}.png"
        path.write_bytes(png_circle(32 + i, _COLOURS[colour]))
        out[code] = path
    return out
