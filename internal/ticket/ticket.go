// Package ticket seals and opens the handler's cookie-check and resume
// tickets (see the root's cookiecheck.go) under an organization's secret.
package ticket

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedsso/embedsso/internal/email"
	"github.com/embedsso/embedsso/internal/textcheck"
)

// A Ticket is the sealed content of a cookie-check or resume link (see
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
// SessionStore keys it by: the check compares it with the hash of the
// cookie that came back, with no store read, and the resume signs in again
// the user that session belongs to, as stored, so a ticket never has to
// carry the user's details.
type Ticket struct {
	Purpose     byte
	Expires     time.Time
	SessionHash [sha256.Size]byte
	OrgID       string
	Email       string // for the "Continue as" page, logs and events
	Dest        string
	ID          string // the nonce, filled in by Seal and Open
	// IDHash is SessionHash in lowercase hex, as a Session's IDHash spells
	// it, filled in by Open: in the string the other fields share, so the
	// cookie check has it without an allocation of its own.
	IDHash string
}

// Ticket purposes, so a check link can never be presented as a resume link.
const (
	PurposeCheck  byte = 1
	PurposeResume byte = 2
)

// MaxDestBytes bounds a ticket's destination, the return_to path.
const MaxDestBytes = 2048

const (
	gcmNonceBytes = 12
	gcmTagBytes   = 16
	// maxTicketPlain bounds the plaintext: every field at its limit.
	maxTicketPlain = 1 + 4 + sha256.Size + 2*binary.MaxVarintLen16 + email.MaxBytes + MaxDestBytes
)

// MaxChars bounds a ticket's text; any ticket a login can seal fits, and
// anything longer is refused before it is decoded.
const MaxChars = (1+textcheck.MaxNameBytes+gcmNonceBytes+gcmTagBytes+maxTicketPlain)*4/3 + 4

var errTicketMalformed = errors.New("malformed ticket")

// Seal returns the link text of t for the organization orgID, sealed with
// secret (the handler passes the first one not past its grace period, and
// opens nothing under a secret past it).
func (c *Sealer) Seal(orgID, secret string, t *Ticket) (string, error) {
	aead, err := c.get(secret)
	if err != nil {
		return "", err
	}
	plain := make([]byte, 0, 5+sha256.Size+2*binary.MaxVarintLen16+len(t.Email)+len(t.Dest))
	plain = append(plain, t.Purpose)
	plain = binary.BigEndian.AppendUint32(plain, uint32(t.Expires.Unix()))
	plain = append(plain, t.SessionHash[:]...)
	for _, s := range [...]string{t.Email, t.Dest} {
		plain = binary.AppendUvarint(plain, uint64(len(s)))
		plain = append(plain, s...)
	}
	if len(orgID) > 255 {
		return "", errors.New("organization id longer than 255 bytes")
	}
	buf := make([]byte, 0, 1+len(orgID)+gcmNonceBytes+len(plain)+gcmTagBytes)
	buf = append(buf, byte(len(orgID)))
	buf = append(buf, orgID...)
	nonce := buf[len(buf) : len(buf)+gcmNonceBytes]
	_, _ = rand.Read(nonce) // never fails since Go 1.24
	buf = buf[:len(buf)+gcmNonceBytes]
	buf = aead.Seal(buf, nonce, plain, []byte(orgID))
	t.ID = string(nonce)
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// Ready reports whether a ticket can be sealed for orgID under secret: the
// id fits the link's one length byte and the secret makes a key. The login
// asks before its writes, so that sealing after them cannot fail.
func (c *Sealer) Ready(orgID, secret string) error {
	if len(orgID) > 255 {
		return errors.New("organization id longer than 255 bytes")
	}
	_, err := c.get(secret)
	return err
}

// Split decodes a link's text into the org id it names and the sealed rest,
// without trusting either.
func Split(raw string) (orgID string, sealed []byte, err error) {
	if len(raw) > MaxChars {
		return "", nil, errTicketMalformed
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	if err != nil || len(b) < 1 || len(b) < 1+int(b[0])+gcmNonceBytes+gcmTagBytes {
		return "", nil, errTicketMalformed
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], nil
}

// Open opens sealed, of the organization orgID, under secret and decodes
// it. ok is false when it does not open (another secret, or forged); err
// reports a ticket that opened but does not decode, which only a bug could
// seal.
func (c *Sealer) Open(secret, orgID string, sealed []byte) (t Ticket, ok bool, err error) {
	aead, err := c.get(secret)
	if err != nil {
		return Ticket{}, false, err
	}
	nonce, box := sealed[:gcmNonceBytes], sealed[gcmNonceBytes:]
	// One buffer holds the organization id (the additional data, which the
	// AEAD's interface call would otherwise copy to the heap on its own) and
	// then the plaintext; the id, the fields and IDHash are slices of one
	// string, built in place. Two allocations (TestOpeningATicketAllocatesTwice)
	// where opening took five, and the cookie check a sixth for the hex.
	buf := append(make([]byte, 0, len(orgID)+len(box)), orgID...)
	opened, err := aead.Open(buf, nonce, box, buf)
	if err != nil {
		return Ticket{}, false, nil
	}
	plain := opened[len(buf):]
	if len(plain) < 5+sha256.Size {
		return Ticket{}, true, errTicketMalformed
	}
	t.Purpose = plain[0]
	t.Expires = time.Unix(int64(binary.BigEndian.Uint32(plain[1:5])), 0)
	copy(t.SessionHash[:], plain[5:])
	var idHash [2 * sha256.Size]byte
	hex.Encode(idHash[:], t.SessionHash[:])
	var b strings.Builder
	b.Grow(len(nonce) + len(plain) - 5 - sha256.Size + len(idHash))
	b.Write(nonce)
	b.Write(plain[5+sha256.Size:])
	b.Write(idHash[:])
	text := b.String()
	rest := text[len(nonce) : len(text)-len(idHash)]
	fields := [...]*string{&t.Email, &t.Dest}
	for _, f := range fields {
		n, k := binary.Uvarint([]byte(rest))
		if k <= 0 || n > uint64(len(rest)-k) {
			return Ticket{}, true, errTicketMalformed
		}
		*f = rest[k : k+int(n)]
		rest = rest[k+int(n):]
	}
	if len(rest) != 0 {
		return Ticket{}, true, errTicketMalformed
	}
	t.IDHash = text[len(text)-len(idHash):]
	t.OrgID = orgID
	t.ID = text[:len(nonce)]
	return t, true, nil
}

// ticketKey derives the sealing key from an organization secret. The label
// separates it from the secret's use as an HS256 key.
func ticketKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("embedsso cookie-check ticket v2"))
	return m.Sum(nil)
}

// Sealer seals and opens tickets. It keeps one prepared AEAD per secret, so
// the key derivation and AES key schedule run once per secret rather than
// once per login. A GCM AEAD is safe for concurrent use. Keyed by the secret
// itself, it needs no invalidation: a rotated secret is simply a new key.
// The zero value is ready to use; it must not be copied after first use.
type Sealer struct {
	m sync.Map // secret string → cipher.AEAD
	n atomic.Int64
}

// maxCachedAEADs bounds the cache; past it the cache starts over, which
// costs only the derivations it saved.
const maxCachedAEADs = 4096

func (c *Sealer) get(secret string) (cipher.AEAD, error) {
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
