package memstore

import (
	"testing"
	"time"

	"github.com/embedsso/embedsso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAStoredSessionComesBackAsItWasStored(t *testing.T) {
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 678901234, time.UTC)
	user := embedsso.User{ID: "usr_1", OrgID: "org_1", Email: "jane@example.com", FirstName: "Jane", LastName: "Doe",
		Role: "MEMBER", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	withExtra := user
	withExtra.Attributes, withExtra.Groups = map[string]any{"team": "blue", "n": 3.0}, []string{"eng", "ops"}
	noNames := user
	noNames.FirstName, noNames.LastName, noNames.Role = "", "", ""
	for _, tc := range []struct {
		name string
		sess embedsso.Session
	}{
		{"a user without attributes", embedsso.Session{User: user, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour), IdleExpiresAt: t0.Add(30 * time.Minute)}},
		{"a user with attributes and groups", embedsso.Session{User: withExtra, CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour)}},
		{"a user with empty names and role", embedsso.Session{User: noNames, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}},
		{"times in time.Local", embedsso.Session{User: user, CreatedAt: t0.Local(), ExpiresAt: t0.Add(time.Hour).Local(), IdleExpiresAt: t0.Add(time.Minute).Local()}},
		{"times far in the future and before 1970", embedsso.Session{User: embedsso.User{ID: "u", OrgID: "o", CreatedAt: time.Date(1601, 1, 1, 0, 0, 0, 1, time.UTC)},
			CreatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := storeSession(&tc.sess)
			want := tc.sess
			want.IDHash = "h"
			assert.Equal(t, want, st.session("h"))
		})
	}
}

func TestAStoredTimeKeepsItsInstantAndDropsTheMonotonicReading(t *testing.T) {
	now := time.Now() // in time.Local, with a monotonic reading
	zone := time.FixedZone("UTC+5", 5*3600)
	at := now.In(zone)
	st := storeSession(&embedsso.Session{CreatedAt: now, ExpiresAt: at})
	got := st.session("")
	assert.True(t, got.CreatedAt.Equal(now))
	assert.Equal(t, time.Local, got.CreatedAt.Location())
	assert.Equal(t, now.Round(0), got.CreatedAt, "only the monotonic reading is dropped")
	assert.True(t, got.ExpiresAt.Equal(at))
	assert.Equal(t, time.UTC, got.ExpiresAt.Location(), "a location other than Local comes back as UTC")
	assert.True(t, got.IdleExpiresAt.IsZero(), "the zero time comes back zero")
}

func TestSessionsOfOneUserShareOneInternedUser(t *testing.T) {
	u := embedsso.User{ID: "usr_1", OrgID: "org_1", Email: "a@b.example", Role: "MEMBER"}
	a := storeSession(&embedsso.Session{User: u})
	b := storeSession(&embedsso.Session{User: u})
	assert.Equal(t, a.user, b.user, "two sessions of one user share its strings")

	admin := u
	admin.Role = "ADMIN"
	assert.NotEqual(t, a.user, storeSession(&embedsso.Session{User: admin}).user)

	// The same bytes split differently are another user.
	x := storeSession(&embedsso.Session{User: embedsso.User{ID: "ab", OrgID: "c"}})
	y := storeSession(&embedsso.Session{User: embedsso.User{ID: "a", OrgID: "bc"}})
	require.NotEqual(t, x.user, y.user)
	assert.Equal(t, [2]string{"a", "bc"}, [2]string{y.userStrings().ID, y.userStrings().OrgID})

	// Attributes and groups are the session's own: a session with them
	// shares its user's strings, and each session gives back its own.
	withAttrs := u
	withAttrs.Attributes, withAttrs.Groups = map[string]any{"k": "v"}, []string{"g"}
	c := storeSession(&embedsso.Session{User: withAttrs})
	other := withAttrs
	other.Attributes, other.Groups = map[string]any{"k": "w"}, nil
	d := storeSession(&embedsso.Session{User: other})
	assert.Equal(t, a.user, c.user)
	assert.Equal(t, a.user, d.user)
	assert.Equal(t, withAttrs.Attributes, c.session("").User.Attributes)
	assert.Equal(t, withAttrs.Groups, c.session("").User.Groups)
	assert.Equal(t, other.Attributes, d.session("").User.Attributes)
	assert.Nil(t, d.session("").User.Groups)
	assert.Nil(t, a.session("").User.Attributes)
	assert.Nil(t, a.session("").User.Groups)
}
