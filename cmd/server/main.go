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
//	server keygen --type rsa|ecdsa --out FILE
//	                           write a new private key (0600, never over a file), print its public key
//	server healthcheck         probe /healthz, for the container HEALTHCHECK
//
// check and verify exit 0 when all is well, 1 when they find a problem or
// CloudFront would deny, and 2 for a usage error.
//
// Configuration comes from the environment; see the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cfcookies/cfcookies/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.LookupEnv, os.Stdout, os.Stderr)
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
	if errors.Is(err, errUsage) || errors.As(err, &cfgErr) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// run is the whole program: main only wires the process to it, and tests
// call it directly. getenv is os.LookupEnv in production.
func run(ctx context.Context, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "development mode: ephemeral key, X-Dev-User identity, local defaults")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [--dev] [serve|check|verify|keygen|healthcheck] [flags]\n", args[0])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	cmd := fs.Arg(0)
	switch cmd {
	case "", "serve":
		return serve(ctx, *dev, getenv, stdout)
	case "check":
		return check(fs.Args()[1:], *dev, getenv, stdout, stderr)
	case "verify":
		return verify(ctx, fs.Args()[1:], os.Stdin, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, getenv)
	case "keygen":
		return keygen(fs.Args()[1:], stdout, stderr)
	}
	fs.Usage()
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}
