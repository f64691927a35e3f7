package sshserve

import (
	"sync"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// TestSSHWrongCodesAnsweredAtOnceStayWithinTheLimit: thirty prompts held
// open and answered at the same moment must not get thirty tries; the
// limit counts the codes being checked, not only those already refused.
func TestSSHWrongCodesAnsweredAtOnceStayWithinTheLimit(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	const n = 30
	var prompted, answered sync.WaitGroup
	prompted.Add(n)
	release := make(chan struct{})
	for i := range n {
		answered.Add(1)
		go func() {
			defer answered.Done()
			once := sync.Once{}
			auth := gossh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				if len(questions) == 0 {
					return nil, nil
				}
				first := false
				once.Do(func() { first = true; prompted.Done() })
				if first {
					<-release
				}
				return []string{"zzzz-zzzz-zzzz-zz" + string(rune('a'+i/26)) + string(rune('a'+i%26))}, nil
			})
			if c, err := sshDial(s.addr, "setup", auth); err == nil {
				c.Close()
				t.Error("a wrong code was accepted")
			}
		}()
	}
	prompted.Wait() // every prompt is open
	close(release)  // and all are answered at once
	answered.Wait()
	failures, refused := 0, 0
	for _, e := range s.audit(t) {
		switch e.Action {
		case "auth.failure":
			failures++
		case "auth.refused":
			refused++
		}
	}
	if failures > CodeFailLimit {
		t.Errorf("%d wrong codes were checked, want at most %d", failures, CodeFailLimit)
	}
	if refused == 0 {
		t.Error("no refusal past the limit was audited")
	}
}
