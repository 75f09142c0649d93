package integration_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/cfcookies/cfcookies/kmssigner/kmstest"
)

// The Makefile builds the local-kms that kmstest runs: otherwise the tests
// would build another one and CI would spend its time on it.
func TestMakefileBuildsKmstestsLocalKMS(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LOCAL_KMS_VERSION\s*\?=\s*(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile sets no LOCAL_KMS_VERSION")
	}
	if got := string(m[1]); got != kmstest.LocalKMSVersion {
		t.Errorf("Makefile LOCAL_KMS_VERSION = %s, kmstest.LocalKMSVersion = %s: make them equal", got, kmstest.LocalKMSVersion)
	}
	if !regexp.MustCompile(`(?m)install ` + regexp.QuoteMeta(kmstest.LocalKMSModule) + `@\$\(LOCAL_KMS_VERSION\)`).Match(b) {
		t.Errorf("Makefile does not go install %s@$(LOCAL_KMS_VERSION)", kmstest.LocalKMSModule)
	}
}
