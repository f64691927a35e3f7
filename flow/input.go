package flow

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ClientSecret reads the client secret as the commands take it: from the
// file path ("-" for stdin), else from OIDC_CLIENT_SECRET through getenv;
// "" when neither gives one. A file's final line break is not part of the
// secret; an unreadable or empty file is a usage error.
func ClientSecret(path string, stdin io.Reader, getenv func(string) string) (string, error) {
	if path == "" {
		return getenv("OIDC_CLIENT_SECRET"), nil
	}
	b, err := ReadInput(stdin, path, "client secret file", 64<<10)
	if err != nil {
		return "", usageError("--client-secret-file: %v", errors.Unwrap(err))
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.TrimSpace(s) == "" {
		return "", usageError("--client-secret-file %s is empty: put the client secret from the IdP's app in it", path)
	}
	return s, nil
}

// ReadInput reads the file name (stdin for "-"), the what of the
// command, up to limit bytes.
func ReadInput(stdin io.Reader, name, what string, limit int64) ([]byte, error) {
	r, err := stdin, error(nil)
	if name != "-" {
		var file *os.File
		if file, err = os.Open(name); err == nil {
			defer file.Close()
			r = file
		}
	}
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(r, limit))
	}
	if err != nil {
		return nil, &Error{Code: CodeReadInput, Message: fmt.Sprintf("cannot read the %s %s", what, name), Err: err, Fix: "check the path"}
	}
	return b, nil
}
