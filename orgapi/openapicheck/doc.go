// Package openapicheck holds the test that keeps orgapi's OpenAPI document
// true: it validates the document, then sends real requests to the handler
// and checks each answer against it with pb33f/libopenapi-validator, a
// maintained OpenAPI 3.1 validator. It is a module of its own so that the
// validator's dependencies stay out of the core module.
package openapicheck
