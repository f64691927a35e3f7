package tui

import (
	"image/color"
	"runtime"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
)

// allocated is the bytes f allocates, on average over n calls: the least
// of five measures, since other goroutines (servers and timers of earlier
// tests) can only add to the process's count.
func allocated(n int, f func()) uint64 {
	least := ^uint64(0)
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		least = min(least, (after.TotalAlloc-before.TotalAlloc)/uint64(n))
	}
	return least
}

// A terminal reporting its background costs the session no theme: the
// dark and the light one are built once, and the shell switches between
// them (building a theme allocates some 27 KiB; redrawing the header and
// the footer in the other colours some 15 KiB).
func TestABackgroundReportBuildsNoTheme(t *testing.T) {
	m := New(shellEnv(t))
	m.Init()
	light, dark := tea.BackgroundColorMsg{Color: color.White}, tea.BackgroundColorMsg{Color: color.Black}
	n := allocated(10, func() {
		m.Update(light)
		m.Update(dark)
	})
	if n > 30<<10 {
		t.Errorf("a light and a dark background report allocate %d KiB: want no theme built (< 30 KiB)", n>>10)
	}
}

// Sessions of one server draw with the same two themes: each switches
// between them on its own terminal's report, and none changes them.
func TestSessionsShareTheirThemes(t *testing.T) {
	themes := steps.NewThemes()
	one, two := shellEnv(t), shellEnv(t)
	one.Themes, two.Themes = themes, themes
	a, b := New(one), New(two)
	a.Init()
	b.Init()
	if a.Theme() != themes.For(true) || b.Theme() != themes.For(true) {
		t.Fatal("two sessions of one server start with themes of their own")
	}
	darkText := themes.For(true).Text.GetForeground()
	a.Update(tea.BackgroundColorMsg{Color: color.White})
	if a.Theme() != themes.For(false) || b.Theme() != themes.For(true) {
		t.Error("a light background in one session did not switch it, alone, to the shared light theme")
	}
	if themes.For(true).Text.GetForeground() != darkText || themes.For(true).IsDark != true {
		t.Error("a light background changed the shared dark theme")
	}
	a.Update(tea.BackgroundColorMsg{Color: color.Black})
	if a.Theme() != themes.For(true) {
		t.Error("a dark background did not switch the session back to the shared dark theme")
	}
}

// kept is the heap that build's results hold, on average over n, once
// the garbage is collected (twice: what sync.Pools held goes at the
// second): the least of three measures.
func kept(n int, build func() any) uint64 {
	least := ^uint64(0)
	for range 3 {
		keep := make([]any, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = build()
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		least = min(least, max(after.HeapAlloc, before.HeapAlloc)-before.HeapAlloc)
	}
	return least / uint64(n)
}

// The shell of a session drawn with a server's themes keeps little of
// its own: no theme, and no help bubble between footers (its styles are
// 4.6 KiB), only what the footer drew.
func TestTheShellKeepsLittleOfItsOwn(t *testing.T) {
	env := shellEnv(t)
	env.Themes = steps.NewThemes()
	n := kept(64, func() any {
		m := newModel(env, env.Themes, []steps.Step{newTypingStep("One"), newTypingStep("Two")})
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		return m
	})
	if n > 4<<10 {
		t.Errorf("a session's shell keeps %d KiB: want < 4 (7 with a help bubble kept)", n>>10)
	}
}
