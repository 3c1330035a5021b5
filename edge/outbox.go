package edge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the outbox is SQLite
)

// The outbox is the agent's durable store: raw readings (kept for the
// retention), the running per-minute rollups, and the uplink records
// waiting for the server's acknowledgement. It is one SQLite file in WAL
// mode with synchronous=FULL, written by one goroutine. Concurrent appends
// are group-committed: they share one transaction, fsync'd once, and each
// caller is answered only after that commit. The loss window for input is
// therefore exactly the input that has not been answered yet: a reading is
// either acknowledged and durable, or not acknowledged.

// Classes of outbox data, for the size policy and the dropped counters.
const (
	ClassRaw    = "raw"    // raw readings: dropped oldest-first when full
	ClassRollup = "rollup" // uplink rollups: kept
	ClassSale   = "sale"   // POS sales: never dropped; input is refused instead
)

// ErrOutboxFull is returned when the outbox is at its size limit and the
// input cannot be stored without dropping data the policy keeps.
var ErrOutboxFull = errors.New("outbox is full: raw readings already dropped, rollups and sales are kept; input refused until the uplink drains")

const outboxSchema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, n INTEGER NOT NULL, bytes INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS minutes (sensor TEXT NOT NULL, kind TEXT NOT NULL, minute INTEGER NOT NULL, agg BLOB NOT NULL, dirty INTEGER NOT NULL, PRIMARY KEY (sensor, kind, minute)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS minutes_dirty ON minutes (minute) WHERE dirty = 1;
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, class TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS inside (pseudonym TEXT NOT NULL, sensor TEXT NOT NULL, epoch INTEGER NOT NULL, entered_at INTEGER NOT NULL, PRIMARY KEY (pseudonym, sensor)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inside_sensor ON inside (sensor);
CREATE TABLE IF NOT EXISTS visitors (pseudonym TEXT PRIMARY KEY, epoch INTEGER NOT NULL, first_day INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (key BLOB PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meters (sensor TEXT PRIMARY KEY, ts INTEGER NOT NULL, kwh REAL NOT NULL) WITHOUT ROWID;
`

// OutboxOptions configure an outbox.
type OutboxOptions struct {
	MaxBytes int64 // size limit of raw readings plus uplink records; 0 means none
	EventID  string
	K        int // k-anonymity threshold for presence-derived counts
}

// Quarantine describes an outbox file that could not be used at start.
type Quarantine struct {
	File   string // where the unusable file was moved
	Bytes  int64  // its size: what was lost
	Reason string
}

// Outbox is the durable store. Its methods are safe for concurrent use.
type Outbox struct {
	db     *sql.DB
	path   string
	opts   OutboxOptions
	stream string

	jobs chan *job
	done chan struct{}
	wg   sync.WaitGroup

	// Owned by the writer goroutine.
	cache   map[minuteKey]*minuteAgg
	nextSeq int64

	// Read by anyone.
	ackedSeq    atomic.Int64
	lastSeq     atomic.Int64
	rawBytes    atomic.Int64
	outboxBytes atomic.Int64
	droppedRaw  atomic.Int64
	quarantined atomic.Int64
	full        atomic.Bool
	notify      chan struct{} // signalled when uplink records are added
}

// job is one unit of work for the writer goroutine.
type job struct {
	readings []storedReading
	once     []byte                 // when set, the readings are stored only if no job with this key was
	seen     bool                   // set by the writer: the once key was stored before, nothing was stored
	fn       func(tx *sql.Tx) error // a write that is not an append
	after    func()                 // runs on the writer after fn commits
	err      chan error
}

// OpenOutbox opens (or creates) the outbox at path. A file that is not a
// healthy outbox is moved to quarantine/ beside it and a fresh outbox with
// a new stream is started; the returned Quarantine says what was lost.
func OpenOutbox(ctx context.Context, path string, opts OutboxOptions) (*Outbox, *Quarantine, error) {
	if opts.K == 0 {
		opts.K = 5
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
	}
	o, err := openOutbox(ctx, path, opts)
	var q *Quarantine
	if err != nil && transient(err) {
		return nil, nil, fmt.Errorf("open outbox (not quarantined: the error may pass): %w", err)
	}
	if err != nil {
		q, err = quarantine(path, err)
		if err != nil {
			return nil, nil, err
		}
		if o, err = openOutbox(ctx, path, opts); err != nil {
			return nil, q, fmt.Errorf("open fresh outbox: %w", err)
		}
	}
	n, _ := countQuarantined(path)
	o.quarantined.Store(n)
	o.start()
	return o, q, nil
}

// transient reports whether an error opening the outbox says nothing
// about the file's health (another process holds it, or the disk is
// full), so that a healthy outbox is never quarantined for it.
func transient(err error) bool {
	msg := err.Error()
	for _, s := range []string{"database is locked", "SQLITE_BUSY", "no space left", "disk is full", "SQLITE_FULL", "out of memory"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// quarantine moves the outbox file (and its WAL) aside.
func quarantine(path string, cause error) (*Quarantine, error) {
	dir := filepath.Join(filepath.Dir(path), "quarantine")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create quarantine dir: %w", err)
	}
	q := &Quarantine{Reason: cause.Error()}
	stamp := time.Now().UTC().Format("20060102T150405.000000000Z")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			continue
		}
		dst := filepath.Join(dir, filepath.Base(path)+"."+stamp+suffix)
		if err := os.Rename(path+suffix, dst); err != nil {
			return nil, fmt.Errorf("quarantine %s: %w", path+suffix, err)
		}
		q.Bytes += fi.Size()
		if suffix == "" {
			q.File = dst
		}
	}
	return q, syncDir(filepath.Dir(path))
}

func countQuarantined(path string) (int64, error) {
	ents, err := os.ReadDir(filepath.Join(filepath.Dir(path), "quarantine"))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".db-wal" && filepath.Ext(e.Name()) != ".db-shm" && !hasSuffix(e.Name(), "-wal", "-shm") {
			n++
		}
	}
	return n, nil
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if len(s) >= len(x) && s[len(s)-len(x):] == x {
			return true
		}
	}
	return false
}

func openOutbox(ctx context.Context, path string, opts OutboxOptions) (*Outbox, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	db.SetMaxOpenConns(4)
	o := &Outbox{db: db, path: path, opts: opts, jobs: make(chan *job, 1024), done: make(chan struct{}),
		cache: map[minuteKey]*minuteAgg{}, notify: make(chan struct{}, 1)}
	if err := o.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return o, nil
}

// load checks the file and reads the stream state.
func (o *Outbox) load(ctx context.Context) error {
	var check string
	if err := o.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return fmt.Errorf("check outbox: %w", err)
	}
	if check != "ok" {
		return fmt.Errorf("outbox failed its integrity check: %s", check)
	}
	if _, err := o.db.ExecContext(ctx, outboxSchema); err != nil {
		return fmt.Errorf("create outbox schema: %w", err)
	}
	meta := map[string]string{}
	rows, err := o.db.QueryContext(ctx, "SELECT k, v FROM meta")
	if err != nil {
		return fmt.Errorf("read meta: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("read meta: %w", err)
		}
		meta[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read meta: %w", err)
	}
	if meta["stream"] == "" {
		var n int64
		if err := o.db.QueryRowContext(ctx, "SELECT count(*) FROM outbox").Scan(&n); err != nil || n > 0 {
			return errors.New("outbox has records but no stream id")
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("new stream id: %w", err)
		}
		meta["stream"], meta["next_seq"], meta["acked_seq"], meta["dropped_raw"] = id.String(), "1", "0", "0"
		for k, v := range meta {
			if _, err := o.db.ExecContext(ctx, "INSERT INTO meta (k, v) VALUES (?, ?)", k, v); err != nil {
				return fmt.Errorf("write meta: %w", err)
			}
		}
	}
	o.stream = meta["stream"]
	var err1, err2, err3 error
	o.nextSeq, err1 = strconv.ParseInt(meta["next_seq"], 10, 64)
	acked, err2 := strconv.ParseInt(meta["acked_seq"], 10, 64)
	dropped, err3 := strconv.ParseInt(meta["dropped_raw"], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || o.nextSeq < 1 {
		return fmt.Errorf("outbox meta is damaged: %v", err)
	}
	var minSeq, maxSeq sql.NullInt64
	var ob, rb sql.NullInt64
	if err := o.db.QueryRowContext(ctx, "SELECT min(seq), max(seq), sum(length(body)) FROM outbox").Scan(&minSeq, &maxSeq, &ob); err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	if maxSeq.Valid && maxSeq.Int64 >= o.nextSeq {
		return fmt.Errorf("outbox meta is damaged: next seq %d but records up to %d", o.nextSeq, maxSeq.Int64)
	}
	if err := o.db.QueryRowContext(ctx, "SELECT sum(bytes) FROM raw").Scan(&rb); err != nil {
		return fmt.Errorf("read raw: %w", err)
	}
	if minSeq.Valid && minSeq.Int64-1 > acked {
		acked = minSeq.Int64 - 1
	}
	o.ackedSeq.Store(acked)
	o.lastSeq.Store(o.nextSeq - 1)
	o.outboxBytes.Store(ob.Int64)
	o.rawBytes.Store(rb.Int64)
	o.droppedRaw.Store(dropped)
	return nil
}

// Stream returns the outbox's stream id.
func (o *Outbox) Stream() string { return o.stream }

// Path returns the outbox file.
func (o *Outbox) Path() string { return o.path }

func (o *Outbox) start() {
	o.wg.Add(1)
	go o.writer()
}

// Close stops the writer and closes the file.
func (o *Outbox) Close() error {
	close(o.done)
	o.wg.Wait()
	return o.db.Close()
}

// submit hands j to the writer and waits for its commit.
func (o *Outbox) submit(ctx context.Context, j *job) error {
	j.err = make(chan error, 1)
	select {
	case o.jobs <- j:
	case <-o.done:
		return errors.New("outbox closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over the job runs; wait for it even if ctx ends, so that
	// the caller never reports failure for input that was stored.
	select {
	case err := <-j.err:
		return err
	case <-o.done:
		return errors.New("outbox closed")
	}
}

// Append stores readings durably; it returns after the fsync'd commit.
func (o *Outbox) Append(ctx context.Context, rs []storedReading) error {
	if len(rs) == 0 {
		return nil
	}
	return o.submit(ctx, &job{readings: rs})
}

// AppendOnce stores readings durably unless readings with the same key
// were stored before (within a day), and reports whether they were: an
// MQTT message redelivered after a crash between its commit and its ack,
// or an HTTP request resent with its Idempotency-Key, is not counted twice.
func (o *Outbox) AppendOnce(ctx context.Context, key []byte, rs []storedReading) (seen bool, err error) {
	if len(rs) == 0 {
		return false, nil
	}
	j := &job{readings: rs, once: key}
	if err := o.submit(ctx, j); err != nil {
		return false, err
	}
	return j.seen, nil // written by the writer before it answered
}

// write runs fn in a transaction of its own on the writer goroutine.
func (o *Outbox) write(ctx context.Context, fn func(tx *sql.Tx) error, after func()) error {
	return o.submit(ctx, &job{fn: fn, after: after})
}

// maxGroup bounds the readings that one group commit takes.
const maxGroup = 200000

func (o *Outbox) writer() {
	defer o.wg.Done()
	for {
		var first *job
		select {
		case first = <-o.jobs:
		case <-o.done:
			return
		}
		if first.fn != nil {
			first.err <- o.runFn(first)
			continue
		}
		group := []*job{first}
		n := len(first.readings)
		var next *job
	collect:
		for n < maxGroup {
			select {
			case j := <-o.jobs:
				if j.fn != nil {
					next = j
					break collect
				}
				group = append(group, j)
				n += len(j.readings)
			default:
				break collect
			}
		}
		o.commitGroup(group)
		if next != nil {
			next.err <- o.runFn(next)
		}
	}
}

func (o *Outbox) runFn(j *job) error {
	tx, err := o.db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := j.fn(tx); err != nil {
		o.cache = map[minuteKey]*minuteAgg{}
		return err
	}
	if err := tx.Commit(); err != nil {
		o.cache = map[minuteKey]*minuteAgg{}
		return fmt.Errorf("commit: %w", err)
	}
	if j.after != nil {
		j.after()
	}
	return nil
}
