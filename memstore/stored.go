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
}

// storedUser is what a session holds of its user, other than times, and
// the session's organization epoch.
type storedUser struct {
	// orgEpoch is the session's [embedsso.Session.OrgEpoch]. It is here, in
	// what the user's sessions share, because all but a few of them were
	// signed in under the same epoch. In storedSession it added 8 bytes to
	// every session's map slot (BenchmarkMemorySessionStoreMark's
	// heap-B/session went from 298 to 315); here it fills what the
	// allocator's rounding of this struct to 64 bytes left empty.
	orgEpoch int64
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
	su.orgEpoch = s.OrgEpoch
	st := storedSession{user: unique.Make(su)}
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
	var u embedsso.User
	st.userStringsInto(&u)
	return u
}

// userStringsInto sets u's strings, attributes and groups from the stored
// user, and leaves its times as they were. It returns the session's
// organization epoch, which is kept with the user's strings.
func (st *storedSession) userStringsInto(u *embedsso.User) (orgEpoch int64) {
	su := st.user.Value()
	var f [userFields]string
	start := 0
	for i, end := range su.ends {
		f[i], start = su.text[start:end], end
	}
	f[userFields-1] = su.text[start:]
	u.ID, u.OrgID, u.Email = f[fieldID], f[fieldOrgID], f[fieldEmail]
	u.FirstName, u.LastName, u.Role = f[fieldFirstName], f[fieldLastName], f[fieldRole]
	u.Attributes, u.Groups = nil, nil
	if st.extra != nil {
		u.Attributes, u.Groups = st.extra.attributes, st.extra.groups
	}
	return su.orgEpoch
}

// fill sets *s to the stored session, with idHash as its IDHash.
func (st *storedSession) fill(s *embedsso.Session, idHash string) {
	s.IDHash = idHash
	s.OrgEpoch = st.userStringsInto(&s.User)
	s.User.CreatedAt, s.User.UpdatedAt = st.time(timeUserCreated), st.time(timeUserUpdated)
	s.CreatedAt, s.ExpiresAt, s.IdleExpiresAt = st.time(timeCreated), st.time(timeExpires), st.time(timeIdle)
	s.Org = nil
}

// endedAt reports whether the session has ended at now: its absolute or its
// idle expiry is at or before now. It compares the stored numbers, which
// hold the same instants as the times fill builds.
func (st *storedSession) endedAt(now time.Time) bool {
	sec, nsec := now.Unix(), uint32(now.Nanosecond())
	atOrBefore := func(i int) bool {
		return st.sec[i] < sec || st.sec[i] == sec && st.nsec[i]&^localBit <= nsec
	}
	return atOrBefore(timeExpires) || !st.isZero(timeIdle) && atOrBefore(timeIdle)
}

// isZero reports whether stored time i is the zero time.
func (st *storedSession) isZero(i int) bool {
	return st.sec[i] == zeroUnix && st.nsec[i]&^localBit == 0
}

// zeroUnix is the zero time's Unix seconds.
var zeroUnix = time.Time{}.Unix()

// Expiry is the earlier of the session's absolute and idle expiries.
func (st storedSession) Expiry() time.Time {
	expires := st.time(timeExpires)
	if idle := st.time(timeIdle); !idle.IsZero() && idle.Before(expires) {
		return idle
	}
	return expires
}
