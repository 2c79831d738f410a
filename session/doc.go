// Package session holds PSSessions: runspace pools on remote shells, driven
// over WS-Management, with the disconnected-session lifecycle of PowerShell.
// It is the one place where packages psrp (the protocol state machines) and
// wsman (the transport) are joined.
//
//	PowerShell                              this package
//	New-PSSession                           New
//	Invoke-Command -Session                 Session.Invoke (a *Stream of typed Results)
//	Invoke-Command -AsJob                   Session.InvokeAsJob (a *Job)
//	Invoke-Command -InDisconnectedSession   Session.InvokeInDisconnectedSession, InvokeInDisconnectedSession
//	Disconnect-PSSession                    Session.Disconnect
//	Connect-PSSession                       Session.Connect
//	Get-PSSession -ComputerName             Get (Session.ServerInfo has every Enumerate field)
//	Get-PSSession (local)                   Table.List, ByID, ByName, ByInstanceID; DefaultTable
//	Receive-PSSession                       Receive
//	Remove-PSSession                        Session.Remove
//	Receive-Job, Wait-Job, Stop-Job         Job.Receive, Job.Wait, Job.Stop (package job)
//
// A few lines do what Invoke-Command -InDisconnectedSession, then (in
// another process) Receive-PSSession -ComputerName -Name do:
//
//	s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{
//		ConnectionOptions: conn, Name: "Nightly"}, session.Pipeline{Script: script},
//		session.DisconnectOptions{IdleTimeout: 12 * time.Hour})
//	...
//	rec, err := session.Receive(ctx, session.OnComputerByName(conn, "Nightly"), session.ReceiveOptions{})
//	for r, err := range rec.Stream.All() { ... }
//
// # Sessions
//
// A Session is one runspace pool on one shell over one *wsman.Client. Its
// State (PowerShell's RunspaceState) is relative to this client: a session
// got from the server, or disconnected here, is Disconnected even when
// another client is connected to it. Availability (RunspaceAvailability)
// says what can be done: Available or Busy (running commands) when
// connected here; None when disconnected and free to connect; Busy when
// disconnected here but connected to another client (Get reports this from
// the server's State field), in which case Connect, Receive and Remove give
// an error matching ErrBusy. A session the server no longer has (its
// IdleTimeout expired while disconnected, or it was removed) gives an
// error matching ErrExpired. Errors are *SessionError (with the session's
// computer, name and InstanceId), *OptionError, *IdleTimeoutError,
// *LimitError and *UnsupportedError; all work with errors.Is and
// errors.As.
//
// Id is local to the process and increases per session object, as in
// PowerShell; InstanceId is the runspace pool id, equal to the WSMan
// ShellId, and the same on every client. The local session table (Table;
// DefaultTable unless options name another) records the sessions this
// program created, connected, got or made from a token, for the Id, Name
// and InstanceId selectors; closed sessions leave it.
//
// # The loop, concurrency and back-pressure
//
// psrp.ClientPool is not safe for concurrent use: it is touched only under
// the session's mutex, and no network call is made while that is held.
// While a session is Opened it keeps one long-poll Receive for the pool
// outstanding (pool messages; it is also the keep-alive, sent with
// WSMAN_CMDSHELL_OPTION_KEEPALIVE, so the server does not turn an idle
// session Disconnected after its inactivity window), and one per command
// whose results someone consumes. All long polls of a session share
// SessionOption.MaxConcurrentReceives slots (DefaultMaxConcurrentReceives,
// 6: below the 8 authenticated connections the NTLM and Kerberos transports
// keep, since a long poll holds one); while more loops want to poll than
// there are slots, each poll asks the server to answer within a second, so
// slots rotate. Results flow through bounded buffers
// (a Stream's ResultBuffer, a Job's MaxBuffered): while the consumer lags,
// the command's goroutine stops issuing Receives, so memory stays bounded
// and a server in Block mode suspends the command. Close and Remove wait
// for every goroutine the session started.
//
// Protocol specifics handled here rather than in wsman: after the pool
// opens, the envelope size follows the server's protocol version (500 KiB
// for 2.2 and later, else 150 KiB, as PowerShell's WSManTransportManager
// does) and the fragment size
// follows the envelope; the protocolversion option is sent by this package
// (psrp.DefaultProtocolVersion): package wsman knows nothing of PSRP
// versions. Shell and command ids are upper-cased in one place in wsman.
//
// # Receive-PSSession, parameter by parameter
//
// Parameter sets (Selector):
//
//	Session                   BySession(s...)      several sessions: what Get-PSSession ... | Receive-PSSession passes
//	Id                        ByID(id)             the local table; like PowerShell, only sessions known to this process
//	SessionName               ByName(name)         the local table; exact name, case-insensitive (no wildcards, as the reference says)
//	InstanceId                ByInstanceID(id)     the local table
//	ComputerSessionName       OnComputerByName(ConnectionOptions{ComputerName: ...}, name)
//	ComputerInstanceId        OnComputerByInstanceID(ConnectionOptions{ComputerName: ...}, id)
//	ConnectionUriSessionName  OnComputerByName(ConnectionOptions{ConnectionURI: ...}, name)
//	ConnectionUriInstanceId   OnComputerByInstanceID(ConnectionOptions{ConnectionURI: ...}, id)
//
// The computer sets enumerate the user's shells on the server (Get), so
// they work from a fresh process that knows only the computer and the
// name. Selector.ParameterSet names the set.
//
// Parameters:
//
//   - AllowRedirection: SessionOption.AllowRedirection (ConnectionURI only in
//     PowerShell; accepted for both here), bounded by
//     SessionOption.MaximumConnectionRedirectionCount (default 5). A
//     redirect to another host is followed only with
//     SessionOption.AllowCrossHostRedirection too (PowerShell follows it
//     with the credentials; this package does not send credentials to a
//     host the caller did not name unless told to), and one from https to
//     http is always refused (package wsman).
//   - ApplicationName: ConnectionOptions.ApplicationName, the URL path
//     segment of the endpoint; it selects the endpoint whose sessions are
//     listed (ComputerName sets only).
//   - Authentication: ConnectionOptions.Authentication: Default, Basic,
//     Negotiate, NegotiateWithImplicitCredential, NTLM, Kerberos,
//     Certificate; Credssp and Digest give an *UnsupportedError. Default is
//     Negotiate with a Credential and no authentication without one (a Go
//     process has no implicit Windows logon; NegotiateWithImplicitCredential
//     uses the Kerberos ticket cache). Negotiate is NTLM unless
//     Credential.Authenticator brings Kerberos (SPNEGO falls back to NTLM
//     the same way on Windows when Kerberos is unavailable).
//   - CertificateThumbprint: Credential.Certificate with AuthCertificate (Go
//     has no certificate store: give the certificate, not a thumbprint).
//   - ComputerName, ConnectionUri, Port, UseSSL: ConnectionOptions.
//   - ConfigurationName: ConnectionOptions.ConfigurationName; for the
//     computer sets it filters the sessions (only sessions of that
//     configuration are received), as the reference says.
//   - Credential: ConnectionOptions.Credential; never logged, never in
//     errors, never in a Token.
//   - Id, InstanceId, Name, Session: the selectors above.
//   - JobName: ReceiveOptions.JobName, see the OutTarget rule.
//   - OutTarget: ReceiveOptions.OutTarget, see the OutTarget rule. The
//     choice is visible in the types: Received has exactly one of Stream
//     (Host) and Job (Job) set, and Received.OutTarget says which.
//   - SessionOption: ConnectionOptions.SessionOption. Its IdleTimeout and
//     OutputBufferingMode are used by New only and ignored by Connect and
//     Receive, as the NOTES say; Disconnect takes new values.
//   - WhatIf: ReceiveOptions.WhatIf returns Received.WhatIf (one Action per
//     session: connect and receive, or receive) and changes nothing.
//   - Confirm: ReceiveOptions.Confirm is called with each Action before the
//     session is touched; false skips that session.
//   - CommonParameters: not applicable; errors are returned (a session that
//     fails does not stop the others: Receive returns what it received with
//     the errors joined, like PowerShell's non-terminating errors), logs go
//     to ConnectionOptions.Logger.
//   - Pipeline input (INPUTS): a slice of sessions in BySession; Ids, names
//     and InstanceIds one selector at a time.
//
// # The OutTarget and JobName rule
//
// OutTargetDefault is Host, except when a command being received was
// started as a job in this client (InvokeAsJob): then it is Job. Host
// returns a Stream; Job returns a Job:
//
//   - a command started here with InvokeAsJob, received in the same client
//     without a JobName, reuses the original job object (Example 6): the job
//     went Disconnected with the session, kept its results, and resumes;
//   - otherwise (another client, or a JobName given) a new job is made,
//     named JobName (or "Job<Id>"); when a JobName moves a command started
//     here to a new job, the original job keeps its results and stops
//     (the reference's JobName text says the name is ignored when the job
//     is reused, its NOTES say a new name makes a new job: this package
//     follows the NOTES);
//   - several commands (several sessions) give a parent job with one child
//     per command, named JobName; a session with nothing running adds no
//     child (a parent with no children is Completed).
//
// Examples:
//
//	j, _ := s.InvokeAsJob(ctx, p, session.JobOptions{})          // Job1
//	s.Disconnect(ctx, session.DisconnectOptions{})              // j: Disconnected
//	rec, _ := session.Receive(ctx, session.BySession(s), session.ReceiveOptions{})
//	// rec.OutTarget == OutTargetJob, rec.Job == j (reused)
//
//	rec, _ = session.Receive(ctx, session.OnComputerByName(conn, "AD"),
//		session.ReceiveOptions{OutTarget: session.OutTargetJob, JobName: "ADJob"})
//	// a new job named ADJob (Example 3, 4)
//
//	rec, _ = session.Receive(ctx, session.OnComputerByName(conn, "ITTask"), session.ReceiveOptions{})
//	// rec.OutTarget == OutTargetHost: read rec.Stream (Example 1)
//
// # Behaviour (DESCRIPTION and NOTES)
//
//   - A disconnected session is connected (same client: WSMan Reconnect;
//     otherwise Connect with CONNECT_RUNSPACEPOOL, then each command the
//     server still runs), suspended commands resume, results come back.
//   - A session connected here returns the results of its commands that no
//     consumer here receives yet (those running when it was disconnected).
//   - A session with nothing running is connected and returns nothing.
//   - Receive works on sessions disconnected by Disconnect, by
//     InvokeInDisconnectedSession, or by the server (a network outage: the
//     server turns a session whose client vanished Disconnected; this
//     client then sees the session Disconnected, its Streams end with
//     ErrDisconnected and its jobs turn Disconnected, and a later Receive or
//     Connect reconnects it). During a network outage the
//     session's long polls retry once a second for four minutes, as
//     PowerShell does (SessionOption.ReconnectInterval, ReconnectTimeout);
//     if the connection does not come back the session counts as
//     Disconnected here, and a later Receive reconnects (Example 4).
//     Below that, the transport retransmits a request lost to a network
//     failure with the same OperationID where the server supports MS-WSMV
//     robust connections (wsman.RetryPolicy, on for ReconnectTimeout), so a
//     lost Receive response loses no output; Hooks.Retry reports
//     NetworkFailureDetected, ConnectionRetryAttempt and
//     ConnectionRetrySucceeded. Output that is lost nevertheless (a server
//     that forgot the response) is never silently missing: the results that
//     arrived are delivered and the command's results end with a
//     *psrp.GapError (errors.Is psrp.ErrObjectIDGap) naming the lost
//     ObjectIds.
//   - Servers before PowerShell 3.0 (PSRP before 2.2) cannot disconnect:
//     Disconnect returns an error matching ErrUnsupported.
//   - Results already delivered to one client are not delivered to
//     another: a Stream ends with ErrDisconnected when its session
//     disconnects and what it had is the caller's; a job keeps what it has.
//     InvokeInDisconnectedSession starts the command and disconnects
//     before receiving anything, so nothing is lost.
//   - OutputBufferingMode Drop discards the oldest output while the buffer
//     is full; Receive cannot recover it. The caller can tell: the final
//     KindState Result of a command that ran disconnected in a Drop session
//     has OutputMayBeDropped set (Session.OutputBufferingMode says the
//     mode); the protocol carries no count of dropped objects.
//   - IdleTimeout is set by New and changed by Disconnect only; it is
//     checked against the server's range (60 s to MaxIdleTimeOut, from the
//     Create response or Get) before it is sent (*IdleTimeoutError).
//     DisconnectedOn and ExpiresOn (DisconnectedOn + IdleTimeout) say when
//     the server will delete a disconnected session.
//   - Jobs started inside the remote session (Invoke-Command { Start-Job })
//     are remote objects: receive them by running Receive-Job in the
//     session with Invoke, as the NOTES say.
//
// # Host calls
//
// A host call (Read-Host, PromptForCredential, ...) that the server
// buffered while no client was connected arrives when a client connects
// and receives; NewOptions.Host (a HostHandler) answers it. Without one,
// the documented default policy answers every call that expects an answer
// at once with a HostException, so a remote command never waits for a host
// that does not exist. Calls that expect no answer are delivered as
// KindHostCall results.
//
// # Reattach tokens
//
// Session.Token returns a small serializable value (endpoint,
// configuration, resource URI, shell id, command ids, protocol version,
// envelope size; never credentials). FromToken makes a Disconnected session
// from it in another process; Connect it or Receive it. Receive by computer
// and name needs no token: the server keeps the session's name.
//
// # Observability
//
// ConnectionOptions.Logger receives debug logs (never credentials);
// NewOptions.Hooks are called on session State/Availability changes and
// command ends; jobs have state-change subscriptions (Job.Subscribe).
// Session.Refresh re-reads the server's view (ShellInactivity, IdleTimeOut,
// State) so a caller can act before the server reaps a session.
//
// # Where the reference is silent
//
//   - Close: an Opened session is removed from the server (PowerShell closes
//     open sessions when it exits); a Disconnected one is left there to be
//     received later. Remove always deletes it.
//   - A host Stream that is closed by its reader (Stream.Close, or breaking
//     out of All) stops receiving: the command keeps running on the server
//     and a later Receive gets the rest.
//   - Get returns the local object for a session this program is
//     connected to, and new Disconnected objects for the others, as
//     Get-PSSession -ComputerName does.
//   - Example 2 of the reference says a session that is not disconnected or
//     runs nothing is not connected; the DESCRIPTION says a session with
//     nothing running is connected and returns nothing. This package
//     follows the DESCRIPTION (the more specific text; not checked against
//     a Windows host), and reports
//     a session connected to another client as an ErrBusy error while the
//     other sessions are still received.
package session
