package fault

import (
	"errors"
	"fmt"
	"testing"
)

type configError struct{}

func (configError) Error() string   { return "strata.yaml:3: unknown key" }
func (configError) Permanent() bool { return true }

func TestKinds(t *testing.T) {
	plain := errors.New("connection refused")
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"nil", nil, false},
		{"unmarked", plain, false},
		{"marked permanent", Permanent(plain), true},
		{"wrapped after marking", fmt.Errorf("plan: %w", Permanent(plain)), true},
		{"own type", fmt.Errorf("read config: %w", configError{}), true},
		{"transient around permanent", Transient(fmt.Errorf("download: %w", configError{})), false},
		{"joined", errors.Join(plain, Permanent(plain)), true},
	} {
		if got := IsPermanent(tc.err); got != tc.permanent {
			t.Errorf("%s: IsPermanent = %v, want %v", tc.name, got, tc.permanent)
		}
	}
	if Permanent(nil) != nil || Transient(nil) != nil {
		t.Error("marking nil gives an error")
	}
	if err := Permanent(plain); err.Error() != plain.Error() || !errors.Is(err, plain) {
		t.Errorf("marking changed the error: %v", err)
	}
}
