package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
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
// the string "aws_s3_bucket.media.arn" or "data.aws_region.current.id", and
// so does an instance of a resource with count, as
// "aws_kms_key.signing[0].arn", for as many instances as its count makes in
// this scenario (an index beyond them is an error, as in a plan); an
// instance of a for_each resource is unknown.
type tfScenario struct {
	name   string // the tfvars file's base name, and the overrides' description
	m      *tfModule
	vars   map[string]cty.Value
	locals map[string]cty.Value
}

// exampleFiles are deploy/terraform/examples/*.tfvars.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(terraformDir, "examples", "*.tfvars"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example tfvars: %v", err)
	}
	return files
}

// scenarios returns one scenario per deploy/terraform/examples/*.tfvars.
func (m *tfModule) scenarios(t *testing.T) []*tfScenario {
	t.Helper()
	var out []*tfScenario
	for _, f := range exampleFiles(t) {
		out = append(out, m.scenario(t, f, "", nil))
	}
	return out
}

// scenario evaluates the module with the variables of tfvars, then
// overrides; the scenario is named after tfvars, then what.
func (m *tfModule) scenario(t *testing.T, tfvars, what string, overrides map[string]cty.Value) *tfScenario {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(tfvars), ".tfvars")
	if what != "" {
		name += "/" + what
	}
	s := &tfScenario{name: name, m: m, vars: map[string]cty.Value{}, locals: map[string]cty.Value{}}
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
	for name, v := range overrides {
		if len(m.find("variable", name)) == 0 {
			t.Fatalf("override of %s, which the module does not declare", name)
		}
		s.vars[name] = v
	}
	for _, b := range m.find("variable") {
		name := b.Labels[0]
		v, ok := s.vars[name]
		if !ok {
			t.Fatalf("%s gives no value for var.%s, which has no default", tfvars, name)
		}
		// As Terraform does: {} is an empty map(string), not an object.
		if a, ok := b.Body.Attributes["type"]; ok {
			ty, diags := typeexpr.TypeConstraint(a.Expr)
			if diags.HasErrors() {
				t.Fatalf("variable %s type: %v", name, diags)
			}
			cv, err := convert.Convert(v, ty)
			if err != nil {
				t.Fatalf("%s: var.%s is not a %s: %v", s.name, name, ty.FriendlyName(), err)
			}
			s.vars[name] = cv
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
		errs := map[string]hcl.Diagnostics{}
		for name, expr := range pending {
			v, diags := s.try(expr)
			if diags.HasErrors() {
				errs[name] = diags
				continue
			}
			s.locals[name] = v
			delete(pending, name)
			progress = true
		}
		if !progress {
			t.Fatalf("%s: cannot evaluate locals %v: %v", s.name, keysOf(pending), errs)
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
	"can":        tryfunc.CanFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"compact":    stdlib.CompactFunc,
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"distinct":   stdlib.DistinctFunc,
	"endswith":   affixFunc(strings.HasSuffix),
	"flatten":    stdlib.FlattenFunc,
	"floor":      stdlib.FloorFunc,
	"join":       stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"keys":       stdlib.KeysFunc,
	"length":     stdlib.LengthFunc,
	"lower":      stdlib.LowerFunc,
	"merge":      stdlib.MergeFunc,
	"regex":      stdlib.RegexFunc,
	"sort":       stdlib.SortFunc,
	"startswith": affixFunc(strings.HasPrefix),
	"trimsuffix": stdlib.TrimSuffixFunc,
	"upper":      stdlib.UpperFunc,
	"values":     stdlib.ValuesFunc,
}

// affixFunc is Terraform's startswith or endswith (string, affix): not in
// cty's standard library.
func affixFunc(has func(s, affix string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "string", Type: cty.String}, {Name: "affix", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(has(args[0].AsString(), args[1].AsString())), nil
		},
	})
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
		rest := tr[1:]
		for len(rest) > 0 && len(names) < n {
			a, ok := rest[0].(hcl.TraverseAttr)
			if !ok {
				break
			}
			names = append(names, a.Name)
			rest = rest[1:]
		}
		if len(names) == n-1 && len(rest) > 0 {
			if _, indexed := rest[0].(hcl.TraverseIndex); indexed {
				in, diags := s.instances(refs, names)
				if diags.HasErrors() {
					return cty.DynamicVal, diags
				}
				if in != nil {
					if len(rest) > 1 {
						if a, ok := rest[1].(hcl.TraverseAttr); ok {
							in.attrs[a.Name] = true
						}
					}
					continue
				}
			}
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

// instances stands for the instances of a resource or data source with
// count: a tuple of count objects, each with the attributes referred to, as
// their own addresses.
type instances struct {
	address string // type.name or data.type.name
	count   int
	attrs   map[string]bool
}

// instances records in refs the instances of the block names (type, name or
// data, type, name) designates, nil when it has no count or its count is
// unknown.
func (s *tfScenario) instances(refs map[string]any, names []string) (*instances, hcl.Diagnostics) {
	var bs []*hclsyntax.Block
	if names[0] == "data" {
		bs = s.m.find("data", names[1:]...)
	} else {
		bs = s.m.find("resource", names...)
	}
	if len(bs) != 1 {
		return nil, nil
	}
	a, ok := bs[0].Body.Attributes["count"]
	if !ok {
		return nil, nil
	}
	v, diags := s.try(a.Expr)
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.IsKnown() || v.IsNull() || !v.Type().Equals(cty.Number) {
		return nil, nil
	}
	count, _ := v.AsBigFloat().Int64()

	cur := refs
	for _, name := range names[:len(names)-1] {
		next, ok := cur[name].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[name] = next
		}
		cur = next
	}
	last := names[len(names)-1]
	in, ok := cur[last].(*instances)
	if !ok {
		in = &instances{address: strings.Join(names, "."), count: int(count), attrs: map[string]bool{}}
		cur[last] = in
	}
	return in, nil
}

// setRef records names (type, name[, attr]) in refs: the attribute as its
// own address, or an unknown value for an instance (type.name[index]).
func setRef(refs map[string]any, names []string, n int) {
	cur := refs
	for _, name := range names[:len(names)-1] {
		next, ok := cur[name].(map[string]any)
		if !ok {
			switch cur[name].(type) {
			case cty.Value, *instances:
				return
			}
			next = map[string]any{}
			cur[name] = next
		}
		cur = next
	}
	last := names[len(names)-1]
	if len(names) < n {
		switch cur[last].(type) {
		case map[string]any, *instances:
		default:
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
	case *instances:
		if v.count == 0 {
			return cty.EmptyTupleVal
		}
		var elems []cty.Value
		for i := range v.count {
			attrs := map[string]cty.Value{}
			for a := range v.attrs {
				attrs[a] = cty.StringVal(fmt.Sprintf("%s[%d].%s", v.address, i, a))
			}
			elems = append(elems, cty.ObjectVal(attrs))
		}
		return cty.TupleVal(elems)
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

// resourceAddress matches a value that stands for a resource or data source
// attribute, of an instance or not: its type, name and attribute.
var resourceAddress = regexp.MustCompile(`^(data\.)?(aws_[a-z0-9_]+)\.([a-z0-9_-]+)(?:\[[0-9]+\])?\.([a-z0-9_]+)$`)

// address resolves a value standing for an attribute ("data.T.N.id",
// "T.N[0].arn") to its block.
func (s *tfScenario) address(v cty.Value) *hclsyntax.Block {
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		return nil
	}
	m := resourceAddress.FindStringSubmatch(v.AsString())
	if m == nil {
		return nil
	}
	kind := "resource"
	if m[1] != "" {
		kind = "data"
	}
	if bs := s.m.find(kind, m[2], m[3]); len(bs) == 1 {
		return bs[0]
	}
	return nil
}
