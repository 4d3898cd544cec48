package fakegithub

import (
	"crypto/rand"
	"strings"
)

// ActionsBot is the login GitHub Actions' GITHUB_TOKEN acts as.
const ActionsBot = "github-actions[bot]"

// ActionsToken issues a token as GitHub Actions gives a workflow job in
// GITHUB_TOKEN: it acts as github-actions[bot], reaches only the
// repository fullName, and is refused GET /user ("Resource not accessible
// by integration"), as every installation token is.
func (s *Server) ActionsToken(fullName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(fullName)
	s.user(ActionsBot)
	tok := "ghs_" + strings.ReplaceAll(rand.Text(), "=", "")
	s.actions[tok] = fullName
	return tok
}
