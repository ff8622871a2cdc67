package embedsso

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// A ticket is the sealed content of a cookie-check or resume link (see
// cookiecheck.go). It is written by hand as a few length-prefixed fields
// rather than JSON: no escaping can make it grow (a return_to full of '&'
// once tripled in JSON), it costs one base64 pass, and its size has a fixed
// bound that every login is known to fit.
//
// The link's text is base64url(len(orgID) ‖ orgID ‖ nonce ‖ AES-256-GCM(plain))
// with the org id as additional data, and
//
//	plain = purpose ‖ expires (uint32, Unix seconds) ‖ SHA-256 of the session id ‖ email ‖ dest
//
// each string preceded by its length as a uvarint. The random GCM nonce is
// also the ticket's id for single use.
//
// The ticket names the session the sign-in created, by the hash a
// [SessionStore] keys it by: the check compares it with the hash of the
// cookie that came back, with no store read, and the resume signs in again
// the user that session belongs to, as stored, so a ticket never has to
// carry the user's details.
type ticket struct {
	purpose     byte
	expires     time.Time
	sessionHash [sha256.Size]byte
	orgID       string
	email       string // for the "Continue as" page, logs and events
	dest        string
	id          string // the nonce, filled in by seal and open
}

// Ticket purposes, so a check link can never be presented as a resume link.
const (
	purposeCheck  byte = 1
	purposeResume byte = 2
)

const (
	gcmNonceBytes = 12
	gcmTagBytes   = 16
	// maxTicketPlain bounds the plaintext: every field at its limit.
	maxTicketPlain = 1 + 4 + sha256.Size + 2*binary.MaxVarintLen16 + maxEmailBytes + maxReturnToBytes
	// maxTicketChars bounds a ticket's text; any ticket a login can seal fits,
	// and anything longer is refused before it is decoded.
	maxTicketChars = (1+maxNameBytes+gcmNonceBytes+gcmTagBytes+maxTicketPlain)*4/3 + 4
)

var errTicketMalformed = errors.New("malformed ticket")

// seal returns the link text of t for org, sealed with org's first secret
// not past its grace period at now (see [Handler.openTicket], which opens
// nothing under a secret past it).
func (c *aeadCache) seal(org *Org, t *ticket, now time.Time) (string, error) {
	secret, ok := sealingSecret(org, now)
	if !ok {
		return "", errors.New("organization has no secret in force")
	}
	aead, err := c.get(secret)
	if err != nil {
		return "", err
	}
	plain := make([]byte, 0, 5+sha256.Size+2*binary.MaxVarintLen16+len(t.email)+len(t.dest))
	plain = append(plain, t.purpose)
	plain = binary.BigEndian.AppendUint32(plain, uint32(t.expires.Unix()))
	plain = append(plain, t.sessionHash[:]...)
	for _, s := range [...]string{t.email, t.dest} {
		plain = binary.AppendUvarint(plain, uint64(len(s)))
		plain = append(plain, s...)
	}
	if len(org.ID) > 255 {
		return "", errors.New("organization id longer than 255 bytes")
	}
	buf := make([]byte, 0, 1+len(org.ID)+gcmNonceBytes+len(plain)+gcmTagBytes)
	buf = append(buf, byte(len(org.ID)))
	buf = append(buf, org.ID...)
	nonce := buf[len(buf) : len(buf)+gcmNonceBytes]
	_, _ = rand.Read(nonce) // never fails since Go 1.24
	buf = buf[:len(buf)+gcmNonceBytes]
	buf = aead.Seal(buf, nonce, plain, []byte(org.ID))
	t.id = string(nonce)
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// ready reports whether a ticket can be sealed for org at now: its id fits
// the link's one length byte and it has a secret in force that makes a key.
// The login asks before its writes, so that sealing after them cannot fail.
func (c *aeadCache) ready(org *Org, now time.Time) error {
	if len(org.ID) > 255 {
		return errors.New("organization id longer than 255 bytes")
	}
	secret, ok := sealingSecret(org, now)
	if !ok {
		return errors.New("organization has no secret in force")
	}
	_, err := c.get(secret)
	return err
}

// sealingSecret is the secret tickets of org are sealed with at now: the
// first one not past its grace period.
func sealingSecret(org *Org, now time.Time) (string, bool) {
	for _, s := range org.Secrets {
		if !s.expired(now) {
			return s.Value, true
		}
	}
	return "", false
}

// splitTicket decodes a link's text into the org id it names and the sealed
// rest, without trusting either.
func splitTicket(raw string) (orgID string, sealed []byte, err error) {
	if len(raw) > maxTicketChars {
		return "", nil, errTicketMalformed
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	if err != nil || len(b) < 1 || len(b) < 1+int(b[0])+gcmNonceBytes+gcmTagBytes {
		return "", nil, errTicketMalformed
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], nil
}

// open opens sealed under secret and decodes it. ok is false when it does not
// open (another secret, or forged); err reports a ticket that opened but does
// not decode, which only a bug could seal.
func (c *aeadCache) open(secret, orgID string, sealed []byte) (t ticket, ok bool, err error) {
	aead, err := c.get(secret)
	if err != nil {
		return ticket{}, false, err
	}
	nonce, box := sealed[:gcmNonceBytes], sealed[gcmNonceBytes:]
	plain, err := aead.Open(nil, nonce, box, []byte(orgID))
	if err != nil {
		return ticket{}, false, nil
	}
	if len(plain) < 5+sha256.Size {
		return ticket{}, true, errTicketMalformed
	}
	t.purpose = plain[0]
	t.expires = time.Unix(int64(binary.BigEndian.Uint32(plain[1:5])), 0)
	copy(t.sessionHash[:], plain[5:])
	rest := plain[5+sha256.Size:]
	fields := [...]*string{&t.email, &t.dest}
	for _, f := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return ticket{}, true, errTicketMalformed
		}
		*f = string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	if len(rest) != 0 {
		return ticket{}, true, errTicketMalformed
	}
	t.orgID = orgID
	t.id = string(nonce)
	return t, true, nil
}

// ticketKey derives the sealing key from an organization secret. The label
// separates it from the secret's use as an HS256 key.
func ticketKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("embedsso cookie-check ticket v2"))
	return m.Sum(nil)
}

// aeadCache keeps one prepared AEAD per secret, so the key derivation and
// AES key schedule run once per secret rather than once per login. A GCM
// AEAD is safe for concurrent use. Keyed by the secret itself, it needs no
// invalidation: a rotated secret is simply a new key.
type aeadCache struct {
	m sync.Map // secret string → cipher.AEAD
	n atomic.Int64
}

// maxCachedAEADs bounds the cache; past it the cache starts over, which
// costs only the derivations it saved.
const maxCachedAEADs = 4096

func (c *aeadCache) get(secret string) (cipher.AEAD, error) {
	if a, ok := c.m.Load(secret); ok {
		return a.(cipher.AEAD), nil
	}
	block, err := aes.NewCipher(ticketKey(secret))
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if c.n.Add(1) > maxCachedAEADs {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(secret, a)
	return a, nil
}
