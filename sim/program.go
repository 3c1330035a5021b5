package sim

// The demo program: four cities in four time zones, two venues in each,
// eight microbrands and eighteen events placed around the seed's Now.

type cityPlan struct {
	name, country, zone string
	currency            string // ISO 4217: every amount below, and the city's prices, are in it
	venues              []venuePlan
	rentPerDay          int64 // minor units of currency
	tariff              int64 // minor units per kWh
	staffHour           int64 // one person's hour, minor units
}

type venuePlan struct {
	key, name, address string
	lat, lon           float64
}

type brandPlan struct {
	slug, name, email string
}

// eventKind is where an event stands at Now.
type eventKind int

const (
	past      eventKind = iota // ended before Now: closed
	current                    // a session covers Now: open
	future                     // starts after Now: scheduled
	cancelled                  // would start after Now, but was cancelled
)

type eventPlan struct {
	venue    string // venuePlan.key
	name     string
	startDay int // first day, relative to the venue's local date at Now
	days     int // one session a day
	kind     eventKind
	brands   []string // brandPlan.slug
}

// markerSlug is the slug of the demo brand whose existence means the demo
// program was already seeded.
const markerSlug = pantryBrand

var cityPlans = []cityPlan{
	{name: "Berlin", country: "DE", zone: "Europe/Berlin", currency: "EUR", rentPerDay: 32000, tariff: 38, staffHour: 1650, venues: []venuePlan{
		{"mn", "Markthalle Neun", "Eisenbahnstraße 42/43, 10997 Berlin", 52.50213, 13.43143},
		{"kb", "Kulturbrauerei", "Schönhauser Allee 36, 10435 Berlin", 52.53930, 13.41326},
	}},
	{name: "London", country: "GB", zone: "Europe/London", currency: "GBP", rentPerDay: 45000, tariff: 30, staffHour: 1450, venues: []venuePlan{
		{"sp", "Old Spitalfields Market", "16 Horner Square, London E1 6EW", 51.51966, -0.07531},
		{"cd", "Coal Drops Yard", "Stable Street, London N1C 4DQ", 51.53567, -0.12575},
	}},
	{name: "New York", country: "US", zone: "America/New_York", currency: "USD", rentPerDay: 52000, tariff: 27, staffHour: 2200, venues: []venuePlan{
		{"cm", "Chelsea Market", "75 9th Avenue, New York, NY 10011", 40.74246, -74.00605},
		{"ic", "Industry City", "220 36th Street, Brooklyn, NY 11232", 40.65535, -74.00742},
	}},
	{name: "Melbourne", country: "AU", zone: "Australia/Melbourne", currency: "AUD", rentPerDay: 58000, tariff: 33, staffHour: 3000, venues: []venuePlan{
		{"qv", "Queen Victoria Market", "Corner of Queen Street and Victoria Street, Melbourne VIC 3000", -37.80762, 144.95681},
		{"fs", "Federation Square", "Corner of Swanston Street and Flinders Street, Melbourne VIC 3000", -37.81797, 144.96905},
	}},
}

// brandPlans lists the microbrands; the marker brand comes first. Which
// catalogue products each sells is decided by brandRules.
var brandPlans = []brandPlan{
	{markerSlug, "Pantry Lane", "hello@pantrylane.example"},
	{"retrospot-bag-co", "Retrospot Bag Co.", "studio@retrospot-bags.example"},
	{"hearth-and-wick", "Hearth & Wick", "orders@hearthandwick.example"},
	{"tin-sign-works", "Tin Sign Works", "shop@tinsignworks.example"},
	{"little-felt-studio", "Little Felt Studio", "hi@littlefelt.example"},
	{"paper-parade", "Paper Parade", "hello@paperparade.example"},
	{"wicker-and-zinc", "Wicker & Zinc", "team@wickerandzinc.example"},
	{"union-row", "Union Row", "info@unionrow.example"},
}

var eventPlans = []eventPlan{
	{"mn", "Markthalle Makers Market", -41, 3, past, []string{"pantry-lane", "hearth-and-wick", "paper-parade"}},
	{"kb", "Kulturbrauerei Design Weekend", -13, 4, past, []string{"wicker-and-zinc", "tin-sign-works"}},
	{"mn", "Kreuzberg Kitchen Pop-up", -2, 5, current, []string{"pantry-lane", "retrospot-bag-co"}},
	{"kb", "Prenzlauer Berg Gift Fair", 9, 3, future, []string{"little-felt-studio", "paper-parade", "union-row"}},
	{"mn", "Markthalle Cosy Home Days", 31, 2, cancelled, []string{"hearth-and-wick"}},

	{"sp", "Spitalfields Microbrand Week", -62, 7, past, []string{"retrospot-bag-co", "union-row", "tin-sign-works"}},
	{"cd", "Coal Drops Bake Sale", -20, 3, past, []string{"pantry-lane"}},
	{"cd", "King's Cross Home & Hearth", -1, 4, current, []string{"hearth-and-wick", "wicker-and-zinc", "pantry-lane"}},
	{"sp", "Spitalfields Paper & Play", 14, 5, future, []string{"paper-parade", "little-felt-studio"}},

	{"cm", "Chelsea Market Tea Party", -30, 2, past, []string{"pantry-lane", "union-row"}},
	{"ic", "Sunset Park Signs & Storage", -7, 3, past, []string{"tin-sign-works", "retrospot-bag-co"}},
	{"cm", "Chelsea Market London Calling", 0, 3, current, []string{"union-row", "paper-parade"}},
	{"ic", "Industry City Holiday Makers", 21, 7, future, []string{"hearth-and-wick", "little-felt-studio", "wicker-and-zinc"}},

	{"qv", "Queen Vic Market Makers", -50, 4, past, []string{"little-felt-studio", "retrospot-bag-co"}},
	{"fs", "Fed Square Picnic Weekend", -4, 2, past, []string{"pantry-lane", "wicker-and-zinc"}},
	{"qv", "Queen Vic Pantry Week", -3, 7, current, []string{"pantry-lane", "tin-sign-works", "paper-parade"}},
	{"fs", "Federation Square Craft Fair", 7, 3, future, []string{"little-felt-studio", "hearth-and-wick"}},
	{"qv", "Queen Vic Gift Market", 45, 2, future, []string{"union-row", "retrospot-bag-co", "wicker-and-zinc"}},
}
