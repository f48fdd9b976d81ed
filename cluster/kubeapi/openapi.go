package kubeapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"podlab.dev/podlab/cluster/store"
)

// OpenAPI v3, what kubectl reads for explain and to learn that the server validates
// fields itself (the PATCH operations' fieldValidation and dryRun parameters: kubectl
// apply then sends fieldValidation=Strict instead of validating client-side). The
// documents are generated from the Go types the server decodes into, with the
// descriptions of their SwaggerDoc methods (the same text as the API server's
// documents), one per served group version, built on first use.

type openAPIDoc struct {
	json, gz []byte
	hash     string // upper-case hex SHA-512 of json, as the API server's index gives it
}

var openAPI struct {
	once sync.Once
	docs map[string]*openAPIDoc // "api/v1", "apis/apps/v1"
}

// docPath is gv's path under /openapi/v3/.
func docPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

func openAPIDocs() map[string]*openAPIDoc {
	openAPI.once.Do(func() {
		openAPI.docs = map[string]*openAPIDoc{}
		for _, gv := range groupVersions() {
			doc := buildOpenAPI(gv)
			if len(doc["paths"].(map[string]any)) == 0 {
				continue // the reviews: nothing to explain or validate
			}
			raw, err := json.Marshal(doc)
			if err != nil {
				continue // a type the generator cannot describe: that group goes without
			}
			var gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
			zw.Write(raw)
			zw.Close()
			openAPI.docs[docPath(gv)] = &openAPIDoc{json: raw, gz: gz.Bytes(), hash: fmt.Sprintf("%X", sha512.Sum512(raw))}
		}
	})
	return openAPI.docs
}

// serveOpenAPIIndex is /openapi/v3: each group version's document with its hash.
func serveOpenAPIIndex(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		URL string `json:"serverRelativeURL"`
	}
	idx := struct {
		Paths map[string]entry `json:"paths"`
	}{map[string]entry{}}
	for p, d := range openAPIDocs() {
		idx.Paths[p] = entry{"/openapi/v3/" + p + "?hash=" + d.hash}
	}
	w.Header().Set("Cache-Control", "no-cache, private")
	writeJSON(w, http.StatusOK, idx)
}

// serveOpenAPI is one document. With the right ?hash= it may be cached for ever; a
// stale hash is redirected to the current one, as the API server does.
func serveOpenAPI(w http.ResponseWriter, r *http.Request, path string) {
	d, ok := openAPIDocs()[strings.Trim(path, "/")]
	if !ok {
		writeError(w, notFoundResource())
		return
	}
	etag := `"` + d.hash + `"`
	if h := r.URL.Query().Get("hash"); h != "" {
		if h != d.hash {
			http.Redirect(w, r, "/openapi/v3/"+strings.Trim(path, "/")+"?hash="+d.hash, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", "Thu, 31 Dec 2099 23:59:59 GMT")
	} else {
		w.Header().Set("Cache-Control", "no-cache, private")
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(d.gz)
		return
	}
	w.Write(d.json)
}

// schemaGen turns Go types into OpenAPI v3 schemas under components/schemas.
type schemaGen struct {
	schemas map[string]map[string]any
}

// schemaName is the API server's name for a Go type: its package path reversed
// into a domain ("k8s.io/api/core/v1".Pod -> io.k8s.api.core.v1.Pod).
func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	host, rest, _ := strings.Cut(pkg, "/")
	parts := strings.Split(host, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	name := strings.Join(parts, ".")
	if rest != "" {
		name += "." + strings.ReplaceAll(rest, "/", ".")
	}
	return name + "." + t.Name()
}

// The OpenAPI types of the API machinery's special types, the methods they declare
// for the API server's own generator.
type openAPITyped interface{ OpenAPISchemaType() []string }
type openAPIFormatted interface{ OpenAPISchemaFormat() string }

// ref returns the schema of t, defining named struct types in g.schemas.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v, ok := reflect.New(t).Elem().Interface().(openAPITyped); ok {
		s := map[string]any{}
		if ts := v.OpenAPISchemaType(); len(ts) > 0 {
			s["type"] = ts[0]
		}
		if f, ok := v.(openAPIFormatted); ok && f.OpenAPISchemaFormat() != "" {
			s["format"] = f.OpenAPISchemaFormat()
			if f.OpenAPISchemaFormat() == "int-or-string" {
				s["x-kubernetes-int-or-string"] = true
				delete(s, "type")
			}
		}
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int32, reflect.Uint32, reflect.Int16, reflect.Uint16, reflect.Int8, reflect.Uint8:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.ref(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem())}
	case reflect.Interface:
		return map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	case reflect.Struct:
		if t.Name() == "RawExtension" || t.Name() == "JSON" {
			return map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
		}
		name := schemaName(t)
		if _, ok := g.schemas[name]; !ok {
			g.schemas[name] = nil // placeholder: a recursive type refers to itself
			g.schemas[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object is the schema of struct type t: its JSON fields, inlined ones merged.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	docs := map[string]string{}
	if d, ok := reflect.New(t).Elem().Interface().(interface{ SwaggerDoc() map[string]string }); ok {
		docs = d.SwaggerDoc()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" || strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range g.object(ft)["properties"].(map[string]any) {
					props[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		s := g.ref(f.Type)
		if d := docs[name]; d != "" {
			if _, isRef := s["$ref"]; isRef {
				s = map[string]any{"allOf": []any{s}, "description": d}
			} else {
				s["description"] = d
			}
		}
		props[name] = s
	}
	out := map[string]any{"type": "object", "properties": props}
	if d := docs[""]; d != "" {
		out["description"] = d
	}
	return out
}

// buildOpenAPI is gv's document: the schemas of its kinds (and what they use), and
// the paths of its resources with their operations' parameters.
func buildOpenAPI(gv schema.GroupVersion) map[string]any {
	g := &schemaGen{schemas: map[string]map[string]any{}}
	paths := map[string]any{}
	prefix := "/" + docPath(gv)
	for i := range resources {
		r := &resources[i]
		if r.gv != gv {
			continue
		}
		typ, err := store.Scheme().New(storedGVK(r))
		if err != nil {
			continue
		}
		gvkExt := map[string]string{"group": gv.Group, "version": gv.Version, "kind": r.kind}
		ref := g.ref(reflect.TypeOf(typ))
		name := strings.TrimPrefix(ref["$ref"].(string), "#/components/schemas/")
		g.schemas[name]["x-kubernetes-group-version-kind"] = []any{gvkExt}
		if lt, err := store.Scheme().New(storedGVK(r).GroupVersion().WithKind(r.kind + "List")); err == nil {
			lref := g.ref(reflect.TypeOf(lt))
			lname := strings.TrimPrefix(lref["$ref"].(string), "#/components/schemas/")
			g.schemas[lname]["x-kubernetes-group-version-kind"] = []any{map[string]string{"group": gv.Group, "version": gv.Version, "kind": r.kind + "List"}}
		}
		coll, item := prefix+"/"+r.plural, prefix+"/"+r.plural+"/{name}"
		if r.namespaced {
			coll, item = prefix+"/namespaces/{namespace}/"+r.plural, prefix+"/namespaces/{namespace}/"+r.plural+"/{name}"
		}
		body := map[string]any{"content": map[string]any{"*/*": map[string]any{"schema": ref}}, "required": true}
		ok := map[string]any{"200": map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": ref}}}}
		op := func(verb, id string, params []string, withBody bool) map[string]any {
			o := map[string]any{"operationId": id + r.kind, "x-kubernetes-action": verb,
				"x-kubernetes-group-version-kind": gvkExt, "responses": ok}
			var ps []any
			for _, p := range params {
				ps = append(ps, map[string]any{"name": p, "in": "query", "schema": map[string]any{"type": "string"}, "uniqueItems": true})
			}
			if ps != nil {
				o["parameters"] = ps
			}
			if withBody {
				o["requestBody"] = body
			}
			return o
		}
		writes := []string{"dryRun", "fieldManager", "fieldValidation"}
		if r.readOnly {
			paths[coll] = map[string]any{"get": op("list", "list", []string{"labelSelector", "fieldSelector", "watch"}, false)}
			paths[item] = map[string]any{"get": op("get", "read", nil, false)}
			continue
		}
		paths[coll] = map[string]any{"get": op("list", "list", []string{"labelSelector", "fieldSelector", "watch"}, false),
			"post": op("post", "create", writes, true), "delete": op("deletecollection", "deleteCollection", []string{"dryRun"}, false)}
		paths[item] = map[string]any{"get": op("get", "read", nil, false), "put": op("put", "replace", writes, true),
			"patch": op("patch", "patch", append(writes, "force"), true), "delete": op("delete", "delete", []string{"dryRun"}, false)}
	}
	g.ref(reflect.TypeOf(metav1.Status{}))
	return map[string]any{"openapi": "3.0.0", "info": map[string]any{"title": "Kubernetes", "version": gitVersion},
		"paths": paths, "components": map[string]any{"schemas": g.schemas}}
}

// storedGVK is the Go type's kind for r: the Gateway API's v1beta1 types are v1's.
func storedGVK(r *resource) schema.GroupVersionKind { return r.gv.WithKind(r.kind) }
