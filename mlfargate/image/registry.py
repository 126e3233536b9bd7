"""The workspace's ECR repository: its URL, the login token, and the registry's HTTP API.

Two settings, read here and documented in docs/image.md:

* ``MLFARGATE_REGISTRY_ENDPOINT`` (``host[:port]``): the registry that serves the repository's
  images, when it is not the host in the repository URL (a registry mirror or proxy in front of ECR,
  or a local registry in tests). Login, push and read-back go there; the digest pinned names the
  repository URL itself, since a digest is the same wherever the content is served.
* ``MLFARGATE_REGISTRY_CERT_DIR``: a directory of PEM CA certificates (``*.crt``) trusted for that
  registry (podman/buildah ``--cert-dir``; the read-back trusts them too). docker reads its daemon's
  ``/etc/docker/certs.d/<host>/`` instead.

The ECR password comes from ``ecr:GetAuthorizationToken`` (through :func:`mlfargate.aws.client`),
lives in memory, goes to the builder on standard input, and is never printed: every message that could
carry it is passed through :meth:`RegistryLogin.redact`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mlfargate.errors import MlfargateError

REGISTRY_ENDPOINT_ENV = "MLFARGATE_REGISTRY_ENDPOINT"
REGISTRY_CERT_DIR_ENV = "MLFARGATE_REGISTRY_CERT_DIR"

#: A private ECR repository URL: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>.
ECR_REPOSITORY = re.compile(
    r"^(?P<host>(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)"
    r"/(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)$"
)
_ENDPOINT = re.compile(r"^[A-Za-z0-9.-]+(?::\d{1,5})?$")
#: What a manifest look-up accepts: one image (OCI, Docker v2) or an index / manifest list.
_MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class RegistryError(MlfargateError):
    """The registry (or ECR's API) refused or failed a request."""


class RegistryAuthError(RegistryError):
    """The registry did not accept the ECR login, or no login token could be had."""


class RepositoryMissingError(MlfargateError):
    """The workspace's repository does not exist yet (the workspace was not applied)."""


@dataclass(frozen=True)
class Repository:
    """A private ECR repository, and where its registry is reached."""

    url: str  # <account>.dkr.ecr.<region>.amazonaws.com/<name>
    host: str
    account: str
    region: str
    name: str
    endpoint: str  # host[:port] that serves it: the URL's host unless MLFARGATE_REGISTRY_ENDPOINT is set

    @classmethod
    def parse(cls, url: str) -> Repository:
        match = ECR_REPOSITORY.match(url)
        if match is None:
            raise RegistryError(
                f"{url!r} is not a private ECR repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>)"
            )
        return cls(
            url, match["host"], match["account"], match["region"], match["name"], endpoint(match["host"])
        )

    def reference(self, tag: str) -> str:
        """``endpoint/name:tag``: where the builder pushes."""
        return f"{self.endpoint}/{self.name}:{tag}"


def endpoint(host: str) -> str:
    value = os.environ.get(REGISTRY_ENDPOINT_ENV, "").strip()
    if not value:
        return host
    if not _ENDPOINT.match(value):
        raise RegistryError(f"{REGISTRY_ENDPOINT_ENV}={value!r} is not host[:port] (no scheme, no path)")
    return value


def cert_dir() -> Path | None:
    value = os.environ.get(REGISTRY_CERT_DIR_ENV, "").strip()
    if not value:
        return None
    path = Path(value)
    if not path.is_dir():
        raise RegistryError(f"{REGISTRY_CERT_DIR_ENV}={value}: not a directory of CA certificates (*.crt)")
    return path


@dataclass(frozen=True)
class RegistryLogin:
    username: str
    password: str = field(repr=False)

    def redact(self, text: str) -> str:
        return text.replace(self.password, "***") if self.password else text


def _aws_error(exc: Exception) -> tuple[str, str]:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return str(error.get("Code") or type(exc).__name__), str(error.get("Message") or exc)
    return type(exc).__name__, _hint(exc)


def _hint(exc: Exception) -> str:
    """botocore's text, and what to do when it is about missing credentials."""
    if type(exc).__name__ == "NoCredentialsError":
        return f"{exc}: give the spec an aws.profile, or put AWS credentials in the environment"
    return str(exc)


def ecr_login(repo: Repository, profile: str | None) -> RegistryLogin:
    """A registry login from ``ecr:GetAuthorizationToken`` for the repository's account."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlfargate import aws

    try:
        client = aws.client("ecr", repo.region, profile)
        response = client.get_authorization_token(registryIds=[repo.account])
        token = response["authorizationData"][0]["authorizationToken"]
        username, _, password = base64.b64decode(token).decode("utf-8").partition(":")
    except (BotoCoreError, ClientError) as exc:
        code, message = _aws_error(exc)
        raise RegistryAuthError(
            f"cannot get an ECR login token (ecr:GetAuthorizationToken for account {repo.account} in "
            f"{repo.region}): {code}: {message}"
        ) from None
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        raise RegistryAuthError(
            "ecr:GetAuthorizationToken returned no usable token (expected base64 of user:password)"
        ) from None
    if not username or not password:
        raise RegistryAuthError("ecr:GetAuthorizationToken returned a token without user and password")
    return RegistryLogin(username, password)


def repository_uri(name: str, region: str, profile: str | None, account: str | None = None) -> str | None:
    """The URL of the ECR repository ``name`` (``ecr:DescribeRepositories``); None when it does not exist."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlfargate import aws

    try:
        client = aws.client("ecr", region, profile)
        kwargs = {"repositoryNames": [name], **({"registryId": account} if account else {})}
        repositories = client.describe_repositories(**kwargs)["repositories"]
    except ClientError as exc:
        code, message = _aws_error(exc)
        if code == "RepositoryNotFoundException":
            return None
        raise RegistryError(
            f"cannot look up the ECR repository {name} in {region}: {code}: {message}"
        ) from None
    except BotoCoreError as exc:
        raise RegistryError(f"cannot look up the ECR repository {name} in {region}: {_hint(exc)}") from None
    return str(repositories[0]["repositoryUri"]) if repositories else None


class RegistryAPI:
    """The registry HTTP API (Docker Registry v2 / OCI distribution), with Basic authentication: what
    ECR serves at ``https://<account>.dkr.ecr.<region>.amazonaws.com/v2/`` with user ``AWS``."""

    def __init__(self, repo: Repository, login: RegistryLogin, certs: Path | None = None) -> None:
        self.repo = repo
        self.login = login
        self.context = ssl.create_default_context()
        for cert in sorted(certs.glob("*.crt")) if certs else []:
            try:
                self.context.load_verify_locations(cafile=str(cert))
            except (OSError, ssl.SSLError) as exc:
                raise RegistryError(f"{cert}: not a PEM CA certificate ({exc})") from None
        basic = base64.b64encode(f"{login.username}:{login.password}".encode()).decode()
        self._auth = f"Basic {basic}"

    def _request(self, method: str, reference: str) -> tuple[int, dict[str, str], bytes]:
        url = f"https://{self.repo.endpoint}/v2/{self.repo.name}/manifests/{reference}"
        request = urllib.request.Request(
            url, method=method, headers={"Authorization": self._auth, "Accept": _MANIFEST_TYPES}
        )
        try:
            with urllib.request.urlopen(request, timeout=60, context=self.context) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), b""
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            hint = (
                f"; trust its CA with {REGISTRY_CERT_DIR_ENV}"
                if "CERTIFICATE_VERIFY_FAILED" in str(reason)
                else ""
            )
            raise RegistryError(
                self.login.redact(f"cannot reach the registry {self.repo.endpoint}: {reason}{hint}")
            ) from None

    def manifest_digest(self, reference: str) -> str | None:
        """The digest of the manifest ``reference`` (a tag) names; None when there is none."""
        status, headers, _ = self._request("HEAD", reference)
        if status == 200:
            digest = {k.lower(): v for k, v in headers.items()}.get("docker-content-digest", "").strip()
            if _DIGEST.match(digest):
                return digest
            status, _, body = self._request("GET", reference)  # no digest header: hash the manifest
            if status == 200:
                return f"sha256:{hashlib.sha256(body).hexdigest()}"
        if status == 404:
            return None
        if status == 401:
            raise RegistryAuthError(
                f"registry {self.repo.endpoint} did not accept the ECR login token (HTTP 401): it is invalid "
                f"or expired, or for another account than the repository's ({self.repo.account})"
            )
        if status == 403:
            raise RegistryAuthError(
                f"registry {self.repo.endpoint} denied access to {self.repo.name} (HTTP 403): pushing needs "
                "ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, "
                "ecr:CompleteLayerUpload, ecr:PutImage and ecr:BatchGetImage on the repository"
            )
        raise RegistryError(f"registry {self.repo.endpoint}: HTTP {status} for {self.repo.name}:{reference}")
