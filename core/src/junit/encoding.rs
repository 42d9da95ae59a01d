//! Reports in other encodings than UTF-8, decoded to UTF-8 while streaming.
//!
//! The encoding is taken from the byte order mark (UTF-8, UTF-16LE, UTF-16BE), then
//! from the bytes of the first characters (UTF-16 without a mark), then from the
//! `encoding` attribute of the XML declaration; without any of them the report is
//! UTF-8, as XML says. UTF-8 passes through untouched; other encodings (see
//! `charset.rs`) are decoded in chunks of [`CHUNK`] bytes, so memory stays constant
//! whatever the size of the report.
//!
//! Positions: the reader counts the UTF-8 text. For a decoded report, line and column
//! are the same as in the original file; byte offsets count the UTF-8 text, not the
//! original bytes.

use super::charset::{Charset, Decoder};
use crate::error::{Error, Location};
use std::io::{self, BufRead, Read};

/// Raw bytes looked at to find the declaration: `<?xml ... encoding="..."?>` fits.
const HEAD_MAX: usize = 1024;
/// Decoded UTF-8 produced per step.
const CHUNK: usize = 8 * 1024;

/// The message of the I/O error used to stop quick-xml at a byte sequence that is not
/// valid in the report's encoding.
pub const UNDECODABLE: &str = "tmbridge: bytes not valid in the report's encoding";

enum Mode {
    /// The head has not been read yet.
    Unknown,
    /// UTF-8: the bytes go through as they are.
    PassThrough,
    Decode(Decoder),
}

/// What the start of the report said about its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub charset: Charset,
    /// A declaration that was not followed (a UTF-16 label on ASCII bytes, or a label
    /// that disagrees with the byte order mark), for a warning.
    pub ignored_label: Option<String>,
}

/// A `BufRead` that yields UTF-8 whatever the report's encoding.
pub struct Decode<R> {
    inner: R,
    mode: Mode,
    charset: Charset,
    /// Raw bytes read while looking for the encoding, not yet handed on.
    head: Vec<u8>,
    head_pos: usize,
    /// Decoded UTF-8 not yet handed on.
    out: String,
    out_pos: usize,
    finished: bool,
    /// Set when decoding stopped at bytes not valid in the encoding.
    pub undecodable: Option<Undecodable>,
}

/// Bytes that are not valid in the report's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    pub charset: Charset,
    /// The offending bytes, as hex (`0x00 0xD8`).
    pub bytes: String,
}

impl<R: BufRead> Decode<R> {
    pub fn new(inner: R) -> Decode<R> {
        Decode {
            inner,
            mode: Mode::Unknown,
            charset: Charset::Utf8,
            head: Vec::new(),
            head_pos: 0,
            out: String::new(),
            out_pos: 0,
            finished: false,
            undecodable: None,
        }
    }

    /// Reads the start of the report and decides its encoding. Called once, before
    /// anything is read; an encoding that cannot be decoded is an error here.
    pub fn detect(&mut self) -> Result<Detected, Error> {
        while self.head.len() < HEAD_MAX && !self.head.contains(&b'>') {
            let buf = self
                .inner
                .fill_buf()
                .map_err(|e| Error::new("junit.io", format!("could not read the report: {e}")))?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min(HEAD_MAX - self.head.len());
            self.head.extend_from_slice(&buf[..n]);
            self.inner.consume(n);
        }
        let (charset, bom, ignored_label) = sniff(&self.head)?;
        self.charset = charset;
        self.head_pos = bom;
        self.mode = match charset {
            Charset::Utf8 => Mode::PassThrough,
            other => Mode::Decode(Decoder::new(other)),
        };
        Ok(Detected {
            charset,
            ignored_label,
        })
    }

    /// The encoding the report is read in.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Decodes the next chunk into `out`. Returns false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        let Mode::Decode(decoder) = &mut self.mode else {
            return Ok(false);
        };
        if self.finished {
            return Ok(false);
        }
        self.out.clear();
        self.out_pos = 0;
        loop {
            let from_head = self.head_pos < self.head.len();
            let src: &[u8] = if from_head {
                &self.head[self.head_pos..]
            } else {
                self.inner.fill_buf()?
            };
            let last = src.is_empty();
            let (read, result) = decoder.decode(src, &mut self.out, CHUNK, last);
            if from_head {
                self.head_pos += read;
            } else {
                self.inner.consume(read);
            }
            if let Err(bad) = result {
                self.undecodable = Some(Undecodable {
                    charset: self.charset,
                    bytes: hex(&bad.bytes),
                });
                self.finished = true;
                // Hand out what came before first, so that the error points at the bytes.
                return Ok(!self.out.is_empty());
            }
            if last {
                self.finished = true;
                return Ok(!self.out.is_empty());
            }
            // Half a UTF-16 code unit gives no text yet: read on.
            if !self.out.is_empty() {
                return Ok(true);
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl<R: BufRead> Read for Decode<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Decode<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.mode {
            // Never read through detect(): nothing was read yet.
            Mode::Unknown => self.inner.fill_buf(),
            Mode::PassThrough if self.head_pos < self.head.len() => Ok(&self.head[self.head_pos..]),
            Mode::PassThrough => self.inner.fill_buf(),
            Mode::Decode(_) => {
                if self.out_pos >= self.out.len() && !self.refill()? {
                    if self.undecodable.is_some() {
                        return Err(io::Error::other(UNDECODABLE));
                    }
                    return Ok(&[]);
                }
                Ok(&self.out.as_bytes()[self.out_pos..])
            }
        }
    }

    fn consume(&mut self, amt: usize) {
        match self.mode {
            Mode::Unknown => self.inner.consume(amt),
            Mode::PassThrough if self.head_pos < self.head.len() => {
                self.head_pos = (self.head_pos + amt).min(self.head.len());
            }
            Mode::PassThrough => self.inner.consume(amt),
            Mode::Decode(_) => self.out_pos = (self.out_pos + amt).min(self.out.len()),
        }
    }
}

/// The encoding, the length of its byte order mark, and a declared label not followed.
fn sniff(head: &[u8]) -> Result<(Charset, usize, Option<String>), Error> {
    let declared = declared_encoding(head);
    let label = declared.as_ref().map(|(l, _)| l.clone());
    let by_mark = match head {
        // The UTF-8 mark is left in: quick-xml skips it and positions count it.
        [0xEF, 0xBB, 0xBF, ..] => Some((Charset::Utf8, 0)),
        [0xFF, 0xFE, ..] => Some((Charset::Utf16Le, 2)),
        [0xFE, 0xFF, ..] => Some((Charset::Utf16Be, 2)),
        // ASCII text with a zero byte beside each character: UTF-16 without a mark.
        [first, 0, ..] if *first != 0 => Some((Charset::Utf16Le, 0)),
        [0, second, ..] if *second != 0 => Some((Charset::Utf16Be, 0)),
        _ => None,
    };
    if let Some((charset, bom)) = by_mark {
        let agrees = label
            .as_deref()
            .and_then(Charset::for_label)
            .is_none_or(|c| c == charset || c.is_utf16() && charset.is_utf16());
        return Ok((charset, bom, (!agrees).then_some(label).flatten()));
    }
    let Some((label, offset)) = declared else {
        return Ok((Charset::Utf8, 0, None));
    };
    match Charset::for_label(&label) {
        // .NET writes `encoding="utf-16"` when it serialises to a string that is then
        // saved as UTF-8: the ASCII bytes of the declaration prove it is not UTF-16.
        Some(c) if c.is_utf16() => Ok((Charset::Utf8, 0, Some(label))),
        Some(c) => Ok((c, 0, None)),
        None => Err(Error::new(
            "junit.unsupported_encoding",
            format!("the report declares encoding=\"{label}\", which tmbridge cannot decode"),
        )
        .at(Location::in_text(head, offset))
        .with_hint(
            "tmbridge reads UTF-8, UTF-16, ISO-8859-1, ISO-8859-15 and windows-1252; convert the report first, e.g. iconv -f <encoding> -t UTF-8 report.xml > report-utf8.xml",
        )),
    }
}

/// The `encoding` pseudo-attribute of an ASCII XML declaration, with the offset of its
/// value.
fn declared_encoding(head: &[u8]) -> Option<(String, usize)> {
    let start = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let rest = head.get(start..)?;
    if !rest.starts_with(b"<?xml") || !rest.get(5).is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    // The declaration ends at its first `>`, which must close `?>`: looking further
    // would read text of the document, and what is read would then depend on how
    // much of the input has arrived.
    let close = memchr::memchr(b'>', rest)?;
    if close == 0 || rest[close - 1] != b'?' {
        return None;
    }
    let decl = &rest[..close - 1];
    let mut at = memchr::memmem::find(decl, b"encoding")? + "encoding".len();
    let skip_ws = |at: &mut usize| {
        while decl.get(*at).is_some_and(u8::is_ascii_whitespace) {
            *at += 1;
        }
    };
    skip_ws(&mut at);
    if decl.get(at) != Some(&b'=') {
        return None;
    }
    at += 1;
    skip_ws(&mut at);
    let quote = *decl.get(at).filter(|q| **q == b'"' || **q == b'\'')?;
    let value_start = at + 1;
    let len = memchr::memchr(quote, decl.get(value_start..)?)?;
    let value = std::str::from_utf8(&decl[value_start..value_start + len]).ok()?;
    Some((value.to_string(), start + value_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<String, String> {
        let mut d = Decode::new(bytes);
        d.detect().map_err(|e| e.code)?;
        let mut out = String::new();
        d.read_to_string(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn an_encoding_after_the_first_angle_bracket_is_not_the_declaration() {
        // A broken declaration: `encoding` appears only in the document's text, after
        // the first `>`, with a `?>` further on. Whole and streamed reads must agree.
        let text: &[u8] = b"<?xml versie<tstsuite name=\"s\">text encoding='x-weird' ?> more";
        assert_eq!(declared_encoding(text), None);
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
            Some(("ISO-8859-1".to_string(), 30))
        );
    }

    #[test]
    fn finds_the_declared_encoding() {
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding = 'ISO-8859-1' ?><a/>"),
            Some(("ISO-8859-1".to_string(), 32))
        );
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(declared_encoding(b"<a encoding='x'/>"), None);
    }

    #[test]
    fn decodes_latin1_and_passes_utf8_through() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a n=\"caf\xE9 \x80\"/>";
        assert_eq!(
            decode_all(latin1).as_deref(),
            Ok("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a n=\"café €\"/>")
        );
        let utf8 = "\u{FEFF}<a n=\"é\"/>".as_bytes();
        assert_eq!(
            decode_all(utf8).as_deref(),
            Ok("\u{FEFF}<a n=\"é\"/>"),
            "the UTF-8 mark is kept for quick-xml"
        );
    }

    #[test]
    fn decodes_utf16_with_and_without_mark() {
        let text = "<a n=\"ü𝄞\"/>";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode_all(&le).as_deref(), Ok(text));
        assert_eq!(decode_all(&be).as_deref(), Ok(text));
        let with_mark = [&[0xFF, 0xFE][..], &le].concat();
        assert_eq!(decode_all(&with_mark).as_deref(), Ok(text));
    }

    #[test]
    fn refuses_what_it_cannot_decode() {
        let err = decode_all(b"<?xml version=\"1.0\" encoding=\"UTF-7\"?><a/>");
        assert_eq!(err, Err("junit.unsupported_encoding".to_string()));
        // A lone surrogate in UTF-16.
        let bad = [0xFF, 0xFE, b'<', 0, 0x00, 0xD8, b'a', 0, b'>', 0];
        assert_eq!(decode_all(&bad), Err(UNDECODABLE.to_string()));
    }
}
