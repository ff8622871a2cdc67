package embedsso_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forgedTicket is what a holder of an organization's secret can seal: a
// check (purpose 1) or resume (purpose 2) ticket, built here by hand from
// the format internal/ticket documents, sharing no code with the handler.
type forgedTicket struct {
	purpose     byte
	orgID       string
	secret      string
	expires     time.Time
	sessionHash [sha256.Size]byte
	email, dest string
}

func (ft forgedTicket) seal(t *testing.T) string {
	t.Helper()
	m := hmac.New(sha256.New, []byte(ft.secret))
	m.Write([]byte("embedsso cookie-check ticket v2"))
	block, err := aes.NewCipher(m.Sum(nil))
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	plain := []byte{ft.purpose}
	plain = binary.BigEndian.AppendUint32(plain, uint32(ft.expires.Unix()))
	plain = append(plain, ft.sessionHash[:]...)
	for _, s := range []string{ft.email, ft.dest} {
		plain = binary.AppendUvarint(plain, uint64(len(s)))
		plain = append(plain, s...)
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{byte(len(ft.orgID))}, ft.orgID...)
	out = append(out, nonce...)
	out = aead.Seal(out, nonce, plain, []byte(ft.orgID))
	return base64.RawURLEncoding.EncodeToString(out)
}

// signedInCookie signs claims in (secret signs them) and returns the
// session cookie's name=value pair and the SHA-256 of its value, the hash a
// ticket names its session by.
func (f *fixture) signedInCookie(t *testing.T, claims map[string]any, secret string) (string, [sha256.Size]byte) {
	t.Helper()
	w := f.get(loginURL(rawToken(hs256, claims, secret)), nil)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	pair := cookiePair(sessionCookie(w))
	_, value, _ := strings.Cut(pair, "=")
	return pair, sha256.Sum256([]byte(value))
}

// ticketAnswers are the three ways a ticket is presented: the check link
// (with the session's cookie), the resume link, and the resume button's POST.
func (f *fixture) ticketAnswers(ticket, cookie string) map[string]*http.Response {
	check := f.get("/api/sso/jwt?sso_check="+url.QueryEscape(ticket), map[string]string{"Cookie": cookie})
	offer := f.get("/api/sso/jwt?sso_resume="+url.QueryEscape(ticket), nil)
	post := f.post("/api/sso/jwt", resumeForm(ticket), nil)
	return map[string]*http.Response{"check": check.Result(), "resume offer": offer.Result(), "resume": post.Result()}
}

// Issue 16, finding 3: whoever holds an organization's secret could seal a
// ticket whose destination is another site, and the check answered it with
// a redirect there from the app's origin.
func TestATicketsDestinationIsCheckedWhenItOpens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cookie, hash := f.signedInCookie(t, f.claims(), secretABC)
	forge := func(purpose byte, dest string) string {
		return forgedTicket{purpose: purpose, orgID: "org_abc123", secret: secretABC, expires: f.now.Add(time.Minute),
			sessionHash: hash, email: "jane@example.com", dest: dest}.seal(t)
	}

	// The forger's tickets are sound: one with a local destination opens.
	ok := f.get("/api/sso/jwt?sso_check="+forge(1, "/reports"), map[string]string{"Cookie": cookie})
	require.Equal(t, http.StatusFound, ok.Code, ok.Body.String())
	require.Equal(t, "/reports", ok.Header().Get("Location"))
	require.Equal(t, http.StatusOK, f.get("/api/sso/jwt?sso_resume="+forge(2, "/reports"), nil).Code)

	for _, dest := range []string{"https://evil.example", "//evil.example", "/..//evil.example", `/\evil.example`,
		"/%2F%2Fevil.example", "javascript:alert(1)", "", "/" + strings.Repeat("a", 2048)} {
		t.Run(dest[:min(len(dest), 40)], func(t *testing.T) {
			sessions := f.store.SessionCount()
			for _, purpose := range []byte{1, 2} {
				for step, res := range f.ticketAnswers(forge(purpose, dest), cookie) {
					assert.Equal(t, http.StatusBadRequest, res.StatusCode, "%s of a purpose %d ticket", step, purpose)
					assert.Empty(t, res.Header.Get("Location"), step)
					assert.Empty(t, res.Header.Values("Set-Cookie"), step)
				}
			}
			assert.Equal(t, sessions, f.store.SessionCount(), "no session was issued")
			assert.Equal(t, string(embedsso.ErrTicketInvalid), f.lastEvent(t).Err.Code)
		})
	}
}

// graceOrgs holds one organization, org_graced, whose second secret's grace
// period ends at graceEnd, beside the fixture's organizations.
type graceOrgs struct {
	embedsso.OrgStore
	graceEnd time.Time
}

func (s *graceOrgs) FindOrg(ctx context.Context, id string) (embedsso.Org, error) {
	if id != "org_graced" {
		return s.OrgStore.FindOrg(ctx, id)
	}
	return embedsso.Org{ID: "org_graced", EmbeddingEnabled: true, DashboardURL: "/dashboard",
		Secrets: []embedsso.Secret{{KeyID: "new", Value: secretNew}, {KeyID: "old", Value: secretOld, ExpiresAt: s.graceEnd}}}, nil
}

// Issue 16, finding 3: a secret past its grace period opened tickets until
// a store purged it.
func TestATicketUnderASecretPastItsGraceOpensNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		graceEnd time.Duration // after the fixture's now
		want     int
	}{
		{"a secret in its grace period opens a ticket", time.Second, http.StatusFound},
		{"a secret whose grace period ends now opens none", 0, http.StatusBadRequest},
		{"a secret past its grace period opens none", -time.Hour, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orgs := &graceOrgs{OrgStore: newFixtureOrgs(t)}
			f := newFixture(t, func(c *embedsso.Config) { c.Orgs = orgs })
			orgs.graceEnd = f.now.Add(tc.graceEnd)
			claims := with(f.claims(), "orgId", "org_graced")
			cookie, hash := f.signedInCookie(t, claims, secretNew)
			ticket := func(purpose byte) string {
				return forgedTicket{purpose: purpose, orgID: "org_graced", secret: secretOld, expires: f.now.Add(time.Minute),
					sessionHash: hash, email: "jane@example.com", dest: "/dashboard"}.seal(t)
			}
			check := f.get("/api/sso/jwt?sso_check="+ticket(1), map[string]string{"Cookie": cookie})
			assert.Equal(t, tc.want, check.Code, check.Body.String())
			if tc.want != http.StatusFound {
				for step, res := range f.ticketAnswers(ticket(2), cookie) {
					assert.Equal(t, http.StatusBadRequest, res.StatusCode, step)
					assert.Empty(t, res.Header.Values("Set-Cookie"), step)
				}
				assert.Equal(t, 1, f.store.SessionCount(), "only the sign-in made a session")
				// Nor does it verify a token (see TestHandlerIgnoresExpiredSecrets).
				old := f.get(loginURL(rawToken(hs256, with(claims, "email", "sam@example.com"), secretOld)), nil)
				assert.Equal(t, http.StatusUnauthorized, old.Code)
			}
		})
	}
}
