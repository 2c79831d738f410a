package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/psremoting/psremoting/session"
)

// storeEnv overrides the directory of the token store (tests, several
// profiles); the default is psrecv under the user's config directory.
const storeEnv = "PSRECV_STATE_DIR"

// storeFile is the token store's file name.
const storeFile = "sessions.json"

// entry is one session psrecv disconnected (or received into a job) and
// may reattach to: its reattach token (endpoint, shell and command ids;
// never credentials) and, for a job, the job's description and the
// results kept by "job receive -keep".
type entry struct {
	Name       string    `json:"name,omitempty"`
	InstanceID string    `json:"instanceId"`
	Computer   string    `json:"computer"`
	Token      string    `json:"token"`
	Saved      time.Time `json:"saved"`
	Job        *jobEntry `json:"job,omitempty"`
}

// jobEntry is a job kept through a reattach token.
type jobEntry struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Command string `json:"command,omitempty"`
	// State is the last state psrecv saw (Disconnected, Completed, ...).
	State string `json:"state"`
	// Kept are results received with -keep (or by "job wait"), returned
	// again by the next "job receive".
	Kept []record `json:"kept,omitempty"`
	// Finished says the command has ended and its session is gone: only
	// Kept remains.
	Finished bool `json:"finished,omitempty"`
}

// store is the token store: a JSON file, mode 0600 in a 0700 directory,
// rewritten whole through a temporary file and a rename. Two psrecv
// processes that change it at the same moment may lose one change (there
// is no lock); the server-side state is not affected.
type store struct {
	path    string
	Entries []*entry `json:"entries"`
}

// storeDir returns the store's directory.
func storeDir(getenv func(string) string) (string, error) {
	if d := getenv(storeEnv); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the token store (set $%s): %w", storeEnv, err)
	}
	return filepath.Join(d, "psrecv"), nil
}

// openStore reads the store (an absent file is an empty store).
func openStore(getenv func(string) string) (*store, error) {
	dir, err := storeDir(getenv)
	if err != nil {
		return nil, err
	}
	s := &store{path: filepath.Join(dir, storeFile)}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("token store: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("token store %s: %w", s.path, err)
	}
	return s, nil
}

// save writes the store.
func (s *store) save() error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, storeFile+".*")
	if err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("token store: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("token store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	return nil
}

// put records (or replaces, by InstanceId) the token of s.
func (st *store) put(s *session.Session, job *jobEntry) *entry {
	e := &entry{
		Name:       s.Name(),
		InstanceID: strings.ToUpper(s.InstanceID().String()),
		Computer:   s.ComputerName(),
		Token:      s.Token().String(),
		Saved:      time.Now().UTC(),
		Job:        job,
	}
	if old := st.byInstanceID(e.InstanceID); old != nil {
		if job == nil {
			e.Job = old.Job
		}
		*old = *e
		return old
	}
	st.Entries = append(st.Entries, e)
	return e
}

// drop forgets the entry of InstanceId id.
func (st *store) drop(id string) {
	out := st.Entries[:0]
	for _, e := range st.Entries {
		if !strings.EqualFold(e.InstanceID, id) {
			out = append(out, e)
		}
	}
	st.Entries = out
}

func (st *store) byInstanceID(id string) *entry {
	for _, e := range st.Entries {
		if strings.EqualFold(e.InstanceID, id) {
			return e
		}
	}
	return nil
}

// find returns the entries whose session name is name (case-insensitive)
// or whose InstanceId is id.
func (st *store) find(name, id string) []*entry {
	var out []*entry
	for _, e := range st.Entries {
		if (name != "" && strings.EqualFold(e.Name, name)) || (id != "" && strings.EqualFold(e.InstanceID, id)) {
			out = append(out, e)
		}
	}
	return out
}

// jobs returns the entries that hold jobs, by job Id.
func (st *store) jobs() []*entry {
	var out []*entry
	for _, e := range st.Entries {
		if e.Job != nil {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Job.ID < out[j].Job.ID })
	return out
}

// nextJobID is the next job Id (Ids increase across psrecv runs, as
// PowerShell's do within a session).
func (st *store) nextJobID() int {
	id := 0
	for _, e := range st.Entries {
		if e.Job != nil && e.Job.ID > id {
			id = e.Job.ID
		}
	}
	return id + 1
}

// findJob returns the job entry with this name (case-insensitive) or Id.
func (st *store) findJob(name string, id int) (*entry, error) {
	for _, e := range st.jobs() {
		if (name != "" && strings.EqualFold(e.Job.Name, name)) || (id > 0 && e.Job.ID == id) {
			return e, nil
		}
	}
	if name != "" {
		return nil, fmt.Errorf("no job named %q in the token store: %w", name, errNotFound)
	}
	return nil, fmt.Errorf("no job with Id %d in the token store: %w", id, errNotFound)
}

// session makes a Disconnected session from the entry's token (nothing is
// sent), with the credentials and options of conn.
func (e *entry) session(conn session.ConnectionOptions, table *session.Table) (*session.Session, error) {
	tok, err := session.ParseToken(e.Token)
	if err != nil {
		return nil, fmt.Errorf("token store: session %s: %w", e.InstanceID, err)
	}
	return session.FromToken(tok, session.NewOptions{ConnectionOptions: conn, Table: table})
}

// forgetExpired drops the entries of the sessions err says the server no
// longer has (their idle timeout expired, or another client removed them)
// and saves the store if it changed.
func (st *store) forgetExpired(err error) error {
	changed := false
	var walk func(error)
	walk = func(err error) {
		if se, ok := err.(*session.SessionError); ok {
			if errors.Is(se.Kind, session.ErrExpired) && st.byInstanceID(se.InstanceID) != nil {
				st.drop(se.InstanceID)
				changed = true
			}
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		} else if u := errors.Unwrap(err); u != nil {
			walk(u)
		}
	}
	walk(err)
	if changed {
		return st.save()
	}
	return nil
}
