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
