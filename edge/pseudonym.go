package edge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Keyring holds the pseudonym key of the current epoch. Presence
// identifiers become HMAC-SHA256(key, id); the key lives in Dir only for
// its epoch (Epoch long, counted from the Unix epoch) and is deleted when
// the epoch ends, which unlinks every pseudonym made under it.
type Keyring struct {
	Dir   string
	Epoch time.Duration

	mu    sync.Mutex
	epoch int64
	key   []byte
}

// EpochOf returns the number of the key epoch that t falls in.
func (k *Keyring) EpochOf(t time.Time) int64 {
	return t.Unix() / int64(k.Epoch/time.Second)
}

// Pseudonym returns the pseudonym of id at now and the key epoch it
// belongs to, rotating the key when a new epoch has begun.
func (k *Keyring) Pseudonym(id string, now time.Time) (string, int64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.EpochOf(now)
	if k.key == nil || e != k.epoch {
		if err := k.rotate(e); err != nil {
			return "", 0, err
		}
	}
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16]), e, nil
}

// rotate loads or creates the key of epoch e and destroys every other key.
func (k *Keyring) rotate(e int64) error {
	if err := os.MkdirAll(k.Dir, 0o700); err != nil {
		return fmt.Errorf("create key dir: %w", err)
	}
	name := filepath.Join(k.Dir, "epoch-"+strconv.FormatInt(e, 10)+".key")
	key, err := os.ReadFile(name)
	if err != nil || len(key) != 32 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("make key: %w", err)
		}
		if err := writeFileDurable(name, key, 0o600); err != nil {
			return fmt.Errorf("store key: %w", err)
		}
	}
	if err := k.destroyOthers(e); err != nil {
		return err
	}
	k.epoch, k.key = e, key
	return nil
}

// destroyOthers overwrites and removes the key files of epochs other than e.
func (k *Keyring) destroyOthers(e int64) error {
	entries, err := os.ReadDir(k.Dir)
	if err != nil {
		return fmt.Errorf("read key dir: %w", err)
	}
	keep := "epoch-" + strconv.FormatInt(e, 10) + ".key"
	for _, ent := range entries {
		n := ent.Name()
		if n == keep || !strings.HasPrefix(n, "epoch-") {
			continue
		}
		p := filepath.Join(k.Dir, n)
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			f.Write(make([]byte, 32))
			f.Sync()
			f.Close()
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("destroy key %s: %w", n, err)
		}
	}
	return syncDir(k.Dir)
}

// writeFileDurable writes a file atomically: temp file, fsync, rename,
// fsync of the directory.
func writeFileDurable(name string, data []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
