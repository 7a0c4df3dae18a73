package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// auditCodesInSource finds every audit action code the product's Go source writes: string
// literals given to a field named Action (or ending in Action) and assigned to a variable
// named action. A code built at run time cannot be checked, so it is reported as a problem.
// actionCode is the shape of an audit action code: "connection.created", "booking_link.revoked".
var actionCode = regexp.MustCompile(`^[a-z_]+\.[a-z_.]+$`)

func auditCodesInSource(t *testing.T, root string) (codes map[string]string, dynamic []string) {
	t.Helper()
	codes = map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "vendor" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		isAction := func(name string) bool { return name == "action" || strings.HasSuffix(name, "Action") }
		note := func(e ast.Expr) {
			if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil {
					codes[v] = fset.Position(lit.Pos()).String()
				}
				return
			}
			dynamic = append(dynamic, fset.Position(e.Pos()).String())
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && isAction(k.Name) {
							// Action: action (or k.createdAction) passes a variable or field whose
							// literals are noted where assigned.
							if named(kv.Value, isAction) {
								continue
							}
							note(kv.Value)
						}
					}
				}
			case *ast.CallExpr:
				// audit(ctx, actor, "booking_link.revoked", ...): helpers that take the code as
				// a parameter named action are called with the literal.
				var name string
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if name == "audit" {
					for _, arg := range n.Args {
						if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if v, err := strconv.Unquote(lit.Value); err == nil && actionCode.MatchString(v) {
								codes[v] = fset.Position(lit.Pos()).String()
							}
						}
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if id, ok := lhs.(*ast.Ident); ok && id.Name == "action" && i < len(n.Rhs) && !named(n.Rhs[i], isAction) {
						note(n.Rhs[i])
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes, dynamic
}

// named says whether e is a variable or field whose name passes is.
func named(e ast.Expr, is func(string) bool) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return is(e.Name)
	case *ast.SelectorExpr:
		return is(e.Sel.Name)
	}
	return false
}

func TestEveryAuditActionCodeHasWords(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from internal/web: %v", err)
	}
	codes, dynamic := auditCodesInSource(t, root)
	if len(codes) < 20 {
		t.Fatalf("found only %d audit action codes in the source; the scan is broken: %v", len(codes), codes)
	}
	for _, at := range dynamic {
		t.Errorf("%s: an audit action code built at run time; write it as a literal so its words can be checked", at)
	}
	for code, at := range codes {
		if _, ok := auditWords[code]; !ok {
			t.Errorf("%s: audit action %q has no words in auditWords (internal/web/audit.go)", at, code)
		}
	}
	for code := range auditWords {
		if _, ok := codes[code]; !ok {
			t.Errorf("auditWords says %q, which nothing writes any more", code)
		}
	}
}

func TestTheActivityTableSaysWhatHappenedInWords(t *testing.T) {
	for code, words := range auditWords {
		if words == "" || words == code || strings.ContainsAny(words, "._") {
			t.Errorf("audit action %q reads %q: say it in words", code, words)
		}
	}
	if got := auditAction("mapping.location_mapped"); got != "Location mapped to an EMIS site" {
		t.Errorf("auditAction(mapping.location_mapped) = %q", got)
	}
}
