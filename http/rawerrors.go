package http

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strconv"
)

// net/http answers some requests before any handler sees them: a request
// line or path it cannot parse (400), headers over the server's limit
// (431), a transfer coding it does not know (501). It writes those answers
// as plain text straight to the connection, in one write, always with the
// same header block and never with a Date header, which every answer of a
// handler has. ProblemListener recognises such a write and replaces it
// with the same status as application/problem+json, so that every error
// of the API, even these, is a problem.

// rawError matches net/http's own error answers: the status line, then
// exactly this header block.
var rawError = regexp.MustCompile("^HTTP/1\\.1 ([0-9]{3}) [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

// ProblemListener wraps ln so that the error answers net/http writes
// itself are sent as problem+json (see above).
func ProblemListener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

// problemConn rewrites net/http's plain-text error answers.
type problemConn struct {
	net.Conn
}

func (c *problemConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(p)
	}
	m := rawError.FindSubmatch(p)
	if m == nil {
		return c.Conn.Write(p)
	}
	status, _ := strconv.Atoi(string(m[1]))
	if _, err := c.Conn.Write(rawProblem(status)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rawProblem is the whole HTTP answer net/http's error of this status is
// replaced with.
func rawProblem(status int) []byte {
	detail := map[int]string{
		http.StatusBadRequest:                  "the request line, path or headers are malformed",
		http.StatusRequestHeaderFieldsTooLarge: "the request headers are too large",
		http.StatusNotImplemented:              "the transfer coding is not supported",
	}[status]
	if detail == "" {
		detail = http.StatusText(status)
	}
	code := codeForStatus(status)
	if status == http.StatusRequestHeaderFieldsTooLarge {
		code = codeTooLarge
	}
	body, _ := json.Marshal(Problem{Type: problemTypePrefix + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code})
	body = append(body, '\n')
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	b.WriteString("Content-Type: application/problem+json\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}
