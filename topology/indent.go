package topology

import (
	"fmt"
	"regexp"
	"strings"
)

// yaml.v3 reports an indentation mistake at the line where the enclosing block began
// ("did not find expected key" at spec:, for a key three lines below), and the
// decoder does not expose where the parser really stopped. misindented finds that
// line itself: it follows the block structure line by line and returns the first key
// whose indentation matches no open block, or that nests under a key that already has
// a value. It is only consulted after the parser has failed, so a guess it cannot make
// (flow collections across lines, multi-line plain scalars) leaves the parser's report.

var yamlKeyRE = regexp.MustCompile(`^("[^"]*"|'[^']*'|[^\s#'"\[\]{},:&*!|>%@` + "`" + `][^#]*?):(\s+|$)(.*)$`)

// level is an open block: the indentation of its keys (or of its dashes) and the
// key that opened it, for the hint.
type level struct {
	indent int
	key    string // "" for a dash
	line   int
}

func misindented(file string, data []byte, from int) *Error {
	var stack []level
	opened := true    // the previous line may have children
	scalarAbove := -1 // inside a block scalar (| or >) of a key at this indent
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text := strings.TrimRight(raw, " \r")
		body := strings.TrimLeft(text, " ")
		indent := len(text) - len(body)
		if scalarAbove >= 0 {
			if body == "" || indent > scalarAbove {
				continue
			}
			scalarAbove = -1
		}
		if body == "" || body[0] == '#' {
			continue
		}
		if body == "---" || strings.HasPrefix(body, "--- ") || body == "..." || body[0] == '%' {
			stack, opened = nil, true
			continue
		}
		var closed []level // the levels this line ends, innermost last
		for len(stack) > 0 && stack[len(stack)-1].indent > indent {
			closed = append(closed, stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		}
		switch {
		case len(stack) > 0 && stack[len(stack)-1].indent == indent:
		case opened:
		default:
			key, _ := splitKey(body)
			if line < from || key == "" {
				return nil
			}
			return badIndent(file, line, indent, key, stack, closed)
		}
		// Push this line's levels: each dash, then the key after them.
		col := indent
		opened = false
		for body == "-" || strings.HasPrefix(body, "- ") {
			if len(stack) == 0 || stack[len(stack)-1].indent != col {
				stack = append(stack, level{indent: col, line: line})
			}
			rest := strings.TrimLeft(body[1:], " ")
			col += len(body) - len(rest)
			body = rest
			opened = body == ""
		}
		if body == "" {
			continue
		}
		key, val := splitKey(body)
		if key == "" {
			if strings.ContainsAny(body[:1], "[{") && !balanced(body) {
				return nil
			}
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1].indent != col {
			stack = append(stack, level{indent: col, key: key, line: line})
		} else {
			stack[len(stack)-1] = level{indent: col, key: key, line: line}
		}
		val = strings.TrimSpace(strings.SplitN(val, " #", 2)[0])
		switch {
		case val == "" || val[0] == '&' || val[0] == '!':
			opened = true
		case val[0] == '|' || val[0] == '>':
			scalarAbove = col
		case strings.ContainsAny(val[:1], "[{") && !balanced(val):
			return nil
		}
	}
	return nil
}

func splitKey(body string) (key, val string) {
	m := yamlKeyRE.FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	return strings.Trim(m[1], `"'`), m[3]
}

// balanced says whether a flow collection closes on its line.
func balanced(s string) bool {
	depth := 0
	for _, c := range s {
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		}
	}
	return depth <= 0
}

// badIndent says what is wrong with key's indentation and which key it likely
// belongs beside: the nearest open level, the deeper one on a tie.
func badIndent(file string, line, indent int, key string, stack, closed []level) *Error {
	e := &Error{Pos: Pos{File: file, Line: line, Col: indent + 1}}
	var want level
	if len(closed) == 0 && len(stack) > 0 && stack[len(stack)-1].key != "" {
		top := stack[len(stack)-1]
		e.Msg = fmt.Sprintf("yaml: bad indentation: %s (%d spaces) is deeper than %s above it, which has a value", key, indent, top.key)
		want = top
	} else {
		e.Msg = fmt.Sprintf("yaml: bad indentation: %s (%d spaces) lines up with no key above it", key, indent)
		want = nearestKey(append(stack, closed...), indent)
	}
	if want.key != "" {
		e.Hint = fmt.Sprintf("YAML nests by indentation: indent %s %d spaces, as %s on line %d", key, want.indent, want.key, want.line)
	}
	return e
}

// nearestKey is the key level closest to indent, the deeper one on a tie (a list
// item's key rather than its dash).
func nearestKey(levels []level, indent int) level {
	best := level{}
	for _, l := range levels {
		if l.key != "" && (best.key == "" || abs(l.indent-indent) <= abs(best.indent-indent)) {
			best = l
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
