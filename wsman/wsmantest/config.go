package wsmantest

import (
	"strconv"
	"time"

	"github.com/psremoting/psremoting/wsman"
)

// configElement builds the cfg:Config a Get of
// http://schemas.microsoft.com/wbem/wsman/1/config returns: the layout of
// a Windows WinRM configuration, with the values of this server's options
// (MaxEnvelopeSizekb, MaxTimeoutms, auth methods, Winrs IdleTimeout and
// MaxShellsPerUser) and Windows defaults elsewhere.
func (s *Server) configElement() *wsman.Element {
	ns := wsman.NSConfig
	el := func(local string, children ...*wsman.Element) *wsman.Element {
		return wsman.NewElement(ns, local).Add(children...)
	}
	txt := func(local, v string) *wsman.Element { return wsman.NewElement(ns, local).SetText(v) }
	b := func(local string, v bool) *wsman.Element { return txt(local, strconv.FormatBool(v)) }
	ms := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Millisecond), 10) }
	basic := s.methodAllowed(AuthBasic) && len(s.opts.Users) > 0
	ntlm := s.methodAllowed(AuthNTLM) && len(s.opts.Users) > 0
	cert := s.methodAllowed(AuthCertificate) && len(s.opts.CertificateUsers) > 0
	ports := func() *wsman.Element {
		return el("DefaultPorts", txt("HTTP", "5985"), txt("HTTPS", "5986"))
	}
	return el("Config",
		txt("MaxEnvelopeSizekb", strconv.Itoa(s.opts.MaxEnvelopeSize/1024)),
		txt("MaxTimeoutms", ms(s.opts.MaxOperationTimeout)),
		txt("MaxBatchItems", "32000"),
		txt("MaxProviderRequests", "4294967295"),
		el("Client",
			txt("NetworkDelayms", "5000"),
			txt("URLPrefix", "wsman"),
			b("AllowUnencrypted", false),
			el("Auth", b("Basic", true), b("Digest", true), b("Kerberos", true), b("Negotiate", true),
				b("Certificate", true), b("CredSSP", false)),
			ports(),
			txt("TrustedHosts", ""),
		),
		el("Service",
			txt("RootSDDL", "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)"),
			txt("MaxConcurrentOperations", "4294967295"),
			txt("MaxConcurrentOperationsPerUser", "1500"),
			txt("EnumerationTimeoutms", "240000"),
			txt("MaxConnections", "300"),
			txt("MaxPacketRetrievalTimeSeconds", "120"),
			b("AllowUnencrypted", s.opts.AllowUnencrypted),
			el("Auth", b("Basic", basic), b("Kerberos", false), b("Negotiate", ntlm), b("Certificate", cert),
				b("CredSSP", false), txt("CbtHardeningLevel", "Relaxed")),
			ports(),
			txt("IPv4Filter", "*"),
			txt("IPv6Filter", "*"),
			b("EnableCompatibilityHttpListener", false),
			b("EnableCompatibilityHttpsListener", false),
			txt("CertificateThumbprint", ""),
			b("AllowRemoteAccess", true),
		),
		el("Winrs",
			b("AllowRemoteShellAccess", true),
			txt("IdleTimeout", ms(s.opts.DefaultIdleTimeout)),
			txt("MaxConcurrentUsers", "2147483647"),
			txt("MaxShellRunTime", "2147483647"),
			txt("MaxProcessesPerShell", "2147483647"),
			txt("MaxMemoryPerShellMB", "2147483647"),
			txt("MaxShellsPerUser", strconv.Itoa(s.opts.MaxShellsPerUser)),
		),
	)
}
