package convert

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Manifests prints objects as a lab's manifests: YAML documents separated by "---",
// or (format "json") a kubectl List; without status or empty creationTimestamp.
func Manifests(format string, objs ...any) ([]byte, error) {
	var items []map[string]any
	for _, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			return nil, err
		}
		delete(m, "status")
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		items = append(items, m)
	}
	switch format {
	case "json":
		b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "    ")
		return append(b, '\n'), err
	case "", "yaml":
		var buf bytes.Buffer
		for i, m := range items {
			if i > 0 {
				buf.WriteString("---\n")
			}
			y, err := yaml.Marshal(m)
			if err != nil {
				return nil, err
			}
			buf.Write(y)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("output format %q: expected yaml or json", format)
}
