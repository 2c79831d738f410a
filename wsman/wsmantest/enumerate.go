package wsmantest

import (
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/psremoting/psremoting/wsman"
)

// enumeration is an open WS-Enumeration context: the items not yet pulled.
type enumeration struct {
	user  string
	items []*wsman.Element
}

// maxOpenEnumerations bounds the open enumeration contexts (oldest are
// forgotten first).
const maxOpenEnumerations = 256

func (s *Server) enumerate(req *request) *response {
	en, err := wsman.ParseEnumerate(req.env.BodyElement())
	if err != nil {
		return faulted(FaultSchemaValidation("The Enumerate request is not valid."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	var items []*wsman.Element
	switch {
	case strings.EqualFold(req.hdr.ResourceURI, wsman.ResourceShell):
		for _, sh := range s.sortedShellsLocked() {
			if strings.EqualFold(sh.owner, req.user) {
				items = append(items, s.shellElementLocked(sh, viewGet))
			}
		}
	case strings.EqualFold(req.hdr.ResourceURI, wsman.ResourceCommand):
		var shellID string
		for _, sel := range en.FilterSelectors {
			if strings.EqualFold(sel.Name, wsman.SelectorShellID) {
				shellID = strings.ToUpper(strings.TrimSpace(sel.Value))
			}
		}
		sh := s.shells[shellID]
		if sh == nil {
			return faulted(FaultShellNotFound())
		}
		if !strings.EqualFold(sh.owner, req.user) {
			return faulted(FaultAccessDenied())
		}
		for _, c := range sh.commands {
			state := "Running"
			if c.finished && c.out.empty() && (c.ps == nil || psDrained(c)) {
				state = "Done"
			}
			items = append(items, (&wsman.CommandInfo{CommandID: c.id, CommandLine: c.commandLine, CommandState: state}).Element())
		}
	default:
		return faulted(FaultUnknownResource(req.hdr.ResourceURI))
	}
	max := en.MaxElements
	if max <= 0 {
		max = 1
	}
	if !en.Optimize {
		// Plain WS-Enumeration: every item comes through Pull.
		ctx := s.storeEnumerationLocked(req.user, items)
		return &response{body: []*wsman.Element{
			wsman.NewElement(wsman.NSEnumeration, "EnumerateResponse").AddText(wsman.NSEnumeration, "EnumerationContext", ctx)}}
	}
	res := &wsman.EnumerationResult{}
	if len(items) > max {
		res.Items = items[:max]
		res.Context = s.storeEnumerationLocked(req.user, items[max:])
	} else {
		res.Items = items
		res.EndOfSequence = true
	}
	return reply(res.EnumerateResponseElement())
}

func (s *Server) storeEnumerationLocked(user string, items []*wsman.Element) string {
	if len(s.enums) >= maxOpenEnumerations {
		for k := range s.enums {
			delete(s.enums, k)
			break
		}
	}
	id := "uuid:" + strings.ToUpper(uuid.NewString())
	s.enums[id] = &enumeration{user: user, items: items}
	return id
}

func (s *Server) pull(req *request) *response {
	p, err := wsman.ParsePull(req.env.BodyElement())
	if err != nil {
		return faulted(FaultSchemaValidation("The Pull request is not valid."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	en := s.enums[p.Context]
	if en == nil || !strings.EqualFold(en.user, req.user) {
		return faulted(FaultInvalidEnumerationContext())
	}
	max := p.MaxElements
	if max <= 0 {
		max = 1
	}
	res := &wsman.EnumerationResult{Context: p.Context}
	if len(en.items) > max {
		res.Items = en.items[:max]
		en.items = en.items[max:]
	} else {
		res.Items = en.items
		res.EndOfSequence = true
		delete(s.enums, p.Context)
	}
	return reply(res.PullResponseElement())
}

func (s *Server) release(req *request) *response {
	ctx := req.env.BodyElement().ChildText(wsman.NSEnumeration, "EnumerationContext")
	s.mu.Lock()
	delete(s.enums, ctx)
	s.mu.Unlock()
	return reply()
}

// sortedShellsLocked returns the shells in creation order.
func (s *Server) sortedShellsLocked() []*shell {
	out := make([]*shell, 0, len(s.shells))
	for _, sh := range s.shells {
		out = append(out, sh)
	}
	// Creation order: by time, and by sequence for shells created at the
	// same instant (a manual clock), so that the order never depends on
	// map iteration.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].seq < out[j].seq
	})
	return out
}
