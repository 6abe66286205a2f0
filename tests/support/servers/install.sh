#!/usr/bin/env bash
# Unpacks Cyrus IMAP, Courier-IMAP and GNU Mailutils imap4d into a private root for the
# tests in tests/servers/. cyrus-imapd and courier-imap conflict with dovecot-imapd in apt
# (all provide imap-server), so their .debs are only unpacked (dpkg -x), never installed;
# only the shared libraries they link against are installed with apt-get. Nothing here
# starts a service or writes /etc outside the empty mount points Courier needs.
#
# Usage: install.sh [ROOT]   (default $MAILMIG_TEST_SERVERS or /opt/mailmig-test-servers)
set -euo pipefail

ROOT=${1:-${MAILMIG_TEST_SERVERS:-/opt/mailmig-test-servers}}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The packages unpacked into $ROOT/root, and the libraries their programs need
# (found with ldd on imapd, master, ctl_cyrusdb, couriertcpd, imaplogin, authdaemond, imap4d).
UNPACKED=(cyrus-imapd cyrus-common courier-imap courier-base courier-authlib
  courier-authlib-userdb mailutils-imap4d mailutils-common libmailutils9 sasl2-bin)
LIBRARIES=(libxapian30 libpcre3 libical3 libcourier-unicode4 libidn12 libltdl7 libgsasl18
  libmariadb3 libgdbm6 libgamin0 libsasl2-2 libsasl2-modules libsasl2-modules-db
  libwrap0 libjansson4 libsqlite3-0 libpq5 openssl util-linux mount)

echo "install.sh: unpacking ${UNPACKED[*]} into $ROOT"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${LIBRARIES[@]}" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
# apt-get download runs as _apt when it can: give it a directory it may write.
(cd "$work" && as_root apt-get download -qq "${UNPACKED[@]}" 2>/dev/null) ||
  (cd "$work" && as_root apt-get download "${UNPACKED[@]}")
as_root rm -rf "$ROOT.new"
as_root mkdir -p "$ROOT.new/root"
for deb in "$work"/*.deb; do
  as_root dpkg -x "$deb" "$ROOT.new/root"
done
# The exact versions unpacked, for the record and for the fixtures' skip messages.
for deb in "$work"/*.deb; do
  dpkg-deb --showformat='${Package} ${Version}\n' --show "$deb"
done | as_root tee "$ROOT.new/versions.txt" >/dev/null

# Every program the fixtures run must find all of its libraries.
libs="$ROOT.new/root/usr/lib/x86_64-linux-gnu:$ROOT.new/root/usr/lib"
missing=$(for program in usr/lib/cyrus/bin/master usr/lib/cyrus/bin/imapd \
  usr/lib/cyrus/bin/ctl_cyrusdb usr/sbin/saslpasswd2 usr/sbin/couriertcpd \
  usr/lib/courier/courier/imaplogin usr/bin/imapd usr/lib/courier/courier-authlib/authdaemond \
  usr/lib/courier/courier-authlib/makedatprog usr/sbin/imap4d; do
  LD_LIBRARY_PATH=$libs ldd "$ROOT.new/root/$program" | grep 'not found' | sed "s|^|$program: |"
done || true)
if [ -n "$missing" ]; then
  echo "install.sh: libraries missing after apt-get install:" >&2
  echo "$missing" >&2
  exit 1
fi

# Courier's paths are compiled in; the fixture bind-mounts its own directories over these
# inside a private mount namespace. Bind mounts need existing mount points.
as_root mkdir -p /etc/courier /usr/lib/courier-authlib

as_root rm -rf "$ROOT"
as_root mv "$ROOT.new" "$ROOT"
echo "install.sh: done"
cat "$ROOT/versions.txt"
