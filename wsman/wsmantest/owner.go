package wsmantest

import "strings"

// ownerName is the rsp:Owner Windows shows for a shell of user (the Users
// key the login matched, or AnonymousUser): the account in its
// NameSamCompatible form, "MACHINE\user" for a local account and
// "DOMAIN\user" for a domain account, for PowerShell and cmd shells alike
// (the CreateResponse and Enumerate items of test_psrp_disconnect_runspaces,
// test_client_execute_cmd, test_client_copy_file and most other pypsrp
// recordings). So:
//
//   - "user" is a local account: ComputerName\user;
//   - "DOMAIN\user" is shown with the domain in upper case (NetBIOS names
//     are case-insensitive and Windows shows them upper case), and
//     ".\user" (the local machine) as ComputerName\user;
//   - "user@dns.domain" (a user principal name) is shown as DOMAIN\user,
//     DOMAIN being the first label of the DNS domain, which is the NetBIOS
//     name of a domain unless its administrator chose another.
//
// Give Users a "DOMAIN\user" or UPN key to model a domain account. A few
// recordings (test_winrs_*, test_psrp_get_command_metadata,
// test_psrp_is_alive_*) show a bare "vagrant" for both shell kinds; what
// made those servers do so is not in the recordings (the HTTP headers and
// the authentication method are not recorded), so the server does not
// imitate it.
func (s *Server) ownerName(user string) string {
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		domain, name := user[:i], user[i+1:]
		if domain == "" || domain == "." {
			domain = s.opts.ComputerName
		}
		return strings.ToUpper(domain) + `\` + name
	}
	if i := strings.LastIndexByte(user, '@'); i >= 0 && i+1 < len(user) {
		domain, _, _ := strings.Cut(user[i+1:], ".")
		return strings.ToUpper(domain) + `\` + user[:i]
	}
	return strings.ToUpper(s.opts.ComputerName) + `\` + user
}
