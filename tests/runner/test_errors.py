"""Translation of Terraform's real error texts into one-line MlfargateErrors.

Texts are copied from real output: the lock text from Terraform itself (see test_runner's lock test
for the live one), the AWS provider's credential texts from public issues (cited per case)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from mlfargate.terraform import diagnostics as tfdiag
from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops

LOCK = """Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        0f4a5c2e-9d0b-1f6e-2c41-7d3b1a2b9e11
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       ops@build-7
  Version:   1.11.4
  Created:   2026-01-12 10:01:02.123 +0000 UTC
  Info:

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time."""

# hashicorp/terraform-provider-aws v3/v4 (e.g. RhinoSecurityLabs/cloudgoat#108, aws-quickstart/terraform-aws-vpc#6)
NO_CREDS_V4 = """error configuring Terraform AWS Provider: no valid credential sources for Terraform AWS Provider found.

Please see https://registry.terraform.io/providers/hashicorp/aws
for more information about providing credentials.

Error: NoCredentialProviders: no valid providers in chain. Deprecated."""
# hashicorp/terraform#27046 (older provider)
NO_CREDS_OLD = "No valid credential sources found for AWS Provider."
# aws-sdk-go-v2 SSO refresh failure (turbot/steampipe-plugin-aws#2398 shows the SDK's text)
SSO_EXPIRED = (
    "operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached "
    "credentials, refresh cached SSO token failed, unable to refresh SSO token, operation error SSO OIDC: "
    "CreateToken, https response error StatusCode: 400, RequestID: 06215636, InvalidGrantException:"
)
# gruntwork-io/terragrunt#2604 (aws-sdk-go v1 provider versions)
SSO_INVALID = "SSOProviderInvalidToken: the SSO session has expired or is invalid"
EXPIRED_TOKEN = "ExpiredToken: The security token included in the request is expired"


def _aws_workspace(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace that needs hashicorp/aws, and an empty provider mirror (offline: nothing to install)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
    )
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    return ws, mirror


def test_lock_names_holder_and_unlock_id() -> None:
    error = tfdiag.translate_error(LOCK)
    assert isinstance(error, tfdiag.StateLockedError)
    assert str(error) == (
        "state is locked by ops@build-7, running OperationTypeApply, since 2026-01-12 10:01:02.123 +0000 UTC: "
        "wait for it to finish and retry; if that run is dead, "
        "`terraform force-unlock 0f4a5c2e-9d0b-1f6e-2c41-7d3b1a2b9e11` in the workspace"
    )


@pytest.mark.parametrize("text", [NO_CREDS_V4, NO_CREDS_OLD])
def test_missing_credentials(text: str) -> None:
    error = tfdiag.translate_error(text)
    assert isinstance(error, tfdiag.CredentialsError)
    assert str(error).startswith("no AWS credentials found: set AWS_PROFILE")


@pytest.mark.parametrize("text", [SSO_EXPIRED, SSO_INVALID])
def test_expired_sso(text: str) -> None:
    error = tfdiag.translate_error(text)
    assert isinstance(error, tfdiag.CredentialsError)
    assert "aws sso login" in str(error) and "expired" in str(error)


def test_expired_session_token() -> None:
    error = tfdiag.translate_error(EXPIRED_TOKEN)
    assert isinstance(error, tfdiag.CredentialsError) and "session token has expired" in str(error)


def test_unknown_errors_are_not_translated() -> None:
    assert (
        tfdiag.translate_error('Error: Unsupported argument\n\nAn argument named "x" is not expected here.')
        is None
    )


def test_untranslated_failure_keeps_terraforms_first_error(embedded: engine_mod.Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  nope = 1\n}\n')
    tfops.init(embedded, tmp_path)
    with pytest.raises(tfdiag.TerraformError) as exc:
        tfops.plan(embedded, tmp_path)
    assert str(exc.value).startswith("terraform plan failed: Unsupported argument:")


def test_named_engine_missing_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(engine_mod.EngineError, match="no such executable"):
        engine_mod.select("/nonexistent/terraform")
    monkeypatch.setenv("MLFARGATE_TERRAFORM", "embedded")
    assert engine_mod.select().source == "MLFARGATE_TERRAFORM"
    assert engine_mod.select("embedded").kind == "embedded"


def test_a_failed_init_keeps_terraforms_own_diagnostic(embedded: engine_mod.Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The one line is the translation; Terraform's own summary and detail come with it (a front-end
    with room shows them)."""
    ws, mirror = _aws_workspace(tmp_path)
    lines: list[str] = []
    with pytest.raises(tfdiag.ProviderUnavailableError) as exc:
        tfops.init(
            engine_mod.select("embedded", plugin_dir=mirror), ws, on_event=lambda e: lines.append(e.message)
        )
    assert [(d.summary, d.detail.split("\n")[0]) for d in exc.value.diagnostics] == [
        (
            "Failed to query available provider packages",
            "Could not retrieve the list of available versions for provider hashicorp/aws:",
        )
    ]
    assert str(mirror) in exc.value.diagnostics[0].detail
    # init's own progress lines were streamed as it ran.
    assert "- Finding latest version of hashicorp/aws..." in lines


def test_a_failed_plan_keeps_every_error_diagnostic(embedded: engine_mod.Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  input = terraform_data.nope.output\n}\n'
        'resource "terraform_data" "b" {\n  input = var.missing\n}\n'
    )
    tfops.init(embedded, tmp_path)
    with pytest.raises(tfdiag.TerraformError) as exc:
        tfops.plan(embedded, tmp_path)
    found = {d.summary: d.detail for d in exc.value.diagnostics}
    assert set(found) == {"Reference to undeclared resource", "Reference to undeclared input variable"}
    assert (
        'A managed resource "terraform_data" "nope" has not been declared'
        in found["Reference to undeclared resource"]
    )


def test_text_diagnostics_read_boxed_and_plain_blocks() -> None:
    boxed = (
        "╷\n│ Warning: Deprecated\n│ \n│ old thing\n╵\n"
        '╷\n│ Error: Invalid provider configuration\n│ \n│ Provider "aws" requires explicit\n'
        "│ configuration.\n╵\n"
    )
    assert tfdiag.text_diagnostics(boxed) == [
        tfdiag.Diagnostic(
            "Invalid provider configuration", 'Provider "aws" requires explicit\nconfiguration.'
        )
    ]
    plain = "\nError: One\n\nfirst detail\n\nError: Two\n\nsecond detail\n"
    assert tfdiag.text_diagnostics(plain) == [
        tfdiag.Diagnostic("One", "first detail"),
        tfdiag.Diagnostic("Two", "second detail"),
    ]


def _unmeetable_workspace(tmp_path) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """A workspace asking for hashicorp/aws >= 6.28.0, < 7.0.0 and a provider mirror that holds only
    5.0.0: `terraform init` fails offline with Terraform's "no available releases match"."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text(
        "terraform {\n  required_providers {\n"
        '    aws = { source = "hashicorp/aws", version = ">= 6.28.0, < 7.0.0" }\n  }\n}\n'
    )
    mirror = tmp_path / "mirror"
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    plugin = mirror / f"registry.terraform.io/hashicorp/aws/5.0.0/linux_{arch}/terraform-provider-aws_v5.0.0"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    plugin.chmod(0o755)
    return ws, mirror


def test_a_failed_init_shows_terraforms_summary_and_detail(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """issue 16: the CLI printed only "Failed to query available provider packages" and dropped the
    reason."""
    import subprocess
    import sys

    ws, mirror = _unmeetable_workspace(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlfargate.cli",
            "plan",
            str(ws),
            "--terraform=embedded",
            f"--plugin-dir={mirror}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: terraform init failed: Failed to query available provider packages: Could not retrieve "
        "the list of available versions for provider hashicorp/aws: no available releases match the "
        "given constraints >= 6.28.0, < 7.0.0"
    ]
    # The rest of Terraform's detail follows, indented, one line per paragraph.
    after = proc.stderr.split(errors[0] + "\n", 1)[1]
    assert after.startswith("  To see which modules are currently depending on hashicorp/aws")
    assert "Traceback" not in proc.stderr


def test_a_translated_error_keeps_terraforms_words(embedded: engine_mod.Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A provider missing offline is translated into what to do; Terraform's own summary and detail
    follow it."""
    ws, mirror = _aws_workspace(tmp_path)
    with pytest.raises(tfdiag.ProviderUnavailableError) as exc:
        tfops.init(engine_mod.select("embedded", plugin_dir=mirror), ws)
    lines = exc.value.lines()
    assert lines[0].startswith("error: provider hashicorp/aws cannot be installed")
    assert lines[1] == "  terraform: Failed to query available provider packages"
    assert lines[2].startswith(
        "  Could not retrieve the list of available versions for provider hashicorp/aws: "
    )
    assert (
        f"  - {mirror}" in lines[3:]
    )  # "... was not found in any of the search locations" (the next paragraph)
