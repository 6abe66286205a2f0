"""`mailmig` without arguments: pick the source and the target among the saved accounts.

Each role is given explicitly: `s` makes the highlighted account the source, `t` the target
(Enter on an account gives it no role: which one would be a guess). The line under the list
shows the choice as `source → target`; `w` swaps the two; Enter or `c` connects, and nothing
connects before. Recently connected pairs come first in the list (`recent.py`): Enter on one
chooses both roles as they were, a second Enter connects. `a` adds an account with a tested
login (it becomes the source if there is none yet, else the target, shown before connecting);
an account URL or saved name typed in the box at the bottom (`/`) works the same way. With
both chosen and confirmed the screen posts `Chosen`, and the app opens the main screen.
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
from mailmig_tui.tui.accounts.recent import load_recent, remember_pair, resolve
from mailmig_tui.tui.accounts.session import AccountSession

ROLES = ("source", "target")


def account_line(name: str, spec: AccountSpec) -> str:
    where = spec.display if spec.is_local else f"{spec.user}@{spec.host}:{spec.port}"
    kind = spec.kind if spec.is_local else spec.security.value
    return f"{name:<18} {where}  ({kind})"


def pair_line(source: str, target: str) -> str:
    return f"{source}  →  {target}"


class AccountsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "pick('source')", "Source", id="pick-source", tooltip="Make it the source"),
        Binding("t", "pick('target')", "Target", id="pick-target", tooltip="Make it the target"),
        Binding("w", "swap", "Swap", id="swap-roles", tooltip="Swap source and target"),
        Binding("c", "connect", "Connect", id="connect", tooltip="Connect the pair shown"),
        Binding("a", "add", "Add", id="add-account", tooltip="Add an account"),
        Binding("slash", "type_url", "Type URL", show=False, id="type-url"),
        Binding("j", "move('down')", "Down", show=False, id="chooser-down"),
        Binding("k", "move('up')", "Up", show=False, id="chooser-up"),
        Binding("g", "move('first')", "First", show=False, id="chooser-first"),
        Binding("G", "move('last')", "Last", show=False, id="chooser-last"),
    ]

    class Chosen(Message):
        """Both accounts are chosen and confirmed: the app opens the main screen with them."""

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
        self.recent: list[tuple[AccountSpec, AccountSpec]] = []
        """The recent pairs that still resolve to accounts, newest first."""

    def compose(self) -> ComposeResult:
        yield Static("mailmig: choose the source and the target account", id="accounts-title")
        yield Static(
            "s source · t target · w swap · Enter/c connect · a add · / type a URL",
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
        self.recent = self._load_recent()
        self.fill()
        self.show_chosen()
        self.query_one(OptionList).focus()

    def _load_recent(self) -> list[tuple[AccountSpec, AccountSpec]]:
        pairs = []
        for pair in load_recent():
            source = resolve(pair.source, self.accounts, self.timeout)
            target = resolve(pair.target, self.accounts, self.timeout)
            if source is not None and target is not None:
                pairs.append((source, target))
        return pairs

    def fill(self, highlight: str | None = None) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if self.recent:
            options.add_option(Option(Text("Recent pairs", style="bold"), disabled=True))
            for number, (source, target) in enumerate(self.recent):
                line = pair_line(self.name_of(source), self.name_of(target))
                options.add_option(Option(Text(f"  {line}"), id=f"pair:{number}"))
            options.add_option(Option(Text("Accounts", style="bold"), disabled=True))
        for name in sorted(self.accounts):
            line = account_line(name, self.accounts[name])
            options.add_option(Option(Text(f"  {line}"), id=f"account:{name}"))
        if not self.accounts:
            options.add_option(
                Option("(no saved accounts yet: press a to add one)", id="", disabled=True)
            )
        wanted = f"account:{highlight}" if highlight is not None else None
        for index in range(options.option_count):
            option = options.get_option_at_index(index)
            if not option.disabled and (wanted is None or option.id == wanted):
                options.highlighted = index
                break

    @staticmethod
    def name_of(spec: AccountSpec) -> str:
        return spec.name or spec.display

    @staticmethod
    def label_of(session: AccountSession) -> str:
        return session.spec.name or session.label

    def show_chosen(self) -> None:
        source, target = self.chosen["source"], self.chosen["target"]
        line = Text()
        line.append("Source ", style="bold")
        line.append(self.label_of(source) if source else "(press s)")
        line.append("  →  ")
        line.append("Target ", style="bold")
        line.append(self.label_of(target) if target else "(press t)")
        if source and target:
            line.append("   Enter/c connects · w swaps", style="dim")
        self.query_one("#chosen", Static).update(line)

    def _highlighted(self) -> str:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return ""
        return options.get_option_at_index(options.highlighted).id or ""

    def choose(self, role: str, spec: AccountSpec, password: str | None = None) -> None:
        other = self.chosen["target" if role == "source" else "source"]
        if other is not None and other.spec.identity == spec.identity:
            self.notify(
                f"It is the {other.role} already (w swaps the two)", severity="warning", timeout=4
            )
            return
        self.chosen[role] = AccountSession(spec, role, password=password)
        self.show_chosen()

    def next_role(self) -> str:
        """For an account added or typed in: the role still empty, else the target (the line
        shows it, and nothing connects before Enter or c)."""
        return "source" if self.chosen["source"] is None else "target"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _, key = (event.option.id or "").partition(":")
        if kind == "pair":
            source, target = self.recent[int(key)]
            if not self._is_chosen(source, target):
                self.chosen = {"source": None, "target": None}
                self.choose("source", source)
                self.choose("target", target)
                return
        elif not all(self.chosen.values()):
            self.notify("Press s to make it the source, t to make it the target", timeout=4)
            return
        self.action_connect()

    def _is_chosen(self, source: AccountSpec, target: AccountSpec) -> bool:
        chosen_source, chosen_target = self.chosen["source"], self.chosen["target"]
        return (
            chosen_source is not None
            and chosen_target is not None
            and chosen_source.spec.identity == source.identity
            and chosen_target.spec.identity == target.identity
        )

    def action_pick(self, role: str) -> None:
        kind, _, key = self._highlighted().partition(":")
        if kind == "account":
            self.choose(role, self.accounts[key])
        elif kind == "pair":
            self.notify("A pair has both roles: Enter chooses it", timeout=4)

    def action_swap(self) -> None:
        source, target = self.chosen["source"], self.chosen["target"]
        self.chosen = {
            "source": self._in_role(target, "source"),
            "target": self._in_role(source, "target"),
        }
        self.show_chosen()

    @staticmethod
    def _in_role(session: AccountSession | None, role: str) -> AccountSession | None:
        if session is None:
            return None
        return AccountSession(session.spec, role, password=session.password)

    def action_move(self, where: str) -> None:
        options = self.query_one(OptionList)
        options.focus()
        actions = {
            "down": options.action_cursor_down,
            "up": options.action_cursor_up,
            "first": options.action_first,
            "last": options.action_last,
        }
        actions[where]()

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
        if all(self.chosen.values()):
            # Back to the list, where Enter and c connect; in the box they would be typed.
            self.query_one(OptionList).focus()

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
            missing = "source (s)" if source is None else "target (t)"
            self.notify(f"Choose the {missing} account first", severity="warning", timeout=4)
            return
        remember_pair(source.spec, target.spec)
        self.post_message(self.Chosen(source, target))
