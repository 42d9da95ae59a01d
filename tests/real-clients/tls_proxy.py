"""A TLS front for a plain-HTTP simulator on loopback, with a certificate authority
made on the spot (openssl), so that real clients talk https and verify the certificate
as they would against the real service.

Each client connection carries one request (the simulators answer with
`Connection: close`); the proxy adds `X-Forwarded-Proto: https` to its head, as a
load balancer does, so the simulator writes `https://` references.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import threading
from pathlib import Path


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """Returns (CA certificate, server certificate, server key) for localhost/127.0.0.1."""
    ca_key, ca_crt = directory / "ca.key", directory / "ca.crt"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "server.ext"
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=tmbridge test CA", "-keyout", str(ca_key), "-out", str(ca_crt),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(key), "-out", str(csr))
    ext.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    )
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-out", str(crt), "-extfile", str(ext))
    return ca_crt, crt, key


class TlsProxy:
    """Listens on 127.0.0.1 (a free port) with TLS and forwards to `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int], cert: Path, key: Path) -> None:
        self.upstream = upstream
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopped = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        """One request, one answer: read the whole request (head and Content-Length
        body), pass it on, relay the whole answer, close the TLS session cleanly."""
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    return
                body += chunk
            lines = head.split(b"\r\n")
            head = b"\r\n".join([lines[0], b"X-Forwarded-Proto: https", *lines[1:]])
            with socket.create_connection(self.upstream) as upstream:
                upstream.sendall(head + b"\r\n\r\n" + body)
                while True:
                    answer = upstream.recv(65536)
                    if not answer:
                        break
                    client.sendall(answer)
            try:
                client.unwrap()
            except (ssl.SSLError, OSError):
                pass
        except (ssl.SSLError, OSError, ValueError):
            pass
        finally:
            try:
                client.close()
            except OSError:
                pass


def trust(ca_cert: Path) -> None:
    """Makes `requests` (and so pyral) trust the test CA and nothing else."""
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca_cert)
