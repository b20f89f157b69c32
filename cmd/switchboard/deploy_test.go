package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The deployment files cannot run here (no Docker engine), so what can be
// checked is: docker-compose.yml parses, runs two replicas and the proxy
// on PostgreSQL with blobs in the database, every SWITCHBOARD_* setting it
// passes is one the binary reads, the Caddyfile balances over both
// replicas, and the image runs as non-root with a health check that is a
// command of ours.
func TestDeploymentFiles(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   any               `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	config, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	blobsSrc, _ := os.ReadFile("blobs.go")
	known := string(config) + string(blobsSrc)
	for _, name := range []string{"switchboard-a", "switchboard-b"} {
		svc, ok := compose.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		env := svc.Environment
		if !strings.Contains(env["DATABASE_URL"], "@db:5432/") || !strings.Contains(env["SWITCHBOARD_BLOBS"], "postgres") {
			t.Errorf("%s: database %q, blobs %q; want the db service and blobs in it", name, env["DATABASE_URL"], env["SWITCHBOARD_BLOBS"])
		}
		for k := range env {
			if strings.HasPrefix(k, "SWITCHBOARD_") && !strings.Contains(known, `"`+k+`"`) {
				t.Errorf("%s passes %s, which the binary does not read", name, k)
			}
		}
	}
	if _, ok := compose.Services["proxy"]; !ok {
		t.Error("no proxy service")
	}
	caddy, err := os.ReadFile("../../deploy/Caddyfile")
	if err != nil || !regexp.MustCompile(`reverse_proxy switchboard-a:8080 switchboard-b:8080`).Match(caddy) || !strings.Contains(string(caddy), "health_uri /readyz") {
		t.Errorf("the Caddyfile does not balance over both replicas by /readyz: %v\n%s", err, caddy)
	}
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`USER 65532:65532`, `HEALTHCHECK`, `CMD ["/switchboard", "healthcheck"]`, `CGO_ENABLED=0`} {
		if !strings.Contains(string(docker), want) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
}
