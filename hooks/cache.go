package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Cache keeps pipeline job lists on a runner host so that the many jobs of
// one pipeline starting together cause one listing, not one each. Entries
// are keyed by GitLab URL, project and pipeline, written atomically with
// mode 0600, and hold no token. A file lock makes concurrent processes wait
// for the one fetch in flight instead of fetching too.
type Cache struct {
	Dir string
	TTL time.Duration
	// Now and LockPoll may be set by tests; defaults time.Now and 20ms.
	Now      func() time.Time
	LockPoll time.Duration
}

// cacheEntry is what a cache file holds.
type cacheEntry struct {
	Key       string    `json:"key"`
	FetchedAt time.Time `json:"fetched_at"`
	Source    string    `json:"source"`
	Listing   listing   `json:"listing"`
}

// DefaultCacheDir is the user's cache directory plus pipeline-artifacts.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set --cache-dir): %w", err)
	}
	return filepath.Join(d, "pipeline-artifacts"), nil
}

// list returns the pipeline's jobs from the cache when fresh, else from
// fetch under the lock, storing what it returns.
func (c *Cache) list(ctx context.Context, key string, fetch func() (listing, string, error)) (listing, string, error) {
	path := c.path(key)
	if e, ok := c.read(path, key); ok {
		return e.Listing, e.Source + ", cached", nil
	}
	// A broken cache directory must not cost a job its siblings: list
	// without it.
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fetch()
	}
	unlock, err := c.lock(ctx, path+".lock")
	if err != nil {
		return fetch()
	}
	defer unlock()
	if e, ok := c.read(path, key); ok { // filled while we waited
		return e.Listing, e.Source + ", cached", nil
	}
	l, source, err := fetch()
	if err == nil {
		_ = c.write(path, cacheEntry{Key: key, FetchedAt: c.now(), Source: source, Listing: l})
	}
	return l, source, err
}

func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.Dir, hex.EncodeToString(sum[:16])+".json")
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// read returns a fresh entry for key. A file that does not parse, belongs
// to another key or is too old is a miss, never an error.
func (c *Cache) read(path, key string) (cacheEntry, bool) {
	var e cacheEntry
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &e) != nil || e.Key != key {
		return e, false
	}
	age := c.now().Sub(e.FetchedAt)
	return e, age >= 0 && age < c.TTL
}

// write stores e atomically (writeFileAtomic, as the manifest): a reader
// sees the old file or the new one, and a writer killed halfway leaves only
// a temporary file behind, which no reader opens.
func (c *Cache) write(path string, e cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// lock takes an exclusive lock on path, polling so that ctx can end the
// wait. The operating system drops the lock when its holder dies, so a
// killed process never blocks the others.
func (c *Cache) lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	poll := c.LockPoll
	if poll <= 0 {
		poll = 20 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		locked, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		if locked {
			return func() { unlock(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}
