"""The only module that talks to questionary. Prompts raise KeyboardInterrupt on Ctrl-C so the
command can keep a draft; tests drive these real prompts through prompt_toolkit pipe input."""

from __future__ import annotations

from typing import Any

import questionary  # noqa: TID253 (imported only by the interactive wizard)

from mocli.wizard.questions import Question, validate_answer


class Prompter:
    """Asks the wizard's questions in the terminal."""

    def ask(self, question: Question, default: Any = None) -> Any:
        if question.kind == "yesno":
            choice = questionary.select(
                question.prompt,
                choices=["yes", "no"],
                default=("no" if default is False else "yes") if default is not None else None,
                use_shortcuts=True,
            ).unsafe_ask()
            return choice == "yes"

        def check(text: str) -> bool | str:
            if question.optional and not text.strip():
                return True
            if not text.strip():
                return "an answer is needed"
            try:
                validate_answer(question.key, text)
            except Exception as exc:  # noqa: BLE001 - shown to the agent as the reason
                return str(exc)
            return True

        text = questionary.text(question.prompt, default=default or "", validate=check).unsafe_ask()
        return validate_answer(question.key, text) if text.strip() or not question.optional else ""

    def tick(self, message: str, items: list[str]) -> list[str]:
        """A checklist: the items the agent ticked (space to tick, Enter when done)."""
        return questionary.checkbox(message, choices=items).unsafe_ask() or []

    def choose(self, message: str, choices: list[str], default: str | None = None) -> str:
        return questionary.select(message, choices=choices, default=default).unsafe_ask()

    def text(self, message: str, default: str = "", check: Any = None) -> str:
        """Free text; `check(text)` returns None when fine, else the reason shown to the agent."""

        def validate(value: str) -> bool | str:
            reason = check(value) if check else None
            return True if reason is None else reason

        return questionary.text(message, default=default, validate=validate).unsafe_ask()
