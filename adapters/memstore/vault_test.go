package memstore_test

import (
	"testing"

	"github.com/redlane/redlane/adapters/memstore"
	"github.com/redlane/redlane/adapters/vaulttest"
	"github.com/redlane/redlane/service"
)

func TestVaultContract(t *testing.T) {
	vaulttest.Run(t, func(*testing.T) service.Vault { return memstore.NewVault([]byte("pepper")) })
}
