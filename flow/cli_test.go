package flow

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestOneArgSentences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "connections show needs the connection's ID, e.g. oidc-onboard connections show conn_7h3kq9"},
		{[]string{"a", "b"}, "connections show takes only the connection's ID, got 2 arguments: a b"},
		{[]string{"a"}, ""},
	} {
		err := OneArg("connections show", "oidc-onboard connections show", "the connection's ID", "conn_7h3kq9", tc.args)
		if got := errText(err); got != tc.want || (err != nil && !IsCode(err, CodeUsage)) {
			t.Errorf("OneArg(%q) = %v; want %q, a usage error", tc.args, err, tc.want)
		}
	}
}

func TestWriteFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err              error
		asJSON           bool
		status           int
		stderr, jsonPart string
	}{
		{Usagef("give one connection ID or --all"), false, 2,
			"Error: give one connection ID or --all\nRun 'oidc-onboard verify --help' for usage.\n", ""},
		{&Error{Message: "the IdP said no", Fix: "ask again"}, true, 1, "Error: the IdP said no\nFix:   ask again\n", `"the IdP said no"`},
		{errors.New("plain"), false, 1, "Error: plain\n", ""},
	} {
		var stdout, stderr bytes.Buffer
		status := WriteFailure(&stdout, &stderr, tc.err, tc.asJSON, "oidc-onboard verify")
		if status != tc.status || stderr.String() != tc.stderr {
			t.Errorf("WriteFailure(%v) = %d, stderr %q; want %d, %q", tc.err, status, stderr.String(), tc.status, tc.stderr)
		}
		if (stdout.Len() > 0) != tc.asJSON || !strings.Contains(stdout.String(), tc.jsonPart) {
			t.Errorf("WriteFailure(%v) stdout %q; want JSON %v containing %s", tc.err, stdout.String(), tc.asJSON, tc.jsonPart)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	msg, _ := Explain(err)
	return msg
}
