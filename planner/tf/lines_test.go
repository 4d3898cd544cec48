package tf

import (
	"reflect"
	"strings"
	"testing"
)

func TestLineWriterPassesWholeLines(t *testing.T) {
	var got []string
	w := &lineWriter{fn: func(l string) { got = append(got, l) }}
	for _, chunk := range []string{"terraform_data.a: Creat", "ing...\r\nterraform_data.a: Creation complete", " after 0s\n\n", "Apply"} {
		w.Write([]byte(chunk))
	}
	want := []string{"terraform_data.a: Creating...", "terraform_data.a: Creation complete after 0s", ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %q, want %q (the unfinished last line waits)", got, want)
	}
	got = nil
	w = &lineWriter{fn: func(l string) { got = append(got, l) }}
	w.Write([]byte(strings.Repeat("x", maxPending+10)))
	if len(got) != 1 || len(got[0]) != maxPending+10 {
		t.Errorf("a line longer than %d bytes is not passed on", maxPending)
	}
}
