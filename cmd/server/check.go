package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/cfcookies/cfcookies/internal/config"
	// Renamed: the browser tests of package main declare a type topology.
	topo "github.com/cfcookies/cfcookies/internal/topology"
)

// check explains the configured topology in plain words: will the browser
// store the cookies, send them to CloudFront, and pass CORS. It reads the
// configuration as serve would, loads no key and starts nothing. It returns
// an error (exit status 1) when it finds a problem, configuration errors
// included, and a usage error (2) for a missing or invalid origin flag.
func check(args []string, dev bool, getenv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	appFlag := fs.String("app-origin", "", "origin of the SPA's page, e.g. https://app.example.com (required)")
	apiFlag := fs.String("api-origin", "", "origin the SPA calls for /auth/media-cookies (default: the app origin, CloudFront routing /auth/* to the service)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: server [--dev] check --app-origin ORIGIN [--api-origin ORIGIN]")
		fmt.Fprintln(fs.Output(), "Explain whether a browser will store the cookies, send them to CloudFront, and pass CORS, as configured by the environment.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *appFlag == "" {
		fs.Usage()
		return fmt.Errorf("%w: check: --app-origin is required", errUsage)
	}
	app, err := topo.ParseOrigin(*appFlag)
	if err != nil {
		return fmt.Errorf("%w: check: --app-origin %q %w", errUsage, *appFlag, err)
	}
	api := app
	if *apiFlag != "" {
		if api, err = topo.ParseOrigin(*apiFlag); err != nil {
			return fmt.Errorf("%w: check: --api-origin %q %w", errUsage, *apiFlag, err)
		}
	}

	c, problems := config.Read(getenv, dev)
	r := topo.Check(c, problems, topo.Origins{App: app, API: api})
	r.Print(stdout)
	if err := r.Err(); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	return nil
}
