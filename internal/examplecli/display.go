package examplecli

import (
	"strings"

	"fmt"

	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
)

// displayBudget bounds the tree a displayed value may expand to (see
// clixml.Expansion): about one screenful of text.
const displayBudget = 64 << 10

// Display renders an output value as PowerShell's default view does for
// simple values. The value comes from the server: shared references can
// make a tree walk of it exponential, so a value beyond displayBudget is
// shown in its JSON form, whose size is linear in the value's.
func Display(v clixml.Value) string {
	if o, ok := v.(*clixml.Object); ok && o.HasToString {
		return o.ToString
	}
	if g, err := (clixml.ConvertOptions{MaxExpansion: displayBudget}).ToGo(v); err == nil {
		return fmt.Sprint(g)
	}
	js, err := clixml.JSON(v)
	if err != nil {
		return fmt.Sprintf("(cannot display: %v)", err)
	}
	return string(js)
}

// Computer is the -ComputerName or -ConnectionUri parameter, with its
// value, that a step shows.
func Computer(c session.ConnectionOptions) string {
	if c.ComputerName != "" {
		return "-ComputerName " + c.ComputerName
	}
	return "-ConnectionUri " + c.ConnectionURI
}

// Computers is the -ComputerName or -ConnectionUri parameter naming every
// target, as Get-PSSession takes a list.
func Computers(targets []session.ConnectionOptions) string {
	param, names := "-ComputerName ", make([]string, 0, len(targets))
	for _, t := range targets {
		if t.ComputerName != "" {
			names = append(names, t.ComputerName)
		} else {
			param = "-ConnectionUri "
			names = append(names, t.ConnectionURI)
		}
	}
	return param + strings.Join(names, ", ")
}
