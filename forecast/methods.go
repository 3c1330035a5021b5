package forecast

// conformal12 wraps a point method with quantiles from 12 in-sample origins
// step periods apart, floored at 0 (demand and counts are non-negative).
func conformal12(m Method, step int) Forecaster {
	return Conformal{M: m, Origins: 12, Step: step, NonNegative: true}
}

// DailyMethods returns every method the daily backtest reports, each with
// conformal quantiles, the automatic forecaster last: naive, seasonal naive
// (7), SES, ETS(A,N,A), Croston, SBA, TSB, ADIDA, IMAPA, the day-of-week
// profile, the mean of SES, TSB, day-of-week and ETS, and AutoDaily.
func DailyMethods() []Forecaster {
	ses, ets, tsb := SES{}, ETSANA{Period: 7}, TSB{Alpha: 0.1, Beta: 0.1}
	dow := DayOfWeekProfile{Period: 7, Level: 28, Weeks: 52}
	ms := []Method{
		Naive{}, SeasonalNaive{Period: 7}, ses, ets,
		Croston{Alpha: 0.1}, Croston{Alpha: 0.1, Bias: true}, tsb, ADIDA{}, IMAPA{}, dow,
		Combination{Label: "comb", Methods: []Method{ses, tsb, dow, ets}},
	}
	var fs []Forecaster
	for _, m := range ms {
		fs = append(fs, conformal12(m, 7))
	}
	return append(fs, AutoDaily())
}

// HourlyMethods returns every method the hourly backtest reports, each with
// conformal quantiles, the automatic forecaster last: naive, seasonal naive
// (168), SES, ETS(A,N,A) with period 168, the hour-of-week mean of the last
// 4 weeks, the hour-of-week median of the last 5 weeks, the hour-of-week
// profile, and AutoHourly.
func HourlyMethods() []Forecaster {
	const p = 168
	ms := []Method{
		Naive{}, SeasonalNaive{Period: p}, SES{}, ETSANA{Period: p},
		SeasonalMean{Period: p, Seasons: 4}, SeasonalMedian{Period: p, Seasons: 5},
		DayOfWeekProfile{Period: p, Level: p, Weeks: 52},
	}
	var fs []Forecaster
	for _, m := range ms {
		fs = append(fs, Conformal{M: m, Origins: 8, Step: p, NonNegative: true})
	}
	return append(fs, AutoHourly())
}
