//! The baseline for the reader's benchmark: a bare quick-xml event loop over a file,
//! doing nothing but counting events. `xml_baseline FILE`
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::BufReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: xml_baseline FILE")?;
    let file = std::fs::File::open(path)?;
    let mut reader = Reader::from_reader(BufReader::with_capacity(64 * 1024, file));
    let mut buf = Vec::new();
    let mut events = 0u64;
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Eof => break,
            _ => events += 1,
        }
        buf.clear();
    }
    println!("{events} events");
    Ok(())
}
