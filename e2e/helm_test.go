package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/herald-notify/herald/internal/testenv"
)

// chartDir is the Helm chart, from this package's directory.
const chartDir = "../deploy/helm/herald"

// Values of a working release: one pod on SQLite, and several on
// PostgreSQL and Redis with the Prometheus Operator's resources on.
var (
	singleValues = map[string]any{
		"secrets": map[string]any{"jwtSecret": strings.Repeat("j", 32), "publisherKey": "publisher-key-0123"},
	}
	haValues = map[string]any{
		"replicaCount":   3,
		"database":       map[string]any{"url": "postgres://herald:pw@db:5432/herald"},
		"bus":            map[string]any{"url": "redis://:pw@redis:6379/0"},
		"secrets":        map[string]any{"jwtSecret": strings.Repeat("j", 32), "publisherKey": "publisher-key-0123", "nextauthSecret": strings.Repeat("n", 32)},
		"config":         map[string]any{"HERALD_QUEUE": "https://sqs.eu-west-1.amazonaws.com/1/herald", "HERALD_ROLLOUT": 5},
		"serviceMonitor": map[string]any{"enabled": true},
		"prometheusRule": map[string]any{"enabled": true},
	}
)

// valuesFile writes values as a values file and returns its path.
func valuesFile(t *testing.T, values map[string]any) string {
	t.Helper()
	b, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runHelm runs helm with args and returns stdout, stderr and the error.
func runHelm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(testenv.Helm(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// manifest is one rendered object, decoded from YAML through JSON.
type manifest struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Data       map[string]string `json:"data"`
	StringData map[string]string `json:"stringData"`
	Spec       json.RawMessage   `json:"spec"`
}

// render runs helm template with values and returns the objects by kind.
func render(t *testing.T, values map[string]any) map[string]manifest {
	t.Helper()
	out, errOut, err := runHelm(t, "template", "herald", chartDir, "--namespace", "notify", "-f", valuesFile(t, values))
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, errOut)
	}
	objs := map[string]manifest{}
	for _, doc := range strings.Split(out, "\n---") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		var m manifest
		if err := json.Unmarshal(j, &m); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, j)
		}
		if m.Kind == "" {
			continue // the empty document before the first ---
		}
		if _, dup := objs[m.Kind]; dup {
			t.Fatalf("two %s objects rendered", m.Kind)
		}
		objs[m.Kind] = m
	}
	return objs
}

// deploymentSpec is what the tests read of a Deployment.
type deploymentSpec struct {
	Replicas int `json:"replicas"`
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	Strategy struct {
		Type string `json:"type"`
	} `json:"strategy"`
	Template struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			TerminationGracePeriodSeconds int `json:"terminationGracePeriodSeconds"`
			Containers                    []struct {
				Args  []string `json:"args"`
				Ports []struct {
					Name          string `json:"name"`
					ContainerPort int    `json:"containerPort"`
				} `json:"ports"`
				ReadinessProbe probe `json:"readinessProbe"`
				LivenessProbe  probe `json:"livenessProbe"`
				Lifecycle      struct {
					PreStop struct {
						Exec struct {
							Command []string `json:"command"`
						} `json:"exec"`
					} `json:"preStop"`
				} `json:"lifecycle"`
				EnvFrom []struct {
					ConfigMapRef *struct{ Name string } `json:"configMapRef"`
					SecretRef    *struct{ Name string } `json:"secretRef"`
				} `json:"envFrom"`
			} `json:"containers"`
		} `json:"spec"`
	} `json:"template"`
}

type probe struct {
	HTTPGet struct {
		Path string `json:"path"`
		Port any    `json:"port"`
	} `json:"httpGet"`
}

func spec[T any](t *testing.T, m manifest) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Spec, &v); err != nil {
		t.Fatalf("%s spec: %v", m.Kind, err)
	}
	return v
}

func TestHelmChartLints(t *testing.T) {
	t.Parallel()
	for name, values := range map[string]map[string]any{"single": singleValues, "ha": haValues} {
		out, errOut, err := runHelm(t, "lint", "--strict", chartDir, "-f", valuesFile(t, values))
		if err != nil {
			t.Errorf("helm lint (%s): %v\n%s%s", name, err, out, errOut)
		}
	}
}

// The rendered pods are probed on /readyz and /healthz, get longer than
// the preStop sleep and the drain window to stop, keep a PodDisruptionBudget
// when there are several, and keep secrets out of the ConfigMap.
func TestHelmChartRendersProbesGraceAndBudget(t *testing.T) {
	t.Parallel()
	ha := render(t, haValues)
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget", "ServiceMonitor", "PrometheusRule"} {
		if _, ok := ha[kind]; !ok {
			t.Errorf("no %s rendered", kind)
		}
	}
	d := spec[deploymentSpec](t, ha["Deployment"])
	c := d.Template.Spec.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port != "http" {
		t.Errorf("readiness probe %+v, want /readyz on http", c.ReadinessProbe)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port != "http" {
		t.Errorf("liveness probe %+v, want /healthz on http", c.LivenessProbe)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %+v", c.Ports)
	}
	cm := ha["ConfigMap"].Data
	drain := cm["HERALD_DRAIN_TIMEOUT"]
	if drain != "30s" || cm["HERALD_ADDR"] != ":8080" || cm["HERALD_ROLLOUT"] != "5" || cm["HERALD_RETENTION"] != "90d" {
		t.Errorf("config map %v", cm)
	}
	if g := d.Template.Spec.TerminationGracePeriodSeconds; g <= 30+5 {
		t.Errorf("terminationGracePeriodSeconds %d, want more than the preStop sleep and HERALD_DRAIN_TIMEOUT (35)", g)
	}
	if cmd := c.Lifecycle.PreStop.Exec.Command; strings.Join(cmd, " ") != "sleep 5" {
		t.Errorf("preStop %v", cmd)
	}
	for _, k := range []string{"HERALD_JWT_SECRET", "HERALD_PUBLISHER_KEY", "HERALD_NEXTAUTH_SECRET", "HERALD_DB", "HERALD_BUS"} {
		if _, ok := cm[k]; ok {
			t.Errorf("%s is in the ConfigMap", k)
		}
		if ha["Secret"].StringData[k] == "" {
			t.Errorf("%s is not in the Secret", k)
		}
	}
	for v := range cm {
		if strings.Contains(cm[v], "pw@") || strings.Contains(cm[v], "publisher-key") {
			t.Errorf("a secret leaked into the ConfigMap: %s=%s", v, cm[v])
		}
	}
	if len(c.EnvFrom) != 2 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[1].SecretRef == nil {
		t.Errorf("envFrom %+v, want the ConfigMap and the Secret", c.EnvFrom)
	}
	if d.Replicas != 3 || d.Strategy.Type != "RollingUpdate" {
		t.Errorf("replicas %d, strategy %s", d.Replicas, d.Strategy.Type)
	}
	pods := d.Template.Metadata.Labels
	pdb := spec[struct {
		MinAvailable int `json:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
	}](t, ha["PodDisruptionBudget"])
	svc := spec[struct {
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			TargetPort string `json:"targetPort"`
		} `json:"ports"`
	}](t, ha["Service"])
	for what, sel := range map[string]map[string]string{"deployment": d.Selector.MatchLabels, "budget": pdb.Selector.MatchLabels, "service": svc.Selector} {
		for k, v := range sel {
			if pods[k] != v {
				t.Errorf("the %s's selector %v does not match the pods' labels %v", what, sel, pods)
			}
		}
	}
	if pdb.MinAvailable != 1 || len(svc.Ports) != 1 || svc.Ports[0].TargetPort != "http" {
		t.Errorf("budget %+v, service %+v", pdb, svc)
	}

	// Alone on SQLite: a volume, the old pod stopped before the new one,
	// and no budget (it would block every node drain).
	single := render(t, singleValues)
	if _, ok := single["PodDisruptionBudget"]; ok {
		t.Error("a PodDisruptionBudget for one replica")
	}
	if _, ok := single["PersistentVolumeClaim"]; !ok {
		t.Error("no volume for SQLite")
	}
	if d := spec[deploymentSpec](t, single["Deployment"]); d.Strategy.Type != "Recreate" {
		t.Errorf("SQLite's strategy is %s, want Recreate", d.Strategy.Type)
	}
	if db := single["ConfigMap"].Data["HERALD_DB"]; db != "sqlite:///var/lib/herald/herald.db" {
		t.Errorf("SQLite's HERALD_DB %q", db)
	}

	// A longer drain window lengthens the grace period with it.
	longer := render(t, map[string]any{"secrets": singleValues["secrets"], "drainTimeoutSeconds": 120})
	if g := spec[deploymentSpec](t, longer["Deployment"]).Template.Spec.TerminationGracePeriodSeconds; g <= 125 {
		t.Errorf("grace %d with a 120 s drain", g)
	}
	if d := longer["ConfigMap"].Data["HERALD_DRAIN_TIMEOUT"]; d != "120s" {
		t.Errorf("HERALD_DRAIN_TIMEOUT %q", d)
	}
}

// The PrometheusRule holds deploy/prometheus/alerts.yaml as it is.
func TestHelmChartAlertRulesAreTheRepositorysFile(t *testing.T) {
	t.Parallel()
	rule := render(t, haValues)["PrometheusRule"]
	file, err := os.ReadFile("../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := yaml.YAMLToJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	var got, wantV any
	if err := json.Unmarshal(rule.Spec, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantV) {
		t.Errorf("the PrometheusRule's spec differs from deploy/prometheus/alerts.yaml")
	}
	if n := len(wantV.(map[string]any)["groups"].([]any)); n == 0 {
		t.Errorf("no rule groups")
	}
}

// Values that cannot work stop helm with a line that says why.
func TestHelmChartRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	secrets := singleValues["secrets"]
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"secret in config", map[string]any{"secrets": secrets, "config": map[string]any{"HERALD_PUBLISHER_KEY": "x"}},
			"config.HERALD_PUBLISHER_KEY is a secret"},
		{"database url in config", map[string]any{"secrets": secrets, "config": map[string]any{"HERALD_DB": "postgres://u:p@h/d"}},
			"config.HERALD_DB is a secret"},
		{"sqlite with replicas", map[string]any{"secrets": secrets, "replicaCount": 2},
			"replicaCount > 1 needs a shared store"},
		{"memory bus with replicas", map[string]any{"secrets": secrets, "replicaCount": 2, "database": map[string]any{"url": "postgres://h/d"}},
			"replicaCount > 1 needs a shared bus"},
		{"grace shorter than the drain", map[string]any{"secrets": secrets, "terminationGracePeriodSeconds": 30},
			"terminationGracePeriodSeconds (30) must exceed"},
		{"no publisher key", map[string]any{"secrets": map[string]any{"jwtSecret": strings.Repeat("j", 32)}},
			"secrets.publisherKey"},
	} {
		_, errOut, err := runHelm(t, "template", "herald", chartDir, "-f", valuesFile(t, tc.values))
		if err == nil || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: err %v, stderr %q; want a refusal naming %q", tc.name, err, errOut, tc.want)
		}
	}
}
