package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// record is one line of the store's file: a put carries the whole object, a delete
// its key. The file is a log: replaying it in order gives the store.
type record struct {
	Version    uint64          `json:"v"`
	Op         string          `json:"op"` // put | del
	APIVersion string          `json:"apiVersion,omitempty"`
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace,omitempty"`
	Name       string          `json:"name,omitempty"`
	Object     json.RawMessage `json:"object,omitempty"`
}

// disk appends every write to the file with one write(2): a killed process loses
// nothing the kernel has (the lab's state directory is in memory anyway), so there is
// no fsync. The log is rewritten as a snapshot once it holds many more lines than
// there are objects.
type disk struct {
	path  string
	f     *os.File
	lines int
	err   error // the first write error; Err reports it
	store *Store
	// batching collects lines in buf until flush: a batch of writes is one write(2).
	batching bool
	buf      []byte
}

// flush writes what a batch collected.
func (d *disk) flush() {
	d.batching = false
	if len(d.buf) == 0 {
		return
	}
	if _, err := d.f.Write(d.buf); err != nil {
		d.fail(err)
	}
	d.buf = d.buf[:0]
	if d.lines > 2*len(d.store.objs)+1024 {
		d.fail(d.compact())
	}
}

// Open loads the store persisted at path (a new empty one when the file does not exist)
// and persists every later write there.
func Open(path string) (*Store, error) {
	s := New()
	lines, err := s.load(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.disk = &disk{path: path, f: f, lines: lines, store: s}
	return s, nil
}

// Close stops persisting.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disk == nil {
		return nil
	}
	err := errors.Join(s.disk.err, s.disk.f.Close())
	s.disk = nil
	return err
}

// Err is the first error persisting a write met, if any.
func (s *Store) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.disk == nil {
		return nil
	}
	return s.disk.err
}

func (s *Store) load(path string) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	// First pass: which record is each object's last; only those are decoded, in
	// parallel (a log holds many versions of busy objects such as Pods).
	type last struct {
		r    record
		line int
	}
	final := map[Key]*last{}
	var order []Key
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record
		err := decodeRecord(line, &r)
		if err == nil && !bytes.HasSuffix(data, []byte("\n")) && bytes.HasSuffix(data, line) && !json.Valid(r.Object) {
			err = errors.New("torn object") // only the last line can be cut short: check it whole
		}
		if err != nil {
			// A line cut short by a crash mid-write can only be the last one.
			if !bytes.HasSuffix(data, []byte("\n")) && bytes.HasSuffix(data, line) {
				break
			}
			return 0, fmt.Errorf("store: %s line %d: %w", path, lines+1, err)
		}
		lines++
		s.gen = max(s.gen, r.Version)
		switch r.Op {
		case "put":
			if r.Name == "" { // written before records named their object
				o, err := Decode(r.APIVersion, r.Kind, r.Object)
				if err != nil {
					return 0, fmt.Errorf("store: %s line %d: %w", path, lines, err)
				}
				r.Namespace, r.Name = o.GetNamespace(), o.GetName()
			}
			k := Key{r.Kind, r.Namespace, r.Name}
			if final[k] == nil {
				order = append(order, k)
			}
			r.Object = append(json.RawMessage(nil), r.Object...)
			final[k] = &last{r, lines}
		case "del":
			delete(final, Key{r.Kind, r.Namespace, r.Name})
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	keys := make([]Key, 0, len(final))
	for _, k := range order {
		if final[k] != nil {
			keys = append(keys, k)
		}
	}
	objs := make([]Object, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				l := final[keys[i]]
				objs[i], errs[i] = Decode(l.r.APIVersion, l.r.Kind, l.r.Object)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("store: %s line %d: %w", path, l.line, errs[i])
				}
			}
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if errs[i] != nil {
			return 0, errs[i]
		}
		e := &entry{obj: objs[i], rv: final[k].r.Version, raw: final[k].r.Object}
		s.objs[k] = e
		if s.byKind[k.Kind] == nil {
			s.byKind[k.Kind] = map[Key]*entry{}
		}
		s.byKind[k.Kind][k] = e
	}
	clear(s.sorted)
	return lines, nil
}

// put persists o and returns its JSON.
func (d *disk) put(o Object, v uint64) []byte {
	raw, err := json.Marshal(o)
	if err != nil {
		d.fail(err)
		return nil
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	d.write(record{Version: v, Op: "put", APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName(), Object: raw})
	return raw
}

func (d *disk) del(k Key, v uint64) {
	d.write(record{Version: v, Op: "del", Kind: k.Kind, Namespace: k.Namespace, Name: k.Name})
}

func (d *disk) write(r record) {
	line, err := encode(r)
	if err != nil {
		d.fail(err)
		return
	}
	d.lines++
	if d.batching {
		d.buf = append(append(d.buf, line...), '\n')
		return
	}
	if _, err := d.f.Write(append(line, '\n')); err != nil {
		d.fail(err)
		return
	}
	if d.lines > 2*len(d.store.objs)+1024 {
		d.fail(d.compact())
	}
}

// objectMarker is where encode puts a record's object: last, after its header.
var objectMarker = []byte(`,"object":`)

// decodeRecord reads a line written by encode, parsing only its header: the object
// is taken as it stands (decoded later, and only for each object's last version).
func decodeRecord(line []byte, r *record) error {
	i := bytes.Index(line, objectMarker)
	if i < 0 || line[len(line)-1] != '}' {
		return json.Unmarshal(line, r) // no object, or written otherwise
	}
	head := append(line[:i:i], '}')
	if err := json.Unmarshal(head, r); err != nil {
		return err
	}
	r.Object = line[i+len(objectMarker) : len(line)-1]
	if len(r.Object) == 0 || r.Object[0] != '{' {
		return fmt.Errorf("object is not a JSON object")
	}
	return nil
}

// encode renders a record as one line. The object is spliced in as it is:
// encoding/json would validate and compact the raw message again, which costs more
// than marshalling it did.
func encode(r record) ([]byte, error) {
	obj := r.Object
	r.Object = nil
	head, err := json.Marshal(r)
	if err != nil || obj == nil {
		return head, err
	}
	line := append(head[:len(head)-1], `,"object":`...)
	line = append(line, obj...)
	return append(line, '}'), nil
}

func (d *disk) fail(err error) {
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("store: persisting to %s: %w", d.path, err)
	}
}

// compact rewrites the log as one put per object, through a temporary file and a
// rename so that a crash leaves either the old log or the new one.
func (d *disk) compact() error {
	tmp := d.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := 0
	for _, e := range d.store.objs {
		raw := e.raw
		if raw == nil {
			var err error
			if raw, err = json.Marshal(e.obj); err != nil {
				f.Close()
				return err
			}
		}
		gvk := e.obj.GetObjectKind().GroupVersionKind()
		line, _ := encode(record{Version: e.rv, Op: "put", APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Namespace: e.obj.GetNamespace(), Name: e.obj.GetName(), Object: raw})
		w.Write(append(line, '\n'))
		n++
	}
	// A last line that keeps the store's generation when the newest write was a delete.
	line, _ := json.Marshal(record{Version: d.store.gen, Op: "gen"})
	w.Write(append(line, '\n'))
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, d.path); err != nil {
		return err
	}
	nf, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	d.f.Close()
	d.f, d.lines = nf, n+1
	return nil
}

// Path is where a lab's store lives inside its state directory.
func Path(stateDir string) string { return filepath.Join(stateDir, "store.ndjson") }
