package edge

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/popkit/popkit/internal/browsertest"
)

// TestPOSPageBrowser drives the till page in a real browser on a phone-
// sized screen: two items into the cart, pay cash, the receipt shows the
// total and the pending sync, the stock shown falls; an offline card
// payment over the cap shows the refusal naming the cap.
func TestPOSPageBrowser(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Start(t)
	tee, mug := item("Tee", 2500, 10), item("Mug", 1200, 5)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee, mug)
	c := posConfig(t, f)
	c.POS.CardOfflineMaxTx = 3000
	a := startAgent(t, c)
	waitItems(t, a, 2)
	f.setDown(true)

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	sel := func(it *fakeItem) chromedp.CSS {
		return chromedp.CSS(fmt.Sprintf(`#items button[data-sku=%q]`, it.sku))
	}
	text := func(css string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatalf("read %s: %v", css, err)
		}
		return s
	}
	stockShown := func(it *fakeItem) string {
		r, err := chromedp.Run(ctx, chromedp.AttributeValue(sel(it)+" .stock", "data-stock"))
		if err != nil {
			t.Fatalf("read stock: %v", err)
		}
		return r.Value
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate("http://"+a.Addr()+"/pos"),
		chromedp.WaitVisible(sel(tee)),
		chromedp.Click(sel(tee)),
		chromedp.Click(sel(mug)),
		chromedp.WaitVisible(chromedp.CSS(`#cart-lines li:nth-child(2)`)),
	)
	if err != nil {
		t.Fatalf("fill cart: %v", err)
	}
	total := text(`#cart-total`)
	if total != "37.00 EUR" {
		t.Errorf("cart total %q", total)
	}
	if s := stockShown(tee); s != "10" {
		t.Errorf("tee stock shown %s before the sale", s)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`label:has(#method-cash)`)),
		chromedp.Click(chromedp.CSS(`#pay`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt`)),
	)
	if err != nil {
		t.Fatalf("pay: %v", err)
	}
	total, sync, id := text(`#receipt-total`), text(`#sync-state`), text(`#receipt-id`)
	if total != "37.00 EUR" || !strings.Contains(sync, "will sync") {
		t.Errorf("receipt total %q sync %q", total, sync)
	}
	if rc := receiptOf(t, a, id); rc.TotalMinor != 3700 || len(rc.Lines) != 2 {
		t.Errorf("stored receipt %+v", rc)
	}
	deadline := time.Now().Add(10 * time.Second)
	for stockShown(tee) != "9" || stockShown(mug) != "4" {
		if time.Now().After(deadline) {
			t.Fatalf("stock shown tee %s mug %s, want 9 and 4", stockShown(tee), stockShown(mug))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Over the offline card cap: the page shows the refusal.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#new-sale`)),
		chromedp.WaitVisible(sel(tee)),
		chromedp.Click(sel(tee)),
		chromedp.Click(sel(tee)),
		chromedp.WaitVisible(chromedp.CSS(`#cart-lines li`)),
		chromedp.Click(chromedp.CSS(`label:has(#method-card_offline)`)),
		chromedp.Click(chromedp.CSS(`#pay`)),
		chromedp.WaitVisible(chromedp.CSS(`#msg`)),
	)
	if err != nil {
		t.Fatalf("pay over the cap: %v", err)
	}
	msg := text(`#msg`)
	if !strings.Contains(msg, "pos.card_offline_max_tx") || !strings.Contains(msg, "30.00 EUR") {
		t.Errorf("cap message %q", msg)
	}
}
