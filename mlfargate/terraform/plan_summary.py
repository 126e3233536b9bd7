"""Summary of a saved plan (``terraform show -json``): add / change / destroy per resource type and per
module, with replacements called out (a replacement destroys a running resource, so operators must see
it, and the attribute that forces it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TypeCounts:
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0


#: The module key of resources in the root module.
ROOT = "(root)"


@dataclass(frozen=True)
class Replacement:
    address: str
    reason: str | None
    #: The attributes whose change forces the replacement (``replace_paths``), e.g. ``input``.
    paths: list[str]
    module: str = ROOT


@dataclass
class PlanSummary:
    by_type: dict[str, TypeCounts] = field(default_factory=dict)
    replacements: list[Replacement] = field(default_factory=list)
    #: The same counts by module call (``module.network``, ``module.a.module.b``; ``(root)``).
    by_module: dict[str, TypeCounts] = field(default_factory=dict)

    @property
    def totals(self) -> TypeCounts:
        t = TypeCounts()
        for c in self.by_type.values():
            t.add += c.add
            t.change += c.change
            t.destroy += c.destroy
            t.replace += c.replace
        return t

    @property
    def operations(self) -> int:
        """Resource operations an apply performs (a replacement counts once)."""
        t = self.totals
        return t.add + t.change + t.destroy + t.replace

    @property
    def empty(self) -> bool:
        return self.operations == 0

    def to_dict(self) -> dict[str, Any]:
        t = self.totals
        return {
            "totals": {"add": t.add, "change": t.change, "destroy": t.destroy, "replace": t.replace},
            "by_type": {k: vars(v) for k, v in sorted(self.by_type.items())},
            "by_module": {k: vars(v) for k, v in sorted(self.by_module.items())},
            "replacements": [vars(r) for r in self.replacements],
        }


def summarize(plan: dict[str, Any]) -> PlanSummary:
    """Count ``resource_changes`` by type and action (Terraform's plan JSON format)."""
    out = PlanSummary()
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") != "managed":
            continue
        actions = list(rc.get("change", {}).get("actions", []))
        module = str(rc.get("module_address") or ROOT)
        both = (
            out.by_type.setdefault(str(rc.get("type")), TypeCounts()),
            out.by_module.setdefault(module, TypeCounts()),
        )
        for counts in both:
            if sorted(actions) == ["create", "delete"]:
                counts.replace += 1
            elif actions == ["create"]:
                counts.add += 1
            elif actions == ["update"]:
                counts.change += 1
            elif actions == ["delete"]:
                counts.destroy += 1
        if sorted(actions) == ["create", "delete"]:
            paths = [".".join(str(p) for p in path) for path in rc.get("change", {}).get("replace_paths", [])]
            out.replacements.append(
                Replacement(str(rc.get("address")), rc.get("action_reason"), paths, module)
            )
    out.by_type = {k: v for k, v in out.by_type.items() if v.add or v.change or v.destroy or v.replace}
    out.by_module = {k: v for k, v in out.by_module.items() if v.add or v.change or v.destroy or v.replace}
    return out


def summarize_file(plan_json: Path) -> PlanSummary:
    return summarize(json.loads(plan_json.read_text()))
