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
            if default is None and question.preselect is not None:
                default = question.preselect
            return self.yes_no(question.prompt, default) == "yes"
        if question.kind == "choice":
            return self.menu(question.prompt, [(v, str(i)) for i, v in enumerate(question.choices, 1)],
                             default if default in question.choices else None)

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

    def yes_no(self, message: str, default: bool | None) -> str:
        """A yes/no menu answered by `y` / `n`, or arrows and Enter."""
        return self.menu(message, [("yes", "y"), ("no", "n")],
                         None if default is None else ("yes" if default else "no"))

    def menu(self, message: str, options: list[tuple[str, str]], default: str | None) -> str:
        """A menu whose options are picked by their key (or arrows and Enter). With no default nothing
        is under the pointer and Enter does nothing: the agent must pick (Enter-Enter-Enter once
        closed cases as "found")."""
        from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
        from questionary.prompts.common import InquirerControl

        values = [v for v, _ in options]
        q = questionary.select(message, choices=values, default=default,
                               instruction="(" + " / ".join(f"{k}: {v}" if k.isdigit() else k
                                                            for v, k in options) + ")")
        app = q.application
        [menu] = [c for c in app.layout.find_all_controls() if isinstance(c, InquirerControl)]
        if default is None:
            menu.pointed_at = -1  # no row highlighted; the arrows start from the top
        keys = KeyBindings()

        def picker(value: str) -> Any:
            def pick(event: Any) -> None:
                menu.pointed_at = values.index(value)
                menu.is_answered = True
                event.app.exit(result=value)
            return pick

        # Bindings added last win over questionary's own (prompt_toolkit calls the last match).
        for value, key in options:
            keys.add(key, eager=True)(picker(value))
            if key.upper() != key:
                keys.add(key.upper(), eager=True)(picker(value))

        @keys.add("enter", eager=True)
        def _enter(event: Any) -> None:
            if menu.pointed_at >= 0:
                picker(menu.get_pointed_at().value)(event)

        app.key_bindings = merge_key_bindings([app.key_bindings, keys])
        return q.unsafe_ask()

    def confirm(self, message: str, default: bool) -> bool:
        """A yes/no question answered y or n, or Enter for the default."""
        return bool(questionary.confirm(message, default=default).unsafe_ask())

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
