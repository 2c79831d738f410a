package psrp

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// MessageData is implemented by the protocol object of every PSRP message
// type (SessionCapability, InitRunspacePool, CreatePipeline, ...).
//
// Each object type has a DecodeXxx(v clixml.Value) function that accepts the
// shapes Windows and common clients send, and a ToCLIXML method that writes
// the shape .NET writes. Decoded objects keep the decoded value in their Raw
// field: ToCLIXML returns it unchanged while the object is unmodified, and
// otherwise keeps the properties it does not know about.
type MessageData interface {
	// MessageType returns the PSRP message type the object is the data of.
	// Types shared by several messages (HostCall, HostResponse,
	// InformationalRecord) report the one selected by their fields.
	MessageType() MessageType
	// ToCLIXML returns the CLIXML value of the message data; nil for a
	// message with no data (END_OF_PIPELINE_INPUT).
	ToCLIXML() clixml.Value
}

// ErrInvalidMessageData is the sentinel wrapped by every *DataError.
var ErrInvalidMessageData = errors.New("psrp: invalid message data")

// DataError reports message data that does not have the shape of its
// message type.
type DataError struct {
	Object   string // the object being decoded, e.g. "INIT_RUNSPACEPOOL" or "HostInfo"
	Property string // the property at fault, "" for the object itself
	Detail   string // what is wrong
}

// Error implements error.
func (e *DataError) Error() string {
	if e.Property != "" {
		return fmt.Sprintf("psrp: invalid %s data: property %q: %s", e.Object, e.Property, e.Detail)
	}
	return fmt.Sprintf("psrp: invalid %s data: %s", e.Object, e.Detail)
}

// Unwrap returns ErrInvalidMessageData.
func (e *DataError) Unwrap() error { return ErrInvalidMessageData }

func dataErr(obj, prop, format string, args ...any) error {
	return &DataError{Object: obj, Property: prop, Detail: fmt.Sprintf(format, args...)}
}

// .NET type names that appear in protocol objects.
const (
	typeObject              = "System.Object"
	typeEnum                = "System.Enum"
	typeValueType           = "System.ValueType"
	typeArray               = "System.Array"
	typeHashtable           = "System.Collections.Hashtable"
	TypePSPrimitiveDict     = "System.Management.Automation.PSPrimitiveDictionary"
	typePSObjectList        = "System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeArrayList           = "System.Collections.ArrayList"
	typeStringArray         = "System.String[]"
	typeObjectArray         = "System.Object[]"
	TypeErrorRecord         = "System.Management.Automation.ErrorRecord"
	TypeInformationalRecord = "System.Management.Automation.InformationalRecord"
	TypeWarningRecord       = "System.Management.Automation.WarningRecord"
	TypeVerboseRecord       = "System.Management.Automation.VerboseRecord"
	TypeDebugRecord         = "System.Management.Automation.DebugRecord"
)

// --- building values -------------------------------------------------------

func prop(name string, v clixml.Value) clixml.Property {
	if v == nil {
		v = clixml.Nil{}
	}
	return clixml.Property{Name: name, Value: v}
}

func msObject(props ...clixml.Property) *clixml.Object {
	return &clixml.Object{Extended: props}
}

// EnumValue returns the CLIXML form of a .NET enum value: an object with the
// enum type and its ancestors as type names, the member name as ToString and
// the number as an <I32>.
func EnumValue(typeName, name string, v int32) *clixml.Object {
	return &clixml.Object{
		TypeNames:   []string{typeName, typeEnum, typeValueType, typeObject},
		ToString:    name,
		HasToString: true,
		Inner:       clixml.Int32(v),
	}
}

// NewPSPrimitiveDictionary returns a System.Management.Automation.
// PSPrimitiveDictionary (the type of ApplicationArguments and
// ApplicationPrivateData) holding entries in order.
func NewPSPrimitiveDictionary(entries ...clixml.DictEntry) *clixml.Object {
	return &clixml.Object{
		TypeNames: []string{TypePSPrimitiveDict, typeHashtable, typeObject},
		Kind:      clixml.Dictionary,
		Entries:   entries,
	}
}

func listObject(typeName string, items []clixml.Value) *clixml.Object {
	tn := []string{typeName, typeObject}
	if typeName == typeStringArray || typeName == typeObjectArray {
		tn = []string{typeName, typeArray, typeObject}
	}
	if items == nil {
		items = []clixml.Value{}
	}
	return &clixml.Object{TypeNames: tn, Kind: clixml.List, Items: items}
}

// --- reading values --------------------------------------------------------

// reader reads the properties of one object and remembers the first error.
type reader struct {
	name string
	o    *clixml.Object
	err  error
}

func newReader(name string, v clixml.Value) (*reader, error) {
	o, ok := v.(*clixml.Object)
	if !ok || o == nil {
		return nil, dataErr(name, "", "expected an object, got %s", describe(v))
	}
	return &reader{name: name, o: o}, nil
}

func describe(v clixml.Value) string {
	if v == nil {
		return "nothing"
	}
	if o, ok := v.(*clixml.Object); ok && o == nil {
		return "a nil object"
	}
	return "<" + v.Tag() + ">"
}

func (r *reader) fail(p, format string, args ...any) {
	if r.err == nil {
		r.err = dataErr(r.name, p, format, args...)
	}
}

// get returns the property value, or nil when absent (required reports it).
func (r *reader) get(p string, required bool) clixml.Value {
	v, ok := r.o.Property(p)
	if !ok && required {
		r.fail(p, "missing")
	}
	return v
}

func isNil(v clixml.Value) bool {
	if v == nil {
		return true
	}
	_, ok := v.(clixml.Nil)
	return ok
}

func (r *reader) int32(p string, required bool) int32 {
	v := r.get(p, required)
	if v == nil {
		return 0
	}
	n, ok := clixml.AsInt64(v)
	if !ok || n < -1<<31 || n > 1<<31-1 {
		r.fail(p, "expected a 32-bit integer, got %s", describe(v))
		return 0
	}
	return int32(n)
}

func (r *reader) int64(p string, required bool) int64 {
	v := r.get(p, required)
	if v == nil {
		return 0
	}
	n, ok := clixml.AsInt64(v)
	if !ok {
		r.fail(p, "expected an integer, got %s", describe(v))
	}
	return n
}

func (r *reader) uint32(p string, required bool) uint32 {
	n := r.int64(p, required)
	if n < 0 || n > 1<<32-1 {
		r.fail(p, "value %d out of range for UInt32", n)
		return 0
	}
	return uint32(n)
}

func (r *reader) bool(p string, required bool) bool {
	v := r.get(p, required)
	if v == nil {
		return false
	}
	b, ok := v.(clixml.Bool)
	if !ok {
		r.fail(p, "expected <B>, got %s", describe(v))
	}
	return bool(b)
}

// optBool returns nil for an absent or Nil property.
func (r *reader) optBool(p string) *bool {
	v := r.get(p, false)
	if isNil(v) {
		return nil
	}
	b, ok := v.(clixml.Bool)
	if !ok {
		r.fail(p, "expected <B> or <Nil>, got %s", describe(v))
		return nil
	}
	x := bool(b)
	return &x
}

// str accepts <S> and treats <Nil> or absence as "".
func (r *reader) str(p string, required bool) string {
	v := r.get(p, required)
	if isNil(v) {
		return ""
	}
	s, ok := stringOf(v)
	if !ok {
		r.fail(p, "expected <S>, got %s", describe(v))
	}
	return s
}

func stringOf(v clixml.Value) (string, bool) {
	switch x := v.(type) {
	case clixml.String:
		return string(x), true
	case clixml.Version:
		return string(x), true
	case *clixml.Object:
		if x != nil && x.Inner != nil {
			return stringOf(x.Inner)
		}
	}
	return "", false
}

func (r *reader) version(p string, required bool) string {
	v := r.get(p, required)
	if v == nil {
		return ""
	}
	switch x := v.(type) {
	case clixml.Version:
		return string(x)
	case clixml.String:
		return string(x)
	}
	r.fail(p, "expected <Version>, got %s", describe(v))
	return ""
}

// object returns the property as an object, nil for absent or <Nil>.
func (r *reader) object(p string, required bool) *clixml.Object {
	v := r.get(p, required)
	if isNil(v) {
		return nil
	}
	o, ok := v.(*clixml.Object)
	if !ok {
		r.fail(p, "expected <Obj>, got %s", describe(v))
	}
	return o
}

// list returns the items of a list-like property; nil for absent or <Nil>.
func (r *reader) list(p string) []clixml.Value {
	o := r.object(p, false)
	if o == nil {
		return nil
	}
	switch o.Kind {
	case clixml.List, clixml.Enumerable, clixml.Queue, clixml.Stack:
		if o.Items == nil {
			return []clixml.Value{}
		}
		return o.Items
	}
	r.fail(p, "expected a list")
	return nil
}

func (r *reader) strings(p string) []string {
	items := r.list(p)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := stringOf(it)
		if !ok {
			r.fail(p, "expected a list of strings, got an item %s", describe(it))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// --- raw preservation ------------------------------------------------------

// unchanged reports whether decoding raw gives back exactly x, in which case
// raw is the most faithful encoding of x.
func unchanged[T any](x *T, raw clixml.Value, decode func(clixml.Value) (*T, error)) bool {
	if raw == nil {
		return false
	}
	d, err := decode(raw)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(d, x)
}

// keepUnknown appends to fresh the properties of raw that fresh does not
// have (by name), and raw's type names and ToString when fresh has none.
func keepUnknown(fresh, raw *clixml.Object) *clixml.Object {
	if raw == nil {
		return fresh
	}
	has := make(map[string]bool, len(fresh.Extended)+len(fresh.Adapted))
	for _, p := range fresh.Extended {
		has[p.Name] = true
	}
	for _, p := range fresh.Adapted {
		has[p.Name] = true
	}
	for _, p := range raw.Extended {
		if !has[p.Name] {
			fresh.Extended = append(fresh.Extended, p)
		}
	}
	for _, p := range raw.Adapted {
		if !has[p.Name] {
			fresh.Adapted = append(fresh.Adapted, p)
		}
	}
	if fresh.TypeNames == nil && raw.TypeNames != nil {
		fresh.TypeNames = raw.TypeNames
	}
	if !fresh.HasToString && raw.HasToString {
		fresh.ToString, fresh.HasToString = raw.ToString, true
	}
	return fresh
}
