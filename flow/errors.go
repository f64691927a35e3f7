package flow

import "errors"

// Error is a failure explained in plain words, with a fix a person can act
// on. Every error the engine returns to a caller is, or wraps, an *Error.
type Error struct {
	// Code is a stable machine-readable name, e.g. CodeInvalidClient
	// ("invalid_client"); codes.go lists them.
	Code Code
	// Message says what went wrong, in plain words.
	Message string
	// Fix says what to do about it.
	Fix string
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Err != nil && msg == "" {
		msg = e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Explain returns the message and the fix of err, when it carries them, for
// printing as two lines; otherwise the error text and an empty fix.
func Explain(err error) (message, fix string) {
	var fe *Error
	if errors.As(err, &fe) {
		msg := fe.Message
		if fe.Err != nil {
			msg += ": " + fe.Err.Error()
		}
		return msg, fe.Fix
	}
	return err.Error(), ""
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.Code == code
}
