"""What the throw-away Cyrus, Courier and Mailutils servers have in common.

The servers are unpacked by install.sh into a private root (their packages conflict with
dovecot-imapd in apt); every instance gets its own directory, config, users and loopback
port, and runs in a session of its own so that stopping it reaches every child process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import imapclient

from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import free_port

INSTALL_ROOT = Path(os.environ.get("MAILMIG_TEST_SERVERS", "/opt/mailmig-test-servers"))
"""Where install.sh unpacks the servers (`root/`) and records their versions."""
INSTALL_SCRIPT = Path(__file__).with_name("install.sh")


class ServerUnavailable(RuntimeError):
    """The server cannot be set up on this machine (not unpacked, not root...)."""


def package_root() -> Path:
    root = INSTALL_ROOT / "root"
    if not (root / "usr").is_dir():
        raise ServerUnavailable(f"not unpacked: run {INSTALL_SCRIPT} (or ./run-tests)")
    return root


def package_versions() -> str:
    path = INSTALL_ROOT / "versions.txt"
    return path.read_text() if path.exists() else ""


def library_env(root: Path) -> dict[str, str]:
    """The environment for an unpacked program: its own shared libraries first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILMIG_")}
    env["LD_LIBRARY_PATH"] = f"{root}/usr/lib/x86_64-linux-gnu:{root}/usr/lib"
    return env


def crypt_passwords(passwords: Sequence[str]) -> list[str]:
    """SHA-512 crypt(3) hashes, as Courier's userdb and Mailutils' passwd files want."""
    answer = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],
        input="".join(p + "\n" for p in passwords),
        capture_output=True,
        text=True,
        check=True,
    )
    hashes = answer.stdout.split()
    assert len(hashes) == len(passwords)
    return hashes


def mail_owner() -> tuple[int, int]:
    """Mail processes do not run as root: `nobody` when we are root, else ourselves."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    return 65534, 65534


def chown_tree(path: Path, uid: int, gid: int) -> None:
    if os.getuid() != 0:
        return
    os.chown(path, uid, gid)
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(base, name), uid, gid)


class ImapServer(Protocol):
    """What tests need of any test server, DovecotServer included."""

    imap_port: int

    @property
    def delimiter(self) -> str: ...

    def folder_name(self, parts: tuple[str, ...]) -> str: ...

    def password(self, user: str) -> str: ...

    def new_user(self) -> str: ...

    def client(self, user: str) -> imapclient.IMAPClient: ...


@dataclass
class LoopbackServer:
    """A real IMAP server process on a loopback port, with users user001... ."""

    name: str = "imap"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mailmig-srv-")))
    imap_port: int = 0
    keywords: bool = True
    """Whether the server stores keywords ($label1...): mbox servers store none."""
    process: subprocess.Popen[bytes] | None = None
    _next_user: int = 0

    user_count = 100
    prefix = "INBOX."
    delimiter_char = "."

    def __post_init__(self) -> None:
        self.root.chmod(0o755)

    # -- naming ----------------------------------------------------------------------------

    @property
    def delimiter(self) -> str:
        return self.delimiter_char

    def folder_name(self, parts: tuple[str, ...]) -> str:
        if parts == ("INBOX",):
            return "INBOX"
        return self.prefix + self.delimiter.join(parts)

    @staticmethod
    def password(user: str) -> str:
        return f"pw-{user}-Zq8!"

    def login_name(self, number: int) -> str:
        return f"user{number:03d}"

    def new_user(self) -> str:
        """A user no test has used yet: an empty mailbox."""
        self._next_user += 1
        if self._next_user > self.user_count:
            raise RuntimeError(f"test {self.name} ran out of users; raise user_count")
        user = self.login_name(self._next_user)
        self._prepare_user(user)
        return user

    def _prepare_user(self, user: str) -> None:
        """What a user needs before the first login (a mailbox on disk, an account)."""

    # -- life cycle ------------------------------------------------------------------------

    def _spawn(self, argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> None:
        # A session of its own, so that stop() reaches the master and every child.
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=(self.root / "server.stdout").open("ab"),
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd or self.root,
            start_new_session=True,
        )
        self._wait_listening()

    def _wait_listening(self) -> None:
        # None of these servers signals readiness on a pipe; the listener accepting is the event.
        deadline = time.monotonic() + 20
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not listen: {self.log_text()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        # Children that outlive their parent (Courier's authdaemond) are in the same group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        path = self.root / "server.stdout"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def _free_port() -> int:
        return free_port()

    # -- clients ---------------------------------------------------------------------------

    def client(self, user: str) -> imapclient.IMAPClient:
        """A plain loopback connection for seeding and checking, outside the code under test."""
        client = imapclient.IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=30)
        # imaplib sends a literal and its final CRLF in two writes; without NODELAY each
        # APPEND waits for the server's delayed ACK (40 ms).
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(user, self.password(user))
        return client

    def seed(
        self, user: str, messages: Iterable[SeedMessage], folders: Iterable[SeedFolder] = ()
    ) -> None:
        """APPEND each message with its flags and INTERNALDATE, creating folders as needed."""
        seed_messages(self, user, messages, folders, keywords=self.keywords)

    def reset_user(self, user: str) -> None:
        """Empty a user's mailbox: every folder but INBOX deleted, INBOX expunged."""
        client = self.client(user)
        try:
            names = [str(n) for flags, _d, n in client.list_folders() if n.upper() != "INBOX"]
            kept = ["INBOX"]
            for name in sorted(names, key=lambda n: n.count(self.delimiter), reverse=True):
                try:
                    client.delete_folder(name)
                except imapclient.exceptions.IMAPClientError:
                    kept.append(name)  # Courier keeps its Trash folder: empty it instead
            for name in kept:
                client.select_folder(name)
                uids = client.search(["ALL"])
                if uids:
                    client.add_flags(uids, [imapclient.DELETED])
                    client.expunge()
                client.close_folder()
        finally:
            client.logout()


def seed_messages(
    server: ImapServer,
    user: str,
    messages: Iterable[SeedMessage],
    folders: Iterable[SeedFolder] = (),
    *,
    keywords: bool = True,
) -> None:
    """Put messages onto any test server over plain IMAP, outside the code under test.
    Folders are created in the order given; keywords are dropped for servers that store none."""
    client = server.client(user)
    try:
        existing = {str(name) for _flags, _delim, name in client.list_folders()}

        def ensure(parts: tuple[str, ...]) -> str:
            # Only the folder itself: an mbox server makes parents directories on its own
            # and cannot have a parent that is a folder too.
            name = server.folder_name(parts)
            if name not in existing and name != "INBOX":
                client.create_folder(name)
                client.subscribe_folder(name)
                existing.add(name)
            return name

        for folder in folders:
            ensure(folder.parts)
        for message in messages:
            flags = [f for f in message.flags if keywords or f.startswith("\\")]
            client.append(
                ensure(message.folder), message.data, flags=flags, msg_time=message.internaldate
            )
    finally:
        client.logout()


def fetch_folder(server: ImapServer, user: str, folder: str) -> list[dict[bytes, object]]:
    """Every message of a folder as (BODY[], FLAGS, INTERNALDATE), in UID order, read-only."""
    client = server.client(user)
    try:
        client.normalise_times = False
        client.select_folder(folder, readonly=True)
        uids = sorted(client.search(["ALL"]))
        answer = client.fetch(uids, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]) if uids else {}
        return [answer[uid] for uid in uids]
    finally:
        client.logout()
