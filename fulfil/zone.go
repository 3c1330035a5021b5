package fulfil

import (
	"sync"
	"time"
)

// zones caches the time zones loaded by name. time.LoadLocation reads and
// parses the zone file on every call, which dominated routing an order in
// the store (a router is built per order, over every node); zone data does
// not change while the process runs. Failures are not cached.
var zones sync.Map // string → *time.Location

// LoadLocation is time.LoadLocation with a process-wide cache.
func LoadLocation(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
