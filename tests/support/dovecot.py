"""Throw-away Dovecot servers for tests and benchmarks.

Each `DovecotServer` is a real `dovecot -F` process with its own config, passwd-file, maildirs,
certificate authority and loopback ports in a temporary directory. Two shapes mirror what
admins meet in the field:

- "slash": hierarchy delimiter "/" and no namespace prefix, RFC 6154 SPECIAL-USE on
  the usual folders (a modern Dovecot).
- "courier": delimiter "." under the personal namespace prefix "INBOX." and no SPECIAL-USE
  (how Courier and Cyrus present themselves).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import imapclient

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER_COUNT = 300
"""Users are written before the server starts: Dovecot notices passwd-file changes late."""

DEFAULT_SPECIAL_USE = {
    "Sent": "\\Sent",
    "Drafts": "\\Drafts",
    "Trash": "\\Trash",
    "Junk": "\\Junk",
    "Archive": "\\Archive",
}


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports. The sockets stay bound until all are chosen:
    asking one at a time, the kernel may hand out a just-closed port again, and Dovecot
    then refuses two listeners on one port."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `localhost` only (so 127.0.0.1 is a name mismatch)."""
    ca_key, ca_crt = directory / "ca.key", directory / "ca.pem"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    quiet = {"check": True, "capture_output": True}
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=mailmig test CA",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca_crt),
        ],
        **quiet,  # type: ignore[call-overload]
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(csr),
        ],
        **quiet,  # type: ignore[call-overload]
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca_crt),
            "-CAkey",
            str(ca_key),
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            str(ext),
            "-out",
            str(crt),
        ],
        **quiet,  # type: ignore[call-overload]
    )
    return ca_crt, crt, key


def _mail_owner() -> tuple[int, int]:
    """Dovecot refuses to run mail processes as root: use `nobody` when we are root."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@dataclass
class DovecotServer:
    shape: str = "slash"
    ssl: bool = True
    special_use: dict[str, str] | None = None
    max_mail_size: int | None = None
    """Dovecot's quota_max_mail_size: bigger APPENDs are refused with NO [LIMIT]."""
    advertise_appendlimit: bool = False
    quota_bytes: int | None = None
    capabilities: str | None = None
    """Replaces the post-login CAPABILITY list, to act like servers without LITERAL+ etc."""
    greeting: str | None = None
    master_user: str | None = None
    """An admin who may open any mailbox: as USER*MASTER, or by SASL PLAIN authzid."""
    """Dovecot's login_greeting, to look like Exchange ("Microsoft Exchange") or Gmail."""
    pop3: bool = False
    """Also serve POP3 (plain with STLS on `pop3_port`, TLS on `pop3s_port`) and allow APOP."""
    oauth2_introspection_url: str | None = None
    """Also accept OAUTHBEARER and XOAUTH2 sign-ins, checking each token by RFC 7662
    introspection (POST token=…) at this URL; passwords keep working."""
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mailmig-dovecot-")))
    imap_port: int = 0
    imaps_port: int = 0
    pop3_port: int = 0
    pop3s_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _next_user: int = 0

    def __post_init__(self) -> None:
        if self.special_use is None:
            self.special_use = dict(DEFAULT_SPECIAL_USE) if self.shape == "slash" else {}
        self.root.chmod(0o755)

    # -- naming ----------------------------------------------------------------------------

    @property
    def delimiter(self) -> str:
        return "/" if self.shape == "slash" else "."

    @property
    def prefix(self) -> str:
        return "" if self.shape == "slash" else "INBOX."

    def folder_name(self, parts: tuple[str, ...]) -> str:
        """The server's full name for a folder path (INBOX stays INBOX)."""
        if parts == ("INBOX",):
            return "INBOX"
        return self.prefix + self.delimiter.join(parts)

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "ca.pem"

    @staticmethod
    def password(user: str) -> str:
        return f"pw-{user}-Zq8!"

    def new_user(self) -> str:
        """A user no test has used yet: an empty mailbox."""
        self._next_user += 1
        if self._next_user > USER_COUNT:
            raise RuntimeError("test Dovecot ran out of users; raise USER_COUNT")
        return f"user{self._next_user:03d}"

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user / "Maildir"

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> DovecotServer:
        uid, gid = _mail_owner()
        (self.root / "tls").mkdir()
        make_ca(self.root / "tls")
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, uid, gid)
        (self.root / "run").mkdir()
        users = [f"user{i:03d}" for i in range(1, USER_COUNT + 1)]
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{self.password(u)}\n" for u in users)
        )
        ports = free_ports(4 if self.pop3 else 2)
        self.imap_port, self.imaps_port = ports[:2]
        if self.pop3:
            self.pop3_port, self.pop3s_port = ports[2:]
        config = self.root / "dovecot.conf"
        config.write_text(self._config(uid, gid))
        self._spawn()
        return self

    def _spawn(self) -> None:
        # A session of its own, so that kill() reaches the master and every imap process.
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "dovecot.stderr").open("ab"),
            start_new_session=True,
        )
        self._wait_listening()

    def kill(self) -> None:
        """Crash the whole server at once: every open connection is cut mid-command."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """A crash and a fresh start: clients see their connections drop."""
        self.kill()
        self._spawn()

    def _wait_listening(self) -> None:
        # Dovecot gives no readiness signal on a pipe; the listeners accepting is the event.
        deadline = time.monotonic() + 15
        ports = [self.imap_port] + ([self.imaps_port] if self.ssl else [])
        if self.pop3:
            ports += [self.pop3_port] + ([self.pop3s_port] if self.ssl else [])
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError("dovecot exited: " + self.log_text())
            try:
                for port in ports:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not listen: " + self.log_text()) from None
                time.sleep(0.05)

    def wait_sessions_closed(self, user: str, timeout: float = 30) -> None:
        """Wait until no imap process of this server serves `user` any more.

        A client killed with -9 leaves the server working on what it had sent (a pipelined
        MULTIAPPEND is saved after the client is gone); a re-run that plans meanwhile sees a
        target still changing. The processes' titles (verbose_proctitle) name the user.
        """
        marker = f"[{user} ".encode()
        deadline = time.monotonic() + timeout
        while any(marker in title for title in self._imap_titles()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot still serves {user} after {timeout} s")
            time.sleep(0.05)

    def _imap_titles(self) -> list[bytes]:
        assert self.process is not None
        titles = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getsid(int(entry.name)) != self.process.pid:
                    continue  # another server's, or not Dovecot's at all
                titles.append((entry / "cmdline").read_bytes())
            except (OSError, ProcessLookupError):
                continue  # ended meanwhile
        return [t for t in titles if b"/imap [" in t]

    def log_text(self) -> str:
        parts = []
        for name in ("dovecot.log", "dovecot.stderr"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    # -- clients ---------------------------------------------------------------------------

    def client(self, user: str) -> imapclient.IMAPClient:
        """A plain loopback connection for seeding and checking, outside the code under test."""
        client = imapclient.IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=30)
        client.login(user, self.password(user))
        return client

    # -- config ----------------------------------------------------------------------------

    def _config(self, uid: int, gid: int) -> str:
        root = self.root
        layout = ":LAYOUT=fs" if self.shape == "slash" else ""
        special = "".join(
            f'  mailbox "{name}" {{\n    special_use = {role}\n  }}\n'
            for name, role in (self.special_use or {}).items()
        )
        plugins = []
        plugin_settings = []
        if self.max_mail_size is not None or self.quota_bytes is not None:
            plugins.append("quota")
            plugin_settings.append("  quota = maildir:User quota")
            if self.quota_bytes is not None:
                plugin_settings.append(f"  quota_rule = *:storage={self.quota_bytes}B")
            if self.max_mail_size is not None:
                plugin_settings.append(f"  quota_max_mail_size = {self.max_mail_size}")
        imap_plugins = " ".join(plugins + (["imap_quota"] if plugins else []))
        capability = ""
        if self.advertise_appendlimit and self.max_mail_size is not None:
            capability = f"  imap_capability = +APPENDLIMIT={self.max_mail_size}\n"
        if self.capabilities is not None:
            capability = f"  imap_capability = {self.capabilities}\n"
        oauth2_mechanisms = " oauthbearer xoauth2" if self.oauth2_introspection_url else ""
        if self.ssl:
            ssl_block = (
                f"ssl = yes\nssl_cert = <{root}/tls/server.pem\nssl_key = <{root}/tls/server.key\n"
            )
        else:
            ssl_block = "ssl = no\n"
        return f"""\
base_dir = {root}/run
state_dir = {root}/run/state
instance_name = mailmig-test-{root.name}
protocols = imap{" pop3" if self.pop3 else ""}
listen = 127.0.0.1
{ssl_block}disable_plaintext_auth = no
{f"login_greeting = {self.greeting}" if self.greeting else ""}
auth_mechanisms = plain login{" apop" if self.pop3 else ""}{oauth2_mechanisms}
log_path = {root}/dovecot.log
verbose_proctitle = yes
default_internal_user = {"dovecot" if os.getuid() == 0 else pwd.getpwuid(uid).pw_name}
default_login_user = {"dovenull" if os.getuid() == 0 else pwd.getpwuid(uid).pw_name}
default_internal_group = {"dovecot" if os.getuid() == 0 else "nogroup"}
first_valid_uid = 1
mail_location = maildir:~/Maildir{layout}
mail_plugins = $mail_plugins {" ".join(plugins)}
namespace inbox {{
  inbox = yes
  separator = {self.delimiter}
  prefix = {self.prefix}
{special}}}
{self._oauth2_passdb()}{self._master_passdb()}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
protocol imap {{
  mail_plugins = $mail_plugins {imap_plugins}
{capability}}}
plugin {{
{chr(10).join(plugin_settings)}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port if self.ssl else 0}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
{self._pop3_config() if self.pop3 else ""}"""

    def _oauth2_passdb(self) -> str:
        """Dovecot 2.3's oauth2 passdb, asked only for the token mechanisms."""
        if not self.oauth2_introspection_url:
            return ""
        args = self.root / "dovecot-oauth2.conf.ext"
        args.write_text(
            f"introspection_url = {self.oauth2_introspection_url}\n"
            "introspection_mode = post\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        return f"""\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {args}
}}
"""

    def _master_passdb(self) -> str:
        if not self.master_user:
            return ""
        (self.root / "master-users").write_text(
            f"{self.master_user}:{{PLAIN}}{self.password(self.master_user)}\n"
        )
        return f"""\
auth_master_user_separator = *
passdb {{
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN username_format=%u {self.root}/master-users
}}
"""

    def _pop3_config(self) -> str:
        # APOP works here because the passwd-file keeps {PLAIN} passwords.
        return f"""\
pop3_uidl_format = %08Xu%08Xv
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.pop3s_port if self.ssl else 0}
    ssl = yes
  }}
}}
"""


def running(server: DovecotServer) -> Iterator[DovecotServer]:
    """`server` started, for a fixture to `yield from`; cleaned up when the fixture ends."""
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
