package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

const (
	testKMSKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
	testKMSARN   = "arn:aws:kms:eu-west-1:123456789012:key/" + testKMSKeyID
)

// kmsEnv is prodEnv with the key in KMS instead of Secrets Manager.
func kmsEnv(overrides map[string]string) map[string]string {
	e := env(false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_KMS_KEY_ID": testKMSKeyID})
	for k, v := range overrides {
		if v == unset {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	return e
}

func TestLoadKMSKey(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		testKMSKeyID,
		testKMSARN,
		"mrk-1234abcd12ab34cd56ef1234567890ab",
		"arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
		"alias/cfcookies-signing",
		"alias/team/cf_cookies-1",
		"arn:aws:kms:eu-west-1:123456789012:alias/cfcookies-signing",
		"arn:aws-cn:kms:cn-north-1:123456789012:alias/cfcookies",
		"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/" + testKMSKeyID,
	} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			for _, dev := range []bool{false, true} {
				e := kmsEnv(map[string]string{"CLOUDFRONT_KMS_KEY_ID": " " + id + " ", "CLOUDFRONT_HASH_ALGORITHM": "sha-256"})
				if dev {
					e = map[string]string{"CLOUDFRONT_KMS_KEY_ID": id, "CLOUDFRONT_KEY_PAIR_ID": "KDEVKMS"}
				}
				c, err := Load(lookup(e), dev)
				if err != nil {
					t.Fatalf("dev %v: %v", dev, err)
				}
				if c.Key.KMSKeyID != id || c.Key.Source() != "kms" || c.Key.Ephemeral() || c.Key.RefreshInterval != 0 {
					t.Errorf("dev %v: key %+v, source %s", dev, c.Key, c.Key.Source())
				}
			}
		})
	}
}

func TestLoadKMSKeyRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		overrides map[string]string
		dev       bool
		variable  string
		rule      string
	}{
		{"SHA1", map[string]string{"CLOUDFRONT_HASH_ALGORITHM": "SHA1"}, false,
			"CLOUDFRONT_HASH_ALGORITHM", "SHA1 cannot be used with CLOUDFRONT_KMS_KEY_ID: KMS signs only SHA-256 digests"},
		{"dev: SHA1", map[string]string{"CLOUDFRONT_HASH_ALGORITHM": "sha-1"}, true,
			"CLOUDFRONT_HASH_ALGORITHM", "SHA1 cannot be used with CLOUDFRONT_KMS_KEY_ID"},
		{"no key pair id", map[string]string{"CLOUDFRONT_KEY_PAIR_ID": unset}, false,
			"CLOUDFRONT_KEY_PAIR_ID", "required with a configured key"},
		{"dev: no key pair id", map[string]string{"CLOUDFRONT_KEY_PAIR_ID": unset}, true,
			"CLOUDFRONT_KEY_PAIR_ID", "required with a configured key"},
		{"with a secret", map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": "cfcookies/key"}, false,
			"CLOUDFRONT_PRIVATE_KEY_SECRET, CLOUDFRONT_KMS_KEY_ID", "configure exactly one key source"},
		{"with an inline key", map[string]string{"CLOUDFRONT_PRIVATE_KEY": testPEM}, false,
			"CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_KMS_KEY_ID", "configure exactly one key source"},
		{"refresh interval", map[string]string{"KEY_REFRESH_INTERVAL": "1m"}, false,
			"KEY_REFRESH_INTERVAL", "an inline, KMS or ephemeral key is never re-read"},
		{"not a key id", map[string]string{"CLOUDFRONT_KMS_KEY_ID": "my-signing-key"}, false,
			"CLOUDFRONT_KMS_KEY_ID", "must be a KMS key id (1234abcd-12ab-34cd-56ef-1234567890ab), key ARN, alias name (alias/NAME) or alias ARN"},
		{"short key id", map[string]string{"CLOUDFRONT_KMS_KEY_ID": "1234abcd-12ab-34cd-56ef"}, false,
			"CLOUDFRONT_KMS_KEY_ID", "must be a KMS key id"},
		{"empty alias", map[string]string{"CLOUDFRONT_KMS_KEY_ID": "alias/"}, false,
			"CLOUDFRONT_KMS_KEY_ID", "must be a KMS key id"},
		{"alias with a space", map[string]string{"CLOUDFRONT_KMS_KEY_ID": "alias/my key"}, false,
			"CLOUDFRONT_KMS_KEY_ID", "must be a KMS key id"},
		{"another service's ARN", map[string]string{"CLOUDFRONT_KMS_KEY_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies"}, false,
			"CLOUDFRONT_KMS_KEY_ID", "must be a KMS key id"},
		{"ARN of neither key nor alias", map[string]string{"CLOUDFRONT_KMS_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:grant/" + testKMSKeyID}, false,
			"CLOUDFRONT_KMS_KEY_ID", "must be a KMS ARN of a key"},
		{"a pasted key", map[string]string{"CLOUDFRONT_KMS_KEY_ID": testPEM}, false,
			"CLOUDFRONT_KMS_KEY_ID", "not a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := kmsEnv(tt.overrides)
			if tt.dev {
				e = map[string]string{"CLOUDFRONT_KMS_KEY_ID": testKMSKeyID, "CLOUDFRONT_KEY_PAIR_ID": "KDEVKMS"}
				for k, v := range tt.overrides {
					if v == unset {
						delete(e, k)
					} else {
						e[k] = v
					}
				}
			}
			_, err := Load(lookup(e), tt.dev)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load = %v, want Errors", err)
			}
			found := false
			for _, fe := range errs {
				found = found || fe.Var == tt.variable && strings.Contains(fe.Rule, tt.rule)
			}
			if !found {
				t.Errorf("no %s problem with %q in\n%v", tt.variable, tt.rule, err)
			}
			if strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("the key is echoed: %v", err)
			}
		})
	}
}

// KeySource reads the key source alone: no CLOUDFRONT_KEY_PAIR_ID (the
// public key comes before CloudFront's id for it), nor anything else.
func TestKeySource(t *testing.T) {
	t.Parallel()
	k, err := KeySource(lookup(map[string]string{"CLOUDFRONT_KMS_KEY_ID": "alias/cf", "KEY_REFRESH_INTERVAL": "1m"}))
	if err != nil || k.KMSKeyID != "alias/cf" || k.Source() != "kms" {
		t.Errorf("KMS: %+v, %v", k, err)
	}
	k, err = KeySource(lookup(map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": "cfcookies/key"}))
	if err != nil || k.SecretID != "cfcookies/key" || k.RefreshInterval == 0 {
		t.Errorf("secret: %+v, %v", k, err)
	}
	for name, e := range map[string]map[string]string{
		"no source":   {"CLOUDFRONT_KEY_PAIR_ID": "K1"},
		"two sources": {"CLOUDFRONT_KMS_KEY_ID": "alias/cf", "CLOUDFRONT_PRIVATE_KEY_SECRET": "cfcookies/key"},
		"bad key id":  {"CLOUDFRONT_KMS_KEY_ID": "nope"},
	} {
		var errs Errors
		if _, err := KeySource(lookup(e)); !errors.As(err, &errs) || len(errs) != 1 || errs[0].Var == "CLOUDFRONT_KEY_PAIR_ID" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The configuration log names the KMS key: its id is not secret.
func TestMarshalZerologObjectKMS(t *testing.T) {
	t.Parallel()
	c, err := Load(lookup(kmsEnv(nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	logger := zerolog.New(&b)
	logger.Info().EmbedObject(c).Send()
	if !strings.Contains(b.String(), `"key_source":"kms"`) || !strings.Contains(b.String(), `"key_kms_key_id":"`+testKMSKeyID+`"`) {
		t.Errorf("config log: %s", b.String())
	}
}
