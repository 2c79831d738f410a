package clixml

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// fastTokenizer is a tokenizer specialised for the XML subset CLIXML uses.
// It accepts exactly what the reference tokenizer (encoding/xml in strict
// mode, plus the restrictions stdTokenizer adds: ASCII names, no
// duplicate attributes, no DOCTYPE) accepts, and produces the same tokens;
// FuzzUnmarshal and FuzzDecoder check this.
//
// It works on a byte window: the whole input for Unmarshal, or a buffer
// refilled from an io.Reader. Text without entities or carriage returns is
// returned without copying.
type fastTokenizer struct {
	r        io.Reader
	buf      []byte
	pos      int
	base     int64 // absolute offset of buf[0]
	eof      bool
	limit    int64 // absolute offset not to be passed; -1: none
	limitCfg int64
	maxStr   int

	pendingEnd  bool
	pendingName string
	// scratch holds decoded text; two buffers used in turn keep the previous
	// text token valid while the next is decoded.
	scratch [2][]byte
	sel     int
	names   *[internSize]string // interned attribute values
}

// errNeedMore reports that a token continues past the buffered data.
var errNeedMore = errors.New("need more input")

func newFastTokenizer(data []byte, r io.Reader, maxString int) *fastTokenizer {
	t := &fastTokenizer{r: r, buf: data, limit: -1, maxStr: maxString}
	if r == nil {
		t.eof = true
	}
	return t
}

func (t *fastTokenizer) offset() int64 { return t.base + int64(t.pos) }

func (t *fastTokenizer) setBase(n int64) { t.base += n }

func (t *fastTokenizer) setLimit(max, configured int64) { t.limit, t.limitCfg = max, configured }

func (t *fastTokenizer) syntax(at int, msg string) error {
	return &SyntaxError{Offset: t.base + int64(at), Msg: "malformed XML", Err: errors.New(msg)}
}

// fill reads more input, keeping buf[keep:]. It reports false at the end
// of input.
func (t *fastTokenizer) fill(keep int) (bool, error) {
	if t.eof {
		return false, nil
	}
	if keep > 0 {
		n := copy(t.buf, t.buf[keep:])
		t.buf = t.buf[:n]
		t.base += int64(keep)
		t.pos -= keep
	}
	if t.limit >= 0 && t.base+int64(len(t.buf)) > t.limit {
		return false, &LimitError{Limit: "MaxInputSize", Max: t.limitCfg, Offset: t.limit}
	}
	if cap(t.buf)-len(t.buf) < 4096 || cap(t.buf)-len(t.buf) < len(t.buf)/2 {
		nb := make([]byte, len(t.buf), max(2*cap(t.buf), 16384))
		copy(nb, t.buf)
		t.buf = nb
	}
	for {
		n, err := t.r.Read(t.buf[len(t.buf):cap(t.buf)])
		t.buf = t.buf[:len(t.buf)+n]
		if err == io.EOF {
			t.eof = true
			return n > 0, nil
		}
		if err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
}

func (t *fastTokenizer) next(tok *token) error {
	if t.pendingEnd {
		t.pendingEnd = false
		tok.kind, tok.name = tokEnd, t.pendingName
		return nil
	}
	for {
		start := t.pos
		if start >= len(t.buf) {
			more, err := t.fill(start)
			if err != nil {
				return err
			}
			if !more {
				tok.kind = tokEOF
				return io.EOF
			}
			continue
		}
		end, skip, err := t.scan(tok, start)
		if err == errNeedMore {
			more, ferr := t.fill(start)
			if ferr != nil {
				return ferr
			}
			if !more {
				// Text may end at the end of input; anything else is cut short.
				if t.buf[t.pos] != '<' {
					end, skip, err = t.scanText(tok, t.pos, true)
				} else {
					return t.syntax(len(t.buf), "unexpected EOF")
				}
			} else {
				continue
			}
		}
		if err != nil {
			return err
		}
		if t.limit >= 0 && t.base+int64(end) > t.limit {
			return &LimitError{Limit: "MaxInputSize", Max: t.limitCfg, Offset: t.limit}
		}
		t.pos = end
		if !skip {
			return nil
		}
	}
}

// scan reads one token at buf[i:]. It returns the end of the token and
// whether the token is to be skipped (comment, processing instruction).
func (t *fastTokenizer) scan(tok *token, i int) (int, bool, error) {
	b := t.buf
	if b[i] != '<' {
		return t.scanText(tok, i, t.eof)
	}
	if i+1 >= len(b) {
		return 0, false, errNeedMore
	}
	switch b[i+1] {
	case '/':
		name, j, err := t.scanName(i + 2)
		if err != nil {
			return 0, false, err
		}
		j = t.skipSpace(j)
		if j >= len(b) {
			return 0, false, errNeedMore
		}
		if b[j] != '>' {
			return 0, false, t.syntax(j, "invalid characters in end tag")
		}
		tok.kind, tok.name = tokEnd, name
		return j + 1, false, nil
	case '?':
		return t.scanPI(i + 2)
	case '!':
		return t.scanBang(tok, i+2)
	}
	return t.scanStart(tok, i+1)
}

// Name byte classes (encoding/xml reads a name as long as bytes are ASCII
// name characters or non-ASCII).
const (
	ncName  = 1 << iota // any name byte
	ncFirst             // may start a name
	ncColon             // ':'
	ncHigh              // non-ASCII
)

var nameClass = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', c == '_':
			t[c] = ncName | ncFirst
		case c == ':':
			t[c] = ncName | ncFirst | ncColon
		case '0' <= c && c <= '9', c == '.', c == '-':
			t[c] = ncName
		case c >= 0x80:
			t[c] = ncName | ncHigh
		}
	}
	return t
}()

// scanName reads an XML name at buf[i:]: ASCII only, [A-Za-z_:] then
// [A-Za-z0-9_:.-], at most one colon.
func (t *fastTokenizer) scanName(i int) (string, int, error) {
	return t.scanNameColons(i, false)
}

// scanNameColons is scanName; anyColons allows several colons (processing
// instruction targets are not namespace-qualified).
func (t *fastTokenizer) scanNameColons(i int, anyColons bool) (string, int, error) {
	b := t.buf
	j := i
	var seen byte
	for j < len(b) {
		c := nameClass[b[j]]
		if c == 0 {
			break
		}
		seen |= c
		j++
	}
	if j >= len(b) {
		return "", 0, errNeedMore
	}
	if j == i {
		return "", 0, t.syntax(i, "expected a name")
	}
	n := b[i:j]
	if nameClass[n[0]]&ncFirst == 0 {
		return "", 0, t.syntax(i, "invalid XML name")
	}
	if seen&ncHigh != 0 {
		return "", 0, t.syntax(i, "non-ASCII XML name")
	}
	if seen&ncColon != 0 && !anyColons {
		colons := 0
		for _, c := range n {
			if c == ':' {
				colons++
			}
		}
		if colons > 1 {
			return "", 0, t.syntax(i, "invalid XML name")
		}
	}
	return internName(n), j, nil
}

// internName returns a constant string for the element and attribute names
// of CLIXML, and a new string otherwise.
func internName(n []byte) string {
	switch len(n) {
	case 1:
		switch n[0] {
		case 'S':
			return "S"
		case 'N':
			return "N"
		case 'T':
			return "T"
		case 'B':
			return "B"
		case 'G':
			return "G"
		case 'D':
			return "D"
		case 'C':
			return "C"
		}
	case 2:
		switch string(n) {
		case "MS":
			return "MS"
		case "TN":
			return "TN"
		case "En":
			return "En"
		case "Db":
			return "Db"
		case "DT":
			return "DT"
		case "TS":
			return "TS"
		case "IE":
			return "IE"
		case "BA":
			return "BA"
		case "By":
			return "By"
		case "SB":
			return "SB"
		case "Sg":
			return "Sg"
		case "SS":
			return "SS"
		case "XD":
			return "XD"
		case "PR":
			return "PR"
		}
	case 3:
		switch string(n) {
		case "Obj":
			return "Obj"
		case "I32":
			return "I32"
		case "I64":
			return "I64"
		case "Ref":
			return "Ref"
		case "Nil":
			return "Nil"
		case "LST":
			return "LST"
		case "DCT":
			return "DCT"
		case "U32":
			return "U32"
		case "U64":
			return "U64"
		case "I16":
			return "I16"
		case "U16":
			return "U16"
		case "URI":
			return "URI"
		case "SBK":
			return "SBK"
		case "QUE":
			return "QUE"
		case "STK":
			return "STK"
		}
	default:
		switch string(n) {
		case "RefId":
			return "RefId"
		case "Props":
			return "Props"
		case "TNRef":
			return "TNRef"
		case "ToString":
			return "ToString"
		case "Version":
			return "Version"
		}
	}
	return string(n)
}

func (t *fastTokenizer) skipSpace(j int) int {
	for j < len(t.buf) && isXMLSpace(t.buf[j]) {
		j++
	}
	return j
}

// scanStart reads a start tag; buf[i] is the first byte of the name.
func (t *fastTokenizer) scanStart(tok *token, i int) (int, bool, error) {
	b := t.buf
	name, j, err := t.scanName(i)
	if err != nil {
		return 0, false, err
	}
	tok.attrs = tok.attrs[:0]
	for {
		j = t.skipSpace(j)
		if j >= len(b) {
			return 0, false, errNeedMore
		}
		switch b[j] {
		case '/':
			if j+1 >= len(b) {
				return 0, false, errNeedMore
			}
			if b[j+1] != '>' {
				return 0, false, t.syntax(j, "expected /> in element")
			}
			tok.kind, tok.name = tokStart, name
			t.pendingEnd, t.pendingName = true, name
			return j + 2, false, nil
		case '>':
			tok.kind, tok.name = tokStart, name
			return j + 1, false, nil
		}
		an, k, err := t.scanName(j)
		if err != nil {
			return 0, false, err
		}
		k = t.skipSpace(k)
		if k >= len(b) {
			return 0, false, errNeedMore
		}
		if b[k] != '=' {
			return 0, false, t.syntax(k, "attribute name without =")
		}
		k = t.skipSpace(k + 1)
		if k >= len(b) {
			return 0, false, errNeedMore
		}
		q := b[k]
		if q != '"' && q != '\'' {
			return 0, false, t.syntax(k, "unquoted or missing attribute value")
		}
		k++
		e := k
		plain := true
		if qe := bytes.IndexByte(b[k:], q); qe >= 0 {
			e = k + qe
		} else {
			return 0, false, errNeedMore
		}
		raw := b[k:e]
		var class byte
		for _, c := range raw {
			class |= attrClass[c]
		}
		if class&acLess != 0 {
			return 0, false, t.syntax(k+bytes.IndexByte(raw, '<'), "unescaped < inside quoted string")
		}
		plain = class == 0
		var val string
		if plain {
			val = t.intern(raw)
		} else {
			d, err := t.decodeText(raw, k, false)
			if err != nil {
				return 0, false, err
			}
			val = t.intern(d)
		}
		if t.maxStr >= 0 && len(val) > t.maxStr {
			return 0, false, &LimitError{Limit: "MaxStringSize", Max: int64(t.maxStr), Offset: t.base + int64(k)}
		}
		if _, dup := tok.attr(an); dup {
			return 0, false, t.syntax(j, "duplicate attribute "+an)
		}
		tok.attrs = append(tok.attrs, xattr{name: an, value: val})
		j = e + 1
	}
}

// Attribute value byte classes.
const (
	acSpecial = 1 << iota // needs decoding or checking
	acLess                // '<', an error
)

var attrClass = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case c == '<':
			t[c] = acLess
		case c == '&' || c == '\r' || c < 0x20 || c >= 0x80:
			t[c] = acSpecial
		}
	}
	return t
}()

// intern returns a string for short attribute values, shared between
// occurrences (property names and RefIds repeat) through a small
// direct-mapped cache.
func (t *fastTokenizer) intern(b []byte) string {
	if len(b) > 48 {
		return string(b)
	}
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	if t.names == nil {
		t.names = new([internSize]string)
	}
	slot := &t.names[h%internSize]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}

const internSize = 1024

// scanText reads character data at buf[i:] up to the next '<' (or the end
// of input when atEOF).
func (t *fastTokenizer) scanText(tok *token, i int, atEOF bool) (int, bool, error) {
	b := t.buf
	j := len(b)
	if k := bytes.IndexByte(b[i:], '<'); k >= 0 {
		j = i + k
	} else if !atEOF {
		if t.maxStr >= 0 && j-i > 16*t.maxStr+64 {
			return 0, false, &LimitError{Limit: "MaxStringSize", Max: int64(t.maxStr), Offset: t.base + int64(i)}
		}
		return 0, false, errNeedMore
	}
	raw := b[i:j]
	var class byte
	for _, c := range raw {
		class |= textClass[c]
	}
	tok.kind = tokText
	switch {
	case class&tcDecode != 0:
		d, err := t.decodeText(raw, i, true)
		if err != nil {
			return 0, false, err
		}
		tok.text = d
	case class&tcCheck != 0:
		if err := checkChars(raw); err != nil {
			return 0, false, t.syntax(i, err.Error())
		}
		if bytes.Contains(raw, []byte("]]>")) {
			return 0, false, t.syntax(i, "unescaped ]]> not in CDATA section")
		}
		tok.text = raw
	default:
		tok.text = raw
	}
	if t.maxStr >= 0 && len(tok.text) > t.maxStr {
		return 0, false, &LimitError{Limit: "MaxStringSize", Max: int64(t.maxStr), Offset: t.base + int64(i)}
	}
	return j, false, nil
}

// Text byte classes: bytes that need entity or line-end processing, and
// bytes that need checking (non-ASCII, control characters, '>' of "]]>").
const (
	tcDecode = 1 << iota
	tcCheck
)

var textClass = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case c == '&' || c == '\r':
			t[c] = tcDecode
		case c == '>' || c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n'):
			t[c] = tcCheck
		}
	}
	return t
}()

// decodeText resolves entities and line ends in raw (which holds no '<')
// and checks that the result is valid XML character data. at is the
// offset of raw in buf, for errors. checkCDEnd rejects "]]>" (text, not
// attribute values).
func (t *fastTokenizer) decodeText(raw []byte, at int, checkCDEnd bool) ([]byte, error) {
	t.sel ^= 1
	out := t.scratch[t.sel][:0]
	var prev byte
	for k := 0; k < len(raw); k++ {
		c := raw[k]
		switch c {
		case '&':
			r, n, ok := parseEntity(raw[k:])
			if !ok {
				return nil, t.syntax(at+k, "invalid character entity")
			}
			out = utf8.AppendRune(out, r)
			k += n - 1
			prev = ';'
			continue
		case '\r':
			out = append(out, '\n')
		case '\n':
			if prev != '\r' {
				out = append(out, '\n')
			}
		case '>':
			if checkCDEnd && k >= 2 && raw[k-1] == ']' && raw[k-2] == ']' {
				return nil, t.syntax(at+k, "unescaped ]]> not in CDATA section")
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
		prev = c
	}
	t.scratch[t.sel] = out
	if err := checkChars(out); err != nil {
		return nil, t.syntax(at, err.Error())
	}
	return out, nil
}

// parseEntity parses an entity reference at b[0] == '&': the five
// predefined entities and character references, as encoding/xml does
// (a reference to a surrogate gives U+FFFD). It returns the rune and the
// length of the reference.
func parseEntity(b []byte) (rune, int, bool) {
	semi := -1
	for k := 1; k < len(b) && k < 64; k++ {
		if b[k] == ';' {
			semi = k
			break
		}
	}
	if semi < 0 {
		if len(b) >= 64 && b[1] == '#' {
			// Long character references (leading zeros): scan on.
			for k := 64; k < len(b); k++ {
				if b[k] == ';' {
					semi = k
					break
				}
			}
		}
		if semi < 0 {
			return 0, 0, false
		}
	}
	name := b[1:semi]
	switch string(name) {
	case "lt":
		return '<', semi + 1, true
	case "gt":
		return '>', semi + 1, true
	case "amp":
		return '&', semi + 1, true
	case "apos":
		return '\'', semi + 1, true
	case "quot":
		return '"', semi + 1, true
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, 0, false
	}
	digits, base := name[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0, 0, false
	}
	for _, c := range digits {
		if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
			return 0, 0, false
		}
	}
	n, err := strconv.ParseUint(string(digits), base, 64)
	if err != nil || n > utf8.MaxRune {
		return 0, 0, false
	}
	r := rune(n)
	if r >= 0xD800 && r <= 0xDFFF {
		r = utf8.RuneError
	}
	return r, semi + 1, true
}

var errBadChar = errors.New("invalid UTF-8 or a character XML does not allow")

// checkChars checks that b is UTF-8 made of XML characters.
func checkChars(b []byte) error {
	for k := 0; k < len(b); {
		c := b[k]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return errBadChar
			}
			k++
			continue
		}
		r, n := utf8.DecodeRune(b[k:])
		if r == utf8.RuneError && n == 1 {
			return errBadChar
		}
		if r == 0xFFFE || r == 0xFFFF {
			return errBadChar
		}
		k += n
	}
	return nil
}

// scanPI skips a processing instruction; buf[i] follows "<?".
func (t *fastTokenizer) scanPI(i int) (int, bool, error) {
	b := t.buf
	target, j, err := t.scanNameColons(i, true)
	if err != nil {
		return 0, false, err
	}
	j = t.skipSpace(j)
	for k := j; k+1 < len(b); k++ {
		if b[k] == '?' && b[k+1] == '>' {
			if target == "xml" {
				if err := checkXMLDecl(b[j:k]); err != nil {
					return 0, false, t.syntax(i, err.Error())
				}
			}
			return k + 2, true, nil
		}
	}
	return 0, false, errNeedMore
}

// scanBang reads a comment (skipped) or a CDATA section (text); buf[i]
// follows "<!". Anything else (DOCTYPE) is an error.
func (t *fastTokenizer) scanBang(tok *token, i int) (int, bool, error) {
	b := t.buf
	if i >= len(b) {
		return 0, false, errNeedMore
	}
	switch b[i] {
	case '-':
		if i+1 >= len(b) {
			return 0, false, errNeedMore
		}
		if b[i+1] != '-' {
			return 0, false, t.syntax(i, "invalid sequence <!- not part of <!--")
		}
		for k := i + 2; k+1 < len(b); k++ {
			if b[k] == '-' && b[k+1] == '-' {
				if k+2 >= len(b) {
					return 0, false, errNeedMore
				}
				if b[k+2] != '>' {
					return 0, false, t.syntax(k, `invalid sequence "--" not allowed in comments`)
				}
				return k + 3, true, nil
			}
		}
		return 0, false, errNeedMore
	case '[':
		const cd = "[CDATA["
		for k := 0; k < len(cd); k++ {
			if i+k >= len(b) {
				return 0, false, errNeedMore
			}
			if b[i+k] != cd[k] {
				return 0, false, t.syntax(i, "invalid <![ sequence")
			}
		}
		s := i + len(cd)
		for k := s; k+2 < len(b); k++ {
			if b[k] == ']' && b[k+1] == ']' && b[k+2] == '>' {
				raw := b[s:k]
				t.sel ^= 1
				out := t.scratch[t.sel][:0]
				var prev byte
				for _, c := range raw {
					switch {
					case c == '\r':
						out = append(out, '\n')
					case c == '\n' && prev == '\r':
					default:
						out = append(out, c)
					}
					prev = c
				}
				t.scratch[t.sel] = out
				if err := checkChars(out); err != nil {
					return 0, false, t.syntax(s, err.Error())
				}
				if t.maxStr >= 0 && len(out) > t.maxStr {
					return 0, false, &LimitError{Limit: "MaxStringSize", Max: int64(t.maxStr), Offset: t.base + int64(s)}
				}
				tok.kind, tok.text = tokText, out
				return k + 3, false, nil
			}
		}
		return 0, false, errNeedMore
	}
	return 0, false, t.syntax(i, "XML directives (DOCTYPE) are not allowed")
}

// checkXMLDecl checks the XML declaration's version and encoding as
// encoding/xml does: version 1.0, encoding UTF-8 if any.
func checkXMLDecl(content []byte) error {
	s := string(content)
	if v := procInstParam("version", s); v != "" && v != "1.0" {
		return errors.New("unsupported XML version " + strconv.Quote(v))
	}
	if e := procInstParam("encoding", s); e != "" && !equalFoldASCII(e, "utf-8") {
		return errors.New("unsupported encoding " + strconv.Quote(e))
	}
	return nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// procInstParam finds param="value" (or '…') in a declaration, the same
// loose way encoding/xml does.
func procInstParam(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := indexString(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	for j := i; j < len(s); j++ {
		if s[j] == sep {
			return s[i:j]
		}
	}
	return ""
}

func indexString(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// leaf reads the text content and end tag of the element name whose start
// tag was just returned, in one step, for the common case of in-memory
// input with plain text followed directly by </name>. It reports false,
// having consumed nothing, when the input needs the general path (comments,
// CDATA, nested elements, streaming input).
func (t *fastTokenizer) leaf(name string) ([]byte, bool, error) {
	if t.pendingEnd { // <name/>
		t.pendingEnd = false
		return nil, true, nil
	}
	if !t.eof || t.r != nil {
		return nil, false, nil
	}
	b := t.buf
	i := t.pos
	var text []byte
	if i < len(b) && b[i] != '<' {
		var tok token
		end, _, err := t.scanText(&tok, i, true)
		if err != nil {
			return nil, false, err
		}
		text, i = tok.text, end
	}
	k := i + 2 + len(name)
	if k >= len(b) || b[i] != '<' || b[i+1] != '/' || string(b[i+2:k]) != name {
		return nil, false, nil
	}
	k = t.skipSpace(k)
	if k >= len(b) || b[k] != '>' {
		return nil, false, nil
	}
	if t.limit >= 0 && t.base+int64(k+1) > t.limit {
		return nil, false, &LimitError{Limit: "MaxInputSize", Max: t.limitCfg, Offset: t.limit}
	}
	t.pos = k + 1
	return text, true, nil
}
