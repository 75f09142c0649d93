package deploy

import (
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// These tests check where deploy/terraform keeps the signing key, with each
// value of var.signing_key: "kms", an asymmetric KMS key that the tasks may
// sign with and nothing more, or "secret", a PEM key in Secrets Manager.

// signingScenarios evaluates every example with signing_key "secret", and
// with "kms" and each kms_key_spec. With "secret" an example that sets no
// public_keys gets one, as the module requires.
func (m *tfModule) signingScenarios(t *testing.T) []*tfScenario {
	t.Helper()
	var out []*tfScenario
	for _, f := range exampleFiles(t) {
		for _, spec := range []string{"ECC_NIST_P256", "RSA_2048"} {
			out = append(out, m.scenario(t, f, "kms-"+spec, map[string]cty.Value{
				"signing_key":  cty.StringVal("kms"),
				"kms_key_spec": cty.StringVal(spec),
			}))
		}
		secret := map[string]cty.Value{"signing_key": cty.StringVal("secret")}
		if s := m.scenario(t, f, "", nil); s.vars["public_keys"].LengthInt() == 0 {
			secret["public_keys"] = cty.MapVal(map[string]cty.Value{"2026-11": cty.StringVal(testPublicKeyPEM(t))})
		}
		out = append(out, m.scenario(t, f, "secret", secret))
	}
	return out
}

func testPublicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func (s *tfScenario) signingKey(t *testing.T) string {
	t.Helper()
	v := s.vars["signing_key"]
	if v.IsNull() || !v.Type().Equals(cty.String) {
		t.Fatalf("%s: no signing_key", s.name)
	}
	return v.AsString()
}

// live returns the top-level blocks typ (labels...) that make at least one
// instance in this scenario.
func (s *tfScenario) live(t *testing.T, typ string, labels ...string) []*hclsyntax.Block {
	t.Helper()
	var out []*hclsyntax.Block
	for _, b := range s.m.find(typ, labels...) {
		if s.count(t, b) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// addresses reports whether v stands for attribute attr (one of attrs) of
// block b, such as "aws_kms_key.signing[0].arn".
func (s *tfScenario) addresses(v cty.Value, b *hclsyntax.Block, attrs ...string) bool {
	if b == nil || s.address(v) != b {
		return false
	}
	m := resourceAddress.FindStringSubmatch(v.AsString())
	return slices.Contains(attrs, m[4])
}

// display is v for a message: a known string as it is.
func display(v cty.Value) string {
	if v.IsKnown() && !v.IsNull() && v.Type().Equals(cty.String) {
		return strconv.Quote(v.AsString())
	}
	return v.GoString()
}

// referencedBlocks returns every resource and data source that attribute
// attr of b refers to, whatever the expression does with them.
func (m *tfModule) referencedBlocks(b *hclsyntax.Block, attr string) []*hclsyntax.Block {
	a, ok := b.Body.Attributes[attr]
	if !ok {
		return nil
	}
	var out []*hclsyntax.Block
	for _, tr := range a.Expr.Variables() {
		var names []string
		for _, step := range tr {
			switch st := step.(type) {
			case hcl.TraverseRoot:
				names = append(names, st.Name)
			case hcl.TraverseAttr:
				names = append(names, st.Name)
			}
			if len(names) == 3 {
				break
			}
		}
		var bs []*hclsyntax.Block
		switch {
		case len(names) >= 3 && names[0] == "data":
			bs = m.find("data", names[1], names[2])
		case len(names) >= 2:
			bs = m.find("resource", names[0], names[1])
		}
		out = append(out, bs...)
	}
	return out
}

// TestTerraformSigningKeyVariables: the key's place and spec are chosen
// among what the server and CloudFront accept, and the default is the key
// that cannot be stolen from a task.
func TestTerraformSigningKeyVariables(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	s := m.scenarios(t)[0]
	def := func(name string) string {
		a, ok := m.one(t, "variable", name).Body.Attributes["default"]
		if !ok {
			t.Fatalf("variable %s has no default", name)
		}
		return s.eval(t, a.Expr).AsString()
	}
	if got := def("signing_key"); got != "kms" {
		t.Errorf("signing_key defaults to %q, want \"kms\": a key that never leaves KMS cannot be stolen from a task", got)
	}
	if got := def("kms_key_spec"); got != "ECC_NIST_P256" && got != "RSA_2048" {
		t.Errorf("kms_key_spec defaults to %q, which CloudFront does not accept", got)
	}

	for _, c := range []struct {
		variable, value string
		valid           bool
	}{
		{"signing_key", "kms", true},
		{"signing_key", "secret", true},
		{"signing_key", "KMS", false},
		{"signing_key", "file", false},
		{"signing_key", "", false},
		{"kms_key_spec", "ECC_NIST_P256", true},
		{"kms_key_spec", "RSA_2048", true},
		// KMS makes them, CloudFront refuses them.
		{"kms_key_spec", "RSA_3072", false},
		{"kms_key_spec", "RSA_4096", false},
		{"kms_key_spec", "ECC_NIST_P384", false},
		{"kms_key_spec", "ECC_SECG_P256K1", false},
		// Not a signing key at all.
		{"kms_key_spec", "SYMMETRIC_DEFAULT", false},
		{"kms_key_spec", "HMAC_256", false},
	} {
		if got := s.validates(t, c.variable, cty.StringVal(c.value)); got != c.valid {
			t.Errorf("%s = %q: the variable's validation says %v, want %v", c.variable, c.value, got, c.valid)
		}
	}
}

// validates reports whether every validation of variable accepts value.
func (s *tfScenario) validates(t *testing.T, variable string, value cty.Value) bool {
	t.Helper()
	vars := map[string]cty.Value{}
	for k, v := range s.vars {
		vars[k] = v
	}
	vars[variable] = value
	o := &tfScenario{name: s.name, m: s.m, vars: vars, locals: s.locals}
	b := s.m.one(t, "variable", variable)
	var n int
	for _, v := range b.Body.Blocks {
		if v.Type != "validation" {
			continue
		}
		n++
		if c := o.attr(t, v, "condition"); !c.IsKnown() || c.IsNull() || c.False() {
			return false
		}
	}
	if n == 0 {
		t.Fatalf("variable %s has no validation", variable)
	}
	return true
}

// accountRoot is the key policy principal that delegates the key to IAM:
// the account of the caller, in its partition.
var accountRoot = regexp.MustCompile(`^arn:(aws|data\.aws_partition\.[a-z0-9_]+\.partition):iam::data\.aws_caller_identity\.[a-z0-9_]+\.account_id:root$`)

// TestTerraformKMSKey: with signing_key = "kms" the key signs (SIGN_VERIFY,
// the spec asked for), only the account administers it, CloudFront's
// public key is the key's own, and the tasks sign with it and read no
// secret, which is not even made.
func TestTerraformKMSKey(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, s := range m.signingScenarios(t) {
		if s.signingKey(t) != "kms" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			keys := s.live(t, "resource", "aws_kms_key")
			if len(keys) != 1 {
				t.Fatalf("%d KMS keys, want 1", len(keys))
			}
			key := keys[0]
			if s.count(t, key) != 1 {
				t.Fatalf("%d instances of the KMS key, want 1", s.count(t, key))
			}
			if got := s.str(t, key, "key_usage"); got != "SIGN_VERIFY" {
				t.Errorf("key_usage %q, want SIGN_VERIFY: KMS signs only with such a key", got)
			}
			if got, want := s.str(t, key, "customer_master_key_spec"), s.vars["kms_key_spec"].AsString(); got != want {
				t.Errorf("customer_master_key_spec %q, want kms_key_spec %q", got, want)
			}
			if v := s.attr(t, key, "enable_key_rotation"); v.IsKnown() && !v.IsNull() && v.True() {
				t.Error("enable_key_rotation: KMS refuses it for an asymmetric key")
			}

			// The key policy: the account root, through IAM, and nobody else.
			doc := s.address(s.attr(t, key, "policy"))
			if doc == nil || doc.Type != "data" || doc.Labels[0] != "aws_iam_policy_document" {
				t.Fatal("the key's policy is not an aws_iam_policy_document")
			}
			administered := false
			for _, st := range s.blocks(t, doc, "statement") {
				if e := s.str(t, st, "effect"); e != "" && e != "Allow" {
					continue
				}
				principals := s.blocks(t, st, "principals")
				if len(principals) == 0 {
					t.Errorf("key policy statement %q names no principal", s.str(t, st, "sid"))
				}
				root := len(principals) > 0
				for _, p := range principals {
					ids := s.strs(t, p, "identifiers")
					if s.str(t, p, "type") != "AWS" || len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return !accountRoot.MatchString(id) }) {
						t.Errorf("key policy statement %q allows %s %q: only the account root (arn:…:iam::ACCOUNT:root), so IAM decides who signs", s.str(t, st, "sid"), s.str(t, p, "type"), ids)
						root = false
					}
				}
				if root && slices.Contains(s.strs(t, st, "actions"), "kms:*") && slices.Equal(s.strs(t, st, "resources"), []string{"*"}) {
					administered = true
				}
			}
			if !administered {
				t.Error("no key policy statement gives the account root kms:* on the key: nobody could administer it, and KMS refuses such a policy")
			}

			aliases := s.live(t, "resource", "aws_kms_alias")
			if len(aliases) != 1 {
				t.Fatalf("%d KMS aliases, want 1", len(aliases))
			}
			if !s.addresses(s.attr(t, aliases[0], "target_key_id"), key, "key_id", "arn", "id") {
				t.Errorf("the alias targets %s, not the signing key", display(s.attr(t, aliases[0], "target_key_id")))
			}
			if name := s.str(t, aliases[0], "name"); !strings.HasPrefix(name, "alias/") || strings.HasPrefix(name, "alias/aws/") {
				t.Errorf("alias name %q: want alias/NAME, and alias/aws/ is AWS's", name)
			}

			// CloudFront's public key is read from KMS.
			var public *hclsyntax.Block
			for _, pk := range s.live(t, "resource", "aws_cloudfront_public_key") {
				if _, ok := pk.Body.Attributes["count"]; !ok {
					continue // public_keys, by for_each
				}
				data := s.address(s.attr(t, pk, "encoded_key"))
				if data == nil || data.Type != "data" || data.Labels[0] != "aws_kms_public_key" || !s.addresses(s.attr(t, pk, "encoded_key"), data, "public_key_pem") {
					t.Errorf("aws_cloudfront_public_key.%s: encoded_key %s, want a data.aws_kms_public_key's public_key_pem (CloudFront wants PEM)", pk.Labels[1], display(s.attr(t, pk, "encoded_key")))
					continue
				}
				if s.count(t, data) != 1 {
					t.Errorf("data.aws_kms_public_key.%s has %d instances", data.Labels[1], s.count(t, data))
				}
				if kid := s.attr(t, data, "key_id"); !s.addresses(kid, key, "arn", "key_id", "id") && !s.addresses(kid, aliases[0], "arn", "name") {
					t.Errorf("data.aws_kms_public_key.%s reads key %s, not the signing key", data.Labels[1], display(kid))
				}
				public = pk
			}
			if public == nil {
				t.Fatal("no CloudFront public key is made from the KMS key")
			}
			if s.count(t, public) != 1 {
				t.Errorf("%d CloudFront public keys from KMS, want 1", s.count(t, public))
			}
			kg := m.one(t, "resource", "aws_cloudfront_key_group", "this")
			if !slices.Contains(m.referencedBlocks(kg, "items"), public) {
				t.Errorf("the key group's items do not hold aws_cloudfront_public_key.%s: CloudFront would refuse every cookie", public.Labels[1])
			}

			env := s.containerEnvironment(t)
			if id := cty.StringVal(env["CLOUDFRONT_KMS_KEY_ID"]); !s.addresses(id, key, "arn") && !s.addresses(id, aliases[0], "arn") {
				t.Errorf("CLOUDFRONT_KMS_KEY_ID %q, want the key's ARN (or its alias's)", env["CLOUDFRONT_KMS_KEY_ID"])
			}
			if id := cty.StringVal(env["CLOUDFRONT_KEY_PAIR_ID"]); !s.addresses(id, public, "id") {
				t.Errorf("CLOUDFRONT_KEY_PAIR_ID %q, want the id of the KMS key's CloudFront public key", env["CLOUDFRONT_KEY_PAIR_ID"])
			}
			for _, name := range []string{"CLOUDFRONT_PRIVATE_KEY_SECRET", "CLOUDFRONT_PRIVATE_KEY", "CLOUDFRONT_PRIVATE_KEY_FILE"} {
				if _, ok := env[name]; ok {
					t.Errorf("sets %s beside CLOUDFRONT_KMS_KEY_ID: the server takes exactly one key source", name)
				}
			}

			for _, b := range m.blocks {
				if b.Type == "resource" && strings.HasPrefix(b.Labels[0], "aws_secretsmanager_") && s.count(t, b) > 0 {
					t.Errorf("%s.%s is made: with KMS there is no private key to keep", b.Labels[0], b.Labels[1])
				}
			}
		})
	}
}

// TestTerraformSecretKey: with signing_key = "secret" the setup is the one
// from before KMS: the secret, its ARN in the environment, no KMS key.
func TestTerraformSecretKey(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, s := range m.signingScenarios(t) {
		if s.signingKey(t) != "secret" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			secret := m.one(t, "resource", "aws_secretsmanager_secret", "key")
			if s.count(t, secret) != 1 {
				t.Fatalf("%d instances of the key's secret, want 1", s.count(t, secret))
			}
			env := s.containerEnvironment(t)
			if v := cty.StringVal(env["CLOUDFRONT_PRIVATE_KEY_SECRET"]); !s.addresses(v, secret, "arn") {
				t.Errorf("CLOUDFRONT_PRIVATE_KEY_SECRET %q, want the secret's ARN", env["CLOUDFRONT_PRIVATE_KEY_SECRET"])
			}
			if env["KEY_REFRESH_INTERVAL"] != s.vars["key_refresh_interval"].AsString() {
				t.Errorf("KEY_REFRESH_INTERVAL %q, want key_refresh_interval %q: a rotated secret is picked up without a deployment", env["KEY_REFRESH_INTERVAL"], s.vars["key_refresh_interval"].AsString())
			}
			for _, name := range []string{"CLOUDFRONT_KMS_KEY_ID", "CLOUDFRONT_KEY_PAIR_ID"} {
				if _, ok := env[name]; ok {
					t.Errorf("sets %s: the JSON secret names the key pair ID, and the server takes exactly one key source", name)
				}
			}
			for _, typ := range []string{"aws_kms_key", "aws_kms_alias", "aws_kms_key_policy", "aws_kms_grant"} {
				if bs := s.live(t, "resource", typ); len(bs) > 0 {
					t.Errorf("%s.%s is made: nothing signs with it", typ, bs[0].Labels[1])
				}
			}
			if bs := s.live(t, "data", "aws_kms_public_key"); len(bs) > 0 {
				t.Errorf("data.aws_kms_public_key.%s is read: there is no KMS key", bs[0].Labels[1])
			}
			for _, pk := range s.live(t, "resource", "aws_cloudfront_public_key") {
				if _, counted := pk.Body.Attributes["count"]; counted {
					t.Errorf("aws_cloudfront_public_key.%s is made beside public_keys", pk.Labels[1])
				}
			}
		})
	}
}

// TestTaskRole: the task role may use the signing key, and nothing else:
// kms:Sign and kms:GetPublicKey on the KMS key, or
// secretsmanager:GetSecretValue on the key's secret.
func TestTaskRole(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, s := range m.signingScenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			td := m.one(t, "resource", "aws_ecs_task_definition", "this")
			if got := s.str(t, td, "task_role_arn"); got != "aws_iam_role.task.arn" {
				t.Fatalf("task_role_arn %q", got)
			}
			var wantActions []string
			var wantResource *hclsyntax.Block
			switch s.signingKey(t) {
			case "kms":
				wantActions = []string{"kms:GetPublicKey", "kms:Sign"}
				keys := s.live(t, "resource", "aws_kms_key")
				if len(keys) != 1 {
					t.Fatalf("%d KMS keys, want 1", len(keys))
				}
				wantResource = keys[0]
			default:
				wantActions = []string{"secretsmanager:GetSecretValue"}
				wantResource = m.one(t, "resource", "aws_secretsmanager_secret", "key")
			}
			var policies, statements int
			for _, typ := range []string{"aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_role_policies_exclusive", "aws_iam_policy_attachment"} {
				for _, r := range s.live(t, "resource", typ) {
					if !strings.HasPrefix(s.str(t, r, "role"), "aws_iam_role.task.") {
						continue
					}
					policies++
					if typ != "aws_iam_role_policy" {
						t.Errorf("%s %s attaches another policy to the task role", typ, r.Labels[1])
						continue
					}
					doc := s.address(s.attr(t, r, "policy"))
					if doc == nil || doc.Labels[0] != "aws_iam_policy_document" {
						t.Fatalf("task role policy %s is not an aws_iam_policy_document", r.Labels[1])
					}
					for _, st := range s.blocks(t, doc, "statement") {
						if e := s.str(t, st, "effect"); e != "" && e != "Allow" {
							continue
						}
						statements++
						for _, broad := range []string{"not_actions", "not_resources"} {
							if _, ok := st.Body.Attributes[broad]; ok {
								t.Errorf("task role statement %q uses %s: it allows everything else", s.str(t, st, "sid"), broad)
							}
						}
						got := slices.Sorted(slices.Values(s.strs(t, st, "actions")))
						if !slices.Equal(got, wantActions) {
							t.Errorf("task role may %q, want exactly %q", got, wantActions)
						}
						resources := s.strs(t, st, "resources")
						if len(resources) != 1 || !s.addresses(cty.StringVal(resources[0]), wantResource, "arn") {
							t.Errorf("task role may act on %q, want only %s.%s's ARN", resources, wantResource.Labels[0], wantResource.Labels[1])
						}
					}
				}
			}
			if policies != 1 || statements != 1 {
				t.Errorf("%d policies with %d statements on the task role, want exactly one statement using the key", policies, statements)
			}
		})
	}
}

// failedPreconditions returns the error_message of every lifecycle
// precondition whose condition is false in this scenario.
func (s *tfScenario) failedPreconditions(t *testing.T) []string {
	t.Helper()
	var failed []string
	for _, b := range s.m.blocks {
		if b.Type != "resource" && b.Type != "data" {
			continue
		}
		for _, lc := range b.Body.Blocks {
			if lc.Type != "lifecycle" {
				continue
			}
			for _, pc := range lc.Body.Blocks {
				if pc.Type != "precondition" || s.count(t, b) == 0 {
					continue
				}
				c := s.attr(t, pc, "condition")
				if !c.IsKnown() || c.IsNull() {
					t.Fatalf("%s.%s: precondition %s is not known at plan time here", b.Labels[0], b.Labels[1], s.str(t, pc, "error_message"))
				}
				if c.False() {
					failed = append(failed, s.str(t, pc, "error_message"))
				}
			}
		}
	}
	return failed
}

// TestTerraformPreconditions: every example plans with either signing key,
// and the key group's size is checked with the KMS key counted.
func TestTerraformPreconditions(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, s := range m.signingScenarios(t) {
		if failed := s.failedPreconditions(t); len(failed) > 0 {
			t.Errorf("%s: the plan fails: %q", s.name, failed)
		}
	}

	file := exampleFiles(t)[0]
	publicKeys := func(n int) cty.Value {
		keys := map[string]cty.Value{}
		for i := range n {
			keys[string(rune('a'+i))] = cty.StringVal(testPublicKeyPEM(t))
		}
		if n == 0 {
			return cty.MapValEmpty(cty.String)
		}
		return cty.MapVal(keys)
	}
	for _, c := range []struct {
		signingKey string
		publicKeys int
		plans      bool
	}{
		{"secret", 0, false}, // nothing in the key group verifies the secret's key
		{"secret", 1, true},
		{"secret", 5, true},
		{"kms", 0, true},
		{"kms", 4, true},
		{"kms", 5, false}, // six keys in a group that holds five
	} {
		s := m.scenario(t, file, "", map[string]cty.Value{"signing_key": cty.StringVal(c.signingKey), "public_keys": publicKeys(c.publicKeys)})
		if failed := s.failedPreconditions(t); (len(failed) == 0) != c.plans {
			t.Errorf("signing_key %q with %d public_keys: the plan succeeds: %v (failed preconditions %q), want %v", c.signingKey, c.publicKeys, len(failed) == 0, failed, c.plans)
		}
	}
}
