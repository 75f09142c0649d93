package config

import (
	"errors"
	"regexp"
	"strings"
)

// The forms of a KMS key identifier, as the KMS API reference lists them
// for the KeyId parameter: a key id (a UUID, or mrk- and 32 hex digits for
// a multi-Region key), a key ARN, an alias name, or an alias ARN.
var (
	kmsKeyIDForm = regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$`)
	kmsAliasForm = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)
	kmsARNForm   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(.+)$`)
)

// checkKMSKeyID requires one of the forms KMS takes for a key: it catches
// a pasted key or a typo before the first call to KMS. Whether the key
// exists and can sign is KMS's to say, at startup.
func checkKMSKeyID(v string) error {
	if strings.Contains(v, "-----BEGIN") {
		return errors.New("must be a KMS key id, ARN or alias, not a key (put PEM text in CLOUDFRONT_PRIVATE_KEY)")
	}
	id := v
	if m := kmsARNForm.FindStringSubmatch(v); m != nil {
		id, _ = strings.CutPrefix(m[1], "key/")
		if id == m[1] && !strings.HasPrefix(id, "alias/") {
			return errors.New("must be a KMS ARN of a key (…:key/ID) or an alias (…:alias/NAME)")
		}
	}
	if kmsKeyIDForm.MatchString(id) || kmsAliasForm.MatchString(id) {
		return nil
	}
	return errors.New("must be a KMS key id (1234abcd-12ab-34cd-56ef-1234567890ab), key ARN, alias name (alias/NAME) or alias ARN")
}

// KeySource reads only the variables that say where the key comes from
// (CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY_FILE,
// CLOUDFRONT_PRIVATE_KEY_SECRET, CLOUDFRONT_KMS_KEY_ID), for a command
// that needs the key and nothing else, such as printing its public key
// before CloudFront has given it an id. Exactly one source is required,
// with dev too; the error, of type Errors, lists every problem of those
// variables.
func KeySource(lookupEnv func(string) (string, bool)) (Key, error) {
	l := &loader{lookupEnv: lookupEnv}
	c := &Config{}
	l.key(c)
	var errs Errors
	for _, e := range l.errs {
		if e.Var == "CLOUDFRONT_KEY_PAIR_ID" || e.Var == "KEY_REFRESH_INTERVAL" {
			continue // not needed to read the key
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return Key{}, errs
	}
	return c.Key, nil
}
