package examplecli

import (
	"fmt"
	"io"
	"strings"

	"github.com/psremoting/psremoting/session"
)

// Column is one column of a table.
type Column struct {
	Header string
	// Right aligns the column to the right, as PowerShell does for
	// numbers and some enumerations.
	Right bool
}

// Table prints rows as PowerShell's Format-Table does: a blank line, the
// headers, a dashed line as wide as each header, the rows, a blank line;
// each column as wide as its widest cell, one space apart.
func Table(w io.Writer, cols []Column, rows [][]string) {
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = len(c.Header)
		for _, r := range rows {
			width[i] = max(width[i], len(r[i]))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, cell := range cells {
			if i > 0 {
				b.WriteByte(' ')
			}
			pad := strings.Repeat(" ", width[i]-len(cell))
			if cols[i].Right {
				b.WriteString(pad + cell)
			} else if i < len(cells)-1 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	headers, dashes := make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		headers[i], dashes[i] = c.Header, strings.Repeat("-", len(c.Header))
		if c.Right { // PowerShell right-aligns the dashes with the header
			dashes[i] = strings.Repeat(" ", width[i]-len(c.Header)) + dashes[i]
			headers[i] = strings.Repeat(" ", width[i]-len(c.Header)) + c.Header
		}
	}
	fmt.Fprintln(w)
	line(headers)
	line(dashes)
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintln(w)
}

// SessionTable prints sessions in the columns of PowerShell's PSSession
// view: Id, Name, ComputerName, State, ConfigurationName, Availability.
func SessionTable(w io.Writer, sessions ...*session.Session) {
	rows := make([][]string, 0, len(sessions))
	for _, s := range sessions {
		rows = append(rows, []string{fmt.Sprint(s.Id()), s.Name(), s.ComputerName(), s.State().String(),
			s.ConfigurationName(), s.Availability().String()})
	}
	Table(w, []Column{{Header: "Id", Right: true}, {Header: "Name"}, {Header: "ComputerName"}, {Header: "State"},
		{Header: "ConfigurationName"}, {Header: "Availability", Right: true}}, rows)
}

// JobTable prints jobs in the columns of PowerShell's job view: Id, Name,
// State, HasMoreData, Location.
func JobTable(w io.Writer, jobs ...*session.Job) {
	rows := make([][]string, 0, len(jobs))
	for _, j := range jobs {
		rows = append(rows, []string{fmt.Sprint(j.ID()), j.Name(), j.State().String(),
			map[bool]string{true: "True", false: "False"}[j.HasMoreData()], j.Location()})
	}
	Table(w, []Column{{Header: "Id", Right: true}, {Header: "Name"}, {Header: "State"}, {Header: "HasMoreData"},
		{Header: "Location"}}, rows)
}
