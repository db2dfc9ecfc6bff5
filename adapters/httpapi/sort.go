package httpapi

import (
	"cmp"
	"slices"
)

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

// sortRanking orders by points, then completed orders, both descending, then id.
func sortRanking[T any](items []T, key func(T) (int, int, string)) {
	slices.SortStableFunc(items, func(a, b T) int {
		pa, ca, ia := key(a)
		pb, cb, ib := key(b)
		if c := cmp.Compare(pb, pa); c != 0 {
			return c
		}
		if c := cmp.Compare(cb, ca); c != 0 {
			return c
		}
		return cmp.Compare(ia, ib)
	})
}
