package examplecli

// UsageCase is a command line every example must treat the same way, for
// the examples' process tests: the exit status and a part of stderr.
type UsageCase struct {
	Args   []string
	Code   int
	Stderr string
}

// UsageCases are the command lines that check the flag convention and the
// common flags of an example whose usage mentions usageWord.
func UsageCases(usageWord string) []UsageCase {
	return []UsageCase{
		{[]string{"-h"}, 0, usageWord},
		{[]string{"-help"}, 0, "-insecure-skip-verify"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-user", "u"}, 2, "-user needs -computer or -uri"},
		{[]string{"-computer", "server01"}, 2, "-computer needs -user"},
		{[]string{"-computer", "a", "-uri", "http://a:5985/wsman", "-user", "u"}, 2, "not both"},
		{[]string{"-uri", "ftp://a/wsman", "-user", "u"}, 2, "is not an http or https URL"},
		{[]string{"-uri", "http://a:5985/wsman", "-port", "1", "-user", "u"}, 2, "put them in the -uri"},
		{[]string{"-computer", "a", "-port", "70000", "-user", "u"}, 2, "out of range"},
		{[]string{"-computer", "a", "-user", "u", "-auth", "digest"}, 2, "unsupported -auth"},
		// No $PSREMOTING_PASSWORD and no terminal to prompt on.
		{[]string{"-computer", "a", "-user", "u"}, 2, "PSREMOTING_PASSWORD"},
	}
}
