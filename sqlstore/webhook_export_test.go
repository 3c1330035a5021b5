package sqlstore

import "context"

// NotifyNodeThenRollback runs notifyNode in a write transaction and rolls
// it back, as a service method does when a later step of the change fails.
func (db *DB) NotifyNodeThenRollback(ctx context.Context, nodeID, eventType string, payload any) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return tx.notifyNode(ctx, nodeID, eventType, payload)
}

// PipelinedOrders returns how many orders the pipelined PostgreSQL path
// (order_pg.go) stored.
func (db *DB) PipelinedOrders() int64 { return db.pipelinedOrders.Load() }

// SetOrderPipeline turns the pipelined order path on or off. Set it
// before the DB is used.
func (db *DB) SetOrderPipeline(on bool) { db.noPipeline = !on }
