"""``build``: the model server image for the spec's CPU architecture, with a content-derived tag.

What was built is recorded beside the spec in ``.mlfargate/image-<prefix>.json`` (the local image, its
tag, platform, builder, and the context it came from), where :func:`mlfargate.image.push.push` finds it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlfargate.errors import MlfargateError
from mlfargate.files import write_text_atomic
from mlfargate.image import context as ctx
from mlfargate.image.builders import BuilderFailedError, OnOutput, find_builder, quiet, run_tool
from mlfargate.spec.model import Spec
from mlfargate.spec.rules import load_valid

#: linux/<arch> of each spec architecture (ECS: X86_64 / ARM64).
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
RECORD_DIR = ".mlfargate"


class NoBuildError(MlfargateError):
    """``push`` found no image built for the spec, or one that no longer matches it."""


@dataclass(frozen=True)
class BuiltImage:
    """An image ``build`` made: what ``push`` pushes."""

    prefix: str  # the spec's <name>-<environment>
    image: str  # the local image, localhost/mlfargate/<prefix>:<tag>
    tag: str
    origin: str  # "git commit <sha>" or "context hash sha256:<hex>"
    platform: str
    builder: str
    image_id: str
    context: str
    dockerfile: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def platform_of(spec: Spec) -> str:
    return PLATFORMS[spec.compute.architecture]


def record_path(spec_path: Path, spec: Spec) -> Path:
    return spec_path.resolve().parent / RECORD_DIR / f"image-{spec.prefix}.json"


def local_image(spec: Spec, tag: str) -> str:
    return f"localhost/mlfargate/{spec.prefix}:{tag}"


def build(
    spec_path: Path,
    context: Path | None = None,
    dockerfile: Path | None = None,
    builder: str | None = None,
    on_output: OnOutput = quiet,
) -> BuiltImage:
    """Build the image (the builder's output goes to ``on_output``) and record it beside the spec."""
    spec = load_valid(spec_path)
    source = ctx.resolve(context, dockerfile)
    chosen = find_builder(builder)
    platform = platform_of(spec)
    tag = ctx.content_tag(source, platform)
    image = local_image(spec, tag.tag)
    with tempfile.TemporaryDirectory(prefix="mlfargate-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        argv = chosen.build_argv(
            context=source.context,
            dockerfile=source.dockerfile,
            platform=platform,
            image=image,
            iidfile=iidfile,
        )
        result = run_tool(argv, on_output=on_output)
        if result.returncode != 0:
            raise BuilderFailedError(
                f"{chosen.name} build failed (exit {result.returncode}): {result.last_line}"
            )
        image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
    built = BuiltImage(
        spec.prefix,
        image,
        tag.tag,
        tag.origin,
        platform,
        chosen.name,
        image_id,
        str(source.context),
        str(source.dockerfile),
    )
    record = record_path(spec_path, spec)
    try:
        write_text_atomic(record, json.dumps(built.to_dict(), indent=2) + "\n", overwrite=True)
    except OSError as exc:
        raise NoBuildError(
            f"built {image}, but cannot record it in {record} ({exc.strerror or exc}), so `image push` cannot "
            "find it: make the spec's directory writable and build again"
        ) from None
    return built


def load_built(spec_path: Path, spec: Spec) -> BuiltImage:
    """The image ``build`` recorded for this spec, checked against the spec and its context today."""
    path = record_path(spec_path, spec)
    build_cmd = f"`mlfargate image build {spec_path}`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        built = BuiltImage(**{k: str(data[k]) for k in BuiltImage.__dataclass_fields__})
    except FileNotFoundError:
        raise NoBuildError(f"no image built for {spec.prefix} yet: run {build_cmd} first") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise NoBuildError(f"{path}: unreadable build record; run {build_cmd} again") from None
    if built.platform != platform_of(spec):
        raise NoBuildError(
            f"the image built for {spec.prefix} is {built.platform}, but the spec's compute.architecture "
            f"{spec.compute.architecture} runs {platform_of(spec)}: run {build_cmd} again"
        )
    try:
        now = ctx.content_tag(ctx.resolve(Path(built.context), Path(built.dockerfile)), built.platform).tag
    except ctx.ContextError:
        now = None
    if now != built.tag:
        raise NoBuildError(
            f"the build context {built.context} changed since {built.image} was built (its tag would now be "
            f"{now or 'unavailable: the context is gone'}): run {build_cmd} again"
        )
    return built
