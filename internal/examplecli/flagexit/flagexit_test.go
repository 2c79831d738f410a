package flagexit

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		reported bool
	}{
		{nil, 0, false},
		{[]string{"-v"}, 0, false},
		{[]string{"-h"}, 0, false},
		{[]string{"-nope"}, 2, true},
		{[]string{"-v", "extra"}, 2, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Bool("v", false, "verbose")
		err := Parse(fs, tc.args)
		if Code(err) != tc.code || Reported(err) != tc.reported {
			t.Errorf("%q: %v: code %d, reported %v; want %d, %v", tc.args, err, Code(err), Reported(err), tc.code, tc.reported)
		}
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{fmt.Errorf("wrapped: %w", flag.ErrHelp), 0, ""},
		{Usagef("bad -x %d", 3), 2, "prog: bad -x 3\nRun with -h.\n"},
		{UsageError{Err: errors.New("printed"), Reported: true}, 2, ""},
		{fmt.Errorf("ctx: %w", Usagef("inner")), 2, "prog: ctx: inner\nRun with -h.\n"},
		{errors.New("boom"), 1, "prog: boom\n"},
	} {
		var b bytes.Buffer
		if code := Status(tc.err, &b, "prog:", "Run with -h."); code != tc.code || b.String() != tc.out {
			t.Errorf("%v: %d %q; want %d %q", tc.err, code, b.String(), tc.code, tc.out)
		}
	}
	var b bytes.Buffer
	if code := Status(Usagef("no hint"), &b, "error:", ""); code != 2 || b.String() != "error: no hint\n" {
		t.Errorf("without a hint: %d %q", code, b.String())
	}
}
