package dns

import (
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
)

// A logged query carries its reply's flags as the log plugin prints them and its
// answer as records, made text only by Text.
func TestQueryFlagsAndText(t *testing.T) {
	m := new(mdns.Msg)
	m.Response, m.Authoritative, m.RecursionDesired = true, true, true
	if got := replyFlags[flagBits(m)]; got != "qr,aa,rd" {
		t.Errorf("flags %q, want qr,aa,rd", got)
	}
	m.Authoritative, m.Truncated, m.RecursionAvailable = false, true, true
	if got := replyFlags[flagBits(m)]; got != "qr,tc,rd,ra" {
		t.Errorf("flags %q, want qr,tc,rd,ra", got)
	}
	if got := replyFlags[0]; got != "" {
		t.Errorf("no flags: %q", got)
	}
	rr, _ := mdns.NewRR("web.default.svc.cluster.local. 30 IN A 10.96.12.34")
	q := Query{answer: []mdns.RR{rr}}
	if q.Answers != nil {
		t.Fatal("answers made before Text")
	}
	q.Text()
	if want := []string{"web.default.svc.cluster.local. 30 IN A 10.96.12.34"}; !slices.Equal(q.Answers, want) {
		t.Errorf("Text: %q, want %q", q.Answers, want)
	}
	(&Query{}).Text() // no answer: nothing to do
}
