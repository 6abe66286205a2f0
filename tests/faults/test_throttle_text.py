"""Recognising "slow down" in a server's words (no server needed).

Exchange Online answers a client it throttles with a tagged NO or BAD reading
"Request is throttled. Suggested Backoff Time: <N> milliseconds" (the BAD followed by
"* BYE Connection closed."), as reported against imapsync, imap_tools and
email-oauth2-proxy; RFC 5530's [UNAVAILABLE] means "temporary failure, try again".
"""

from __future__ import annotations

from typing import Any

import imapclient.exceptions
import pytest

from mailmig_tui.errors import (
    FolderMissing,
    MessageTooLarge,
    QuotaExceeded,
    ServerThrottled,
    Throttled,
)
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.imap import ImapStore
from mailmig_tui.stores.imap_append import refusal, throttle_delay


@pytest.mark.parametrize(
    ("text", "delay"),
    [
        ("Request is throttled. Suggested Backoff Time: 299961 milliseconds", 299.961),
        ("[UNAVAILABLE] Request is throttled. Suggested Backoff Time: 200 milliseconds", 0.2),
        ("Request is throttled. Suggested Backoff Time: 5 seconds", 5.0),
        ("Request is throttled. Suggested Backoff Time: 40 ms", 0.04),
        ("[UNAVAILABLE] Temporary failure, try again", 0.0),
        ("[THROTTLED] Too many commands", 0.0),
        ("[OVERQUOTA] Quota exceeded (mailbox for user is full)", None),
        ("[LIMIT] Mail too large", None),
        ("Append completed.", None),
    ],
)
def test_throttle_delay(text: str, delay: float | None) -> None:
    assert throttle_delay(text) == delay


def test_refusal_tells_throttling_from_real_refusals() -> None:
    throttled = refusal(
        "h", "INBOX", "Request is throttled. Suggested Backoff Time: 90 milliseconds"
    )
    assert isinstance(throttled, Throttled) and throttled.delay == 0.09
    assert isinstance(refusal("h", "INBOX", "[OVERQUOTA] Quota exceeded"), QuotaExceeded)
    assert isinstance(refusal("h", "INBOX", "[LIMIT] Mail too large"), MessageTooLarge)


class _Client:
    """Just enough of imapclient.IMAPClient for `_select`."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def capabilities(self) -> tuple[bytes, ...]:
        return (b"IMAP4REV1",)  # asked before the SELECT (ESEARCH or not)

    def select_folder(self, folder: str, readonly: bool) -> Any:
        raise imapclient.exceptions.IMAPClientError(f"select failed: {self.answer}")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("Request is throttled. Suggested Backoff Time: 10 milliseconds", ServerThrottled),
        ("Mailbox doesn't exist: Gone", FolderMissing),
    ],
)
def test_a_throttled_select_is_not_a_missing_folder(answer: str, error: type) -> None:
    spec = AccountSpec(kind="imap", user="u", host="h", port=1, security=Security.PLAIN)
    store = ImapStore(_Client(answer), spec, readonly=True)  # type: ignore[arg-type]
    with pytest.raises(error):
        store.uids("Gone")
