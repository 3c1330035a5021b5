package popkit

import (
	"context"
	"time"
)

// Device is an edge agent bound to one event.
type Device struct {
	ID         string     `json:"id"`
	EventID    string     `json:"event_id"`
	Name       string     `json:"name"`
	LastSeenAt *time.Time `json:"last_seen_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Validate checks a device before it is stored.
func (d *Device) Validate() error {
	var v Validation
	v.Check(ValidID(d.EventID), "event_id", "must be an event id")
	checkName(&v, "name", d.Name)
	return v.Err()
}

// DeviceFilter selects devices.
type DeviceFilter struct {
	EventID string
	Page
}

// DeviceUpdate holds the fields a device update may change.
type DeviceUpdate struct {
	Name *string `json:"name"`
}

// DeviceService manages edge devices.
type DeviceService interface {
	// FindDeviceByID returns one device. Returns ENOTFOUND.
	FindDeviceByID(ctx context.Context, id string) (*Device, error)
	// FindDevices returns a page of devices and the next cursor.
	FindDevices(ctx context.Context, f DeviceFilter) ([]*Device, string, error)
	// CreateDevice stores a new device. Returns EINVALID, EUNPROCESSABLE
	// when the event does not exist.
	CreateDevice(ctx context.Context, d *Device) error
	// UpdateDevice changes a device. Returns ENOTFOUND, EINVALID.
	UpdateDevice(ctx context.Context, id string, u DeviceUpdate) (*Device, error)
}
