package popkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// MemberCode is the signed token in a member's personal link and QR code:
// "<member id>.<expiry unix seconds>.<signature>", where the signature is
// HMAC-SHA256 under the server's member-link secret over
// "member:<member id>:<expiry>", base64url without padding. It contains
// nothing secret; it only proves that the server issued it.

// SignMemberCode returns the member code for memberID that expires at exp.
func SignMemberCode(secret []byte, memberID string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return memberID + "." + e + "." + memberMAC(secret, memberID, e)
}

func memberMAC(secret []byte, memberID, exp string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("member:" + memberID + ":" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifyMemberCode returns the member id of a code signed with secret that
// has not expired at now. It returns EUNAUTHORIZED for a malformed, forged
// or expired code.
func VerifyMemberCode(secret []byte, code string, now time.Time) (string, error) {
	bad := Errorf(EUNAUTHORIZED, "member code is not valid")
	if len(code) > 200 {
		return "", bad
	}
	id, rest, ok := strings.Cut(code, ".")
	if !ok || !ValidID(id) {
		return "", bad
	}
	exp, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return "", bad
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != exp {
		return "", bad
	}
	if !hmac.Equal([]byte(sig), []byte(memberMAC(secret, id, exp))) {
		return "", bad
	}
	if now.Unix() >= n {
		return "", Errorf(EUNAUTHORIZED, "member code has expired")
	}
	return id, nil
}
