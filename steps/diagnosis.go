package steps

import (
	"cmp"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// diagProvider is the identity provider a setup is for, and how that is
// known, in words for the screen: detected from the validated metadata
// (Setup.Detected, or the metadata itself in a setup validated before the
// field existed), else guessed from the discovery input, else the guide
// chosen in step 1; Generic when none of these tells.
func diagProvider(s *Setup) (p flow.IdP, source string) {
	if d, source := diagDetectedAny(s); d.Kind != flow.IdPGeneric {
		return d, source
	}
	if s.Provider != "" && s.Provider != assets.GenericGuide {
		for _, g := range assets.Guides() {
			if g.ID == s.Provider {
				return flow.IdP{Kind: flow.IdPKind(g.ID), Name: g.Name, Evidence: "chosen in step 1"}, "chosen in step 1"
			}
		}
	}
	return flow.DetectProvider(nil, nil), ""
}

// diagDetectedAny is the provider the validated metadata shows, else the
// one the discovery input alone suggests; Generic when neither tells.
func diagDetectedAny(s *Setup) (flow.IdP, string) {
	if d := diagDetected(s); d.Kind != flow.IdPGeneric {
		return d, "detected: " + d.Evidence
	}
	if input := cmp.Or(strings.TrimSpace(s.DiscoveryInput), s.Connection.DiscoveryURL); input != "" {
		if d := flow.DetectProviderURL(input); d.Kind != flow.IdPGeneric {
			return d, "detected from the discovery URL: " + d.Evidence
		}
	}
	return flow.DetectProvider(nil, nil), ""
}

// diagDetected is the provider the validated metadata shows.
func diagDetected(s *Setup) flow.IdP {
	switch {
	case s.Detected != nil:
		return *s.Detected
	case s.Metadata != nil:
		var raw []byte
		if s.Report != nil {
			raw = s.Report.RawMetadata
		}
		return flow.ValidatedProvider(s.Connection.DiscoveryURL, s.Metadata, raw)
	}
	return flow.DetectProvider(nil, nil)
}

// diagGuide is the guide step 1 shows when the person chose none: the
// detected provider's ("" when nothing was detected).
func diagGuide(s *Setup) string {
	if s.Provider != "" {
		return ""
	}
	return diagDetectedGuide(s)
}

// diagDetectedGuide is the detected provider's guide, or "".
func diagDetectedGuide(s *Setup) string {
	p, _ := diagDetectedAny(s)
	if p.Kind == flow.IdPGeneric {
		return ""
	}
	return string(p.Kind)
}

// diagProviderText is "Provider: Okta (custom authorization server)
// (detected: …)", or "" for a generic provider, which needs no note.
func diagProviderText(s *Setup) string {
	p, source := diagProvider(s)
	if p.Kind == flow.IdPGeneric {
		return ""
	}
	return "Provider: " + p.DisplayName() + " (" + source + ")"
}

// diagProviderLine is the provider note as one line cut to width, for the
// steps after validation; nil for a generic provider.
func diagProviderLine(th *Theme, s *Setup, width int) []string {
	p, source := diagProvider(s)
	if p.Kind == flow.IdPGeneric {
		return nil
	}
	if strings.HasPrefix(source, "detected") {
		source = "detected"
	}
	return []string{th.Subtle.Render(ansi.Truncate(flow.Display("Provider: "+p.DisplayName()+" ("+source+")"), max(width, 1), "…"))}
}

// diagMetadata is what the provider and its metadata tell before any login
// (Google's missing groups, Okta's authorization server).
func diagMetadata(s *Setup) []flow.Finding {
	p, _ := diagProvider(s)
	md := s.Metadata
	if md == nil {
		md = &flow.Metadata{Issuer: s.Connection.Issuer}
	}
	return flow.DiagnoseMetadata(p, md, s.Connection.Roles())
}

// diagClaims is what the last successful test login's claims show under
// the current mappings; nil without one.
func diagClaims(s *Setup) []flow.Finding {
	r := s.TestLogin
	if r == nil || !r.OK || r.Claims == nil {
		return nil
	}
	p, _ := diagProvider(s)
	return flow.DiagnoseClaims(p, r.Claims, s.Connection.Claims, s.Connection.Roles())
}

// diagOnly keeps the findings with one of ids.
func diagOnly(fs []flow.Finding, ids ...string) []flow.Finding {
	var out []flow.Finding
	for _, f := range fs {
		if slices.Contains(ids, f.ID) {
			out = append(out, f)
		}
	}
	return out
}

// diagFindingLines renders findings: a symbol and the message, then the
// fix and any suggested mapping change, wrapped to width; what they quote
// of the IdP's metadata and claims is shown through flow.Display.
func diagFindingLines(th *Theme, fs []flow.Finding, width int, say words) []string {
	var lines []string
	inner := max(width-2, 8)
	for _, f := range fs {
		f.Message, f.Fix, f.Suggestion = flow.DisplayText(f.Message), flow.DisplayText(say.addressed(f.Fix)), flow.Display(f.Suggestion)
		sym, style := "i", th.Text
		switch f.Severity {
		case flow.SeverityWarn:
			sym, style = "!", th.Warn
		case flow.SeverityError:
			sym, style = flow.SymbolFail, th.Fail
		}
		for i, l := range widget.WrapPlain(tlSentence(f.Message), inner) {
			lead := "  "
			if i == 0 {
				lead = style.Render(sym) + " "
			}
			lines = append(lines, lead+style.Render(l))
		}
		notes := []string{"Fix: " + f.Fix}
		if s := diagSuggestion(f.Suggestion); s != "" {
			notes = append(notes, "Or "+s+".")
		}
		for _, n := range notes {
			for _, l := range widget.WrapPlain(n, inner) {
				lines = append(lines, "  "+th.Subtle.Render(l))
			}
		}
	}
	return lines
}

// diagFindingText is a finding as plain lines, for the line mode.
func diagFindingText(f flow.Finding, say words) string {
	word := map[flow.Severity]string{flow.SeverityInfo: "Note", flow.SeverityWarn: "Warning", flow.SeverityError: "Problem"}[f.Severity]
	text := word + ": " + tlSentence(f.Message) + "\n  Fix: " + say.addressed(f.Fix)
	if s := diagSuggestion(f.Suggestion); s != "" {
		text += "\n  Or " + s + "."
	}
	return text
}

// diagSuggestion puts a finding's remap flags in words: "--claim
// email=upn" is "map email to upn".
func diagSuggestion(flag string) string {
	if c, ok := strings.CutPrefix(flag, "--claim "); ok {
		attr, claim, _ := strings.Cut(c, "=")
		return "map " + attr + " to " + claim + " in step 4, Claims"
	}
	if c, ok := strings.CutPrefix(flag, "--groups-claim "); ok {
		return "use the groups claim " + c + " in step 5, Roles"
	}
	return ""
}

// replayPreview maps the last successful test login's claims again with
// the mappings as they are now: no new login is needed. before is the
// profile the login showed.
func replayPreview(s *Setup) (before, after flow.Profile, changes, warnings []string, ok bool) {
	r := s.TestLogin
	if r == nil || !r.OK || r.Claims == nil || r.Profile == nil {
		return before, after, nil, nil, false
	}
	after, warnings = flow.MapProfile(r.Claims, s.Connection.Claims, s.Connection.Roles())
	return *r.Profile, after, flow.ProfileChanges(*r.Profile, after), warnings, true
}

// replayLines is the compact preview panel of steps 4 and 5: a heading,
// then each changed attribute or role on one line (or that nothing
// changed, with the roles), and the mapping's warnings; nil without a
// successful test login.
func replayLines(th *Theme, s *Setup, width int) []string {
	_, after, changes, warnings, ok := replayPreview(s)
	if !ok {
		return nil
	}
	cut := func(text string) string { return ansi.Truncate(text, max(width, 1), "…") }
	lines := []string{ansi.Truncate(th.Title.Render("Preview from the last test login")+
		th.Subtle.Render(" (no new login needed)"), max(width, 1), "…")}
	if len(changes) == 0 {
		lines = append(lines, th.Subtle.Render(cut("  no change (roles: "+flow.Display(cmp.Or(strings.Join(after.Roles, ", "), "none"))+")")))
	}
	for _, c := range changes {
		lines = append(lines, th.Accent.Render(cut("  • "+flow.Display(c))))
	}
	for _, w := range warnings {
		lines = append(lines, th.Warn.Render(cut("  ! "+flow.Display(w))))
	}
	return lines
}
