package forge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/strata-iac/strata/runner/forge"
)

func TestWebhookStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&forge.WebhookError{Kind: forge.ErrUnauthorized, Forge: "gitlab", Reason: "x"}, http.StatusUnauthorized},
		{&forge.WebhookError{Kind: forge.ErrBadPayload, Forge: "gitlab", Reason: "x"}, http.StatusBadRequest},
		{&forge.WebhookError{Kind: forge.ErrTooLarge, Forge: "gitlab", Reason: "x"}, http.StatusRequestEntityTooLarge},
		{&forge.WebhookError{Kind: forge.ErrIgnored, Forge: "gitlab", Reason: "x"}, http.StatusOK},
		{fmt.Errorf("queue: %w", &forge.WebhookError{Kind: forge.ErrIgnored}), http.StatusOK},
		{errors.New("disk full"), http.StatusInternalServerError},
	} {
		if got := forge.WebhookStatus(tc.err); got != tc.want {
			t.Errorf("WebhookStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	err := &forge.WebhookError{Kind: forge.ErrIgnored, Forge: "gitlab", Reason: `X-Gitlab-Event "Push Hook" is not an event strata acts on`}
	if want := `gitlab webhook: event ignored: X-Gitlab-Event "Push Hook" is not an event strata acts on`; err.Error() != want {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestAPIError(t *testing.T) {
	err := error(&forge.APIError{Op: "gitlab: merge a/b!1 at abc", Status: 409, Kind: forge.ErrHeadMoved, Message: "SHA does not match"})
	if !errors.Is(err, forge.ErrHeadMoved) || errors.Is(err, forge.ErrNotMergeable) {
		t.Error("errors.Is does not follow Kind")
	}
	if want := "gitlab: merge a/b!1 at abc: HTTP 409: merge request head moved: SHA does not match"; err.Error() != want {
		t.Errorf("Error() = %q", err.Error())
	}
	ctxErr := &forge.APIError{Op: "gitlab: get merge request a/b!1", Kind: context.Canceled}
	if !errors.Is(ctxErr, context.Canceled) || ctxErr.Error() != "gitlab: get merge request a/b!1: context canceled" {
		t.Errorf("canceled: %v", ctxErr)
	}
}

func TestApprovalsSatisfied(t *testing.T) {
	for _, tc := range []struct {
		a    forge.Approvals
		want bool
	}{
		{forge.Approvals{Approved: true}, false},
		{forge.Approvals{Approved: true, ApprovedBy: []string{"bob"}}, true},
		{forge.Approvals{Approved: false, ApprovedBy: []string{"bob"}, Required: 2, Left: 1}, false},
	} {
		if got := tc.a.Satisfied(); got != tc.want {
			t.Errorf("%+v.Satisfied() = %v", tc.a, got)
		}
	}
}
