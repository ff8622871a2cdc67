package orgapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/embedsso/embedsso"
	"github.com/embedsso/embedsso/internal/email"
	"github.com/embedsso/embedsso/internal/random"
)

// create answers POST /api/public/organizations.
func (h *Handler) create(r *http.Request, key APIKey, w http.ResponseWriter) (int, any, *apiError) {
	withSecret, e := includeSecret(r)
	if e != nil {
		return 0, nil, e
	}
	if !key.Admin {
		return 0, nil, errCreateForbidden
	}
	in, e := readOrgInput(w, r, true)
	if e != nil {
		return 0, nil, e
	}
	now := h.now().UTC()
	rec := OrgRecord{CreatedAt: now, UpdatedAt: now}
	rec.ID = newID("org_")
	if in.id != nil {
		rec.ID = *in.id
	}
	rec.Secrets = []embedsso.Secret{{KeyID: h.newKeyID(), Value: random.Base64URL(32)}}
	in.apply(&rec, h.newKeyID())
	if e := checkOrg(rec.Org); e != nil {
		return 0, nil, e
	}
	err := h.orgs.CreateOrg(r.Context(), rec)
	switch {
	case errors.Is(err, ErrOrgExists):
		return 0, nil, errOrgExists
	case err != nil:
		return 0, nil, internal(fmt.Errorf("create org: %w", err))
	}
	w.Header().Set("Location", "/api/public/organizations/"+rec.ID)
	return http.StatusCreated, present(rec, withSecret), nil
}

// get answers GET /api/public/organizations/{id}.
func (h *Handler) get(r *http.Request, key APIKey, _ http.ResponseWriter) (int, any, *apiError) {
	withSecret, e := includeSecret(r)
	if e != nil {
		return 0, nil, e
	}
	rec, e := h.findOrg(r.Context(), key, r.PathValue("id"))
	if e != nil {
		return 0, nil, e
	}
	now := h.now()
	if len(DropExpiredSecrets(rec.Secrets, now)) < len(rec.Secrets) {
		// A secret whose grace period is over leaves the store now, not
		// at the next purge.
		if rec, e = h.updateOrg(r.Context(), key, rec.ID, func(r *OrgRecord) *apiError {
			r.Secrets = DropExpiredSecrets(r.Secrets, now)
			return nil
		}); e != nil {
			return 0, nil, e
		}
	}
	return http.StatusOK, present(rec, withSecret), nil
}

// update answers PATCH /api/public/organizations/{id}. Turning embedding off
// or replacing the secrets ends the organization's sessions: the change
// moves its Epoch in the same atomic update (see [embedsso.Org.Epoch]), so
// a session that began before, even by a login still under way, is
// refused from then on, on every instance. Turning embedding off also
// deletes the sessions once the change is stored.
func (h *Handler) update(r *http.Request, key APIKey, w http.ResponseWriter) (int, any, *apiError) {
	withSecret, e := includeSecret(r)
	if e != nil {
		return 0, nil, e
	}
	id := r.PathValue("id")
	if !mayManage(key, id) {
		// Before the body: a key learns nothing about an org it may not manage.
		return 0, nil, errOrgNotFound
	}
	in, e := readOrgInput(w, r, false)
	if e != nil {
		return 0, nil, e
	}
	now, kid := h.now().UTC(), h.newKeyID()
	rec, e := h.updateOrg(r.Context(), key, id, func(rec *OrgRecord) *apiError {
		in.apply(rec, kid)
		rec.Secrets = DropExpiredSecrets(rec.Secrets, now)
		rec.UpdatedAt = now
		return checkOrg(rec.Org)
	})
	if e != nil {
		return 0, nil, e
	}
	// Every PATCH that says "off" ends the sessions, not only the one that
	// turned it off: a retry after a failure here finishes the job.
	if in.enabled != nil && !*in.enabled {
		if _, err := h.sessions.RevokeOrgSessions(r.Context(), id); err != nil {
			return 0, nil, internal(fmt.Errorf("revoke org sessions: %w", err))
		}
	}
	return http.StatusOK, present(rec, withSecret), nil
}

// rotate answers POST /api/public/organizations/{id}/jwt-secret/rotate. The
// new secret is in the answer; the previous ones verify until the grace
// period ends, and their sessions go on. When MaxSecrets makes it drop a
// secret still in its grace period, that secret leaves early, and the
// rotation ends every session of the organization, as replacing the
// secrets does.
func (h *Handler) rotate(r *http.Request, key APIKey, w http.ResponseWriter) (int, any, *apiError) {
	id := r.PathValue("id")
	if !mayManage(key, id) {
		return 0, nil, errOrgNotFound
	}
	if hasBody(r) {
		// No member is defined; an empty object is accepted, so clients
		// that always send JSON work.
		if e := readObject(w, r, func(name string, _ json.RawMessage) *apiError {
			return newError(http.StatusBadRequest, codeUnknownField, "Unknown field %.64q.", name)
		}); e != nil {
			return 0, nil, e
		}
	}
	now, next := h.now().UTC(), embedsso.Secret{KeyID: h.newKeyID(), Value: random.Base64URL(32)}
	rec, e := h.updateOrg(r.Context(), key, id, func(rec *OrgRecord) *apiError {
		before := rec.Secrets
		rec.Secrets = RotateSecrets(rec.Secrets, next, now, h.grace)
		if withdrawsSecret(before, rec.Secrets, now) {
			rec.Epoch++ // a secret left before its time: its sessions end
		}
		rec.UpdatedAt = now
		return nil
	})
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, present(rec, true), nil
}

// signOutUser answers DELETE /api/public/organizations/{id}/users/{email}/sessions.
func (h *Handler) signOutUser(r *http.Request, key APIKey, _ http.ResponseWriter) (int, any, *apiError) {
	rec, e := h.findOrg(r.Context(), key, r.PathValue("id"))
	if e != nil {
		return 0, nil, e
	}
	addr, err := email.Normalize(r.PathValue("email"))
	if err != nil {
		return 0, nil, newError(http.StatusBadRequest, codeInvalidParameter, "The email in the path is not a valid address.")
	}
	n, err := h.sessions.RevokeEmailSessions(r.Context(), rec.ID, addr)
	if err != nil {
		return 0, nil, internal(fmt.Errorf("revoke user sessions: %w", err))
	}
	return http.StatusOK, map[string]any{"orgId": rec.ID, "email": addr, "sessionsRevoked": n}, nil
}
