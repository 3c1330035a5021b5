package sqlstore

import (
	"context"
	"slices"
	"strings"

	"github.com/popkit/popkit"
)

// applySaleRecords applies the sales of a batch's new, valid sale records
// inside the ingest transaction, in occurred_at order (then sale id). A
// sale that cannot be applied (a SKU not in the assortment, an id taken by
// another order) turns its record into a rejected one with the reason and
// the raw JSON, and counts moves from stored to rejected.
func applySaleRecords(ctx context.Context, tx *txn, deviceID, stream string, fresh []ingestRow, counts map[string]int64) error {
	var sales []*popkit.IngestRecord
	for _, row := range fresh {
		if row.status == popkit.RecordStored && row.rec.Kind == popkit.RecordSale {
			sales = append(sales, row.rec)
		}
	}
	slices.SortStableFunc(sales, func(a, b *popkit.IngestRecord) int {
		if c := a.Sale.OccurredAt.Compare(b.Sale.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.Sale.ID, b.Sale.ID)
	})
	// On PostgreSQL every item the batch sells is locked first, in SKU id
	// order, so that two batches selling the same SKUs in different orders
	// cannot deadlock (each sale alone locks in SKU order too).
	if tx.db.dialect == DialectPostgres && len(sales) > 1 {
		var skus []string
		for _, rec := range sales {
			for _, l := range rec.Sale.Lines {
				skus = append(skus, l.SKUID)
			}
		}
		slices.Sort(skus)
		if _, err := lockItems(ctx, tx, sales[0].Sale.EventID, slices.Compact(skus)); err != nil {
			return err
		}
	}
	for _, rec := range sales {
		res, err := applySale(ctx, tx, rec.Sale)
		if err != nil {
			return err
		}
		if res.Status == popkit.RecordStored {
			continue
		}
		if _, err := tx.exec(ctx, `UPDATE ingest_records SET status = ?, reason = ?, raw = ? WHERE device_id = ? AND stream = ? AND seq = ?`,
			res.Status, cleanText(res.Reason, 1000), cleanText(string(rec.Raw), maxRawBytes), deviceID, stream, rec.Seq); err != nil {
			return wrap("reject sale record", err)
		}
		counts[popkit.RecordStored]--
		counts[res.Status]++
	}
	return nil
}
