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
	printReport(stdout, r)
	if n := r.Problems(); n > 0 {
		return fmt.Errorf("check: %s found", count(n, "problem"))
	}
	return nil
}

func printReport(w io.Writer, r topo.Report) {
	fmt.Fprintln(w, "cfcookies check")
	fmt.Fprintf(w, "  app         %s\n", r.App)
	if r.API == r.App {
		fmt.Fprintf(w, "  API         %s (the app's origin: the same-origin topology)\n", r.API)
	} else {
		fmt.Fprintf(w, "  API         %s (another origin than the app's: calls go through CORS)\n", r.API)
	}
	if r.CloudFront == (topo.Origin{}) {
		fmt.Fprintln(w, "  CloudFront  unknown: CLOUDFRONT_DOMAIN is missing or invalid")
	} else {
		fmt.Fprintf(w, "  CloudFront  %s (CLOUDFRONT_DOMAIN)\n", r.CloudFront)
	}
	fmt.Fprintf(w, "  cookies     %s\n", r.SetCookie)

	cdn := "CloudFront"
	if r.CloudFront != (topo.Origin{}) {
		cdn += " (" + r.CloudFront.Host + ")"
	}
	titles := map[topo.Area]string{
		topo.AreaStore:  "Will the browser store the cookies the API sets?",
		topo.AreaSend:   "Will the browser send them to " + cdn + "?",
		topo.AreaCORS:   "Will CORS pass?",
		topo.AreaProxy:  "Whose X-Forwarded-For will the service believe (TRUSTED_PROXIES)?",
		topo.AreaConfig: "Other configuration errors (serve refuses to start with any of them):",
	}
	for _, area := range []topo.Area{topo.AreaStore, topo.AreaSend, topo.AreaCORS, topo.AreaProxy, topo.AreaConfig} {
		var lines []string
		for _, f := range r.Findings {
			if f.Area == area {
				lines = append(lines, findingLine(f))
			}
		}
		if len(lines) == 0 && (area == topo.AreaProxy || area == topo.AreaConfig) {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", titles[area])
		if len(lines) == 0 {
			fmt.Fprintln(w, "  (nothing could be checked: see the configuration errors)")
		}
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}

	fmt.Fprintln(w)
	if n := r.Problems(); n > 0 {
		fmt.Fprintf(w, "%s: the cookies will not work in this topology until each PROBLEM above is fixed.\n", count(n, "problem"))
		return
	}
	fmt.Fprintln(w, "No problem found: the browser will store the cookies, send them to CloudFront and pass CORS.")
}

// findingLine is `  LABEL    VAR="value": message`, one line per finding
// so that it can be grepped.
func findingLine(f topo.Finding) string {
	label := map[topo.Severity]string{topo.OK: "ok", topo.Note: "note", topo.Problem: "PROBLEM"}[f.Severity]
	text := f.Message
	switch {
	case f.Var != "" && f.Value != "":
		text = fmt.Sprintf("%s=%q: %s", f.Var, f.Value, f.Message)
	case f.Var != "":
		text = f.Var + ": " + f.Message
	}
	return fmt.Sprintf("  %-8s %s", label, text)
}

// count is "1 problem" or "n problems".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
