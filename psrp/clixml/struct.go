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
// DecodeInto.
type DecodeError struct {
	// Path locates the value, such as "Exception.Message" or "Items[2]".
	Path string
	// Tag is the CLIXML element of the value ("S", "Obj", …).
	Tag string
	// Type is the Go destination type.
	Type reflect.Type
	// Msg gives details, if any.
	Msg string
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
	return s
}

var (
	valueType      = reflect.TypeFor[Value]()
	objectType     = reflect.TypeFor[*Object]()
	timeType       = reflect.TypeFor[time.Time]()
	durationType   = reflect.TypeFor[time.Duration]()
	uuidType       = reflect.TypeFor[uuid.UUID]()
	maxDecodeDepth = 256
)

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
func DecodeInto(v Value, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("clixml: DecodeInto needs a non-nil pointer")
	}
	return decodeInto(v, rv.Elem(), "", 0)
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

func decodeInto(v Value, rv reflect.Value, path string, depth int) error {
	if depth > maxDecodeDepth {
		return mismatch(v, rv.Type(), path, "nesting too deep (a cycle?)")
	}
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
		if err := decodeInto(v, p.Elem(), path, depth+1); err != nil {
			return err
		}
		rv.Set(p)
		return nil
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return mismatch(v, t, path, "unsupported interface type")
		}
		g := ToGo(v)
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
			switch x := unwrap(v).(type) {
			case Bytes:
				rv.SetBytes(append([]byte(nil), x...))
				return nil
			case SecureString:
				rv.SetBytes(append([]byte(nil), x...))
				return nil
			}
		}
		o, ok := v.(*Object)
		if !ok || o.Kind == NoContainer || o.Kind == Dictionary {
			return mismatch(v, t, path, "not a list")
		}
		s := reflect.MakeSlice(t, len(o.Items), len(o.Items))
		for i, it := range o.Items {
			if err := decodeInto(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
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
			if err := decodeInto(it, rv.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		o, ok := v.(*Object)
		if !ok || o.Kind != Dictionary {
			return mismatch(v, t, path, "not a dictionary")
		}
		m := reflect.MakeMapWithSize(t, len(o.Entries))
		for i, e := range o.Entries {
			k := reflect.New(t.Key()).Elem()
			p := fmt.Sprintf("%s[%d]", path, i)
			if err := decodeInto(e.Key, k, p+".Key", depth+1); err != nil {
				return err
			}
			val := reflect.New(t.Elem()).Elem()
			if err := decodeInto(e.Value, val, p+".Value", depth+1); err != nil {
				return err
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
		return decodeStruct(o, rv, path, depth)
	}
	return mismatch(v, t, path, "unsupported destination type")
}

func decodeStruct(o *Object, rv reflect.Value, path string, depth int) error {
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
			if f.Type != reflect.TypeFor[[]string]() {
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
		if err := decodeInto(pv, rv.Field(i), joinPath(path, name), depth+1); err != nil {
			return err
		}
	}
	return nil
}
