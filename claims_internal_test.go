package embedsso

import (
	"reflect"
	"testing"

	"github.com/embedsso/embedsso/signer"
	"github.com/stretchr/testify/assert"
)

// The payload the handler reads (tokenClaims) and the one package signer
// writes (signer.Claims) are one format, kept in two types so that the root
// does not build jwx: every field, name, type and JSON tag the same, besides
// the attributes and groups signer.Claims adds outside its JSON tags.
func TestTheSignersClaimsAreTheClaimsTheHandlerReads(t *testing.T) {
	t.Parallel()
	read, signed := reflect.TypeFor[tokenClaims](), reflect.TypeFor[signer.Claims]()
	var fromSigner []reflect.StructField
	for i := range signed.NumField() {
		if f := signed.Field(i); f.Tag.Get("json") != "-" {
			fromSigner = append(fromSigner, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
		}
	}
	var fromHandler []reflect.StructField
	for i := range read.NumField() {
		f := read.Field(i)
		fromHandler = append(fromHandler, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
	}
	assert.Equal(t, fromHandler, fromSigner)
}
