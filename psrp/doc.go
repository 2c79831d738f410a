// Package psrp is the PowerShell Remoting Protocol (MS-PSRP) codec: fragments,
// messages, protocol objects and the runspace-pool and pipeline state machines
// of both the client and the server, in sans-IO form.
//
// Nothing in this package performs I/O or starts goroutines. Bytes go in,
// typed values and events come out, and the bytes to send are handed back to
// the caller. The WS-Management transport lives in package wsman; package
// session joins the two.
//
// # Exactly once
//
// A ClientPool delivers every server message at most once and reports a
// loss, never a silent success (MS-PSRP 2.2.4: ObjectIds identify the
// messages; a server numbers all the messages of a shell with one counter,
// as the recordings show). A fragment of a message already received, or a
// FragmentId already received, is a duplicate (a retransmitted or replayed
// response): dropped and counted (DroppedDuplicates). An ObjectId missing
// from a pipeline's stream that no running target can still deliver, or a
// message whose first fragments never came, is a *GapError
// (errors.Is ErrObjectIDGap) naming the missing ObjectIds, returned by
// ReceiveData with all the events of the payload; StreamEnded reports a
// stream that ended (WS-Management CommandState Done) before the pipeline's
// terminal state. With a server that supports MS-WSMV robust connections
// and wsman's Config.Retry, nothing is lost in the first place; this is
// the net for servers (or outages) where a response is lost for good. The
// limits (pool messages in flight, concurrent pipelines, adopted
// pipelines) are documented on ErrObjectIDGap.
//
// The CLIXML serialization format used inside message data is in the
// sub-package clixml.
package psrp
