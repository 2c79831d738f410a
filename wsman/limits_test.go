package wsman

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Start tags are bounded before encoding/xml materialises their
// attributes: per element, per tag length and per document.
func TestParserTagLimits(t *testing.T) {
	attrs := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, ` a%d="v"`, i)
		}
		return b.String()
	}
	manyTags := func(tags, per int) string {
		return strings.Repeat("<x"+attrs(per)+"/>", tags)
	}
	lim := Limits{MaxAttributes: 8, MaxTagBytes: 256, MaxElements: 100}
	for _, tc := range []struct {
		name string
		doc  string
		ok   bool
	}{
		{"at the limits", `<r` + attrs(8) + `>` + manyTags(10, 8) + `</r>`, true},
		{"too many attributes", `<r` + attrs(9) + `/>`, false},
		{"namespace declarations count", `<r xmlns:a="u" xmlns:b="u" xmlns:c="u" xmlns:d="u" xmlns:e="u" xmlns:f="u" xmlns:g="u" xmlns:h="u" xmlns:i="u"/>`, false},
		{"long attribute value", `<r a="` + strings.Repeat("v", 300) + `"/>`, false},
		{"too many attributes in the document", `<r>` + manyTags(20, 8) + `</r>`, false},
		{"> and = inside attribute values", `<r a="x>y=z" b='p>q=r'/>`, true},
		{"comments, CDATA and PIs are not tags", `<?xml version="1.0"?><r><!-- a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 --><![CDATA[a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9]]>` + strings.Repeat("=", 1000) + `</r>`, true},
		{"long text is not a tag", `<r>` + strings.Repeat("QUFB", 10000) + `</r>`, true},
		{"unterminated tag is left to the decoder", `<r a="1`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseElement([]byte(tc.doc), lim)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var xe *XMLError
			require.ErrorAs(t, err, &xe)
			if !strings.HasPrefix(tc.name, "unterminated") {
				assert.ErrorIs(t, err, ErrLimit)
			}
		})
	}
	// The defaults accept every recorded Windows message (see
	// TestRecordingsParse) and refuse an attribute flood.
	_, err := ParseElement([]byte(`<r`+attrs(DefaultMaxAttributes+1)+`/>`), Limits{})
	assert.ErrorIs(t, err, ErrLimit)
	_, err = ParseElement([]byte(`<r a="`+strings.Repeat("v", DefaultMaxTagBytes)+`"/>`), Limits{})
	assert.ErrorIs(t, err, ErrLimit)
}
