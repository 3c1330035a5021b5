// Package forecast forecasts demand and footfall with quantiles, and
// backtests the forecasts. It is pure Go (standard library only): no
// database, no HTTP, no files of its own; the control plane, the edge agent
// and the CLI feed it histories and readers.
//
// # Methods
//
// Every point method implements Method and follows its paper's definition:
// Naive, SeasonalNaive (period 7 for days, 168 for hours of the week), SES
// (simple exponential smoothing), ETSANA (ETS(A,N,A), additive weekly
// seasonality, α and γ by least one-step squared error over a grid, which is
// the Gaussian likelihood with the initial states fixed), Croston and SBA,
// TSB, ADIDA, IMAPA, DayOfWeekProfile (a recent level times a long-run
// weekday or hour-of-week profile), SeasonalMean and SeasonalMedian (the
// same position of the last few seasons) and Combination (equal-weight
// mean). Conformal turns any of them into a Forecaster with quantiles.
//
// # Automatic choice
//
// Auto is the forecaster to use. Its design was chosen by rolling-origin
// validation on origins other than the published test windows (the
// validation origins of BENCHMARKS.md, Feb–Jul 2011 for daily demand) and is
// fixed per frequency rather than picked per series, because per-series
// selection among close candidates chases noise on 300 short series:
//
//   - Daily demand (AutoDaily). The history is winsorised at its 0.95
//     quantile of non-zero days, so a single wholesale order does not lift the
//     level; the point forecast is the mean of ETS(A,N,A) and the day-of-week
//     profile (level: last 28 days; profile: last 52 weeks). ETS adapts to
//     level shifts, the profile keeps a stable weekday shape; their errors
//     are weakly correlated, so the mean beats both (and every intermittent
//     method, which ignore the weekday pattern these SKUs have).
//   - Hourly counts (AutoHourly). The mean of the hour-of-week medians of
//     the last 5 and the last 3 weeks (robust to one-off events, the shorter
//     one quicker to follow a seasonal change) and the hour-of-week profile
//     over 52 weeks scaled to the last week's level. No winsorising: busy
//     hours are the signal. Among the combinations tried it had the lowest
//     MASE and MAPE on the 40 validation weeks of 2016.
//
// # Quantiles
//
// Every Forecast carries the quantiles q50, q80, q90 and q95 (Levels). They
// are split-conformal: the combination is re-run from Origins in-sample
// origins one season apart (12 weeks for daily, 8 for hourly), with the
// parameters fitted on the whole history held fixed; the errors of those
// forecasts against the raw (not winsorised) history over the next h periods
// are divided by sqrt(ŷ+1), pooled, and their ⌈(k+1)τ⌉-th smallest value is
// added back as ŷ + e·sqrt(ŷ+1), floored at 0. Dividing by sqrt(ŷ+1) makes
// count errors comparable across days with different expected demand, so a
// busy Saturday gets a wider interval than a quiet Monday. Gaussian
// intervals over-cover on these skewed series; empirical ones need no
// distributional assumption.
//
// # Backtests
//
// BacktestRetail and BacktestHourly implement Protocols A and B of issue 14
// exactly (see their documentation and Score for every metric's definition);
// LoadRetail and LoadHourly read the two input layouts from any reader, plain
// or gzipped, and report a malformed row with its line number.
package forecast
