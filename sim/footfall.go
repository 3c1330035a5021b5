package sim

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// footfallCSV is the weekly footfall shape: the mean hourly pedestrian
// count by local weekday and hour of four City of Melbourne sensors,
// 2015-2016, scaled so that the busiest hour is 1 (see FOOTFALL.md).
//
//go:embed footfall_profile.csv
var footfallCSV string

// FootfallProfile gives the relative footfall of each hour of the week.
type FootfallProfile [7][24]float64 // [weekday from Monday][hour]

// LoadFootfallProfile parses the embedded profile.
func LoadFootfallProfile() (*FootfallProfile, error) {
	recs, err := csv.NewReader(strings.NewReader(footfallCSV)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read footfall profile: %w", err)
	}
	days := map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
	var p FootfallProfile
	if len(recs) != 1+7*24 {
		return nil, fmt.Errorf("footfall profile has %d rows, want %d", len(recs), 1+7*24)
	}
	for i, rec := range recs[1:] {
		d, ok := days[rec[0]]
		h, err1 := strconv.Atoi(rec[1])
		w, err2 := strconv.ParseFloat(rec[2], 64)
		if !ok || err1 != nil || err2 != nil || h < 0 || h > 23 || w < 0 || w > 1 {
			return nil, fmt.Errorf("footfall profile row %d is invalid: %v", i+2, rec)
		}
		p[d][h] = w
	}
	return &p, nil
}

// At returns the relative footfall at t (in t's location).
func (p *FootfallProfile) At(t time.Time) float64 {
	return p[(int(t.Weekday())+6)%7][t.Hour()]
}
