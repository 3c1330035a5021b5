package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/popkit/popkit"
)

// list is the body of every list response.
type list[T any] struct {
	Items      []*T   `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// query reads and checks the query parameters of a list request. Each
// method records the first bad parameter; err reports it as EINVALID (400)
// naming the parameter.
type query struct {
	r   *http.Request
	err error
}

func (q *query) fail(param, format string, args ...any) {
	if q.err == nil {
		q.err = popkit.InvalidField(param, format, args...)
	}
}

// page reads ?limit= and ?cursor=.
func (q *query) page() popkit.Page {
	var p popkit.Page
	if v := q.r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > popkit.MaxPageLimit {
			q.fail("limit", "must be an integer between 1 and %d", popkit.MaxPageLimit)
			return p
		}
		p.Limit = n
	}
	p.After = q.r.URL.Query().Get("cursor")
	if _, _, err := p.Normalize(); err != nil && q.err == nil {
		q.err = err
	}
	return p
}

// id reads an optional id parameter.
func (q *query) id(param string) string {
	v := q.r.URL.Query().Get(param)
	if v != "" && !popkit.ValidID(v) {
		q.fail(param, "must be an id")
	}
	return v
}

// str reads an optional parameter that must pass valid.
func (q *query) str(param string, valid func(string) bool, format string) string {
	v := q.r.URL.Query().Get(param)
	if v != "" && !valid(v) {
		q.fail(param, "%s", format)
	}
	return v
}

// time reads an optional RFC 3339 time.
func (q *query) time(param string) time.Time {
	v := q.r.URL.Query().Get(param)
	if v == "" {
		return time.Time{}
	}
	t, ok := parseTime(v)
	if !ok {
		q.fail(param, "must be an RFC 3339 time such as 2026-05-01T10:00:00Z")
	}
	return t
}

// bool reads an optional true/false.
func (q *query) bool(param string) bool {
	v := q.r.URL.Query().Get(param)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(param, "must be true or false")
	}
	return b
}

// pathID returns the path parameter name. A value that is not an id cannot
// name an object: ENOTFOUND, with what naming the kind of object.
func pathID(r *http.Request, name, what string) (string, error) {
	id := r.PathValue(name)
	if !popkit.ValidID(id) {
		return "", popkit.Errorf(popkit.ENOTFOUND, "%s not found", what)
	}
	return id, nil
}

// token returns the calling token of r; authenticated routes always have
// one.
func token(r *http.Request) *popkit.Token { return tokenOf(r.Context()) }

func tokenOf(ctx context.Context) *popkit.Token {
	if t := popkit.TokenFromContext(ctx); t != nil {
		return t
	}
	return &popkit.Token{} // no role: every check of the route table denies
}

// The generic handlers below serve every resource; a resource supplies
// only its functions.

// handleList serves a list: filter parses the query (and applies the
// caller's scope), find runs it.
func handleList[T, F any](s *Server, filter func(q *query, t *popkit.Token) (F, error), find func(context.Context, F) ([]*T, string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := &query{r: r}
		f, err := filter(q, token(r))
		if err == nil {
			err = q.err
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		items, next, err := find(r.Context(), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if items == nil {
			items = []*T{}
		}
		writeJSON(w, r, http.StatusOK, list[T]{Items: items, NextCursor: next})
	}
}

// handleGet serves one object by the path id; check (may be nil) applies
// the caller's scope to the loaded object.
func handleGet[T any](s *Server, what string, find func(context.Context, string) (*T, error), check func(*popkit.Token, *T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := load(r, "id", what, find, check)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, v)
	}
}

// handleAction serves a POST that acts on an existing object: find loads
// the object of the path as the token may see it (404 or 403 otherwise),
// then the body is decoded, act applies it on behalf of the token, and the
// answer is 200 with act's result.
func handleAction[V, In, Out any](s *Server, find func(*http.Request) (V, error), decode func([]byte) (In, error), act func(r *http.Request, t *popkit.Token, in In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := find(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		body, err := readBody(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		in, err := decode(body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err := act(r, token(r), in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, out)
	}
}

// actorOf names a token as the actor of a stored change: "role:token-id".
func actorOf(t *popkit.Token) string { return string(t.Role) + ":" + t.ID }

// load finds the object named by path parameter param and applies check.
func load[T any](r *http.Request, param, what string, find func(context.Context, string) (*T, error), check func(*popkit.Token, *T) error) (*T, error) {
	id, err := pathID(r, param, what)
	if err != nil {
		return nil, err
	}
	v, err := find(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(token(r), v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// handleCreate serves a POST that creates an object: the body decodes into
// In, build turns it into the object (applying the caller's scope), create
// stores it, and the answer is 201 with a Location of path/{id}.
func handleCreate[In, T any](s *Server, path string, build func(*popkit.Token, *In) (*T, error), create func(context.Context, *T) error, id func(*T) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in := new(In)
		if err := decode(r, in); err != nil {
			s.writeError(w, r, err)
			return
		}
		v, err := build(token(r), in)
		if err == nil {
			err = create(r.Context(), v)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", path+"/"+id(v))
		writeJSON(w, r, http.StatusCreated, v)
	}
}

// handlePatch serves a PATCH of the object at the path id. When check is
// set, the object is loaded first and check applies the caller's scope.
// The body decodes into U, the update that update applies.
func handlePatch[U, T any](s *Server, what string, find func(context.Context, string) (*T, error), check func(*popkit.Token, *T) error, update func(context.Context, string, U) (*T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id", what)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if check != nil {
			if _, err := load(r, "id", what, find, check); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		var u U
		if err := decode(r, &u); err != nil {
			s.writeError(w, r, err)
			return
		}
		v, err := update(r.Context(), id, u)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, v)
	}
}
