package kmssigner_test

import (
	"crypto"
	"crypto/sha256"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/cfcookies/cfcookies/kmssigner"
	"github.com/cfcookies/cfcookies/kmssigner/kmstest"
)

// BenchmarkKMSSign is one signature by a key in local-kms, over loopback,
// through the real SDK client: the floor of what a signature cache miss
// costs with a KMS key (AWS KMS adds the network and its own work).
func BenchmarkKMSSign(b *testing.B) {
	if !kmstest.Isolated(b) {
		return
	}
	srv := kmstest.Start(b)
	client := srv.Client(b)
	digest := sha256.Sum256(policy)
	for _, spec := range specs {
		b.Run(string(spec), func(b *testing.B) {
			s, err := kmssigner.New(b.Context(), client, srv.CreateKey(b, spec, types.KeyUsageTypeSignVerify), kmssigner.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.SignContext(b.Context(), digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
