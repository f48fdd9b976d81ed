package printers

import (
	"bytes"
	"testing"
)

// A table written at once by Stream is Write's; rows written later keep the
// header's widths, and a wider cell widens its column for the rows after it, as
// kubectl get -w prints them.
func TestStream(t *testing.T) {
	tables := [][][]string{
		{{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}, {"web-1", "1/1", "Running", "0", "5m"}, {"a-much-longer-name", "0/1", "", "0", "1s"}},
		{{"NAME", "AGE"}, {"x", "1d"}},
		{{"NAMESPACE", "NAME", "DATA"}, {"kube-system", "coredns", "1"}, {"", "é-ü", "\x1b[31m"}},
	}
	for _, table := range tables {
		var want, got bytes.Buffer
		if err := Write(&want, table); err != nil {
			t.Fatal(err)
		}
		var c Stream
		if err := c.Write(&got, table); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("Stream:\n%s\nWrite:\n%s", got.String(), want.String())
		}
	}

	var c Stream
	var b bytes.Buffer
	c.Write(&b, [][]string{{"NAME", "STATUS", "AGE"}, {"ns1", "Active", "9h"}})
	c.Write(&b, [][]string{{"ns-with-a-long-name", "Active", "0s"}})
	c.Write(&b, [][]string{{"ns1", "Terminating", "13s"}})
	want := "NAME   STATUS   AGE\n" +
		"ns1    Active   9h\n" +
		"ns-with-a-long-name   Active   0s\n" +
		"ns1                   Terminating   13s\n"
	if b.String() != want {
		t.Errorf("watch lines:\n%s\nwant:\n%s", b.String(), want)
	}
}
