package clixml

// Type name lists PowerShell writes for common objects.
var (
	// TypeNamesHashtable are the type names of a System.Collections.Hashtable.
	TypeNamesHashtable = []string{"System.Collections.Hashtable", "System.Object"}
	// TypeNamesObjectArray are the type names of a System.Object[].
	TypeNamesObjectArray = []string{"System.Object[]", "System.Array", "System.Object"}
	// TypeNamesPSCustomObject are the type names of a PSCustomObject.
	TypeNamesPSCustomObject = []string{"System.Management.Automation.PSCustomObject", "System.Object"}
)

// NewObject returns an empty object with the given type names (most derived
// first). With no names the object has no <TN>.
func NewObject(typeNames ...string) *Object {
	o := &Object{}
	if len(typeNames) > 0 {
		o.TypeNames = append([]string(nil), typeNames...)
	}
	return o
}

// NewList returns a System.Object[] holding items (<LST>).
func NewList(items ...Value) *Object {
	o := NewObject(TypeNamesObjectArray...)
	o.Kind = List
	o.Items = append([]Value{}, items...)
	return o
}

// NewHashtable returns a System.Collections.Hashtable holding entries
// (<DCT>).
func NewHashtable(entries ...DictEntry) *Object {
	o := NewObject(TypeNamesHashtable...)
	o.Kind = Dictionary
	o.Entries = append([]DictEntry{}, entries...)
	return o
}

// NewEnum returns an enum value as PowerShell serializes it: type names
// typeName, System.Enum, System.ValueType, System.Object; ToString name;
// the value as <I32>.
func NewEnum(typeName string, value int32, name string) *Object {
	o := NewObject(typeName, "System.Enum", "System.ValueType", "System.Object")
	o.ToString, o.HasToString = name, true
	o.Inner = Int32(value)
	return o
}

// SetToString sets the ToString and returns o.
func (o *Object) SetToString(s string) *Object {
	o.ToString, o.HasToString = s, true
	return o
}

// AddExtended appends an extended (<MS>) property and returns o.
func (o *Object) AddExtended(name string, v Value) *Object {
	o.Extended = append(o.Extended, Property{Name: name, Value: v})
	return o
}

// AddAdapted appends an adapted (<Props>) property and returns o.
func (o *Object) AddAdapted(name string, v Value) *Object {
	o.Adapted = append(o.Adapted, Property{Name: name, Value: v})
	return o
}

// AddItem appends items to a List, Enumerable, Queue or Stack object (the
// Kind becomes List if it was NoContainer) and returns o.
func (o *Object) AddItem(items ...Value) *Object {
	if o.Kind == NoContainer {
		o.Kind = List
	}
	o.Items = append(o.Items, items...)
	return o
}

// AddEntry appends a dictionary entry (the Kind becomes Dictionary if it was
// NoContainer) and returns o.
func (o *Object) AddEntry(key, value Value) *Object {
	if o.Kind == NoContainer {
		o.Kind = Dictionary
	}
	o.Entries = append(o.Entries, DictEntry{Key: key, Value: value})
	return o
}

// Lookup returns the value of the dictionary entry whose key is a String
// equal to key.
func (o *Object) Lookup(key string) (Value, bool) {
	if o == nil {
		return nil, false
	}
	for _, e := range o.Entries {
		if k, ok := e.Key.(String); ok && string(k) == key {
			return e.Value, true
		}
	}
	return nil, false
}

// HasType reports whether name is one of the object's type names. A
// deserialized object's names may carry a "Deserialized." prefix; HasType
// accepts either form.
func (o *Object) HasType(name string) bool {
	if o == nil {
		return false
	}
	for _, t := range o.TypeNames {
		if t == name || t == "Deserialized."+name {
			return true
		}
	}
	return false
}

// PropString returns a string property (see AsString).
func (o *Object) PropString(name string) (string, bool) {
	v, ok := o.Property(name)
	if !ok {
		return "", false
	}
	return AsString(v)
}

// PropInt64 returns an integer property (see AsInt64).
func (o *Object) PropInt64(name string) (int64, bool) {
	v, ok := o.Property(name)
	if !ok {
		return 0, false
	}
	return AsInt64(v)
}

// PropInt32 returns an integer property that fits an int32 (see AsInt64).
func (o *Object) PropInt32(name string) (int32, bool) {
	n, ok := o.PropInt64(name)
	if !ok || n != int64(int32(n)) {
		return 0, false
	}
	return int32(n), true
}

// PropBool returns a boolean property (see AsBool).
func (o *Object) PropBool(name string) (bool, bool) {
	v, ok := o.Property(name)
	if !ok {
		return false, false
	}
	return AsBool(v)
}

// PropObject returns a property holding an *Object.
func (o *Object) PropObject(name string) (*Object, bool) {
	v, ok := o.Property(name)
	if !ok {
		return nil, false
	}
	obj, ok := v.(*Object)
	return obj, ok && obj != nil
}

// unwrap returns the inner value of an object that only wraps one (an enum
// or a PSObject around a primitive), or v itself.
func unwrap(v Value) Value {
	for i := 0; i < 8; i++ {
		o, ok := v.(*Object)
		if !ok || o == nil || o.Inner == nil {
			return v
		}
		v = o.Inner
	}
	return v
}

// AsString returns the text of a String, URI, Version, XMLDocument,
// ScriptBlock or Decimal, or of an object wrapping one.
func AsString(v Value) (string, bool) {
	switch x := unwrap(v).(type) {
	case String:
		return string(x), true
	case URI:
		return string(x), true
	case Version:
		return string(x), true
	case XMLDocument:
		return string(x), true
	case ScriptBlock:
		return string(x), true
	case Decimal:
		return string(x), true
	}
	return "", false
}

// AsInt64 returns the value of any integer primitive (UInt8 to Int64) that
// fits an int64, or of an object wrapping one (such as an enum's <I32>;
// like the other As functions it follows Inner at most 8 levels deep). It
// reports false for anything else, including floats, Decimal, strings and
// a UInt64 above math.MaxInt64.
func AsInt64(v Value) (int64, bool) {
	switch x := unwrap(v).(type) {
	case UInt8:
		return int64(x), true
	case Int8:
		return int64(x), true
	case UInt16:
		return int64(x), true
	case Int16:
		return int64(x), true
	case UInt32:
		return int64(x), true
	case Int32:
		return int64(x), true
	case UInt64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	case Int64:
		return int64(x), true
	}
	return 0, false
}

// AsBool returns the value of a Bool.
func AsBool(v Value) (bool, bool) {
	b, ok := unwrap(v).(Bool)
	return bool(b), ok
}

// AsFloat64 returns the value of a Float32, Float64 or integer primitive.
func AsFloat64(v Value) (float64, bool) {
	switch x := unwrap(v).(type) {
	case Float32:
		return float64(x), true
	case Float64:
		return float64(x), true
	case UInt64:
		return float64(x), true
	}
	n, ok := AsInt64(v)
	return float64(n), ok
}
