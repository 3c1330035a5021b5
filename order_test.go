package popkit_test

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func TestOrderStatusMachine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to popkit.OrderStatus
		ok       bool
	}{
		{"confirmed to fulfilled", popkit.OrderConfirmed, popkit.OrderFulfilled, true},
		{"fulfilled to completed", popkit.OrderFulfilled, popkit.OrderCompleted, true},
		{"confirmed to cancelled", popkit.OrderConfirmed, popkit.OrderCancelled, true},
		{"requires action back to confirmed", popkit.OrderRequiresAction, popkit.OrderConfirmed, true},
		{"completed to partially refunded", popkit.OrderCompleted, popkit.OrderPartiallyRefunded, true},
		{"partially refunded to refunded", popkit.OrderPartiallyRefunded, popkit.OrderRefunded, true},
		{"confirmed straight to completed", popkit.OrderConfirmed, popkit.OrderCompleted, false},
		{"cancelled is final", popkit.OrderCancelled, popkit.OrderConfirmed, false},
		{"refunded is final", popkit.OrderRefunded, popkit.OrderPartiallyRefunded, false},
		{"fulfilled cannot be cancelled", popkit.OrderFulfilled, popkit.OrderCancelled, false},
		{"no move to itself", popkit.OrderConfirmed, popkit.OrderConfirmed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.from.CanMoveTo(tt.to); got != tt.ok {
				t.Errorf("%s → %s allowed = %v, want %v", tt.from, tt.to, got, tt.ok)
			}
		})
	}
	for _, s := range popkit.OrderStatuses {
		if want := s == popkit.OrderConfirmed || s == popkit.OrderRequiresAction; s.HoldsReservation() != want {
			t.Errorf("%s holds a reservation = %v, want %v", s, !want, want)
		}
	}
}

func TestOrderValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	valid := func() *popkit.Order {
		return &popkit.Order{EventID: popkit.NewID(), Channel: popkit.ChannelPOS,
			Lines:   []popkit.OrderLine{{SKUID: popkit.NewID(), Quantity: 2, UnitPriceMinor: 500}},
			Payment: popkit.Payment{Method: popkit.PaymentCardOffline, AmountMinor: 1000}}
	}
	tests := []struct {
		name  string
		edit  func(o *popkit.Order)
		field string // "" for valid
	}{
		{"valid", func(o *popkit.Order) {}, ""},
		{"valid with client id and sale time", func(o *popkit.Order) { o.ID, o.OccurredAt = popkit.NewID(), now.Add(-72*time.Hour) }, ""},
		{"quantity too large", func(o *popkit.Order) { o.Lines[0].Quantity = popkit.MaxLineQuantity + 1 }, "lines[0].quantity"},
		{"negative price", func(o *popkit.Order) { o.Lines[0].UnitPriceMinor = -1 }, "lines[0].unit_price_minor"},
		{"too many lines", func(o *popkit.Order) { o.Lines = make([]popkit.OrderLine, popkit.MaxOrderLines+1) }, "lines"},
		{"amount disagrees", func(o *popkit.Order) { o.Payment.AmountMinor = 999 }, "payment.amount_minor"},
		{"external ref too long", func(o *popkit.Order) { o.Payment.ExternalRef = string(make([]byte, 201)) }, "payment.external_ref"},
		{"sale in the future", func(o *popkit.Order) { o.OccurredAt = now.Add(time.Hour) }, "occurred_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.edit(o)
			err := o.Validate(now)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("Validate = %v, want EINVALID", err)
			}
			for _, f := range popkit.ErrorFields(err) {
				if f.Field == tt.field {
					return
				}
			}
			t.Errorf("Validate = %v, does not name %s", err, tt.field)
		})
	}
}
