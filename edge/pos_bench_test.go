package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
)

// BenchmarkPOSSale rings up one-line cash sales at the till over HTTP,
// one at a time: each is answered after its own fsync'd commit.
func BenchmarkPOSSale(b *testing.B) {
	tee := item("Tee", 500, 1<<40)
	f := newFakePOSServer(b, uuid.Must(uuid.NewV7()).String(), tee)
	a := startAgent(b, posConfig(b, f))
	waitItems(b, a, 1)
	f.setDown(true)
	body := saleBody(popkit.PaymentCash, 500, tee, 1)
	for b.Loop() {
		resp, err := http.Post("http://"+a.Addr()+"/pos/api/sales", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("sale: %s", resp.Status)
		}
	}
}
