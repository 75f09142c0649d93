package topology

import (
	"strings"
	"testing"
)

// TestReportPrintAndErr checks what the check command shows: one grep-able
// line per finding under its area's question, the verdict, and an error
// that counts the problems.
func TestReportPrintAndErr(t *testing.T) {
	t.Parallel()
	app := mustOrigin(t, appOrigin)
	good := check(topoEnv(nil), false, Origins{App: app, API: mustOrigin(t, apiOrigin)})
	if err := good.Err(); err != nil {
		t.Errorf("Err() = %v for a report without problems", err)
	}
	var b strings.Builder
	good.Print(&b)
	for _, want := range []string{
		"  API         https://api.example.test (another origin than the app's: calls go through CORS)\n",
		"\nWill the browser send them to CloudFront (cdn.example.test)?\n",
		`  ok       COOKIE_DOMAIN="example.test": CloudFront's host cdn.example.test is under example.test`,
		"No problem found",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, b.String())
		}
	}

	bad := check(topoEnv(map[string]string{"COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"}), false, Origins{App: app})
	if err := bad.Err(); err == nil || err.Error() != "1 problem found" {
		t.Errorf("Err() = %v, want 1 problem found", err)
	}
	b.Reset()
	bad.Print(&b)
	for _, want := range []string{
		`  PROBLEM  COOKIE_SAMESITE="none": with COOKIE_SECURE=false`,
		"1 problem: the cookies will not work in this topology until each PROBLEM above is fixed.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, b.String())
		}
	}
}
