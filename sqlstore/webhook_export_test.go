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
