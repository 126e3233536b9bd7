"""Real parts for the image stage: buildah (vfs storage, chroot isolation) and a private OCI registry
(Debian's docker-registry, distribution 2.8) on 127.0.0.1 with TLS (a self-signed certificate made here)
and htpasswd authentication, whose password is the one moto's ecr:GetAuthorizationToken hands out.

`make test` installs the tools (Makefile `test-tools`); where they are missing the tests skip and say so.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port

TOOLS = ("buildah", "docker-registry", "htpasswd")
ACCOUNT = "123456789012"
#: The spec the tests deploy: environments/dev without its named AWS profile (the moto fixture's fake
#: credentials are in the environment).
SPEC_TEXT = (REPO / "environments/dev/mlfargate.yaml").read_text().replace("  profile: ml-dev\n", "")
PREFIX = "sentiment-dev"


def needs_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed: `make test` installs them with apt-get (test-tools)"
        )


@pytest.fixture(scope="session")
def buildah_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """buildah's own settings: a private vfs store (no overlay, no fuse here) and chroot isolation."""
    needs_tools()
    root = tmp_path_factory.mktemp("containers")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "graph"}"\nrunroot = "{root / "run"}"\n'
    )
    env = {"CONTAINERS_STORAGE_CONF": str(conf), "BUILDAH_ISOLATION": "chroot"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield env


def ecr_password(moto_url: str) -> str:
    """The password moto's ecr:GetAuthorizationToken returns (base64 of AWS:<password>)."""
    import boto3

    client = boto3.client("ecr", region_name="us-east-1", endpoint_url=moto_url)
    token = client.get_authorization_token(registryIds=[ACCOUNT])["authorizationData"][0][
        "authorizationToken"
    ]
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS"
    return password


def _certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlfargate test registry")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "registry.crt", directory / "registry.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Registry:
    endpoint: str  # 127.0.0.1:<port>
    certs: Path  # a directory holding ca.crt (MLFARGATE_REGISTRY_CERT_DIR)
    password: str

    def manifest(self, name: str, reference: str) -> tuple[str, bytes]:
        """(Docker-Content-Digest, body) of a manifest, read straight from the registry."""
        context = ssl.create_default_context(cafile=str(self.certs / "ca.crt"))
        auth = base64.b64encode(f"AWS:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"https://{self.endpoint}/v2/{name}/manifests/{reference}",
            headers={
                "Authorization": f"Basic {auth}",
                "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                "application/vnd.oci.image.manifest.v1+json",
            },
        )
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.headers["Docker-Content-Digest"], response.read()

    def blob(self, name: str, digest: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.certs / "ca.crt"))
        auth = base64.b64encode(f"AWS:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"https://{self.endpoint}/v2/{name}/blobs/{digest}", headers={"Authorization": f"Basic {auth}"}
        )
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            body: bytes = response.read()
            return body


@pytest.fixture(scope="session")
def start_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Registry]]:
    """Starts a registry whose htpasswd holds user AWS with the password given; stopped at the end."""
    needs_tools()
    procs: list[subprocess.Popen[bytes]] = []

    def start(password: str) -> Registry:
        root = tmp_path_factory.mktemp("registry")
        cert, key = _certificate(root)
        certs = root / "certs"
        certs.mkdir()
        shutil.copy(cert, certs / "ca.crt")
        htpasswd = subprocess.run(
            ["htpasswd", "-Bbn", "AWS", password], capture_output=True, text=True, check=True
        ).stdout
        (root / "htpasswd").write_text(htpasswd)
        port = free_port()
        (root / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: error\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"http:\n  addr: 127.0.0.1:{port}\n  secret: mlfargate-tests\n"
            f"  tls:\n    certificate: {cert}\n    key: {key}\n"
            f"auth:\n  htpasswd:\n    realm: mlfargate-tests\n    path: {root / 'htpasswd'}\n"
        )
        log = (root / "registry.log").open("wb")
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(root / "config.yml")], stdout=log, stderr=log
        )
        procs.append(proc)
        context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"https://127.0.0.1:{port}/v2/", timeout=1, context=context).close()
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and asking for credentials
                    break
                raise
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"docker-registry did not start: {(root / 'registry.log').read_text()[-500:]}"
                    )
                time.sleep(0.1)
        return Registry(f"127.0.0.1:{port}", certs, password)

    try:
        yield start
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def mlfargate(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process, with the environment of the test (moto, buildah settings) plus ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "mlfargate.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=timeout,
    )


def write_context(directory: Path, text: str = "hello from the model server image\n") -> Path:
    """A small build context: an image FROM scratch (base images cannot be pulled offline)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(
        'FROM scratch\nCOPY model.txt /model.txt\nLABEL org.opencontainers.image.title="mlfargate test"\n'
    )
    (directory / "model.txt").write_text(text)
    return directory
