package sshserve

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// stackPool runs the sessions' updates on a few goroutines whose stacks
// have already grown, instead of on each session's own goroutine.
//
// Drawing a step goes deep, through Bubbles' text field. Its View alone
// takes 40 KiB of stack, and it copies its 7.8 KiB model at each call. So
// each session's goroutine grew its stack to 256 KiB, one doubling at a
// time. Each doubling copies the stack and walks every frame on it. At 500
// sessions, the copies were 2.5% of the server's CPU, and the stacks 128 MB
// until the GC shrank them back, which it does between keys.
//
// A worker is busy while sessions type, so its stack stays grown. A
// session whose update finds no idle worker starts a new one, so one slow
// update never holds up another session. A worker idle for stackIdle ends.
type stackPool struct {
	jobs    chan *stackJob
	idle    time.Duration
	workers atomic.Int64 // running now
}

// stackIdle is how long a worker waits for the next update before it ends.
const stackIdle = 10 * time.Second

// stackJob is a call run on a worker, made once and run again as often as
// its caller likes (one at a time): a session's update is one.
type stackJob struct {
	f    func()
	done chan any // what f panicked with, or nil
}

func newStackJob(f func()) *stackJob { return &stackJob{f: f, done: make(chan any, 1)} }

func newStackPool(idle time.Duration) *stackPool {
	return &stackPool{jobs: make(chan *stackJob), idle: idle}
}

// run runs j on a worker and returns when it has returned. If it panics,
// run panics too, with the value and the worker's stack, on the caller's
// goroutine: the session's own recovery sees it. A nil pool runs j on the
// caller's goroutine.
func (p *stackPool) run(j *stackJob) {
	if p == nil {
		j.f()
		return
	}
	select {
	case p.jobs <- j: // an idle worker took it
	default:
		p.workers.Add(1)
		go p.work(j)
	}
	if r := <-j.done; r != nil {
		panic(r)
	}
}

// work runs j, then the jobs that come while it is idle less than p.idle.
// Its timer is set again only when it fires, not at each job: sessions
// update hundreds of times a second.
func (p *stackPool) work(j *stackJob) {
	defer p.workers.Add(-1)
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		j.done <- do(j.f)
		last := time.Now()
		for j = nil; j == nil; {
			select {
			case j = <-p.jobs:
			case <-idle.C:
				since := time.Since(last)
				if since >= p.idle {
					return
				}
				idle.Reset(p.idle - since)
			}
		}
	}
}

// do runs f and returns what it panicked with, and where.
func do(f func()) (panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = workerPanic{value: r, stack: debug.Stack()}
		}
	}()
	f()
	return nil
}

// workerPanic is a panic of an update run on a worker: its value, and the
// worker's stack where it happened.
type workerPanic struct {
	value any
	stack []byte
}

func (w workerPanic) String() string { return fmt.Sprintf("%v\n\n%s", w.value, w.stack) }
