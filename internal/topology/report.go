package topology

import (
	"errors"
	"fmt"
	"io"
)

// Err is nil when r has no Problem finding, and otherwise says how many
// there are: "2 problems found".
func (r Report) Err() error {
	if n := r.Problems(); n > 0 {
		return errors.New(count(n, "problem") + " found")
	}
	return nil
}

// Print writes r for people: the origins and the cookie attributes, then
// under the question of each area its findings, one line each so that they
// can be grepped, then the verdict. It is what the check command prints.
func (r Report) Print(w io.Writer) {
	fmt.Fprintln(w, "cfcookies check")
	fmt.Fprintf(w, "  app         %s\n", r.App)
	if r.API == r.App {
		fmt.Fprintf(w, "  API         %s (the app's origin: the same-origin topology)\n", r.API)
	} else {
		fmt.Fprintf(w, "  API         %s (another origin than the app's: calls go through CORS)\n", r.API)
	}
	if r.CloudFront == (Origin{}) {
		fmt.Fprintln(w, "  CloudFront  unknown: CLOUDFRONT_DOMAIN is missing or invalid")
	} else {
		fmt.Fprintf(w, "  CloudFront  %s (CLOUDFRONT_DOMAIN)\n", r.CloudFront)
	}
	fmt.Fprintf(w, "  cookies     %s\n", r.SetCookie)

	cdn := "CloudFront"
	if r.CloudFront != (Origin{}) {
		cdn += " (" + r.CloudFront.Host + ")"
	}
	titles := map[Area]string{
		AreaStore:  "Will the browser store the cookies the API sets?",
		AreaSend:   "Will the browser send them to " + cdn + "?",
		AreaCORS:   "Will CORS pass?",
		AreaProxy:  "Whose X-Forwarded-For will the service believe (TRUSTED_PROXIES)?",
		AreaConfig: "Other configuration errors (serve refuses to start with any of them):",
	}
	for _, area := range []Area{AreaStore, AreaSend, AreaCORS, AreaProxy, AreaConfig} {
		var lines []string
		for _, f := range r.Findings {
			if f.Area == area {
				lines = append(lines, findingLine(f))
			}
		}
		if len(lines) == 0 && (area == AreaProxy || area == AreaConfig) {
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
func findingLine(f Finding) string {
	label := map[Severity]string{OK: "ok", Note: "note", Problem: "PROBLEM"}[f.Severity]
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
