package wsmantest

import (
	"sort"
	"strings"

	"github.com/psremoting/psremoting/internal/wildcard"
	"github.com/psremoting/psremoting/psrp"
)

// GET_COMMAND_METADATA (MS-PSRP 3.1.4.11): Windows runs Get-Command with
// the request's Name, CommandType and Namespace (module) filters and
// answers on the pipeline's output with a CommandMetadataCount and then
// one CommandMetadata per command (test_psrp_get_command_metadata.yml).
// The fake answers the same way for what it knows of:
//
//   - the cmdlets of the built-in subset (unless DisableBuiltins), with
//     their parameters and the common parameters, in their PowerShell
//     modules;
//   - the built-in aliases, resolving to their cmdlet;
//   - the commands registered by name (Handle, HandleFunc), as functions
//     without a module and with no parameters (a handler declares none).
//
// Scripts registered with HandleScript or HandlePattern are not commands
// and are not listed. No HelpUri or OutputType is known: they are sent
// empty. The ArgumentList of the request only matters for dynamic
// parameters, which the fake has none of.

// commonParamAliases are the aliases of the common parameters, as Windows
// PowerShell 5.1 reports them (test_psrp_get_command_metadata.yml).
var commonParamAliases = map[string]string{
	"Verbose": "vb", "Debug": "db", "ErrorAction": "ea", "WarningAction": "wa", "InformationAction": "infa",
	"ErrorVariable": "ev", "WarningVariable": "wv", "InformationVariable": "iv", "OutVariable": "ov",
	"OutBuffer": "ob", "PipelineVariable": "pv",
}

// coreCmdlets are the built-in cmdlets of module Microsoft.PowerShell.Core;
// the others are in Microsoft.PowerShell.Utility.
var coreCmdlets = map[string]bool{"foreach-object": true, "where-object": true, "out-null": true,
	"out-default": true, "out-host": true}

func cmdletModule(name string) string {
	if coreCmdlets[strings.ToLower(name)] {
		return "Microsoft.PowerShell.Core"
	}
	return "Microsoft.PowerShell.Utility"
}

func paramMetadata(p paramDef, aliases map[string]string) psrp.ParameterMetadata {
	m := psrp.ParameterMetadata{Name: p.name, ParameterType: p.typeName, Aliases: []string{}}
	if p.kind == pkSwitch {
		m.ParameterType = "System.Management.Automation.SwitchParameter"
		m.SwitchParameter = true
	} else if m.ParameterType == "" {
		m.ParameterType = "System.Object"
	}
	if a, ok := aliases[p.name]; ok {
		m.Aliases = []string{a}
	}
	return m
}

func cmdletMetadata(d *cmdletDef) *psrp.CommandMetadata {
	m := &psrp.CommandMetadata{Name: d.name, Namespace: cmdletModule(d.name), CommandType: psrp.CommandTypeCmdlet,
		OutputType: []string{}}
	for _, p := range d.params {
		m.Parameters = append(m.Parameters, paramMetadata(p, nil))
	}
	for _, p := range commonParams {
		m.Parameters = append(m.Parameters, paramMetadata(p, commonParamAliases))
	}
	return m
}

// knownCommands lists every command the server can describe, in the order
// Get-Command lists them: by command type (aliases, functions, cmdlets),
// then by name.
func (s *Server) knownCommands() []*psrp.CommandMetadata {
	var out []*psrp.CommandMetadata
	for _, n := range s.mux.names() {
		out = append(out, &psrp.CommandMetadata{Name: n, CommandType: psrp.CommandTypeFunction, OutputType: []string{}})
	}
	if !s.opts.DisableBuiltins {
		for alias, target := range builtinAliases {
			d := lookupCmdlet(target)
			if d == nil {
				continue
			}
			m := cmdletMetadata(d)
			m.Name, m.Namespace, m.CommandType, m.ResolvedCommandName = alias, "", psrp.CommandTypeAlias, d.name
			out = append(out, m)
		}
		for _, d := range builtinCmdlets {
			out = append(out, cmdletMetadata(d))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].CommandType != out[j].CommandType {
			return out[i].CommandType < out[j].CommandType
		}
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// commandMetadata returns the commands matching a GET_COMMAND_METADATA
// request: a Name pattern (none means "*"), a CommandType flag (0, which
// no recorded client sends, is taken as all) and, when Namespace is given, a Namespace pattern. Patterns are
// PowerShell wildcards, compared case-insensitively.
func (s *Server) commandMetadata(req *psrp.GetCommandMetadata) []*psrp.CommandMetadata {
	names := req.Name
	if len(names) == 0 {
		names = []string{"*"}
	}
	types := psrp.CommandType(req.CommandType)
	if types == 0 {
		types = psrp.CommandTypeAll
	}
	var out []*psrp.CommandMetadata
	for _, c := range s.knownCommands() {
		if c.CommandType&types == 0 || !matchAny(names, c.Name) {
			continue
		}
		if req.Namespace != nil && !matchAny(req.Namespace, c.Namespace) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches the PowerShell wildcard pattern
// (MS-PSRP 2.2.3.20), case-insensitively. A malformed pattern matches
// nothing.
func wildcardMatch(pattern, s string) bool {
	ok, err := wildcard.Match(pattern, s)
	return err == nil && ok
}
