package edge

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerImports keeps the edge binary's dependencies deliberate: the
// agent must not pull in the control plane's store or API.
func TestNoServerImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"github.com/popkit/popkit/sqlstore",
		"github.com/popkit/popkit/http",
		"github.com/popkit/popkit/sim",
		"github.com/jackc/pgx/v5",
		"github.com/getkin/kin-openapi",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed %d packages: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("edge imports %s", d)
			}
		}
	}
}
