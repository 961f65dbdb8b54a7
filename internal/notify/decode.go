package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxFieldEcho bounds how much of an unknown field's name an error repeats.
const maxFieldEcho = 64

// DecodeJSON decodes the one JSON value in b into dst as strictly as the
// publish API and the queue require (SPEC 5): no unknown field, nothing
// after the value, and text that is valid UTF-8 throughout (encoding/json
// would quietly replace invalid bytes in strings with U+FFFD, and keep
// them in a json.RawMessage). An error is of CodeInvalid and its message
// starts with the field at fault — "title", "userIds", "body[2].data" in an
// array — or "body".
func DecodeJSON(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return Errorf(CodeInvalid, "body: unexpected data after the JSON value")
	}
	if !utf8.Valid(b) {
		return Errorf(CodeInvalid, "%s: must be valid UTF-8", invalidUTF8Field(b))
	}
	return nil
}

// decodeError turns an encoding/json error into one naming the field.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return Errorf(CodeInvalid, "%s: must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind()))
	case errors.As(err, &syntaxErr):
		return Errorf(CodeInvalid, "body: malformed JSON at offset %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Errorf(CodeInvalid, "body: truncated JSON")
	}
	// DisallowUnknownFields reports `json: unknown field "name"`.
	if _, name, ok := strings.Cut(err.Error(), "unknown field "); ok {
		name = strings.ToValidUTF8(strings.Trim(name, `"`), "\uFFFD")
		if len(name) > maxFieldEcho {
			name = strings.ToValidUTF8(name[:maxFieldEcho], "") + "…"
		}
		return Errorf(CodeInvalid, "%s: unknown field", name)
	}
	return Errorf(CodeInvalid, "body: malformed JSON")
}

// jsonKind names, in JSON terms, the Go kind a field was expected to be.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	default:
		return "number"
	}
}

// invalidUTF8Field names the member of b (a JSON object, or an array of
// objects) whose text is not valid UTF-8, in the alphabetical order of the
// members; "body" when it cannot tell.
func invalidUTF8Field(b []byte) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) == nil {
		if f := invalidMember(obj); f != "" {
			return f
		}
		return "body"
	}
	var arr []map[string]json.RawMessage
	if json.Unmarshal(b, &arr) == nil {
		for i, obj := range arr {
			if f := invalidMember(obj); f != "" {
				return fmt.Sprintf("body[%d].%s", i, f)
			}
		}
	}
	return "body"
}

// invalidMember returns the first key of obj, alphabetically, whose value
// is not valid UTF-8 ("" for none). Keys have been decoded, so they are.
func invalidMember(obj map[string]json.RawMessage) string {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !utf8.Valid(obj[k]) {
			return truncate(k, maxFieldEcho)
		}
	}
	return ""
}
