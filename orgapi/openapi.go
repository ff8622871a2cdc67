package orgapi

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPIDocument returns openapi.yaml, the OpenAPI 3.1 description of the
// API, for an app that wants to serve or publish it.
func OpenAPIDocument() []byte { return bytes.Clone(openAPI) }
