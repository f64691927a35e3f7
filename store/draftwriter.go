package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// maxDraftBatch bounds the saves one transaction holds.
const maxDraftBatch = 256

// draftGather is how long the writer waits, once a save reaches it less
// than draftGather after its last transaction, for other sessions' saves
// to write in the same transaction. Saves come one at a time as people
// type: without it, at 500 sessions typing, 94% of the transactions held
// one save, and a transaction's begin and commit cost as much as its
// writes. A save that finds the writer idle longer is written at once,
// so that a lone session's saves wait for no one.
const draftGather = 20 * time.Millisecond

// draftBatchTimeout bounds one batch's transaction.
const draftBatchTimeout = 2 * busyTimeout * time.Millisecond

// maxDraftDigests bounds what the writer remembers of the drafts it wrote;
// past it, it forgets them all (a save it cannot compare is written).
const maxDraftDigests = 1 << 14

// errStoreClosed is a save's answer once the store is closed.
var errStoreClosed = errors.New("the store is closed")

// draftWriter is the store's one writer of draft replacements: it takes
// the saves of many sessions, waiting while a transaction commits, and
// writes each batch in one transaction (group commit), so that hundreds
// of sessions do not each wait for the database's write lock. Every save
// is kept: its caller returns when its batch has committed. A save equal
// to what this writer last stored for the draft, which nobody changed
// since, writes nothing.
type draftWriter struct {
	s     *Store
	saves chan *draftSave

	startOnce sync.Once
	stopOnce  sync.Once
	mu        sync.Mutex // guards closed against sends on saves
	closed    bool
	done      chan struct{}

	// written is the digest and update time of each draft as this writer
	// last stored it; only the writer's goroutine touches it.
	written map[string]draftWritten
	// batches counts the transactions written (for the tests; read only
	// after the saves it counts have returned); taken counts the saves
	// taken into a batch.
	batches int
	taken   atomic.Int64
	// gather is draftGather (longer in a test that sees it gather).
	gather time.Duration
}

// draftSave is one caller's replacement of a draft, its form sealed.
type draftSave struct {
	d      Draft
	sealed []byte
	now    int64
	digest [sha256.Size]byte
	done   chan draftSaved // buffered: the writer never waits for a caller
}

type draftSaved struct {
	created int64
	err     error
}

type draftWritten struct {
	digest           [sha256.Size]byte
	created, updated int64
}

func newDraftWriter(s *Store) *draftWriter {
	return &draftWriter{s: s, saves: make(chan *draftSave, maxDraftBatch), done: make(chan struct{}),
		written: map[string]draftWritten{}, gather: draftGather}
}

// save hands ds to the writer and waits until its batch committed, or
// ctx ends.
func (w *draftWriter) save(ctx context.Context, ds *draftSave) (int64, error) {
	w.startOnce.Do(func() { go w.run() })
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, errStoreClosed
	}
	// Sending under the lock keeps close from closing saves under a
	// sender; the writer drains saves without the lock, so this waits
	// only for room in the queue.
	select {
	case w.saves <- ds:
	case <-ctx.Done():
		w.mu.Unlock()
		return 0, ctx.Err()
	}
	w.mu.Unlock()
	select {
	case r := <-ds.done:
		return r.created, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// close stops the writer once the saves already handed over are written.
func (w *draftWriter) close() {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.saves)
		w.mu.Unlock()
		w.startOnce.Do(func() { go w.run() }) // drains nothing, ends
		<-w.done
	})
}

// run writes batches until the saves channel closes: it takes the saves
// waiting now (at least one) and, when many sessions' saves come often,
// those that reach it within gather of the first; it writes them, and
// answers each.
func (w *draftWriter) run() {
	defer close(w.done)
	batch := make([]*draftSave, 0, maxDraftBatch)
	gathered := time.NewTimer(w.gather)
	gathered.Stop()
	var (
		wrote time.Time // when the last batch was written
		alone string    // its draft, when it held one save
	)
	for first := range w.saves {
		batch = append(batch[:0], first)
		w.taken.Add(1)
		var until <-chan time.Time // nil: only the saves waiting now
		if time.Since(wrote) < w.gather && first.d.ID != alone {
			// Saves of more than one draft come often: others are on
			// their way. One session saving again and again (a script)
			// is not kept waiting for saves that will not come.
			gathered.Reset(w.gather)
			until = gathered.C
		}
		for len(batch) < maxDraftBatch {
			ds := w.next(until)
			if ds == nil {
				break
			}
			batch = append(batch, ds)
			w.taken.Add(1)
		}
		gathered.Stop()
		w.write(batch)
		wrote, alone = time.Now(), ""
		if len(batch) == 1 {
			alone = first.d.ID
		}
	}
}

// next is a save waiting now, or, with until, the next save to come before
// until fires; nil when there is none, or the saves channel is closed.
func (w *draftWriter) next(until <-chan time.Time) *draftSave {
	if until == nil {
		select {
		case ds := <-w.saves:
			return ds
		default:
			return nil
		}
	}
	select {
	case ds := <-w.saves:
		return ds
	case <-until:
		return nil
	}
}

// write stores a batch in one transaction. A save the database refuses
// (its connection was deleted meanwhile) fails alone: the others are
// written again without it. Any other failure is every save's.
func (w *draftWriter) write(batch []*draftSave) {
	ctx, cancel := context.WithTimeout(context.Background(), draftBatchTimeout)
	defer cancel()
	results := make([]draftSaved, len(batch))
	skipped := make([]bool, len(batch))
	failed := make([]bool, len(batch))
	for {
		w.batches++
		at := -1 // the save the database refused
		err := w.s.tx(ctx, func(tx *txn) error {
			for i, ds := range batch {
				if failed[i] {
					continue
				}
				same, err := w.unchanged(ctx, tx, ds)
				if err != nil {
					return err
				}
				if skipped[i] = same; same {
					results[i].created = w.written[ds.d.ID].created
					continue
				}
				if err := upsertDraft(ctx, tx, ds, &results[i].created); err != nil {
					at = i
					return err
				}
			}
			return nil
		})
		if err != nil && at >= 0 && (violates(err, foreignKey) || violates(err, unique)) {
			failed[at], results[at].err = true, err
			continue
		}
		for i := range batch {
			if !failed[i] {
				results[i].err = err
			}
		}
		break
	}
	if len(w.written) > maxDraftDigests {
		clear(w.written)
	}
	for i, ds := range batch {
		switch {
		case results[i].err != nil:
			delete(w.written, ds.d.ID)
		case skipped[i]:
			ds.now = w.written[ds.d.ID].updated // the stored row's
		default:
			w.written[ds.d.ID] = draftWritten{digest: ds.digest, created: results[i].created, updated: ds.now}
		}
		ds.done <- results[i]
	}
}

// unchanged reports whether ds would store what this writer last stored
// for its draft, which is still stored as it was written (nobody else
// replaced it since): such a save writes nothing.
func (w *draftWriter) unchanged(ctx context.Context, tx *txn, ds *draftSave) (bool, error) {
	prev, ok := w.written[ds.d.ID]
	if !ok || prev.digest != ds.digest {
		return false, nil
	}
	var updated int64
	err := tx.QueryRowContext(ctx, `SELECT updated_at FROM drafts WHERE id = ?`, ds.d.ID).Scan(&updated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // deleted: written again
	}
	return err == nil && updated == prev.updated, err
}

// upsertDraft replaces (or creates) ds's draft and reads its creation time.
func upsertDraft(ctx context.Context, tx *txn, ds *draftSave, created *int64) error {
	d := ds.d
	return tx.QueryRowContext(ctx, draftInsert+draftUpsert, d.ID, d.Organization, nullString(d.ConnectionID),
		d.Step, ds.sealed, d.Actor, ds.now, ds.now).Scan(created)
}
