package clixml

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// JSON returns a JSON form of v for tools and logs. It is the bounded way to
// render a value from a peer: its size is linear in the size of v, since a
// shared object is written once and referenced afterwards (a tree walk of
// ToGo's result is not, see ToGo). The shape is stable:
//
//   - String: a JSON string; Int32: a JSON number; Bool: true/false; Nil: null.
//   - Every other primitive: an object with one key, its CLIXML tag, holding
//     a JSON number for integer types (By, SB, U16, I16, U32, U64, I64, C)
//     and otherwise the CLIXML text: {"Db":"1.5"}, {"Db":"NaN"},
//     {"DT":"2018-06-13T23:46:28.00516+00:00"}, {"TS":"PT9.0269026S"},
//     {"G":"…"}, {"BA":"<base64>"}, {"SS":"<base64>"}, {"D":"1.10"},
//     {"URI":…}, {"Version":…}, {"XD":…}, {"SBK":…}.
//   - ProgressRecord: {"PR":{"Activity":…,"ActivityId":…,"ParentActivityId":…,
//     "StatusDescription":…,"CurrentOperation":…,"PercentComplete":…,
//     "SecondsRemaining":…,"RecordType":…}}.
//   - *Object: a JSON object with, in this order and only when present,
//     "$id" (a number, when the object is referenced more than once),
//     "TypeNames" (array of strings), "ToString", "Value" (the inner value),
//     one of "LST", "IE", "QUE", "STK" (an array of values) or "DCT" (an
//     array of {"Key":…,"Value":…}), "Props" and "MS" (objects whose keys
//     are the property names in document order).
//   - An object already written higher up or earlier: {"$ref": id}.
//
// Strings that are not valid UTF-8 (lone surrogates) are written with
// U+FFFD in their place. A value nesting more than MaxConvertDepth deep
// gives a *LimitError (Limit "MaxConvertDepth", Offset -1).
func JSON(v Value) ([]byte, error) {
	return AppendJSON(nil, v)
}

// AppendJSON appends the JSON form of v (see JSON) to b. On error it
// returns b unchanged.
func AppendJSON(b []byte, v Value) ([]byte, error) {
	j := jsonState{count: map[*Object]int{}, ids: map[*Object]int{}}
	j.countRefs(v)
	out := j.value(b, v, 1)
	if j.err != nil {
		return b, j.err
	}
	return out, nil
}

// MarshalJSON implements json.Marshaler with the form documented at JSON.
func (o *Object) MarshalJSON() ([]byte, error) { return JSON(o) }

type jsonState struct {
	count map[*Object]int
	ids   map[*Object]int
	next  int
	err   error // the depth limit was exceeded
}

// countRefs counts the occurrences of every object reachable from v,
// following each object's contents once. It uses a work list, so any
// depth is safe.
func (j *jsonState) countRefs(v Value) {
	todo := []Value{v}
	for len(todo) > 0 {
		o, ok := todo[len(todo)-1].(*Object)
		todo = todo[:len(todo)-1]
		if !ok || o == nil {
			continue
		}
		j.count[o]++
		if j.count[o] > 1 {
			continue
		}
		todo = append(todo, o.Inner)
		todo = append(todo, o.Items...)
		for _, e := range o.Entries {
			todo = append(todo, e.Key, e.Value)
		}
		for _, p := range o.Adapted {
			todo = append(todo, p.Value)
		}
		for _, p := range o.Extended {
			todo = append(todo, p.Value)
		}
	}
}

func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
	}
	out, _ := json.Marshal(s)
	return append(b, out...)
}

func tagged(b []byte, tag string) []byte {
	b = append(b, `{"`...)
	b = append(b, tag...)
	return append(b, `":`...)
}

func (j *jsonState) value(b []byte, v Value, depth int) []byte {
	switch x := v.(type) {
	case nil, Nil:
		return append(b, "null"...)
	case String:
		return appendJSONString(b, string(x))
	case Int32:
		return strconv.AppendInt(b, int64(x), 10)
	case Bool:
		return strconv.AppendBool(b, bool(x))
	case Char:
		return append(strconv.AppendUint(tagged(b, "C"), uint64(x), 10), '}')
	case UInt8:
		return append(strconv.AppendUint(tagged(b, "By"), uint64(x), 10), '}')
	case Int8:
		return append(strconv.AppendInt(tagged(b, "SB"), int64(x), 10), '}')
	case UInt16:
		return append(strconv.AppendUint(tagged(b, "U16"), uint64(x), 10), '}')
	case Int16:
		return append(strconv.AppendInt(tagged(b, "I16"), int64(x), 10), '}')
	case UInt32:
		return append(strconv.AppendUint(tagged(b, "U32"), uint64(x), 10), '}')
	case UInt64:
		return append(strconv.AppendUint(tagged(b, "U64"), uint64(x), 10), '}')
	case Int64:
		return append(strconv.AppendInt(tagged(b, "I64"), int64(x), 10), '}')
	case Float32:
		return append(appendJSONString(tagged(b, "Sg"), string(appendFloat(nil, float64(x), 32))), '}')
	case Float64:
		return append(appendJSONString(tagged(b, "Db"), string(appendFloat(nil, float64(x), 64))), '}')
	case DateTime:
		s := x.Raw
		if s == "" {
			s = string(appendDateTime(nil, x.Time))
		}
		return append(appendJSONString(tagged(b, "DT"), s), '}')
	case Duration:
		return append(appendJSONString(tagged(b, "TS"), string(appendDuration(nil, x))), '}')
	case Decimal:
		return append(appendJSONString(tagged(b, "D"), string(x)), '}')
	case Bytes:
		return append(appendJSONString(tagged(b, "BA"), base64.StdEncoding.EncodeToString(x)), '}')
	case SecureString:
		return append(appendJSONString(tagged(b, "SS"), base64.StdEncoding.EncodeToString(x)), '}')
	case GUID:
		return append(appendJSONString(tagged(b, "G"), uuidString(x)), '}')
	case URI:
		return append(appendJSONString(tagged(b, "URI"), string(x)), '}')
	case Version:
		return append(appendJSONString(tagged(b, "Version"), string(x)), '}')
	case XMLDocument:
		return append(appendJSONString(tagged(b, "XD"), string(x)), '}')
	case ScriptBlock:
		return append(appendJSONString(tagged(b, "SBK"), string(x)), '}')
	case ProgressRecord:
		b = tagged(b, "PR")
		b = append(b, `{"Activity":`...)
		b = appendJSONString(b, x.Activity)
		b = append(b, `,"ActivityId":`...)
		b = strconv.AppendInt(b, int64(x.ActivityID), 10)
		b = append(b, `,"ParentActivityId":`...)
		b = strconv.AppendInt(b, int64(x.ParentActivityID), 10)
		b = append(b, `,"StatusDescription":`...)
		b = appendJSONString(b, x.StatusDescription)
		b = append(b, `,"CurrentOperation":`...)
		b = appendJSONString(b, x.CurrentOperation)
		b = append(b, `,"PercentComplete":`...)
		b = strconv.AppendInt(b, int64(x.PercentComplete), 10)
		b = append(b, `,"SecondsRemaining":`...)
		b = strconv.AppendInt(b, int64(x.SecondsRemaining), 10)
		b = append(b, `,"RecordType":`...)
		b = appendJSONString(b, x.RecordType)
		return append(b, "}}"...)
	case *Object:
		if x == nil {
			return append(b, "null"...)
		}
		return j.object(b, x, depth)
	}
	return append(b, "null"...)
}

func (j *jsonState) object(b []byte, o *Object, depth int) []byte {
	if depth > MaxConvertDepth || j.err != nil {
		if j.err == nil {
			j.err = &LimitError{Limit: "MaxConvertDepth", Max: MaxConvertDepth, Offset: -1}
		}
		return b
	}
	if id, ok := j.ids[o]; ok {
		b = append(b, `{"$ref":`...)
		b = strconv.AppendInt(b, int64(id), 10)
		return append(b, '}')
	}
	b = append(b, '{')
	sep := false
	key := func(k string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = appendJSONString(b, k)
		b = append(b, ':')
	}
	if j.count[o] > 1 {
		id := j.next
		j.next++
		j.ids[o] = id
		key("$id")
		b = strconv.AppendInt(b, int64(id), 10)
	} else {
		j.ids[o] = -1 // written: a later occurrence would be a cycle
	}
	if o.TypeNames != nil {
		key("TypeNames")
		b = append(b, '[')
		for i, t := range o.TypeNames {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, t)
		}
		b = append(b, ']')
	}
	if o.HasToString || o.ToString != "" {
		key("ToString")
		b = appendJSONString(b, o.ToString)
	}
	if o.Inner != nil {
		key("Value")
		b = j.value(b, o.Inner, depth+1)
	}
	switch o.Kind {
	case List, Enumerable, Queue, Stack:
		key([...]string{List: "LST", Enumerable: "IE", Queue: "QUE", Stack: "STK"}[o.Kind])
		b = append(b, '[')
		for i, it := range o.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = j.value(b, it, depth+1)
		}
		b = append(b, ']')
	case Dictionary:
		key("DCT")
		b = append(b, '[')
		for i, e := range o.Entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Key":`...)
			b = j.value(b, e.Key, depth+1)
			b = append(b, `,"Value":`...)
			b = j.value(b, e.Value, depth+1)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	for _, ps := range []struct {
		name  string
		props []Property
	}{{"Props", o.Adapted}, {"MS", o.Extended}} {
		if ps.props == nil {
			continue
		}
		key(ps.name)
		b = append(b, '{')
		for i, p := range ps.props {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p.Name)
			b = append(b, ':')
			b = j.value(b, p.Value, depth+1)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
