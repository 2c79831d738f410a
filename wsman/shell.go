package wsman

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// EnvVar is one rsp:Environment/rsp:Variable of a WinRS shell.
type EnvVar struct {
	Name  string // variable name
	Value string // variable value
}

// Shell is an rsp:Shell: the body of a Create request, the shell in a
// CreateResponse, a Get response and an Enumerate item. Fields that are
// zero are not written. Durations are zero when absent.
type Shell struct {
	ShellID     string // upper-case GUID; client-chosen for PowerShell shells
	Name        string // session name (PowerShell's Name of a PSSession)
	ResourceURI string // rsp:ResourceUri
	Owner       string // DOMAIN\user that created the shell
	ClientIP    string // address of the client that created or connected it
	ProcessID   int    // 0 when absent

	IdleTimeOut    time.Duration // how long an idle (or disconnected) shell is kept
	MaxIdleTimeOut time.Duration // the server's upper bound for IdleTimeOut
	InputStreams   string        // "stdin pr" for PowerShell, "stdin" for cmd
	OutputStreams  string        // "stdout" for PowerShell, "stdout stderr" for cmd

	Locale          string        // e.g. "en-US"
	DataLocale      string        // e.g. "en-US"
	CompressionMode string        // e.g. "NoCompression"
	ProfileLoaded   string        // "Yes"/"No"
	Encoding        string        // e.g. "UTF8"
	BufferMode      string        // BufferModeBlock / BufferModeDrop
	State           string        // ShellStateConnected / ShellStateDisconnected
	ShellRunTime    time.Duration // time since the shell was created
	ShellInactivity time.Duration // time since the shell was last used
	MemoryUsed      string        // e.g. "46MB"
	ChildProcesses  int           // processes started by the shell

	// Request-only WinRS fields.
	WorkingDirectory string        // start directory of a cmd shell
	Environment      []EnvVar      // environment variables of a cmd shell
	Lifetime         time.Duration // maximum lifetime of a cmd shell

	// CreationXML is the PSRP payload of a PowerShell Create (the
	// creationXml element in the PowerShell namespace), as raw bytes.
	CreationXML []byte
}

func durationText(d time.Duration, seconds bool) string {
	if seconds && d%time.Second == 0 {
		return FormatDurationSeconds(d)
	}
	return FormatDuration(d)
}

// CreateElement returns the body of a Create request: rsp:Shell with the
// ShellId attribute (when set) and the request-side children in the order
// WinRM clients send them.
func (s *Shell) CreateElement() *Element {
	el := NewElement(NSShell, "Shell")
	if s.ShellID != "" {
		el.SetAttr("", "ShellId", s.ShellID)
	}
	if s.Name != "" {
		el.AddText(NSShell, "Name", s.Name)
	}
	if s.InputStreams != "" {
		el.AddText(NSShell, "InputStreams", s.InputStreams)
	}
	if s.OutputStreams != "" {
		el.AddText(NSShell, "OutputStreams", s.OutputStreams)
	}
	if s.WorkingDirectory != "" {
		el.AddText(NSShell, "WorkingDirectory", s.WorkingDirectory)
	}
	if len(s.Environment) > 0 {
		env := NewElement(NSShell, "Environment")
		for _, v := range s.Environment {
			env.Add(NewElement(NSShell, "Variable").SetAttr("", "Name", v.Name).SetText(v.Value))
		}
		el.Add(env)
	}
	if s.Lifetime > 0 {
		el.AddText(NSShell, "Lifetime", durationText(s.Lifetime, true))
	}
	if s.IdleTimeOut > 0 {
		el.AddText(NSShell, "IdleTimeOut", durationText(s.IdleTimeOut, true))
	}
	if s.CreationXML != nil {
		el.AddText(NSPowerShell, "creationXml", base64.StdEncoding.EncodeToString(s.CreationXML))
	}
	return el
}

// Element returns the response form of the shell (CreateResponse, Get,
// Enumerate item): every set field as a child, in Windows's order.
func (s *Shell) Element() *Element {
	el := NewElement(NSShell, "Shell")
	add := func(local, v string) {
		if v != "" {
			el.AddText(NSShell, local, v)
		}
	}
	dur := func(local string, d time.Duration) {
		if d != 0 {
			add(local, FormatDuration(d))
		}
	}
	add("ShellId", s.ShellID)
	add("Name", s.Name)
	add("ResourceUri", s.ResourceURI)
	add("Owner", s.Owner)
	add("ClientIP", s.ClientIP)
	if s.ProcessID != 0 {
		add("ProcessId", strconv.Itoa(s.ProcessID))
	}
	dur("IdleTimeOut", s.IdleTimeOut)
	add("InputStreams", s.InputStreams)
	add("OutputStreams", s.OutputStreams)
	dur("MaxIdleTimeOut", s.MaxIdleTimeOut)
	add("Locale", s.Locale)
	add("DataLocale", s.DataLocale)
	add("CompressionMode", s.CompressionMode)
	add("ProfileLoaded", s.ProfileLoaded)
	add("Encoding", s.Encoding)
	add("BufferMode", s.BufferMode)
	add("State", s.State)
	if s.State != "" || s.ShellRunTime != 0 {
		add("ShellRunTime", FormatDayTime(s.ShellRunTime))
		add("ShellInactivity", FormatDayTime(s.ShellInactivity))
	}
	add("MemoryUsed", s.MemoryUsed)
	if s.MemoryUsed != "" || s.ChildProcesses != 0 {
		add("ChildProcesses", strconv.Itoa(s.ChildProcesses))
	}
	return el
}

// FormatDayTime formats d as Windows writes ShellRunTime and
// ShellInactivity: P0DT0H0M9S (whole seconds).
func FormatDayTime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	sec := int64(d / time.Second)
	return "P" + strconv.FormatInt(sec/86400, 10) + "DT" + strconv.FormatInt(sec%86400/3600, 10) + "H" +
		strconv.FormatInt(sec%3600/60, 10) + "M" + strconv.FormatInt(sec%60, 10) + "S"
}

// ParseShell reads an rsp:Shell in either form (request with a ShellId
// attribute, or response with child elements).
func ParseShell(el *Element) (*Shell, error) {
	if !el.Is(NSShell, "Shell") {
		return nil, unexpected("rsp:Shell", el)
	}
	s := &Shell{}
	if id, ok := el.Attr("", "ShellId"); ok {
		s.ShellID = strings.TrimSpace(id)
	}
	if n, ok := el.Attr("", "Name"); ok {
		s.Name = n
	}
	var err error
	dur := func(c *Element) time.Duration {
		d, e := ParseDuration(c.TrimmedText())
		if e != nil && err == nil {
			err = &XMLError{Msg: "rsp:" + c.Local, Err: e}
		}
		return d
	}
	num := func(c *Element) int {
		n, e := strconv.Atoi(c.TrimmedText())
		if e != nil && err == nil {
			err = &XMLError{Msg: "rsp:" + c.Local + " is not a number: " + strconv.Quote(truncate(c.TrimmedText(), 32))}
		}
		return n
	}
	for _, c := range el.Children {
		if c.Space == NSPowerShell && c.Local == "creationXml" {
			b, e := decodeBase64(c.Text)
			if e != nil {
				return nil, &XMLError{Msg: "creationXml", Err: e}
			}
			s.CreationXML = b
			continue
		}
		if c.Space != NSShell {
			continue
		}
		v := c.TrimmedText()
		switch c.Local {
		case "ShellId":
			s.ShellID = v
		case "Name":
			s.Name = v
		case "ResourceUri":
			s.ResourceURI = v
		case "Owner":
			s.Owner = v
		case "ClientIP":
			s.ClientIP = v
		case "ProcessId":
			s.ProcessID = num(c)
		case "IdleTimeOut":
			s.IdleTimeOut = dur(c)
		case "MaxIdleTimeOut":
			s.MaxIdleTimeOut = dur(c)
		case "InputStreams":
			s.InputStreams = v
		case "OutputStreams":
			s.OutputStreams = v
		case "Locale":
			s.Locale = v
		case "DataLocale":
			s.DataLocale = v
		case "CompressionMode":
			s.CompressionMode = v
		case "ProfileLoaded":
			s.ProfileLoaded = v
		case "Encoding":
			s.Encoding = v
		case "BufferMode":
			s.BufferMode = v
		case "State":
			s.State = v
		case "ShellRunTime":
			s.ShellRunTime = dur(c)
		case "ShellInactivity":
			s.ShellInactivity = dur(c)
		case "MemoryUsed":
			s.MemoryUsed = v
		case "ChildProcesses":
			s.ChildProcesses = num(c)
		case "WorkingDirectory":
			s.WorkingDirectory = v
		case "Lifetime":
			s.Lifetime = dur(c)
		case "Environment":
			for _, ev := range c.ChildrenNamed(NSShell, "Variable") {
				n, _ := ev.Attr("", "Name")
				s.Environment = append(s.Environment, EnvVar{Name: n, Value: ev.Text})
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// decodeBase64 decodes standard base64, ignoring white space.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, " \t\r\n") {
		s = stripSpace(s)
	}
	return base64.StdEncoding.DecodeString(s)
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

func unexpected(want string, el *Element) error {
	if el == nil {
		return &XMLError{Msg: "expected " + want + ", got an empty body"}
	}
	return &XMLError{Msg: "expected " + want + ", got {" + el.Space + "}" + el.Local}
}

// ResourceCreated is the x:ResourceCreated part of a CreateResponse: the
// endpoint reference of the new shell.
type ResourceCreated struct {
	Address     string     // the endpoint URL (wsa:Address)
	ResourceURI string     // the shell's resource URI
	Selectors   []Selector // the ShellId selector
}

// Element builds x:ResourceCreated.
func (r *ResourceCreated) Element() *Element {
	refp := NewElement(NSAddressing, "ReferenceParameters").
		AddText(NSWSMan, "ResourceURI", r.ResourceURI).
		Add(SelectorSetElement(r.Selectors))
	return NewElement(NSTransfer, "ResourceCreated").
		AddText(NSAddressing, "Address", r.Address).
		Add(refp)
}

// ParseResourceCreated reads x:ResourceCreated.
func ParseResourceCreated(el *Element) (*ResourceCreated, error) {
	if !el.Is(NSTransfer, "ResourceCreated") {
		return nil, unexpected("x:ResourceCreated", el)
	}
	rp := el.Child(NSAddressing, "ReferenceParameters")
	return &ResourceCreated{
		Address:     el.ChildText(NSAddressing, "Address"),
		ResourceURI: rp.ChildText(NSWSMan, "ResourceURI"),
		Selectors:   parseSelectorSet(rp.Child(NSWSMan, "SelectorSet")),
	}, nil
}

// CreateResponse is the parsed body of a CreateResponse.
type CreateResponse struct {
	// ResourceCreated is the endpoint reference of the new shell.
	ResourceCreated *ResourceCreated
	// Shell is nil when the server returned only ResourceCreated (older
	// WinRS servers).
	Shell *Shell
}

// ShellID returns the created shell's id: from the shell, else from the
// ShellId selector of ResourceCreated.
func (r *CreateResponse) ShellID() string {
	if r.Shell != nil && r.Shell.ShellID != "" {
		return r.Shell.ShellID
	}
	if r.ResourceCreated != nil {
		for _, s := range r.ResourceCreated.Selectors {
			if strings.EqualFold(s.Name, SelectorShellID) {
				return s.Value
			}
		}
	}
	return ""
}

// Elements returns the CreateResponse body elements.
func (r *CreateResponse) Elements() []*Element {
	var out []*Element
	if r.ResourceCreated != nil {
		out = append(out, r.ResourceCreated.Element())
	}
	if r.Shell != nil {
		out = append(out, r.Shell.Element())
	}
	return out
}

// ParseCreateResponse reads the body of a CreateResponse.
func ParseCreateResponse(body []*Element) (*CreateResponse, error) {
	r := &CreateResponse{}
	for _, el := range body {
		switch {
		case el.Is(NSTransfer, "ResourceCreated"):
			rc, err := ParseResourceCreated(el)
			if err != nil {
				return nil, err
			}
			r.ResourceCreated = rc
		case el.Is(NSShell, "Shell"):
			s, err := ParseShell(el)
			if err != nil {
				return nil, err
			}
			r.Shell = s
		}
	}
	if r.ResourceCreated == nil && r.Shell == nil {
		if len(body) == 0 {
			return nil, unexpected("x:ResourceCreated", nil)
		}
		return nil, unexpected("x:ResourceCreated", body[0])
	}
	if r.ShellID() == "" {
		return nil, &XMLError{Msg: "CreateResponse has no ShellId"}
	}
	return r, nil
}
