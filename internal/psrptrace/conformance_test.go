package psrptrace

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
)

func TestConformanceCount(t *testing.T) {
	recs := recordings.LoadAll(t)
	total := 0
	counts := map[string]int{}
	for _, r := range recs {
		ms, err := Recording(r)
		require.NoError(t, err, r.Name)
		total += len(ms)
		for _, m := range ms {
			counts[m.Message.Type.String()]++
		}
	}
	t.Log(total, counts)
}
