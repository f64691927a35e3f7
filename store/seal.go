package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Sealed blobs are: format byte, key ID (4 bytes of SHA-256 of the key),
// GCM nonce, ciphertext and tag. The key ID tells a wrong key from damaged
// data; the additional data binds a blob to its place (a blob copied onto
// another connection does not open).
const (
	sealFormat = 1
	keyIDLen   = 4
	keyLen     = 32
)

// sealer seals and opens with one AES-256-GCM key.
type sealer struct {
	aead   cipher.AEAD
	keyID  [keyIDLen]byte
	source string // where the key came from, for error messages
}

func newSealer(key []byte, source string) *sealer {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key length is checked by every caller
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(key)
	s := &sealer{aead: aead, source: source}
	copy(s.keyID[:], sum[:])
	return s
}

func (k *sealer) seal(plain []byte, place string) []byte {
	ns := k.aead.NonceSize()
	out := make([]byte, 1+keyIDLen+ns, 1+keyIDLen+ns+len(plain)+k.aead.Overhead())
	out[0] = sealFormat
	copy(out[1:], k.keyID[:])
	rand.Read(out[1+keyIDLen:])
	return k.aead.Seal(out, out[1+keyIDLen:], plain, []byte(place))
}

// open unseals blob; what names the secret for the error message.
func (k *sealer) open(blob []byte, place, what string) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(blob) < 1+keyIDLen+ns || blob[0] != sealFormat {
		return nil, &flow.Error{Code: flow.CodeSealedUnknown,
			Message: fmt.Sprintf("%s is sealed in a format this oidc-onboard does not know", what),
			Fix:     "upgrade oidc-onboard; nothing was changed"}
	}
	if string(blob[1:1+keyIDLen]) != string(k.keyID[:]) {
		return nil, k.wrongKey(what)
	}
	plain, err := k.aead.Open(nil, blob[1+keyIDLen:1+keyIDLen+ns], blob[1+keyIDLen+ns:], []byte(place))
	if err != nil {
		return nil, &flow.Error{Code: flow.CodeSealedDamaged,
			Message: fmt.Sprintf("%s is damaged: it does not verify with the key it was sealed with", what),
			Fix:     "enter it again (for a client secret: re-import the connection with the secret); nothing was deleted"}
	}
	return plain, nil
}

func (k *sealer) wrongKey(what string) error {
	return &flow.Error{Code: flow.CodeWrongKey,
		Message: fmt.Sprintf("%s cannot be unsealed: %s is not the key it was sealed with", what, k.source),
		Fix:     "restore the original key (OIDC_ONBOARD_KEY, or the key file next to the database); nothing was deleted"}
}

// decodeKey accepts standard or URL base64, padded or not, of 32 bytes.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == keyLen {
			return b, nil
		}
	}
	return nil, errors.New("not a base64-encoded 32-byte key")
}

// key returns the sealer, loading the key on first use. With create, a
// missing key file is created — but only while the database holds no sealed
// data: a new key would make the old secrets unreadable, so a lost key file
// is reported instead.
func (s *Store) key(ctx context.Context, create bool) (*sealer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealer != nil {
		return s.sealer, nil
	}
	if s.envKey != nil {
		s.sealer = newSealer(s.envKey, "OIDC_ONBOARD_KEY")
		return s.sealer, nil
	}
	key, err := s.readKeyFile()
	if errors.Is(err, fs.ErrNotExist) {
		key, err = s.createKeyFile(ctx, create)
	}
	if err != nil {
		return nil, err
	}
	s.sealer = newSealer(key, "the key file "+s.keyFile)
	return s.sealer, nil
}

func (s *Store) readKeyFile() ([]byte, error) {
	b, err := os.ReadFile(s.keyFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, &flow.Error{Code: flow.CodeKeyUnreadable, Message: fmt.Sprintf("cannot read the key file %s", s.keyFile), Err: err,
			Fix: "make it readable by this user, or set OIDC_ONBOARD_KEY"}
	}
	key, err := decodeKey(string(b))
	if err != nil {
		return nil, &flow.Error{Code: flow.CodeKeyDamaged, Message: fmt.Sprintf("the key file %s does not hold a base64 32-byte key", s.keyFile),
			Fix: "restore the key file from a backup, or set OIDC_ONBOARD_KEY to the original key; nothing was changed"}
	}
	return key, nil
}

// createKeyFile writes a new random key, 0600, unless sealed data exists.
// The key is written to a temporary file and linked into place, so two
// processes racing here agree on one key.
func (s *Store) createKeyFile(ctx context.Context, create bool) ([]byte, error) {
	var sealed bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE client_secret_sealed IS NOT NULL)
		OR EXISTS (SELECT 1 FROM drafts)`).Scan(&sealed)
	if err != nil {
		return nil, s.explain(err)
	}
	if sealed || !create {
		// Another process may have created the key (and then sealed with it)
		// since the first read: it links the key before sealing anything.
		if key, err := s.readKeyFile(); err == nil {
			return key, nil
		}
		return nil, &flow.Error{Code: flow.CodeKeyMissing,
			Message: fmt.Sprintf("the key file %s is missing, but the database holds sealed secrets", s.keyFile),
			Fix:     "restore the key file (from a backup or the machine it came from), or set OIDC_ONBOARD_KEY to that key; nothing was changed"}
	}
	key := make([]byte, keyLen)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(s.keyFile), ".key-*")
	if err != nil {
		return nil, keyWriteError(s.keyFile, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, keyWriteError(s.keyFile, err)
	}
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, keyWriteError(s.keyFile, err)
	}
	if err := os.Link(tmp.Name(), s.keyFile); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return s.readKeyFile() // another process won the race
		}
		return nil, keyWriteError(s.keyFile, err)
	}
	return key, nil
}

func keyWriteError(path string, err error) error {
	return &flow.Error{Code: flow.CodeKeyWrite, Message: fmt.Sprintf("cannot create the key file %s", path), Err: err,
		Fix: "make the database folder writable, or set OIDC_ONBOARD_KEY (base64 of 32 random bytes)"}
}

// sealValue seals plain for place, creating the key if needed.
func (s *Store) sealValue(ctx context.Context, plain []byte, place string) ([]byte, error) {
	k, err := s.key(ctx, true)
	if err != nil {
		return nil, err
	}
	return k.seal(plain, place), nil
}

// openValue unseals blob for place; what names it in errors.
func (s *Store) openValue(ctx context.Context, blob []byte, place, what string) ([]byte, error) {
	k, err := s.key(ctx, false)
	if err != nil {
		return nil, err
	}
	return k.open(blob, place, what)
}
