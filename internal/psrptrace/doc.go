// Package psrptrace turns recorded WinRM traffic into the sequence of PSRP
// messages it carries.
//
// Input is a pypsrp YAML recording (see internal/recordings), a single raw
// SOAP envelope, or raw base64 PSRP payloads. The envelopes are scanned with a
// small generic encoding/xml pass that picks out the elements that carry PSRP
// fragments (pwsh:creationXml, rsp:Arguments, rsp:Stream, pwsh:connectXml,
// pwsh:connectResponseXml) together with the WS-Management action, resource
// URI and shell id; it is deliberately not a second copy of package wsman's
// typed parsing.
//
// Fragments are reassembled per shell and per direction (fragment ObjectIds
// are numbered per runspace pool by each sender), every reassembled message is
// parsed (psrp.DecodeMessage), its CLIXML decoded (clixml.Unmarshal) and its
// protocol object decoded (psrp.DecodeMessageData). WinRS (cmd shell) traffic
// carries no PSRP and yields no messages.
//
// The package backs the conformance test over the real Windows recordings and
// the examples/psrpdump tool. It is internal: its API may change freely.
package psrptrace
