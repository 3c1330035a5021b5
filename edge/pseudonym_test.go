package edge

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestKeyringEpochs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := &Keyring{Dir: dir, Epoch: 30 * 24 * time.Hour}
	start := time.Unix(k.EpochOf(time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC))*int64(30*24*3600), 0)
	tests := []struct {
		name     string
		at       time.Time
		sameAs   string // name of the case whose pseudonym must be equal
		differTo string // name of the case whose pseudonym must differ
	}{
		{"epoch start", start, "", ""},
		{"same epoch later", start.Add(29 * 24 * time.Hour), "epoch start", ""},
		{"next epoch", start.Add(30 * 24 * time.Hour), "", "epoch start"},
		{"next epoch later", start.Add(31 * 24 * time.Hour), "next epoch", ""},
	}
	got := map[string]string{}
	for _, tt := range tests {
		p, e, err := k.Pseudonym("aa:bb:cc:dd:ee:ff", tt.at)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if e != k.EpochOf(tt.at) {
			t.Errorf("%s: epoch %d, want %d", tt.name, e, k.EpochOf(tt.at))
		}
		got[tt.name] = p
		if tt.sameAs != "" && p != got[tt.sameAs] {
			t.Errorf("%s: pseudonym changed within the epoch", tt.name)
		}
		if tt.differTo != "" && p == got[tt.differTo] {
			t.Errorf("%s: pseudonym unchanged across epochs", tt.name)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "epoch-*"))
		if len(files) != 1 {
			t.Errorf("%s: key files %v, want only the current epoch's", tt.name, files)
		}
	}
	// A restarted agent within the epoch uses the same key.
	k2 := &Keyring{Dir: dir, Epoch: k.Epoch}
	p, _, err := k2.Pseudonym("aa:bb:cc:dd:ee:ff", start.Add(31*24*time.Hour))
	if err != nil || p != got["next epoch"] {
		t.Errorf("after restart: %s, %v; want the same pseudonym", p, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "epoch-"+itoa(k.EpochOf(start))+".key")); b != nil {
		t.Error("the key of the ended epoch still exists")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
