package steps

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines runs the checks with plain prompts: each check is printed as it
// finishes, with its fix; failed checks must be fixed (r re-runs) or
// overridden (o, then yes) before going on.
func (v *validate) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	v.setup = s
	url := validateURL(s)
	fmt.Fprintln(p, "The checks of `oidc-onboard check` run against the IdP's Discovery Endpoint:", url)
	if s.Report != nil && s.Report.DiscoveryURL == url {
		v.url, v.report = url, s.Report
		fmt.Fprintln(p, "Result of the last check:")
		for _, c := range s.Report.Checks {
			validatePrintCheck(p, c, v.env.words())
		}
		validatePrintDiagnosis(p, s, v.env.words())
	} else {
		v.runLinesCheck(ctx, s, url, p)
	}
	for {
		r := s.Report
		_, summary := validateSummary(v.theme, r)
		fmt.Fprintln(p, summary)
		prompt := "Press Enter to continue, type r to check again, or back to go back: "
		if !r.OK && !s.Override {
			prompt = "Failed checks block the next step. Type r to check again after the fixes, o to go on anyway, or back to go back: "
		}
		fix := flow.DiscoveryEndpointFix(r)
		if fix != "" && !r.OK {
			fmt.Fprintln(p, "The fix is here: type e to edit the Discovery Endpoint, filled in with", flow.Display(fix))
		}
		answer, err := p.AskOrBack(ctx, prompt)
		if err != nil {
			return err
		}
		switch strings.ToLower(answer) {
		case "r":
			v.runLinesCheck(ctx, s, url, p)
		case "":
			if r.OK || s.Override {
				return nil
			}
			fmt.Fprintf(p, "%s: logins will not work until they are fixed.\n", validateFailedCount(r))
		case "e":
			if fix == "" || r.OK {
				fmt.Fprintf(p, "%q is not one of the answers.\n", answer)
				continue
			}
			s.DiscoveryInput, s.Connection.DiscoveryURL = fix, fix
			return ErrBack // step 2, whose Discovery Endpoint now holds the fix
		case "o":
			if r.OK {
				continue
			}
			confirm, err := p.Ask(ctx, fmt.Sprintf("Go on despite %s? Logins will fail until they are fixed. Type yes to go on: ", validateFailedCount(r)))
			if err != nil {
				return err
			}
			if strings.EqualFold(confirm, "yes") || strings.EqualFold(confirm, "y") {
				s.Override = true
				v.auditOverride()()
				return nil
			}
		default:
			fmt.Fprintf(p, "%q is not one of the answers.\n", answer)
		}
	}
}

// runLinesCheck validates, printing each check as it finishes, and keeps
// and records the report as the full-screen step does.
func (v *validate) runLinesCheck(ctx context.Context, s *Setup, url string, out io.Writer) {
	fmt.Fprintln(out, "Checking…")
	ctx, cancel := context.WithTimeout(ctx, v.budget())
	defer cancel()
	r := flow.Validate(ctx, v.client(), url, flow.ValidateOptions{Now: v.env.Now,
		Progress: func(c flow.Check) { validatePrintCheck(out, c, v.env.words()) }})
	v.url = url
	v.run++
	v.finish(r)
	validatePrintDiagnosis(out, s, v.env.words())
	if cmd := v.record(r); cmd != nil {
		if msg, ok := cmd().(validateSavedMsg); ok && msg.err != nil {
			text, _ := flow.Explain(msg.err)
			fmt.Fprintln(out, "The validation could not be recorded in the store:", text)
		}
	}
}

// validatePrintDiagnosis prints the detected provider and what its
// metadata says before the test login.
func validatePrintDiagnosis(out io.Writer, s *Setup, say words) {
	if text := diagProviderText(s); text != "" {
		fmt.Fprintln(out, text)
	}
	for _, f := range validateFindings(s) {
		fmt.Fprintln(out, diagFindingText(f, say))
	}
}

// validatePrintCheck prints a check for the line mode, in words rather
// than symbols, with its fix on the next line.
func validatePrintCheck(out io.Writer, c flow.Check, say words) {
	word := map[flow.CheckStatus]string{flow.Pass: "Pass", flow.Warn: "Warning", flow.Fail: "Failed"}[c.Status]
	fmt.Fprintf(out, "%s: %s: %s\n", word, flow.CheckName(c.ID), strings.ReplaceAll(c.Detail, "\n", " "))
	if c.Status != flow.Pass && c.Fix != "" {
		fmt.Fprintf(out, "  Fix: %s\n", say.addressed(c.Fix))
	}
}
