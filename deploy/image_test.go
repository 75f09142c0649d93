//go:build image

package deploy

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/buildinfo"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/edge"
)

// The image test builds the Dockerfile with buildah and runs the image with
// podman, without a Docker engine and without reaching any registry:
//
//   - the Go builder image is made here from the installed toolchain
//     (GOROOT, without its tests) and busybox-static for RUN's /bin/sh;
//   - the runtime image stands in for distroless static:nonroot: scratch
//     with the same /etc/passwd entry for 65532, /tmp and the CA bundle;
//   - modules come from the host's module cache, mounted read-only into the
//     build as a file:// GOPROXY, so the Dockerfile builds unchanged;
//   - everything lives in a private vfs storage under a temporary directory.
//
// The container then runs outside --dev with AUTH_MODE=alb: the test plays the
// load balancer, signing the x-amzn-oidc-data header with a key it serves over
// TLS on host.containers.internal, so issuance goes through the real
// authentication, key loading and signing code of the image.

const (
	albARN         = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cfcookies-test/0123456789abcdef"
	mediaDomain    = "media.example.com"
	keyPairID      = "K2IMAGETEST"
	containerHost  = "host.containers.internal" // the host, as podman names it inside a container
	testImageRepo  = "localhost/cfcookies-test"
	containerPort  = "8080"
	runtimeUID     = "65532"
	healthDeadline = 60 * time.Second
)

func TestImage(t *testing.T) {
	t.Parallel()
	ci := os.Getenv("CI") == "true"
	var missing []string
	for _, tool := range []string{"buildah", "podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat(busyboxPath); err != nil {
		missing = append(missing, "busybox-static")
	}
	switch {
	case len(missing) > 0 && ci:
		t.Fatalf("CI=true but %s not installed: .ci/run installs them (apt-get install buildah podman runc busybox-static)", strings.Join(missing, ", "))
	case len(missing) > 0:
		t.Skipf("skipping the container image build and run: %s not installed (apt-get install buildah podman runc busybox-static); CI runs it", strings.Join(missing, ", "))
	case os.Geteuid() != 0 && ci:
		t.Fatal("CI=true but not root: the image test needs root for buildah mount and podman networking")
	case os.Geteuid() != 0:
		t.Skip("skipping the container image build and run: it needs root (buildah mount, podman port mapping)")
	}

	start := time.Now()
	e := newEngine(t)
	goImage := e.makeGoImage()
	runtimeImage := e.makeRuntimeImage()
	t.Logf("base images made in %s", time.Since(start).Round(time.Second))

	start = time.Now()
	version := "image-test-" + strconv.FormatInt(time.Now().Unix(), 36)
	image := testImageRepo + "/cfcookies:" + version
	e.buildah("build", "--isolation", "chroot", "--pull=never", "--format", "docker",
		"--volume", moduleProxy(t)+":/goproxy:ro",
		"--build-arg", "GO_IMAGE="+goImage,
		"--build-arg", "RUNTIME_IMAGE="+runtimeImage,
		"--build-arg", "GOPROXY=file:///goproxy",
		"--build-arg", "VERSION="+version,
		"--tag", image, "--file", "Dockerfile", ".")
	t.Logf("image built in %s", time.Since(start).Round(time.Second))

	start = time.Now()
	t.Run("image config", func(t *testing.T) { checkImageConfig(t, e, image) })
	c := runImage(t, e, image)
	t.Run("healthz", func(t *testing.T) { c.checkHealthz(t) })
	t.Run("issuance", func(t *testing.T) { c.checkIssuance(t) })
	t.Run("HEALTHCHECK", func(t *testing.T) { c.checkHealthcheck(t) })
	t.Run("runs as 65532", func(t *testing.T) { c.checkUser(t) })
	t.Run("filesystem", func(t *testing.T) { c.checkFilesystem(t, version) })
	t.Run("graceful stop", func(t *testing.T) { c.checkStop(t, version) })
	t.Logf("container checked in %s", time.Since(start).Round(time.Second))
}

// busyboxPath is where Debian's busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

// engine runs buildah and podman on a private vfs storage.
type engine struct {
	t                     *testing.T
	root, runroot, tmpdir string
}

func newEngine(t *testing.T) *engine {
	dir := t.TempDir()
	e := &engine{t: t, root: filepath.Join(dir, "root"), runroot: filepath.Join(dir, "run"), tmpdir: filepath.Join(dir, "tmp")}
	t.Cleanup(func() {
		// Before TempDir's cleanup: containers hold mounts under runroot.
		_, _ = e.exec("podman", "rm", "--all", "--force", "--time", "0")
		_, _ = e.exec("buildah", "rm", "--all")
	})
	return e
}

func (e *engine) exec(tool string, args ...string) (string, error) {
	flags := []string{"--root", e.root, "--runroot", e.runroot, "--storage-driver", "vfs"}
	if tool == "podman" {
		flags = append(flags, "--tmpdir", e.tmpdir, "--runtime", "runc", "--cgroup-manager", "cgroupfs")
	}
	// Not t.Context(): it is canceled before the cleanups that remove
	// containers run.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, append(flags, args...)...)
	cmd.Dir = repoRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s%s", tool, strings.Join(args, " "), err, lastLines(stdout.String(), 40), lastLines(stderr.String(), 40))
	}
	return stdout.String(), nil
}

func (e *engine) buildah(args ...string) string {
	e.t.Helper()
	out, err := e.exec("buildah", args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func (e *engine) podman(args ...string) string {
	e.t.Helper()
	out, err := e.exec("podman", args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func lastLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// fromScratch gives fill the root of an empty working container, then
// commits it as name with the given buildah config flags.
func (e *engine) fromScratch(name string, fill func(rootfs string), configFlags ...string) string {
	e.t.Helper()
	ctr := e.buildah("from", "scratch")
	rootfs := e.buildah("mount", ctr)
	fill(rootfs)
	e.buildah("umount", ctr)
	if len(configFlags) > 0 {
		e.buildah(append(append([]string{"config"}, configFlags...), ctr)...)
	}
	e.buildah("commit", "--quiet", "--format", "docker", ctr, name)
	e.buildah("rm", ctr)
	return name
}

// makeGoImage makes a Go builder image from the installed toolchain, the
// local stand-in for golang:1.26.8-bookworm.
func (e *engine) makeGoImage() string {
	t := e.t
	goroot, err := goCmd(t, "env", "GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	goroot = strings.TrimSpace(goroot)
	return e.fromScratch(testImageRepo+"/golang:local", func(rootfs string) {
		// Tests and docs are not needed to build: leaving them out halves
		// what vfs copies for every build step.
		skip := func(rel string, d fs.DirEntry) bool {
			switch {
			case rel == "test" || rel == "api" || rel == "doc" || rel == "misc":
				return true
			case d.IsDir():
				return d.Name() == "testdata"
			}
			return strings.HasSuffix(rel, "_test.go")
		}
		copyTree(t, goroot, filepath.Join(rootfs, "usr/local/go"), skip)
		copyFile(t, busyboxPath, filepath.Join(rootfs, "bin/busybox"), 0o755)
		mustSymlink(t, "busybox", filepath.Join(rootfs, "bin/sh"))
		mustWrite(t, filepath.Join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n", 0o644)
		mustMkdir(t, filepath.Join(rootfs, "root"), 0o700)
		mustMkdir(t, filepath.Join(rootfs, "tmp"), 0o777|fs.ModeSticky)
	}, "--env", "PATH=/usr/local/go/bin:/bin", "--env", "GOTOOLCHAIN=local", "--workingdir", "/")
}

// makeRuntimeImage makes the local stand-in for
// gcr.io/distroless/static-debian12:nonroot: no shell, user 65532, CA roots.
func (e *engine) makeRuntimeImage() string {
	t := e.t
	return e.fromScratch(testImageRepo+"/static-nonroot:local", func(rootfs string) {
		mustWrite(t, filepath.Join(rootfs, "etc/passwd"),
			"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n", 0o644)
		mustWrite(t, filepath.Join(rootfs, "etc/group"), "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n", 0o644)
		if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
			copyFile(t, "/etc/ssl/certs/ca-certificates.crt", filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt"), 0o644)
		}
		mustMkdir(t, filepath.Join(rootfs, "tmp"), 0o777|fs.ModeSticky)
		mustMkdir(t, filepath.Join(rootfs, "home/nonroot"), 0o700)
		if err := os.Chown(filepath.Join(rootfs, "home/nonroot"), 65532, 65532); err != nil {
			t.Fatal(err)
		}
	}, "--user", "65532:65532", "--workingdir", "/home/nonroot")
}

// moduleProxy returns the host's module download cache, which is laid out
// as a GOPROXY, after making sure it holds every module the build needs.
func moduleProxy(t *testing.T) string {
	if _, err := goCmd(t, "mod", "download"); err != nil {
		t.Fatal(err)
	}
	dir, err := goCmd(t, "env", "GOMODCACHE")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(strings.TrimSpace(dir), "cache", "download")
}

func checkImageConfig(t *testing.T, e *engine, image string) {
	var inspect []struct {
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
			Env          []string
			StopSignal   string
		}
		Healthcheck *struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(e.podman("image", "inspect", image)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	cfg := inspect[0].Config
	if cfg.User != runtimeUID+":"+runtimeUID {
		t.Errorf("User %q, want 65532:65532", cfg.User)
	}
	for _, p := range []string{"8080/tcp", "9090/tcp"} {
		if _, ok := cfg.ExposedPorts[p]; !ok {
			t.Errorf("ExposedPorts %v lacks %s", cfg.ExposedPorts, p)
		}
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/cfcookies"}) {
		t.Errorf("Entrypoint %q", cfg.Entrypoint)
	}
	if hc := inspect[0].Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/cfcookies", "healthcheck"}) {
		t.Errorf("Healthcheck %+v: the image must be built in docker format to keep it", hc)
	}
	if cfg.StopSignal != "SIGTERM" {
		t.Errorf("StopSignal %q", cfg.StopSignal)
	}
	for _, kv := range cfg.Env {
		if secretValue.MatchString(kv) {
			t.Errorf("image Env holds key material: %.20s...", kv)
		}
	}
}

// container is the running image, with what the test configured it with.
type container struct {
	e       *engine
	name    string
	baseURL string
	signKey *rsa.PrivateKey   // CloudFront key given to the container
	albKey  *ecdsa.PrivateKey // the test's "load balancer" key
	albKid  string
	keyHits *atomic.Int64 // fetches of the ALB public key
	secrets []string      // values sent or issued that the log must never show
}

func runImage(t *testing.T, e *engine, image string) *container {
	c := &container{e: e, name: "cfcookies-test-" + strconv.Itoa(os.Getpid()), albKid: "test-kid-1", keyHits: new(atomic.Int64)}
	var err error
	if c.signKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if c.albKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	keysURL, caFile := c.serveALBKeys(t)
	der, err := x509.MarshalPKCS8PrivateKey(c.signKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	port := freePort(t)
	c.baseURL = "http://127.0.0.1:" + port

	env := map[string]string{
		"CLOUDFRONT_DOMAIN":      mediaDomain,
		"CLOUDFRONT_KEY_PAIR_ID": keyPairID,
		// One line with literal \n, as ECS passes a secret through.
		"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(keyPEM, "\n", `\n`),
		"COOKIE_DOMAIN":          "example.com",
		"AUTH_MODE":              "alb",
		"ALB_ARN":                albARN,
		"ALB_PUBLIC_KEYS_URL":    keysURL,
		"SSL_CERT_FILE":          "/etc/cfcookies-test/keys-ca.pem",
	}
	args := []string{"run", "--detach", "--name", c.name,
		// runc cannot raise these limits here; see RECIPES.md.
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000",
		// No systemd timer here: the HEALTHCHECK is run on demand below.
		"--health-interval", "disable",
		"--publish", "127.0.0.1:" + port + ":" + containerPort,
		"--volume", caFile + ":/etc/cfcookies-test/keys-ca.pem:ro"}
	for k, v := range env {
		args = append(args, "--env", k+"="+v)
	}
	e.podman(append(args, image)...)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := e.exec("podman", "logs", c.name)
			t.Logf("container log:\n%s", lastLines(out, 30))
		}
	})
	c.waitHealthy(t)
	return c
}

// serveALBKeys serves the ALB public key as the regional endpoint would, over
// TLS on all interfaces (the container reaches the host through its bridge),
// and returns its URL and the file holding its self-signed certificate.
func (c *container) serveALBKeys(t *testing.T) (url, caFile string) {
	pub, err := x509.MarshalPKIXPublicKey(&c.albKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{kid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("kid") != c.albKid {
			http.NotFound(w, r)
			return
		}
		c.keyHits.Add(1)
		_, _ = w.Write(pubPEM)
	})

	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: containerHost},
		DNSNames:              []string{containerHost},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &tlsKey.PublicKey, tlsKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "keys-ca.pem")
	mustWrite(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})), 0o644)

	ln, err := net.Listen("tcp", ":0") //nolint:gosec // G102: the container reaches the host over its bridge, not loopback
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{certDER}, PrivateKey: tlsKey}}},
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "https://" + containerHost + ":" + port, caFile
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (c *container) waitHealthy(t *testing.T) {
	deadline := time.Now().Add(healthDeadline)
	for {
		resp, err := httpClient.Get(c.baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			out, _ := c.e.exec("podman", "logs", c.name)
			t.Fatalf("no 200 from /healthz through the published port within %s (last: %v)\n%s", healthDeadline, err, lastLines(out, 30))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *container) checkHealthz(t *testing.T) {
	resp, err := httpClient.Get(c.baseURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}
	resp, err = httpClient.Get(c.baseURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d, want 200 with the key configured", resp.StatusCode)
	}
}

// albToken signs an x-amzn-oidc-data header as an ALB does: ES256 over
// base64url segments, with the load balancer's ARN as signer.
func (c *container) albToken(t *testing.T, sub string) string {
	exp := time.Now().Add(5 * time.Minute).Unix()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signingInput := seg(map[string]any{"alg": "ES256", "kid": c.albKid, "signer": albARN, "iss": "https://login.example.com", "client": "cfcookies", "exp": exp}) +
		"." + seg(map[string]any{"sub": sub, "email": sub + "@example.com", "exp": exp, "iss": "https://login.example.com"})
	digest := sha256.Sum256([]byte(signingInput))
	r, s, err := ecdsa.Sign(rand.Reader, c.albKey, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (c *container) checkIssuance(t *testing.T) {
	post := func(token string) (int, []*http.Cookie) {
		req, err := http.NewRequest(http.MethodPost, c.baseURL+"/auth/media-cookies", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("X-Amzn-Oidc-Data", token)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Cookies()
	}

	if code, cookies := post(""); code != http.StatusUnauthorized || len(cookies) != 0 {
		t.Errorf("without the ALB header: %d with %d cookies, want 401 and none", code, len(cookies))
	}

	token := c.albToken(t, "alice")
	c.secrets = append(c.secrets, token[strings.LastIndexByte(token, '.')+1:])
	code, cookies := post(token)
	if code != http.StatusOK {
		t.Fatalf("with a signed ALB header: %d, want 200", code)
	}
	if c.keyHits.Load() == 0 {
		t.Error("the container never fetched the ALB key from ALB_PUBLIC_KEYS_URL")
	}
	got := map[string]*http.Cookie{}
	for _, ck := range cookies {
		if ck.MaxAge >= 0 && ck.Value != "" {
			got[ck.Name] = ck
		}
	}
	if ck := got["CloudFront-Signature"]; ck != nil {
		c.secrets = append(c.secrets, ck.Value)
	}
	for _, name := range []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"} {
		ck, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no %s cookie among %v", name, cookies)
		case !ck.Secure || !ck.HttpOnly || ck.Domain != "example.com" || ck.Path != "/":
			t.Errorf("%s: Secure=%v HttpOnly=%v Domain=%q Path=%q", name, ck.Secure, ck.HttpOnly, ck.Domain, ck.Path)
		}
	}

	// CloudFront, as internal/edge reproduces it, accepts them for alice's
	// media and nothing else.
	v, err := edge.NewVerifier(map[string]crypto.PublicKey{keyPairID: &c.signKey.PublicKey}, edge.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{{"/media/alice/hls/index.m3u8", true}, {"/media/bob/hls/index.m3u8", false}} {
		req := httptest.NewRequest(http.MethodGet, "https://"+mediaDomain+tc.path, nil)
		for _, ck := range got {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		if d := v.Check(req, time.Now()); d.Allowed != tc.want {
			t.Errorf("CloudFront would answer %s with allowed=%v (%s), want %v", tc.path, d.Allowed, d.Reason, tc.want)
		}
	}
}

// checkHealthcheck runs the image's own HEALTHCHECK, as ECS or Docker would.
func (c *container) checkHealthcheck(t *testing.T) {
	if out, err := c.e.exec("podman", "healthcheck", "run", c.name); err != nil {
		t.Errorf("HEALTHCHECK failed: %v %s", err, out)
	}
}

func (c *container) checkUser(t *testing.T) {
	pid := c.e.podman("inspect", "--format", "{{.State.Pid}}", c.name)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"Uid", "Gid"} {
		m := regexp.MustCompile(`(?m)^` + field + `:\s+(.*)$`).FindSubmatch(status)
		if m == nil {
			t.Fatalf("no %s in /proc/%s/status", field, pid)
		}
		for _, id := range strings.Fields(string(m[1])) {
			if id != runtimeUID {
				t.Errorf("server process %s: %s, want %s for real, effective, saved and fs", field, m[1], runtimeUID)
				break
			}
		}
	}
}

// checkFilesystem reads the container's filesystem: one static binary built
// as the Dockerfile says, no shell, nothing of the build stage.
func (c *container) checkFilesystem(t *testing.T, version string) {
	out, err := c.e.exec("podman", "export", c.name)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(strings.NewReader(out))
	var binary []byte
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean("/" + h.Name)
		names = append(names, name)
		switch base := path.Base(name); {
		case name == "/cfcookies":
			if binary, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		case slices.Contains([]string{"sh", "bash", "ash", "dash", "zsh", "busybox", "curl", "wget"}, base):
			t.Errorf("the image has %s: it is meant to have no shell or download tool", name)
		case strings.HasPrefix(name, "/usr/local/go") || strings.HasPrefix(name, "/src") || strings.HasPrefix(name, "/root/go"):
			t.Errorf("the image has %s from the build stage", name)
		}
	}
	if binary == nil {
		t.Fatalf("no /cfcookies among %d files", len(names))
	}
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/cfcookies is dynamically linked: distroless static has no libc")
		}
	}
	bi, err := buildinfo.Read(bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["-trimpath"] != "true" || settings["CGO_ENABLED"] != "0" {
		t.Errorf("build settings %v: want -trimpath and CGO_ENABLED=0", settings)
	}
	// -trimpath keeps -ldflags out of the build info: look for the value.
	if !bytes.Contains(binary, []byte(version)) {
		t.Errorf("/cfcookies does not hold the version %s passed as VERSION", version)
	}
}

// checkStop stops the container as ECS does (SIGTERM, then SIGKILL after the
// stop timeout): the server must exit by itself, cleanly and in time.
func (c *container) checkStop(t *testing.T, version string) {
	timeout := config.ShutdownTimeout + 10*time.Second
	start := time.Now()
	c.e.podman("stop", "--time", strconv.Itoa(int(timeout.Seconds())), c.name)
	if took := time.Since(start); took > config.ShutdownTimeout {
		t.Errorf("stop took %s, longer than the shutdown deadline %s: SIGTERM is not reaching the server", took, config.ShutdownTimeout)
	}
	if code := c.e.podman("inspect", "--format", "{{.State.ExitCode}}", c.name); code != "0" {
		t.Errorf("exit code %s after SIGTERM, want 0", code)
	}
	logs, err := c.e.exec("podman", "logs", c.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version":"` + version + `"`, `"message":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("container log lacks %s", want)
		}
	}
	if strings.Contains(logs, "PRIVATE KEY") {
		t.Error("container log holds the private key")
	}
	for _, s := range c.secrets {
		if strings.Contains(logs, s) {
			t.Errorf("container log holds a token or cookie signature (%.8s...)", s)
		}
	}
	if len(c.secrets) == 0 {
		t.Error("nothing to look for: the issuance subtest did not run")
	}
}

// copyTree copies the regular files, directories and symlinks under src to
// dst, keeping modes, except what skip (given slash paths relative to src)
// leaves out.
func copyTree(t *testing.T, src, dst string, skip func(rel string, d fs.DirEntry) bool) {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skip(filepath.ToSlash(rel), d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o200)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target) //nolint:gosec // G122: copies the installed Go toolchain into a fresh rootfs
		case d.Type().IsRegular():
			copyFile(t, p, target, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string, perm fs.FileMode) {
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	mkdirs(t, filepath.Dir(dst))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, name, content string, perm fs.FileMode) {
	mkdirs(t, filepath.Dir(name))
	if err := os.WriteFile(name, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

// mkdirs makes dir and its parents as 0755 where they are missing.
func mkdirs(t *testing.T, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: image directories, traversed by uid 65532
		t.Fatal(err)
	}
}

// mustMkdir makes dir with exactly perm (sticky bit included).
func mustMkdir(t *testing.T, dir string, perm fs.FileMode) {
	if err := os.MkdirAll(dir, perm); err != nil {
		t.Fatal(err)
	}
	// MkdirAll applies the umask and never sets the sticky bit.
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, name string) {
	mkdirs(t, filepath.Dir(name))
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
