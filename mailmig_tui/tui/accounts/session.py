"""One account as the TUI holds it: spec, password in memory, and lazily opened connections.

Blocking calls only ever run in thread workers. imapclient is not thread-safe, so each kind
of work (browsing, paging summaries, previews) gets its own `Connection`: one store opened
on first use in the worker's thread, kept for the session, and used under a lock so that an
exclusive worker that replaced a cancelled one never shares a socket with it. A connection
that failed (dropped, timed out) is closed and forgotten, so the next use reconnects; a
search's helper connections are logged out after each use (`Connection.use(keep=False)`).

No Textual here; the boundary test checks that this module imports without it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from mailmig_tui import accounts, kinds, oauth2, oauth2_pkce, secrets
from mailmig_tui.config import with_provider_table
from mailmig_tui.errors import ConnectError, MailmigError, PasswordUnavailable
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.open import open_store

Opener = Callable[[], MailStore]


class SignInView(Protocol):
    """How the UI shows an OAuth2 sign-in; every method is called from a worker thread."""

    def show_device_code(
        self,
        session: AccountSession,
        verification_uri: str,
        user_code: str,
        expires_in: int,
        cancel: threading.Event,
    ) -> None:
        """Show the URL and the code; setting `cancel` ends the sign-in with an AuthError."""

    def show_browser_sign_in(
        self,
        session: AccountSession,
        url: str,
        redirect_uri: str,
        paste: Callable[[str], None],
        cancel: threading.Event,
    ) -> None:
        """Show the browser sign-in's URL and a box to paste the redirected address into;
        `paste(text)` (from any thread) hands it to the waiting sign-in."""

    def sign_in_done(self, session: AccountSession) -> None:
        """The sign-in shown by `show_device_code` or `show_browser_sign_in` finished
        (signed in, failed or cancelled)."""

    def notice(self, text: str) -> None:
        """Something the operator should know (e.g. the sign-in is kept for this run only)."""


class Connection:
    """A store opened on first use and shared by one kind of worker, one thread at a time."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._lock = threading.Lock()
        self._store: MailStore | None = None

    @contextlib.contextmanager
    def use(self, *, keep: bool = True) -> Iterator[MailStore]:
        """The open store, (re)connecting first when needed; blocks while another uses it.

        `keep=False` logs out once done (without waiting for the answer): for helper
        connections that should count against the server's per-user limit only while used.
        """
        with self._lock:
            if self._store is None:
                self._store = self._opener()
            try:
                yield self._store
            except MailmigError as exc:
                if isinstance(exc, ConnectError):
                    self._drop()
                raise
            except BaseException:
                self._drop()  # an unexpected failure leaves the protocol state unknown
                raise
            finally:
                if not keep:
                    self._drop()

    def _drop(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def close(self, timeout: float = 0.5) -> None:
        """Log out unless a worker still uses the connection (it is dropped with its thread)."""
        if self._lock.acquire(timeout=timeout):
            try:
                self._drop()
            finally:
                self._lock.release()


@dataclass
class AccountSession:
    """An account chosen for this session: where it is, its password, its connections."""

    spec: AccountSpec
    role: str
    """"source" or "target": picks the password variable and the wording of errors."""
    label: str = ""
    """What the pane header shows; the spec's display form unless set (the demo sets it)."""
    password: str | None = field(default=None, repr=False)
    readonly: bool = True
    remember: bool = False
    """Store the password in the keyring once a login with it has worked."""
    prepare: Callable[[Callable[[str], None]], None] | None = field(default=None, repr=False)
    """Run by the pane's connect worker before it connects, reporting progress lines to
    the callback: `mailmig demo` writes its mailbox there, with the TUI already up."""
    sign_in_view: SignInView | None = field(default=None, repr=False)
    """Shows an OAuth2 device sign-in (the TUI sets it); None: on stderr, as the CLI does."""
    _connections: dict[str, Connection] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # An OAuth2 account made without the config (not resolved by launch or the account
        # list) gets its [oauth2.PROVIDER] table here: signing in never reads the file.
        self.spec = with_provider_table(self.spec)
        if not self.label:
            # A saved account is known to the operator by its name; the address says which.
            display = self.spec.display
            name = self.spec.name
            self.label = f"{name} ({display})" if name and name != display else display

    @property
    def needs_password(self) -> bool:
        # POP3 asks for one too; command (PREAUTH), OAuth2 and local accounts do not.
        return accounts.needs_password(self.spec)

    @property
    def has_password(self) -> bool:
        return not self.needs_password or bool(self.password)

    def open_store(self) -> MailStore:
        """A new connection (blocking: call from a worker thread only).

        A target is refused, in the registry's one line, when a copy cannot write into it;
        a local target that does not exist yet is created first, as `mailmig copy` does.
        """
        if self.role == "target":
            kinds.require_target(self.spec)
            local = kinds.kind_of(self.spec).local
            if self.readonly and local and not os.path.lexists(self.spec.path):
                open_store(self.spec, role=self.role, readonly=False).close()
        self.sign_in()
        return open_store(
            self.spec, role=self.role, readonly=self.readonly, password=self._give_password
        )

    def sign_in(self) -> None:
        """For an OAuth2 account: have a valid access token, signing in through the
        `sign_in_view` first when needed (blocking: a worker thread only).

        Also points the account's shared token provider at the view, so the copy's own
        connections (which use the provider directly) sign in the same way.
        """
        view = self.sign_in_view
        if self.spec.oauth2 is None or view is None:
            return
        cancel = threading.Event()  # one per attempt: a cancelled one never blocks a retry
        shown = False

        def show(verification_uri: str, user_code: str, expires_in: int) -> None:
            nonlocal shown
            shown = True
            view.show_device_code(self, verification_uri, user_code, expires_in, cancel)

        provider = oauth2.token_provider(
            self.spec, on_device_code=show, on_notice=view.notice, cancel=cancel
        )
        if isinstance(provider, oauth2.BrowserTokens):
            # The TUI owns the terminal: the URL and a paste box go into a dialog; the
            # loopback listener or the pasted address, whichever comes first, signs in.
            pasted: queue.Queue[str] = queue.Queue()

            def show_url(url: str, redirect_uri: str) -> None:
                nonlocal shown
                shown = True
                view.show_browser_sign_in(self, url, redirect_uri, pasted.put, cancel)

            provider.show_url = show_url
            provider.read_line = oauth2_pkce.queued_lines(pasted)
        elif not isinstance(provider, oauth2.DeviceTokens):
            return  # a token command or app-only access: nothing to show
        try:
            provider()
        finally:
            if shown:
                view.sign_in_done(self)

    def _give_password(self, spec: AccountSpec, role: str) -> str:
        if not self.password:
            raise PasswordUnavailable(f"no password for the {role} account {spec.display}")
        secrets.redact(self.password)
        return self.password

    def connection(self, purpose: str) -> Connection:
        """The connection for one kind of work ("browse", "pages", "preview", ...)."""
        if purpose not in self._connections:
            self._connections[purpose] = Connection(self.open_store)
        return self._connections[purpose]

    def set_password(self, password: str, remember: bool = False) -> None:
        self.password = password
        self.remember = remember
        self.close(wait=False)

    def forget_password(self) -> None:
        self.password = None
        self.close(wait=False)

    def close(self, wait: bool = True) -> None:
        """Drop every connection; the next use opens fresh ones.

        Logging out is network I/O: from the event loop pass `wait=False`, and it happens in
        a background thread.
        """
        connections, self._connections = list(self._connections.values()), {}
        if not connections:
            return
        if wait:
            for connection in connections:
                connection.close()
            return
        for connection in connections:
            threading.Thread(target=connection.close, name="logout", daemon=True).start()


def saved_password(spec: AccountSpec, role: str) -> str | None:
    """The password from a password command, the environment, netrc or the keyring, without
    prompting (`secrets.find_password`; blocks: a worker thread only)."""
    return secrets.find_password(spec, role)


def remember_password(spec: AccountSpec, password: str) -> str | None:
    """Store a password in the keyring; returns why it could not be remembered, else None."""
    return secrets.store_in_keyring(spec, password)
