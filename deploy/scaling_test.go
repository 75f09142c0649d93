package deploy

import (
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rs/zerolog"
	"github.com/zclconf/go-cty/cty"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/signer"
)

// These tests check what deploy/terraform adds for running N tasks: the
// service's autoscaling, the AWS WAF rate limit of /auth/* across tasks, and
// the CloudWatch alarms, each against the real resources it must name (the
// cluster and service, the load balancer and target group the service is
// behind, the distribution) in every example.

// serviceTargetGroup is the target group the ECS service registers its
// tasks in.
func (s *tfScenario) serviceTargetGroup(t *testing.T) *hclsyntax.Block {
	t.Helper()
	svc := s.m.one(t, "resource", "aws_ecs_service", "this")
	lbs := s.blocks(t, svc, "load_balancer")
	if len(lbs) != 1 {
		t.Fatalf("the ECS service has %d load_balancer blocks, want 1", len(lbs))
	}
	tg := s.address(s.attr(t, lbs[0], "target_group_arn"))
	if tg == nil || tg.Labels[0] != "aws_lb_target_group" {
		t.Fatalf("the ECS service's target_group_arn %s is no aws_lb_target_group", display(s.attr(t, lbs[0], "target_group_arn")))
	}
	return tg
}

// loadBalancerOf is the load balancer whose listener forwards to tg.
func (s *tfScenario) loadBalancerOf(t *testing.T, tg *hclsyntax.Block) *hclsyntax.Block {
	t.Helper()
	for _, rule := range s.m.find("resource", "aws_lb_listener_rule") {
		for _, a := range s.blocks(t, rule, "action") {
			if s.address(s.attr(t, a, "target_group_arn")) != tg {
				continue
			}
			l := s.address(s.attr(t, rule, "listener_arn"))
			if l == nil {
				t.Fatalf("listener rule %s names no listener", rule.Labels[1])
			}
			if lb := s.address(s.attr(t, l, "load_balancer_arn")); lb != nil && lb.Labels[0] == "aws_lb" {
				return lb
			}
		}
	}
	t.Fatalf("no listener rule forwards to target group %s", tg.Labels[1])
	return nil
}

// num is a known number attribute of b.
func (s *tfScenario) num(t *testing.T, b *hclsyntax.Block, name string) float64 {
	t.Helper()
	v := s.attr(t, b, name)
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.Number) {
		t.Fatalf("%s: %s is %s, not a known number", s.name, name, display(v))
	}
	f, _ := v.AsBigFloat().Float64()
	return f
}

// nested follows path, one nested block of each type in turn, from b.
func (s *tfScenario) nested(t *testing.T, b *hclsyntax.Block, path ...string) *hclsyntax.Block {
	t.Helper()
	for _, typ := range path {
		bs := s.blocks(t, b, typ)
		if len(bs) != 1 {
			t.Fatalf("%s: %d %s blocks in %s, want 1", s.name, len(bs), typ, strings.Join(path, "."))
		}
		b = bs[0]
	}
	return b
}

// providerOf is the provider configuration a resource uses: "aws", or
// "aws.ALIAS".
func providerOf(t *testing.T, b *hclsyntax.Block) string {
	t.Helper()
	a, ok := b.Body.Attributes["provider"]
	if !ok {
		return "aws"
	}
	tr, diags := hcl.AbsTraversalForExpr(a.Expr)
	if diags.HasErrors() {
		t.Fatalf("provider of %s: %v", b.Labels, diags)
	}
	names := []string{tr.RootName()}
	for _, step := range tr[1:] {
		if at, ok := step.(hcl.TraverseAttr); ok {
			names = append(names, at.Name)
		}
	}
	return strings.Join(names, ".")
}

// providerRegion is the region a provider configuration sets ("" for the
// region of the environment, as the default provider does).
func (s *tfScenario) providerRegion(t *testing.T, ref string) string {
	t.Helper()
	for _, p := range s.m.find("provider", "aws") {
		alias := s.str(t, p, "alias")
		if (alias == "" && ref == "aws") || (alias != "" && ref == "aws."+alias) {
			return s.str(t, p, "region")
		}
	}
	t.Fatalf("no provider configuration %s", ref)
	return ""
}

// ignoredChanges lists the attributes of b's lifecycle ignore_changes.
func ignoredChanges(t *testing.T, b *hclsyntax.Block) []string {
	t.Helper()
	var out []string
	for _, lc := range b.Body.Blocks {
		a, ok := lc.Body.Attributes["ignore_changes"]
		if lc.Type != "lifecycle" || !ok {
			continue
		}
		exprs, diags := hcl.ExprList(a.Expr)
		if diags.HasErrors() {
			t.Fatalf("ignore_changes of %s: %v", b.Labels, diags)
		}
		for _, e := range exprs {
			tr, diags := hcl.AbsTraversalForExpr(e)
			if diags.HasErrors() {
				t.Fatalf("ignore_changes of %s: %v", b.Labels, diags)
			}
			out = append(out, tr.RootName())
		}
	}
	return out
}

func numVal(f float64) cty.Value { return cty.NumberVal(big.NewFloat(f)) }

// TestTerraformAutoscaling: the scalable target is the real service of the
// real cluster, within the variables' bounds; the policy tracks a target on
// it, on CPU or on the requests of the target group the service is behind;
// Terraform leaves the task count to the autoscaler.
func TestTerraformAutoscaling(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	svc := m.one(t, "resource", "aws_ecs_service", "this")
	if got := ignoredChanges(t, svc); !slices.Contains(got, "desired_count") {
		t.Errorf("the ECS service ignores changes to %q, not desired_count: every apply would undo the autoscaler", got)
	}
	for _, f := range exampleFiles(t) {
		for _, metric := range []string{"cpu", "requests"} {
			s := m.scenario(t, f, metric, map[string]cty.Value{
				"autoscaling_metric":       cty.StringVal(metric),
				"autoscaling_min_capacity": numVal(3),
				"autoscaling_max_capacity": numVal(7),
				"desired_count":            numVal(3),
			})
			t.Run(s.name, func(t *testing.T) { checkAutoscaling(t, s, metric) })
		}
	}
}

func checkAutoscaling(t *testing.T, s *tfScenario, metric string) {
	svc := s.m.one(t, "resource", "aws_ecs_service", "this")
	cluster := s.address(s.attr(t, svc, "cluster"))
	if cluster == nil || cluster.Labels[0] != "aws_ecs_cluster" {
		t.Fatalf("the service's cluster %s is no aws_ecs_cluster", display(s.attr(t, svc, "cluster")))
	}
	targets := s.live(t, "resource", "aws_appautoscaling_target")
	if len(targets) != 1 {
		t.Fatalf("%d aws_appautoscaling_target, want 1", len(targets))
	}
	target := targets[0]
	if got := s.str(t, target, "service_namespace"); got != "ecs" {
		t.Errorf("scalable target service_namespace %q, want ecs", got)
	}
	if got := s.str(t, target, "scalable_dimension"); got != "ecs:service:DesiredCount" {
		t.Errorf("scalable target dimension %q, want ecs:service:DesiredCount", got)
	}
	// service/CLUSTER/SERVICE, by the names the service and its cluster get.
	parts := strings.Split(s.str(t, target, "resource_id"), "/")
	if len(parts) != 3 || parts[0] != "service" ||
		!s.addresses(cty.StringVal(parts[1]), cluster, "name") || !s.addresses(cty.StringVal(parts[2]), svc, "name") {
		t.Errorf("scalable target resource_id %q, want service/<the service's cluster's name>/<the service's name>", s.str(t, target, "resource_id"))
	}
	if lo, hi := s.num(t, target, "min_capacity"), s.num(t, target, "max_capacity"); lo != 3 || hi != 7 {
		t.Errorf("capacity %v to %v, want autoscaling_min_capacity 3 to autoscaling_max_capacity 7", lo, hi)
	}

	policies := s.live(t, "resource", "aws_appautoscaling_policy")
	if len(policies) != 1 {
		t.Fatalf("%d aws_appautoscaling_policy, want 1", len(policies))
	}
	p := policies[0]
	if got := s.str(t, p, "policy_type"); got != "TargetTrackingScaling" {
		t.Errorf("policy_type %q, want TargetTrackingScaling", got)
	}
	for _, attr := range []string{"service_namespace", "resource_id", "scalable_dimension"} {
		if v := s.attr(t, p, attr); !s.addresses(v, target, attr) {
			t.Errorf("the policy's %s is %s, not the scalable target's", attr, display(v))
		}
	}
	cfg := s.nested(t, p, "target_tracking_scaling_policy_configuration")
	spec := s.nested(t, cfg, "predefined_metric_specification")
	tg := s.serviceTargetGroup(t)
	lb := s.loadBalancerOf(t, tg)
	switch metric {
	case "cpu":
		if got := s.str(t, spec, "predefined_metric_type"); got != "ECSServiceAverageCPUUtilization" {
			t.Errorf("autoscaling_metric cpu tracks %q", got)
		}
		if got := s.num(t, cfg, "target_value"); got != s.num(t, s.m.one(t, "variable", "autoscaling_cpu_target"), "default") {
			t.Errorf("target_value %v, want autoscaling_cpu_target", got)
		}
	case "requests":
		if got := s.str(t, spec, "predefined_metric_type"); got != "ALBRequestCountPerTarget" {
			t.Errorf("autoscaling_metric requests tracks %q", got)
		}
		if got := s.num(t, cfg, "target_value"); got != s.num(t, s.m.one(t, "variable", "autoscaling_requests_target"), "default") {
			t.Errorf("target_value %v, want autoscaling_requests_target", got)
		}
		// app/LB/ID/targetgroup/TG/ID: the two arn_suffixes, joined.
		label := s.str(t, spec, "resource_label")
		lbPart, tgPart, _ := strings.Cut(label, "/")
		if !s.addresses(cty.StringVal(lbPart), lb, "arn_suffix") || !s.addresses(cty.StringVal(tgPart), tg, "arn_suffix") {
			t.Errorf("resource_label %q, want <the service's load balancer's arn_suffix>/<its target group's arn_suffix>", label)
		}
	}
}

// TestTerraformScalingVariables: the bounds refuse what Application Auto
// Scaling, AWS WAF or CloudWatch would refuse at apply, or what would make
// no sense, at plan time.
func TestTerraformScalingVariables(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	s := m.scenarios(t)[0]
	arn := "arn:aws:sns:eu-west-1:123456789012:cfcookies-alarms"
	edgeARN := "arn:aws:sns:us-east-1:123456789012:cfcookies-alarms"
	for _, c := range []struct {
		variable string
		value    cty.Value
		valid    bool
	}{
		{"autoscaling_min_capacity", numVal(0), false},
		{"autoscaling_min_capacity", numVal(1), true},
		{"autoscaling_min_capacity", numVal(2), true},
		{"autoscaling_min_capacity", numVal(1.5), false},
		{"autoscaling_max_capacity", numVal(1), false}, // below the default minimum, 2
		{"autoscaling_max_capacity", numVal(2), true},
		{"autoscaling_max_capacity", numVal(20), true},
		{"autoscaling_max_capacity", numVal(4.5), false},
		{"autoscaling_metric", cty.StringVal("cpu"), true},
		{"autoscaling_metric", cty.StringVal("requests"), true},
		{"autoscaling_metric", cty.StringVal("CPU"), false},
		{"autoscaling_metric", cty.StringVal("memory"), false},
		{"autoscaling_cpu_target", numVal(60), true},
		{"autoscaling_cpu_target", numVal(5), false},
		{"autoscaling_cpu_target", numVal(100), false},
		{"autoscaling_requests_target", numVal(0), false},
		{"autoscaling_requests_target", numVal(6000), true},
		// AWS WAF: a limit of 10 to 2,000,000,000 per window of 60, 120, 300 or 600 s.
		{"waf_auth_rate_limit", numVal(9), false},
		{"waf_auth_rate_limit", numVal(10), true},
		{"waf_auth_rate_limit", numVal(2e9), true},
		{"waf_auth_rate_limit", numVal(2e9 + 1), false},
		{"waf_auth_rate_limit", numVal(100.5), false},
		{"waf_auth_rate_window", numVal(60), true},
		{"waf_auth_rate_window", numVal(120), true},
		{"waf_auth_rate_window", numVal(300), true},
		{"waf_auth_rate_window", numVal(600), true},
		{"waf_auth_rate_window", numVal(30), false},
		{"waf_auth_rate_window", numVal(180), false},
		{"waf_auth_rate_window", numVal(3600), false},
		{"alarm_topic_arn", cty.StringVal(""), true},
		{"alarm_topic_arn", cty.StringVal(arn), true},
		{"alarm_topic_arn", cty.StringVal("cfcookies-alarms"), false},
		{"alarm_topic_arn", cty.StringVal("arn:aws:sqs:eu-west-1:123456789012:q"), false},
		{"edge_alarm_topic_arn", cty.StringVal(""), true},
		{"edge_alarm_topic_arn", cty.StringVal(edgeARN), true},
		// An alarm in us-east-1 cannot notify a topic elsewhere.
		{"edge_alarm_topic_arn", cty.StringVal(arn), false},
		{"alarm_target_5xx_per_minute", numVal(-1), false},
		{"alarm_target_5xx_per_minute", numVal(0), true},
	} {
		if got := s.validates(t, c.variable, c.value); got != c.valid {
			t.Errorf("%s = %s: the variable's validation says %v, want %v", c.variable, c.value.GoString(), got, c.valid)
		}
	}

	// The maximum follows the minimum, not a constant.
	f := exampleFiles(t)[0]
	high := m.scenario(t, f, "min 5", map[string]cty.Value{"autoscaling_min_capacity": numVal(5), "desired_count": numVal(5)})
	for max, valid := range map[float64]bool{4: false, 5: true, 6: true} {
		if got := high.validates(t, "autoscaling_max_capacity", numVal(max)); got != valid {
			t.Errorf("autoscaling_min_capacity = 5, autoscaling_max_capacity = %v: the validation says %v, want %v", max, got, valid)
		}
	}

	// The first task count lies within the bounds, or the plan stops.
	for desired, plans := range map[float64]bool{1: false, 2: true, 8: true, 9: false} {
		o := m.scenario(t, f, "desired", map[string]cty.Value{"desired_count": numVal(desired)})
		if failed := o.failedPreconditions(t); (len(failed) == 0) != plans {
			t.Errorf("desired_count %v with capacity 2 to 8: plans %v (failed preconditions %q), want %v", desired, len(failed) == 0, failed, plans)
		}
	}
}

// webACL is the one live web ACL of this scenario.
func (s *tfScenario) webACL(t *testing.T) *hclsyntax.Block {
	t.Helper()
	acls := s.live(t, "resource", "aws_wafv2_web_acl")
	if len(acls) != 1 {
		t.Fatalf("%d web ACLs, want 1", len(acls))
	}
	return acls[0]
}

// rateRule is the web ACL's rule with a rate-based statement.
func (s *tfScenario) rateRule(t *testing.T, acl *hclsyntax.Block) *hclsyntax.Block {
	t.Helper()
	var out []*hclsyntax.Block
	for _, r := range s.blocks(t, acl, "rule") {
		for _, st := range s.blocks(t, r, "statement") {
			if len(s.blocks(t, st, "rate_based_statement")) > 0 {
				out = append(out, r)
			}
		}
	}
	if len(out) != 1 {
		t.Fatalf("web ACL %s has %d rate-based rules, want 1", acl.Labels[1], len(out))
	}
	return out[0]
}

// rateLimitedProblem is the status and problem type of the service's own
// 429, from the real router over a limit of one request a minute.
func rateLimitedProblem(t *testing.T) (int, string) {
	t.Helper()
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	api := handlers.NewServer(zerolog.Nop(), handlers.Options{
		CloudFrontBaseURL: "https://media.example.com",
		Scopes:            []handlers.Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: 10 * time.Minute}},
		RateLimitPerIP:    handlers.RateLimit{Requests: 1, Window: time.Minute},
	}, (&keys.Store{}).Signer, auth.Dev{}, func() bool { return true }, handlers.NewMetrics())
	var rec *httptest.ResponseRecorder
	for range 2 {
		rec = httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, handlers.MediaCookiesPath, nil))
	}
	var p struct{ Type string }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the service's second request over a 1/1m limit: %d %q (%v)", rec.Code, rec.Body.String(), err)
	}
	return rec.Code, p.Type
}

// TestTerraformWAF: one web ACL limits /auth/* per client address over the
// variables' limit and window, where the client's own address is the
// source (the distribution in same-origin, in us-east-1 as AWS requires;
// the load balancer in cross-subdomain), and answers as the service does.
func TestTerraformWAF(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	code, problem := rateLimitedProblem(t)
	for _, f := range exampleFiles(t) {
		s := m.scenario(t, f, "limit 1234/120s", map[string]cty.Value{
			"waf_auth_rate_limit":  numVal(1234),
			"waf_auth_rate_window": numVal(120),
		})
		t.Run(s.name, func(t *testing.T) {
			acl := s.webACL(t)
			dist := s.m.one(t, "resource", "aws_cloudfront_distribution", "this")
			webACLID := s.attr(t, dist, "web_acl_id")
			switch topology(t, s) {
			case "same-origin":
				if got := s.str(t, acl, "scope"); got != "CLOUDFRONT" {
					t.Errorf("same-origin web ACL scope %q, want CLOUDFRONT", got)
				}
				if p := providerOf(t, acl); s.providerRegion(t, p) != "us-east-1" {
					t.Errorf("the CLOUDFRONT web ACL uses provider %s, region %q: AWS makes CloudFront web ACLs in us-east-1 only", p, s.providerRegion(t, p))
				}
				// WAFv2: the distribution takes the web ACL's ARN, not its id.
				if !s.addresses(webACLID, acl, "arn") {
					t.Errorf("the distribution's web_acl_id is %s, not the web ACL's arn", display(webACLID))
				}
				if n := len(s.live(t, "resource", "aws_wafv2_web_acl_association")); n != 0 {
					t.Errorf("%d web ACL associations: a CloudFront web ACL is attached by the distribution's web_acl_id", n)
				}
			case "cross-subdomain":
				if got := s.str(t, acl, "scope"); got != "REGIONAL" {
					t.Errorf("cross-subdomain web ACL scope %q, want REGIONAL: /auth/* reaches the load balancer directly", got)
				}
				if p := providerOf(t, acl); s.providerRegion(t, p) != "" {
					t.Errorf("the REGIONAL web ACL uses provider %s: it must be in the load balancer's region", p)
				}
				if !webACLID.IsNull() {
					t.Errorf("cross-subdomain distribution has web_acl_id %s: it serves only media", display(webACLID))
				}
				assocs := s.live(t, "resource", "aws_wafv2_web_acl_association")
				lb := s.loadBalancerOf(t, s.serviceTargetGroup(t))
				if len(assocs) != 1 || !s.addresses(s.attr(t, assocs[0], "web_acl_arn"), acl, "arn") ||
					!s.addresses(s.attr(t, assocs[0], "resource_arn"), lb, "arn") {
					t.Errorf("the web ACL is not associated with the service's load balancer (%d associations)", len(assocs))
				}
			}
			if got := len(s.blocks(t, s.nested(t, acl, "default_action"), "allow")); got != 1 {
				t.Error("the web ACL's default action is not allow: it would block everything the rule does not")
			}

			rule := s.rateRule(t, acl)
			rb := s.nested(t, rule, "statement", "rate_based_statement")
			if got := s.str(t, rb, "aggregate_key_type"); got != "IP" {
				t.Errorf("rate rule aggregates by %q, want IP (per client address)", got)
			}
			if got := s.num(t, rb, "limit"); got != 1234 {
				t.Errorf("rate rule limit %v, want waf_auth_rate_limit 1234", got)
			}
			if got := s.num(t, rb, "evaluation_window_sec"); got != 120 {
				t.Errorf("rate rule window %v, want waf_auth_rate_window 120", got)
			}
			bm := s.nested(t, rb, "scope_down_statement", "byte_match_statement")
			search := s.str(t, bm, "search_string")
			if len(s.blocks(t, s.nested(t, bm, "field_to_match"), "uri_path")) != 1 || s.str(t, bm, "positional_constraint") != "STARTS_WITH" {
				t.Errorf("the rate rule's scope is not the URI path starting with %q", search)
			}
			media := strings.NewReplacer("{sub}", "alice", "*", "x.m3u8").Replace(s.vars["media_path"].AsString())
			if search == "" || !strings.HasPrefix(handlers.MediaCookiesPath, search) || strings.HasPrefix(media, search) {
				t.Errorf("the rate rule counts paths starting with %q: want %s counted and the media (%s) not", search, handlers.MediaCookiesPath, media)
			}
			if len(s.blocks(t, bm, "text_transformation")) == 0 {
				t.Error("the byte match has no text_transformation (AWS WAF requires one)")
			}
			if v := s.attr(t, s.nested(t, rule, "visibility_config"), "cloudwatch_metrics_enabled"); !v.IsKnown() || v.IsNull() || !v.True() {
				t.Error("the rate rule publishes no CloudWatch metrics: its alarm would never see a block")
			}

			// Past the limit: a block answered as the service answers its own 429.
			cr := s.nested(t, rule, "action", "block", "custom_response")
			if got := s.num(t, cr, "response_code"); got != float64(code) {
				t.Errorf("the rule answers %v past the limit, the service %d", got, code)
			}
			key := s.str(t, cr, "custom_response_body_key")
			var body string
			for _, b := range s.blocks(t, acl, "custom_response_body") {
				if s.str(t, b, "key") == key {
					body = s.str(t, b, "content")
				}
			}
			var p struct{ Type string }
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Type != problem {
				t.Errorf("the rule's body (key %q) %q has problem type %q, the service's 429 %q (%v)", key, body, p.Type, problem, err)
			}
		})
	}
}

// TestTerraformAlarms: the alarms watch the target group the service is
// behind, on its load balancer, and the web ACL's rate rule; they notify the
// topic of their own region, or nothing when none is set.
func TestTerraformAlarms(t *testing.T) {
	t.Parallel()
	m := loadTerraform(t)
	const (
		topic     = "arn:aws:sns:eu-west-1:123456789012:cfcookies-alarms"
		edgeTopic = "arn:aws:sns:us-east-1:123456789012:cfcookies-edge-alarms"
	)
	for _, f := range exampleFiles(t) {
		for _, topics := range []bool{false, true} {
			over := map[string]cty.Value{}
			what := "no topics"
			if topics {
				over["alarm_topic_arn"], over["edge_alarm_topic_arn"] = cty.StringVal(topic), cty.StringVal(edgeTopic)
				what = "topics"
			}
			s := m.scenario(t, f, what, over)
			t.Run(s.name, func(t *testing.T) {
				tg := s.serviceTargetGroup(t)
				lb := s.loadBalancerOf(t, tg)
				byMetric := map[string][]*hclsyntax.Block{}
				alarms := s.live(t, "resource", "aws_cloudwatch_metric_alarm")
				for _, a := range alarms {
					key := s.str(t, a, "namespace") + " " + s.str(t, a, "metric_name")
					byMetric[key] = append(byMetric[key], a)

					// Actions: the topic of the alarm's region, or none.
					want := []string{}
					if topics {
						want = []string{topic}
						if s.providerRegion(t, providerOf(t, a)) == "us-east-1" {
							want = []string{edgeTopic}
						}
					}
					for _, attr := range []string{"alarm_actions", "ok_actions"} {
						v := s.attr(t, a, attr)
						if got := ctyStrings(v); v.IsNull() || !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
							t.Errorf("alarm %s: %s %q, want %q", a.Labels[1], attr, got, want)
						}
					}
				}

				for _, c := range []struct {
					metric, stat, comparison string
					threshold                float64
					missing                  string
				}{
					{"HTTPCode_Target_5XX_Count", "Sum", "GreaterThanThreshold", 5, "notBreaching"},
					{"UnHealthyHostCount", "Maximum", "GreaterThanOrEqualToThreshold", 1, "notBreaching"},
					// No data: nothing reports the service up.
					{"HealthyHostCount", "Minimum", "LessThanThreshold", 1, "breaching"},
				} {
					as := byMetric["AWS/ApplicationELB "+c.metric]
					if len(as) != 1 {
						t.Errorf("%d alarms on %s, want 1", len(as), c.metric)
						continue
					}
					a := as[0]
					dims := s.attr(t, a, "dimensions")
					if !dims.Type().IsObjectType() || !dims.Type().HasAttribute("LoadBalancer") || !dims.Type().HasAttribute("TargetGroup") ||
						!s.addresses(dims.GetAttr("LoadBalancer"), lb, "arn_suffix") || !s.addresses(dims.GetAttr("TargetGroup"), tg, "arn_suffix") {
						t.Errorf("alarm %s: dimensions %s, want the service's load balancer and target group arn_suffix", a.Labels[1], display(dims))
					}
					if got := s.str(t, a, "statistic"); got != c.stat {
						t.Errorf("alarm %s: statistic %q, want %q", a.Labels[1], got, c.stat)
					}
					if got, th := s.str(t, a, "comparison_operator"), s.num(t, a, "threshold"); got != c.comparison || th != c.threshold {
						t.Errorf("alarm %s: %s %v, want %s %v", a.Labels[1], got, th, c.comparison, c.threshold)
					}
					if got := s.str(t, a, "treat_missing_data"); got != c.missing {
						t.Errorf("alarm %s: treat_missing_data %q, want %q", a.Labels[1], got, c.missing)
					}
				}

				// The web ACL's rate rule, in the web ACL's region.
				acl := s.webACL(t)
				as := byMetric["AWS/WAFV2 BlockedRequests"]
				if len(as) != 1 {
					t.Fatalf("%d alarms on the web ACL's BlockedRequests, want 1", len(as))
				}
				a := as[0]
				if pa, pw := providerOf(t, a), providerOf(t, acl); s.providerRegion(t, pa) != s.providerRegion(t, pw) {
					t.Errorf("the WAF alarm uses provider %s, the web ACL %s: WAF metrics are in the web ACL's region", pa, pw)
				}
				dims := s.attr(t, a, "dimensions")
				if !dims.Type().IsObjectType() || !dims.Type().HasAttribute("WebACL") || !dims.Type().HasAttribute("Rule") {
					t.Fatalf("WAF alarm dimensions %s, want WebACL and Rule", display(dims))
				}
				// The WebACL and Rule dimensions hold the metric names of the
				// web ACL's and the rule's visibility_config.
				if !s.addresses(dims.GetAttr("WebACL"), acl, "name") || s.str(t, acl, "name") != s.str(t, s.nested(t, acl, "visibility_config"), "metric_name") {
					t.Errorf("WAF alarm WebACL %s: want the web ACL's name, which must be its metric name", display(dims.GetAttr("WebACL")))
				}
				rule := s.rateRule(t, acl)
				if got, want := dims.GetAttr("Rule"), s.str(t, s.nested(t, rule, "visibility_config"), "metric_name"); !got.IsKnown() || got.IsNull() || got.AsString() != want {
					t.Errorf("WAF alarm Rule %s, want the rate rule's metric name %q", display(got), want)
				}
				// CloudFront web ACLs publish without a Region dimension.
				if hasRegion := dims.Type().HasAttribute("Region"); hasRegion != (s.str(t, acl, "scope") == "REGIONAL") {
					t.Errorf("WAF alarm on a %s web ACL has a Region dimension: %v", s.str(t, acl, "scope"), hasRegion)
				}
				if got := s.str(t, a, "treat_missing_data"); got != "notBreaching" {
					t.Errorf("WAF alarm treat_missing_data %q: WAF publishes BlockedRequests only for minutes that blocked", got)
				}
			})
		}
	}
}
