// Package kmstest runs a real KMS for tests, as net/http/httptest runs a
// real HTTP server: the open-source local-kms emulator
// (github.com/nsmithuk/local-kms), which answers the KMS API for
// CreateKey, GetPublicKey, Sign, aliases and key states with real RSA and
// ECDSA keys.
//
// local-kms listens on every network interface and has no option to bind
// loopback only, so it only ever runs inside a private network namespace
// that has nothing but loopback. A test begins with Isolated, which
// re-runs that one test inside such a namespace (Linux, root or
// unprivileged user namespaces, and the unshare and ip commands):
//
//	func TestSomething(t *testing.T) {
//		if !kmstest.Isolated(t) {
//			return // ran inside the namespace, or skipped
//		}
//		srv := kmstest.Start(t)
//		client := srv.Client(t)
//		keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
//		...
//	}
//
// Isolated builds local-kms with go install (about 20 s, once) into the
// user's cache directory, unless LOCAL_KMS_BIN names a binary built
// before. Where a namespace cannot be made, Isolated skips the test, or
// fails it when CI=true.
package kmstest

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

const (
	// LocalKMSModule is the module of the local-kms that Isolated builds.
	LocalKMSModule = "github.com/nsmithuk/local-kms"
	// LocalKMSVersion is the version of it that Isolated builds.
	LocalKMSVersion = "v0.0.0-20260228092603-2a5e92d09ab6"

	// EnvBinary names the environment variable that may give the path of
	// a local-kms binary built before, so that Isolated builds none.
	EnvBinary = "LOCAL_KMS_BIN"

	// envInside marks a test process that runs inside the private network
	// namespace Isolated made.
	envInside = "KMSTEST_ISOLATED"

	// Region is the emulated KMS's region: key ARNs read
	// arn:aws:kms:Region:AccountID:key/ID.
	Region = "eu-west-2"
	// AccountID is the emulated KMS's account.
	AccountID = "111122223333"
)

// Isolated reports whether the calling test runs inside a private network
// namespace with only loopback, where Start may run local-kms. Outside
// one, it builds local-kms (where the module proxy is reachable), re-runs
// only the calling test or benchmark inside a new namespace
// (unshare -n), streaming its output into this test's log, fails this test
// if that run failed, skips it if that run skipped, and returns false: the
// caller then returns. Without Linux, unshare or the right to make a
// namespace, it skips the test with the reason, or fails it when the
// environment has CI=true.
//
// The re-run gets -test.v, -test.short, the test's remaining time and, for
// a benchmark, -test.benchtime, -test.benchmem and -test.count; it runs the whole
// calling test, subtests included, as -test.run selects tests by name.
func Isolated(tb testing.TB) bool {
	tb.Helper()
	if os.Getenv(envInside) == "1" {
		requireLoopbackOnly(tb)
		return true
	}
	unshare, err := namespaceCommand()
	if err != nil {
		skipOrFail(tb, err.Error())
		return false
	}
	bin := Binary(tb)
	rerun(tb, unshare, bin)
	return false
}

// skipOrFail skips the test with why, or fails it under CI=true, where
// the KMS tests must run.
func skipOrFail(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("kmstest: %s (CI=true: the KMS tests may not be skipped)", why)
	}
	tb.Skipf("kmstest: SKIPPED: %s", why)
}

// requireLoopbackOnly fails the test if the process is marked as isolated
// but sees a network interface other than loopback.
func requireLoopbackOnly(tb testing.TB) {
	tb.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		tb.Fatalf("kmstest: list network interfaces: %v", err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			tb.Fatalf("kmstest: %s=1 but interface %s is present: not the private network namespace Isolated makes", envInside, i.Name)
		}
	}
}

var (
	probeOnce   sync.Once
	probeResult []string
	probeErr    error
)

// namespaceCommand returns the command that runs a program in a new
// network namespace, having checked that it works here.
func namespaceCommand() ([]string, error) {
	probeOnce.Do(func() {
		if runtime.GOOS != "linux" {
			probeErr = fmt.Errorf("local-kms runs in a private network namespace, which needs Linux (this is %s)", runtime.GOOS)
			return
		}
		for _, tool := range []string{"unshare", "ip", "sh"} {
			if _, err := exec.LookPath(tool); err != nil {
				probeErr = fmt.Errorf("local-kms runs in a private network namespace, which needs %s: %w (Debian: apt-get install util-linux iproute2)", tool, err)
				return
			}
		}
		cmd := []string{"unshare", "-n"}
		if os.Geteuid() != 0 {
			cmd = []string{"unshare", "-r", "-n"} // a user namespace grants the right
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cmd[0], append(cmd[1:], "sh", "-c", "ip link set lo up")...).CombinedOutput() // #nosec G204 -- fixed arguments
		if err != nil {
			probeErr = fmt.Errorf("cannot make a private network namespace with %s (run as root, or allow unprivileged user namespaces): %w: %s",
				strings.Join(cmd, " "), err, bytes.TrimSpace(out))
			return
		}
		probeResult = cmd
	})
	return probeResult, probeErr
}

var (
	buildMu  sync.Mutex
	buildBin string
)

// Binary returns the path of a local-kms binary: the one LOCAL_KMS_BIN
// names, or one built with go install into the user's cache directory
// (cfcookies-local-kms/VERSION), built the first time only. A build that
// fails skips the test, or fails it under CI=true.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 { // #nosec G703 -- a path the tester gives
			tb.Fatalf("kmstest: %s=%s is not an executable file (err: %v)", EnvBinary, p, err)
		}
		return p
	}
	if os.Getenv(envInside) == "1" {
		tb.Fatalf("kmstest: %s is not set inside the namespace: Isolated sets it", EnvBinary)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildBin != "" {
		return buildBin
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "cfcookies-local-kms", LocalKMSVersion)
	bin := filepath.Join(dir, "local-kms")
	if fi, err := os.Stat(bin); err == nil && !fi.IsDir() {
		buildBin = bin
		return bin
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		tb.Fatalf("kmstest: %v", err)
	}
	// Build into a directory of our own and rename: another test process
	// may be building the same binary now.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		tb.Fatalf("kmstest: %v", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(tb, fmt.Sprintf("building local-kms needs the go command: %v; or set %s", err, EnvBinary))
	}
	start := time.Now()
	cmd := exec.CommandContext(tb.Context(), goCmd, "install", LocalKMSModule+"@"+LocalKMSVersion) // #nosec G204 -- fixed module and version
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		skipOrFail(tb, fmt.Sprintf("go install %s@%s: %v\n%s\n(or set %s to a local-kms binary)",
			LocalKMSModule, LocalKMSVersion, err, bytes.TrimSpace(out), EnvBinary))
	}
	if err := os.Rename(filepath.Join(tmp, "local-kms"), bin); err != nil {
		tb.Fatalf("kmstest: %v", err)
	}
	tb.Logf("kmstest: built local-kms %s into %s in %s", LocalKMSVersion, dir, time.Since(start).Round(time.Second/10))
	buildBin = bin
	return bin
}

// rerun runs the calling test or benchmark again, alone, in a new network
// namespace where only loopback is up.
func rerun(tb testing.TB, unshare []string, bin string) {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatalf("kmstest: %v", err)
	}
	pattern := namePattern(tb.Name())
	_, isBench := tb.(*testing.B)
	args := []string{"-test.v=true"}
	if isBench {
		// A skipped benchmark is not run again: the re-run repeats it.
		args = append(args, "-test.run=^$", "-test.bench="+pattern)
		args = append(args, flagArgs("test.benchtime", "test.benchmem", "test.count")...)
	} else {
		args = append(args, "-test.count=1", "-test.run="+pattern)
	}
	args = append(args, flagArgs("test.short")...)

	ctx := context.Background()
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			// The inner run times out first, with its goroutines' stacks.
			left := time.Until(deadline)
			args = append(args, "-test.timeout="+(left*9/10).String())
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
	}

	script := `ip link set lo up && exec "$0" "$@"`
	cmdArgs := append(append(append([]string{}, unshare[1:]...), "sh", "-c", script, exe), args...)
	cmd := exec.CommandContext(ctx, unshare[0], cmdArgs...) // #nosec G204 -- this test binary, re-run
	cmd.Env = append(os.Environ(), envInside+"=1", EnvBinary+"="+bin)
	cmd.WaitDelay = 5 * time.Second
	out := &lineLogger{tb: tb}
	cmd.Stdout, cmd.Stderr = out, out
	tb.Logf("kmstest: running %s inside a private network namespace", tb.Name())
	err = cmd.Run()
	out.flush()
	switch {
	case err != nil:
		tb.Errorf("kmstest: %s inside the private network namespace: %v", tb.Name(), err)
	case out.skipped:
		tb.Skipf("kmstest: %s skipped inside the private network namespace (reason above)", tb.Name())
	case !out.ran:
		tb.Errorf("kmstest: re-running %s inside the private network namespace ran no test", tb.Name())
	case isBench:
		// The results are printed above; this run measured nothing.
		tb.Skipf("kmstest: %s ran inside the private network namespace (results above)", tb.Name())
	}
}

// namePattern is a -test.run pattern matching exactly the test name,
// subtest by subtest.
func namePattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// flagArgs returns -name=value for each test flag that is set.
func flagArgs(names ...string) []string {
	var args []string
	for _, n := range names {
		if f := flag.Lookup(n); f != nil && f.Value.String() != f.DefValue {
			args = append(args, "-"+n+"="+f.Value.String())
		}
	}
	return args
}

// lineLogger writes the inner run's output into the test's log, line by
// line, and notes whether the test ran and whether it was skipped.
type lineLogger struct {
	tb           testing.TB
	mu           sync.Mutex
	buf          []byte
	ran, skipped bool
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLogger) line(s string) {
	name := l.tb.Name()
	top := name
	if i := strings.IndexByte(name, '/'); i >= 0 {
		top = name[:i]
	}
	switch {
	case strings.HasPrefix(s, "--- SKIP: "+top+" "):
		l.ran, l.skipped = true, true
	case strings.HasPrefix(s, "--- PASS: "+top+" "), strings.HasPrefix(s, "--- FAIL: "+top+" "):
		l.ran = true
	case strings.HasPrefix(s, top+"-") || strings.HasPrefix(s, top+"/") || strings.HasPrefix(s, top+"\t") || strings.HasPrefix(s, top+" "):
		if _, ok := l.tb.(*testing.B); ok && strings.Contains(s, "ns/op") {
			// A benchmark's result goes out as go test prints it, for
			// benchstat; the outer benchmark is then skipped.
			l.ran = true
			_, _ = fmt.Fprintln(os.Stdout, s)
			return
		}
	}
	l.tb.Log("│ " + s)
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}

// A Server is a running local-kms, reachable on loopback inside the
// private network namespace.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string

	out *syncBuffer // local-kms's log
}

var startedRE = regexp.MustCompile(`Local KMS started on [^ ]*:(\d+)`)

// Start runs local-kms for the test, on a port of loopback it chooses,
// with its data in t.TempDir() and no seed, waits until it answers, and
// stops it when the test ends. It must be called inside Isolated. Its log
// goes into the test's log if the test fails.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if os.Getenv(envInside) != "1" {
		tb.Fatalf("kmstest: Start outside the private network namespace: begin the test with `if !kmstest.Isolated(t) { return }`")
	}
	requireLoopbackOnly(tb)
	bin := Binary(tb)
	out := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd := exec.CommandContext(tb.Context(), bin) // #nosec G204 -- the local-kms binary
	cmd.Env = []string{
		"PORT=0", // local-kms binds a free port and logs it
		"KMS_DATA_PATH=" + tb.TempDir(),
		"KMS_SEED_PATH=/nonexistent",
		"KMS_REGION=" + Region,
		"KMS_ACCOUNT_ID=" + AccountID,
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = sysProcAttr() // dies with the test process
	if err := cmd.Start(); err != nil {
		tb.Fatalf("kmstest: start local-kms: %v", err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		_ = pw.Close()
	}()
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := ansi.ReplaceAllString(sc.Text(), "")
			out.writeLine(line)
			if m := startedRE.FindStringSubmatch(line); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	stop := func() error {
		_ = cmd.Process.Kill()
		return <-exited
	}
	s := &Server{out: out}
	tb.Cleanup(func() {
		_ = stop() // killed: its exit status says so
		if tb.Failed() {
			tb.Logf("kmstest: local-kms log:\n%s", out.String())
		}
	})

	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case p := <-port:
		if _, err := strconv.Atoi(p); err != nil {
			tb.Fatalf("kmstest: local-kms reported port %q", p)
		}
		s.URL = "http://" + net.JoinHostPort("127.0.0.1", p)
	case err := <-exited:
		exited <- err // for stop
		tb.Fatalf("kmstest: local-kms exited before listening: %v\n%s", err, out.String())
	case <-timer.C:
		tb.Fatalf("kmstest: local-kms did not report its port within 30 s:\n%s", out.String())
	}

	// It has bound its listener; wait for the first answer.
	client := s.Client(tb)
	for {
		ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Second)
		_, err := client.ListKeys(ctx, &kms.ListKeysInput{})
		cancel()
		if err == nil {
			return s
		}
		select {
		case <-timer.C:
			tb.Fatalf("kmstest: local-kms at %s does not answer ListKeys: %v", s.URL, err)
		case err := <-exited:
			exited <- err
			tb.Fatalf("kmstest: local-kms exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ansi matches the colour escapes of local-kms's log.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) writeLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
	b.b.WriteByte('\n')
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Client returns a real KMS client for the server: region Region, static
// placeholder credentials (local-kms checks none), endpoint URL.
func (s *Server) Client(tb testing.TB) *kms.Client {
	tb.Helper()
	return kms.New(kms.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "kmstest", SecretAccessKey: "kmstest", Source: "kmstest"}, nil
		}),
	})
}

// CreateKey creates a key of spec and usage and returns its key id (not
// its ARN; see KeyARN).
func (s *Server) CreateKey(tb testing.TB, spec types.KeySpec, usage types.KeyUsageType) (keyID string) {
	tb.Helper()
	out, err := s.Client(tb).CreateKey(tb.Context(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	if err != nil {
		tb.Fatalf("kmstest: CreateKey %s %s: %v", spec, usage, err)
	}
	if out.KeyMetadata == nil || out.KeyMetadata.KeyId == nil {
		tb.Fatalf("kmstest: CreateKey %s %s answered no key id", spec, usage)
	}
	return *out.KeyMetadata.KeyId
}

// KeyARN returns the ARN of a key.
func (s *Server) KeyARN(tb testing.TB, keyID string) string {
	tb.Helper()
	out, err := s.Client(tb).DescribeKey(tb.Context(), &kms.DescribeKeyInput{KeyId: &keyID})
	if err != nil {
		tb.Fatalf("kmstest: DescribeKey %s: %v", keyID, err)
	}
	if out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
		tb.Fatalf("kmstest: DescribeKey %s answered no ARN", keyID)
	}
	return *out.KeyMetadata.Arn
}

// CreateAlias points the alias name ("alias/...") at a key and returns the
// alias's ARN.
func (s *Server) CreateAlias(tb testing.TB, alias, keyID string) (aliasARN string) {
	tb.Helper()
	if _, err := s.Client(tb).CreateAlias(tb.Context(), &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &keyID}); err != nil {
		tb.Fatalf("kmstest: CreateAlias %s: %v", alias, err)
	}
	return "arn:aws:kms:" + Region + ":" + AccountID + ":" + alias
}

// DisableKey disables a key: KMS then answers DisabledException.
func (s *Server) DisableKey(tb testing.TB, keyID string) {
	tb.Helper()
	if _, err := s.Client(tb).DisableKey(tb.Context(), &kms.DisableKeyInput{KeyId: &keyID}); err != nil {
		tb.Fatalf("kmstest: DisableKey %s: %v", keyID, err)
	}
}

// ScheduleKeyDeletion schedules a key's deletion in 7 days, the shortest
// wait: KMS then answers KMSInvalidStateException.
func (s *Server) ScheduleKeyDeletion(tb testing.TB, keyID string) {
	tb.Helper()
	days := int32(7)
	if _, err := s.Client(tb).ScheduleKeyDeletion(tb.Context(), &kms.ScheduleKeyDeletionInput{KeyId: &keyID, PendingWindowInDays: &days}); err != nil {
		tb.Fatalf("kmstest: ScheduleKeyDeletion %s: %v", keyID, err)
	}
}

// Log returns what local-kms has logged so far.
func (s *Server) Log() string { return s.out.String() }
