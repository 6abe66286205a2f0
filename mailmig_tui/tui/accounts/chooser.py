"""`mailmig` without arguments: pick the source and the target among the saved accounts.

Enter picks the highlighted account for the next role (source first, then target); `s` and
`t` pick it for one role; `a` adds an account with a tested login; an account URL or saved
name typed in the box at the bottom works as well. With both chosen the screen posts
`Chosen`, and the app opens the main screen with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from mailmig_tui.accounts import apply_options, parse_account_url
from mailmig_tui.errors import MailmigError, UsageError
from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.account_form import AccountFormScreen, NewAccount
from mailmig_tui.tui.accounts.session import AccountSession

ROLES = ("source", "target")


def account_line(name: str, spec: AccountSpec) -> str:
    where = spec.display if spec.is_local else f"{spec.user}@{spec.host}:{spec.port}"
    kind = spec.kind if spec.is_local else spec.security.value
    return f"{name:<18} {where}  ({kind})"


class AccountsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "pick('source')", "As source", id="pick-source"),
        Binding("t", "pick('target')", "As target", id="pick-target"),
        Binding("a", "add", "Add account", id="add-account"),
        Binding("c", "connect", "Connect", id="connect"),
        Binding("slash", "type_url", "Type URL", show=False, id="type-url"),
    ]

    class Chosen(Message):
        """Both accounts are chosen: the app opens the main screen with them."""

        def __init__(self, source: AccountSession, target: AccountSession) -> None:
            super().__init__()
            self.source = source
            self.target = target

    def __init__(
        self,
        accounts: Mapping[str, AccountSpec],
        timeout: float,
        source: AccountSession | None = None,
        target: AccountSession | None = None,
    ) -> None:
        super().__init__()
        self.accounts = dict(accounts)
        self.timeout = timeout
        self.chosen: dict[str, AccountSession | None] = {"source": source, "target": target}

    def compose(self) -> ComposeResult:
        yield Static("mailmig: choose the source and the target account", id="accounts-title")
        yield Static(
            "Enter: next role · s source · t target · a add · c connect · / type a URL",
            id="accounts-help",
            classes="dim",
        )
        yield OptionList(id="accounts")
        yield Static(id="chosen")
        yield Input(
            placeholder="or type imaps://user@host, maildir:///path or a saved name, Enter",
            id="url",
            compact=True,
        )
        yield Footer()

    def on_mount(self) -> None:
        self.fill()
        self.show_chosen()
        self.query_one(OptionList).focus()

    def fill(self, highlight: str | None = None) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for name in sorted(self.accounts):
            options.add_option(Option(Text(account_line(name, self.accounts[name])), id=name))
        if not self.accounts:
            options.add_option(
                Option("(no saved accounts yet: press a to add one)", id="", disabled=True)
            )
        if highlight is not None:
            options.highlighted = sorted(self.accounts).index(highlight)
        elif self.accounts:
            options.highlighted = 0

    def show_chosen(self) -> None:
        parts = []
        for role in ROLES:
            session = self.chosen[role]
            parts.append(f"{role.capitalize()}: {session.label if session else '(not chosen)'}")
        if all(self.chosen.values()):
            parts.append("(c connects)")
        self.query_one("#chosen", Static).update(Text("   ".join(parts)))

    def _highlighted(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id or None

    def choose(self, role: str, spec: AccountSpec, password: str | None = None) -> None:
        other = self.chosen["target" if role == "source" else "source"]
        if other is not None and other.spec.identity == spec.identity:
            self.notify("Source and target must be different accounts", severity="warning")
            return
        self.chosen[role] = AccountSession(spec, role, password=password)
        self.show_chosen()
        if all(self.chosen.values()):
            # Not connected from here: connecting may open a password prompt, and the `c`
            # the operator presses next (as the help line says) was typed into it. `c` is
            # the one key that connects; the list takes it (not the URL box).
            self.query_one(OptionList).focus()

    def next_role(self) -> str:
        return next((role for role in ROLES if self.chosen[role] is None), "target")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.choose(self.next_role(), self.accounts[event.option.id])

    def action_pick(self, role: str) -> None:
        name = self._highlighted()
        if name:
            self.choose(role, self.accounts[name])

    def action_type_url(self) -> None:
        self.query_one("#url", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        try:
            if "://" in text:
                spec = parse_account_url(text)
            elif text in self.accounts:
                spec = self.accounts[text]
            else:
                raise UsageError(f"no saved account {text!r}", "type an account URL or press a")
            spec = apply_options(spec, timeout=self.timeout)
        except MailmigError as exc:
            self.notify(exc.one_line(), title="Account", severity="error", timeout=8)
            return
        event.input.value = ""
        self.choose(self.next_role(), spec)

    def action_add(self) -> None:
        self.app.push_screen(AccountFormScreen(self.timeout), self._added)

    def _added(self, account: NewAccount | None) -> None:
        if account is None:
            return
        self.accounts[account.name] = account.spec
        self.fill(highlight=account.name)
        self.notify(f"Saved the account {account.name} (without its password)", timeout=4)
        self.choose(self.next_role(), account.spec, account.password)

    def action_connect(self) -> None:
        source, target = self.chosen["source"], self.chosen["target"]
        if source is None or target is None:
            self.notify(f"Choose the {self.next_role()} account first", severity="warning")
            return
        self.post_message(self.Chosen(source, target))
