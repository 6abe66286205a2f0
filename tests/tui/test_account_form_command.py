"""The account form also takes a command (IMAP over ssh) instead of a host."""

from __future__ import annotations

import pytest

from mailmig_tui.accounts import needs_password
from mailmig_tui.errors import UsageError
from mailmig_tui.tui.accounts.account_form import build_spec


def test_a_command_account_needs_no_host_and_no_password() -> None:
    spec = build_spec("old", "", "", "tls", "", "", 30.0, "ssh oldhost /usr/lib/dovecot/imap")
    assert spec.kind == "command" and spec.name == "old"
    assert spec.display == "command:ssh oldhost /usr/lib/dovecot/imap"
    assert not needs_password(spec)


def test_without_a_command_the_host_is_still_required() -> None:
    with pytest.raises(UsageError, match="host is missing"):
        build_spec("old", "", "", "tls", "alice", "", 30.0, "")
    with pytest.raises(UsageError, match=r"No closing quotation"):
        build_spec("old", "", "", "tls", "", "", 30.0, "ssh 'oops")
