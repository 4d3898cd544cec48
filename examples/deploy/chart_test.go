package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// helmVersion is the helm the chart is rendered with, built from the Go
// module proxy (make helm builds the same into the same place).
const helmVersion = "v3.22.0"

// helm returns a helm binary: $STRATA_HELM, or the one cached under the
// user's cache directory, built there first when missing (a few
// CPU-minutes, once).
func helm(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STRATA_HELM"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "strata", "tools", "helm-"+helmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
	install.Dir = t.TempDir()
	install.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	if out, err := install.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("build helm %s (CI=true): %v\n%s", helmVersion, err, out)
		}
		t.Skipf("cannot build helm %s: %v\n%s", helmVersion, err, out)
	}
	return bin
}

// object is one rendered Kubernetes object.
type object map[string]any

// at walks a path of map keys and list indexes.
func (o object) at(path ...any) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case int:
			l, _ := cur.([]any)
			if k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func (o object) str(path ...any) string { s, _ := o.at(path...).(string); return s }

// render runs helm template on the chart with sets, returning the objects
// by kind, or helm's error.
func render(t *testing.T, sets ...string) (map[string]object, error) {
	t.Helper()
	args := []string{"template", "strata", "helm/strata", "--namespace", "infra"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm template: %v: %s", err, stderr.String())
	}
	objs := map[string]object{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var raw map[string]any // not object: yaml.v3 would decode nested maps as objects too
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template printed YAML that does not parse: %v\n%s", err, out)
		}
		if raw == nil {
			continue
		}
		o := object(raw)
		kind := o.str("kind")
		if _, dup := objs[kind]; dup {
			t.Fatalf("two %s objects", kind)
		}
		objs[kind] = o
	}
	return objs, nil
}

// TestChartRenders renders the chart with its defaults and checks what a
// cluster would run: three replicas on SQS, DynamoDB and S3, probes on
// /healthz, secrets as files from a Secret, the sandbox's security
// context, a non-root read-only container, resources, a Service, a
// ServiceMonitor and a PodDisruptionBudget that select the pods, and only
// flags strata server knows.
func TestChartRenders(t *testing.T) {
	if out, err := exec.Command(helm(t), "lint", "--strict", "helm/strata").CombinedOutput(); err != nil {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}
	objs, err := render(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "ServiceMonitor"} {
		if objs[kind] == nil {
			t.Fatalf("no %s rendered (got %v)", kind, keys(objs))
		}
	}
	d := objs["Deployment"]
	if d.at("spec", "replicas") != 3 {
		t.Errorf("replicas = %v, want 3", d.at("spec", "replicas"))
	}
	pod := object(d.at("spec", "template").(map[string]any))
	c := object(pod.at("spec", "containers", 0).(map[string]any))
	for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		if c.str(probe, "httpGet", "path") != "/healthz" || c.str(probe, "httpGet", "port") != "http" {
			t.Errorf("%s = %v, want GET /healthz on port http", probe, c.at(probe))
		}
	}
	var args []string
	for _, a := range c.at("args").([]any) {
		args = append(args, a.(string))
	}
	for _, want := range []string{"server", "--queue=sqs://strata-events.fifo", "--locks=dynamodb://strata-locks",
		"--store=s3://strata-artifacts/strata", "--replica=$(POD_NAME)", "--repo-allowlist=gitlab/acme/**",
		"--gitlab-token-file=/var/run/secrets/strata/gitlab-token", "--gitlab-webhook-secret-file=/var/run/secrets/strata/gitlab-webhook-secret"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	known := serverFlags(t)
	for _, f := range flagsIn(args) {
		if !slices.Contains(known, f) {
			t.Errorf("the chart passes --%s, which strata server does not know", f)
		}
	}
	for _, e := range c.at("env").([]any) {
		env := object(e.(map[string]any))
		if strings.Contains(env.str("name"), "TOKEN") || strings.Contains(env.str("name"), "SECRET") {
			t.Errorf("secret in the environment: %v", env)
		}
	}
	if pod.str("spec", "volumes", 3, "secret", "secretName") != "strata" || pod.at("spec", "volumes", 3, "secret", "defaultMode") != 0o400 {
		t.Errorf("secret volume %v, want Secret strata mounted 0400", pod.at("spec", "volumes", 3))
	}
	for path, want := range map[string]any{
		"securityContext.runAsNonRoot": true, "securityContext.runAsUser": 10001,
		"securityContext.seccompProfile.type": "Unconfined", "securityContext.appArmorProfile.type": "Unconfined",
		"hostUsers": false, "automountServiceAccountToken": false, "terminationGracePeriodSeconds": 150,
	} {
		if got := pod.at(append([]any{"spec"}, anyPath(path)...)...); got != want {
			t.Errorf("pod %s = %v, want %v", path, got, want)
		}
	}
	for path, want := range map[string]any{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "procMount": "Unmasked", "capabilities.drop.0": "ALL",
	} {
		if got := c.at(append([]any{"securityContext"}, anyPath(path)...)...); got != want {
			t.Errorf("container securityContext.%s = %v, want %v", path, got, want)
		}
	}
	if c.at("resources", "requests", "cpu") == nil || c.at("resources", "limits", "memory") == nil {
		t.Errorf("resources %v, want requests and a memory limit", c.at("resources"))
	}

	labels := pod.at("metadata", "labels").(map[string]any)
	selects := func(what string, sel any) {
		t.Helper()
		m, _ := sel.(map[string]any)
		if len(m) == 0 {
			t.Errorf("%s selects nothing", what)
		}
		for k, v := range m {
			if labels[k] != v {
				t.Errorf("%s selects %s=%v, which the pods (%v) lack", what, k, v, labels)
			}
		}
	}
	svc := objs["Service"]
	selects("the Service", svc.at("spec", "selector"))
	if svc.str("spec", "ports", 0, "name") != "http" || svc.str("spec", "ports", 0, "targetPort") != "http" {
		t.Errorf("Service ports %v", svc.at("spec", "ports"))
	}
	pdb := objs["PodDisruptionBudget"]
	selects("the PodDisruptionBudget", pdb.at("spec", "selector", "matchLabels"))
	if pdb.at("spec", "maxUnavailable") != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable %v, want 1", pdb.at("spec", "maxUnavailable"))
	}
	sm := objs["ServiceMonitor"]
	for k, v := range sm.at("spec", "selector", "matchLabels").(map[string]any) {
		if svc.at("metadata", "labels", k) != v {
			t.Errorf("the ServiceMonitor selects %s=%v, which the Service lacks", k, v)
		}
	}
	if sm.str("spec", "endpoints", 0, "port") != "http" || sm.str("spec", "endpoints", 0, "path") != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %v, want port http, /metrics", sm.at("spec", "endpoints"))
	}
	if pod.str("spec", "serviceAccountName") != objs["ServiceAccount"].str("metadata", "name") {
		t.Errorf("the pods run as %q, the chart makes %q", pod.str("spec", "serviceAccountName"), objs["ServiceAccount"].str("metadata", "name"))
	}
}

// TestChartValues: IRSA annotations reach the ServiceAccount; the
// ServiceMonitor and the PodDisruptionBudget can be left out; with the
// sandbox off the pod keeps the runtime's default profile and the host's
// user namespace; a chart without a queue does not render.
func TestChartValues(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/strata"
	objs, err := render(t, `serviceAccount.annotations.eks\.amazonaws\.com/role-arn=`+role,
		"serviceMonitor.enabled=false", "podDisruptionBudget.enabled=false", "sandbox.mode=off",
		"replicaCount=5", "aws.endpointURL=http://aws.internal:4566", "secrets.notifyWebhookKey=notify")
	if err != nil {
		t.Fatal(err)
	}
	if got := objs["ServiceAccount"].str("metadata", "annotations", "eks.amazonaws.com/role-arn"); got != role {
		t.Errorf("ServiceAccount role-arn annotation = %q, want %s", got, role)
	}
	if objs["ServiceMonitor"] != nil || objs["PodDisruptionBudget"] != nil {
		t.Error("ServiceMonitor or PodDisruptionBudget rendered while disabled")
	}
	d := objs["Deployment"]
	pod := object(d.at("spec", "template", "spec").(map[string]any))
	if d.at("spec", "replicas") != 5 || pod.at("hostUsers") != nil || pod.str("securityContext", "seccompProfile", "type") != "RuntimeDefault" ||
		pod.at("containers", 0, "securityContext", "procMount") != nil {
		t.Errorf("with the sandbox off: replicas %v, hostUsers %v, seccomp %v, procMount %v", d.at("spec", "replicas"),
			pod.at("hostUsers"), pod.at("securityContext", "seccompProfile"), pod.at("containers", 0, "securityContext", "procMount"))
	}
	env := map[string]any{}
	for _, e := range pod.at("containers", 0, "env").([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)] = m
	}
	if e, _ := env["AWS_ENDPOINT_URL"].(map[string]any); e["value"] != "http://aws.internal:4566" {
		t.Errorf("AWS_ENDPOINT_URL = %v", env["AWS_ENDPOINT_URL"])
	}
	if e, _ := env["STRATA_NOTIFY_WEBHOOK"].(map[string]any); object(e).str("valueFrom", "secretKeyRef", "key") != "notify" {
		t.Errorf("STRATA_NOTIFY_WEBHOOK = %v, want a reference to the Secret", env["STRATA_NOTIFY_WEBHOOK"])
	}
	if _, err := render(t, "aws.queue="); err == nil || !strings.Contains(err.Error(), "aws.queue is required") {
		t.Errorf("render without a queue: %v", err)
	}
}

// anyPath splits "a.b.0" into the keys and indexes of object.at.
func anyPath(dotted string) []any {
	var out []any
	for _, p := range strings.Split(dotted, ".") {
		if i, err := strconv.Atoi(p); err == nil {
			out = append(out, i)
		} else {
			out = append(out, p)
		}
	}
	return out
}

func keys(m map[string]object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
