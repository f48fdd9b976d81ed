package proxy

import (
	"context"
	"strings"

	"sigs.k8s.io/knftables"
)

// elementStore mirrors one set or map of the table (upstream's nftElementStorage):
// it remembers what the kernel holds, so a sync adds only new or changed elements
// and deletes only the ones no Service wants any more.
type elementStore struct {
	kind, name string            // "set" or "map", and its name
	elements   map[string]string // joined key -> joined value
	leftover   map[string]bool   // keys not (yet) wanted in this sync
	// onEnsure, when set, learns every key a sync wants (the proxier records which
	// Service wanted which elements, to replay an unchanged Service without work).
	onEnsure func(s *elementStore, key string)
}

func newElementStore(kind, name string) *elementStore {
	return &elementStore{kind: kind, name: name, elements: map[string]string{}, leftover: map[string]bool{}}
}

func join(s []string) string { return strings.Join(s, " . ") }

// reload reads the elements back from nftables (on a full sync, when our memory of
// them may be wrong); if that fails the container is flushed and starts empty.
func (s *elementStore) reload(ctx context.Context, tx *knftables.Transaction, nft knftables.Interface) {
	clear(s.elements)
	defer s.startSync()
	elems, err := nft.ListElements(ctx, s.kind, s.name)
	if err != nil {
		if !knftables.IsNotFound(err) {
			if s.kind == "set" {
				tx.Flush(&knftables.Set{Name: s.name})
			} else {
				tx.Flush(&knftables.Map{Name: s.name})
			}
		}
		return
	}
	for _, e := range elems {
		s.elements[join(e.Key)] = join(e.Value)
	}
}

// startSync marks every element as leftover until ensure claims it.
func (s *elementStore) startSync() {
	clear(s.leftover)
	for k := range s.elements {
		s.leftover[k] = true
	}
}

// ensure adds key (: value) unless it is already there with the same value. The
// first claim of a key in a sync wins; later ones are ignored.
func (s *elementStore) ensure(tx *knftables.Transaction, key, value []string, comment string) {
	k, v := join(key), join(value)
	if s.onEnsure != nil {
		s.onEnsure(s, k)
	}
	elem := func() *knftables.Element {
		e := &knftables.Element{Key: key, Value: value}
		if comment != "" {
			e.Comment = &comment
		}
		if s.kind == "set" {
			e.Set = s.name
		} else {
			e.Map = s.name
		}
		return e
	}
	old, exists := s.elements[k]
	switch {
	case !exists:
		tx.Add(elem())
	case !s.leftover[k]:
		return // already claimed in this sync
	case old != v:
		tx.Delete(elem())
		tx.Add(elem())
	}
	s.elements[k] = v
	delete(s.leftover, k)
}

// keep claims an element already there, unchanged (a replayed Service's).
func (s *elementStore) keep(k string) {
	delete(s.leftover, k)
}

// has reports whether key was claimed in this sync.
func (s *elementStore) claimed(key []string) bool {
	k := join(key)
	_, ok := s.elements[k]
	return ok && !s.leftover[k]
}

// cleanup deletes the elements no one claimed.
func (s *elementStore) cleanup(tx *knftables.Transaction) {
	for k := range s.leftover {
		e := &knftables.Element{Key: strings.Split(k, " . ")}
		if s.kind == "set" {
			e.Set = s.name
		} else {
			e.Map = s.name
		}
		tx.Delete(e)
		delete(s.elements, k)
	}
	clear(s.leftover) // the next full sync marks everything again; an incremental one marks what it releases
}
