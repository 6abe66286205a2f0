"""A throw-away Courier-IMAP 5 (Debian courier-imap, courier-authlib-userdb) for tests.

Courier's paths are compiled in (/etc/courier, /run/courier, /usr/lib/courier-authlib): the
server runs in a private mount namespace (`unshare -m`) where this instance's directories
are bind-mounted over them, so several instances and the host never see each other. The
chain is Courier's own: couriertcpd -> imaplogin -> imapd, with authdaemond (module
authuserdb) checking passwords against a userdb built by makedatprog. Maildirs, "INBOX."
prefix, "." delimiter, keywords in courierimapkeywords/.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers.base import (
    LoopbackServer,
    ServerUnavailable,
    chown_tree,
    crypt_passwords,
    library_env,
    mail_owner,
    package_root,
)

COMPILED_IN = ("/etc/courier", "/run/courier", "/usr/lib/courier-authlib")
"""Courier's compiled-in directories, each covered by a bind mount in the namespace."""

CAPABILITY = (
    "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
)


@dataclass
class CourierServer(LoopbackServer):
    name: str = "courier"

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def start(self) -> CourierServer:
        if os.getuid() != 0:
            raise ServerUnavailable("Courier needs root: it runs in a private mount namespace")
        unshare = shutil.which("unshare")
        if unshare is None:
            raise ServerUnavailable("unshare (util-linux) is missing")
        packages = package_root()
        for mount_point in COMPILED_IN:
            if not Path(mount_point).is_dir():
                if mount_point.startswith("/run/"):
                    Path(mount_point).mkdir(parents=True)  # /run is emptied at boot
                else:
                    raise ServerUnavailable(f"mount point {mount_point} missing: run install.sh")
        etc, run = self.root / "etc", self.root / "run"
        etc.mkdir()
        (run / "authdaemon").mkdir(parents=True)
        (self.root / "home").mkdir()
        self._write_userdb(packages)
        (etc / "authdaemonrc").write_text(
            'authmodulelist="authuserdb"\nauthmodulelistorig="authuserdb"\ndaemons=1\n'
            'authdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\n'
        )
        self.imap_port = self._free_port()
        env = library_env(packages)
        env.update(
            IMAP_CAPABILITY=CAPABILITY,
            IMAP_KEYWORDS="1",
            IMAP_ACL="1",
            IMAP_USELOCKS="1",
            IMAP_EMPTYTRASH="",
            IMAP_IDLE_TIMEOUT="60",
            IMAP_UMASK="022",
            IMAP_MAILBOX_SANITY_CHECK="1",
        )
        mounts = {"/etc/courier": etc, "/run/courier": run}
        mounts["/usr/lib/courier-authlib"] = packages / "usr/lib/courier-authlib"
        script = "set -e\n"
        script += "".join(
            f"mount --bind {shlex.quote(str(src))} {dst}\n" for dst, src in mounts.items()
        )
        lib = packages / "usr/lib/courier"
        script += f"{lib}/courier-authlib/authdaemond &\n"
        script += (
            f"exec {packages}/usr/sbin/couriertcpd -address=127.0.0.1 -nodnslookup"
            f" -noidentlookup -maxprocs=40 -maxperip=40 {self.imap_port}"
            f" {lib}/courier/imaplogin {packages}/usr/bin/imapd Maildir\n"
        )
        (self.root / "launch.sh").write_text(script)
        self._spawn(
            [
                unshare,
                "--mount",
                "--propagation",
                "private",
                "/bin/sh",
                str(self.root / "launch.sh"),
            ],
            env,
        )
        return self

    def _write_userdb(self, packages: Path) -> None:
        """userdb.dat and userdbshadow.dat, as makeuserdb would build them."""
        uid, gid = mail_owner()
        users = [self.login_name(n) for n in range(1, self.user_count + 1)]
        hashes = crypt_passwords([self.password(u) for u in users])
        home = self.root / "home"
        accounts = "".join(
            f"{u}\tuid={uid}|gid={gid}|home={home}/{u}|mail={home}/{u}/Maildir|_=\n" for u in users
        )
        shadow = "".join(f"{u}\tsystempw={h}\n" for u, h in zip(users, hashes, strict=True))
        makedat = packages / "usr/lib/courier/courier-authlib/makedatprog"
        for name, text in (("userdb", accounts), ("userdbshadow", shadow)):
            etc = self.root / "etc"
            subprocess.run(
                [str(makedat), "-", str(etc / f"{name}.tmp"), str(etc / f"{name}.dat")],
                input=(text + ".\n").encode(),
                env=library_env(packages),
                check=True,
                capture_output=True,
            )

    def _prepare_user(self, user: str) -> None:
        # Courier does not create a Maildir on first login.
        maildir = self.maildir(user)
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        chown_tree(maildir.parent, *mail_owner())
