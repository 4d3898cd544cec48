package fakegithub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// App is the GitHub App the fake knows (see EnableApp).
type App struct {
	ID   int64
	Slug string
	// PrivateKeyPEM is the App's private key, as GitHub lets one download
	// it: PKCS#1 PEM.
	PrivateKeyPEM []byte
}

// BotLogin is the login the App's installation tokens act as.
func (a App) BotLogin() string { return a.Slug + "[bot]" }

type app struct {
	App
	key    *rsa.PrivateKey
	ttl    time.Duration
	tokens map[string]issued // installation token → what it is
}

type issued struct {
	installation int64
	expires      time.Time
}

// EnableApp registers a GitHub App with a fresh RSA key. Repositories
// whose Installation is set are covered by that installation; its tokens
// act as "<slug>[bot]" and reach only those repositories (and their
// owners' teams).
func (s *Server) EnableApp(id int64, slug string) App {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("fakegithub: " + err.Error())
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app = &app{App: App{ID: id, Slug: slug, PrivateKeyPEM: pemKey}, key: key, ttl: time.Hour, tokens: map[string]issued{}}
	s.user(slug + "[bot]")
	return s.app.App
}

// SetTokenTTL sets how long the installation tokens issued from now on
// last (GitHub: one hour).
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.ttl = d
}

// authenticate reads the Authorization header. It returns who the caller
// is (Call.Auth), and an answer when the request must stop here. Callers
// hold s.mu.
func (s *Server) authenticate(r *request) (string, *response) {
	h := r.Header.Get("Authorization")
	cred, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		cred, ok = strings.CutPrefix(h, "token ")
	}
	deny := func(status int, msg string) *response { res := message(status, msg); return &res }
	appRoute := len(r.seg) > 0 && r.seg[0] == "app" || len(r.seg) == 4 && r.seg[3] == "installation" ||
		len(r.seg) == 3 && r.seg[0] == "orgs" && r.seg[2] == "installation"
	switch {
	case !ok || cred == "":
		return "", deny(http.StatusUnauthorized, "Requires authentication")
	case cred == s.Token:
		if appRoute {
			return "token", deny(http.StatusUnauthorized, "A JSON web token could not be decoded")
		}
		r.login = s.Bot
		return "token", nil
	case s.actions[cred] != "":
		r.login, r.actions = ActionsBot, true
		if appRoute || len(r.seg) >= 3 && r.seg[0] == "repos" && !strings.EqualFold(r.seg[1]+"/"+r.seg[2], s.actions[cred]) {
			return "actions", deny(http.StatusNotFound, "Not Found")
		}
		return "actions", nil
	case s.app == nil:
		return "", deny(http.StatusUnauthorized, "Bad credentials")
	case strings.Count(cred, ".") == 2:
		if err := s.app.verify(cred, time.Now()); err != nil {
			return "", deny(http.StatusUnauthorized, err.Error())
		}
		if !appRoute {
			return "jwt", deny(http.StatusForbidden, "A JSON web token authenticates only as the App: use an installation token")
		}
		return "jwt", nil
	}
	tok, known := s.app.tokens[cred]
	switch {
	case !known || appRoute:
		return "", deny(http.StatusUnauthorized, "Bad credentials")
	case time.Now().After(tok.expires):
		return "", deny(http.StatusUnauthorized, "Bad credentials (the installation token expired)")
	}
	r.login, r.installation = s.app.BotLogin(), tok.installation
	auth := "installation:" + strconv.FormatInt(tok.installation, 10)
	if len(r.seg) >= 3 && r.seg[0] == "repos" {
		if rp := s.repos[strings.ToLower(r.seg[1]+"/"+r.seg[2])]; rp == nil || rp.Installation != tok.installation {
			return auth, deny(http.StatusNotFound, "Not Found")
		}
	}
	return auth, nil
}

// verify checks an App JWT as GitHub does: RS256 signed with the App's
// key, iss the App ID, issued no later than a minute from now, not
// expired, and valid for at most ten minutes.
func (a *app) verify(jwt string, now time.Time) error {
	parts := strings.Split(jwt, ".")
	var head struct{ Alg, Typ string }
	if err := decodeSegment(parts[0], &head); err != nil || head.Alg != "RS256" {
		return errors.New("A JSON web token could not be decoded")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&a.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return errors.New("A JSON web token could not be decoded (the signature does not match the App's public key)")
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	iat, exp := time.Unix(claims.Iat, 0), time.Unix(claims.Exp, 0)
	switch {
	case iss != strconv.FormatInt(a.ID, 10):
		return fmt.Errorf("'Issuer' claim ('iss') must be the App's ID %d", a.ID)
	case claims.Iat == 0 || iat.After(now.Add(time.Minute)):
		return errors.New("'Issued at' claim ('iat') must be an Integer representing a time in the past")
	case claims.Exp == 0 || !exp.After(now):
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	case exp.Sub(iat) > 10*time.Minute:
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// hasInstallation reports whether a repository is covered by installation
// id. Callers hold s.mu.
func (s *Server) hasInstallation(id int64) bool {
	for _, r := range s.repos {
		if r.Installation == id {
			return true
		}
	}
	return false
}

func (s *Server) getApp(*request) response {
	return reply(http.StatusOK, map[string]any{
		"id": s.app.ID, "slug": s.app.Slug, "name": s.app.Slug, "node_id": "A_" + s.app.Slug,
		"owner":    map[string]any{"login": "acme", "type": "Organization"},
		"html_url": s.URL + "/apps/" + s.app.Slug,
		"events":   []string{"pull_request", "pull_request_review", "issue_comment", "push"},
	})
}

func (s *Server) createInstallationToken(r *request) response {
	id, _ := strconv.ParseInt(r.seg[2], 10, 64)
	if !s.hasInstallation(id) {
		return notFound()
	}
	tok := "ghs_" + strings.ReplaceAll(rand.Text(), "=", "")
	exp := time.Now().Add(s.app.ttl).Truncate(time.Second)
	s.app.tokens[tok] = issued{installation: id, expires: exp}
	return reply(http.StatusCreated, map[string]any{
		"token": tok, "expires_at": githubTime(exp), "repository_selection": "selected",
		"permissions": map[string]string{"contents": "read", "pull_requests": "write", "checks": "write",
			"issues": "write", "members": "read", "statuses": "write", "metadata": "read"},
	})
}

func (s *Server) installationJSON(id int64, account string) map[string]any {
	return map[string]any{"id": id, "app_id": s.app.ID, "app_slug": s.app.Slug, "target_type": "Organization",
		"account": map[string]any{"login": account, "type": "Organization"}}
}

func (s *Server) getRepoInstallation(r *request) response {
	rp := s.repos[strings.ToLower(r.seg[1]+"/"+r.seg[2])]
	if rp == nil || rp.Installation == 0 {
		return notFound()
	}
	return reply(http.StatusOK, s.installationJSON(rp.Installation, r.seg[1]))
}

func (s *Server) getOrgInstallation(r *request) response {
	for _, rp := range s.repos {
		if rp.Installation != 0 && strings.EqualFold(strings.Split(rp.FullName, "/")[0], r.seg[1]) {
			return reply(http.StatusOK, s.installationJSON(rp.Installation, r.seg[1]))
		}
	}
	return notFound()
}
