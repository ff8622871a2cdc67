package memstore

import (
	"math"
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

func TestEveryOrgEpochComesBackAsStored(t *testing.T) {
	for _, epoch := range []int64{0, 1, -1, 41, math.MaxInt32, math.MinInt32 + 1, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64} {
		for _, attrs := range []map[string]any{nil, {"team": "blue"}} {
			sess := embedsso.Session{User: embedsso.User{ID: "u", OrgID: "o", Attributes: attrs}, OrgEpoch: epoch}
			st := storeSession(&sess)
			got := st.session("")
			assert.Equal(t, epoch, got.OrgEpoch, "epoch %d, attributes %v", epoch, attrs)
			assert.Equal(t, attrs, got.User.Attributes, "epoch %d", epoch)
		}
	}
	// The epoch is interned with the user's strings: sessions of one user
	// under two epochs keep their own.
	u := embedsso.User{ID: "u", OrgID: "o", Email: "u@example.com"}
	before, after := embedsso.Session{User: u, OrgEpoch: 1}, embedsso.Session{User: u, OrgEpoch: 2}
	a, b := storeSession(&before), storeSession(&after)
	assert.Equal(t, int64(1), a.session("").OrgEpoch)
	assert.Equal(t, int64(2), b.session("").OrgEpoch)
}

// endedAt decides on the stored numbers what the times fill builds would
// decide: ended once the absolute or a set idle expiry is at or before now.
func TestEndedAtAgreesWithTheSessionsTimes(t *testing.T) {
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 678901234, time.UTC)
	early := time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)
	var times []time.Time
	for _, base := range []time.Time{t0, early, time.Unix(0, 0).UTC()} {
		for _, d := range []time.Duration{-time.Second, -1, 0, 1, time.Second, 999999999} {
			times = append(times, base.Add(d), base.Add(d).Local())
		}
	}
	ended := func(s embedsso.Session, now time.Time) bool {
		return !s.ExpiresAt.After(now) || !s.IdleExpiresAt.IsZero() && !s.IdleExpiresAt.After(now)
	}
	checked := 0
	for _, expires := range times {
		for _, idle := range append([]time.Time{{}, time.Time{}.Local()}, times...) {
			sess := embedsso.Session{ExpiresAt: expires, IdleExpiresAt: idle}
			st := storeSession(&sess)
			for _, now := range times {
				require.Equal(t, ended(sess, now), st.endedAt(now), "expires %v, idle %v, now %v", expires, idle, now)
				checked++
			}
		}
	}
	assert.Greater(t, checked, 10000)
}

// session is the stored session as a Session whose IDHash is idHash, as
// FindSession fills it in.
func (st *storedSession) session(idHash string) embedsso.Session {
	var s embedsso.Session
	st.fill(&s, idHash)
	return s
}
