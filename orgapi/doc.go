// Package orgapi is embedsso's organization API: an [http.Handler] through
// which an app's back office, or its customers' admins, create an
// organization, enable embedding, set its allowed origins, get and rotate
// its JWT secret, and sign a user out everywhere, without anyone touching
// the database. It is modelled on the reference product's public API
// (POST /api/public/organizations, fullEmbedEnabled, embedAllowedOrigins,
// jwtSecret only with ?include=jwtSecret):
//
//	POST   /api/public/organizations
//	GET    /api/public/organizations/{id}[?include=jwtSecret]
//	PATCH  /api/public/organizations/{id}[?include=jwtSecret]
//	POST   /api/public/organizations/{id}/jwt-secret/rotate
//	DELETE /api/public/organizations/{id}/users/{email}/sessions
//
// Every request carries "Authorization: Bearer <key>", a key made by
// [NewKey] and kept in an [APIKeyStore] as a hash only. Every answer
// is JSON: {"data": …} on success, {"error": {"code": …, "message": …}}
// otherwise. The API is for servers: requests a browser sends from another
// site or origin, of any method (GET and HEAD included), are refused with
// 403, and so are bodies that are not application/json (415). openapi.yaml,
// beside this file, describes it as OpenAPI 3.1; a test checks the
// handler's real answers against it.
package orgapi
