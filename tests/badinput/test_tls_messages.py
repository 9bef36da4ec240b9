"""TLS that cannot work says why and what to change (issue 28, messages).

Before: https:// to a plain-HTTP server, or to one with a self-signed certificate, said only
"cannot reach ... (SSLError)". Now the message names the likely cause and the setting
(verify_tls, the CA bundle, or http:// in the url).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest
from hostile_servers import TLSServer

from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.config import ServerConfig
from nuke_comfyui.core.errors import ServerUnavailable

pytestmark = pytest.mark.integration


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[Tuple[str, str]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    yield str(cert), str(key)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # verify_tls false, on purpose
def test_a_self_signed_certificate_names_verify_tls(self_signed: Tuple[str, str]) -> None:
    with TLSServer(*self_signed) as server:
        with pytest.raises(ServerUnavailable) as caught:
            ComfyClient(ServerConfig(name="secure", url=server.url)).queue()
        assert str(caught.value) == (f"secure: cannot reach {server.url}: its TLS certificate is self-signed; give the "
                                     "studio's CA file in REQUESTS_CA_BUNDLE, or set verify_tls to false for server "
                                     "'secure' if you trust the network")
        snapshot = ComfyClient(ServerConfig(name="secure", url=server.url, verify_tls=False)).queue()
        assert snapshot.running == []  # and verify_tls false does reach it


def test_https_to_a_plain_http_server_says_so(sim_cluster: Any) -> None:
    cluster = sim_cluster(1)
    url = cluster.urls[0].replace("http://", "https://")
    with pytest.raises(ServerUnavailable) as caught:
        ComfyClient(ServerConfig(name="plain", url=url)).queue()
    assert str(caught.value).startswith(
        f"plain: cannot reach {url}: the TLS handshake failed; the server probably speaks plain HTTP there (write "
        "http:// in its url; verify_tls does not matter for this)")
