package web

import "strings"

// bidiControls removes the Unicode bidirectional embedding, override and
// isolate controls (U+202A-U+202E, U+2066-U+2069). In listing text they
// only serve to make text read differently from what it is ("cod.exe"
// shown as "exe.doc"); right-to-left scripts display correctly without
// them. The marks U+200E and U+200F, which cannot reorder text, are kept.
var bidiControls = strings.NewReplacer(
	"\u202a", "", "\u202b", "", "\u202c", "", "\u202d", "", "\u202e", "",
	"\u2066", "", "\u2067", "", "\u2068", "", "\u2069", "",
)

// neutraliseBidi returns s without bidirectional override controls.
func neutraliseBidi(s string) string {
	if !strings.ContainsAny(s, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
		return s
	}
	return bidiControls.Replace(s)
}
