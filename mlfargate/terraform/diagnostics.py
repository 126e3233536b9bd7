"""Terraform's failures as one actionable line: the errors the runner raises, and the translation of
the texts operators hit most (state lock, expired SSO or session token, no credentials, a provider
that cannot be installed offline)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlfargate.errors import MlfargateError

if TYPE_CHECKING:
    from mlfargate.terraform.process import RunResult


@dataclass(frozen=True)
class Diagnostic:
    """One of Terraform's own error diagnostics, as Terraform wrote it: the summary line and the detail
    paragraph(s) under it (from the ``-json`` stream, or the ``Error:`` blocks of its text output)."""

    summary: str
    detail: str


def paragraphs(detail: str) -> list[str]:
    """A diagnostic's detail as paragraphs, each one line (Terraform wraps its details at ~78 columns)."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", detail) if p.strip()]


class TerraformError(MlfargateError):
    """Terraform failed; the message is Terraform's first error, or a translation of a known one.
    ``diagnostics`` keeps Terraform's own words (every error, summary and detail) for a front-end
    that has room to show them."""

    diagnostics: tuple[Diagnostic, ...] = ()

    def lines(self) -> list[str]:
        """The one-line message, then what it does not say of Terraform's own diagnostics, indented: the
        summary (``terraform: ...``, unless the message is it) and each paragraph of the detail."""
        from mlfargate.errors import one_line

        said = str(self)
        extra: list[str] = []
        for diagnostic in self.diagnostics:
            if diagnostic.summary not in said:
                extra.append(f"  terraform: {diagnostic.summary}")
            extra += [f"  {p}" for p in paragraphs(diagnostic.detail) if p not in said]
        return [*super().lines(), *(one_line(line) for line in extra)]


class StateLockedError(TerraformError):
    """Another run holds the state lock."""


class ProviderUnavailableError(TerraformError):
    """A provider cannot be installed (offline, no mirror)."""


class CredentialsError(TerraformError):
    """No AWS credentials, or an expired SSO session / session token."""


class InterruptedError_(TerraformError):
    """The operator interrupted Terraform (it stopped gracefully and saved state)."""

    exit_code = 130


# ---------------------------------------------------------------------------------------------------
# Error translation: Terraform's (and the AWS provider's) real texts -> one actionable line.


_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):\s*(.*)$", re.MULTILINE)


def translate_error(text: str) -> MlfargateError | None:
    """A one-line error for the Terraform failures operators hit most, or None for anything else.

    ``text`` is Terraform's error output (diagnostic summaries + details, or stderr)."""
    low = text.lower()
    if "error acquiring the state lock" in low or "state blob is already locked" in low:
        info = {k: v.strip() for k, v in _LOCK_FIELD.findall(text)}
        who = info.get("Who") or "another run"
        parts = [f"state is locked by {who}"]
        if info.get("Operation"):
            parts.append(f"running {info['Operation']}")
        if info.get("Created"):
            parts.append(f"since {info['Created']}")
        hint = "wait for it to finish and retry"
        if info.get("ID"):
            hint += f"; if that run is dead, `terraform force-unlock {info['ID']}` in the workspace"
        return StateLockedError(f"{', '.join(parts)}: {hint}")
    # AWS SSO: expired / invalid session (aws-sdk-go-v2 texts as printed by the AWS provider).
    if (
        "refresh cached sso token failed" in low
        or "sso session has expired or is invalid" in low
        or "ssoproviderinvalidtoken" in low
        or ("sso oidc" in low and "invalidgrantexception" in low)
    ):
        return CredentialsError(
            "the AWS SSO session has expired: run `aws sso login` (with --profile if you use one) and retry"
        )
    if "expiredtoken" in low or "security token included in the request is expired" in low:
        return CredentialsError(
            "the AWS session token has expired: refresh your credentials (aws sso login, or new "
            "temporary keys) and retry"
        )
    if "no valid credential sources" in low:
        return CredentialsError(
            "no AWS credentials found: set AWS_PROFILE (then `aws sso login` for SSO profiles) or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and retry"
        )
    m = re.search(r"available versions for provider ([\w./-]+)", text)
    if m and (
        "could not connect" in low
        or "no such host" in low
        or "cannot search" in low
        or "failed to request discovery" in low
        or "provider registry" in low
    ):
        return ProviderUnavailableError(
            f"provider {m.group(1)} cannot be installed (offline or not in the mirror): put it in a "
            "provider mirror and pass --plugin-dir DIR, or a CLI config with a filesystem_mirror "
            "(--cli-config FILE); see docs/runner.md"
        )
    m = re.search(
        r"(?:provider|plugin)s? (?:registry\.terraform\.io/)?([\w-]+/[\w-]+)[^\n]*not (?:installed|available)",
        text,
    )
    if "inconsistent dependency lock file" in low or "required plugins are not installed" in low or m:
        return ProviderUnavailableError(
            "providers are not installed for this workspace: run `mlfargate plan` (it runs init), with "
            "--plugin-dir or --cli-config when offline"
        )
    return None


_WARNING_BOX = re.compile(r"╷\s*\n│ Warning:.*?╵", re.DOTALL)
_BLOCK_START = re.compile(r"^(Error|Warning): ?(.*)$")


def text_diagnostics(text: str) -> list[Diagnostic]:
    """The ``Error:`` blocks of Terraform's human output (stderr without ``-json``), boxed (``│``) or
    not: the summary after ``Error:``, the detail the lines up to the next block. Warnings are skipped."""
    found: list[Diagnostic] = []
    current: tuple[str, str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip()
        if stripped[:1] in ("╷", "╵"):
            continue
        if stripped.startswith("│"):
            line = stripped[1:].removeprefix(" ")
        match = _BLOCK_START.match(line)
        if match:
            if current is not None and current[0] == "Error":
                found.append(Diagnostic(current[1], "\n".join(current[2]).strip()))
            current = (match.group(1), match.group(2).strip(), [])
        elif current is not None:
            current[2].append(line)
    if current is not None and current[0] == "Error":
        found.append(Diagnostic(current[1], "\n".join(current[2]).strip()))
    return found


def diagnostics_of(result: RunResult) -> tuple[Diagnostic, ...]:
    """Terraform's error diagnostics of a failed command: from its ``-json`` events when it streamed
    them, else parsed from its text output."""
    if result.errors:
        return tuple(Diagnostic(s, d) for s, d in result.errors)
    return tuple(text_diagnostics(result.stderr or result.stdout))


def failure(result: RunResult, what: str) -> MlfargateError:
    error = _failure(result, what)
    if isinstance(error, TerraformError):
        error.diagnostics = diagnostics_of(result)
    return error


def _failure(result: RunResult, what: str) -> MlfargateError:
    text = "\n".join(f"{s}\n{d}" for s, d in result.errors) or ""
    text = f"{text}\n{result.stderr}\n{result.stdout if not result.events else ''}"
    translated = translate_error(text)
    if translated is not None:
        return translated
    first = next(iter(diagnostics_of(result)), None)
    if first:
        # Terraform's summary and its reason (the detail's first paragraph; lines() shows the rest).
        detail = next(iter(paragraphs(first.detail)), "")
        msg = f"{first.summary}: {detail}" if detail else first.summary
    else:
        # Terraform boxes warnings (e.g. a missing ~/.terraformrc) before the real message: skip them.
        body = _WARNING_BOX.sub("", result.stderr or result.stdout)
        lines = [ln.strip(" │╷╵") for ln in body.splitlines()]
        msg = next((ln for ln in lines if ln.startswith("Error:")), "") or next(
            (ln for ln in lines if ln), ""
        )
    if len(msg) > 400:
        msg = msg[:397] + "..."
    return TerraformError(f"terraform {what} failed: {msg or f'exit code {result.returncode}'}")
