// Package textfix repairs damaged text as it arrives from news wires and
// feeds: mojibake (UTF-8 that was mis-decoded as windows-1252, ISO-8859-1,
// windows-1250, ISO-8859-2, windows-1251, MacRoman or cp437, once or several
// times, in all or part of a string), HTML character references, stray
// control characters, odd whitespace and non-NFC text.
//
// Fix and FixWith work on strings; Decode turns raw bytes of any declared or
// undeclared charset into UTF-8 first. Clean text is returned unchanged, and
// checking it costs little more than a scan.
//
// Mojibake is found as runs of characters that, encoded back in a legacy
// charset, form valid multi-byte UTF-8. Each run is rated by comparing how
// odd the text reads as it is and as decoded (letters glued to symbols,
// case flips inside words, C1 controls, rare blocks, a word switching
// alphabets); only runs that read clearly better decoded are repaired, so
// text that merely looks unusual stays as it is.
package textfix
