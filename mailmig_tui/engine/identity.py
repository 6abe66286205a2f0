"""Content identity: recognising the same message on two servers without trusting UIDs.

Message-ID together with size and INTERNALDATE; where there is no Message-ID, a digest of the
Date, From, To and Subject headers with size and INTERNALDATE. Two different messages that
share a Message-ID (resent, or a broken client) differ in size or date and so stay distinct.
Identical copies of one message in a folder are counted, not collapsed: the planner and
`verify` match them as a multiset, each target copy standing for one source message.
"""

from __future__ import annotations

import hashlib

from mailmig_tui.headers import split_header_block
from mailmig_tui.model import Message
from mailmig_tui.stores.base import HeaderProbe

_DIGEST_FIELDS = ("date", "from", "to", "subject")


def identity_of(probe: HeaderProbe) -> str:
    fields = split_header_block(probe.headers)
    when = int(probe.internaldate.timestamp()) if probe.internaldate else 0
    message_id = b"".join(fields.get("message-id", b"").split())
    if message_id:
        key = b"m\0" + message_id
    else:
        key = b"h\0" + b"\0".join(b" ".join(fields.get(n, b"").split()) for n in _DIGEST_FIELDS)
    digest = hashlib.sha256(key).hexdigest()[:32]
    return f"{digest}:{probe.size}:{when}"


def probe_of(message: Message) -> HeaderProbe:
    """The probe a store would give for this message, taken from the message itself."""
    head, _sep, _body = message.data.partition(b"\r\n\r\n")
    if len(head) == len(message.data):  # bare-LF message, or no body at all
        head = message.data.partition(b"\n\n")[0]
    if message.data.startswith((b"\r\n", b"\n")):
        # An empty first line ends an empty header block: what follows is body, even where
        # it looks like "Subject: ..." (servers answer no header fields for it).
        head = b""
    return HeaderProbe(message.uid, len(message.data), message.internaldate, head, message.flags)
