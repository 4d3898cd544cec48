package ui

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a signed-in user may do.
type Role string

// Roles: a viewer reads every page; an admin may also force-unlock.
const (
	RoleViewer Role = "viewer"
	RoleAdmin  Role = "admin"
)

// User is someone signed in.
type User struct {
	Name string
	Role Role
}

// account is one line of the users file.
type account struct {
	hash []byte
	role Role
}

// Users are the accounts of a users file.
type Users map[string]account

// ReadUsersFile reads a users file: one account a line, NAME:HASH:ROLE,
// HASH a bcrypt hash (htpasswd -nbB NAME PASSWORD prints NAME:HASH), ROLE
// viewer or admin; blank lines and lines starting with # are skipped.
func ReadUsersFile(path string) (Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ui-users-file: %w", err)
	}
	return ParseUsers(path, data)
}

// ParseUsers parses the content of a users file named name.
func ParseUsers(name string, data []byte) (Users, error) {
	users := Users{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("%s:%d: want NAME:BCRYPT_HASH:ROLE (role viewer or admin)", name, n)
		}
		if _, err := bcrypt.Cost([]byte(parts[1])); err != nil {
			return nil, fmt.Errorf("%s:%d: the hash of %q is not a bcrypt hash (make one with htpasswd -nbB NAME PASSWORD): %v", name, n, parts[0], err)
		}
		role := Role(parts[2])
		if role != RoleViewer && role != RoleAdmin {
			return nil, fmt.Errorf("%s:%d: role %q of %q: want viewer or admin", name, n, parts[2], parts[0])
		}
		if _, dup := users[parts[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %q is listed twice", name, n, parts[0])
		}
		users[parts[0]] = account{hash: []byte(parts[1]), role: role}
	}
	return users, sc.Err()
}

// dummyHash is compared against when the user is unknown, so a sign-in
// takes as long whether the name exists or not. It is made on first use:
// a bcrypt hash costs tens of milliseconds, which every strata command
// would otherwise pay at start-up.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("strata-no-such-user"), bcrypt.DefaultCost)
	return h
})

// check returns the user whose name and password these are.
func (u Users) check(name, password string) (User, bool) {
	a, ok := u[name]
	hash := a.hash
	if !ok {
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !ok {
		return User{}, false
	}
	return User{Name: name, Role: a.role}, true
}

// ProxyAuth trusts a header set by an authenticating proxy.
type ProxyAuth struct {
	// Header names the user ("X-Forwarded-User").
	Header string
	// From are the proxy's addresses: the header of any other peer is
	// ignored.
	From []netip.Prefix
	// Admins are the users with the admin role; every other is a viewer.
	Admins []string
}

// ParsePrefixes reads CIDRs (a single address counts as /32 or /128).
func ParsePrefixes(items []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range items {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR: %v", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// user returns the user the proxy signed in, when the request comes
// from the proxy and carries the header.
func (p *ProxyAuth) user(r *http.Request) (User, bool) {
	if p == nil || p.Header == "" {
		return User{}, false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return User{}, false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return User{}, false
	}
	addr = addr.Unmap()
	if !slices.ContainsFunc(p.From, func(pr netip.Prefix) bool { return pr.Contains(addr) }) {
		return User{}, false
	}
	name := strings.TrimSpace(r.Header.Get(p.Header))
	if name == "" {
		return User{}, false
	}
	role := RoleViewer
	if slices.Contains(p.Admins, name) {
		role = RoleAdmin
	}
	return User{Name: name, Role: role}, true
}

// sessionCookie holds a signed-in user: name, role and expiry, signed
// with the session key, so any replica with the same key accepts it.
const sessionCookie = "strata_session"

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

type signer struct{ key []byte }

func (s signer) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s signer) session(u User, now time.Time) string {
	exp := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(u.Name)) + "." + string(u.Role) + "." + exp
	return payload + "." + s.mac("session", payload)
}

var errBadSession = errors.New("bad session")

func (s signer) user(cookie string, now time.Time) (User, error) {
	i := strings.LastIndexByte(cookie, '.')
	if i < 0 {
		return User{}, errBadSession
	}
	payload, sig := cookie[:i], cookie[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.mac("session", payload))) {
		return User{}, errBadSession
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return User{}, errBadSession
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || err2 != nil || now.Unix() >= exp {
		return User{}, errBadSession
	}
	return User{Name: string(name), Role: Role(parts[1])}, nil
}

// csrf is the token a signed-in user's forms carry: bound to the user
// and to the day, so a page from another site cannot post for them.
func (s signer) csrf(u User, now time.Time) string {
	return s.mac("csrf", u.Name, string(u.Role), now.UTC().Format("2006-01-02"))
}

// checkCSRF accepts today's token and yesterday's (a form left open over
// midnight).
func (s signer) checkCSRF(u User, token string, now time.Time) bool {
	for _, t := range []time.Time{now, now.Add(-24 * time.Hour)} {
		if hmac.Equal([]byte(token), []byte(s.csrf(u, t))) {
			return true
		}
	}
	return false
}
