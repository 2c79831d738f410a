package clixml_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/psremoting/psremoting/psrp/clixml"
)

func ExampleUnmarshal() {
	data := []byte(`<Obj RefId="0"><MS><I32 N="PipelineState">4</I32>` +
		`<S N="Note">line 1_x000D__x000A_line 2</S></MS></Obj>`)
	v, err := clixml.Unmarshal(data)
	if err != nil {
		panic(err)
	}
	obj := v.(*clixml.Object)
	state, _ := obj.PropInt32("PipelineState")
	note, _ := obj.PropString("Note")
	fmt.Println(state)
	fmt.Printf("%q\n", note)
	// Output:
	// 4
	// "line 1\r\nline 2"
}

func ExampleMarshal() {
	obj := clixml.NewObject().
		AddExtended("MinRunspaces", clixml.Int32(1)).
		AddExtended("ApartmentState", clixml.NewEnum("System.Threading.ApartmentState", 2, "Unknown")).
		AddExtended("Args", clixml.Nil{})
	b, err := clixml.Marshal(obj)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// <Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><Obj N="ApartmentState" RefId="1"><TN RefId="0"><T>System.Threading.ApartmentState</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Unknown</ToString><I32>2</I32></Obj><Nil N="Args" /></MS></Obj>
}

func ExampleNewDecoder() {
	file := "#< CLIXML\r\n" +
		`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">` +
		`<S S="Error">Access denied_x000D__x000A_</S><S S="Output">done</S></Objs>`
	d := clixml.NewDecoder(strings.NewReader(file))
	for {
		v, stream, err := d.DecodeWithStream()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		s, _ := clixml.AsString(v)
		fmt.Printf("%s: %q\n", stream, s)
	}
	// Output:
	// Error: "Access denied\r\n"
	// Output: "done"
}

func ExampleDecodeInto() {
	v, _ := clixml.Unmarshal([]byte(`<Obj RefId="0"><TN RefId="0"><T>System.Diagnostics.Process</T><T>System.Object</T></TN>` +
		`<Props><S N="ProcessName">pwsh</S><I32 N="Id">4242</I32></Props>` +
		`<MS><Obj N="Modules" RefId="1"><TN RefId="1"><T>System.Object[]</T></TN><LST><S>a.dll</S><S>b.dll</S></LST></Obj></MS></Obj>`))
	var p struct {
		Name    string `clixml:"ProcessName"`
		ID      int    `clixml:"Id"`
		Modules []string
	}
	if err := clixml.DecodeInto(v, &p); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", p)
	// Output:
	// {Name:pwsh ID:4242 Modules:[a.dll b.dll]}
}

func ExampleJSON() {
	v, _ := clixml.Unmarshal([]byte(`<Obj RefId="0"><MS><S N="Name">x</S><I64 N="Size">10</I64><Nil N="Parent" /></MS></Obj>`))
	b, _ := clixml.JSON(v)
	fmt.Println(string(b))
	// Output:
	// {"MS":{"Name":"x","Size":{"I64":10},"Parent":null}}
}
