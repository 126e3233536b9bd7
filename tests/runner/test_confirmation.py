"""The CLI's confirmation callback in-process (``commands/_common.typed_confirmation``): what it asks,
what it returns, and when it refuses to ask.

tests/runner/test_cli_confirm.py drives the same prompt end to end on a real pty; these tests pin the
callback's contract directly (the prompt text, the raw answer handed to the core untouched, EOF as no
answer, no terminal as a refusal), fast enough for the mutation run (``make mutation``).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mlfargate import flow
from mlfargate.commands._common import typed_confirmation
from mlfargate.terraform.plan_summary import PlanSummary


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _request(verb: flow.Verb = "apply", name: str = "svc-prod") -> flow.ConfirmRequest:
    return flow.ConfirmRequest(verb, Path("/tmp") / name, name, PlanSummary())


def test_yes_confirms_with_the_workspace_name_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: --yes must not care
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("--yes must not prompt"))
    answer = typed_confirmation(yes=True)(_request())
    assert answer == "svc-prod" and flow.confirmed(answer, "svc-prod")


@pytest.mark.parametrize("verb", ["apply", "destroy"])
def test_without_a_terminal_it_refuses_and_says_how_to_proceed(
    monkeypatch: pytest.MonkeyPatch, verb: flow.Verb
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("svc-prod\n"))  # the name piped in does not count
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("no prompt without a terminal"))
    with pytest.raises(flow.NotConfirmedError) as refused:
        typed_confirmation(yes=False)(_request(verb))
    assert str(refused.value) == (
        f"refusing to {verb} without confirmation: stdin is not a terminal; pass --yes"
    )
    assert refused.value.exit_code == 1


@pytest.mark.parametrize("typed", ["svc-prod", "", "  ", "svc", "svc-prod "])
def test_at_a_terminal_it_asks_for_the_name_and_hands_back_exactly_what_was_typed(
    monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return typed

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", fake_input)
    answer = typed_confirmation(yes=False)(_request("destroy"))
    assert prompts == ["Type the workspace name (svc-prod) to destroy: "]
    assert answer == typed  # untouched: the core decides, and only the exact name confirms
    assert flow.confirmed(answer, "svc-prod") is (typed == "svc-prod")


def test_end_of_input_at_the_prompt_is_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", eof)
    answer = typed_confirmation(yes=False)(_request())
    assert answer is None and not flow.confirmed(answer, "svc-prod")
