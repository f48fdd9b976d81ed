package netprobe

import (
	"bytes"
	"slices"
	"testing"
)

func TestTableRender(t *testing.T) {
	pods := []string{"x/a", "x/b", "y/a"}
	packets, model := NewTable(pods, pods), NewTable(pods, pods)
	for _, f := range pods {
		for _, to := range pods {
			packets.Set(f, to, to != "x/b")
			model.Set(f, to, to != "x/b" || f == "x/b")
		}
	}
	delete(packets.Values["y/a"], "y/a") // an unknown cell is "?", never a verdict
	for _, tc := range []struct {
		name  string
		other *Table
		want  string
	}{
		{"alone", nil, "" +
			"-   x/a x/b y/a \n" +
			"x/a .   X   .   \n" +
			"x/b .   X   .   \n" +
			"y/a .   X   ?   \n"},
		{"against the model", model, "" +
			"-   x/a x/b y/a \n" +
			"x/a .   X   .   \n" +
			"x/b .   X*  .   \n" +
			"y/a .   X   ?   \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := packets.Render(&b, tc.other); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
	if got, want := packets.Disagree(model), [][2]string{{"x/b", "x/b"}}; !slices.Equal(got, want) {
		t.Errorf("Disagree = %v, want %v", got, want)
	}
}
