"""Resolve MODEL_PATH to the model file to load.

MODEL_PATH is one of:

- a local file: loaded as is;
- a local directory: the model file inside it is chosen by :func:`select_model_file`;
- ``s3://bucket/key``: that one object is downloaded to MODEL_DIR;
- ``s3://bucket/prefix/`` (ending in ``/``): every object under the prefix is downloaded to
  ``MODEL_DIR/<last prefix segment>`` keeping the relative layout (sidecar files such as ONNX external
  data or tokenizer files come along), then the model file is chosen as for a local directory.

Credentials come from the task role through boto3's default chain; nothing is read from or written to
the environment here. ``AWS_ENDPOINT_URL`` (honoured by botocore itself) points it at an emulator.
Downloads are atomic: one object goes to a ``*.part`` name and is renamed; a prefix goes to a hidden
temporary directory beside the target and is renamed into place, so a half-downloaded model is never
loaded. A prefix is listed and checked (object count, total size, keys that would escape the target,
which file to load) before anything is downloaded. MODEL_DIR defaults under the system temp dir, the
one writable path of a read-only root filesystem.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .config import ConfigError, unsafe_relative_path

log = logging.getLogger("mlserve.s3")

# Files that can hold a model on their own (torch files are TorchScript, or a state dict when MODEL_CLASS
# is set -- load_backend decides). Anything else in a directory is a sidecar.
MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".ts")
_SHOWN = 10  # names listed in an error line before "... and N more"


class DownloadError(RuntimeError):
    """The model could not be fetched from S3, or the prefix holds more than the limits allow."""


@dataclass(frozen=True)
class PrefixLimits:
    """Bounds on what an ``s3://bucket/prefix/`` MODEL_PATH may download."""

    max_objects: int = 1000
    max_bytes: int = 10 * 1024**3


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); a key ending in ``/`` is a prefix (may be empty)."""
    rest = url[len("s3://") :]
    bucket, sep, key = rest.partition("/")
    if not bucket or not sep or (not key and not url.endswith("/")):
        raise ConfigError(
            f"MODEL_PATH={url!r} is not allowed: use s3://bucket/path/model.onnx (one object) "
            "or s3://bucket/prefix/ (every object under the prefix)"
        )
    return bucket, key


def resolve_model_path(
    model_path: str,
    model_dir: str,
    model_file: str | None = None,
    limits: PrefixLimits = PrefixLimits(),
) -> Path:
    """The local model file MODEL_PATH names, downloading from S3 into ``model_dir`` if needed."""
    if model_path.startswith("s3://"):
        bucket, key = parse_s3_url(model_path)
        if key and not key.endswith("/"):
            _no_model_file(model_path, model_file)
            return download(bucket, key, Path(model_dir))
        return download_prefix(bucket, key, Path(model_dir), model_file, limits)
    path = Path(model_path)
    if path.is_dir():
        return path / select_model_file(_local_files(path), model_path, model_file)
    if not path.is_file():
        raise ConfigError(f"MODEL_PATH={model_path!r} is not a readable file or directory")
    _no_model_file(model_path, model_file)
    return path


def _no_model_file(model_path: str, model_file: str | None) -> None:
    if model_file:
        raise ConfigError(
            f"MODEL_FILE={model_file!r} is set but MODEL_PATH={model_path!r} names one file: "
            "MODEL_FILE picks a file inside a directory or an s3://bucket/prefix/; unset one of them"
        )


def select_model_file(files: Iterable[str], model_path: str, model_file: str | None) -> str:
    """Which of ``files`` (POSIX paths relative to MODEL_PATH) is the model: MODEL_FILE, or the only
    ``*.onnx`` / ``*.pt`` / ``*.pth`` / ``*.ts`` file."""
    names = sorted(files)
    if model_file:
        wanted = PurePosixPath(model_file).as_posix()
        if wanted not in names:
            raise ConfigError(
                f"MODEL_FILE={model_file!r} is not among the files under MODEL_PATH={model_path!r} "
                f"(found: {_listing(names)})"
            )
        return wanted
    candidates = [n for n in names if PurePosixPath(n).suffix.lower() in MODEL_SUFFIXES]
    if len(candidates) == 1:
        return candidates[0]
    kinds = "/".join(f"*{s}" for s in MODEL_SUFFIXES)
    if not candidates:
        raise ConfigError(
            f"no model file ({kinds}) under MODEL_PATH={model_path!r} (found: {_listing(names)}); "
            "set MODEL_FILE to the path of the model relative to MODEL_PATH"
        )
    raise ConfigError(
        f"several model files under MODEL_PATH={model_path!r}: {_listing(candidates)}; "
        "set MODEL_FILE to the one to load (path relative to MODEL_PATH)"
    )


def _listing(names: list[str]) -> str:
    if not names:
        return "nothing"
    shown = ", ".join(names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown} and {len(names) - _SHOWN} more"


def _local_files(directory: Path) -> list[str]:
    found: list[str] = []
    for root, _dirs, files in os.walk(directory):
        rel = Path(root).relative_to(directory)
        found.extend((rel / f).as_posix() for f in files)
    return found


def _client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(retries={"mode": "adaptive", "max_attempts": 8}))


def download(bucket: str, key: str, model_dir: Path) -> Path:
    from botocore.exceptions import BotoCoreError, ClientError

    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / PurePosixPath(key).name
    partial = target.with_name(target.name + ".part")
    log.info("downloading s3://%s/%s to %s", bucket, key, target)
    try:
        _client().download_file(bucket, key, str(partial))
    except (BotoCoreError, ClientError) as exc:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"cannot download s3://{bucket}/{key}: {exc}") from None
    os.replace(partial, target)
    return target


def relative_key(bucket: str, key: str, prefix: str) -> str:
    """The path of ``key`` below ``prefix``; refuses keys that would land outside the target directory."""
    rel = key[len(prefix) :]
    if unsafe_relative_path(rel):
        raise DownloadError(
            f"refusing s3://{bucket}/{key}: its path below the prefix ({rel!r}) is empty or has an empty, "
            "'.' or '..' segment or a backslash, so it could land outside the model directory; rename it"
        )
    return rel


def download_prefix(
    bucket: str, prefix: str, model_dir: Path, model_file: str | None, limits: PrefixLimits
) -> Path:
    """Download every object under ``s3://bucket/prefix`` to ``model_dir/<last prefix segment>``
    (replacing an earlier copy) and return the model file chosen inside it."""
    from boto3.exceptions import Boto3Error  # S3TransferFailedError, RetriesExceededError
    from botocore.exceptions import BotoCoreError, ClientError

    url = f"s3://{bucket}/{prefix}"
    client = _client()
    objects = _list_prefix(client, bucket, prefix, url, limits)
    chosen = select_model_file(objects, url, model_file)
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / (PurePosixPath(prefix).name or bucket)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.part-", dir=model_dir))
    log.info(
        "downloading %d objects (%d bytes) from %s to %s", len(objects), sum(objects.values()), url, target
    )
    try:
        for rel in objects:
            dest = staging.joinpath(*rel.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, prefix + rel, str(dest))
        if target.exists():  # a restarted container: replace the earlier copy whole
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=model_dir))
            os.replace(target, old / target.name)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, target)
    except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"cannot download {url} to {target}: {exc}") from None
    return target.joinpath(*chosen.split("/"))


def _list_prefix(client: Any, bucket: str, prefix: str, url: str, limits: PrefixLimits) -> dict[str, int]:
    """Relative path -> size of every object under the prefix, checked against ``limits``.

    Zero-byte keys ending in ``/`` (the "folders" the S3 console creates) are skipped. Listing stops as
    soon as the object limit is passed, so a huge prefix is not listed to the end.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    objects: dict[str, int] = {}
    try:
        # ListObjectsV2 returns up to 1,000 keys per page (S3 API reference, ListObjectsV2 MaxKeys).
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key, size = obj["Key"], int(obj["Size"])
                if key.endswith("/") and size == 0:
                    continue
                objects[relative_key(bucket, key, prefix)] = size
                if len(objects) > limits.max_objects:
                    raise DownloadError(
                        f"{url} holds more than {limits.max_objects} objects (MODEL_MAX_OBJECTS); "
                        "point MODEL_PATH at a narrower prefix or raise MODEL_MAX_OBJECTS"
                    )
    except (BotoCoreError, ClientError) as exc:
        raise DownloadError(f"cannot list {url}: {exc}") from None
    if not objects:
        raise DownloadError(f"{url} holds no objects: upload the model there or fix MODEL_PATH")
    folders = {str(parent) for rel in objects for parent in PurePosixPath(rel).parents}
    clash = sorted(folders.intersection(objects))
    if clash:
        raise DownloadError(
            f"{url}: {clash[0]!r} is both an object and a folder of other objects; rename one"
        )
    total = sum(objects.values())
    if total > limits.max_bytes:
        raise DownloadError(
            f"{url} holds {total} bytes in {len(objects)} objects, more than MODEL_MAX_BYTES={limits.max_bytes}; "
            "point MODEL_PATH at a narrower prefix or raise MODEL_MAX_BYTES (and the task's ephemeral storage)"
        )
    return objects
