package main

import "testing"

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		s         string
		l, r      int
		wantError bool
	}{
		{"8080:80", 8080, 80, false},
		{"5432", 5432, 5432, false},
		{"0:80", 0, 0, true},
		{"8080:70000", 0, 0, true},
		{"a:80", 0, 0, true},
	} {
		l, r, err := parsePorts(tc.s)
		if (err != nil) != tc.wantError || l != tc.l || r != tc.r {
			t.Errorf("%q: %d %d %v", tc.s, l, r, err)
		}
	}
}
