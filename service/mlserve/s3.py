"""Resolve MODEL_PATH: a local file as is, or ``s3://bucket/key`` downloaded to MODEL_DIR at start.

Credentials come from the task role through boto3's default chain; nothing is read from or written to
the environment here. ``AWS_ENDPOINT_URL`` (honoured by botocore itself) points it at an emulator.
The download goes to a temporary name in MODEL_DIR and is renamed when complete, so a half-written
file is never loaded. MODEL_DIR defaults under the system temp dir, the one writable path of a
read-only root filesystem.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath

from .config import ConfigError

log = logging.getLogger("mlserve.s3")


class DownloadError(RuntimeError):
    """The model object could not be fetched from S3."""


def parse_s3_url(url: str) -> tuple[str, str]:
    rest = url[len("s3://") :]
    bucket, _, key = rest.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ConfigError(
            f"MODEL_PATH={url!r} is not allowed: use s3://bucket/path/to/model.onnx (one object)"
        )
    return bucket, key


def resolve_model_path(model_path: str, model_dir: str) -> Path:
    if not model_path.startswith("s3://"):
        path = Path(model_path)
        if not path.is_file():
            raise ConfigError(f"MODEL_PATH={model_path!r} is not a readable file")
        return path
    bucket, key = parse_s3_url(model_path)
    return download(bucket, key, Path(model_dir))


def download(bucket: str, key: str, model_dir: Path) -> Path:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / PurePosixPath(key).name
    partial = target.with_name(target.name + ".part")
    client = boto3.client("s3", config=Config(retries={"mode": "adaptive", "max_attempts": 8}))
    log.info("downloading s3://%s/%s to %s", bucket, key, target)
    try:
        client.download_file(bucket, key, str(partial))
    except (BotoCoreError, ClientError) as exc:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"cannot download s3://{bucket}/{key}: {exc}") from None
    os.replace(partial, target)
    return target
