"""A throw-away Cyrus IMAP 3.6 (Debian cyrus-imapd) for tests.

Cyrus's master does not pass its `-C imapd.conf` to the services it starts, so every
command line in cyrus.conf carries `-C` itself. master drops root for `cyrus_user`: that is
`nobody` when the tests run as root. Users log in with SASL PLAIN/LOGIN against a sasldb
written by saslpasswd2; the admin `cyrusadmin` creates each user's INBOX (`user.NAME`).
Classic layout: "INBOX." prefix, "." delimiter (altnamespace and unixhierarchysep off).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass

import imapclient

from tests.support.servers.base import LoopbackServer, chown_tree, library_env, package_root

ADMIN = "cyrusadmin"


@dataclass
class CyrusServer(LoopbackServer):
    name: str = "cyrus"
    munge8bit: bool = True
    """Cyrus's default: 8-bit bytes in headers become "X"."""
    reject8bit: bool = False
    """Refuse messages with 8-bit header bytes instead (the 'reject8bit: yes' sites)."""

    def start(self) -> CyrusServer:
        packages = package_root()
        self._bin = packages / "usr/lib/cyrus/bin"
        self._env = library_env(packages)
        self._saslpasswd = packages / "usr/sbin/saslpasswd2"
        conf = self.root / "conf"
        for sub in ("db", "proc", "socket", "lock", "log", "sieve", "user", "quota", "msg"):
            (conf / sub).mkdir(parents=True)
        (self.root / "spool").mkdir()
        self.imap_port = self._free_port()
        config = self.root / "imapd.conf"
        config.write_text(self._imapd_conf())
        (self.root / "cyrus.conf").write_text(self._cyrus_conf(config))
        self._set_password(ADMIN)
        chown_tree(self.root, *self._owner())
        self._spawn(
            [
                str(self._bin / "master"),
                "-C",
                str(config),
                "-M",
                str(self.root / "cyrus.conf"),
                "-p",
                str(self.root / "master.pid"),
            ],
            self._env,
        )
        return self

    def _owner(self) -> tuple[int, int]:
        entry = pwd.getpwnam(self._user_name())
        return entry.pw_uid, entry.pw_gid

    @staticmethod
    def _user_name() -> str:
        return "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name

    def _set_password(self, user: str) -> None:
        sasldb = self.root / "sasldb2"
        subprocess.run(
            [str(self._saslpasswd), "-p", "-c", "-f", str(sasldb), "-u", "localhost", user],
            input=self.password(user).encode(),
            env=self._env,
            check=True,
            capture_output=True,
        )
        if os.getuid() == 0:
            os.chown(sasldb, *self._owner())

    def _prepare_user(self, user: str) -> None:
        self._set_password(user)
        admin = self.client(ADMIN)
        try:
            admin.create_folder(f"user.{user}")
        finally:
            admin.logout()

    def admin_client(self) -> imapclient.IMAPClient:
        return self.client(ADMIN)

    def _imapd_conf(self) -> str:
        root = self.root
        return f"""\
configdirectory: {root}/conf
partition-default: {root}/spool
servername: localhost
admins: {ADMIN}
cyrus_user: {self._user_name()}
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {root}/sasldb2
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
altnamespace: no
unixhierarchysep: no
virtdomains: off
delete_mode: immediate
expunge_mode: immediate
munge8bit: {"yes" if self.munge8bit else "no"}
reject8bit: {"yes" if self.reject8bit else "no"}
lmtpsocket: {root}/conf/socket/lmtp
idlesocket: {root}/conf/socket/idle
notifysocket: {root}/conf/socket/notify
"""

    def _cyrus_conf(self, config: object) -> str:
        return f"""\
START {{
  recover cmd="{self._bin}/ctl_cyrusdb -C {config} -r"
}}
SERVICES {{
  imap cmd="{self._bin}/imapd -C {config}" listen="127.0.0.1:{self.imap_port}" prefork=0
}}
EVENTS {{
}}
DAEMON {{
}}
"""
