package clixml

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DecodeError reports a value that does not fit the Go destination given to
// DecodeInto, or the place where DecodeInto stopped at one of its limits
// (then Err is a *LimitError and errors.Is(err, ErrLimit) is true).
type DecodeError struct {
	// Path locates the value, such as "Exception.Message" or "Items[2]".
	Path string
	// Tag is the CLIXML element of the value ("S", "Obj", …).
	Tag string
	// Type is the Go destination type.
	Type reflect.Type
	// Msg gives details, if any.
	Msg string
	// Err is the underlying error, if any: a *LimitError when a
	// DecodeIntoOptions limit was exceeded.
	Err error
}

// Error names the CLIXML value, the Go type and the path.
func (e *DecodeError) Error() string {
	s := "clixml: cannot decode <" + e.Tag + "> into " + e.Type.String()
	if e.Path != "" {
		s += " at " + e.Path
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

var (
	valueType    = reflect.TypeFor[Value]()
	objectType   = reflect.TypeFor[*Object]()
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	uuidType     = reflect.TypeFor[uuid.UUID]()
	stringsType  = reflect.TypeFor[[]string]()
)

// Default limits of DecodeIntoOptions.
const (
	// DefaultDecodeIntoMaxDepth is the default DecodeIntoOptions.MaxDepth.
	DefaultDecodeIntoMaxDepth = 256
	// DefaultDecodeIntoMaxSteps is the default DecodeIntoOptions.MaxSteps.
	DefaultDecodeIntoMaxSteps = 1 << 24
)

// DecodeIntoOptions configures DecodeInto. A zero field takes its default; a
// negative field means no limit.
type DecodeIntoOptions struct {
	// MaxDepth bounds how deeply the Go destination nests: the value given
	// to DecodeInto is at depth 0, a pointer's target, a field, an element
	// or a map key or value one deeper.
	MaxDepth int
	// MaxSteps bounds the work of one call: the number of (CLIXML value,
	// Go destination) pairs visited, each field, element, key and value
	// counting one, and a shared object met again counting one more.
	MaxSteps int
}

func (o DecodeIntoOptions) withDefaults() DecodeIntoOptions {
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultDecodeIntoMaxDepth
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultDecodeIntoMaxSteps
	}
	return o
}

// DecodeInto stores v in the Go value dst points to, with the default
// DecodeIntoOptions (see DecodeIntoOptions.DecodeInto).
func DecodeInto(v Value, dst any) error {
	return DecodeIntoOptions{}.DecodeInto(v, dst)
}

// DecodeInto stores v in the Go value dst points to.
//
// Structs are filled from an object's properties (extended first, then
// adapted, as Object.Property looks them up), a field named by its tag
// `clixml:"PropName"` or else by its Go name; `clixml:"-"` skips a field,
// and the options `clixml:",tostring"` and `clixml:",typenames"` take the
// object's ToString (string) and type names ([]string). Properties
// without a field, and fields without a property, are ignored; a Nil value
// leaves the zero value.
//
// Other destinations: string (String, URI, Version, XMLDocument,
// ScriptBlock, Decimal, or an object's ToString), bool, every integer kind
// (any integer primitive that fits, enums included), float32/float64,
// time.Time (DateTime), time.Duration (Duration), uuid.UUID (GUID), []byte
// (Bytes, SecureString), slices and arrays (list-like containers), maps
// (dictionaries, keys decoded like values), pointers (allocated), any
// (ToGo), Value (the value itself) and *Object. A mismatch is a
// *DecodeError naming the path.
//
// An object that v references more than once is decoded once per Go
// destination type, so the work stays linear in the size of v however
// its objects are shared: every pointer of one type decoded from the same
// object is the same pointer (dst itself when the object is v), and
// slices and maps decoded from it share their contents, as the CLIXML
// shares the object. Cycles through a pointer, slice or map therefore
// decode to Go cycles. A struct or array value decoded from a shared
// object into a zero destination is a copy of its first decoding. Beyond
// MaxDepth or MaxSteps DecodeInto returns a *DecodeError wrapping a
// *LimitError (Limit "MaxDepth" or "MaxSteps", Offset -1). As with ToGo, a
// caller that walks the result as a tree visits shared contents once per
// reference: check a peer's value with Expansion first when that matters.
func (o DecodeIntoOptions) DecodeInto(v Value, dst any) error {
	_, err := o.decodeInto(v, dst)
	return err
}

// decodeInto is DecodeInto also returning the steps taken (for tests).
func (o DecodeIntoOptions) decodeInto(v Value, dst any) (steps int, err error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return 0, errors.New("clixml: DecodeInto needs a non-nil pointer")
	}
	d := newStructDecoder(o)
	if obj, ok := v.(*Object); ok && obj != nil {
		d.memo[memoKey{obj, rv.Type()}] = rv
	}
	err = d.decode(v, rv.Elem(), "", 0)
	return d.steps, err
}

// memoKey names one decoding: an object into a Go type.
type memoKey struct {
	obj *Object
	typ reflect.Type
}

// structDecoder holds the state of one DecodeInto call.
type structDecoder struct {
	opts DecodeIntoOptions
	// memo holds the pointers, slices and maps decoded (or being decoded)
	// from an object, and the places holding the struct and array values
	// decoded from one.
	memo  map[memoKey]reflect.Value
	steps int
	// toGo converts values for interface destinations, shared by the call
	// so that shared objects convert once.
	toGo toGoState
}

func newStructDecoder(o DecodeIntoOptions) *structDecoder {
	return &structDecoder{
		opts: o.withDefaults(),
		memo: map[memoKey]reflect.Value{},
		toGo: toGoState{active: map[*Object]bool{}, done: map[*Object]any{}},
	}
}

func mismatch(v Value, t reflect.Type, path, msg string) error {
	tag := "nil"
	if v != nil {
		tag = v.Tag()
	}
	return &DecodeError{Path: path, Tag: tag, Type: t, Msg: msg}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (d *structDecoder) limit(v Value, t reflect.Type, path, name string, max int) error {
	err := mismatch(v, t, path, "").(*DecodeError)
	err.Err = &LimitError{Limit: name, Max: int64(max), Offset: -1}
	return err
}

// decode stores v in rv, using and filling the memo for objects.
func (d *structDecoder) decode(v Value, rv reflect.Value, path string, depth int) error {
	t := rv.Type()
	d.steps++
	if d.opts.MaxSteps >= 0 && d.steps > d.opts.MaxSteps {
		return d.limit(v, t, path, "MaxSteps", d.opts.MaxSteps)
	}
	if d.opts.MaxDepth >= 0 && depth > d.opts.MaxDepth {
		return d.limit(v, t, path, "MaxDepth", d.opts.MaxDepth)
	}
	o, isObj := v.(*Object)
	if !isObj || o == nil || t == valueType || t == objectType {
		return d.decodeValue(v, rv, path, depth)
	}
	key := memoKey{o, t}
	switch t.Kind() {
	case reflect.Pointer:
		if p, ok := d.memo[key]; ok {
			rv.Set(p)
			return nil
		}
		p := reflect.New(t.Elem())
		d.memo[key] = p // before decoding, so that a cycle finds it
		if err := d.decode(v, p.Elem(), path, depth+1); err != nil {
			return err
		}
		rv.Set(p)
		return nil
	case reflect.Slice, reflect.Map:
		if m, ok := d.memo[key]; ok {
			rv.Set(m)
			return nil
		}
		// decodeValue stores the new slice or map in the memo before
		// filling it.
		return d.decodeValue(v, rv, path, depth)
	case reflect.Struct, reflect.Array:
		if !rv.IsZero() {
			return d.decodeValue(v, rv, path, depth) // fill in place, keep the other fields
		}
		if c, ok := d.memo[key]; ok {
			rv.Set(c)
			return nil
		}
		if err := d.decodeValue(v, rv, path, depth); err != nil {
			return err
		}
		if _, ok := d.memo[key]; !ok {
			// rv is written once, by this call: keep where it is rather
			// than a copy.
			d.memo[key] = rv
		}
		return nil
	}
	return d.decodeValue(v, rv, path, depth)
}

// decodeValue stores v in rv without looking in the memo first.
func (d *structDecoder) decodeValue(v Value, rv reflect.Value, path string, depth int) error {
	t := rv.Type()
	switch t {
	case valueType:
		if v == nil {
			rv.SetZero()
		} else {
			rv.Set(reflect.ValueOf(&v).Elem())
		}
		return nil
	case objectType:
		switch x := v.(type) {
		case *Object:
			rv.Set(reflect.ValueOf(x))
			return nil
		case Nil, nil:
			rv.SetZero()
			return nil
		}
		return mismatch(v, t, path, "")
	}
	if _, isNil := v.(Nil); isNil || v == nil {
		rv.SetZero()
		return nil
	}
	if o, ok := v.(*Object); ok && o == nil {
		rv.SetZero()
		return nil
	}
	switch t {
	case timeType:
		if dt, ok := unwrap(v).(DateTime); ok {
			rv.Set(reflect.ValueOf(dt.Time))
			return nil
		}
		return mismatch(v, t, path, "")
	case durationType:
		if d, ok := unwrap(v).(Duration); ok {
			gd, ok := d.GoDuration()
			if !ok {
				return mismatch(v, t, path, "out of range")
			}
			rv.SetInt(int64(gd))
			return nil
		}
		return mismatch(v, t, path, "")
	case uuidType:
		if g, ok := unwrap(v).(GUID); ok {
			rv.Set(reflect.ValueOf(uuid.UUID(g)))
			return nil
		}
		return mismatch(v, t, path, "")
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := d.decode(v, p.Elem(), path, depth+1); err != nil {
			return err
		}
		rv.Set(p)
		return nil
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return mismatch(v, t, path, "unsupported interface type")
		}
		g := d.toGo.toGo(v, 1)
		if g == nil {
			rv.SetZero()
		} else {
			rv.Set(reflect.ValueOf(g))
		}
		return nil
	case reflect.String:
		if s, ok := AsString(v); ok {
			rv.SetString(s)
			return nil
		}
		if o, ok := v.(*Object); ok && o.HasToString {
			rv.SetString(o.ToString)
			return nil
		}
		return mismatch(v, t, path, "")
	case reflect.Bool:
		if b, ok := AsBool(v); ok {
			rv.SetBool(b)
			return nil
		}
		return mismatch(v, t, path, "")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := AsInt64(v)
		if !ok {
			return mismatch(v, t, path, "")
		}
		if rv.OverflowInt(n) {
			return mismatch(v, t, path, fmt.Sprintf("%d overflows", n))
		}
		rv.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var u uint64
		if x, ok := unwrap(v).(UInt64); ok {
			u = uint64(x)
		} else if n, ok := AsInt64(v); ok && n >= 0 {
			u = uint64(n)
		} else if ok {
			return mismatch(v, t, path, fmt.Sprintf("%d is negative", n))
		} else if c, ok := unwrap(v).(Char); ok {
			u = uint64(c)
		} else {
			return mismatch(v, t, path, "")
		}
		if rv.OverflowUint(u) {
			return mismatch(v, t, path, fmt.Sprintf("%d overflows", u))
		}
		rv.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := AsFloat64(v)
		if !ok {
			return mismatch(v, t, path, "")
		}
		if t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
			return mismatch(v, t, path, "overflows")
		}
		rv.SetFloat(f)
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			var b []byte
			isBytes := true
			switch x := unwrap(v).(type) {
			case Bytes:
				b = x
			case SecureString:
				b = x
			default:
				isBytes = false
			}
			if isBytes {
				rv.SetBytes(append([]byte(nil), b...))
				if o, ok := v.(*Object); ok {
					d.memo[memoKey{o, t}] = rv // one copy however often the object recurs
				}
				return nil
			}
		}
		o, ok := v.(*Object)
		if !ok || o.Kind == NoContainer || o.Kind == Dictionary {
			return mismatch(v, t, path, "not a list")
		}
		s := reflect.MakeSlice(t, len(o.Items), len(o.Items))
		d.memo[memoKey{o, t}] = s
		for i, it := range o.Items {
			if err := d.decode(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		rv.Set(s)
		return nil
	case reflect.Array:
		o, ok := v.(*Object)
		if !ok || o.Kind == NoContainer || o.Kind == Dictionary {
			return mismatch(v, t, path, "not a list")
		}
		if len(o.Items) != t.Len() {
			return mismatch(v, t, path, fmt.Sprintf("%d items", len(o.Items)))
		}
		for i, it := range o.Items {
			if err := d.decode(it, rv.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		o, ok := v.(*Object)
		if !ok || o.Kind != Dictionary {
			return mismatch(v, t, path, "not a dictionary")
		}
		m := reflect.MakeMapWithSize(t, min(len(o.Entries), 1024))
		d.memo[memoKey{o, t}] = m
		for i, e := range o.Entries {
			k := reflect.New(t.Key()).Elem()
			p := fmt.Sprintf("%s[%d]", path, i)
			if err := d.decode(e.Key, k, p+".Key", depth+1); err != nil {
				return err
			}
			val := reflect.New(t.Elem()).Elem()
			if err := d.decode(e.Value, val, p+".Value", depth+1); err != nil {
				return err
			}
			if !k.Comparable() {
				return mismatch(e.Key, t.Key(), p+".Key", "not comparable")
			}
			m.SetMapIndex(k, val)
		}
		rv.Set(m)
		return nil
	case reflect.Struct:
		o, ok := v.(*Object)
		if !ok {
			return mismatch(v, t, path, "not an object")
		}
		return d.decodeStruct(o, rv, path, depth)
	}
	return mismatch(v, t, path, "unsupported destination type")
}

func (d *structDecoder) decodeStruct(o *Object, rv reflect.Value, path string, depth int) error {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("clixml")
		if tag == "-" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		switch opt {
		case "tostring":
			if f.Type.Kind() != reflect.String {
				return mismatch(o, f.Type, joinPath(path, f.Name), "the tostring option needs a string field")
			}
			rv.Field(i).SetString(o.ToString)
			continue
		case "typenames":
			if f.Type != stringsType {
				return mismatch(o, f.Type, joinPath(path, f.Name), "the typenames option needs a []string field")
			}
			rv.Field(i).Set(reflect.ValueOf(append([]string(nil), o.TypeNames...)))
			continue
		}
		if name == "" {
			name = f.Name
		}
		pv, ok := o.Property(name)
		if !ok {
			continue
		}
		if err := d.decode(pv, rv.Field(i), joinPath(path, name), depth+1); err != nil {
			return err
		}
	}
	return nil
}
