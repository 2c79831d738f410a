// Package session will hold PSSessions: runspace pools on remote shells, with
// the disconnected-session lifecycle (New-PSSession, Invoke-Command
// -InDisconnectedSession, Disconnect-PSSession, Connect-PSSession,
// Get-PSSession -ComputerName, Receive-PSSession, Remove-PSSession) built on
// packages wsman and psrp.
//
// Not built yet: this package is a placeholder for the next milestone (see the
// README's roadmap). It exports nothing.
package session
