//! A stable digest of text for the identities sessions write into the records they
//! create, so that a rerun finds them again: the same value in every runtime.

/// Two FNV-1a hashes with different offsets: stable in every runtime, no dependency.
pub(crate) struct Digest {
    pub(crate) a: u64,
    pub(crate) b: u64,
}

impl Digest {
    pub(crate) fn new() -> Digest {
        Digest {
            a: 0xcbf2_9ce4_8422_2325,
            b: 0x6c62_272e_07bb_0142,
        }
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.a = (self.a ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            self.b = (self.b ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// A value and its length, so that two fields never run into each other.
    pub(crate) fn field(&mut self, text: &str) {
        self.bytes(&(text.len() as u64).to_le_bytes());
        self.bytes(text.as_bytes());
    }

    /// 16 hex digits mixing both halves.
    pub(crate) fn token(&self) -> String {
        format!("{:016x}", self.a ^ self.b.rotate_left(29))
    }
}

impl std::io::Write for Digest {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
