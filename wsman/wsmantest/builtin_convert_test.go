package wsmantest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// TestToInt covers the builtin interpreter's integer conversion: every
// integer clixml.AsInt64 accepts, plus whole floats and numeric strings.
func TestToInt(t *testing.T) {
	enum := &clixml.Object{TypeNames: []string{"System.ConsoleColor", "System.Enum"}, Inner: clixml.Int32(12)}
	tests := []struct {
		name string
		in   clixml.Value
		want int64
		ok   bool
	}{
		{"Int32", clixml.Int32(-7), -7, true},
		{"UInt8", clixml.UInt8(255), 255, true},
		{"Int64 max", clixml.Int64(math.MaxInt64), math.MaxInt64, true},
		{"UInt64 in range", clixml.UInt64(9), 9, true},
		{"UInt64 too large", clixml.UInt64(math.MaxUint64), 0, false},
		{"enum object", enum, 12, true},
		{"whole Float64", clixml.Float64(3), 3, true},
		{"fractional Float64", clixml.Float64(2.5), 0, false},
		{"numeric String", clixml.String(" 42 "), 42, true},
		{"negative String", clixml.String("-5"), -5, true},
		{"non-numeric String", clixml.String("4x"), 0, false},
		{"Bool", clixml.Bool(true), 0, false},
		{"nil", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := toInt(tt.in)
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}
