// Command psrpdump prints the PowerShell Remoting Protocol (PSRP) messages
// carried by recorded WinRM traffic, one JSON object per message.
//
// Usage:
//
//	psrpdump [-format auto|yaml|xml|base64] [-summary] [file|dir ...]
//
// Each argument is a file or a directory; with no argument, or "-", standard
// input is read. In a directory, files ending in .yml, .yaml, .xml or .b64
// are read, in name order, skipping names that start with "." or "_"
// (such as pypsrp's _template.yml); subdirectories are not entered.
//
// Three input formats are understood, and detected unless -format says which:
//
//   - a pypsrp recording (YAML with a "messages:" list of request/response
//     pairs, as in pypsrp's tests/tests_pypsrp/responses/*.yml);
//   - one raw SOAP envelope (a request or a response);
//   - base64 PSRP payload text: one payload (possibly wrapped over lines), or
//     one payload per line, such as the content of a creationXml element.
//
// Every message is printed as a JSON object on its own line with the fields
// file, exchange (the index of the HTTP round trip), direction ("request" or
// "response"), action (the WS-Management action of the request, e.g.
// "Create", "Receive", "Connect"), element (the base64 element the message
// came from), stream and commandId (for rsp:Stream), shellId, objectId,
// fragments, type (the MS-PSRP name, e.g. "PIPELINE_OUTPUT"), destination
// ("Client" or "Server"), rpid, pid, and value: the message's CLIXML in the
// JSON form of package clixml (see clixml.JSON; null when the message has no
// data). WinRS
// (cmd shell) traffic carries no PSRP and prints nothing.
//
// With -summary, the number of messages of each type and the total are
// printed instead.
//
// Errors go to standard error; the exit status is 1 if any input could not be
// decoded (the messages decoded before the error are still printed) and 2 for
// bad usage.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
