package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

// A source reads key material from where the operator keeps it. Its errors
// and its String name the source and never hold key material.
type source interface {
	read(ctx context.Context) ([]byte, error)
	kind() string      // "env", "file" or "secret", as logged in key_source
	jsonAllowed() bool // the material may be the JSON form
	String() string    // e.g. `CLOUDFRONT_PRIVATE_KEY_FILE "/run/secrets/key.pem"`
}

// inlineSource is CLOUDFRONT_PRIVATE_KEY: PEM text, never read again.
type inlineSource config.Secret

func (s inlineSource) read(context.Context) ([]byte, error) {
	return []byte(config.Secret(s).Reveal()), nil
}
func (inlineSource) kind() string      { return "env" }
func (inlineSource) jsonAllowed() bool { return false }
func (inlineSource) String() string    { return "CLOUDFRONT_PRIVATE_KEY" }

// fileSource is CLOUDFRONT_PRIVATE_KEY_FILE. The file is read whole each
// time and compared by content, so a mounted secret replaced by a symlink
// swap (Kubernetes) or a rename is picked up like one rewritten in place.
type fileSource string

func (f fileSource) read(context.Context) ([]byte, error) {
	b, err := readLimited(string(f))
	if errors.Is(err, errTooLarge) {
		return nil, permanent(fmt.Errorf("keys: %s: %w", f, err))
	}
	if err != nil {
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			err = pe.Err // the path is in String
		}
		return nil, fmt.Errorf("keys: %s: %w", f, err)
	}
	return b, nil
}

// readLimited reads a file of at most maxMaterial bytes, and a byte more to
// tell a larger one, so that a path pointed at the wrong file (a log, a
// device) is refused without being read whole.
func readLimited(path string) ([]byte, error) {
	file, err := os.Open(path) //nolint:gosec // G304: the operator names the key file
	if err != nil {
		return nil, err
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, maxMaterial+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMaterial {
		return nil, errTooLarge
	}
	return b, nil
}
func (fileSource) kind() string      { return "file" }
func (fileSource) jsonAllowed() bool { return true }
func (f fileSource) String() string  { return fmt.Sprintf("CLOUDFRONT_PRIVATE_KEY_FILE %q", string(f)) }

// maxMaterial bounds key material from any source before it is decoded:
// room for the JSON form around the largest PEM signer reads (a PEM
// written with \n escapes grows by a byte a line).
const maxMaterial = 2 * signer.MaxPEMSize

var errTooLarge = fmt.Errorf("is over %d bytes; a CloudFront key is under 2 KiB (is this the right file or secret?)", maxMaterial)

// keyJSON is the JSON form of key material, so that a secret rotates the
// key pair id and the key together. It holds the private key, or names a
// KMS key that holds it.
type keyJSON struct {
	KeyPairID  *string `json:"keyPairId"`
	PrivateKey *string `json:"privateKey"`
	KMSKeyID   *string `json:"kmsKeyId"`
}

// material is decoded key material: a private key's PEM, or a KMS key.
type material struct {
	keyPairID string // "" for PEM text, which names none
	pem       []byte // the private key, or nil for a KMS key
	kmsKeyID  string // the KMS key that holds the private key, or ""
}

// jsonForms is what a JSON error says the JSON must be.
const jsonForms = `want {"keyPairId": "K...", "privateKey": "-----BEGIN ..."} or {"keyPairId": "K...", "kmsKeyId": "alias/..."}`

// decodeMaterial decodes PEM text or, where jsonOK, the JSON object
// {"keyPairId": ..., "privateKey": ...} or {"keyPairId": ..., "kmsKeyId":
// ...}. Its errors never quote the material.
func decodeMaterial(raw []byte, jsonOK bool) (material, error) {
	if len(raw) > maxMaterial {
		return material{}, errTooLarge
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return material{}, errors.New("is empty")
	}
	if trimmed[0] != '{' || !jsonOK {
		return material{pem: trimmed}, pemHint(trimmed)
	}
	var k keyJSON
	if err := json.Unmarshal(trimmed, &k); err != nil {
		return material{}, jsonError(err)
	}
	hasKey := k.PrivateKey != nil && strings.TrimSpace(*k.PrivateKey) != ""
	hasKMS := k.KMSKeyID != nil && strings.TrimSpace(*k.KMSKeyID) != ""
	switch {
	case k.KeyPairID == nil || strings.TrimSpace(*k.KeyPairID) == "":
		return material{}, errors.New(`JSON has no "keyPairId": ` + jsonForms)
	case hasKey && hasKMS:
		return material{}, errors.New(`JSON has both "privateKey" and "kmsKeyId": keep one`)
	case hasKMS:
		return material{keyPairID: strings.TrimSpace(*k.KeyPairID), kmsKeyID: strings.TrimSpace(*k.KMSKeyID)}, nil
	case !hasKey:
		return material{}, errors.New(`JSON has no "privateKey" nor "kmsKeyId": ` + jsonForms)
	}
	// A PEM pasted with its newlines escaped twice arrives with literal \n.
	pemText := strings.TrimSpace(strings.ReplaceAll(*k.PrivateKey, `\n`, "\n"))
	return material{keyPairID: strings.TrimSpace(*k.KeyPairID), pem: []byte(pemText)}, pemHint([]byte(pemText))
}

// decodeSource decodes what src read: the material of decodeMaterial, or
// the key id of CLOUDFRONT_KMS_KEY_ID.
func decodeSource(src source, raw []byte) (material, error) {
	if _, ok := src.(kmsSource); ok {
		return material{kmsKeyID: string(raw)}, nil
	}
	return decodeMaterial(raw, src.jsonAllowed())
}

// pemHint explains PEM text that lost its line breaks, which no PEM parser
// reads: a common accident when a key is pasted into a form field.
func pemHint(pemText []byte) error {
	if bytes.Contains(pemText, []byte("-----BEGIN")) && !bytes.ContainsAny(pemText, "\r\n") {
		return errors.New(`the PEM has no line breaks: store it with its newlines (written \n inside JSON)`)
	}
	return nil
}

// jsonError describes a JSON decoding error by position and field only:
// encoding/json's own messages may quote the text.
func jsonError(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("is not valid JSON (error at byte %d)", se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return fmt.Errorf("JSON %q must be a string", te.Field)
	}
	return errors.New(`is not a JSON object {"keyPairId": ..., "privateKey": ...} or {"keyPairId": ..., "kmsKeyId": ...}`)
}
