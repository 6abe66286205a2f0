"""The browser sign-in that works over SSH: authorization code with PKCE (RFC 7636, S256)
and a loopback redirect (RFC 8252 section 7.3), as Google wants from desktop apps.

mailmig listens on http://127.0.0.1:PORT/ and shows the URL to open. A browser on this
machine comes back to the listener by itself. A browser on another machine (the usual case
over SSH) ends on a page that does not load; the admin copies that page's address (or just
its `code=` value) and pastes it into the terminal, or the TUI's dialog. Whichever arrives
first wins, and the paste reader is then stopped: it must not hold the terminal. The
`state` of a pasted address must match, as the listener's does; the code alone is bound to
this run's PKCE verifier, so it is useless to anyone else.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import secrets as random
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from mailmig_tui import secrets
from mailmig_tui.errors import AuthError
from mailmig_tui.oauth2_flow import Clock, Endpoints, Tokens
from mailmig_tui.oauth2_grants import exchange_code

SIGN_IN_WAIT = 600.0
"""Seconds to wait for the browser (or a pasted address) before giving up."""
ShowUrl = Callable[[str, str], None]
"""(the URL to open, the redirect address the browser will end on): tell the operator."""
ReadLine = Callable[[threading.Event], str | None]
"""Blocks for one pasted line; None when there is nothing to paste into, or soon after the
event (`stop`) is set: the listener won, and no reader may stay blocked for the rest of the run."""
STOP_POLL = 0.2
"""Seconds between a reader's looks at its stop event."""
READER_JOIN = 5.0
"""Seconds to wait for a reader to stop; one that ignores `stop` is left behind (a daemon)."""

_DONE_PAGE = (
    b"<!doctype html><title>mailmig</title><p>Signed in. You can close this tab and go back "
    b"to the terminal.</p>"
)


def queued_lines(lines: queue.Queue[str]) -> ReadLine:
    """A `ReadLine` taking what a UI puts into `lines` (the TUI's paste box)."""

    def read(stop: threading.Event) -> str | None:
        while not stop.is_set():
            try:
                return lines.get(timeout=STOP_POLL)
            except queue.Empty:
                continue
        return None

    return read


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with the S256 method."""
    verifier = random.token_urlsafe(48)  # 64 characters, within RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    endpoints: Endpoints, redirect_uri: str, challenge: str, state: str, login_hint: str
) -> str:
    query = {
        "client_id": endpoints.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": endpoints.scope,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        # A refresh token on every sign-in (Google gives one only with these).
        "access_type": "offline",
        "prompt": "consent",
    }
    if login_hint:
        query["login_hint"] = login_hint
    separator = "&" if "?" in endpoints.authorization_endpoint else "?"
    return endpoints.authorization_endpoint + separator + urllib.parse.urlencode(query)


def parse_answer(text: str, state: str) -> str:
    """The code from a redirected address (its state checked) or from a bare code."""
    text = text.strip()
    if not text:
        raise AuthError("nothing was pasted", "paste the address the browser ended on")
    if "=" not in text and "?" not in text:
        return text  # just the code (Google's start with "4/")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(text).query or text.lstrip("?"))
    error = query.get("error", [""])[0]
    if error:
        raise AuthError(
            f"the browser sign-in was refused ({error})",
            "run again and approve the request, signed in as the mailbox's user",
        )
    if query.get("state", [""])[0] != state:
        raise AuthError(
            "the pasted address belongs to another sign-in (its state does not match)",
            "paste the address of the sign-in this run showed",
        )
    code = query.get("code", [""])[0]
    if not code:
        raise AuthError("the pasted address holds no code", "paste the whole address")
    return code


class _Listener:
    """One-shot HTTP listener on a loopback port: hands the redirect's query to `answers`."""

    def __init__(self, answers: queue.Queue[tuple[str, str]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                _path, _, query = self.path.partition("?")
                if not query:  # a browser's favicon or a probe: not the redirect
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_DONE_PAGE)))
                self.end_headers()
                self.wfile.write(_DONE_PAGE)
                answers.put(("browser", "?" + query))

            def log_message(self, format: str, *args: Any) -> None:
                """Nothing: the standard handler writes each request line to stderr,
                and the redirect's query holds the authorization code."""

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def browser_sign_in(
    endpoints: Endpoints,
    *,
    client_secret: str,
    login_hint: str,
    show_url: ShowUrl,
    read_line: ReadLine | None,
    clock: Clock,
    cancel: threading.Event | None = None,
    wait: float = SIGN_IN_WAIT,
) -> Tokens:
    """Run the sign-in: show the URL, take the first answer from the listener or a pasted
    line, and exchange its code (with the PKCE verifier) for tokens."""
    verifier, challenge = pkce_pair()
    state = random.token_urlsafe(16)
    answers: queue.Queue[tuple[str, str]] = queue.Queue()
    listener = _Listener(answers)
    stop = threading.Event()
    reader: threading.Thread | None = None
    try:
        redirect_uri = listener.redirect_uri
        show_url(
            authorization_url(endpoints, redirect_uri, challenge, state, login_hint), redirect_uri
        )
        if read_line is not None:
            reader = _start_reader(read_line, stop, answers)
        text = _first_answer(answers, endpoints, cancel, clock, wait)
    finally:
        stop.set()  # the pasting side gives up once the listener (or a cancel) ended it
        listener.close()
        if reader is not None:
            reader.join(READER_JOIN)
    code = parse_answer(text, state)
    secrets.redact(code)
    return exchange_code(endpoints, code, verifier, redirect_uri, client_secret, clock=clock)


def _start_reader(
    read_line: ReadLine, stop: threading.Event, answers: queue.Queue[tuple[str, str]]
) -> threading.Thread:
    def paste() -> None:
        line = read_line(stop)
        if line is not None and not stop.is_set():
            answers.put(("pasted", line))

    reader = threading.Thread(target=paste, name="oauth2-paste", daemon=True)
    reader.start()
    return reader


def _first_answer(
    answers: queue.Queue[tuple[str, str]],
    endpoints: Endpoints,
    cancel: threading.Event | None,
    clock: Clock,
    wait: float,
) -> str:
    """The first redirect query or pasted line, whichever comes first."""
    deadline = clock() + wait
    while True:
        if cancel is not None and cancel.is_set():
            raise AuthError(f"the {endpoints.provider} sign-in was cancelled", "")
        if clock() >= deadline:
            raise AuthError(
                f"no browser sign-in for {endpoints.provider} within {wait / 60:g} minutes",
                "run again and open the URL shown; paste the address the browser ends on",
            )
        try:
            return answers.get(timeout=0.5)[1]
        except queue.Empty:
            continue
