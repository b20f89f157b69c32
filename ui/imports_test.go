package ui

import (
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// moduleSpec finds the specifier of each static import or re-export
// (`import … from "x"`, `import "x"`, `export … from "x"`) and each
// dynamic import("x") with a literal specifier.
var moduleSpec = regexp.MustCompile(`(?m)(?:^\s*(?:import|export)\b[^;"'` + "`" + `]*?\bfrom\s*|^\s*import\s*|\bimport\(\s*)["']([^"']+)["']`)

var (
	indexImportMap = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)
	indexScript    = regexp.MustCompile(`<script type="module" src="([^"]+)"`)
)

// TestEveryImportIsEmbedded fails when a module of the app imports a file
// that is not in the embedded UI, or a bare name the import map does not
// know: in the browser that is a module that never loads (the server
// answers index.html for an unknown path).
func TestEveryImportIsEmbedded(t *testing.T) {
	ui := FS()
	index, err := fs.ReadFile(ui, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	var importMap struct {
		Imports map[string]string `json:"imports"`
	}
	m := indexImportMap.FindSubmatch(index)
	if m == nil {
		t.Fatal("index.html has no import map")
	}
	if err := json.Unmarshal(m[1], &importMap); err != nil {
		t.Fatalf("index.html's import map: %v", err)
	}
	exists := func(p string) bool {
		_, err := fs.Stat(ui, strings.TrimPrefix(p, "/"))
		return err == nil
	}
	for name, target := range importMap.Imports {
		if !exists(target) {
			t.Errorf("index.html maps %q to %s, which is not embedded", name, target)
		}
	}
	entries := indexScript.FindAllSubmatch(index, -1)
	if len(entries) == 0 {
		t.Fatal("index.html loads no module")
	}
	for _, e := range entries {
		if !exists(string(e[1])) {
			t.Errorf("index.html loads %s, which is not embedded", e[1])
		}
	}

	modules, imports := 0, 0
	err = fs.WalkDir(ui, "app", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		modules++
		src, err := fs.ReadFile(ui, p)
		if err != nil {
			return err
		}
		for _, m := range moduleSpec.FindAllStringSubmatch(string(src), -1) {
			imports++
			spec := m[1]
			switch {
			case strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../"):
				if target := path.Join(path.Dir(p), spec); !exists(target) {
					t.Errorf("%s imports %q: %s is not embedded", p, spec, target)
				}
			case strings.HasPrefix(spec, "/"):
				if !exists(spec) {
					t.Errorf("%s imports %q, which is not embedded", p, spec)
				}
			default:
				if _, ok := importMap.Imports[spec]; !ok {
					t.Errorf("%s imports %q, which index.html's import map does not name", p, spec)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if modules == 0 || imports < modules {
		t.Fatalf("%d imports in %d modules under app/; the pattern reads too little", imports, modules)
	}
}
