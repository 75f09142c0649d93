package keys

import (
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/cfcookies/cfcookies/signer"
)

// FuzzDecodeMaterial feeds arbitrary secret or file contents through the
// whole parse: it must not panic, and no error may quote the body of a PEM
// block it was given.
func FuzzDecodeMaterial(f *testing.F) {
	for _, name := range []string{rsaKey, ecKey, "keys/cert.pem", "keys/rsa2048-encrypted-legacy.pem", "keys/p384-sec1.pem"} {
		b, err := readKeyFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(`{"keyPairId": "K1", "privateKey": ` + strings.ReplaceAll(strings.ReplaceAll(`"`+b+`"`, "\n", `\n`), "\r", "") + `}`)
	}
	f.Add(`{"keyPairId": 1}`)
	f.Add(`{"privateKey": "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"}`)
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, raw string) {
		id, pemBytes, err := decodeMaterial([]byte(raw), true)
		if err == nil {
			if strings.TrimSpace(raw) == "" {
				t.Fatal("empty material accepted")
			}
			if id == "" && strings.HasPrefix(strings.TrimSpace(raw), "{") {
				t.Fatal("JSON accepted without a key pair id")
			}
			_, err = signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
		}
		if err == nil {
			return
		}
		msg := err.Error()
		for _, text := range []string{raw, string(pemBytes)} {
			rest := []byte(text)
			for {
				var block *pem.Block
				block, rest = pem.Decode(rest)
				if block == nil {
					break
				}
				if body := base64.StdEncoding.EncodeToString(block.Bytes); len(body) >= 16 && strings.Contains(msg, body[:16]) {
					t.Fatalf("error quotes the key: %s", msg)
				}
			}
		}
	})
}
