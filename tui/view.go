package tui

import (
	tea "charm.land/bubbletea/v2"
)

// Kinds of object a view can select.
const (
	kindPod  = "Pod"
	kindNode = "Node"
	kindHost = "Host"
)

// target is one selectable object.
type target struct {
	Kind, Namespace, Name string
}

func (t target) String() string {
	if t.Kind == kindPod {
		return "pod " + podKey(t.Namespace, t.Name)
	}
	if t.Kind == kindService {
		return "svc " + podKey(t.Namespace, t.Name)
	}
	if t.Kind == kindDeployment {
		return "deploy " + podKey(t.Namespace, t.Name)
	}
	if t.Kind == kindEndpoints {
		return "ep " + podKey(t.Namespace, t.Name)
	}
	if t.Kind == kindNode {
		return "node " + t.Name
	}
	return "host " + t.Name
}

// view is one screen of a lab. The app owns the data and hands each view the new
// labData; a view precomputes its rows then, and draws only what fits.
type view interface {
	name() string
	setData(d *labData)
	setSize(w, h int)
	setFilter(f string)
	filter() string
	key(msg tea.KeyPressMsg) tea.Cmd
	render() string
	selected() (target, bool)
}
