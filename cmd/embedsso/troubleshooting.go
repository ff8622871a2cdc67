package main

// troubleshooting is the "cause and fix" column of the embedding guide's
// troubleshooting table, by code (the first row of a code that has two).
// TestTroubleshootingIsTheEmbeddingGuides keeps it identical to
// docs/embedding.md.
var troubleshooting = map[string]string{
	"token_not_yet_valid":     "your server's clock is ahead by more than 30 s (`iat`/`nbf` in the future): run NTP",
	"token_expired":           "your clock is behind, or the token sat in a cached page: run NTP, mint per request, `Cache-Control: no-store`",
	"token_lifetime_too_long": "`exp` more than 10 minutes after `iat`: use `expiresIn: '10m'` or less",
	"signature_invalid":       "wrong or stale secret, a secret with a trailing newline, or a base64-decoded secret (use the string as given); with `kid`, a key id the app doesn't know",
	"algorithm_not_allowed":   "not HS256 (`RS256`, `HS512`, `none`)",
	"token_replayed":          "a token with a `jti` loaded twice (reload of a cached page): mint a new one per render",
	"origin_not_allowed":      "the page's origin isn't registered: check scheme, host and port",
	"origin_missing":          "your page sends no `Referer` (`Referrer-Policy: no-referrer`, `rel=noreferrer`): use the default policy",
	"embedding_disabled":      "ask the app's admin to enable embedding for your organization",
	"org_not_found":           "`orgId` typo, or the wrong environment's id",
	"role_not_allowed":        "`role` must be one of the organization's roles, spelled the same",
	"claims_invalid":          "`email` missing or not a plain address, or its domain not a canonical IDNA name (fullwidth letters, non-ASCII capitals, `_`); names longer than 256 bytes or with control characters; an extra claim that is an object, an array or `null`, or over 1 KiB (see \"Attributes and groups\")",
	"cookie_blocked":          "Safari, or a browser blocking cookies for the app's site: the page offers **Allow cookies and continue** (Storage Access API) and **Open in a new tab**",
}
