package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/popkit/popkit"
)

// maxSaleBody bounds a POST /pos/api/sales body.
const maxSaleBody = 64 << 10

// SaleRequest is the body of POST /pos/api/sales: what the till sends.
// Prices are the agent's; the till only says what and how many, and how
// much it took (which must equal the agent's total).
type SaleRequest struct {
	// ID makes a retry safe: the till makes one (a UUID) per checkout and
	// sends it again on retry; the agent makes a UUIDv7 when it is absent.
	ID    string         `json:"id,omitempty"`
	Till  string         `json:"till,omitempty"` // default: the configured till
	Lines []SaleLineItem `json:"lines"`
	// Payment: method cash, card_offline or external (with external_ref).
	Payment popkit.Payment `json:"payment"`
	// AllowOversell confirms a sale that takes local stock below zero.
	AllowOversell bool `json:"allow_oversell,omitempty"`
}

// SaleLineItem is one SKU of a SaleRequest.
type SaleLineItem struct {
	SKUID    string `json:"sku_id"`
	Quantity int    `json:"quantity"`
}

// DecodeSaleRequest decodes and checks the shape of a sale request: a
// single JSON object, no unknown fields, 1 to popkit.MaxOrderLines lines of
// distinct SKU ids with quantities in 1..popkit.MaxLineQuantity, a known
// payment method. Whether the SKUs and the amount match the assortment is
// checked when the sale is stored.
func DecodeSaleRequest(body []byte) (SaleRequest, error) {
	var r SaleRequest
	if len(body) > maxSaleBody {
		return r, popkit.Errorf(popkit.EINVALID, "the body is over %d bytes", maxSaleBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return SaleRequest{}, popkit.Errorf(popkit.EINVALID, "invalid JSON: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return SaleRequest{}, popkit.Errorf(popkit.EINVALID, "invalid JSON: one object expected")
	}
	var v popkit.Validation
	v.Check(r.ID == "" || popkit.ValidID(r.ID), "id", "must be a lower-case UUID or absent")
	v.Check(r.Till == "" || popkit.ValidLabel(r.Till, 64), "till", "must be 1 to 64 of A-Z a-z 0-9 . _ : -")
	v.Check(len(r.Lines) >= 1 && len(r.Lines) <= popkit.MaxOrderLines, "lines", "must hold 1 to %d lines", popkit.MaxOrderLines)
	seen := map[string]bool{}
	for i, l := range r.Lines {
		f := "lines[" + strconv.Itoa(i) + "]."
		switch {
		case !popkit.ValidID(l.SKUID):
			v.Add(f+"sku_id", "must be a SKU id")
		case seen[l.SKUID]:
			v.Add(f+"sku_id", "appears in more than one line")
		}
		seen[l.SKUID] = true
		v.Check(l.Quantity >= 1 && l.Quantity <= popkit.MaxLineQuantity, f+"quantity", "must be between 1 and %d", popkit.MaxLineQuantity)
	}
	p := r.Payment
	switch p.Method {
	case popkit.PaymentCash, popkit.PaymentCardOffline, popkit.PaymentExternal:
	case popkit.PaymentCard:
		v.Add("payment.method", "the till does not take online card payments: use external with the card terminal's reference, or card_offline when the terminal cannot reach its bank")
	default:
		v.Add("payment.method", "must be one of cash, card_offline, external")
	}
	v.Check(p.AmountMinor >= 0, "payment.amount_minor", "must not be negative")
	v.Check(len(p.ExternalRef) <= 200 && utf8.ValidString(p.ExternalRef) && !strings.ContainsRune(p.ExternalRef, 0), "payment.external_ref", "must be at most 200 characters of UTF-8")
	v.Check(p.Method != popkit.PaymentExternal || strings.TrimSpace(p.ExternalRef) != "", "payment.external_ref", "is required for an external payment")
	v.Check(p.Method == popkit.PaymentExternal || p.ExternalRef == "", "payment.external_ref", "only an external payment has a reference")
	if err := v.Err(); err != nil {
		return SaleRequest{}, err
	}
	return r, nil
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a %s", te.Field, te.Type)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early"
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return strings.TrimPrefix(msg, "json: ")
}
