package memstore_test

import (
	"testing"

	"github.com/redlane/redlane/adapters/memstore"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(testing.TB) domain.EventStore { return memstore.New() },
	})
}
