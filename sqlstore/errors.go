package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/popkit/popkit"
	"modernc.org/sqlite"
)

// SQLite extended result codes used to classify constraint violations.
const (
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// notFound returns an ENOTFOUND error for an object of the named kind.
func notFound(what string) error {
	return popkit.Errorf(popkit.ENOTFOUND, "%s not found", what)
}

// conflict returns an ECONFLICT error that names the field it is about.
func conflict(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &popkit.Error{
		Code:    popkit.ECONFLICT,
		Message: msg,
		Fields:  []popkit.FieldError{{Field: field, Message: msg}},
	}
}

// taken returns the ECONFLICT error for a unique field that is in use.
func taken(field string) error {
	return conflict(field, "%s already taken", field)
}

// missingRef returns an EUNPROCESSABLE error for a field that refers to an
// object that does not exist.
func missingRef(field, what string) error {
	return &popkit.Error{
		Code:    popkit.EUNPROCESSABLE,
		Message: fmt.Sprintf("%s: %s does not exist", field, what),
		Fields:  []popkit.FieldError{{Field: field, Message: what + " does not exist"}},
	}
}

// unavailable marks err as the database being unreachable: ErrorCode
// reports EUNAVAILABLE and errors.Is/As still reach the cause.
func unavailable(what string, err error) error {
	e := &popkit.Error{Code: popkit.EUNAVAILABLE, Message: "database unavailable"}
	return fmt.Errorf("%s: %w: %w", what, e, err)
}

// unreachable reports whether err means that the database could not be
// reached or did not answer in time, rather than that it refused the
// statement: a failed connection, a connection lost or timed out, a
// deadline passed, or PostgreSQL saying it is shutting down or not yet
// accepting connections (class 08, 57P01-57P03).
func unreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err)
}

// classify adds context to a database error, marking it EUNAVAILABLE when
// the database was unreachable (see unreachable).
func classify(what string, err error) error {
	var e *popkit.Error
	if !errors.As(err, &e) && unreachable(err) {
		return unavailable(what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isUniqueViolation reports whether err is a unique or primary key
// violation.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqliteConstraintUnique || se.Code() == sqliteConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKeyViolation reports whether err is a foreign key violation.
func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqliteConstraintForeignKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// wrap adds context to a database error. Errors that are already domain
// errors pass unchanged; a database that could not be reached or did not
// answer in time is EUNAVAILABLE. A PostgreSQL data exception (class 22: a value out
// of range, a NUL byte in text) is the client's input, not a server fault,
// and becomes EINVALID; a foreign key violation that slipped past the
// explicit checks (a concurrent change) becomes EUNPROCESSABLE.
func wrap(what string, err error) error {
	var e *popkit.Error
	if errors.As(err, &e) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") {
		return fmt.Errorf("%s: %w: %w", what, popkit.Errorf(popkit.EINVALID, "input holds a value the database cannot store"), err)
	}
	if isForeignKeyViolation(err) {
		return fmt.Errorf("%s: %w: %w", what, popkit.Errorf(popkit.EUNPROCESSABLE, "a referenced object does not exist"), err)
	}
	return classify(what, err)
}

// retryable reports whether PostgreSQL ended a transaction that may
// succeed when run again: it was chosen to break a deadlock (40P01), or
// could not be serialized (40001).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
