package memstore

import (
	"time"
	"unique"

	"github.com/embedsso/embedsso"
)

// storedSession is a session as [Store] keeps it, shaped for the
// garbage collector. A collection marks every stored session, and a login's
// share of that work grows with the number of sessions kept and with the
// pointers each one holds: an [embedsso.Session] holds fourteen (seven strings, five
// times' locations, a map, a slice). Here an entry holds two: one to its
// user's strings interned with [unique.Make], which every session of the same
// user shares, and one to its attributes and groups, nil without them; the
// times are plain numbers. BenchmarkMemorySessionStoreMark measures what a
// collection costs per stored session.
type storedSession struct {
	user unique.Handle[storedUser]
	// extra holds the attributes and groups, and is nil without either. It
	// is the session's own, not interned: attributes come as a map made
	// per sign-in, which would give every such session an interned user of
	// its own, and interning costs more than it saves when nothing is
	// shared.
	extra *userExtra
	// The times' seconds and nanoseconds apart, so that each takes 12 bytes
	// rather than a padded 16.
	sec  [timeFields]int64
	nsec [timeFields]uint32
	// orgEpoch is the session's [embedsso.Session.OrgEpoch].
	orgEpoch int64
}

// storedUser is what a session holds of its user, other than times.
type storedUser struct {
	// text is the user's ID, OrgID, Email, FirstName, LastName and Role,
	// back to back; ends holds where each but the last ends.
	text string
	ends [userFields - 1]int
}

type userExtra struct {
	attributes map[string]any
	groups     []string
}

// The user's strings, in the order storedUser.text holds them.
const (
	fieldID = iota
	fieldOrgID
	fieldEmail
	fieldFirstName
	fieldLastName
	fieldRole
	userFields
)

// The times, in the order storedSession holds them.
const (
	timeUserCreated = iota
	timeUserUpdated
	timeCreated
	timeExpires
	timeIdle
	timeFields
)

// localBit marks, in a stored nanosecond count (always below 2^30), a time
// that was in time.Local.
const localBit = 1 << 31

// storeSession is s as the store keeps it, less its IDHash (the map's key).
// A time comes back as the same instant, the zero time as the zero time, a
// time in time.Local in time.Local and any other in UTC; the monotonic
// clock reading is dropped, as a database store drops it.
func storeSession(s *embedsso.Session) storedSession {
	u := &s.User
	su := storedUser{text: u.ID + u.OrgID + u.Email + u.FirstName + u.LastName + u.Role}
	n := 0
	for i, f := range [...]string{u.ID, u.OrgID, u.Email, u.FirstName, u.LastName} {
		n += len(f)
		su.ends[i] = n
	}
	st := storedSession{user: unique.Make(su), orgEpoch: s.OrgEpoch}
	if u.Attributes != nil || u.Groups != nil {
		st.extra = &userExtra{attributes: u.Attributes, groups: u.Groups}
	}
	for i, t := range [...]time.Time{u.CreatedAt, u.UpdatedAt, s.CreatedAt, s.ExpiresAt, s.IdleExpiresAt} {
		st.setTime(i, t)
	}
	return st
}

func (st *storedSession) setTime(i int, t time.Time) {
	st.sec[i], st.nsec[i] = t.Unix(), uint32(t.Nanosecond())
	if t.Location() == time.Local {
		st.nsec[i] |= localBit
	}
}

func (st *storedSession) time(i int) time.Time {
	t := time.Unix(st.sec[i], int64(st.nsec[i]&^localBit))
	if st.nsec[i]&localBit != 0 {
		return t
	}
	return t.UTC()
}

// userStrings is the session's user less its times: slices of the interned
// text, which cost no allocation, and the attributes and groups. The revoke
// scans match on it without building the times.
func (st *storedSession) userStrings() embedsso.User {
	su := st.user.Value()
	var f [userFields]string
	start := 0
	for i, end := range su.ends {
		f[i], start = su.text[start:end], end
	}
	f[userFields-1] = su.text[start:]
	u := embedsso.User{
		ID: f[fieldID], OrgID: f[fieldOrgID], Email: f[fieldEmail],
		FirstName: f[fieldFirstName], LastName: f[fieldLastName], Role: f[fieldRole],
	}
	if st.extra != nil {
		u.Attributes, u.Groups = st.extra.attributes, st.extra.groups
	}
	return u
}

// session is the stored session as a [Session] whose IDHash is idHash.
func (st *storedSession) session(idHash string) embedsso.Session {
	u := st.userStrings()
	u.CreatedAt, u.UpdatedAt = st.time(timeUserCreated), st.time(timeUserUpdated)
	return embedsso.Session{
		IDHash: idHash, User: u,
		CreatedAt: st.time(timeCreated), ExpiresAt: st.time(timeExpires), IdleExpiresAt: st.time(timeIdle),
		OrgEpoch: st.orgEpoch,
	}
}

// Expiry is the earlier of the session's absolute and idle expiries.
func (st storedSession) Expiry() time.Time {
	expires := st.time(timeExpires)
	if idle := st.time(timeIdle); !idle.IsZero() && idle.Before(expires) {
		return idle
	}
	return expires
}
