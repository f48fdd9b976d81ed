package checks

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"podlab.dev/podlab/topology"
)

// Report is a run's results as -o json prints them.
type Report struct {
	Lab     string   `json:"lab"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Results []Result `json:"results"`
}

// NewReport counts results.
func NewReport(lab string, rs []Result) *Report {
	rep := &Report{Lab: lab, Results: rs}
	if rep.Results == nil {
		rep.Results = []Result{}
	}
	for _, r := range rs {
		if r.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	return rep
}

// OK says whether every check passed.
func (rep *Report) OK() bool { return rep.Failed == 0 }

// WriteTable prints NAME, KIND, RESULT, DETAIL, TIME, a step's checks indented under
// it, and a last line with the counts.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tRESULT\tDETAIL\tTIME")
	for _, r := range rep.Results {
		name := r.Name
		if r.Step != "" {
			name = "  " + name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, r.Kind, verdict(r.Pass), r.Detail, roundTime(r.Took))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, rep.Summary())
	return err
}

// Summary is the last line of the table: "6 checks: 5 passed, 1 failed".
func (rep *Report) Summary() string {
	return fmt.Sprintf("%s: %d passed, %d failed", plural(len(rep.Results), "check"), rep.Passed, rep.Failed)
}

func verdict(pass bool) string {
	if pass {
		return "pass"
	}
	return "FAIL"
}

// WriteJSON prints the report with durations as Go writes them ("1.2ms").
func (rep *Report) WriteJSON(w io.Writer) error {
	type result struct {
		Result
		Took string `json:"took"`
	}
	out := struct {
		Lab     string   `json:"lab"`
		Passed  int      `json:"passed"`
		Failed  int      `json:"failed"`
		Results []result `json:"results"`
	}{Lab: rep.Lab, Passed: rep.Passed, Failed: rep.Failed, Results: []result{}}
	for _, r := range rep.Results {
		out.Results = append(out.Results, result{r, roundTime(r.Took)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // details say "client -> 10.96.0.20:80"
	return enc.Encode(out)
}

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub's test reporters): one
// testsuite for the lab, a testcase per check, a failure with the detail.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML. A step's checks are named "STEP / CHECK"
// so that a CI page lists them under their step.
func (rep *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "podlab check " + rep.Lab, Tests: len(rep.Results), Failures: rep.Failed}
	var total time.Duration
	for _, r := range rep.Results {
		if r.Step == "" {
			total += r.Took // a step's row already counts its checks' time
		}
		name := r.Name
		if r.Step != "" {
			name = r.Step + " / " + r.Name
		}
		c := junitCase{Name: name, ClassName: rep.Lab + "." + string(r.Kind), Time: seconds(r.Took)}
		if r.Pass {
			c.SystemOut = r.Detail
		} else {
			c.Failure = &junitFailure{Message: r.Detail, Type: "FAIL", Text: r.Detail}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func roundTime(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// Filter keeps the checks whose name matches (--run): a step is kept when its name
// matches, with all its checks, or when some of its checks do, with those only.
func Filter(list []topology.Check, match func(string) bool) []topology.Check {
	var out []topology.Check
	for _, c := range list {
		if match(c.Name) {
			out = append(out, c)
			continue
		}
		var inner []topology.Check
		for _, i := range c.Checks {
			if match(i.Name) {
				inner = append(inner, i)
			}
		}
		if len(inner) > 0 {
			c.Checks = inner
			out = append(out, c)
		}
	}
	return out
}
