package textfix

//go:generate go run maketables.go

// charset identifies a legacy single-byte encoding that UTF-8 text may have
// been mis-decoded as. The order is the order of preference when two
// charsets explain the same damage equally well.
type charset uint8

const (
	cp1252 charset = iota // windows-1252, with ISO-8859-1's C1 controls folded in
	cp1250
	cp1251
	iso88592
	cp1257
	macroman
	cp437
	numCharsets
)

// nbspCharsets are the charsets that map byte 0xA0 to U+00A0, so that a
// no-break space lost to a plain space may stand for that byte.
const nbspCharsets = 1<<cp1252 | 1<<cp1250 | 1<<cp1251 | 1<<iso88592 | 1<<cp1257

// latin1 is reported instead of cp1252 when the damaged text relied on C1
// control characters, which only ISO-8859-1 produces.
const latin1 = numCharsets

var charsetCodes = [numCharsets + 1]string{
	cp1252:   "mojibake:cp1252",
	cp1250:   "mojibake:cp1250",
	cp1251:   "mojibake:cp1251",
	iso88592: "mojibake:iso8859-2",
	cp1257:   "mojibake:cp1257",
	macroman: "mojibake:macroman",
	cp437:    "mojibake:cp437",
	latin1:   "mojibake:latin1",
}

// alphaEntry describes a non-ASCII rune that some charset produces for a
// byte 0x80-0xFF: the byte in each charset (0 when it has none), and bit
// masks of the charsets in which that byte may start (lead) or continue
// (cont) a multi-byte UTF-8 sequence.
type alphaEntry struct {
	r     rune
	lead  uint8
	cont  uint8
	lead2 uint8 // two-byte leads
	sp    uint8 // leads that a space may follow, standing for 0xA0
	b     [numCharsets]byte
}

// The rune table (tables.go) gives, for each rune of the BMP, the charsets
// in which it is a mojibake lead and a continuation, and two flags.
const (
	runeBlockShift = 6
	rLead          = 0x7F    // charsets in which the rune is a lead (byte 0xC2-0xF4)
	rContShift     = 7       // charsets in which it is a continuation (0x80-0xBF), shifted
	rNFC           = 1 << 14 // not a stable NFC starter: the norm package must look
	rOdd           = 1 << 15 // C1 control, U+FEFF, no-break or odd space
)

// runeInfo returns the rune table value of r. Above the BMP only emoji and
// the common CJK ideographs are known to be stable NFC starters.
func runeInfo(r rune) uint16 {
	if uint32(r) < 0x10000 {
		return runeTable[runeBlock[r>>runeBlockShift]][r&(1<<runeBlockShift-1)]
	}
	if r >= 0x1F000 && r < 0x1FB00 || r >= 0x20000 && r < 0x2F800 {
		return 0
	}
	return rNFC
}

// lookup returns the alphabet entry of r, or nil when no charset produces r.
func lookup(r rune) *alphaEntry {
	if uint32(r) < 0x10000 {
		if i := alphaTable[alphaBlock[r>>runeBlockShift]][r&(1<<runeBlockShift-1)]; i != 0 {
			return &alphabet[i-1]
		}
	}
	return nil
}
