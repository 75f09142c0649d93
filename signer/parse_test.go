package signer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	full, err := Grant{
		Resource:  "https://m.example.com/media/alice/*",
		Expires:   time.Unix(1800000600, 0),
		NotBefore: time.Unix(1799999000, 0),
		IPRange:   netip.MustParsePrefix("192.0.2.0/24"),
	}.Policy()
	if err != nil {
		t.Fatal(err)
	}
	// The layout of AWS's documentation examples: whitespace everywhere,
	// IpAddress before DateLessThan.
	const documented = `{
   "Statement": [
      {
         "Resource": "https://d111111abcdef8.cloudfront.net/game_download.zip",
         "Condition": {
            "IpAddress": {"AWS:SourceIp": "192.0.2.0/24"},
            "DateLessThan": {"AWS:EpochTime": 1357034400}
         }
      }
   ]
}`
	const dlt = `"DateLessThan":{"AWS:EpochTime":1800000600}`
	wrap := func(cond string) string {
		return `{"Statement":[{"Resource":"https://m.example.com/*","Condition":{` + cond + `}}]}`
	}

	valid := []struct {
		name, json string
		want       Policy
	}{
		{"signer output", string(full), Policy{
			Resource:  "https://m.example.com/media/alice/*",
			Expires:   time.Unix(1800000600, 0).UTC(),
			NotBefore: time.Unix(1799999000, 0).UTC(),
			IPRange:   netip.MustParsePrefix("192.0.2.0/24"),
		}},
		{"documented example", documented, Policy{
			Resource: "https://d111111abcdef8.cloudfront.net/game_download.zip",
			Expires:  time.Unix(1357034400, 0).UTC(),
			IPRange:  netip.MustParsePrefix("192.0.2.0/24"),
		}},
		{"json escapes in resource", `{"Statement":[{"Resource":"https://m.example.com/\u002a","Condition":{` + dlt + `}}]}`, Policy{
			Resource: "https://m.example.com/*",
			Expires:  time.Unix(1800000600, 0).UTC(),
		}},
		{"unmasked range is masked", wrap(dlt + `,"IpAddress":{"AWS:SourceIp":"192.0.2.77/24"}`), Policy{
			Resource: "https://m.example.com/*",
			Expires:  time.Unix(1800000600, 0).UTC(),
			IPRange:  netip.MustParsePrefix("192.0.2.0/24"),
		}},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePolicy([]byte(tc.json))
			if err != nil {
				t.Fatalf("ParsePolicy: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}

	stmt := `{"Resource":"https://m.example.com/*","Condition":{` + dlt + `}}`
	invalid := []struct {
		name, json, error string
	}{
		{"empty", ``, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"array", `[]`, "not a JSON object"},
		{"truncated", `{"Statement":[` + stmt, "not valid JSON"},
		{"no statement", `{}`, "no Statement"},
		{"statement null", `{"Statement":null}`, "not an array"},
		{"statement object", `{"Statement":` + stmt + `}`, "not an array"},
		{"zero statements", `{"Statement":[]}`, "0 statements"},
		{"two statements", `{"Statement":[` + stmt + `,` + stmt + `]}`, "2 statements"},
		{"lower-case name", `{"statement":[` + stmt + `]}`, "unknown field"},
		{"repeated Statement", `{"Statement":[` + stmt + `],"Statement":[` + stmt + `]}`, "Statement twice"},
		{"unknown top-level field", `{"Version":"2012-10-17","Statement":[` + stmt + `]}`, "unknown field"},
		{"trailing data", `{"Statement":[` + stmt + `]} x`, "data after"},
		{"two documents", `{"Statement":[` + stmt + `]}{}`, "data after"},
		{"no resource", `{"Statement":[{"Condition":{` + dlt + `}}]}`, "no Resource"},
		{"resource null", `{"Statement":[{"Resource":null,"Condition":{` + dlt + `}}]}`, "Resource is not"},
		{"resource number", `{"Statement":[{"Resource":1,"Condition":{` + dlt + `}}]}`, "Resource is not"},
		{"resource empty", `{"Statement":[{"Resource":"","Condition":{` + dlt + `}}]}`, "Resource is not"},
		{"resource list", `{"Statement":[{"Resource":["https://a/*"],"Condition":{` + dlt + `}}]}`, "Resource is not"},
		{"effect field", `{"Statement":[{"Effect":"Allow","Resource":"https://a/*","Condition":{` + dlt + `}}]}`, "unknown field"},
		{"no condition", `{"Statement":[{"Resource":"https://a/*"}]}`, "no Condition"},
		{"no DateLessThan", wrap(`"DateGreaterThan":{"AWS:EpochTime":1}`), "no DateLessThan"},
		{"unknown condition", wrap(dlt + `,"StringLike":{"AWS:Referer":"x"}`), "unknown field"},
		{"repeated DateLessThan", wrap(dlt + `,` + dlt), "DateLessThan twice"},
		{"epoch as string", wrap(`"DateLessThan":{"AWS:EpochTime":"1800000600"}`), "whole epoch seconds"},
		{"epoch with fraction", wrap(`"DateLessThan":{"AWS:EpochTime":1800000600.5}`), "whole epoch seconds"},
		{"epoch with exponent", wrap(`"DateLessThan":{"AWS:EpochTime":1.8e9}`), "whole epoch seconds"},
		{"negative epoch", wrap(`"DateLessThan":{"AWS:EpochTime":-1}`), "whole epoch seconds"},
		{"huge epoch", wrap(`"DateLessThan":{"AWS:EpochTime":99999999999999999999}`), "whole epoch seconds"},
		{"no EpochTime", wrap(`"DateLessThan":{}`), "no AWS:EpochTime"},
		{"extra date field", wrap(`"DateLessThan":{"AWS:EpochTime":1,"AWS:Other":2}`), "unknown field"},
		{"bad DateGreaterThan", wrap(dlt + `,"DateGreaterThan":{"AWS:EpochTime":null}`), "whole epoch seconds"},
		{"no SourceIp", wrap(dlt + `,"IpAddress":{}`), "no AWS:SourceIp"},
		{"bare ip", wrap(dlt + `,"IpAddress":{"AWS:SourceIp":"192.0.2.7"}`), "not a CIDR"},
		{"ipv6 range", wrap(dlt + `,"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}`), "not IPv4"},
		{"mapped ipv4 range", wrap(dlt + `,"IpAddress":{"AWS:SourceIp":"::ffff:192.0.2.0/120"}`), "not IPv4"},
		{"source ip list", wrap(dlt + `,"IpAddress":{"AWS:SourceIp":["192.0.2.0/24"]}`), "not a string"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePolicy([]byte(tc.json))
			if err == nil {
				t.Fatalf("accepted as %+v", p)
			}
			if !errors.Is(err, ErrMalformedPolicy) {
				t.Errorf("error %v does not wrap ErrMalformedPolicy", err)
			}
			if !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error %q does not mention %q", err, tc.error)
			}
		})
	}
}

func TestDecodePolicy(t *testing.T) {
	t.Parallel()
	g := Grant{Resource: "https://m.example.com/media/alice/*", Expires: time.Unix(1800000600, 0).UTC()}
	b, err := g.Policy()
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePolicy(EncodeBase64(b))
	if err != nil {
		t.Fatalf("DecodePolicy: %v", err)
	}
	if Grant(p) != g {
		t.Errorf("got %+v, want %+v", p, g)
	}
	for _, bad := range []string{"", "not base64!", EncodeBase64([]byte(`{"Statement":[]}`))} {
		_, err := DecodePolicy(bad)
		if !errors.Is(err, ErrMalformedPolicy) {
			t.Errorf("DecodePolicy(%q) = %v, want ErrMalformedPolicy", bad, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error %q quotes the cookie value", err)
		}
	}
}
