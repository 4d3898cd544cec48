package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestOperationEnv(t *testing.T) {
	plan, apply, err := operationEnv([]string{
		"STRATA_PLAN_ENV_AWS_ROLE_ARN=arn:plan", "STRATA_APPLY_ENV_AWS_ROLE_ARN=arn:apply",
		"STRATA_PLAN_ENV_AWS_PROFILE=", "STRATA_PLAN_ENV_=x", "AWS_ROLE_ARN=arn:strata",
	})
	if err != nil || !reflect.DeepEqual(plan, []string{"AWS_ROLE_ARN=arn:plan", "AWS_PROFILE="}) || !reflect.DeepEqual(apply, []string{"AWS_ROLE_ARN=arn:apply"}) {
		t.Errorf("plan %q, apply %q, %v", plan, apply, err)
	}
	_, _, err = operationEnv([]string{"STRATA_APPLY_ENV_TF_DATA_DIR=/tmp/x"})
	if err == nil || !strings.Contains(err.Error(), "STRATA_APPLY_ENV_TF_DATA_DIR: strata sets TF_DATA_DIR") {
		t.Errorf("a variable strata owns: %v", err)
	}
}

func TestSecretVarsAndURLSecrets(t *testing.T) {
	for name, want := range map[string]bool{
		"STRATA_GITLAB_TOKEN": true, "STRATA_GITLAB_WEBHOOK_SECRET": true, "STRATA_NOTIFY_WEBHOOK": true,
		"STRATA_PLAN_ENV_AWS_REGION": true, "AWS_SECRET_ACCESS_KEY": true, "STRATA_REPO_ALLOWLIST": false, "PATH": false,
	} {
		if secretVar(name) != want {
			t.Errorf("secretVar(%s) = %v, want %v", name, !want, want)
		}
	}
	got := urlSecrets("https://u:p4ss@hooks.example.com/services/T000/B000/XXXXXXXX?k=1")
	want := []string{"https://u:p4ss@hooks.example.com/services/T000/B000/XXXXXXXX?k=1", "/services/T000/B000/XXXXXXXX", "p4ss"}
	if !reflect.DeepEqual(got, want) || urlSecrets("") != nil || len(urlSecrets("https://x.example/hook")) != 1 {
		t.Errorf("urlSecrets = %q", got)
	}
}
