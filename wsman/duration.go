package wsman

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatDuration formats d as an xs:duration the way WinRM writes shell
// timeouts: seconds with millisecond precision, e.g. PT7200.000S. Negative
// durations get a leading minus sign.
func FormatDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	ms := d.Milliseconds()
	s := fmt.Sprintf("PT%d.%03dS", ms/1000, ms%1000)
	if neg {
		return "-" + s
	}
	return s
}

// FormatDurationSeconds formats d as whole seconds, e.g. PT60S (the form
// pypsrp sends for OperationTimeout and IdleTimeOut). Sub-second parts are
// rounded up so that a positive duration never becomes PT0S.
func FormatDurationSeconds(d time.Duration) string {
	sec := int64(math.Ceil(d.Seconds()))
	return "PT" + strconv.FormatInt(sec, 10) + "S"
}

// DurationError reports a value that is not an xs:duration this package
// understands.
type DurationError struct {
	Value string // the refused text
}

// Error implements the error interface.
func (e *DurationError) Error() string {
	v := e.Value
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return fmt.Sprintf("wsman: invalid xs:duration %q", v)
}

// ParseDuration parses an xs:duration such as PT7200.000S, P0DT0H0M9S,
// PT1H30M or P2D. Years and months are rejected unless zero, because their
// length is not fixed. Values that overflow time.Duration are an error.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	bad := &DurationError{Value: orig}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return 0, bad
	}
	s = s[1:]
	var total float64 // seconds
	inTime := false
	seen := false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, bad
			}
			inTime = true
			s = s[1:]
			if len(s) == 0 {
				return 0, bad
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, bad
		}
		num, unit := s[:i], s[i]
		s = s[i+1:]
		if strings.Count(num, ".") > 1 || num == "." {
			return 0, bad
		}
		if strings.Contains(num, ".") && !(inTime && unit == 'S') {
			return 0, bad
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, bad
		}
		seen = true
		switch {
		case !inTime && unit == 'Y', !inTime && unit == 'M':
			if v != 0 {
				return 0, bad
			}
		case !inTime && unit == 'D':
			total += v * 86400
		case inTime && unit == 'H':
			total += v * 3600
		case inTime && unit == 'M':
			total += v * 60
		case inTime && unit == 'S':
			total += v
		default:
			return 0, bad
		}
	}
	if !seen {
		return 0, bad
	}
	if total*1e9 > math.MaxInt64 {
		return 0, bad
	}
	d := time.Duration(math.Round(total * 1e9))
	if neg {
		d = -d
	}
	return d, nil
}
