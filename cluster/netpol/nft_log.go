package netpol

import (
	"strconv"
	"strings"

	"sigs.k8s.io/knftables"
)

// The verdict log's prefix names the counter the logged packet moves, its dashes made
// spaces: "podlab-netpol drop VI4FNS5E ingress/x/b " for pod x/b's default deny of
// ingress, "podlab-netpol allow FRXUG7N2 ingress/x/web/0 " for rule 0 of policy x/web.
// nft cuts prefixes at 127 bytes and a namespace and a name may be longer: the id (the
// counter's hash, LogID) then still tells which pod or rule, among the candidates the
// reader knows.
const (
	logPrefixStart = "podlab-netpol "
	maxLogPrefix   = 127
)

// LogPrefix is a parsed verdict log prefix.
type LogPrefix struct {
	Verdict string // "drop" or "allow"
	ID      string // LogID(Verdict, the whole key)
	// Key is "ingress/x/b" (direction/namespace/pod) for a drop, "ingress/x/web/0"
	// (direction/namespace/policy/rule index) for an allow; maybe cut (Complete).
	Key string
}

// Complete says whether Key is whole: its id matches.
func (p LogPrefix) Complete() bool { return LogID(p.Verdict, p.Key) == p.ID }

// LogID is the id of a drop or allow key in the prefix and in the counter's name.
func LogID(verdict, key string) string {
	return strings.SplitN(objectName(verdict, key, ""), "-", 3)[1]
}

// ParseLogPrefix reads a prefix the Enforcer wrote; false if it is not one.
func ParseLogPrefix(s string) (LogPrefix, bool) {
	rest, ok := strings.CutPrefix(s, logPrefixStart)
	if !ok {
		return LogPrefix{}, false
	}
	f := strings.Fields(rest)
	if len(f) != 3 || (f[0] != "drop" && f[0] != "allow") {
		return LogPrefix{}, false
	}
	return LogPrefix{Verdict: f[0], ID: f[1], Key: f[2]}, true
}

// logStatement logs, rate limited, with the prefix of counter (a counter's name:
// kind-ID-key).
func logStatement(opt Options, counter string) string {
	prefix := logPrefixStart + strings.Replace(counter, "-", " ", 2) + " "
	if len(prefix) > maxLogPrefix {
		prefix = prefix[:maxLogPrefix]
	}
	log := "log prefix " + strconv.Quote(prefix)
	if opt.LogGroup != 0 {
		log += " group " + strconv.Itoa(int(opt.LogGroup))
	}
	return knftables.Concat("limit rate", opt.LogRate, log)
}
