// Command genfootfall derives sim/footfall_profile.csv, the weekly shape of
// footfall the demo's simulated edge agents follow, from the City of
// Melbourne's hourly pedestrian counts (see sim/FOOTFALL.md).
//
//	go run ./sim/internal/genfootfall -in ../shared/data/melbourne_pedestrian_hourly_2015_2016.csv -out sim/footfall_profile.csv
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

func main() {
	in := flag.String("in", "", "melbourne_pedestrian_hourly_2015_2016.csv")
	out := flag.String("out", "sim/footfall_profile.csv", "profile to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintf(os.Stderr, "genfootfall: %v\n", err)
		os.Exit(1)
	}
}

// run averages the counts of every sensor by local weekday and hour and
// scales them so that the busiest hour of the week is 1.
func run(in, out string) error {
	if in == "" {
		return errors.New("-in is required")
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("open input: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	var sum [7][24]float64
	var n [7][24]int
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		day, err := time.Parse("2006-01-02", rec[2])
		if err != nil {
			return fmt.Errorf("line %d: date: %w", line, err)
		}
		hour, err1 := strconv.Atoi(rec[3])
		count, err2 := strconv.ParseFloat(rec[4], 64)
		if err1 != nil || err2 != nil || hour < 0 || hour > 23 {
			return fmt.Errorf("line %d: bad hour or count", line)
		}
		wd := (int(day.Weekday()) + 6) % 7 // Monday first
		sum[wd][hour] += count
		n[wd][hour]++
	}
	var peak float64
	var mean [7][24]float64
	for d := range 7 {
		for h := range 24 {
			if n[d][h] == 0 {
				return fmt.Errorf("no counts for weekday %d hour %d", d, h)
			}
			mean[d][h] = sum[d][h] / float64(n[d][h])
			peak = max(peak, mean[d][h])
		}
	}
	o, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	w := csv.NewWriter(o)
	w.Write([]string{"weekday", "hour", "weight"})
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for d := range 7 {
		for h := range 24 {
			w.Write([]string{days[d], strconv.Itoa(h), strconv.FormatFloat(mean[d][h]/peak, 'f', 4, 64)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		o.Close()
		return fmt.Errorf("write output: %w", err)
	}
	return o.Close()
}
