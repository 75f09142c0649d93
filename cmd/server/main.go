// Command server runs cfcookies: the HTTP backend that issues CloudFront
// signed cookies.
//
//	server [--dev] [serve]     run the API (default)
//	server [--dev] check --app-origin ORIGIN [--api-origin ORIGIN]
//	                           explain whether the browser will store the cookies,
//	                           send them to CloudFront, and pass CORS
//	server verify --url URL (--cookie HEADER | --policy P --signature S --key-pair-id ID)
//	              --public-key ID=FILE...
//	                           say whether CloudFront would accept the cookies, and why not
//	server probe --api URL --app-origin ORIGIN --media URL|PATH [--scope NAME] < token
//	                           run the page's flow against the real API and CloudFront,
//	                           and say which step breaks the page
//	server keygen --type rsa|ecdsa --out FILE
//	                           write a new private key (0600, never over a file), print its public key
//	server public-key          print the public key of the configured key source (file, env, secret, KMS)
//	server healthcheck         probe /healthz, for the container HEALTHCHECK
//	server help [COMMAND]      print the usage (as does --help after any command)
//
// check, verify and probe exit 0 when all is well, 1 when they find a
// problem or CloudFront would deny, and 2 for a usage error.
//
// Configuration comes from the environment; see docs/configuration.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/cfcookies/cfcookies/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitCode(err))
	}
}

// errUsage marks a command-line mistake.
var errUsage = errors.New("usage")

// exitCode is 2 for usage and configuration errors, 1 for the rest.
func exitCode(err error) int {
	var cfgErr config.Errors
	if errors.Is(err, errUsage) || errors.As(err, &cfgErr) {
		return 2
	}
	return 1
}

// run is the whole program: main only wires the process to it, and tests
// call it directly. getenv is os.LookupEnv in production; stdin, which
// verify --cookie - and probe read, may be nil for an empty one.
//
// Help (help, help COMMAND, or --help or -h where a flag may be) goes to
// stdout with exit status 0; a usage error prints the usage on stderr and
// exits with 2.
func run(ctx context.Context, args []string, getenv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	commands := []struct{ name, summary string }{
		{"serve", "run the API (the default)"},
		{"check", "explain whether the browser will store the cookies, send them to CloudFront, and pass CORS"},
		{"verify", "say whether CloudFront would accept signed cookies for a URL, and if not, why"},
		{"probe", "run the page's flow against the real API and CloudFront, and say which step breaks it"},
		{"keygen", "write a new private key (0600, never over a file) and print its public key"},
		{"public-key", "print the public key of the configured key source (file, env, secret or KMS), ready for CloudFront"},
		{"healthcheck", "probe /healthz, for the container HEALTHCHECK"},
		{"help", "print this usage, or a command's with: help COMMAND"},
	}
	prog := filepath.Base(args[0])
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	dev := fs.Bool("dev", false, "development mode: ephemeral key, X-Dev-User identity, local defaults")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s [--dev] <command> [flags]\n\ncommands:\n", prog)
		for _, c := range commands {
			fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
		}
		fmt.Fprint(w, "\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nConfiguration comes from the environment: see docs/configuration.md. %s COMMAND --help describes a command.\n", prog)
	}
	if err := parseArgs(fs, args[1:], stdout, stderr); err != nil {
		return helpIsNoError(err)
	}
	cmd, rest := "serve", []string(nil)
	if fs.NArg() > 0 {
		cmd, rest = fs.Arg(0), fs.Args()[1:]
	}
	if cmd == "help" {
		switch {
		case len(rest) > 1:
			fs.Usage()
			return fmt.Errorf("%w: help: unexpected argument %q", errUsage, rest[1])
		case len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help":
			fs.SetOutput(stdout)
			fs.Usage()
			return nil
		}
		cmd, rest = rest[0], []string{"--help"}
	}
	if !slices.ContainsFunc(commands, func(c struct{ name, summary string }) bool { return c.name == cmd }) {
		fs.Usage()
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	return helpIsNoError(dispatch(ctx, cmd, rest, *dev, getenv, stdin, stdout, stderr))
}

// helpIsNoError turns flag.ErrHelp, returned once the usage asked for is
// printed, into success.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// dispatch runs the command cmd with the arguments that follow it.
func dispatch(ctx context.Context, cmd string, args []string, dev bool, getenv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: server [--dev] [serve]")
			fmt.Fprintln(fs.Output(), "Run the API on LISTEN_ADDR, and metrics on METRICS_ADDR, as the environment configures them (see docs/configuration.md).")
			fmt.Fprintln(fs.Output(), "With --dev: local defaults, an ephemeral key, X-Dev-User identities and an emulated CloudFront on DEV_CDN_ADDR.")
		}
		if err := parseFlags(fs, args, stdout, stderr); err != nil {
			return err
		}
		return serve(ctx, dev, getenv, stdout)
	case "check":
		return check(args, dev, getenv, stdout, stderr)
	case "verify":
		return verify(ctx, args, stdin, stdout, stderr)
	case "probe":
		return probe(ctx, args, stdin, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr)
	case "keygen":
		return keygen(args, stdout, stderr)
	case "public-key":
		return publicKey(ctx, args, getenv, stdout, stderr)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// parseArgs parses flags, and routes the usage: asked for with -h or
// --help, it goes to stdout and the error is flag.ErrHelp; after a bad
// flag, it goes to stderr and the error is a usage error. fs.Usage must
// write to fs.Output(), which is stderr afterwards.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard) // flag would print the usage itself, to one writer
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return err
	case err != nil:
		fs.SetOutput(stderr)
		fs.Usage()
		return fmt.Errorf("%w: %s: %w", errUsage, fs.Name(), err)
	}
	fs.SetOutput(stderr)
	return nil
}

// parseFlags is parseArgs for a command that takes flags only: an
// argument left over is a usage error too.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	if err := parseArgs(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}
	return nil
}
