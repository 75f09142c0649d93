package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// terraformDir is the module the tests read.
var terraformDir = filepath.Join("terraform")

// tfModule is deploy/terraform, parsed.
type tfModule struct {
	blocks []*hclsyntax.Block // top-level blocks of every .tf file
}

func loadTerraform(t *testing.T) *tfModule {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(terraformDir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s: %v", terraformDir, err)
	}
	p := hclparse.NewParser()
	m := &tfModule{}
	for _, f := range files {
		file, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		m.blocks = append(m.blocks, file.Body.(*hclsyntax.Body).Blocks...)
	}
	return m
}

// find returns the top-level blocks of type typ whose labels start with labels.
func (m *tfModule) find(typ string, labels ...string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.blocks {
		if b.Type == typ && len(b.Labels) >= len(labels) && slices.Equal(b.Labels[:len(labels)], labels) {
			out = append(out, b)
		}
	}
	return out
}

// one returns the single top-level block typ with exactly labels.
func (m *tfModule) one(t *testing.T, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	bs := m.find(typ, labels...)
	if len(bs) != 1 {
		t.Fatalf("%d %s %q blocks, want 1", len(bs), typ, labels)
	}
	return bs[0]
}

// tfScenario evaluates the module's expressions as a plan with one set of
// variables would. A resource or data source attribute stands for itself, as
// the string "aws_s3_bucket.media.arn" or "data.aws_region.current.id"; an
// instance of a counted resource is unknown.
type tfScenario struct {
	name   string // the tfvars file's base name
	m      *tfModule
	vars   map[string]cty.Value
	locals map[string]cty.Value
}

// scenarios returns one scenario per deploy/terraform/examples/*.tfvars.
func (m *tfModule) scenarios(t *testing.T) []*tfScenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(terraformDir, "examples", "*.tfvars"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example tfvars: %v", err)
	}
	var out []*tfScenario
	for _, f := range files {
		out = append(out, m.scenario(t, f))
	}
	return out
}

func (m *tfModule) scenario(t *testing.T, tfvars string) *tfScenario {
	t.Helper()
	s := &tfScenario{name: strings.TrimSuffix(filepath.Base(tfvars), ".tfvars"), m: m, vars: map[string]cty.Value{}, locals: map[string]cty.Value{}}
	for _, b := range m.find("variable") {
		if d, ok := b.Body.Attributes["default"]; ok {
			v, diags := d.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %s default: %v", b.Labels[0], diags)
			}
			s.vars[b.Labels[0]] = v
		}
	}
	src, err := os.ReadFile(tfvars)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, tfvars, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, a := range f.Body.(*hclsyntax.Body).Attributes {
		if len(m.find("variable", name)) == 0 {
			t.Errorf("%s sets %s, which the module does not declare", tfvars, name)
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", tfvars, diags)
		}
		s.vars[name] = v
	}
	for _, b := range m.find("variable") {
		if _, ok := s.vars[b.Labels[0]]; !ok {
			t.Fatalf("%s gives no value for var.%s, which has no default", tfvars, b.Labels[0])
		}
	}

	// Locals may refer to each other: evaluate them until none is left.
	pending := map[string]hcl.Expression{}
	for _, b := range m.find("locals") {
		for name, a := range b.Body.Attributes {
			pending[name] = a.Expr
		}
	}
	for len(pending) > 0 {
		progress := false
		var lastErr hcl.Diagnostics
		for name, expr := range pending {
			v, diags := s.try(expr)
			if diags.HasErrors() {
				lastErr = diags
				continue
			}
			s.locals[name] = v
			delete(pending, name)
			progress = true
		}
		if !progress {
			t.Fatalf("%s: cannot evaluate locals %v: %v", s.name, keysOf(pending), lastErr)
		}
	}
	return s
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// functions are the Terraform functions the evaluated expressions use.
var functions = map[string]function.Function{
	"coalesce":   stdlib.CoalesceFunc,
	"compact":    stdlib.CompactFunc,
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"distinct":   stdlib.DistinctFunc,
	"flatten":    stdlib.FlattenFunc,
	"join":       stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"keys":       stdlib.KeysFunc,
	"length":     stdlib.LengthFunc,
	"lower":      stdlib.LowerFunc,
	"merge":      stdlib.MergeFunc,
	"sort":       stdlib.SortFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"upper":      stdlib.UpperFunc,
	"values":     stdlib.ValuesFunc,
}

// try evaluates expr, failing when it refers to a local not evaluated yet.
func (s *tfScenario) try(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	refs := map[string]any{}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		switch root {
		case "var", "local", "each", "count", "path", "terraform", "self":
			continue
		}
		// type.name.attr, or data.type.name.attr: the attribute stands for itself.
		n := 3
		if root == "data" {
			n = 4
		}
		names := []string{root}
		for _, step := range tr[1:] {
			a, ok := step.(hcl.TraverseAttr)
			if !ok || len(names) == n {
				break
			}
			names = append(names, a.Name)
		}
		setRef(refs, names, n)
	}
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(s.vars),
		"local": cty.ObjectVal(s.locals),
	}
	for k, v := range refs {
		vars[k] = toCty(v)
	}
	return expr.Value(&hcl.EvalContext{Variables: vars, Functions: functions})
}

// setRef records names (type, name[, attr]) in refs: the attribute as its
// own address, or an unknown value for an instance (type.name[index]).
func setRef(refs map[string]any, names []string, n int) {
	cur := refs
	for _, name := range names[:len(names)-1] {
		next, ok := cur[name].(map[string]any)
		if !ok {
			if _, unknown := cur[name].(cty.Value); unknown {
				return
			}
			next = map[string]any{}
			cur[name] = next
		}
		cur = next
	}
	last := names[len(names)-1]
	if len(names) < n {
		if _, ok := cur[last].(map[string]any); !ok {
			cur[last] = cty.DynamicVal
		}
		return
	}
	cur[last] = strings.Join(names, ".")
}

func toCty(v any) cty.Value {
	switch v := v.(type) {
	case string:
		return cty.StringVal(v)
	case cty.Value:
		return v
	case map[string]any:
		attrs := map[string]cty.Value{}
		for k, e := range v {
			attrs[k] = toCty(e)
		}
		return cty.ObjectVal(attrs)
	}
	panic("unreachable")
}

// eval evaluates expr or fails the test.
func (s *tfScenario) eval(t *testing.T, expr hcl.Expression) cty.Value {
	t.Helper()
	v, diags := s.try(expr)
	if diags.HasErrors() {
		t.Fatalf("%s: %v", s.name, diags)
	}
	return v
}

// attr is the value of b's attribute name, null when b does not set it.
func (s *tfScenario) attr(t *testing.T, b *hclsyntax.Block, name string) cty.Value {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return s.eval(t, a.Expr)
}

// str is a known string attribute, "" when absent, null or unknown.
func (s *tfScenario) str(t *testing.T, b *hclsyntax.Block, name string) string {
	t.Helper()
	v := s.attr(t, b, name)
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		return ""
	}
	return v.AsString()
}

// strs is a known list of strings; unknown elements are "?".
func (s *tfScenario) strs(t *testing.T, b *hclsyntax.Block, name string) []string {
	t.Helper()
	return ctyStrings(s.attr(t, b, name))
}

func ctyStrings(v cty.Value) []string {
	if v.IsNull() || !v.IsKnown() || !v.CanIterateElements() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsKnown() && !e.IsNull() && e.Type().Equals(cty.String) {
			out = append(out, e.AsString())
		} else {
			out = append(out, "?")
		}
	}
	return out
}

// blocks returns b's nested blocks of type typ, dynamic ones expanded as
// their for_each says in this scenario.
func (s *tfScenario) blocks(t *testing.T, b *hclsyntax.Block, typ string) []*hclsyntax.Block {
	t.Helper()
	var out []*hclsyntax.Block
	for _, nb := range b.Body.Blocks {
		switch {
		case nb.Type == typ:
			out = append(out, nb)
		case nb.Type == "dynamic" && len(nb.Labels) == 1 && nb.Labels[0] == typ:
			n := s.attr(t, nb, "for_each").LengthInt()
			for _, content := range nb.Body.Blocks {
				if content.Type != "content" {
					continue
				}
				for range n {
					out = append(out, &hclsyntax.Block{Type: typ, Body: content.Body})
				}
			}
		}
	}
	return out
}

// count is how many instances a top-level resource has in this scenario.
func (s *tfScenario) count(t *testing.T, b *hclsyntax.Block) int {
	t.Helper()
	if _, ok := b.Body.Attributes["count"]; ok {
		n, _ := s.attr(t, b, "count").AsBigFloat().Int64()
		return int(n)
	}
	if _, ok := b.Body.Attributes["for_each"]; ok {
		return s.attr(t, b, "for_each").LengthInt()
	}
	return 1
}

// refersTo reports whether an attribute of b refers to a resource or data
// source of type typ, and returns the first such block.
func (s *tfScenario) refersTo(b *hclsyntax.Block, attr, typ string) *hclsyntax.Block {
	a, ok := b.Body.Attributes[attr]
	if !ok {
		return nil
	}
	for _, tr := range a.Expr.Variables() {
		var names []string
		for _, step := range tr {
			switch st := step.(type) {
			case hcl.TraverseRoot:
				names = append(names, st.Name)
			case hcl.TraverseAttr:
				names = append(names, st.Name)
			}
		}
		switch {
		case len(names) >= 2 && names[0] == typ:
			if bs := s.m.find("resource", typ, names[1]); len(bs) == 1 {
				return bs[0]
			}
		case len(names) >= 3 && names[0] == "data" && names[1] == typ:
			if bs := s.m.find("data", typ, names[2]); len(bs) == 1 {
				return bs[0]
			}
		}
	}
	return nil
}

// address resolves a value standing for an attribute ("data.T.N.id") to
// its block.
func (s *tfScenario) address(v cty.Value) *hclsyntax.Block {
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		return nil
	}
	parts := strings.Split(v.AsString(), ".")
	switch {
	case len(parts) == 4 && parts[0] == "data":
		if bs := s.m.find("data", parts[1], parts[2]); len(bs) == 1 {
			return bs[0]
		}
	case len(parts) == 3:
		if bs := s.m.find("resource", parts[0], parts[1]); len(bs) == 1 {
			return bs[0]
		}
	}
	return nil
}
