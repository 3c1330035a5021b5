package http

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The OpenAPI document is built once from two parts: openapi.json holds the
// hand-written info and components (schemas, parameters, headers), and the
// paths are generated from the route table, so that every route — with its
// roles, parameters, body, Idempotency-Key support and error statuses — is
// described, and nothing else is.
//
//go:embed openapi.json
var openapiBase []byte

// openapiParts hold further hand-written components, one file per area, so
// that areas do not edit one shared file; they are merged into the base.
//
//go:embed openapi_*.json
var openapiParts embed.FS

type obj = map[string]any

// errorHelp explains each error status in the document.
var errorHelp = map[int]string{
	400: "Malformed JSON, a wrong type, an unknown field, a bad query parameter or header, or failed validation (errors names each field).",
	401: "No token, or an unknown or revoked one.",
	403: "The token's role or scope does not allow this call.",
	404: "The object does not exist, or is outside the token's view.",
	409: "A state conflict; or the first request with this Idempotency-Key is still in flight.",
	413: "The body is larger than 1 MiB.",
	415: "The body is not application/json.",
	422: "The body refers to an object that does not exist; or the Idempotency-Key was used for another request.",
	503: "The database is unreachable.",
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPIDocument returns the OpenAPI document for routes.
func openAPIDocument(routes []route) ([]byte, error) {
	var doc obj
	if err := json.Unmarshal(openapiBase, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.json: %w", err)
	}
	if err := mergeParts(doc); err != nil {
		return nil, err
	}
	paths := obj{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt)
	}
	doc["paths"] = paths
	return json.MarshalIndent(doc, "", "  ")
}

func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }

func operation(rt route) obj {
	d := rt.doc
	op := obj{"operationId": d.id, "summary": d.summary}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
		params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "string"}})
	}
	for _, q := range d.query {
		params = append(params, ref("parameters", q))
	}
	if rt.idem != idemNone {
		p := ref("parameters", "Idempotency-Key")
		if rt.idem == idemRequired || rt.idem == idemRequiredInTx {
			p = obj{"$ref": p["$ref"], "required": true}
		}
		params = append(params, p)
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.roles == nil {
		op["security"] = []any{}
		op["description"] = "No authentication."
	} else {
		roles := make([]string, len(rt.roles))
		for i, r := range rt.roles {
			roles[i] = string(r)
		}
		op["x-popkit-roles"] = roles
		op["description"] = strings.TrimSpace("Roles: " + strings.Join(roles, ", ") + ". " + d.note)
	}
	if d.in != "" {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref("schemas", d.in)}}}
	}
	op["responses"] = responses(rt)
	return op
}

func responses(rt route) obj {
	d := rt.doc
	headers := obj{"X-Request-Id": ref("headers", "X-Request-Id")}
	if d.status == http.StatusCreated {
		headers["Location"] = ref("headers", "Location")
	}
	if rt.idem != idemNone {
		headers["Idempotent-Replayed"] = ref("headers", "Idempotent-Replayed")
	}
	ok := obj{"description": http.StatusText(d.status), "headers": headers}
	switch {
	case d.media == "text/plain":
		ok["content"] = obj{"text/plain": obj{"schema": obj{"type": "string"}}}
	case d.media != "":
		ok["content"] = obj{d.media: obj{"schema": obj{"type": "object"}}}
	case d.list:
		ok["content"] = obj{"application/json": obj{"schema": obj{
			"type":                 "object",
			"required":             []any{"items"},
			"properties":           obj{"items": obj{"type": "array", "items": ref("schemas", d.out)}, "next_cursor": obj{"type": "string", "description": "Cursor of the next page; absent on the last page."}},
			"additionalProperties": false,
		}}}
	case d.out != "":
		ok["content"] = obj{"application/json": obj{"schema": ref("schemas", d.out)}}
	}
	if content, _ := ok["content"].(obj); content != nil && d.also != "" {
		content[d.also] = obj{"schema": obj{"type": "string"}}
	}
	res := obj{strconv.Itoa(d.status): ok}
	if d.alt != 0 {
		res[strconv.Itoa(d.alt)] = obj{"description": http.StatusText(d.alt), "headers": headers, "content": ok["content"]}
	}
	for _, code := range errorStatuses(rt) {
		p := obj{
			"description": errorHelp[code],
			"content":     obj{"application/problem+json": obj{"schema": ref("schemas", "Problem")}},
		}
		if code == http.StatusUnauthorized {
			p["headers"] = obj{"WWW-Authenticate": ref("headers", "WWW-Authenticate")}
		}
		res[strconv.Itoa(code)] = p
	}
	res["default"] = obj{
		"description": "An unexpected error: 500 with detail \"internal error\" (the server logs the cause under the request id).",
		"content":     obj{"application/problem+json": obj{"schema": ref("schemas", "Problem")}},
	}
	return res
}

// errorStatuses lists the error statuses a route documents: those every
// route of its kind has, and its own.
func errorStatuses(rt route) []int {
	codes := slices.Clone(rt.doc.errs)
	if rt.roles != nil {
		codes = append(codes, 401, 403, 503)
	}
	if strings.Contains(rt.path, "{") {
		codes = append(codes, 404)
	}
	if len(rt.doc.query) > 0 || rt.doc.in != "" || rt.idem != idemNone {
		codes = append(codes, 400)
	}
	if rt.doc.in != "" {
		codes = append(codes, 413, 415)
	}
	if rt.idem != idemNone {
		codes = append(codes, 409, 422)
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// mergeParts adds the components of each openapi_*.json part to doc. A
// component defined twice is an error.
func mergeParts(doc obj) error {
	entries, err := openapiParts.ReadDir(".")
	if err != nil {
		return fmt.Errorf("read openapi parts: %w", err)
	}
	comps, _ := doc["components"].(obj)
	for _, ent := range entries {
		b, err := openapiParts.ReadFile(ent.Name())
		if err != nil {
			return fmt.Errorf("read %s: %w", ent.Name(), err)
		}
		var part struct {
			Components map[string]obj `json:"components"`
		}
		if err := json.Unmarshal(b, &part); err != nil {
			return fmt.Errorf("parse %s: %w", ent.Name(), err)
		}
		for kind, items := range part.Components {
			dst, _ := comps[kind].(obj)
			if dst == nil {
				dst = obj{}
				comps[kind] = dst
			}
			for name, v := range items {
				if _, dup := dst[name]; dup {
					return fmt.Errorf("%s: component %s/%s is defined twice", ent.Name(), kind, name)
				}
				dst[name] = v
			}
		}
	}
	return nil
}
