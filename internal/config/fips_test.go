package config

import (
	"crypto/fips140"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cfcookies/cfcookies/signer"
)

// Under GODEBUG=fips140=only, CLOUDFRONT_HASH_ALGORITHM=SHA1 is a
// configuration error that says why, and the default is SHA256. The test
// runs itself again in a process in that mode, read at start-up.
func TestHashAlgorithmUnderFIPS140Only(t *testing.T) {
	if !fips140.Enforced() {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		const name = "TestHashAlgorithmUnderFIPS140Only"
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^"+name+"$", "-test.v", "-test.count=1") // #nosec G204 -- this test binary
		cmd.Env = append(os.Environ(), "GODEBUG=fips140=only")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
			t.Fatalf("under GODEBUG=fips140=only: %v\n%s", err, out)
		}
		return
	}
	t.Parallel()
	for _, dev := range []bool{false, true} {
		c, err := Load(lookup(env(dev, nil)), dev)
		if err != nil || c.CloudFront.HashAlgorithm != signer.SHA256 {
			t.Errorf("dev %v, no CLOUDFRONT_HASH_ALGORITHM: %v, %v; want SHA256", dev, c, err)
		}
		for _, v := range []string{"SHA1", "sha-1"} {
			_, err := Load(lookup(env(dev, map[string]string{"CLOUDFRONT_HASH_ALGORITHM": v})), dev)
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Var != "CLOUDFRONT_HASH_ALGORITHM" {
				t.Fatalf("dev %v, %s: %v, want one problem with CLOUDFRONT_HASH_ALGORITHM", dev, v, err)
			}
			for _, want := range []string{"FIPS 140-3 mode (GODEBUG=fips140=only)", "not FIPS-approved", "set SHA256"} {
				if !strings.Contains(errs[0].Rule, want) {
					t.Errorf("dev %v, %s: %q does not say %q", dev, v, errs[0].Rule, want)
				}
			}
		}
	}
}
