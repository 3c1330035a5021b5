package sim

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// catalogCSV is the fixture derived from the UCI Online Retail data set; see
// CATALOG.md for its origin, licence and how to regenerate it.
//
//go:embed catalog.csv
var catalogCSV []byte

// CatalogItem is one product of the demo catalogue. Code, Description,
// PriceMinor and Lines come from the real UCI Online Retail data; the other
// fields are derived from them deterministically for the demo (see
// CATALOG.md).
type CatalogItem struct {
	Code        string // UCI StockCode, e.g. "85123A"
	Description string // most common UCI description, upper case as in the source
	Name        string // Description in title case, used as the SKU name
	Lines       int    // sale lines of the code in the source
	// PriceMinor is the lower median unit price in pence. The demo program's
	// currency is GBP, so it is used as the price as is.
	PriceMinor int64
	// UnitCostMinor is 35-55% of PriceMinor, chosen by a hash of Code.
	UnitCostMinor int64
	// WeightGrams is 80-1,200 g, chosen by a hash of Code.
	WeightGrams int
	// BrandSlug names the demo microbrand that sells the product, chosen by
	// keywords of the description.
	BrandSlug string
	// Perishable is set for the pantry brand's food containers, which the
	// demo pretends are sold filled.
	Perishable bool
}

var catalog = sync.OnceValue(func() []CatalogItem {
	items, err := parseCatalog(catalogCSV)
	if err != nil {
		panic(fmt.Sprintf("sim: embedded catalog.csv: %v", err))
	}
	return items
})

// Catalog returns the embedded demo catalogue in StockCode order. The fixture
// is parsed once; each call returns a new slice the caller may change.
func Catalog() []CatalogItem {
	return slices.Clone(catalog())
}

func parseCatalog(data []byte) ([]CatalogItem, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = 4
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || !slices.Equal(recs[0], []string{"stock_code", "description", "median_price_pence", "lines"}) {
		return nil, fmt.Errorf("unexpected header")
	}
	items := make([]CatalogItem, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		price, err := strconv.ParseInt(rec[2], 10, 64)
		if err != nil || price <= 0 {
			return nil, fmt.Errorf("stock code %s: bad price %q", rec[0], rec[2])
		}
		lines, err := strconv.Atoi(rec[3])
		if err != nil || lines <= 0 {
			return nil, fmt.Errorf("stock code %s: bad line count %q", rec[0], rec[3])
		}
		if rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("empty stock code or description")
		}
		h := hash(rec[0])
		it := CatalogItem{
			Code:        rec[0],
			Description: rec[1],
			Name:        titleCase(rec[1]),
			Lines:       lines,
			PriceMinor:  price,
			WeightGrams: 80 + int(h>>8%1121),
			BrandSlug:   brandFor(rec[1]),
		}
		it.UnitCostMinor = max(1, (price*int64(35+h%21)+50)/100)
		it.Perishable = it.BrandSlug == pantryBrand && hasWord(rec[1], foodWords...) && hasWord(rec[1], containerWords...)
		items = append(items, it)
	}
	return items, nil
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// The UCI catalogue holds no food. The demo pretends that the pantry brand
// sells its food containers filled (a cake stand with cakes, spice tins with
// spices), so a pantry product whose description has one of foodWords and
// one of containerWords is perishable.
var (
	foodWords      = []string{"BREAD", "CAKE", "CAKESTAND", "COFFEE", "JAM", "MARSHMALLOWS", "MILK", "MIX", "POPCORN", "SNACK", "SPICE", "SUGAR", "TEA"}
	containerWords = []string{"BIN", "BOTTLES", "BOWL", "BOXES", "CAKESTAND", "HOLDER", "JARS", "STAND", "TINS"}
)

// pantryBrand is the slug of the demo brand whose food-themed sets are
// perishable.
const pantryBrand = "pantry-lane"

// brandRules assign a product to a demo brand by the first rule with a word
// in its description; products matching no rule go to the last brand.
var brandRules = []struct {
	slug  string
	words []string
}{
	{"hearth-and-wick", []string{"T-LIGHT", "CANDLE", "CANDLES", "CANDLEHOLDER", "LIGHT", "LIGHTS", "HLDR", "BOTTLE", "HOTTIE", "WARMER"}},
	{"retrospot-bag-co", []string{"BAG", "SHOPPER", "BAGS"}},
	{"union-row", []string{"TOWELS", "UNION", "LONDON", "WALLET", "SEWING", "TRINKET", "CHEST", "STORAGE", "TISSUES", "FAN", "PARASOL", "PARASOLS", "KNEELING"}},
	{"tin-sign-works", []string{"SIGN", "DOORMAT", "CLOCK", "KNOB", "HOOK", "HANGER", "RACK", "PEGS", "MEMO", "LIST", "CHALKBOARD", "BOARD"}},
	{"little-felt-studio", []string{"FELTCRAFT", "FELT", "DOLL", "GAME", "SKITTLES", "TOPS", "HARMONICA", "CRAYONS", "COLOURING", "PLAYHOUSE", "BLOCK", "DOMINOES", "KNITTING", "SKIPPING", "SNAP", "PLASTERS", "CHILDRENS", "APRON", "LUNCH", "MICE", "GLIDERS", "TIDY", "KIDS"}},
	{"paper-parade", []string{"BUNTING", "PAPER", "CARD", "CARDS", "TAGS", "NOTEBOOKS", "STATIONERY", "RIBBON", "RIBBONS", "CRACKERS", "NAPKINS", "DOILIES", "CHRISTMAS"}},
	{pantryBrand, []string{"CAKE", "CAKESTAND", "COOKIE", "BAKING", "JAM", "TEA", "TEACUP", "TEAPOT", "SUGAR", "SPICE", "PANTRY", "JELLY", "MARSHMALLOWS", "SNACK", "POPCORN", "BREAD", "EGG", "LOAF", "KITCHEN", "RECIPE", "OVEN", "CUPS", "PLATES", "BOWL", "BOWLS", "SPOONS", "CUTLERY", "MILK", "SCALES", "JUG", "COFFEE"}},
	{"wicker-and-zinc", []string{"WICKER", "ZINC", "WOODEN", "WOOD", "FRAME", "SLATE", "DECORATION", "DECORATIONS", "STAR", "ORNAMENT", "GARDEN", "ENAMEL", "CABINET", "BELLS"}},
}

func brandFor(desc string) string {
	for _, r := range brandRules {
		if hasWord(desc, r.words...) {
			return r.slug
		}
	}
	return brandRules[len(brandRules)-1].slug
}

// hasWord reports whether desc contains one of words as a whole word.
// Words are separated by anything but letters, digits, hyphens and
// apostrophes.
func hasWord(desc string, words ...string) bool {
	fields := strings.FieldsFunc(desc, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '\'')
	})
	for _, f := range fields {
		if slices.Contains(words, f) {
			return true
		}
	}
	return false
}

// smallWords stay lower case inside a title.
var smallWords = map[string]bool{"A": true, "AND": true, "AS": true, "FOR": true, "IN": true, "OF": true, "ON": true, "OR": true, "THE": true, "TO": true, "WITH": true}

// acronyms stay upper case.
var acronyms = map[string]bool{"LED": true, "PC": true, "I": true, "N0": true}

// titleCase turns an upper-case description into a title:
// "SET OF 3 CAKE TINS PANTRY DESIGN" becomes "Set of 3 Cake Tins Pantry Design".
func titleCase(desc string) string {
	words := strings.Fields(desc)
	for i, w := range words {
		switch {
		case acronyms[w]:
		case i > 0 && smallWords[w]:
			words[i] = strings.ToLower(w)
		default:
			var b strings.Builder
			up := true
			for _, r := range w {
				if up {
					b.WriteString(strings.ToUpper(string(r)))
				} else {
					b.WriteString(strings.ToLower(string(r)))
				}
				up = r == '-' || r == '/' || r == ',' || r == '+' || r == '('
			}
			words[i] = b.String()
		}
	}
	return strings.Join(words, " ")
}
