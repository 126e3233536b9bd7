"""The gate's verdict as data: findings, waivers and a report per scanned target, with the severity
order and mlfargate's own triage of the checks the modules are written against (checkov reports no
severity offline; see :mod:`mlfargate.policy.gate`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mlfargate.errors import MlfargateError

#: Severity order used to group a report (checkov's own scale, plus UNKNOWN for "nobody said").
SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNKNOWN")

#: mlfargate's own triage of the checks the modules are written against (list in
#: /work/shared/aws-facts.md, "Policy checks (checkov) that matter here"). Not a vendor severity:
#: HIGH = exposes data or the service to the network or to tampering; MEDIUM = weakens encryption,
#: audit or recovery; LOW = hygiene / observability. Reported with ``severity_source="mlfargate"``.
TRIAGE: dict[str, str] = {
    # ALB
    "CKV_AWS_2": "HIGH",  # listener is not HTTPS: traffic in clear text
    "CKV_AWS_103": "HIGH",  # TLS below 1.2
    "CKV_AWS_91": "MEDIUM",  # no access logs
    "CKV_AWS_131": "MEDIUM",  # invalid headers not dropped (request smuggling)
    "CKV_AWS_150": "LOW",  # no deletion protection
    "CKV2_AWS_20": "MEDIUM",  # HTTP not redirected to HTTPS
    "CKV2_AWS_28": "MEDIUM",  # no WAF
    # ECR
    "CKV_AWS_51": "HIGH",  # mutable tags: an image can be replaced under a deployed tag
    "CKV_AWS_163": "MEDIUM",  # no scan on push
    "CKV_AWS_136": "LOW",  # AES256 instead of KMS
    # ECS
    "CKV_AWS_336": "MEDIUM",  # writable root filesystem
    "CKV_AWS_249": "MEDIUM",  # execution role == task role
    "CKV_AWS_65": "LOW",  # no Container Insights
    "CKV_AWS_333": "HIGH",  # service gets a public IP
    # CloudWatch Logs
    "CKV_AWS_158": "LOW",  # log group not KMS-encrypted
    "CKV_AWS_338": "LOW",  # retention < 1 year
    # VPC
    "CKV2_AWS_11": "MEDIUM",  # no flow logs
    "CKV2_AWS_12": "MEDIUM",  # default security group not closed
    # Launch templates (GPU instances)
    "CKV_AWS_79": "HIGH",  # IMDSv1 allowed: credential theft via SSRF
    "CKV_AWS_341": "MEDIUM",  # metadata hop limit > 1: containers reach instance credentials
}

#: What checkov writes as the reason of a skip comment that has none.
NO_REASON = "No comment provided"

ScanKind = Literal["directory", "plan"]


class PolicyError(MlfargateError):
    """The gate could not run: the directory or plan file is missing or unreadable."""


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource."""

    check_id: str
    check_name: str
    severity: str
    severity_source: Literal["checkov", "mlfargate", "none"]
    resource: str
    file: str
    line: int
    end_line: int
    guideline: str | None = None
    note: str | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Waiver:
    """A failed check waived by an inline ``#checkov:skip=ID:reason`` comment."""

    check_id: str
    check_name: str
    resource: str
    file: str
    line: int
    reason: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class PolicyReport:
    """The gate's verdict on one target (a workspace directory or a plan JSON file)."""

    target: str
    kind: ScanKind
    failed: list[Finding] = field(default_factory=list)
    waived: list[Waiver] = field(default_factory=list)
    passed: int = 0
    parsing_errors: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # module calls the gate could not read
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing blocks: no unwaived failure, every file parsed and every module call read
        (an unparsed file or an unread module is unchecked code, so it blocks too)."""
        return not self.failed and not self.unread

    @property
    def unread(self) -> int:
        """Files checkov could not parse plus module calls and files the gate could not read."""
        return len(self.parsing_errors) + len(self.unchecked)

    def by_severity(self) -> dict[str, list[Finding]]:
        """Failures grouped by severity, most severe first; only non-empty groups."""
        groups: dict[str, list[Finding]] = {}
        for severity in SEVERITIES:
            items = [f for f in self.failed if f.severity == severity]
            if items:
                groups[severity] = sorted(items, key=lambda f: (f.file, f.line, f.check_id, f.resource))
        return groups

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "ok": self.ok,
            "passed": self.passed,
            "failed": [asdict(f) | {"location": f.location} for f in self.failed],
            "waived": [asdict(w) | {"location": w.location} for w in self.waived],
            "parsing_errors": list(self.parsing_errors),
            "unchecked": list(self.unchecked),
            "counts": {sev: len(items) for sev, items in self.by_severity().items()},
            "seconds": round(self.seconds, 4),
        }
