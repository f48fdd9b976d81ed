package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/util/jsonpath"
)

// jsonPathTemplate returns TEMPLATE of -o jsonpath=TEMPLATE, and whether output asks
// for it.
func jsonPathTemplate(output string) (string, bool) {
	return strings.CutPrefix(output, "jsonpath=")
}

// getResult is what get prints as json, yaml or jsonpath: the one object asked for
// by name, or a v1 List, as kubectl does.
func getResult(items []any, name string) any {
	if name != "" && len(items) == 1 {
		return items[0]
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]any{}}
}

// printJSONPath runs kubectl's JSONPath template (client-go's util/jsonpath, missing
// keys allowed as kubectl allows them) over v as JSON sees it.
func printJSONPath(w io.Writer, tmpl string, v any) error {
	j := jsonpath.New("out")
	j.AllowMissingKeys(true)
	if err := j.Parse(tmpl); err != nil {
		return invalid("jsonpath template %q: %v", tmpl, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var data any
	if err := json.Unmarshal(b, &data); err != nil {
		return err
	}
	if err := j.Execute(w, data); err != nil {
		return fmt.Errorf("jsonpath %q: %w", tmpl, err)
	}
	return nil
}
