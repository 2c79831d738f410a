// Package krbtest runs a throw-away MIT Kerberos KDC on the loopback
// interface for tests.
//
// Start creates a temporary realm (kdb5_util create -s), writes a kdc.conf
// and a krb5.conf into a temporary directory and starts krb5kdc on a free
// loopback port in the foreground. Principals, keytabs and credential caches
// are made with kadmin.local and kinit against that realm. Nothing outside
// the directory is touched: every command runs with KRB5_CONFIG and
// KRB5_KDC_PROFILE pointing into it.
//
// The binaries come from Debian's krb5-kdc, krb5-admin-server and krb5-user
// packages (.ci/services/kdc.sh installs them). When they are missing, Start
// returns an error wrapping ErrUnavailable, and tests skip with that message.
//
// Start once per test binary (in TestMain) and Stop at the end: creating the
// realm and starting the KDC takes about a second.
package krbtest
