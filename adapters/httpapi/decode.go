package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/redlane/redlane/domain"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// readBody reads a JSON request body into dst. An empty body decodes as {}.
func readBody(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("the body is over %d bytes", MaxBody)}
		}
		return &httpError{status: http.StatusBadRequest, detail: "the body could not be read"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		return &httpError{status: http.StatusUnsupportedMediaType, detail: fmt.Sprintf("the body must be application/json, not %q", ct)}
	}
	return decodeJSON(body, dst)
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decodeJSON decodes one JSON object, naming the field at fault when it cannot.
func decodeJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return domain.Invalid(te.Field, fmt.Sprintf("must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value))
		case errors.As(err, &te):
			return domain.Invalid("body", "must be a JSON object")
		case errors.As(err, &se):
			return domain.Invalid("body", fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset))
		default:
			return domain.Invalid("body", "is not valid JSON: "+err.Error())
		}
	}
	if dec.More() {
		return domain.Invalid("body", "must hold exactly one JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	default:
		return "an object"
	}
}
