package app

import (
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/all"
)

// views are the read models every serving process keeps up to date.
var views = all.Views()

// Views are the read models every serving process keeps up to date.
func Views() []func() projections.View { return views }

// ViewNamed is the view of that name.
func ViewNamed(name string) (func() projections.View, bool) {
	for _, nv := range views {
		if nv().Name() == name {
			return nv, true
		}
	}
	return nil, false
}

// ViewNames are the views' names.
func ViewNames() []string {
	var out []string
	for _, nv := range views {
		out = append(out, nv().Name())
	}
	return out
}
