package assets

import (
	"strings"
	"testing"
)

func TestCallbackPageRendersAndEscapes(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	data := struct {
		OK             bool
		Title, Message string
	}{false, "Sign-in failed", `the IdP says "<script>alert(1)</script>"`}
	if err := CallbackPage().Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") {
		t.Fatalf("message not escaped:\n%s", out)
	}
	for _, want := range []string{"Sign-in failed", `class="fail"`, "&lt;script&gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q:\n%s", want, out)
		}
	}
}
