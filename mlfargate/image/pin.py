"""The workspace's image pin, and what ``plan``/``apply`` say while the service waits for it.

A workspace that creates its ECR repository declares ``image_digest`` (empty in terraform.tfvars). ``mlfargate
image push`` writes the pushed digest to ``image.auto.tfvars`` beside it: Terraform reads ``*.auto.tfvars``
after terraform.tfvars, the saved plan's fingerprint covers it (a push makes an older plan stale), and
``generate`` never touches it (it owns only the files it writes). Until a digest is pinned the service
runs no task (see :mod:`mlfargate.generate.wiring`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from mlfargate.errors import MlfargateError
from mlfargate.files import write_text_atomic
from mlfargate.generate.model import CDKTF_OUT, SPEC_COPY
from mlfargate.generate.wiring import IMAGE_DIGEST, PIN_FILE

_DECLARED = re.compile(rf'(?m)^\s*variable\s+"{IMAGE_DIGEST.name}"\s*\{{')
_PINNED = re.compile(rf'(?m)^\s*{IMAGE_DIGEST.name}\s*=\s*"(sha256:[0-9a-f]{{64}})"\s*$')


class WorkspaceImageError(MlfargateError):
    """The workspace named cannot take an image pin (not a generated workspace, or one from before pins)."""


def terraform_dir(workspace: Path) -> Path:
    """Where Terraform runs: the workspace itself, or the stack directory of a CDK Terrain workspace."""
    if (workspace / "cdktf.json").is_file():
        stacks = sorted((workspace / CDKTF_OUT / "stacks").glob("*/cdk.tf.json"))
        if len(stacks) != 1:
            raise WorkspaceImageError(
                f"{workspace}: a CDK Terrain workspace with {len(stacks)} synthesized stacks under "
                f"{CDKTF_OUT}/stacks/; expected one: regenerate it with `mlfargate generate`"
            )
        return stacks[0].parent
    return workspace


def spec_copy(tf_dir: Path) -> Path:
    """The spec copy ``generate`` wrote into the workspace (a CDK Terrain stack's is three levels up)."""
    if (tf_dir / "cdk.tf.json").is_file() and not (tf_dir / SPEC_COPY).is_file():
        return tf_dir.parents[2] / SPEC_COPY
    return tf_dir / SPEC_COPY


def declares_pin(tf_dir: Path) -> bool:
    """Whether the workspace has the ``image_digest`` variable (it creates its ECR repository)."""
    stack = tf_dir / "cdk.tf.json"
    if stack.is_file():
        try:
            variables = json.loads(stack.read_text(encoding="utf-8")).get("variable", {})
        except (OSError, ValueError, AttributeError):
            return False
        return isinstance(variables, dict) and IMAGE_DIGEST.name in variables
    for path in sorted(tf_dir.glob("*.tf")):
        try:
            if _DECLARED.search(path.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def pinned_digest(tf_dir: Path) -> str | None:
    """The digest ``image.auto.tfvars`` pins, or None."""
    try:
        match = _PINNED.search((tf_dir / PIN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return match[1] if match else None


def write_pin(tf_dir: Path, repository_url: str, tag: str, digest: str) -> Path:
    """Pin the workspace to ``repository_url@digest`` (atomically: the old pin or the new one)."""
    path = tf_dir / PIN_FILE
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (
        "# Written by `mlfargate image push`: the image the service runs, pinned by digest.\n"
        f"# {repository_url}:{tag} pushed {when}. Push again to change it; do not edit by hand.\n"
        f'{IMAGE_DIGEST.name} = "{digest}"\n'
    )
    try:
        write_text_atomic(path, text, overwrite=True)
    except OSError as exc:
        raise WorkspaceImageError(
            f"cannot pin {repository_url}@{digest} in {path} ({exc.strerror or exc}); the image is pushed: "
            f'write `image_digest = "{digest}"` there yourself'
        ) from None
    return path


def shown(path: Path) -> str:
    """A path as the operator would type it: relative to the current directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


@dataclass(frozen=True)
class ImageState:
    """What ``plan``/``apply`` tell the operator about the workspace's image."""

    managed: bool  # the workspace creates the repository and pins the image (no service.image)
    digest: str | None

    def note(self, tf_dir: Path, after: Literal["plan", "apply"]) -> str | None:
        """One line: the image the service runs, or the next step while none is pinned."""
        if not self.managed:
            return None
        if self.digest is not None:
            return f"image: {self.digest} (pinned in {PIN_FILE} by `mlfargate image push`)"
        spec, ws = shown(spec_copy(tf_dir)), shown(tf_dir)
        push = f"`mlfargate image build {spec}` and `mlfargate image push {spec} {ws}`"
        if after == "plan":
            return (
                "next: no image is pinned yet, so the service will run no task: apply this plan (it creates "
                f"the ECR repository), then {push}, then plan and apply again to start the service"
            )
        return (
            f"next: no image is pinned yet, so the service runs no task: {push}, then "
            f"`mlfargate plan {ws}` and `mlfargate apply {ws}` start it"
        )


def state(workspace: Path) -> ImageState:
    tf_dir = terraform_dir(workspace)
    managed = declares_pin(tf_dir)
    return ImageState(managed, pinned_digest(tf_dir) if managed else None)


def note(workspace: Path, after: Literal["plan", "apply"]) -> str | None:
    """The line ``plan`` (``after="plan"``) or ``apply`` prints about the image; None when the spec
    names its own image. Never raises: the note must not fail a plan or an apply."""
    try:
        tf_dir = terraform_dir(workspace)
        return state(workspace).note(tf_dir, after)
    except MlfargateError:
        return None
