package popkit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// module is the import path of this module.
const module = "github.com/popkit/popkit"

// listedPackage is the part of `go list -json` output the rules read.
type listedPackage struct {
	ImportPath string
	Standard   bool
	Deps       []string
}

// depRule forbids packages under one of Forbidden to every package under
// one of Packages (paths relative to the module; "" is the root package
// alone, any other entry covers the package and those below it). A rule
// whose packages do not exist yet matches nothing.
type depRule struct {
	Name      string
	Packages  []string
	Forbidden []string
	// StdOnly, when set, allows only the standard library and Allowed.
	StdOnly bool
	Allowed []string
}

// serverPackages are the control plane's packages and its heavy
// dependencies, none of which the edge agent may link.
var serverPackages = []string{
	module + "/http", module + "/web", module + "/sqlstore", module + "/jobs",
	module + "/sim",
	"github.com/jackc/pgx/v5", "github.com/getkin/kin-openapi", "github.com/riverqueue/river",
}

// depRules are popkit's dependency rules (issue 16 item 6).
var depRules = []depRule{
	{
		Name:     "the domain imports only the standard library and uuid",
		Packages: []string{""},
		StdOnly:  true,
		Allowed:  []string{"github.com/google/uuid"},
	},
	{
		Name:      "transport, workers, edge and domain services never import the store",
		Packages:  []string{"http", "web", "jobs", "edge", "fulfil", "forecast", "plan", "kpi", "cmd/popkit-edge"},
		Forbidden: []string{module + "/sqlstore"},
	},
	{
		Name:      "the edge agent imports no server package",
		Packages:  []string{"edge", "cmd/popkit-edge"},
		Forbidden: serverPackages,
	},
}

// under reports whether path is prefix or a package below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// covers reports whether the rule applies to the package at path.
func (r depRule) covers(path string) bool {
	for _, p := range r.Packages {
		if p == "" {
			if path == module {
				return true
			}
			continue
		}
		if under(path, module+"/"+p) {
			return true
		}
	}
	return false
}

// checkDeps returns one line per broken rule: the package, the dependency
// it must not have, and the rule.
func checkDeps(pkgs []listedPackage, rules []depRule) []string {
	std := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			std[p.ImportPath] = true
		}
	}
	var broken []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !r.covers(p.ImportPath) {
				continue
			}
			for _, d := range p.Deps {
				bad := false
				for _, f := range r.Forbidden {
					bad = bad || under(d, f)
				}
				if r.StdOnly && !std[d] && !under(d, module) {
					bad = true
					for _, a := range r.Allowed {
						if under(d, a) {
							bad = false
						}
					}
				}
				if bad {
					broken = append(broken, p.ImportPath+" imports "+d+": "+r.Name)
				}
			}
		}
	}
	return broken
}

// listPackages runs `go list -deps -json ./...` in the module root: every
// package of the module and everything they import (tests excluded).
func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.Bytes())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependencyRules checks depRules against every package of the module.
func TestDependencyRules(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	// Guard against a listing that silently covers nothing.
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.ImportPath] = true
	}
	for _, want := range []string{module, module + "/edge", module + "/http", module + "/jobs", module + "/sqlstore", module + "/cmd/popkit-edge"} {
		if !seen[want] {
			t.Fatalf("go list did not list %s", want)
		}
	}
	for _, b := range checkDeps(pkgs, depRules) {
		t.Error(b)
	}
}

// TestCheckDepsCatchesViolations feeds checkDeps a made-up module that
// breaks each rule once, so a rule that stops matching fails here.
func TestCheckDepsCatchesViolations(t *testing.T) {
	t.Parallel()
	pkgs := []listedPackage{
		{ImportPath: "fmt", Standard: true},
		{ImportPath: "database/sql", Standard: true},
		{ImportPath: "github.com/google/uuid"},
		{ImportPath: "github.com/spf13/cobra"},
		{ImportPath: module, Deps: []string{"fmt", "github.com/google/uuid", "github.com/spf13/cobra"}},
		{ImportPath: module + "/sqlstore", Deps: []string{"database/sql", module}},
		{ImportPath: module + "/jobs", Deps: []string{module, module + "/sqlstore"}},
		{ImportPath: module + "/edge/cli", Deps: []string{module, module + "/http"}},
		{ImportPath: module + "/http", Deps: []string{module}},
		{ImportPath: module + "/httpx", Deps: []string{module + "/sqlstore"}},
	}
	got := checkDeps(pkgs, depRules)
	want := []string{
		module + " imports github.com/spf13/cobra: " + depRules[0].Name,
		module + "/jobs imports " + module + "/sqlstore: " + depRules[1].Name,
		module + "/edge/cli imports " + module + "/http: " + depRules[2].Name,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("checkDeps found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
