package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/cfcookies/cfcookies/signer"
)

// Fuzz inputs stay short (Go's fuzzer minimizes a new input in time that
// grows with the square of its length, and every candidate here parses a
// key): the key material is built from a template naming where a fixture
// key goes and a few bytes to change in that key.
const (
	maxFuzzTemplate = 96
	maxFuzzPatch    = 16
)

// FuzzDecodeMaterial feeds secret or file contents through the whole parse:
// a template in which "$PEM" stands for a fixture key's PEM and "$JSON" for
// the same PEM as a JSON string, the key having a few bytes of its DER
// changed. It must not panic, must refuse empty material and JSON without
// a key pair id, and no error may quote the body of a PEM block it was given.
func FuzzDecodeMaterial(f *testing.F) {
	var blocks []*pem.Block
	for _, name := range []string{rsaKey, rsaKeyPKCS1, ecKey, "keys/cert.pem", "keys/rsa2048-encrypted-legacy.pem", "keys/p384-sec1.pem"} {
		b, err := readKeyFile(name)
		if err != nil {
			f.Fatal(err)
		}
		block, _ := pem.Decode([]byte(b))
		blocks = append(blocks, block)
	}
	for i := range blocks {
		f.Add("$PEM", uint8(i), uint16(0), []byte(nil))
		f.Add(`{"keyPairId": "K1", "privateKey": "$JSON"}`, uint8(i), uint16(0), []byte(nil))
	}
	f.Add(`{"keyPairId": 1}`, uint8(0), uint16(0), []byte(nil))
	f.Add(`{"keyPairId": "K1", "kmsKeyId": "alias/cf"}`, uint8(0), uint16(0), []byte(nil))
	f.Add(`{"keyPairId": "K1", "kmsKeyId": "alias/cf", "privateKey": "$JSON"}`, uint8(0), uint16(0), []byte(nil))
	f.Add(`{"privateKey": "$JSON"}`, uint8(2), uint16(0), []byte(nil))
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n", uint8(0), uint16(0), []byte(nil))
	f.Add(" \n$PEM\n", uint8(0), uint16(40), []byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, template string, key uint8, at uint16, patch []byte) {
		if len(template) > maxFuzzTemplate || len(patch) > maxFuzzPatch {
			return
		}
		block := blocks[int(key)%len(blocks)]
		der := bytes.Clone(block.Bytes)
		copy(der[int(at)%len(der):], patch)
		keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: block.Type, Headers: block.Headers, Bytes: der}))
		quoted, _ := json.Marshal(keyPEM)
		raw := strings.NewReplacer("$PEM", keyPEM, "$JSON", string(quoted[1:len(quoted)-1])).Replace(template)

		m, err := decodeMaterial([]byte(raw), true)
		pemBytes := m.pem
		if err == nil {
			if strings.TrimSpace(raw) == "" {
				t.Fatal("empty material accepted")
			}
			if m.keyPairID == "" && strings.HasPrefix(strings.TrimSpace(raw), "{") {
				t.Fatal("JSON accepted without a key pair id")
			}
			if (m.kmsKeyID == "") == (m.pem == nil) {
				t.Fatal("material is neither a key nor a KMS key, or both")
			}
			if m.kmsKeyID != "" {
				return
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
