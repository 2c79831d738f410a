package wsman

import (
	"strconv"
	"strings"
)

// DefaultMaxElements is the MaxElements WinRM clients send with Enumerate
// and Pull.
const DefaultMaxElements = 32000

// Enumerate is the body of a WS-Enumeration Enumerate request.
type Enumerate struct {
	// Optimize sends wsman:OptimizeEnumeration, so the first items come in
	// the EnumerateResponse itself.
	Optimize    bool
	MaxElements int // 0: not sent
	// FilterSelectors, when set, adds a wsman:Filter with the SelectorFilter
	// dialect (used to list the commands of one shell).
	FilterSelectors []Selector
}

// Element builds wsen:Enumerate.
func (e *Enumerate) Element() *Element {
	el := NewElement(NSEnumeration, "Enumerate")
	if e.Optimize {
		el.Add(NewElement(NSWSMan, "OptimizeEnumeration"))
	}
	if e.MaxElements > 0 {
		el.AddText(NSWSMan, "MaxElements", strconv.Itoa(e.MaxElements))
	}
	if len(e.FilterSelectors) > 0 {
		el.Add(NewElement(NSWSMan, "Filter").SetAttr("", "Dialect", DialectSelectorFilter).
			Add(SelectorSetElement(e.FilterSelectors)))
	}
	return el
}

// ParseEnumerate reads wsen:Enumerate.
func ParseEnumerate(el *Element) (*Enumerate, error) {
	if !el.Is(NSEnumeration, "Enumerate") {
		return nil, unexpected("wsen:Enumerate", el)
	}
	e := &Enumerate{Optimize: el.Child(NSWSMan, "OptimizeEnumeration") != nil}
	if m := el.Child(NSWSMan, "MaxElements"); m != nil {
		n, err := strconv.Atoi(m.TrimmedText())
		if err != nil || n < 0 {
			return nil, &XMLError{Msg: "invalid MaxElements " + strconv.Quote(truncate(m.TrimmedText(), 32))}
		}
		e.MaxElements = n
	}
	if f := el.Child(NSWSMan, "Filter"); f != nil {
		e.FilterSelectors = parseSelectorSet(f.Child(NSWSMan, "SelectorSet"))
	}
	return e, nil
}

// Pull is the body of a WS-Enumeration Pull request.
type Pull struct {
	Context     string // the EnumerationContext of the previous response
	MaxElements int    // the most items wanted in this response
}

// Element builds wsen:Pull.
func (p *Pull) Element() *Element {
	el := NewElement(NSEnumeration, "Pull").AddText(NSEnumeration, "EnumerationContext", p.Context)
	if p.MaxElements > 0 {
		el.AddText(NSEnumeration, "MaxElements", strconv.Itoa(p.MaxElements))
	}
	return el
}

// ParsePull reads wsen:Pull.
func ParsePull(el *Element) (*Pull, error) {
	if !el.Is(NSEnumeration, "Pull") {
		return nil, unexpected("wsen:Pull", el)
	}
	p := &Pull{Context: el.ChildText(NSEnumeration, "EnumerationContext")}
	if m := el.Child(NSEnumeration, "MaxElements"); m != nil {
		n, err := strconv.Atoi(m.TrimmedText())
		if err != nil || n < 0 {
			return nil, &XMLError{Msg: "invalid MaxElements " + strconv.Quote(truncate(m.TrimmedText(), 32))}
		}
		p.MaxElements = n
	}
	return p, nil
}

// EnumerationResult is an EnumerateResponse or a PullResponse.
type EnumerationResult struct {
	// Context is the EnumerationContext to Pull with; empty (or ignored)
	// when EndOfSequence is set.
	Context       string
	Items         []*Element // the items of this response (rsp:Shell, rsp:Command, …)
	EndOfSequence bool       // whether the enumeration is complete
}

// EnumerateResponseElement builds n:EnumerateResponse in the optimized form
// Windows uses (w:Items, w:EndOfSequence). With no items it leaves w:Items
// out, as Windows does for a shell without commands
// (test_psrp_disconnect_runspaces, exchanges 12 and 13).
func (r *EnumerationResult) EnumerateResponseElement() *Element {
	el := NewElement(NSEnumeration, "EnumerateResponse").AddText(NSEnumeration, "EnumerationContext", r.Context)
	if len(r.Items) > 0 {
		el.Add(NewElement(NSWSMan, "Items").Add(r.Items...))
	}
	if r.EndOfSequence {
		el.Add(NewElement(NSWSMan, "EndOfSequence"))
	}
	return el
}

// PullResponseElement builds n:PullResponse (n:Items, n:EndOfSequence).
func (r *EnumerationResult) PullResponseElement() *Element {
	el := NewElement(NSEnumeration, "PullResponse")
	if !r.EndOfSequence && r.Context != "" {
		el.AddText(NSEnumeration, "EnumerationContext", r.Context)
	}
	el.Add(NewElement(NSEnumeration, "Items").Add(r.Items...))
	if r.EndOfSequence {
		el.Add(NewElement(NSEnumeration, "EndOfSequence"))
	}
	return el
}

// ParseEnumerationResult reads n:EnumerateResponse or n:PullResponse; Items
// and EndOfSequence are accepted in either the wsman or the enumeration
// namespace. An absent Items (what Windows sends for an empty enumeration)
// and an empty one both mean no items.
func ParseEnumerationResult(el *Element) (*EnumerationResult, error) {
	if !el.Is(NSEnumeration, "EnumerateResponse") && !el.Is(NSEnumeration, "PullResponse") {
		return nil, unexpected("n:EnumerateResponse or n:PullResponse", el)
	}
	r := &EnumerationResult{Context: el.ChildText(NSEnumeration, "EnumerationContext")}
	for _, ns := range []string{NSWSMan, NSEnumeration} {
		for _, items := range el.ChildrenNamed(ns, "Items") {
			r.Items = append(r.Items, items.Children...)
		}
		if el.Child(ns, "EndOfSequence") != nil {
			r.EndOfSequence = true
		}
	}
	return r, nil
}

// CommandInfo is an rsp:Command item of a command enumeration.
type CommandInfo struct {
	CommandID    string // upper-case GUID
	CommandLine  string // the command text Windows reports
	CommandState string // "Running", "Done", … as Windows reports it
}

// Element builds rsp:Command.
func (c *CommandInfo) Element() *Element {
	return NewElement(NSShell, "Command").
		AddText(NSShell, "CommandId", c.CommandID).
		AddText(NSShell, "CommandLine", c.CommandLine).
		AddText(NSShell, "CommandState", c.CommandState)
}

// ParseCommandInfo reads rsp:Command.
func ParseCommandInfo(el *Element) (*CommandInfo, error) {
	if !el.Is(NSShell, "Command") {
		return nil, unexpected("rsp:Command", el)
	}
	return &CommandInfo{
		CommandID:    el.ChildText(NSShell, "CommandId"),
		CommandLine:  el.ChildText(NSShell, "CommandLine"),
		CommandState: el.ChildText(NSShell, "CommandState"),
	}, nil
}

// ServiceConfig is the part of WinRM's configuration (resource
// http://schemas.microsoft.com/wbem/wsman/1/config) this package reads.
type ServiceConfig struct {
	MaxEnvelopeSizeKB int   // cfg:MaxEnvelopeSizekb
	MaxTimeoutMS      int64 // cfg:MaxTimeoutms
	MaxBatchItems     int   // cfg:MaxBatchItems
}

// ParseConfig reads cfg:Config.
func ParseConfig(el *Element) (*ServiceConfig, error) {
	if !el.Is(NSConfig, "Config") {
		return nil, unexpected("cfg:Config", el)
	}
	c := &ServiceConfig{}
	if v := el.ChildText(NSConfig, "MaxEnvelopeSizekb"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, &XMLError{Msg: "invalid MaxEnvelopeSizekb " + strconv.Quote(truncate(v, 32))}
		}
		c.MaxEnvelopeSizeKB = n
	}
	if v := el.ChildText(NSConfig, "MaxTimeoutms"); v != "" {
		c.MaxTimeoutMS, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := el.ChildText(NSConfig, "MaxBatchItems"); v != "" {
		c.MaxBatchItems, _ = strconv.Atoi(v)
	}
	return c, nil
}

// Element builds a minimal cfg:Config with the fields of c.
func (c *ServiceConfig) Element() *Element {
	el := NewElement(NSConfig, "Config")
	if c.MaxEnvelopeSizeKB > 0 {
		el.AddText(NSConfig, "MaxEnvelopeSizekb", strconv.Itoa(c.MaxEnvelopeSizeKB))
	}
	if c.MaxTimeoutMS > 0 {
		el.AddText(NSConfig, "MaxTimeoutms", strconv.FormatInt(c.MaxTimeoutMS, 10))
	}
	if c.MaxBatchItems > 0 {
		el.AddText(NSConfig, "MaxBatchItems", strconv.Itoa(c.MaxBatchItems))
	}
	return el
}

// isPowerShellURI reports whether a resource URI is a PowerShell
// configuration.
func isPowerShellURI(uri string) bool {
	return strings.HasPrefix(strings.ToLower(uri), strings.ToLower(PowerShellResourcePrefix))
}
