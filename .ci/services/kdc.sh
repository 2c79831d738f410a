#!/usr/bin/env bash
# Installs MIT Kerberos (KDC, kadmin.local, kinit, and the GSS-API headers
# with a C compiler for the MIT cross-check of auth's Kerberos sealing) for
# the Kerberos tests in ./auth and ./internal/krbtest. The tests create their
# own throw-away realm
# on a loopback port (internal/krbtest); nothing is configured or started
# here. Without these packages those tests skip with a clear message.
set -euo pipefail

have_all() {
  for b in krb5kdc kdb5_util kadmin.local kinit; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
  done
  # The MIT cross-check test compiles a small GSS-API acceptor.
  [ -f /usr/include/gssapi/gssapi_krb5.h ] || return 1
  command -v cc >/dev/null 2>&1 || return 1
}

if have_all; then
  echo "MIT Kerberos already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install MIT Kerberos (krb5kdc, kdb5_util, kadmin.local, kinit) by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends krb5-kdc krb5-admin-server krb5-user libkrb5-dev gcc libc6-dev

# Debian's postinst may start system daemons for a default realm; the tests
# do not use them. Stop them so they hold no ports (ignore errors).
for svc in krb5-kdc krb5-admin-server; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done

have_all
echo "MIT Kerberos installed"
