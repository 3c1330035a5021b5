//go:build linux && (amd64 || arm64)

package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// syncProbe is a SQLite VFS that wraps the default one ("unix") and counts,
// for every write-ahead log by path, the writes made since the log was last
// synced. A database opened with ?vfs=syncProbeVFS behaves exactly as on
// the default VFS; the probe only watches xWrite, xSync and xClose of the
// files opened as a WAL. A sync through any handle of a file syncs the
// whole file, so the count is kept per path, not per handle.
//
// SQLite keeps C pointers to the VFS and its method tables, so they live in
// memory from the C allocator of modernc.org/libc, never on the Go heap.
// The probe is built where that allocator's size_t is uint64 (linux on
// amd64 and arm64), the machines the durability test runs on.
type syncProbe struct {
	mu       sync.Mutex
	files    map[uintptr]*probedFile // open WAL handles by sqlite3_file pointer
	unsynced map[string]int          // WAL path -> writes since its last sync
	syncs    map[string]int          // WAL path -> syncs
	tables   map[uintptr]uintptr     // base io_methods -> wrapped copy
	base     uintptr                 // the wrapped sqlite3_vfs
}

// probedFile is one open WAL handle.
type probedFile struct {
	path    string
	methods uintptr // the base VFS's io_methods for this file
}

// syncProbeVFS is the name the probe is registered under.
const syncProbeVFS = "popkit_syncprobe"

var (
	probe     = &syncProbe{files: map[uintptr]*probedFile{}, unsynced: map[string]int{}, syncs: map[string]int{}, tables: map[uintptr]uintptr{}}
	probeOnce sync.Once
	probeErr  error
)

// registerSyncProbe registers the probe VFS once per process.
func registerSyncProbe(tb testing.TB) *syncProbe {
	tb.Helper()
	probeOnce.Do(func() { probeErr = probe.register() })
	if probeErr != nil {
		tb.Fatal(probeErr)
	}
	return probe
}

func (p *syncProbe) register() error {
	tls := libc.NewTLS() // kept: SQLite holds the name it allocates
	p.base = sqlite3.Xsqlite3_vfs_find(tls, 0)
	if p.base == 0 {
		return fmt.Errorf("no default sqlite vfs")
	}
	size := unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})
	vfs := libc.Xcalloc(tls, 1, uint64(size))
	name, err := libc.CString(syncProbeVFS)
	if vfs == 0 || err != nil {
		return fmt.Errorf("allocate sqlite vfs: %v", err)
	}
	v := (*sqlite3.Tsqlite3_vfs)(cptr(vfs))
	*v = *(*sqlite3.Tsqlite3_vfs)(cptr(p.base))
	v.FpNext = 0
	v.FzName = name
	v.FxOpen = cfunc(probeOpen)
	if rc := sqlite3.Xsqlite3_vfs_register(tls, vfs, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("register sqlite vfs: code %d", rc)
	}
	return nil
}

// Unsynced returns how many writes to the WAL at path no sync has covered.
func (p *syncProbe) Unsynced(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unsynced[path]
}

// Syncs returns how often the WAL at path was synced.
func (p *syncProbe) Syncs(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.syncs[path]
}

// wrapped returns a copy of the base io_methods table whose xWrite, xSync
// and xClose go through the probe. Called with p.mu held.
func (p *syncProbe) wrapped(tls *libc.TLS, methods uintptr) uintptr {
	if w, ok := p.tables[methods]; ok {
		return w
	}
	w := libc.Xcalloc(tls, 1, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
	if w == 0 {
		return methods // out of memory: leave the file unwatched
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(w))
	*m = *(*sqlite3.Tsqlite3_io_methods)(cptr(methods))
	m.FxWrite = cfunc(probeWrite)
	m.FxSync = cfunc(probeSync)
	m.FxClose = cfunc(probeClose)
	p.tables[methods] = w
	return w
}

// file returns the probed handle pFile.
func (p *syncProbe) file(pFile uintptr) *probedFile {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.files[pFile]
}

func probeOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cptr(probe.base))
	open := *(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&base.FxOpen))
	rc := open(tls, probe.base, zName, pFile, flags, pOutFlags)
	f := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if rc != sqlite3.SQLITE_OK || f.FpMethods == 0 || flags&sqlite3.SQLITE_OPEN_WAL == 0 || zName == 0 {
		return rc
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	probe.files[pFile] = &probedFile{path: libc.GoString(zName), methods: f.FpMethods}
	f.FpMethods = probe.wrapped(tls, f.FpMethods)
	return rc
}

func probeWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	pf := probe.file(pFile)
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(pf.methods))
	write := *(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxWrite))
	rc := write(tls, pFile, zBuf, iAmt, iOfst)
	if rc == sqlite3.SQLITE_OK {
		probe.mu.Lock()
		probe.unsynced[pf.path]++
		probe.mu.Unlock()
	}
	return rc
}

func probeSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	pf := probe.file(pFile)
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(pf.methods))
	// What the probe counts as synced is what was written before the sync
	// started; a write racing it stays counted.
	probe.mu.Lock()
	before := probe.unsynced[pf.path]
	probe.mu.Unlock()
	syncf := *(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxSync))
	rc := syncf(tls, pFile, flags)
	if rc == sqlite3.SQLITE_OK {
		probe.mu.Lock()
		probe.unsynced[pf.path] -= before
		probe.syncs[pf.path]++
		probe.mu.Unlock()
	}
	return rc
}

func probeClose(tls *libc.TLS, pFile uintptr) int32 {
	pf := probe.file(pFile)
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(pf.methods))
	closef := *(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxClose))
	rc := closef(tls, pFile)
	probe.mu.Lock()
	delete(probe.files, pFile)
	probe.mu.Unlock()
	return rc
}

// cfunc returns the C function pointer modernc.org/libc uses for the Go
// function f: the data word of the interface holding it.
func cfunc(f any) uintptr { return (*[2]uintptr)(unsafe.Pointer(&f))[1] }

// cptr turns an address in C memory into a pointer.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
