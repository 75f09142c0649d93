package deploy

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rs/zerolog"
	"github.com/zclconf/go-cty/cty"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/internal/keys"
)

// These tests read deploy/terraform once per example in
// deploy/terraform/examples (one per topology) and
// deploy/ecs/task-definition.json, and assert the settings whose mistakes
// break signed cookies, checked against the service's own code where it
// decides: the variables config.Load reads, the routes handlers.NewServer
// serves, config.ShutdownTimeout.

// distribution is the module's CloudFront distribution as one scenario
// evaluates it.
type distribution struct {
	origins    map[string]*hclsyntax.Block // by origin_id
	behaviours []*hclsyntax.Block          // ordered_cache_behavior in order, then default_cache_behavior
}

func (s *tfScenario) distribution(t *testing.T) *distribution {
	t.Helper()
	b := s.m.one(t, "resource", "aws_cloudfront_distribution", "this")
	d := &distribution{origins: map[string]*hclsyntax.Block{}}
	for _, o := range s.blocks(t, b, "origin") {
		d.origins[s.str(t, o, "origin_id")] = o
	}
	d.behaviours = s.blocks(t, b, "ordered_cache_behavior")
	def := s.blocks(t, b, "default_cache_behavior")
	if len(def) != 1 {
		t.Fatalf("%s: %d default_cache_behavior blocks", s.name, len(def))
	}
	d.behaviours = append(d.behaviours, def[0])
	return d
}

// route returns the behaviour CloudFront applies to urlPath: the first
// ordered behaviour whose pattern matches, else the default.
func (s *tfScenario) route(t *testing.T, d *distribution, urlPath string) *hclsyntax.Block {
	t.Helper()
	for _, b := range d.behaviours {
		pattern := s.str(t, b, "path_pattern")
		if pattern == "" || cloudFrontPattern(pattern).MatchString(urlPath) {
			return b
		}
	}
	t.Fatal("unreachable: the default behaviour has no path_pattern")
	return nil
}

// cloudFrontPattern compiles a path pattern: case-sensitive, * any run of
// characters (slashes included), ? exactly one.
func cloudFrontPattern(p string) *regexp.Regexp {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	q := regexp.QuoteMeta(p)
	q = strings.ReplaceAll(q, `\*`, `.*`)
	q = strings.ReplaceAll(q, `\?`, `.`)
	return regexp.MustCompile("^" + q + "$")
}

// isMediaOrigin reports whether o is the media bucket.
func (s *tfScenario) isMediaOrigin(t *testing.T, o *hclsyntax.Block) bool {
	return strings.HasPrefix(s.str(t, o, "domain_name"), "aws_s3_bucket.media.")
}

// managedPolicyName is the name of the managed policy (a data source) that
// attribute attr of b names in this scenario, "" for none or a resource.
func (s *tfScenario) managedPolicyName(t *testing.T, b *hclsyntax.Block, attr string) string {
	t.Helper()
	if db := s.address(s.attr(t, b, attr)); db != nil && db.Type == "data" {
		return s.str(t, db, "name")
	}
	return ""
}

func topology(t *testing.T, s *tfScenario) string {
	v := s.vars["topology"]
	if v.IsNull() || !v.Type().Equals(cty.String) {
		t.Fatalf("%s: no topology", s.name)
	}
	return v.AsString()
}

func TestTerraformScenarios(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	var topologies []string
	for _, s := range m.scenarios(t) {
		topologies = append(topologies, topology(t, s))
	}
	slices.Sort(topologies)
	if want := []string{"cross-subdomain", "same-origin"}; !slices.Equal(topologies, want) {
		t.Errorf("examples cover topologies %v, want one each of %v", topologies, want)
	}
}

// TestTerraformMediaNeedsSignedCookies: every way to the media bucket
// requires cookies signed by the key group, over https, and the grant's paths
// reach it.
func TestTerraformMediaNeedsSignedCookies(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	kg := m.one(t, "resource", "aws_cloudfront_key_group", "this")
	for _, s := range m.scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			if s.refersTo(kg, "items", "aws_cloudfront_public_key") == nil {
				t.Error("the key group does not hold the aws_cloudfront_public_key keys")
			}
			d := s.distribution(t)
			media := 0
			for _, b := range d.behaviours {
				o := d.origins[s.str(t, b, "target_origin_id")]
				if o == nil {
					t.Errorf("behaviour %q targets origin %q, which the distribution lacks", s.str(t, b, "path_pattern"), s.str(t, b, "target_origin_id"))
					continue
				}
				if !s.isMediaOrigin(t, o) {
					continue
				}
				media++
				where := behaviourName(s.str(t, b, "path_pattern"))
				groups := s.strs(t, b, "trusted_key_groups")
				if len(groups) == 0 || slices.ContainsFunc(groups, func(g string) bool { return g != "aws_cloudfront_key_group.this.id" }) {
					t.Errorf("%s: trusted_key_groups %q, want [aws_cloudfront_key_group.this.id]: without it anyone reads the media", where, groups)
				}
				if _, legacy := b.Body.Attributes["trusted_signers"]; legacy {
					t.Errorf("%s: trusted_signers is the legacy root-account key pair mechanism; use trusted_key_groups", where)
				}
				if p := s.str(t, b, "viewer_protocol_policy"); p != "redirect-to-https" && p != "https-only" {
					t.Errorf("%s: viewer_protocol_policy %q: the cookies are Secure, so over http the browser never sends them", where, p)
				}
				// The cookies differ per user: in the cache key (or sent to S3)
				// they would make every request a miss.
				if name := s.managedPolicyName(t, b, "cache_policy_id"); name != "Managed-CachingOptimized" && name != "Managed-CachingOptimizedForUncompressedObjects" {
					t.Errorf("%s: cache policy %q, want Managed-CachingOptimized (no cookies in the cache key)", where, name)
				}
			}
			if media == 0 {
				t.Fatal("no behaviour serves the media bucket")
			}

			// A URL the service grants (MEDIA_PATH with {sub} and * filled in)
			// reaches a media behaviour.
			mediaPath := s.vars["media_path"].AsString()
			sample := regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(mediaPath, "alice")
			sample = strings.NewReplacer("*", "hls/index.m3u8", "?", "x").Replace(sample)
			b := s.route(t, d, sample)
			if !s.isMediaOrigin(t, d.origins[s.str(t, b, "target_origin_id")]) {
				t.Errorf("%s (from MEDIA_PATH %s) is routed to origin %q, not the media bucket", sample, mediaPath, s.str(t, b, "target_origin_id"))
			}
		})
	}
}

// TestTerraformAuthBehaviour: in same-origin, /auth/* reaches the service
// uncached with the caller's identity.
func TestTerraformAuthBehaviour(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, s := range m.scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			for _, rp := range m.find("resource", "aws_cloudfront_origin_request_policy") {
				for _, hc := range s.blocks(t, rp, "headers_config") {
					for _, h := range s.blocks(t, hc, "headers") {
						// CloudFront refuses it (400): Authorization only travels in
						// a cache policy's key or with an all-viewer-headers policy.
						if slices.ContainsFunc(s.strs(t, h, "items"), func(n string) bool { return strings.EqualFold(n, "Authorization") }) {
							t.Errorf("origin request policy %s lists Authorization, which CloudFront rejects; use Managed-AllViewerExceptHostHeader", rp.Labels[1])
						}
					}
				}
			}
			d := s.distribution(t)
			b := s.route(t, d, "/auth/media-cookies")
			o := d.origins[s.str(t, b, "target_origin_id")]
			if topology(t, s) != "same-origin" {
				if o != nil && !s.isMediaOrigin(t, o) {
					t.Errorf("cross-subdomain: /auth/media-cookies goes to origin %q; the API is on api_domain", s.str(t, b, "target_origin_id"))
				}
				return
			}
			if o == nil || s.str(t, o, "domain_name") != s.vars["api_domain"].AsString() {
				t.Fatalf("/auth/media-cookies is not routed to the ALB (api_domain)")
			}
			for _, c := range s.blocks(t, o, "custom_origin_config") {
				if p := s.str(t, c, "origin_protocol_policy"); p != "https-only" {
					t.Errorf("API origin protocol %q: tokens would cross the internet in clear", p)
				}
			}
			if name := s.managedPolicyName(t, b, "cache_policy_id"); name != "Managed-CachingDisabled" {
				t.Errorf("/auth/* cache policy %q, want Managed-CachingDisabled: a cached answer hands one user's cookies to the next", name)
			}
			if name := s.managedPolicyName(t, b, "origin_request_policy_id"); name != "Managed-AllViewerExceptHostHeader" && name != "Managed-AllViewer" {
				t.Errorf("/auth/* origin request policy %q, want Managed-AllViewerExceptHostHeader: the service needs Authorization, Cookie and the query", name)
			}
			methods := s.strs(t, b, "allowed_methods")
			for _, want := range []string{"POST", "DELETE", "OPTIONS", "GET"} {
				if !slices.Contains(methods, want) {
					t.Errorf("/auth/* allowed_methods %v lacks %s", methods, want)
				}
			}

			// The ALB forwards only what carries the distribution's secret header.
			var sent string
			for _, h := range s.blocks(t, o, "custom_header") {
				if s.str(t, h, "name") == "X-Origin-Verify" {
					sent = s.str(t, h, "value")
				}
			}
			rule := m.one(t, "resource", "aws_lb_listener_rule", "api")
			var paths []string
			var checked string
			for _, c := range s.blocks(t, rule, "condition") {
				for _, pp := range s.blocks(t, c, "path_pattern") {
					paths = append(paths, s.strs(t, pp, "values")...)
				}
				for _, hh := range s.blocks(t, c, "http_header") {
					if s.str(t, hh, "http_header_name") == "X-Origin-Verify" {
						checked = strings.Join(s.strs(t, hh, "values"), ",")
					}
				}
			}
			if sent == "" || sent != checked {
				t.Errorf("the API origin sends X-Origin-Verify %q but the listener rule wants %q", sent, checked)
			}
			if !slices.ContainsFunc(paths, func(p string) bool { return cloudFrontPattern(p).MatchString("/auth/media-cookies") }) {
				t.Errorf("the listener rule's paths %v do not forward /auth/media-cookies", paths)
			}
		})
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTerraformCORS: cross-subdomain media answers CORS with credentials
// for the SPA's exact origins; no CORS setting anywhere allows "*".
func TestTerraformCORS(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	for _, s := range m.scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			appOrigins := ctyStrings(s.vars["app_origins"])
			for _, r := range m.find("resource", "aws_cloudfront_response_headers_policy") {
				if s.count(t, r) == 0 {
					continue
				}
				for _, c := range s.blocks(t, r, "cors_config") {
					var origins []string
					for _, o := range s.blocks(t, c, "access_control_allow_origins") {
						origins = append(origins, s.strs(t, o, "items")...)
					}
					creds := s.attr(t, c, "access_control_allow_credentials")
					if slices.ContainsFunc(origins, func(o string) bool { return strings.Contains(o, "*") }) {
						t.Errorf("response headers policy %s allows origins %q: never \"*\" (browsers refuse it with credentials)", r.Labels[1], origins)
					}
					if creds.IsKnown() && !creds.IsNull() && creds.True() && len(origins) == 0 {
						t.Errorf("response headers policy %s: credentials without explicit origins", r.Labels[1])
					}
				}
			}
			for _, r := range m.find("resource", "aws_s3_bucket_cors_configuration") {
				if s.count(t, r) == 0 {
					continue
				}
				for _, c := range s.blocks(t, r, "cors_rule") {
					if origins := s.strs(t, c, "allowed_origins"); slices.ContainsFunc(origins, func(o string) bool { return strings.Contains(o, "*") }) {
						t.Errorf("bucket CORS rule allows %q: S3 answers \"*\" without credentials, which browsers refuse for credentialed requests", origins)
					}
				}
			}

			env := s.containerEnvironment(t)
			d := s.distribution(t)
			if topology(t, s) == "same-origin" {
				if _, ok := env["CORS_ALLOWED_ORIGINS"]; ok {
					t.Error("same-origin sets CORS_ALLOWED_ORIGINS: nothing is cross-origin there")
				}
				return
			}

			if got := env["CORS_ALLOWED_ORIGINS"]; got != strings.Join(appOrigins, ",") {
				t.Errorf("CORS_ALLOWED_ORIGINS %q, want app_origins %q: the SPA calls the API cross-origin", got, appOrigins)
			}
			cors := m.one(t, "resource", "aws_s3_bucket_cors_configuration", "media")
			if s.count(t, cors) != 1 {
				t.Fatal("cross-subdomain has no CORS rule on the media bucket")
			}
			for _, c := range s.blocks(t, cors, "cors_rule") {
				if got := s.strs(t, c, "allowed_origins"); !slices.Equal(got, appOrigins) {
					t.Errorf("bucket CORS origins %q, want app_origins %q", got, appOrigins)
				}
			}
			for _, b := range d.behaviours {
				if !s.isMediaOrigin(t, d.origins[s.str(t, b, "target_origin_id")]) {
					continue
				}
				where := behaviourName(s.str(t, b, "path_pattern"))
				// S3 answers CORS only when it sees Origin (and a preflight's
				// Access-Control-Request-*): CORS-S3Origin forwards them.
				if name := s.managedPolicyName(t, b, "origin_request_policy_id"); name != "Managed-CORS-S3Origin" {
					t.Errorf("%s: origin request policy %q, want Managed-CORS-S3Origin so S3 sees Origin", where, name)
				}
				rhp := s.refersTo(b, "response_headers_policy_id", "aws_cloudfront_response_headers_policy")
				if rhp == nil || s.attr(t, b, "response_headers_policy_id").IsNull() {
					t.Errorf("%s: no response headers policy: a response cached from a request without Origin would reach fetch() without CORS headers", where)
					continue
				}
				for _, c := range s.blocks(t, rhp, "cors_config") {
					if v := s.attr(t, c, "access_control_allow_credentials"); !v.IsKnown() || v.IsNull() || !v.True() {
						t.Errorf("%s: CORS without credentials: the browser drops a response to fetch(..., {credentials: \"include\"})", where)
					}
					if v := s.attr(t, c, "origin_override"); !v.IsKnown() || v.IsNull() || !v.True() {
						t.Errorf("%s: origin_override must be true so every response, cached or not, carries the CORS headers", where)
					}
					var origins []string
					for _, o := range s.blocks(t, c, "access_control_allow_origins") {
						origins = append(origins, s.strs(t, o, "items")...)
					}
					if !slices.Equal(origins, appOrigins) {
						t.Errorf("%s: CORS origins %q, want app_origins %q", where, origins, appOrigins)
					}
				}
			}
		})
	}
}

// containerDefinition is local.container_definition, evaluated.
func (s *tfScenario) containerDefinition(t *testing.T) cty.Value {
	t.Helper()
	v, ok := s.locals["container_definition"]
	if !ok {
		t.Fatal("no local.container_definition")
	}
	td := s.m.one(t, "resource", "aws_ecs_task_definition", "this")
	if !strings.Contains(string(td.Body.Attributes["container_definitions"].SrcRange.SliceBytes(mustRead(t, td.Body.SrcRange.Filename))), "local.container_definition") {
		t.Fatal("the task definition's container_definitions is not built from local.container_definition")
	}
	return v
}

// unknownValue stands for a value only known at apply time (a resource's ID).
const unknownValue = "\x00unknown"

// containerEnvironment is the Terraform container's environment; a value
// known only at apply time is unknownValue or the attribute's address, such
// as aws_kms_key.signing[0].arn.
func (s *tfScenario) containerEnvironment(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	list := s.containerDefinition(t).GetAttr("environment")
	for it := list.ElementIterator(); it.Next(); {
		_, e := it.Element()
		name, value := e.GetAttr("name").AsString(), e.GetAttr("value")
		if _, dup := env[name]; dup {
			t.Errorf("environment sets %s twice", name)
		}
		if value.IsKnown() {
			env[name] = value.AsString()
		} else {
			env[name] = unknownValue
		}
	}
	return env
}

// taskDefinitionJSON is deploy/ecs/task-definition.json's one container.
type containerJSON struct {
	Name        string
	Environment []struct{ Name, Value string }
	Secrets     []struct{ Name, ValueFrom string }
	HealthCheck struct{ Command []string }
	StopTimeout int
	Ports       []struct{ ContainerPort int } `json:"portMappings"`
	Log         struct {
		LogDriver string
		Options   map[string]string
	} `json:"logConfiguration"`
}

func readTaskDefinition(t *testing.T) containerJSON {
	t.Helper()
	var td struct {
		ContainerDefinitions []containerJSON
		TaskRoleArn          string
		ExecutionRoleArn     string
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join("ecs", "task-definition.json")), &td); err != nil {
		t.Fatal(err)
	}
	if len(td.ContainerDefinitions) != 1 {
		t.Fatalf("%d container definitions, want 1", len(td.ContainerDefinitions))
	}
	if td.ExecutionRoleArn == "" {
		t.Error("no executionRoleArn: ECS needs it to pull the image, read the secrets and write logs")
	}
	return td.ContainerDefinitions[0]
}

// keySources are the variables of which exactly one says where the key is.
var keySources = []string{"CLOUDFRONT_PRIVATE_KEY", "CLOUDFRONT_PRIVATE_KEY_FILE", "CLOUDFRONT_PRIVATE_KEY_SECRET", "CLOUDFRONT_KMS_KEY_ID"}

// variablesRead is every variable config.Load looks up, whatever the mode,
// key source or scope source: recorded, not listed by hand.
func variablesRead(t *testing.T) map[string]bool {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, []byte(testKeyPEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, dev := range []bool{false, true} {
		for _, mode := range []string{"oidc", "alb", "dev"} {
			for _, key := range append(keySources, "") {
				for _, scopes := range []string{"", filepath.Join(t.TempDir(), "scopes.yaml")} {
					env := map[string]string{
						"AUTH_MODE":                     mode,
						"CLOUDFRONT_DOMAIN":             "media.example.com",
						"CLOUDFRONT_KEY_PAIR_ID":        "K2JCJMDEHXQW5F",
						"OIDC_ISSUER":                   "https://login.example.com/",
						"OIDC_AUDIENCE":                 "spa",
						"ALB_ARN":                       "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/0123456789abcdef",
						"BIND_CLIENT_IP":                "true",
						"CLOUDFRONT_PRIVATE_KEY":        testKeyPEM(t),
						"CLOUDFRONT_PRIVATE_KEY_FILE":   keyFile,
						"CLOUDFRONT_PRIVATE_KEY_SECRET": placeholders(t)["CLOUDFRONT_PRIVATE_KEY_SECRET"],
						"CLOUDFRONT_KMS_KEY_ID":         placeholders(t)["CLOUDFRONT_KMS_KEY_ID"],
						"SCOPES_FILE":                   scopes,
					}
					for _, other := range keySources {
						if other != key {
							delete(env, other)
						}
					}
					_, _ = config.Load(func(name string) (string, bool) {
						read[name] = true
						v, ok := env[name]
						return v, ok && v != ""
					}, dev)
				}
			}
		}
	}
	if len(read) < 15 || !read["LISTEN_ADDR"] || !read["CLOUDFRONT_PRIVATE_KEY_SECRET"] || !read["CLOUDFRONT_KMS_KEY_ID"] {
		t.Fatalf("config.Load read only %v", keysOf(read))
	}
	return read
}

// testKey is a throwaway RSA key, made once per test binary.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func testKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// placeholders stand for the values a task gets at deploy time (resource
// IDs, secrets): valid examples, so config.Load judges the rest.
func placeholders(t *testing.T) map[string]string {
	return map[string]string{
		"CLOUDFRONT_KEY_PAIR_ID":        "K2JCJMDEHXQW5F",
		"CLOUDFRONT_PRIVATE_KEY_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies/cloudfront-private-key-AbCdEf",
		"CLOUDFRONT_KMS_KEY_ID":         "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"CLOUDFRONT_PRIVATE_KEY":        strings.ReplaceAll(testKeyPEM(t), "\n", `\n`),
		"TRUSTED_PROXIES":               "10.0.0.0/16",
	}
}

// checkEnvironment asserts that every variable env sets is read by the
// service and that the service starts with it (every required one is set).
func checkEnvironment(t *testing.T, env map[string]string, read map[string]bool) {
	t.Helper()
	ph := placeholders(t)
	for name, value := range env {
		if !read[name] {
			t.Errorf("sets %s, which cfcookies never reads (a typo, or a variable it dropped)", name)
		}
		if value == unknownValue || resourceAddress.MatchString(value) {
			p, ok := ph[name]
			if !ok {
				t.Errorf("%s is only known at deploy time: add a valid placeholder for it to placeholders()", name)
			}
			env[name] = p
		}
	}
	_, err := config.Load(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}, false)
	if err != nil {
		t.Errorf("the service would refuse to start with this environment (exit 2):\n%v", err)
	}
}

func TestTaskEnvironment(t *testing.T) {
	t.Parallel()
	read := variablesRead(t)
	m := loadTerraform(t)
	for _, s := range m.signingScenarios(t) {
		t.Run("terraform/"+s.name, func(t *testing.T) {
			env := s.containerEnvironment(t)
			if env["CLOUDFRONT_PRIVATE_KEY"] != "" || env["CLOUDFRONT_PRIVATE_KEY_FILE"] != "" {
				t.Error("the Terraform task must sign with KMS or read the key from Secrets Manager, never from its definition")
			}
			checkEnvironment(t, env, read)
		})
	}
	t.Run("ecs/task-definition.json", func(t *testing.T) {
		c := readTaskDefinition(t)
		env := map[string]string{}
		for _, e := range c.Environment {
			env[e.Name] = e.Value
			if secretValue.MatchString(e.Value) || strings.Contains(e.Name, "PRIVATE_KEY") && !strings.HasSuffix(e.Name, "_SECRET") && !strings.HasSuffix(e.Name, "_FILE") {
				t.Errorf("environment %s: key material belongs in secrets", e.Name)
			}
		}
		for _, sec := range c.Secrets {
			if _, dup := env[sec.Name]; dup {
				t.Errorf("%s is both in environment and secrets", sec.Name)
			}
			if !strings.HasPrefix(sec.ValueFrom, "arn:aws:secretsmanager:") && !strings.HasPrefix(sec.ValueFrom, "arn:aws:ssm:") {
				t.Errorf("secret %s valueFrom %q is not a Secrets Manager or SSM ARN", sec.Name, sec.ValueFrom)
			}
			env[sec.Name] = unknownValue
		}
		checkEnvironment(t, env, read)
	})
}

// TestHealthChecks: the ALB's health check path answers its matcher on the
// real router, the ports agree, and the container health check uses the
// binary, as the image has no shell.
func TestHealthChecks(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	s := m.scenarios(t)[0]
	tg := m.one(t, "resource", "aws_lb_target_group", "api")
	hcs := s.blocks(t, tg, "health_check")
	if len(hcs) != 1 {
		t.Fatal("the target group has no health_check block: the ALB would probe / (404)")
	}
	hcPath, matcher := s.str(t, hcs[0], "path"), s.str(t, hcs[0], "matcher")
	// The target is healthy once the task can sign, and not before: a task
	// still waiting for its key (secret not set yet, Secrets Manager
	// unreachable at start) gets no requests.
	for _, ready := range []bool{true, false} {
		api := handlers.NewServer(zerolog.Nop(), handlers.Options{CloudFrontBaseURL: "https://media.example.com"},
			(&keys.Store{}).Signer, auth.Dev{}, func() bool { return ready }, handlers.NewMetrics())
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, hcPath, nil))
		switch healthy := strconv.Itoa(rec.Code) == matcher; {
		case ready && !healthy:
			t.Errorf("GET %s answers %d on the router with a key loaded; the ALB expects %q", hcPath, rec.Code, matcher)
		case !ready && healthy:
			t.Errorf("GET %s answers %d without a key: the ALB would send requests to a task that cannot sign (use /readyz)", hcPath, rec.Code)
		}
	}

	port := s.attr(t, tg, "port")
	env := s.containerEnvironment(t)
	_, listenPort, err := net.SplitHostPort(env["LISTEN_ADDR"])
	if err != nil {
		t.Fatalf("LISTEN_ADDR %q: %v", env["LISTEN_ADDR"], err)
	}
	if pn, _ := port.AsBigFloat().Int64(); strconv.FormatInt(pn, 10) != listenPort {
		t.Errorf("target group port %d, LISTEN_ADDR %s", pn, env["LISTEN_ADDR"])
	}
	svc := m.one(t, "resource", "aws_ecs_service", "this")
	for _, lb := range s.blocks(t, svc, "load_balancer") {
		if p, _ := s.attr(t, lb, "container_port").AsBigFloat().Int64(); strconv.FormatInt(p, 10) != listenPort {
			t.Errorf("service container_port %d, LISTEN_ADDR %s", p, env["LISTEN_ADDR"])
		}
	}

	want := []string{"CMD", "/cfcookies", "healthcheck"}
	cd := s.containerDefinition(t)
	if got := ctyStrings(cd.GetAttr("healthCheck").GetAttr("command")); !slices.Equal(got, want) {
		t.Errorf("Terraform container healthCheck %q, want %q", got, want)
	}
	c := readTaskDefinition(t)
	if !slices.Equal(c.HealthCheck.Command, want) {
		t.Errorf("task-definition.json healthCheck %q, want %q", c.HealthCheck.Command, want)
	}
	if !slices.ContainsFunc(c.Ports, func(p struct{ ContainerPort int }) bool { return strconv.Itoa(p.ContainerPort) == listenPort }) {
		t.Errorf("task-definition.json maps ports %v, not LISTEN_ADDR's %s", c.Ports, listenPort)
	}
	if c.Log.LogDriver != "awslogs" || c.Log.Options["awslogs-group"] == "" || c.Log.Options["awslogs-stream-prefix"] == "" {
		t.Errorf("task-definition.json log configuration %+v: want awslogs with a group and a stream prefix", c.Log)
	}
}

// TestStopTimeout: ECS sends SIGKILL stopTimeout seconds after SIGTERM; the
// server needs up to config.ShutdownTimeout to finish in-flight requests.
func TestStopTimeout(t *testing.T) {
	t.Parallel()
	check := func(where string, seconds int64) {
		stop := time.Duration(seconds) * time.Second
		switch {
		case stop <= config.ShutdownTimeout:
			t.Errorf("%s: stopTimeout %s is not above the server's shutdown deadline %s: requests in flight would be killed", where, stop, config.ShutdownTimeout)
		case stop > 120*time.Second:
			t.Errorf("%s: stopTimeout %s is over Fargate's 120 s maximum", where, stop)
		}
	}
	m := loadTerraform(t)
	for _, s := range m.scenarios(t) {
		st := s.containerDefinition(t).GetAttr("stopTimeout")
		n, _ := st.AsBigFloat().Int64()
		check("terraform/"+s.name, n)
	}
	c := readTaskDefinition(t)
	if c.StopTimeout == 0 {
		t.Error("task-definition.json sets no stopTimeout: the default 30 s holds today, but say it")
	}
	check("task-definition.json", int64(c.StopTimeout))
}

func behaviourName(pathPattern string) string {
	if pathPattern == "" {
		return "media behaviour (default)"
	}
	return "media behaviour " + strconv.Quote(pathPattern)
}
