package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// usageLines is the first line of each command's usage.
var usageLines = map[string]string{
	"":            "usage: server [--dev] <command> [flags]",
	"serve":       "usage: server [--dev] [serve]",
	"check":       "usage: server [--dev] check --app-origin ORIGIN [--api-origin ORIGIN]",
	"verify":      "usage: server verify --url URL (--cookie HEADER|- | --policy P --signature S --key-pair-id ID [--hash-algorithm SHA256])",
	"probe":       "usage: server probe --api URL --app-origin ORIGIN --media URL|PATH [--scope NAME] [--header 'Name: value']... [--timeout 10s] < token",
	"keygen":      "usage: server keygen --type rsa|ecdsa --out private.pem > public.pem",
	"public-key":  "usage: server public-key > public.pem",
	"healthcheck": "usage: server healthcheck",
	"help":        "usage: server [--dev] <command> [flags]",
}

// runBounded runs the server like runCmd, but gives up after a few
// seconds: a help request that starts the server instead must fail, not
// hang. LISTEN_ADDR and the other listeners are on ports the kernel picks.
func runBounded(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DEV_CDN_ADDR": "127.0.0.1:0", "METRICS_ADDR": ""}
	var out, errOut bytes.Buffer
	err := run(ctx, append([]string{"server"}, args...), envOf(env), nil, &out, &errOut)
	if err != nil {
		code = exitCode(err)
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// TestRunHelp asks for help every way there is: it goes to stdout with
// exit status 0, and runs nothing.
func TestRunHelp(t *testing.T) {
	t.Parallel()
	type ask struct {
		args []string
		cmd  string // whose usage is printed; "" for the program's
	}
	asks := []ask{
		{[]string{"--help"}, ""},
		{[]string{"-h"}, ""},
		{[]string{"-help"}, ""},
		{[]string{"help"}, ""},
		{[]string{"--dev", "--help"}, ""},
		{[]string{"--dev", "help"}, ""},
		{[]string{"help", "help"}, "help"},
		{[]string{"help", "--help"}, "help"},
	}
	for _, cmd := range []string{"serve", "check", "verify", "probe", "keygen", "public-key", "healthcheck"} {
		asks = append(asks,
			ask{[]string{cmd, "--help"}, cmd},
			ask{[]string{cmd, "-h"}, cmd},
			ask{[]string{"help", cmd}, cmd},
			ask{[]string{"--dev", cmd, "--help"}, cmd},
		)
	}
	// Flags before the help request are not checked first.
	asks = append(asks,
		ask{[]string{"check", "--app-origin", "https://app.example.test", "-h"}, "check"},
		ask{[]string{"keygen", "--type", "rsa", "--help"}, "keygen"},
		ask{[]string{"verify", "--url", "https://media.example.test/a.png", "--help"}, "verify"},
		ask{[]string{"probe", "--api", "https://api.example.test", "--help"}, "probe"},
	)
	for _, a := range asks {
		t.Run(strings.Join(a.args, " "), func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runBounded(t, a.args...)
			if code != 0 {
				t.Errorf("exit status %d, want 0 (stderr %q)", code, errOut)
			}
			if errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
			if want := usageLines[a.cmd]; !strings.HasPrefix(out, want+"\n") {
				t.Errorf("stdout does not start with %q:\n%s", want, out)
			}
			if a.cmd == "" || a.cmd == "help" {
				for cmd := range usageLines {
					if cmd != "" && !strings.Contains(out, "\n  "+cmd+" ") {
						t.Errorf("the program's usage does not list %s:\n%s", cmd, out)
					}
				}
			}
			if strings.Contains(out, `"message"`) {
				t.Errorf("help ran the command:\n%s", out)
			}
		})
	}
}

// TestRunUsageErrors: a wrong command or flag is a usage error, exit
// status 2, with the usage on stderr and nothing on stdout.
func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		cmd  string // whose usage is printed
		want string // in stderr
	}{
		{[]string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{[]string{"--nope"}, "", "flag provided but not defined: -nope"},
		{[]string{"help", "frobnicate"}, "", `unknown command "frobnicate"`},
		{[]string{"help", "check", "verify"}, "", `help: unexpected argument "verify"`},
		{[]string{"serve", "now"}, "serve", `serve: unexpected argument "now"`},
		{[]string{"healthcheck", "now"}, "healthcheck", `healthcheck: unexpected argument "now"`},
	}
	for _, cmd := range []string{"serve", "check", "verify", "probe", "keygen", "public-key", "healthcheck"} {
		tests = append(tests, struct {
			args      []string
			cmd, want string
		}{[]string{cmd, "--nope"}, cmd, "flag provided but not defined: -nope"})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runBounded(t, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if want := usageLines[tt.cmd]; !strings.Contains(errOut, want+"\n") {
				t.Errorf("stderr lacks the usage %q:\n%s", want, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
		})
	}
}
