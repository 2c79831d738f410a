package wsmantest

import "testing"

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "Get-Date", true},
		{"get-*", "Get-Date", true},
		{"GET-D?TE", "get-date", true},
		{"new-pssession*", "New-PSSession", true},
		{"new-pssession*", "New-PSSessionOption", true},
		{"new-pssession*", "New-PSSessio", false},
		{"*-Object", "ForEach-Object", true},
		{"*-Object", "ForEach-Objects", false},
		{"Write-[ew]*", "Write-Error", true},
		{"Write-[ew]*", "Write-Warning", true},
		{"Write-[ew]*", "Write-Output", false},
		{"Write-[a-f]*", "Write-Debug", true},
		{"Write-[a-f]*", "Write-Verbose", false},
		{"Write-[ab", "Write-a", false},
		{"a`*", "a*", true},
		{"a`*", "ab", false},
		{"%", "%", true},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b", "xxaxxbxx", false},
		{"", "", true},
		{"", "x", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
