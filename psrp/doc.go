// Package psrp is the PowerShell Remoting Protocol (MS-PSRP) codec: fragments,
// messages, protocol objects and the runspace-pool and pipeline state machines
// of both the client and the server, in sans-IO form.
//
// Nothing in this package performs I/O or starts goroutines. Bytes go in,
// typed values and events come out, and the bytes to send are handed back to
// the caller. The WS-Management transport lives in package wsman; package
// session joins the two.
//
// The CLIXML serialization format used inside message data is in the
// sub-package clixml.
package psrp
