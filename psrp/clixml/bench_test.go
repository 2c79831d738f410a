package clixml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"
)

// processObject builds an object shaped like Get-Process output as PowerShell
// serializes it: about 20 properties of mixed types, a nested object with a
// dictionary, a list of nested objects, a list of strings, enums, and
// strings that need _xHHHH_ and XML escaping.
func processObject(i int) *Object {
	threads := NewList()
	for j := 0; j < 3; j++ {
		threads.AddItem(NewObject("System.Diagnostics.ProcessThread", "System.ComponentModel.Component", "System.Object").
			SetToString("System.Diagnostics.ProcessThread").
			AddAdapted("Id", Int32(int32(i*10+j))).
			AddAdapted("PriorityLevel", NewEnum("System.Diagnostics.ThreadPriorityLevel", 0, "Normal")).
			AddAdapted("StartAddress", Int64(140703128616960+int64(j))).
			AddAdapted("ThreadState", NewEnum("System.Diagnostics.ThreadState", 5, "Wait")))
	}
	env := NewHashtable()
	for j, kv := range [][2]string{{"PATH", `C:\Windows\system32;C:\Windows`}, {"TEMP", `C:\Users\me\AppData\Local\Temp`},
		{"USERNAME", "me"}, {"PROMPT", "$P$G"}, {"PSModulePath", `C:\Program Files\WindowsPowerShell\Modules`}} {
		env.AddEntry(String(kv[0]), String(fmt.Sprintf("%s;%d", kv[1], j)))
	}
	startInfo := NewObject("System.Diagnostics.ProcessStartInfo", "System.Object").
		SetToString("System.Diagnostics.ProcessStartInfo").
		AddAdapted("FileName", String(fmt.Sprintf(`C:\Program Files\App %d\app.exe`, i))).
		AddAdapted("Arguments", String(`-flag "quoted & <escaped>" _x_`)).
		AddAdapted("Environment", env).
		AddAdapted("UseShellExecute", Bool(false))
	modules := NewList(String("ntdll.dll"), String("KERNEL32.DLL"), String("KERNELBASE.dll"), String("app.exe"))
	return NewObject("System.Diagnostics.Process", "System.ComponentModel.Component", "System.MarshalByRefObject", "System.Object").
		SetToString(fmt.Sprintf("System.Diagnostics.Process (app%d)", i)).
		AddAdapted("Name", String(fmt.Sprintf("app%d", i))).
		AddAdapted("Id", Int32(int32(1000+i))).
		AddAdapted("Handles", Int32(int32(200+i%50))).
		AddAdapted("CPU", Float64(float64(i)*1.0625)).
		AddAdapted("WorkingSet64", Int64(int64(i)*4096*1024)).
		AddAdapted("PagedMemorySize64", Int64(int64(i)*8192)).
		AddAdapted("StartTime", DateTime{Time: time.Date(2026, 11, 28, 8, 0, i%60, 1234500, time.UTC)}).
		AddAdapted("TotalProcessorTime", Duration(int64(i)*1234567)).
		AddAdapted("Path", String(fmt.Sprintf(`C:\Program Files\App %d\app.exe`, i))).
		AddAdapted("Company", String("Contoso & Sons <Ltd>")).
		AddAdapted("Description", String("First line\r\nSecond line\tend 😀")).
		AddAdapted("FileVersion", Version("10.0.19041.1")).
		AddAdapted("HasExited", Bool(false)).
		AddAdapted("PriorityClass", NewEnum("System.Diagnostics.ProcessPriorityClass", 32, "Normal")).
		AddAdapted("SessionId", Int32(1)).
		AddAdapted("MainWindowTitle", String("")).
		AddAdapted("Responding", Bool(true)).
		AddAdapted("Threads", threads).
		AddAdapted("StartInfo", startInfo).
		AddAdapted("Parent", Nil{}).
		AddAdapted("Modules", modules).
		AddExtended("PSComputerName", String("server01")).
		AddExtended("RunspaceId", GUID(uuid.MustParse("f9a7f6e8-3c0b-4e8d-9d1b-2a7b1c4d5e6f"))).
		AddExtended("PSShowComputerName", Bool(true))
}

type benchCorpus struct {
	messages [][]byte // one Marshal per object, as PSRP messages carry them
	stream   []byte   // the same objects in one <Objs> stream
	objects  int      // <Obj> elements in all messages
	size     int64
}

var corpusCache *benchCorpus

// cpuMeter reports MB and objects per CPU second (process user+system time,
// GC included), alongside the wall-clock figures of testing.B.
type cpuMeter struct{ start float64 }

func startCPU(b *testing.B) cpuMeter {
	b.ResetTimer()
	return cpuMeter{start: processCPUSeconds()}
}

func (m cpuMeter) report(b *testing.B, bytesPerOp int64, objectsPerOp int) {
	b.ReportMetric(float64(objectsPerOp)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	if cpu := processCPUSeconds() - m.start; cpu > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/cpu/1e6, "MB/cpu-s")
		b.ReportMetric(float64(objectsPerOp)*float64(b.N)/cpu, "objects/cpu-s")
	}
}

func corpus(b *testing.B) *benchCorpus {
	if corpusCache != nil {
		return corpusCache
	}
	c := &benchCorpus{}
	var stream bytes.Buffer
	stream.WriteString(`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">`)
	for i := 0; i < 200; i++ {
		m, err := Marshal(processObject(i))
		if err != nil {
			b.Fatal(err)
		}
		c.messages = append(c.messages, m)
		c.size += int64(len(m))
		c.objects += bytes.Count(m, []byte("<Obj "))
		stream.Write(m)
	}
	stream.WriteString(`</Objs>`)
	c.stream = stream.Bytes()
	corpusCache = c
	return c
}

// BenchmarkUnmarshal decodes each message of the corpus with Unmarshal.
func BenchmarkUnmarshal(b *testing.B) {
	for _, ref := range []bool{false, true} {
		name := "fast"
		if ref {
			name = "reference"
		}
		b.Run(name, func(b *testing.B) {
			c := corpus(b)
			opts := DecoderOptions{reference: ref}
			b.SetBytes(c.size)
			b.ReportAllocs()
			m := startCPU(b)
			for i := 0; i < b.N; i++ {
				for _, m := range c.messages {
					if _, err := opts.Unmarshal(m); err != nil {
						b.Fatal(err)
					}
				}
			}
			m.report(b, c.size, c.objects)
		})
	}
}

// BenchmarkDecoderStream decodes the corpus as one <Objs> stream.
func BenchmarkDecoderStream(b *testing.B) {
	c := corpus(b)
	b.SetBytes(int64(len(c.stream)))
	b.ReportAllocs()
	m := startCPU(b)
	for i := 0; i < b.N; i++ {
		d := NewDecoder(bytes.NewReader(c.stream))
		for {
			_, err := d.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	m.report(b, int64(len(c.stream)), c.objects)
}

// BenchmarkXMLTokenLoop is the baseline: a bare encoding/xml Token loop
// over the same messages, building nothing.
func BenchmarkXMLTokenLoop(b *testing.B) {
	c := corpus(b)
	b.SetBytes(c.size)
	b.ReportAllocs()
	meter := startCPU(b)
	for i := 0; i < b.N; i++ {
		for _, m := range c.messages {
			d := xml.NewDecoder(bytes.NewReader(m))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	meter.report(b, c.size, c.objects)
}

// BenchmarkMarshal encodes the corpus objects.
func BenchmarkMarshal(b *testing.B) {
	c := corpus(b)
	objs := make([]Value, len(c.messages))
	for i, m := range c.messages {
		v, err := Unmarshal(m)
		if err != nil {
			b.Fatal(err)
		}
		objs[i] = v
	}
	b.SetBytes(c.size)
	b.ReportAllocs()
	meter := startCPU(b)
	var buf []byte
	for i := 0; i < b.N; i++ {
		for _, v := range objs {
			var err error
			buf, err = AppendMarshal(buf[:0], v)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	meter.report(b, c.size, c.objects)
}

// BenchmarkUnmarshalRecorded decodes the real PSRP messages of the
// recordings (skipped when they are absent).
func BenchmarkUnmarshalRecorded(b *testing.B) {
	var msgs [][]byte
	var size int64
	objects := 0
	for _, m := range wireMessages(b) {
		if len(m.data) > 0 {
			msgs = append(msgs, m.data)
			size += int64(len(m.data))
			objects += bytes.Count(m.data, []byte("<Obj "))
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	meter := startCPU(b)
	for i := 0; i < b.N; i++ {
		for _, m := range msgs {
			if _, err := Unmarshal(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	meter.report(b, size, objects)
}
