"""A throw-away GNU Mailutils 3.15 imap4d (Debian mailutils-imap4d) serving mbox files.

The UW-style source admins leave: every folder is one mbox file, the server keeps its state
in the mail itself (Status:, X-Status:, X-UID:, X-IMAPbase:...). Users are virtual-domain
accounts (`virtdomain` authorization, `generic` crypt(3) authentication), so the login name
is `userNNN@mbox.test`; each user's INBOX is `home/userNNN/INBOX` and the other folders are
files under the same directory, "/" delimiter, no prefix. TLS is switched off inside the
server block. imap4d refuses an APPEND to an INBOX file that does not exist yet, so
new_user() creates it (pass inbox=False to get an account without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support.servers.base import (
    LoopbackServer,
    chown_tree,
    crypt_passwords,
    library_env,
    mail_owner,
    package_root,
)

DOMAIN = "mbox.test"


@dataclass
class MailutilsServer(LoopbackServer):
    name: str = "mailutils"
    keywords: bool = False
    """imap4d 3.15 answers BAD "Unrecognized flag" to any keyword."""

    prefix = ""
    delimiter_char = "/"

    def login_name(self, number: int) -> str:
        return f"user{number:03d}@{DOMAIN}"

    def home(self, user: str) -> Path:
        return self.root / "home" / user.split("@")[0]

    def mbox_path(self, user: str, folder: str) -> Path:
        """The mbox file of a folder ("INBOX", "Archive/2023")."""
        return self.home(user) / folder

    def start(self) -> MailutilsServer:
        packages = package_root()
        uid, gid = mail_owner()
        (self.root / "home").mkdir()
        (self.root / "virt").mkdir()
        users = [self.login_name(n) for n in range(1, self.user_count + 1)]
        hashes = crypt_passwords([self.password(u) for u in users])
        (self.root / "virt" / DOMAIN).write_text(
            "".join(
                f"{u.split('@')[0]}:{h}:{uid}:{gid}:mailmig test:{self.home(u)}:/bin/false\n"
                for u, h in zip(users, hashes, strict=True)
            )
        )
        self.imap_port = self._free_port()
        config = self.root / "imap4d.conf"
        config.write_text(self._config())
        self._spawn(
            [str(packages / "usr/sbin/imap4d"), f"--config-file={config}"],
            library_env(packages),
        )
        return self

    def new_user(self, inbox: bool = True) -> str:
        user = super().new_user()
        home = self.home(user)
        home.mkdir()
        if inbox:
            (home / "INBOX").touch(mode=0o600)
        chown_tree(home, *mail_owner())
        return user

    def _config(self) -> str:
        return f"""\
mode daemon;
foreground yes;
max-children 40;
logging {{ syslog no; }};
auth {{
  authentication generic;
  authorization virtdomain;
}};
virtdomain {{ passwd-dir "{self.root}/virt"; }};
mailbox {{ mailbox-type mbox; }};
namespace personal {{
  prefix "" {{
    directory "$home";
    delimiter "/";
  }};
}};
tcp-wrappers {{ enable no; }};
server 127.0.0.1:{self.imap_port} {{
  tls-mode false;
}};
"""
