package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMasksSecretsAsTheyAppear(t *testing.T) {
	r := New("glpat-0123456789abcdef", "hook&secret<1>", "  ")
	cases := []struct{ in, want string }{
		{"token glpat-0123456789abcdef in a log", "token [redacted] in a log"},
		{"twice: glpat-0123456789abcdef,glpat-0123456789abcdef.", "twice: [redacted],[redacted]."},
		{`{"v":"hook\u0026secret\u003c1\u003e"}`, `{"v":"[redacted]"}`},
		{`{"v":"hook&secret<1>"}`, `{"v":"[redacted]"}`},
		{"url ?s=hook%26secret%3C1%3E", "url ?s=[redacted]"},
		{"nothing here", "nothing here"},
		{"glpat-0123456789abcde", "glpat-0123456789abcde"},
	}
	for _, c := range cases {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := string(r.Bytes([]byte(c.in))); got != c.want {
			t.Errorf("Bytes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMasksSecretsSplitOverLines(t *testing.T) {
	const secret = "AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENGbPxRfiCY"
	r := New(secret)
	cases := []string{
		// A heredoc in a plan.
		"      + content = <<-EOT\n            AKIAIOSFODNN7EXAMPLE\n            wJalrXUtnFEMIK7MDENGbPxRfiCY\n        EOT\n",
		// A boxed, wrapped diagnostic.
		"│ Error: AKIAIOSFODNN7EXAMPLEwJalr\n│ XUtnFEMIK7MDENGbPxRfiCY is wrong\n",
		// JSON escapes, CRLF, diff markers.
		`{"after":"AKIAIOSFOD\nNN7EXAMPLEwJalrXU\r\ntnFEMIK7MDENGbPxRfiCY"}`,
		"+ AKIAIOSFODNN7EXAMPLEwJalrX\r\n+ UtnFEMIK7MDENGbPxRfiCY\n",
	}
	for _, in := range cases {
		got := r.String(in)
		if strings.Contains(skeleton(got), skeleton(secret)) || !strings.Contains(got, Mask) {
			t.Errorf("not masked:\n%s\n→\n%s", in, got)
		}
	}
	if got := New("deploy-0123456789-abcdefghij-XYZ").String(`"deploy-\n0123456\n789-abc\ndefghij\n-XYZ"`); got != `"[redacted]"` {
		t.Errorf("a secret whose next line starts with a dash: %s", got)
	}
	if got := r.String(`{"a":"x\\nAKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENGbPxRfiCY"}`); got != `{"a":"x\\n[redacted]"}` {
		t.Errorf("an escaped backslash before the secret: %s", got)
	}
}

func TestEnvSecrets(t *testing.T) {
	env := []string{
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_SESSION_TOKEN=FwoGZXIvYXdzEJr", "DB_PASSWORD=hunter2hunter2",
		"TF_TOKEN_app_terraform_io=abcdefghijkl", "CI_JOB_TOKEN=64_charsOfJobToken", "ARM_CLIENT_SECRET=azure-secret-1",
		"AWS_SECRET_ACCESS_KEY_SHORT=short", "GITLAB_TOKEN_FILE=/run/secrets/gitlab-token", "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "NOEQUALS",
	}
	got := EnvSecrets(env)
	want := []string{"wJalrXUtnFEMI/K7MDENG", "FwoGZXIvYXdzEJr", "hunter2hunter2", "abcdefghijkl", "64_charsOfJobToken", "azure-secret-1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("EnvSecrets = %q, want %q", got, want)
	}
}

func TestNilAndEmptyRedactorsMaskNothing(t *testing.T) {
	var r *Redactor
	if r.String("abc") != "abc" || string(r.Bytes([]byte("abc"))) != "abc" || r.Len() != 0 {
		t.Error("nil redactor changed its input")
	}
	if New().String("abcdef") != "abcdef" || New("abc").Len() != 0 {
		t.Error("empty redactor, or one with a 3-character secret, is not empty")
	}
	if r.With("secret-value").String("a secret-value") != "a [redacted]" {
		t.Error("nil.With does not mask")
	}
}

func TestBytesWithoutSecretsIsNotCopied(t *testing.T) {
	in := []byte("a plan without any secret in it")
	if out := New("glpat-0123456789abcdef").Bytes(in); &out[0] != &in[0] {
		t.Error("Bytes copied a text that held no secret")
	}
}

func TestHandlerMasksMessagesAndAttributes(t *testing.T) {
	const secret = "glpat-0123456789abcdef"
	var buf bytes.Buffer
	log := slog.New(New(secret).Handler(slog.NewJSONHandler(&buf, nil))).With("token", secret)
	log.WithGroup("g").Info("saw "+secret, "err", errors.New("GET ?t="+secret+": 401"), "n", 3,
		slog.Group("inner", "s", secret), "list", []string{secret})
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("secret in the log line: %s", out)
	}
	var entry map[string]any
	if err := json.Unmarshal(buf.Bytes(), &entry); err != nil {
		t.Fatal(err)
	}
	g := entry["g"].(map[string]any)
	if entry["msg"] != "saw [redacted]" || entry["token"] != Mask || g["err"] != "GET ?t=[redacted]: 401" || g["n"] != 3.0 {
		t.Errorf("log entry: %s", out)
	}
}

// TestPropertySecretsNeverSurvive embeds random secrets in long random
// texts, repeated, split over lines at random points (with indentation,
// gutters, CRLF or JSON escapes), and checks that none survives, in the
// text or in its JSON encoding, while texts without secrets pass through
// unchanged.
func TestPropertySecretsNeverSurvive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	breaks := []string{"\n", "\n    ", "\r\n", "\n│ ", "\n      + ", `\n`, "\n> ", "\n\t"}
	for iter := range 300 {
		secrets := make([]string, 1+rng.IntN(5))
		for i := range secrets {
			secrets[i] = randomSecret(rng)
		}
		r := New(secrets...)
		clean := randomWords(rng, 200+rng.IntN(2000))
		if got := r.String(clean); got != clean {
			t.Fatalf("iteration %d: a text without secrets changed", iter)
		}
		var b strings.Builder
		var embedded []string
		words := strings.Fields(clean)
		for i, w := range words {
			b.WriteString(w)
			b.WriteByte(" \n"[rng.IntN(2)])
			if rng.IntN(40) == 0 || i == len(words)/2 {
				s := secrets[rng.IntN(len(secrets))]
				if rng.IntN(2) == 0 {
					at := 1 + rng.IntN(len(s)-1)
					s = s[:at] + breaks[rng.IntN(len(breaks))] + s[at:]
				}
				embedded = append(embedded, s)
				b.WriteString(s)
				b.WriteByte(' ')
			}
		}
		dirty := b.String()
		js, _ := json.Marshal(dirty)
		plain, inJSON := r.String(dirty), string(r.Bytes(js))
		for _, e := range embedded {
			ej, _ := json.Marshal(e)
			if strings.Contains(plain, e) || strings.Contains(inJSON, string(ej[1:len(ej)-1])) {
				t.Fatalf("iteration %d: %q survives in\n%s\n%s", iter, e, plain, inJSON)
			}
		}
		for _, s := range secrets {
			if strings.Contains(plain, s) {
				t.Fatalf("iteration %d: secret %q survives in\n%s", iter, s, plain)
			}
		}
	}
}

// randomSecret makes a secret of letters, digits and the punctuation that
// JSON, URLs and Terraform escape. No backslash: a secret's own backslash
// next to the point where it is split reads as another escape.
func randomSecret(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz_-/+=.&<>\"%$"
	b := make([]byte, 8+rng.IntN(56))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	b[0], b[len(b)-1] = 'Q', '7' // never all lower case, so never a word
	return string(b)
}

func randomWords(rng *rand.Rand, n int) string {
	words := make([]string, n)
	for i := range words {
		w := make([]byte, 1+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		words[i] = string(w)
	}
	return strings.Join(words, " ")
}
