package orgapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxBodyBytes caps a request body: an organization is a few hundred bytes.
const maxBodyBytes = 64 << 10

// readObject checks r's content type, then reads its body as one JSON
// object, calling member for each member in order. encoding/json alone would
// match member names case-insensitively and let a repeated member win
// silently; this API's names are exact and each appears once, so the
// object's top level is walked token by token here.
func readObject(w http.ResponseWriter, r *http.Request, member func(name string, raw json.RawMessage) *apiError) *apiError {
	if e := checkJSONType(r); e != nil {
		return e
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	bad := func(err error) *apiError {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return newError(http.StatusBadRequest, codeInvalidJSON, "The body is not valid JSON.")
	}
	tok, err := dec.Token()
	if err != nil {
		return bad(err)
	}
	if tok != json.Delim('{') {
		return newError(http.StatusBadRequest, codeInvalidJSON, "The body must be a JSON object.")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		name, _ := tok.(string) // inside an object, json.Decoder yields names as strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad(err)
		}
		if seen[name] {
			return newError(http.StatusBadRequest, codeInvalidJSON, "The member %.64q appears twice.", name)
		}
		seen[name] = true
		if e := member(name, raw); e != nil {
			return e
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return newError(http.StatusBadRequest, codeInvalidJSON, "The body holds more than one JSON value.")
		}
		return bad(err)
	}
	return nil
}

// checkJSONType refuses a body that is not declared as JSON: the API is for
// servers, and a browser form (text/plain, multipart) never is.
func checkJSONType(r *http.Request) *apiError {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errNotJSON
	}
	if cs, ok := params["charset"]; ok && !bytes.EqualFold([]byte(cs), []byte("utf-8")) {
		return errNotJSON
	}
	return nil
}

// hasBody reports whether r carries a body at all.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || r.ContentLength == -1 || len(r.TransferEncoding) > 0
}

// The typed readers of one member's value. null is refused everywhere: in a
// PATCH it would be ambiguous between "clear" and "leave alone".

func readString(name string, raw json.RawMessage) (string, *apiError) {
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", newError(http.StatusBadRequest, codeInvalidField, "%s must be a string.", name)
	}
	return s, nil
}

func readBool(name string, raw json.RawMessage) (bool, *apiError) {
	var b bool
	if isNull(raw) || json.Unmarshal(raw, &b) != nil {
		return false, newError(http.StatusBadRequest, codeInvalidField, "%s must be true or false.", name)
	}
	return b, nil
}

func readStrings(name string, raw json.RawMessage, max int) ([]string, *apiError) {
	var l []string
	if isNull(raw) || json.Unmarshal(raw, &l) != nil {
		return nil, newError(http.StatusBadRequest, codeInvalidField, "%s must be an array of strings.", name)
	}
	if len(l) > max {
		return nil, newError(http.StatusBadRequest, codeInvalidField, "%s has %d entries; at most %d are allowed.", name, len(l), max)
	}
	return l, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func fieldError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidField, message: fmt.Sprintf(format, args...)}
}
