package keys

import (
	"context"
	"crypto"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ecFile := filepath.Join(dir, "ec.pem")
	writeFile(t, ecFile, readKey(t, "vectors/test-ecdsa-key-sec1.pem"))
	jsonFile := filepath.Join(dir, "key.json")
	writeFile(t, jsonFile, jsonKey(t, "KFROMJSON", rsaKey))
	file := func(path string) config.Key { return config.Key{File: path, RefreshInterval: time.Minute} }
	tests := []struct {
		name       string
		cf         config.CloudFront
		key        config.Key
		wantSource string
		wantID     string
		wantHash   signer.HashAlgorithm
		wantType   string
	}{
		{"env PEM", config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(readKey(t, rsaKey))}, "env", "K1", signer.SHA256, "RSA 2048"},
		{"env PEM with SHA1", config.CloudFront{KeyPairID: "K1", HashAlgorithm: signer.SHA1}, config.Key{PEM: config.Secret(readKey(t, rsaKeyPKCS1))}, "env", "K1", signer.SHA1, "RSA 2048"},
		{"env PEM with SHA256", config.CloudFront{KeyPairID: "K1", HashAlgorithm: signer.SHA256}, config.Key{PEM: config.Secret(readKey(t, rsaKeyPKCS1))}, "env", "K1", signer.SHA256, "RSA 2048"},
		{"ECDSA file", config.CloudFront{KeyPairID: "K2"}, file(ecFile), "file", "K2", signer.SHA256, "ECDSA P-256"},
		{"JSON file names its id", config.CloudFront{}, file(jsonFile), "file", "KFROMJSON", signer.SHA256, "RSA 2048"},
		{"JSON file id wins over the variable", config.CloudFront{KeyPairID: "KSTALE"}, file(jsonFile), "file", "KFROMJSON", signer.SHA256, "RSA 2048"},
		{"ephemeral", config.CloudFront{KeyPairID: "KDEV"}, config.Key{}, "ephemeral", "KDEV", signer.SHA256, "RSA 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newLogger()
			store, err := Open(context.Background(), tt.cf, tt.key, Options{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			st := store.Status()
			info := st.Key
			if !st.Ready || info.Source != tt.wantSource || info.KeyPairID != tt.wantID || info.HashAlgorithm != tt.wantHash ||
				info.KeyType != tt.wantType || !strings.HasPrefix(info.PublicKeyPEM, "-----BEGIN PUBLIC KEY-----") ||
				len(info.Fingerprint) != 64 || info.LoadedAt.IsZero() {
				t.Errorf("status %+v", st)
			}
			if got := signWith(t, store); got != tt.wantID {
				t.Errorf("signed for %s, want %s", got, tt.wantID)
			}
			loadedLines := logLines(logs, "signing key loaded")
			if len(loadedLines) != 1 || loadedLines[0]["key_pair_id"] != tt.wantID || loadedLines[0]["public_key_sha256"] != info.Fingerprint {
				t.Errorf("log %s", logs)
			}
			assertNoKeyMaterial(t, "log", logs.String())
		})
	}
}

// TestOpenRefuses covers every kind of bad key material of the issue, from
// the inline variable and from a file: each fails startup with an error
// naming the source and what was wrong, never the key.
func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	type tc struct {
		name   string
		cf     config.CloudFront
		key    config.Key
		errHas []string
	}
	var tests []tc
	for _, b := range badKeys {
		pemText := readKey(t, b.file)
		path := filepath.Join(dir, strings.ReplaceAll(b.name, " ", "_")+".pem")
		writeFile(t, path, pemText)
		tests = append(tests,
			tc{"env " + b.name, config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(pemText)}, []string{"CLOUDFRONT_PRIVATE_KEY:", b.errHas}},
			tc{"file " + b.name, config.CloudFront{KeyPairID: "K1"}, config.Key{File: path, RefreshInterval: time.Minute}, []string{`CLOUDFRONT_PRIVATE_KEY_FILE "` + path + `"`, b.errHas}})
	}
	empty := filepath.Join(dir, "empty.pem")
	writeFile(t, empty, "\n  \n")
	noID := filepath.Join(dir, "no-id.json")
	writeFile(t, noID, `{"privateKey": "`+strings.ReplaceAll(readKey(t, rsaKey), "\n", `\n`)+`"}`)
	noKey := filepath.Join(dir, "no-key.json")
	writeFile(t, noKey, `{"keyPairId": "K1"}`)
	badJSON := filepath.Join(dir, "bad.json")
	writeFile(t, badJSON, `{"keyPairId": "K1", "privateKey": `+readKey(t, rsaKey)+`}`)
	badID := filepath.Join(dir, "bad-id.json")
	writeFile(t, badID, jsonKey(t, "K-1;", rsaKey))
	oneLine := filepath.Join(dir, "one-line.pem")
	writeFile(t, oneLine, strings.ReplaceAll(readKey(t, rsaKey), "\n", " "))
	ecdsaFile := filepath.Join(dir, "ec.pem")
	writeFile(t, ecdsaFile, readKey(t, ecKey))
	huge := filepath.Join(dir, "huge.pem")
	writeFile(t, huge, readKey(t, rsaKey)+strings.Repeat("# padding\n", 4000))
	hugeJSON := filepath.Join(dir, "huge.json")
	writeFile(t, hugeJSON, `{"keyPairId": "K1", "privateKey": "`+strings.ReplaceAll(readKey(t, rsaKey), "\n", `\n`)+strings.Repeat(`# padding\n`, 1600)+`"}`)
	manyBlocks := filepath.Join(dir, "many-blocks.pem")
	writeFile(t, manyBlocks, strings.Repeat("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", 10)+readKey(t, ecKey))
	file := func(path string) config.Key { return config.Key{File: path, RefreshInterval: time.Minute} }
	tests = append(tests,
		tc{"file over the size bound", config.CloudFront{KeyPairID: "K1"}, file(huge), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "is over 32768 bytes"}},
		tc{"JSON PEM over the size bound", config.CloudFront{}, file(hugeJSON), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "key material is too large", "at most 16384"}},
		tc{"env over the size bound", config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(readKey(t, rsaKey) + strings.Repeat(" ", 40000))}, []string{"CLOUDFRONT_PRIVATE_KEY:", "is over 32768 bytes"}},
		tc{"too many PEM blocks", config.CloudFront{KeyPairID: "K1"}, file(manyBlocks), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "more than 4 PEM blocks"}},
		tc{"empty file", config.CloudFront{KeyPairID: "K1"}, file(empty), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "is empty"}},
		tc{"JSON without keyPairId", config.CloudFront{KeyPairID: "K1"}, file(noID), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", `no "keyPairId"`}},
		tc{"JSON without privateKey", config.CloudFront{KeyPairID: "K1"}, file(noKey), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", `no "privateKey"`}},
		tc{"invalid JSON", config.CloudFront{KeyPairID: "K1"}, file(badJSON), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "not valid JSON"}},
		tc{"JSON with a bad id", config.CloudFront{}, file(badID), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "letters and digits"}},
		tc{"PEM without line breaks", config.CloudFront{KeyPairID: "K1"}, file(oneLine), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "no line breaks"}},
		tc{"PEM file without id", config.CloudFront{}, file(ecdsaFile), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "set CLOUDFRONT_KEY_PAIR_ID"}},
		tc{"missing file", config.CloudFront{KeyPairID: "K1"}, file(filepath.Join(dir, "nope.pem")), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "no such file"}},
		tc{"ECDSA with SHA1", config.CloudFront{KeyPairID: "K1", HashAlgorithm: "SHA1"}, file(ecdsaFile), []string{"CLOUDFRONT_PRIVATE_KEY_FILE", "SHA1"}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newLogger()
			store, err := Open(context.Background(), tt.cf, tt.key, Options{Logger: logger})
			if err == nil {
				t.Fatalf("Open succeeded with key %+v", store.Status().Key)
			}
			for _, want := range tt.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to mention %q", err, want)
				}
			}
			assertNoKeyMaterial(t, "error", err.Error())
			assertNoKeyMaterial(t, "log", logs.String())
		})
	}
}

func TestEmptyStore(t *testing.T) {
	t.Parallel()
	var s Store
	if s.Ready() || s.Signer() != nil || s.Status().Ready {
		t.Fatal("empty store is ready")
	}
	if _, err := s.Sign(signer.Grant{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
}

// TestFileRefresh walks a key file through a rotation: unchanged content,
// bad content, the same key re-encoded, a new id and key, and a new key
// under the old id.
func TestFileRefresh(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "key.json")
	writeFile(t, path, jsonKey(t, "K1", rsaKey))
	logger, logs := newLogger()
	ctx := context.Background()
	store, err := Open(ctx, config.CloudFront{}, config.Key{File: path, RefreshInterval: time.Minute}, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	first := store.Status().Key

	steps := []struct {
		name      string
		content   string
		wantErr   string
		wantID    string
		rotations int
	}{
		{"unchanged", jsonKey(t, "K1", rsaKey), "", "K1", 0},
		{"certificate", jsonKey(t, "K2", "keys/cert.pem"), "certificate", "K1", 0},
		{"P-384", jsonKey(t, "K2", "keys/p384-sec1.pem"), "P-384", "K1", 0},
		{"encrypted", jsonKey(t, "K2", "keys/rsa2048-encrypted.pem"), "encrypted", "K1", 0},
		{"missing field", `{"keyPairId": "K2"}`, `no "privateKey"`, "K1", 0},
		{"empty", "", "is empty", "K1", 0},
		{"same key as PKCS#1", jsonKey(t, "K1", rsaKeyPKCS1), "", "K1", 0},
		{"new id and key", jsonKey(t, "K2", ecKey), "", "K2", 1},
		{"new key under the old id", jsonKey(t, "K2", ecKey2), "key pair id K2 did not", "K2", 1},
		{"next rotation", jsonKey(t, "K3", rsaKey), "", "K3", 2},
	}
	for _, step := range steps {
		writeFile(t, path, step.content)
		err := store.Refresh(ctx)
		if step.wantErr == "" && err != nil || step.wantErr != "" && (err == nil || !strings.Contains(err.Error(), step.wantErr)) {
			t.Fatalf("%s: Refresh = %v, want an error with %q", step.name, err, step.wantErr)
		}
		st := store.Status()
		if !st.Ready || st.Key.KeyPairID != step.wantID || st.Rotations != step.rotations {
			t.Fatalf("%s: status %+v", step.name, st)
		}
		if got := signWith(t, store); got != step.wantID {
			t.Fatalf("%s: signed for %s, want %s", step.name, got, step.wantID)
		}
		if (st.LastError != nil) != (step.wantErr != "") || st.LastAttempt.IsZero() {
			t.Errorf("%s: status %+v", step.name, st)
		}
		if step.wantErr != "" {
			if st.ConsecutiveFailures == 0 || !strings.Contains(st.LastError.Error(), path) {
				t.Errorf("%s: status %+v", step.name, st)
			}
			assertNoKeyMaterial(t, "error", err.Error())
		}
	}

	warnings := logLines(logs, "key refresh failed; still signing with the current key")
	if len(warnings) != 6 {
		t.Errorf("%d warnings, want one per failed refresh:\n%s", len(warnings), logs)
	}
	for _, w := range warnings {
		if w["level"] != "warn" || w["key_source"] != "file" || !strings.Contains(w["error"].(string), path) {
			t.Errorf("warning %v", w)
		}
	}
	rotated := logLines(logs, "signing key rotated")
	if len(rotated) != 2 || rotated[0]["old_key_pair_id"] != "K1" || rotated[0]["key_pair_id"] != "K2" ||
		rotated[0]["old_public_key_sha256"] != first.Fingerprint || rotated[0]["key_type"] != "ECDSA P-256" ||
		rotated[1]["old_key_pair_id"] != "K2" || rotated[1]["key_pair_id"] != "K3" {
		t.Errorf("rotation logs %v", rotated)
	}
	assertNoKeyMaterial(t, "log", logs.String())
}

// TestFileSymlinkSwap replaces a mounted key the way Kubernetes updates a
// secret volume: the file is a symlink through ..data, which is swapped
// atomically to a new directory.
func TestFileSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mount := func(version, content string) {
		ts := filepath.Join(dir, "..2026_11_21_"+version)
		if err := os.Mkdir(ts, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(ts, "key.json"), content)
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	mount("1", jsonKey(t, "KOLD", rsaKey))
	path := filepath.Join(dir, "key.json")
	if err := os.Symlink(filepath.Join("..data", "key.json"), path); err != nil {
		t.Fatal(err)
	}
	store, err := Open(context.Background(), config.CloudFront{}, config.Key{File: path, RefreshInterval: time.Minute}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mount("2", jsonKey(t, "KNEW", ecKey))
	if err := store.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := signWith(t, store); got != "KNEW" {
		t.Fatalf("signed for %s after the swap, want KNEW", got)
	}
}

// TestRunRereadsFile lets Run notice a changed file on its own.
func TestRunRereadsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "key.json")
	writeFile(t, path, jsonKey(t, "K1", rsaKey))
	store, err := Open(context.Background(), config.CloudFront{}, config.Key{File: path, RefreshInterval: time.Minute}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { store.Run(ctx); close(done) }()
	writeFile(t, path, jsonKey(t, "K2", ecKey))
	waitFor(t, "the new key", func() bool { return store.Status().Key.KeyPairID == "K2" })
	cancel()
	<-done
}

func TestRunReturnsForStaticKeys(t *testing.T) {
	t.Parallel()
	for _, k := range []config.Key{{PEM: config.Secret(readKey(t, rsaKey))}, {}} {
		store, err := Open(context.Background(), config.CloudFront{KeyPairID: "K1"}, k, Options{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { store.Run(context.Background()); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Run with a %s key did not return", k.Source())
		}
		if err := store.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// gatedKey is a crypto.Signer that blocks in Sign until released, to hold
// a request in flight across a rotation.
type gatedKey struct {
	crypto.Signer
	entered chan struct{}
	release chan struct{}
}

func (g *gatedKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.Signer.Sign(r, digest, opts)
}

// TestRotationInFlight rotates the key while a request is signing: the
// request finishes with the old key and id, requests that start after the
// swap get the new ones.
func TestRotationInFlight(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "key.json")
	writeFile(t, path, jsonKey(t, "KOLD", rsaKey))
	store, err := Open(context.Background(), config.CloudFront{}, config.Key{File: path, RefreshInterval: time.Minute}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Put the old key behind a gate, as a slow HSM would be.
	oldKey, err := signer.ParsePrivateKeyPEM([]byte(readKey(t, rsaKey)), signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedKey{Signer: oldKey, entered: make(chan struct{}), release: make(chan struct{})}
	k, err := store.newLoaded("file", "KOLD", gate)
	if err != nil {
		t.Fatal(err)
	}
	store.current.Store(k)

	// An RSA SHA-256 policy with an IP goes straight to the key's Sign.
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Minute)}
	type result struct {
		signed signer.Signed
		err    error
	}
	inFlight := make(chan result)
	go func() {
		signed, err := store.Sign(g)
		inFlight <- result{signed, err}
	}()
	<-gate.entered

	writeFile(t, path, jsonKey(t, "KNEW", ecKey))
	if err := store.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := signWith(t, store); got != "KNEW" {
		t.Fatalf("a request after the rotation signed for %s", got)
	}

	close(gate.release)
	r := <-inFlight
	if r.err != nil {
		t.Fatal(r.err)
	}
	policy, _ := g.Policy()
	if r.signed.KeyPairID != "KOLD" || r.signed.HashAlgorithm != signer.SHA256 {
		t.Fatalf("the request in flight finished with %s", r.signed)
	}
	if err := signer.Verify(oldKey.Public(), signer.SHA256, policy, r.signed.Signature); err != nil {
		t.Fatalf("the request in flight is not signed by the old key: %v", err)
	}
}
