"""IMAP over a command's stdin and stdout, e.g. `ssh oldhost /usr/lib/dovecot/imap`.

mbsync calls this a tunnel: it reaches an old server that only SSH gets to, with no IMAP port
open at all. The command is split like a shell would split it but run without one. Its stderr
goes to a temporary file, so that ssh's "Permission denied (publickey)." ends up in our
one-line error. It keeps our terminal, so ssh can still ask for a passphrase.

A server started like that is usually preauthenticated (`* PREAUTH`): then nothing is asked
for; after an `* OK` greeting we LOGIN like any IMAP account.

imapclient's own `stream=True` runs the command through a shell, and imapclient 4.1 then
fails setting a socket timeout on a connection that has no socket. `CommandClient` hands
imapclient our `PipeIMAP4` instead, whose reads and writes wait at most `spec.timeout` in
select(), so a hung ssh is noticed like a silent server.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import select
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import replace
from typing import IO, TYPE_CHECKING

import imapclient

from mailmig_tui.errors import AuthError, ConnectError, TimeoutError_
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.imap import ImapStore
from mailmig_tui.stores.imap_connect import ready, shut_on_error

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

_CHUNK = 1 << 16
_HINT = "check that the command works when run by hand and speaks IMAP on stdin/stdout"


class CommandEnded(imaplib.IMAP4.abort):
    """The command closed its output: it exited, or its connection (ssh) broke."""


class PipeIMAP4(imaplib.IMAP4):
    """imaplib over the pipes of a running process; each wait is bounded by `timeout`."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes], timeout: float):
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.stderr = stderr
        self.timeout = timeout
        self._in = process.stdout.fileno()
        self._out = process.stdin.fileno()
        os.set_blocking(self._out, False)  # a full pipe must not block past the timeout
        self._buffer = bytearray()
        super().__init__()  # reads the greeting

    def open(self, host: str = "", port: int = 0, timeout: float | None = None) -> None:
        """The process is already running; imaplib calls this from __init__."""
        self.host, self.port = "", port

    def _wait(self, readable: bool) -> None:
        if readable:
            ready = select.select([self._in], [], [], self.timeout)[0]
        else:
            ready = select.select([], [self._out], [], self.timeout)[1]
        if not ready:
            raise TimeoutError(f"no answer within {self.timeout:g} s")

    def _fill(self) -> bool:
        """Read what the command wrote; False at the end of its output."""
        self._wait(readable=True)
        chunk = os.read(self._in, _CHUNK)
        self._buffer += chunk
        return bool(chunk)

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(size)

    def readline(self) -> bytes:
        start = 0
        while (end := self._buffer.find(b"\n", start)) < 0:
            start = len(self._buffer)
            if not self._fill():
                if not self._buffer:
                    raise CommandEnded(self.ended())
                return self._take(len(self._buffer))  # a last line without its line end
        return self._take(end + 1)

    def send(self, data: ReadableBuffer) -> None:
        view = memoryview(data).cast("B")
        while view:
            self._wait(readable=False)
            try:
                view = view[os.write(self._out, view[:_CHUNK]) :]
            except BlockingIOError:  # writable, but not for this much yet: wait again
                continue

    def ended(self) -> str:
        """How the command ended, with the last lines it wrote to stderr."""
        try:
            status = self.process.wait(timeout=2)
            what = f"ended (exit status {status})"
        except subprocess.TimeoutExpired:
            what = "closed its output"
        return what + (f": {said}" if (said := self.stderr_tail()) else "")

    def stderr_tail(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self.stderr.seek(0, os.SEEK_END)
            self.stderr.seek(max(0, self.stderr.tell() - 2000))
            lines = self.stderr.read().decode("utf-8", "replace").splitlines()
            return " / ".join(line.strip() for line in lines[-3:] if line.strip())
        return ""

    def shutdown(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        try:
            self.process.wait(timeout=2)  # an IMAP server exits at the end of its input
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


class CommandClient(imapclient.IMAPClient):  # type: ignore[misc]
    """imapclient speaking through `PipeIMAP4` (see the module docstring)."""

    def __init__(
        self, process: subprocess.Popen[bytes], stderr: IO[bytes], label: str, timeout: float
    ) -> None:
        self._pipe = (process, stderr, timeout)  # used by _create_IMAP4, called by __init__
        super().__init__(label, stream=True, ssl=False, timeout=timeout)

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return PipeIMAP4(*self._pipe)

    def _set_read_timeout(self) -> None:
        """Nothing to set on a socket: PipeIMAP4 bounds every wait itself."""


def connect_command(spec: AccountSpec, password: Callable[[], str], *, readonly: bool) -> ImapStore:
    """Start the account's command and return a store speaking IMAP with it."""
    argv = shlex.split(spec.command)
    shown = replace(spec, host=spec.display)  # our messages name the command, not a host
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 (PipeIMAP4.shutdown closes it)
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, bufsize=0
        )
    except OSError as exc:
        stderr.close()
        raise ConnectError(f"cannot run {argv[0]}: {exc.strerror or exc}", _HINT) from None
    try:
        client = CommandClient(process, stderr, spec.display, spec.timeout)
    except TimeoutError:
        raise TimeoutError_(
            f"no IMAP greeting from `{spec.command}` within {spec.timeout:g} s", _HINT
        ) from None
    except CommandEnded as exc:
        raise ConnectError(f"the command `{spec.command}` {exc}", _HINT) from None
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ConnectError(f"`{spec.command}` does not speak IMAP ({exc})", _HINT) from None
    with shut_on_error(client, shown):
        if client._imap.state != "AUTH":  # "* OK": not preauthenticated, so log in
            if not spec.user:
                raise AuthError(
                    f"`{spec.command}` asks for a login, and the account has no user",
                    "save it with command and user in config.toml, or make it PREAUTH",
                )
            client.login(spec.user, password())
    return ImapStore(ready(client), shown, readonly=readonly)
