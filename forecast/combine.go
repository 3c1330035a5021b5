package forecast

import "strings"

// Combination is the equally weighted mean of its methods' point forecasts
// (Bates & Granger 1969; Makridakis et al., M4 2020), times Scale (0 means 1).
type Combination struct {
	Label   string
	Methods []Method
	Scale   float64
}

// Name returns Label or "mean(" + the methods' names + ")".
func (c Combination) Name() string {
	if c.Label != "" {
		return c.Label
	}
	var b strings.Builder
	b.WriteString("mean(")
	for i, m := range c.Methods {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.Name())
	}
	b.WriteByte(')')
	return b.String()
}

// Forecast implements Method.
func (c Combination) Forecast(y []float64, h int, out []float64) {
	tmp := make([]float64, h)
	for j := range h {
		out[j] = 0
	}
	for _, m := range c.Methods {
		m.Forecast(y, h, tmp)
		for j := range h {
			out[j] += tmp[j]
		}
	}
	s := c.Scale
	if s == 0 {
		s = 1
	}
	k := float64(len(c.Methods))
	for j := range h {
		out[j] *= s / k
	}
}
