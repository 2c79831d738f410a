package main

import (
	"crypto/x509"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func loadPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM(b))
	return p
}
