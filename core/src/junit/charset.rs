//! The encodings the reader decodes besides UTF-8, as small streaming decoders.
//!
//! Why not `encoding_rs`: it was measured in the WebAssembly build (`wasm-release`,
//! sizes without custom sections). With it the module is 2,084,502 bytes (687,520
//! gzipped); with this file 1,920,260 (559,418 gzipped): `encoding_rs` costs 164 KB,
//! 128 KB gzipped (+23%), almost all of it the tables of the CJK encodings, which it
//! cannot leave out. JUnit reports that are not UTF-8 come from old Ant, .NET and
//! Windows runners and are Latin-1, windows-1252, ISO-8859-15 or UTF-16: one 32-entry
//! table, eight exceptions and `char::decode_utf16` cover them.
//!
//! Labels are matched as the WHATWG Encoding Standard (and so browsers) match them:
//! `ISO-8859-1`, `latin1` and `US-ASCII` are read as windows-1252, which is what such
//! files hold in practice (`€` and smart quotes in 0x80-0x9F, where ISO-8859-1 has
//! unused control codes).

/// An encoding the reader can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Utf16Le,
    Utf16Be,
    Windows1252,
    Iso8859_15,
}

impl Charset {
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Utf16Le => "UTF-16LE",
            Charset::Utf16Be => "UTF-16BE",
            Charset::Windows1252 => "windows-1252",
            Charset::Iso8859_15 => "ISO-8859-15",
        }
    }

    pub fn is_utf16(self) -> bool {
        matches!(self, Charset::Utf16Le | Charset::Utf16Be)
    }

    /// The encoding an `encoding="..."` label names, with the WHATWG labels.
    pub fn for_label(label: &str) -> Option<Charset> {
        let label = label.trim().to_ascii_lowercase();
        Some(match label.as_str() {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" | "unicode11utf8" | "unicode20utf8"
            | "x-unicode20utf8" => Charset::Utf8,
            "utf-16" | "utf-16le" | "ucs-2" | "unicode" | "csunicode" | "iso-10646-ucs-2"
            | "unicodefeff" => Charset::Utf16Le,
            "utf-16be" | "unicodefffe" => Charset::Utf16Be,
            "windows-1252" | "cp1252" | "x-cp1252" | "iso-8859-1" | "iso8859-1" | "iso88591"
            | "iso_8859-1" | "iso_8859-1:1987" | "iso-ir-100" | "latin1" | "l1" | "csisolatin1"
            | "cp819" | "ibm819" | "us-ascii" | "ascii" | "ansi_x3.4-1968" => Charset::Windows1252,
            "iso-8859-15" | "iso8859-15" | "iso885915" | "iso_8859-15" | "csisolatin9" | "l9"
            | "latin-9" | "latin9" => Charset::Iso8859_15,
            _ => return None,
        })
    }
}

/// windows-1252 in 0x80-0x9F (WHATWG: the five unused bytes map to C1 controls).
const WINDOWS_1252_HIGH: [u16; 32] = [
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
];

fn single_byte(charset: Charset, b: u8) -> char {
    let code = match (charset, b) {
        (Charset::Windows1252, 0x80..=0x9F) => WINDOWS_1252_HIGH[usize::from(b - 0x80)],
        (Charset::Iso8859_15, 0xA4) => 0x20AC,
        (Charset::Iso8859_15, 0xA6) => 0x0160,
        (Charset::Iso8859_15, 0xA8) => 0x0161,
        (Charset::Iso8859_15, 0xB4) => 0x017D,
        (Charset::Iso8859_15, 0xB8) => 0x017E,
        (Charset::Iso8859_15, 0xBC) => 0x0152,
        (Charset::Iso8859_15, 0xBD) => 0x0153,
        (Charset::Iso8859_15, 0xBE) => 0x0178,
        _ => u16::from(b),
    };
    char::from_u32(u32::from(code)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Bytes that are not valid in the encoding: a lone surrogate, or half a code unit
/// at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The offending bytes in file order.
    pub bytes: Vec<u8>,
}

/// A decoder that keeps what a chunk boundary cut: half a UTF-16 code unit, or the
/// first half of a surrogate pair.
pub struct Decoder {
    charset: Charset,
    half_unit: Option<u8>,
    high_surrogate: Option<u16>,
}

impl Decoder {
    pub fn new(charset: Charset) -> Decoder {
        Decoder {
            charset,
            half_unit: None,
            high_surrogate: None,
        }
    }

    /// Decodes `src` onto `out` until `out` holds at least `room` bytes or `src` ends.
    /// Returns the bytes of `src` used; `last` says no input follows.
    pub fn decode(
        &mut self,
        src: &[u8],
        out: &mut String,
        room: usize,
        last: bool,
    ) -> (usize, Result<(), Malformed>) {
        let mut read = 0;
        while read < src.len() && out.len() < room {
            let b = src[read];
            read += 1;
            if !self.charset.is_utf16() {
                out.push(single_byte(self.charset, b));
                continue;
            }
            let Some(first) = self.half_unit.take() else {
                self.half_unit = Some(b);
                continue;
            };
            let unit = match self.charset {
                Charset::Utf16Be => u16::from_be_bytes([first, b]),
                _ => u16::from_le_bytes([first, b]),
            };
            if let Err(bad) = self.unit(unit, out) {
                return (read, Err(bad));
            }
        }
        if last && read == src.len() {
            let mut rest = Vec::new();
            if let Some(high) = self.high_surrogate.take() {
                rest.extend(self.unit_bytes(high));
            }
            rest.extend(self.half_unit.take());
            if !rest.is_empty() {
                return (read, Err(Malformed { bytes: rest }));
            }
        }
        (read, Ok(()))
    }

    fn unit(&mut self, unit: u16, out: &mut String) -> Result<(), Malformed> {
        let pending = self.high_surrogate.take();
        let units: &[u16] = match pending {
            Some(high) => &[high, unit],
            None if (0xD800..0xDC00).contains(&unit) => {
                self.high_surrogate = Some(unit);
                return Ok(());
            }
            None => &[unit],
        };
        for decoded in char::decode_utf16(units.iter().copied()) {
            match decoded {
                Ok(c) => out.push(c),
                Err(_) => {
                    return Err(Malformed {
                        bytes: units.iter().flat_map(|u| self.unit_bytes(*u)).collect(),
                    });
                }
            }
        }
        Ok(())
    }

    fn unit_bytes(&self, unit: u16) -> [u8; 2] {
        match self.charset {
            Charset::Utf16Be => unit.to_be_bytes(),
            _ => unit.to_le_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_chunks(charset: Charset, bytes: &[u8], chunk: usize) -> Result<String, Malformed> {
        let mut d = Decoder::new(charset);
        let mut out = String::new();
        let mut chunks = bytes.chunks(chunk).peekable();
        while let Some(c) = chunks.next() {
            let last = chunks.peek().is_none();
            let (read, result) = d.decode(c, &mut out, usize::MAX, last);
            result?;
            assert_eq!(read, c.len());
        }
        Ok(out)
    }

    #[test]
    fn single_byte_tables() {
        let all: Vec<u8> = (0..=255).collect();
        let text = decode_in_chunks(Charset::Windows1252, &all, 5).expect("decoded");
        assert_eq!(text.chars().count(), 256);
        assert_eq!(text.chars().nth(0x80), Some('€'));
        assert_eq!(text.chars().nth(0x93), Some('“'));
        assert_eq!(text.chars().nth(0xE9), Some('é'));
        let text = decode_in_chunks(Charset::Iso8859_15, &[0xA4, 0xE9, 0xBD], 1);
        assert_eq!(text.as_deref(), Ok("€éœ"));
    }

    #[test]
    fn utf16_across_every_chunk_boundary() {
        let text = "a€𝄞ß\u{FFFD}z";
        for (charset, bytes) in [
            (
                Charset::Utf16Le,
                text.encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<_>>(),
            ),
            (
                Charset::Utf16Be,
                text.encode_utf16()
                    .flat_map(u16::to_be_bytes)
                    .collect::<Vec<_>>(),
            ),
        ] {
            for chunk in 1..=bytes.len() {
                assert_eq!(
                    decode_in_chunks(charset, &bytes, chunk).as_deref(),
                    Ok(text),
                    "{charset:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn lone_surrogates_and_half_units_are_malformed() {
        let lone_low = [b'a', 0, 0x00, 0xDC, b'b', 0];
        let err = decode_in_chunks(Charset::Utf16Le, &lone_low, 3).expect_err("malformed");
        assert_eq!(err.bytes, [0x00, 0xDC]);
        let high_then_text = [0xD8, 0x00, 0x00, b'b'];
        let err = decode_in_chunks(Charset::Utf16Be, &high_then_text, 1).expect_err("malformed");
        assert_eq!(err.bytes, [0xD8, 0x00, 0x00, b'b']);
        let cut = [b'a', 0, b'b'];
        let err = decode_in_chunks(Charset::Utf16Le, &cut, 2).expect_err("malformed");
        assert_eq!(err.bytes, [b'b']);
        let cut_pair = [0x3C, 0xD8];
        let err = decode_in_chunks(Charset::Utf16Le, &cut_pair, 2).expect_err("malformed");
        assert_eq!(err.bytes, [0x3C, 0xD8]);
    }

    #[test]
    fn labels_as_browsers_read_them() {
        assert_eq!(
            Charset::for_label(" ISO-8859-1 "),
            Some(Charset::Windows1252)
        );
        assert_eq!(Charset::for_label("Cp1252"), Some(Charset::Windows1252));
        assert_eq!(Charset::for_label("utf-16"), Some(Charset::Utf16Le));
        assert_eq!(Charset::for_label("UTF-16BE"), Some(Charset::Utf16Be));
        assert_eq!(Charset::for_label("latin9"), Some(Charset::Iso8859_15));
        assert_eq!(Charset::for_label("Shift_JIS"), None);
        assert_eq!(Charset::for_label("UTF-7"), None);
    }
}
