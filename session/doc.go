// Package session holds PSSessions: runspace pools on remote shells, driven
// over WS-Management, with the disconnected-session lifecycle of PowerShell
// (New-PSSession, Invoke-Command, Disconnect-PSSession, Connect-PSSession,
// Remove-PSSession). It is the one place where packages psrp and wsman are
// joined.
//
// The full mapping of Receive-PSSession to this API is documented as it is
// built (see the README's roadmap for what is not built yet).
package session
