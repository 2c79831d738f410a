package session

import (
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/internal/wildcard"
)

// Table is a local session table: what PowerShell keeps per process for
// Get-PSSession without -ComputerName and for the -Id, -Name, -InstanceId
// and -Session parameters. It holds the sessions this program created,
// connected or got; a closed or removed session leaves it. A Table is safe
// for concurrent use; the zero value is empty and ready.
type Table struct {
	mu   sync.Mutex
	byID map[int]*Session
}

// DefaultTable is the table sessions go to when their options name none.
var DefaultTable = &Table{}

func (t *Table) add(s *Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = map[int]*Session{}
	}
	t.byID[s.id] = s
}

func (t *Table) remove(s *Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[s.id] == s {
		delete(t.byID, s.id)
	}
}

// List returns the table's sessions, by Id.
func (t *Table) List() []*Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Session, 0, len(t.byID))
	for _, s := range t.byID {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// ByID returns the session with the given local Id.
func (t *Table) ByID(id int) (*Session, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	return s, ok
}

// ByInstanceID returns the sessions with the given InstanceId (several
// when the same remote session was got more than once).
func (t *Table) ByInstanceID(id uuid.UUID) []*Session {
	var out []*Session
	for _, s := range t.List() {
		if s.instanceID == id {
			out = append(out, s)
		}
	}
	return out
}

// ByName returns the sessions whose Name matches pattern (PowerShell
// wildcards, case-insensitive).
func (t *Table) ByName(pattern string) ([]*Session, error) {
	m, err := wildcard.Compile(pattern)
	if err != nil {
		return nil, &OptionError{Field: "Name", Msg: err.Error()}
	}
	var out []*Session
	for _, s := range t.List() {
		if m.Match(s.Name()) {
			out = append(out, s)
		}
	}
	return out, nil
}
