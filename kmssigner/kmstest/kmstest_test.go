package kmstest

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestNamePattern(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"TestX":                  "^TestX$",
		"TestX/RSA_2048":         "^TestX$/^RSA_2048$",
		"TestX/a.b(c)+":          `^TestX$/^a\.b\(c\)\+$`,
		"BenchmarkKMSSign/ECC_1": "^BenchmarkKMSSign$/^ECC_1$",
	} {
		got := namePattern(name)
		if got != want {
			t.Errorf("namePattern(%q) = %q, want %q", name, got, want)
		}
		// The go command matches each element of -test.run this way.
		for i, elem := range strings.Split(name, "/") {
			if !regexp.MustCompile(strings.Split(got, "/")[i]).MatchString(elem) {
				t.Errorf("pattern %q does not match %q", got, name)
			}
		}
	}
	if regexp.MustCompile(namePattern("TestX")).MatchString("TestXY") {
		t.Error("TestX's pattern matches TestXY")
	}
}

// Inside Isolated, Start runs local-kms on loopback, the only interface
// there, and the helpers change keys as KMS would.
func TestStart(t *testing.T) {
	t.Parallel()
	if !Isolated(t) {
		return
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			t.Errorf("interface %s inside the namespace", i.Name)
		}
	}
	srv := Start(t)
	u, err := url.Parse(srv.URL)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		t.Fatalf("URL %q: %v", srv.URL, err)
	}
	client := srv.Client(t)
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	arn := srv.KeyARN(t, keyID)
	if want := "arn:aws:kms:" + Region + ":" + AccountID + ":key/" + keyID; arn != want {
		t.Errorf("KeyARN = %s, want %s", arn, want)
	}
	aliasARN := srv.CreateAlias(t, "alias/kmstest", keyID)
	for _, name := range []string{"alias/kmstest", aliasARN} {
		out, err := client.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: &name})
		if err != nil || *out.KeyMetadata.Arn != arn {
			t.Errorf("DescribeKey(%s): %v, want key %s", name, err, arn)
		}
	}
	srv.DisableKey(t, keyID)
	if st := keyState(t, client, keyID); st != types.KeyStateDisabled {
		t.Errorf("after DisableKey: %s", st)
	}
	other := srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	srv.ScheduleKeyDeletion(t, other)
	if st := keyState(t, client, other); st != types.KeyStatePendingDeletion {
		t.Errorf("after ScheduleKeyDeletion: %s", st)
	}
	if !strings.Contains(srv.Log(), "Local KMS started") {
		t.Errorf("local-kms log: %q", srv.Log())
	}
}

func keyState(t *testing.T, client *kms.Client, keyID string) types.KeyState {
	t.Helper()
	out, err := client.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: &keyID})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyState
}
