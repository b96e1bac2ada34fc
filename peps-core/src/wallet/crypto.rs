//! Encryption at rest: every stored file gets its own random 256-bit data key, and its content
//! is sealed with AES-256-GCM in 64 KiB chunks (the STREAM construction of Hoang, Reyhanitabar,
//! Rogaway and Vizár). Each chunk's nonce carries its position and whether it is the last one,
//! so reordering, truncation, extension and tampering are all detected chunk by chunk, and a
//! file of any size streams through in constant memory.
//!
//! Blob layout (all integers big-endian):
//!
//! ```text
//! header  = "PEPSWLT1" | algorithm id (1 byte, 1) | chunk size (u32) | nonce prefix (7 bytes)
//! chunk_i = AES-256-GCM(key, nonce = prefix | i (u32) | last (1 byte), aad = header, plaintext_i)
//! ```
//!
//! Every chunk but the last holds exactly `chunk size` bytes of plaintext; the last holds 0 to
//! `chunk size` (an empty file is one empty, tagged chunk).

use rand::RngCore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::{Zeroize, Zeroizing};

/// The algorithm name recorded with every stored file.
pub const ALGORITHM: &str = "A256GCM-STREAM-64K";
const MAGIC: &[u8; 8] = b"PEPSWLT1";
const ALGORITHM_ID: u8 = 1;
pub const CHUNK_SIZE: usize = 64 * 1024;
const TAG_SIZE: usize = 16;
const PREFIX_SIZE: usize = 7;
pub const HEADER_SIZE: usize = MAGIC.len() + 1 + 4 + PREFIX_SIZE;

/// Why a blob did not decrypt. None of these ever releases unauthenticated plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("not a PEPS wallet blob, or an unknown format")]
    UnknownFormat,
    #[error("a chunk failed authentication (tampered, reordered or under the wrong key)")]
    Tampered,
    #[error("the blob ends before its last chunk (truncated)")]
    Truncated,
    #[error("the file is too large for one blob")]
    TooLarge,
}

/// A file's data key. Wiped from memory when dropped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        Self(key)
    }

    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let key = Zeroizing::new(bytes);
        bytes.zeroize();
        Self(key)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    // ring rather than a pure-Rust AES: it uses the CPU's AES and carry-less multiply
    // instructions (VAES/AVX2 where present), which makes sealing several times faster.
    fn cipher(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, self.0.as_ref())
                .expect("a 32-byte key is an AES-256 key"),
        )
    }
}

fn nonce(prefix: &[u8; PREFIX_SIZE], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..PREFIX_SIZE].copy_from_slice(prefix);
    n[PREFIX_SIZE..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

/// Seals plaintext as it arrives; call [`Encryptor::update`] with each piece and
/// [`Encryptor::finish`] once. Output comes out in whole chunks.
pub struct Encryptor {
    cipher: LessSafeKey,
    header: [u8; HEADER_SIZE],
    prefix: [u8; PREFIX_SIZE],
    counter: u32,
    pending: Vec<u8>,
    header_written: bool,
}

impl Encryptor {
    pub fn new(key: &DataKey) -> Self {
        let mut prefix = [0u8; PREFIX_SIZE];
        rand::rngs::OsRng.fill_bytes(&mut prefix);
        let mut header = [0u8; HEADER_SIZE];
        header[..8].copy_from_slice(MAGIC);
        header[8] = ALGORITHM_ID;
        header[9..13].copy_from_slice(&(CHUNK_SIZE as u32).to_be_bytes());
        header[13..].copy_from_slice(&prefix);
        Self {
            cipher: key.cipher(),
            header,
            prefix,
            counter: 0,
            pending: Vec::with_capacity(CHUNK_SIZE + TAG_SIZE),
            header_written: false,
        }
    }

    /// Ciphertext for the chunks `input` completed (possibly empty).
    pub fn update(&mut self, mut input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let chunks = (self.pending.len() + input.len()) / CHUNK_SIZE + 1;
        let mut out = Vec::with_capacity(input.len() + HEADER_SIZE + TAG_SIZE * chunks);
        self.write_header(&mut out);
        // A chunk is sealed only once more data follows it: the last one is sealed in `finish`.
        if !self.pending.is_empty() {
            if self.pending.len() == CHUNK_SIZE && !input.is_empty() {
                self.seal_pending(false, &mut out)?;
            } else {
                let take = (CHUNK_SIZE - self.pending.len()).min(input.len());
                self.pending.extend_from_slice(&input[..take]);
                input = &input[take..];
                if input.is_empty() {
                    return Ok(out);
                }
                self.seal_pending(false, &mut out)?;
            }
        }
        // Whole chunks are sealed where they land in `out`, saving a copy per byte.
        while input.len() > CHUNK_SIZE {
            let start = out.len();
            out.extend_from_slice(&input[..CHUNK_SIZE]);
            let tag = self.seal(false, &mut out[start..])?;
            out.extend_from_slice(tag.as_ref());
            input = &input[CHUNK_SIZE..];
        }
        self.pending.extend_from_slice(input);
        Ok(out)
    }

    /// The last chunk.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(self.pending.len() + HEADER_SIZE + TAG_SIZE);
        self.write_header(&mut out);
        self.seal_pending(true, &mut out)?;
        Ok(out)
    }

    fn write_header(&mut self, out: &mut Vec<u8>) {
        if !self.header_written {
            out.extend_from_slice(&self.header);
            self.header_written = true;
        }
    }

    /// Seals one chunk in place, as chunk number `counter`, and moves the counter on.
    fn seal(&mut self, last: bool, chunk: &mut [u8]) -> Result<ring::aead::Tag, CryptoError> {
        let n = Nonce::assume_unique_for_key(nonce(&self.prefix, self.counter, last));
        let tag = self
            .cipher
            .seal_in_place_separate_tag(n, Aad::from(&self.header[..]), chunk)
            .map_err(|_| CryptoError::TooLarge)?;
        self.counter = self.counter.checked_add(1).ok_or(CryptoError::TooLarge)?;
        Ok(tag)
    }

    fn seal_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        let start = out.len();
        out.extend_from_slice(&self.pending);
        self.pending.clear();
        let tag = self.seal(last, &mut out[start..])?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }
}

/// Opens a blob as it arrives. Only authenticated plaintext ever comes out; the first failure
/// is final.
pub struct Decryptor {
    cipher: LessSafeKey,
    header: Vec<u8>,
    prefix: [u8; PREFIX_SIZE],
    counter: u32,
    pending: Vec<u8>,
}

impl Decryptor {
    pub fn new(key: &DataKey) -> Self {
        Self {
            cipher: key.cipher(),
            header: Vec::with_capacity(HEADER_SIZE),
            prefix: [0; PREFIX_SIZE],
            counter: 0,
            pending: Vec::with_capacity(CHUNK_SIZE + TAG_SIZE),
        }
    }

    /// Plaintext of the chunks `input` completed (possibly empty).
    pub fn update(&mut self, mut input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if self.header.len() < HEADER_SIZE {
            let take = (HEADER_SIZE - self.header.len()).min(input.len());
            self.header.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.header.len() == HEADER_SIZE {
                self.check_header()?;
            }
        }
        let mut out = Vec::with_capacity(input.len());
        while !input.is_empty() {
            // Hold a full sealed chunk back until we know whether it is the last.
            if self.pending.len() == CHUNK_SIZE + TAG_SIZE {
                self.open_pending(false, &mut out)?;
            }
            let take = (CHUNK_SIZE + TAG_SIZE - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
        }
        Ok(out)
    }

    /// The last chunk's plaintext; fails when the blob was cut short.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        if self.header.len() < HEADER_SIZE || self.pending.len() < TAG_SIZE {
            return Err(
                if self.header.len() < HEADER_SIZE && self.header.is_empty() {
                    CryptoError::UnknownFormat
                } else {
                    CryptoError::Truncated
                },
            );
        }
        let mut out = Vec::with_capacity(self.pending.len());
        self.open_pending(true, &mut out)?;
        Ok(out)
    }

    fn check_header(&mut self) -> Result<(), CryptoError> {
        let h = &self.header;
        let chunk = u32::from_be_bytes([h[9], h[10], h[11], h[12]]) as usize;
        if &h[..8] != MAGIC || h[8] != ALGORITHM_ID || chunk != CHUNK_SIZE {
            return Err(CryptoError::UnknownFormat);
        }
        self.prefix.copy_from_slice(&h[13..]);
        Ok(())
    }

    fn open_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        let n = Nonce::assume_unique_for_key(nonce(&self.prefix, self.counter, last));
        let plain = self
            .cipher
            .open_in_place(n, Aad::from(&self.header[..]), &mut self.pending)
            .map_err(|_| CryptoError::Tampered)?;
        out.extend_from_slice(plain);
        self.pending.clear();
        self.counter = self.counter.checked_add(1).ok_or(CryptoError::TooLarge)?;
        Ok(())
    }
}

/// The size of the blob that holds `plaintext_len` bytes.
pub fn sealed_len(plaintext_len: u64) -> u64 {
    let chunks = plaintext_len.div_ceil(CHUNK_SIZE as u64).max(1);
    HEADER_SIZE as u64 + plaintext_len + chunks * TAG_SIZE as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(key: &DataKey, data: &[u8], piece: usize) -> Vec<u8> {
        let mut e = Encryptor::new(key);
        let mut out = Vec::new();
        for p in data.chunks(piece.max(1)) {
            out.extend(e.update(p).unwrap());
        }
        out.extend(e.finish().unwrap());
        out
    }

    fn open(key: &DataKey, blob: &[u8], piece: usize) -> Result<Vec<u8>, CryptoError> {
        let mut d = Decryptor::new(key);
        let mut out = Vec::new();
        for p in blob.chunks(piece.max(1)) {
            out.extend(d.update(p)?);
        }
        out.extend(d.finish()?);
        Ok(out)
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_at_every_chunk_boundary_and_piece_size() {
        let key = DataKey::generate();
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
            200_001,
        ] {
            let data = sample(len);
            for piece in [1usize << 20, 4096, 7] {
                if piece == 7 && len > CHUNK_SIZE + 1 {
                    continue;
                }
                let blob = seal(&key, &data, piece);
                assert_eq!(blob.len() as u64, sealed_len(len as u64), "len {len}");
                assert_eq!(
                    open(&key, &blob, 5000).unwrap(),
                    data,
                    "len {len} piece {piece}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// However the plaintext is cut into pieces, and the blob when read back, the
        /// plaintext comes out whole and the blob has the documented size.
        #[test]
        fn any_split_round_trips(
            len in 0usize..(3 * CHUNK_SIZE + 100),
            cuts in proptest::collection::vec(1usize..(CHUNK_SIZE + 300), 1..12),
            read in 1usize..(2 * CHUNK_SIZE),
        ) {
            let key = DataKey::generate();
            let data = sample(len);
            let mut e = Encryptor::new(&key);
            let mut blob = Vec::new();
            let mut rest = &data[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = cuts[i % cuts.len()].min(rest.len());
                blob.extend(e.update(&rest[..n]).unwrap());
                rest = &rest[n..];
                i += 1;
            }
            blob.extend(e.finish().unwrap());
            proptest::prop_assert_eq!(blob.len() as u64, sealed_len(len as u64));
            proptest::prop_assert_eq!(open(&key, &blob, read).unwrap(), data);
        }
    }

    #[test]
    fn the_same_file_twice_gives_different_ciphertext_even_under_one_key() {
        let key = DataKey::generate();
        let data = sample(1000);
        assert_ne!(seal(&key, &data, 100), seal(&key, &data, 100));
        assert_ne!(
            seal(&key, &data, 100),
            seal(&DataKey::generate(), &data, 100)
        );
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let key = DataKey::generate();
        let blob = seal(&key, &sample(CHUNK_SIZE + 100), 1 << 20);
        for at in [0, 8, 9, 13, HEADER_SIZE, HEADER_SIZE + 5000, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[at] ^= 0x01;
            assert!(open(&key, &bad, 1 << 20).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn truncation_extension_reordering_and_wrong_key_are_refused() {
        let key = DataKey::generate();
        let data = sample(3 * CHUNK_SIZE + 10);
        let blob = seal(&key, &data, 1 << 20);
        let sealed = CHUNK_SIZE + TAG_SIZE;
        // Cut after whole chunks: the new last chunk was not sealed as last.
        let cut = &blob[..HEADER_SIZE + 2 * sealed];
        assert_eq!(open(&key, cut, 1 << 20), Err(CryptoError::Tampered));
        assert_eq!(
            open(&key, &blob[..10], 1 << 20),
            Err(CryptoError::Truncated)
        );
        assert_eq!(open(&key, &[], 1 << 20), Err(CryptoError::UnknownFormat));
        let mut longer = blob.clone();
        longer.extend_from_slice(&[0u8; 40]);
        assert!(open(&key, &longer, 1 << 20).is_err());
        let mut swapped = blob.clone();
        let (a, b) = (HEADER_SIZE, HEADER_SIZE + sealed);
        let first = blob[a..b].to_vec();
        swapped[a..b].copy_from_slice(&blob[b..b + sealed]);
        swapped[b..b + sealed].copy_from_slice(&first);
        assert_eq!(open(&key, &swapped, 1 << 20), Err(CryptoError::Tampered));
        assert_eq!(
            open(&DataKey::generate(), &blob, 1 << 20),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn nothing_is_released_from_a_chunk_before_it_is_authenticated() {
        let key = DataKey::generate();
        let blob = seal(&key, &sample(2 * CHUNK_SIZE), 1 << 20);
        let mut bad = blob.clone();
        bad[HEADER_SIZE + 10] ^= 0xff;
        let mut d = Decryptor::new(&key);
        // The first sealed chunk is held until the next byte shows it is not the last.
        let first = d
            .update(&bad[..HEADER_SIZE + CHUNK_SIZE + TAG_SIZE])
            .unwrap();
        assert!(first.is_empty());
        assert_eq!(
            d.update(&bad[HEADER_SIZE + CHUNK_SIZE + TAG_SIZE..]),
            Err(CryptoError::Tampered)
        );
    }
}
