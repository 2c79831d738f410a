package clixml

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// isXMLSpace reports whether c is XML white space.
func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trimXMLSpace trims XML white space, as XmlConvert does before parsing.
func trimXMLSpace(b []byte) []byte {
	for len(b) > 0 && isXMLSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isXMLSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isAllSpace(b []byte) bool {
	for _, c := range b {
		if !isXMLSpace(c) {
			return false
		}
	}
	return true
}

var (
	errBadBool     = errors.New(`want "true", "false", "1" or "0"`)
	errBadNumber   = errors.New("malformed number")
	errBadDecimal  = errors.New("malformed decimal")
	errBadDuration = errors.New("malformed xs:duration")
	errBadDateTime = errors.New("malformed xs:dateTime")
)

func parseBool(b []byte) (bool, error) {
	switch string(trimXMLSpace(b)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errBadBool
}

// parseInt parses a decimal integer of the given bit size, as XmlConvert
// (optional sign, digits, surrounding white space).
func parseInt(b []byte, bits int) (int64, error) {
	b = trimXMLSpace(b)
	if !plainInteger(b, true) {
		return 0, errBadNumber
	}
	neg := b[0] == '-'
	if b[0] == '+' || b[0] == '-' {
		b = b[1:]
	}
	u, ok := digitsValue(b)
	limit := uint64(1) << (bits - 1) // magnitude of the minimum
	if !ok || u > limit || (!neg && u == limit) {
		return 0, strconv.ErrRange
	}
	if neg {
		return int64(-u), nil // wraps correctly for the minimum
	}
	return int64(u), nil
}

func parseUint(b []byte, bits int) (uint64, error) {
	b = trimXMLSpace(b)
	if !plainInteger(b, true) {
		return 0, errBadNumber
	}
	if b[0] == '+' {
		b = b[1:]
	}
	if b[0] == '-' { // "-0" is zero, anything else out of range
		for _, c := range b[1:] {
			if c != '0' {
				return 0, strconv.ErrRange
			}
		}
		return 0, nil
	}
	u, ok := digitsValue(b)
	if !ok || (bits < 64 && u >= 1<<bits) {
		return 0, strconv.ErrRange
	}
	return u, nil
}

// digitsValue returns the value of a run of decimal digits, reporting false
// when it does not fit a uint64.
func digitsValue(b []byte) (uint64, bool) {
	var u uint64
	for _, c := range b {
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

// plainInteger reports whether b is [sign]digits.
func plainInteger(b []byte, sign bool) bool {
	if sign && len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseFloat parses an XmlConvert float: INF, -INF, NaN or a decimal number
// with optional exponent. Values beyond the range become infinities, as in
// .NET Core.
func parseFloat(b []byte, bits int) (float64, error) {
	b = trimXMLSpace(b)
	switch string(b) {
	case "INF", "+INF":
		return math.Inf(1), nil
	case "-INF":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	// Only [sign]digits[.digits][(e|E)[sign]digits]; strconv would also
	// take hex floats, "Inf" and underscores.
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, errBadNumber
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) {
			return 0, errBadNumber
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i != len(b) {
		return 0, errBadNumber
	}
	f, err := strconv.ParseFloat(string(b), bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, nil // ±Inf or ±0
		}
		return 0, err
	}
	return f, nil
}

// appendFloat formats f as XmlConvert.ToString does on .NET Core 3.0+:
// INF, -INF, NaN, -0, and otherwise the shortest round-trip form, in
// scientific notation ("1E+20", "1E-05") when the decimal exponent is
// -5 or less, or 15 or more (7 for Single).
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "INF"...)
	case math.IsInf(f, -1):
		return append(b, "-INF"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	// Shortest digits and exponent.
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // -d.ddde±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	ei := 0
	for ei < len(e) && e[ei] != 'e' {
		ei++
	}
	mant, expPart := e[:ei], e[ei+1:]
	exp, _ := strconv.Atoi(string(expPart))
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	limit := 15
	if bits == 32 {
		limit = 7
	}
	if neg {
		b = append(b, '-')
	}
	if exp <= -5 || exp >= limit {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'E')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, '0', '.')
		for i := 0; i < -exp-1; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	if len(digits) <= exp+1 {
		b = append(b, digits...)
		for i := len(digits); i < exp+1; i++ {
			b = append(b, '0')
		}
		return b
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...)
}

// parseDecimal validates a System.Decimal text ([sign]digits[.digits]) and
// returns it trimmed.
func parseDecimal(b []byte) (Decimal, error) {
	b = trimXMLSpace(b)
	s := b
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dot := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return "", errBadDecimal
		}
	}
	if digits == 0 {
		return "", errBadDecimal
	}
	return Decimal(b), nil
}

// parseBase64 decodes standard base64, ignoring XML white space.
func parseBase64(b []byte) ([]byte, error) {
	clean := b
	if !isCompact(b) {
		clean = make([]byte, 0, len(b))
		for _, c := range b {
			if !isXMLSpace(c) {
				clean = append(clean, c)
			}
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

func isCompact(b []byte) bool {
	for _, c := range b {
		if isXMLSpace(c) {
			return false
		}
	}
	return true
}

const ticksPerSecond = 10_000_000

// parseDuration parses an xs:duration as XmlConvert.ToTimeSpan does into
// 100-nanosecond ticks: [-]P[nY][nM][nD][T[nH][nM][n[.f]S]], a year counted
// as 365 days and a month as 30.
func parseDuration(b []byte) (Duration, error) {
	s := string(trimXMLSpace(b))
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if !strings.HasPrefix(s, "P") {
		return 0, errBadDuration
	}
	s = s[1:]
	if s == "" {
		return 0, errBadDuration
	}
	var total uint64 // ticks
	add := func(n, mul uint64) bool {
		if n != 0 && mul > math.MaxUint64/n {
			return false
		}
		v := n * mul
		if total+v < total {
			return false
		}
		total += v
		return true
	}
	const day = 24 * 3600 * ticksPerSecond
	inTime, any := false, false
	order := 0 // position of the last designator, to enforce order
	for s != "" {
		if s[0] == 'T' {
			if inTime || len(s) == 1 {
				return 0, errBadDuration
			}
			inTime, order = true, 10
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 18 {
			return 0, errBadDuration
		}
		n, _ := strconv.ParseUint(s[:i], 10, 64)
		var frac uint64 // in ticks
		if i < len(s) && s[i] == '.' {
			if !inTime {
				return 0, errBadDuration
			}
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != 'S' {
				return 0, errBadDuration
			}
			f := s[i+1 : j]
			for k := 0; k < 7; k++ {
				frac *= 10
				if k < len(f) {
					frac += uint64(f[k] - '0')
				}
			}
			i = j
		}
		if i >= len(s) {
			return 0, errBadDuration
		}
		var pos int
		var mul uint64
		switch d := s[i]; {
		case !inTime && d == 'Y':
			pos, mul = 1, 365*day
		case !inTime && d == 'M':
			pos, mul = 2, 30*day
		case !inTime && d == 'D':
			pos, mul = 3, day
		case inTime && d == 'H':
			pos, mul = 11, 3600*ticksPerSecond
		case inTime && d == 'M':
			pos, mul = 12, 60*ticksPerSecond
		case inTime && d == 'S':
			pos, mul = 13, ticksPerSecond
		default:
			return 0, errBadDuration
		}
		if pos <= order {
			return 0, errBadDuration
		}
		order = pos
		if !add(n, mul) || !add(frac, 1) {
			return 0, errBadDuration
		}
		any = true
		s = s[i+1:]
	}
	if !any {
		return 0, errBadDuration
	}
	if neg {
		if total > 1<<63 {
			return 0, errBadDuration
		}
		return Duration(-int64(total)), nil // wraps correctly for 1<<63
	}
	if total > math.MaxInt64 {
		return 0, errBadDuration
	}
	return Duration(total), nil
}

// appendDuration formats ticks as XmlConvert.ToString(TimeSpan).
func appendDuration(b []byte, d Duration) []byte {
	var u uint64
	if d < 0 {
		b = append(b, '-')
		u = uint64(-(d + 1)) + 1
	} else {
		u = uint64(d)
	}
	b = append(b, 'P')
	const day = 24 * 3600 * ticksPerSecond
	days := u / day
	u %= day
	if days != 0 {
		b = strconv.AppendUint(b, days, 10)
		b = append(b, 'D')
	}
	if u != 0 {
		b = append(b, 'T')
		h := u / (3600 * ticksPerSecond)
		u %= 3600 * ticksPerSecond
		m := u / (60 * ticksPerSecond)
		u %= 60 * ticksPerSecond
		if h != 0 {
			b = strconv.AppendUint(b, h, 10)
			b = append(b, 'H')
		}
		if m != 0 {
			b = strconv.AppendUint(b, m, 10)
			b = append(b, 'M')
		}
		if u != 0 {
			b = strconv.AppendUint(b, u/ticksPerSecond, 10)
			if f := u % ticksPerSecond; f != 0 {
				var digits [7]byte
				for i := 6; i >= 0; i-- {
					digits[i] = byte('0' + f%10)
					f /= 10
				}
				n := 7
				for digits[n-1] == '0' {
					n--
				}
				b = append(b, '.')
				b = append(b, digits[:n]...)
			}
			b = append(b, 'S')
		}
	}
	if b[len(b)-1] == 'P' {
		b = append(b, "T0S"...)
	}
	return b
}

// parseDateTime parses an xs:dateTime. Without a zone the time is taken as
// UTC (.NET's DateTimeKind.Unspecified); the raw text is kept by the caller.
func parseDateTime(b []byte) (time.Time, error) {
	s := string(trimXMLSpace(b))
	if len(s) < 19 || s[10] != 'T' {
		return time.Time{}, errBadDateTime
	}
	// Fractional seconds: at most 7 digits are meaningful to .NET, Go
	// accepts up to 9.
	layout := "2006-01-02T15:04:05Z07:00"
	rest := s[19:]
	if strings.HasPrefix(rest, ".") {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 1 || j > 10 {
			return time.Time{}, errBadDateTime
		}
		rest = rest[j:]
	}
	if rest == "" {
		layout = "2006-01-02T15:04:05"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, errBadDateTime
	}
	return t, nil
}

// appendDateTime formats t in .NET's round-trip form
// (yyyy-MM-ddTHH:mm:ss.FFFFFFFzzzzzz, "Z" for UTC).
func appendDateTime(b []byte, t time.Time) []byte {
	t = t.Round(100 * time.Nanosecond)
	return t.AppendFormat(b, "2006-01-02T15:04:05.9999999Z07:00")
}
