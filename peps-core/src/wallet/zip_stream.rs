//! A streaming ZIP writer for exporting a whole wallet as one download.
//!
//! [`ZipStream`] is a pure state machine: it never touches I/O, it only hands back the bytes that
//! go around each file's content, and it keeps what the central directory needs (a few dozen bytes
//! per entry). The caller writes, in this order and without gaps:
//!
//! ```text
//! for each file:
//!     start_entry(name, modified)   -> local file header bytes
//!     entry_data(chunk)             -> nothing: the caller writes `chunk` itself, unchanged
//!     end_entry()                   -> data descriptor bytes
//! finish()                          -> central directory and end records
//! ```
//!
//! so a file of any size passes through in constant memory, and an archive can start going out
//! over HTTP before its first file has been read in full.
//!
//! # Format choices
//!
//! Wallet files are PDFs and images that are already compressed, so every entry is STORED
//! (method 0): deflating them again would cost CPU for nothing. Neither the CRC-32 nor, in
//! general, the size of a file is known when its header has to go out, so every entry sets
//! general purpose bit 3 and carries its CRC-32 and sizes in a data descriptor after the data
//! (APPNOTE 6.3.10, 4.3.9 and 4.4.4). Bit 11 is set too: names are UTF-8.
//!
//! An archive, and even a single entry, may pass 4 GiB, and whether an entry will is unknown when
//! its header is written, so every entry is announced as ZIP64 up front, the way Python's
//! `zipfile`, stream-zip and FileSender write streamed entries:
//!
//! * the local header needs version 4.5, holds 0 for the CRC-32 and 0xFFFFFFFF for both sizes,
//!   and carries a ZIP64 extended information extra field (0x0001) with both 8-byte sizes at 0.
//!   APPNOTE 4.5.3 lets that field's values appear only behind 0xFFFFFFFF markers and requires
//!   both sizes in a local header; bit 3 says the real values come later. macOS Archive Utility
//!   and libarchive refuse 0xFFFFFFFF markers without that extra field (stream-zip #27 and #28),
//!   so the marker and the field always go together.
//! * the data descriptor keeps its optional signature (Archive Utility wants it) and always has
//!   8-byte sizes: APPNOTE 4.3.9.2 says the descriptor's sizes are 8 bytes when the local header
//!   has a ZIP64 extra field, and that is what 7-Zip and libarchive go by when they read it.
//!   Deciding the descriptor's width by the final size instead (Go's `archive/zip`) leaves the
//!   local header saying nothing of it, which a reader that checks descriptors trips over on
//!   entries above 4 GiB.
//! * the central directory is written once everything is known, so it uses the ZIP64 extra field
//!   only for the values that need it (a size or an offset at or above 0xFFFFFFFF, which is
//!   itself the marker), and only with those values, in the order of 4.5.3; others stay plain
//!   4-byte fields. Readers that trust the central directory (most of them) then see an ordinary
//!   archive unless it really is big.
//! * the ZIP64 end of central directory record and its locator are added only when the entry
//!   count reaches 0xFFFF or the directory's size or offset reaches 0xFFFFFFFF; the fields of the
//!   classic end record that do not fit then hold their markers (4.4.1.4).
//!
//! Every entry is written by "UNIX" (version made by 0x032D) with mode 0644, so that extractors
//! that honour modes (`unzip`, Archive Utility) give documents plain read-write permissions for
//! their owner instead of guessing.
//!
//! The output was checked with the `zip` crate, Python's `zipfile`, Info-ZIP `unzip`, 7-Zip and
//! libarchive's `bsdtar` (including its sequential reader, which finds the end of STORED data by
//! the descriptor). A purely sequential reader that cannot look for a descriptor (Java's
//! `ZipInputStream`) cannot tell where STORED data with bit 3 ends: that is the price of not
//! knowing CRC-32 and size in advance; every desktop extractor reads the central directory.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use unicode_normalization::UnicodeNormalization;

const LOCAL_HEADER_SIGNATURE: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
const CENTRAL_HEADER_SIGNATURE: u32 = 0x0201_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// 4.5 is the first version that knows ZIP64; it also covers STORED and data descriptors.
const VERSION_NEEDED: u16 = 45;
/// Upper byte 3: UNIX, so that readers take the mode from the external attributes.
const VERSION_MADE_BY: u16 = (3 << 8) | VERSION_NEEDED;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
const FLAGS: u16 = FLAG_DATA_DESCRIPTOR | FLAG_UTF8;
const METHOD_STORED: u16 = 0;
/// A regular file, rw-r--r--.
const EXTERNAL_ATTRIBUTES: u32 = 0o100_644 << 16;

const LOCAL_HEADER_LEN: usize = 30;
const LOCAL_ZIP64_EXTRA_LEN: u16 = 4 + 16;
const DATA_DESCRIPTOR_LEN: usize = 24;
const CENTRAL_HEADER_LEN: usize = 46;
const ZIP64_END_LEN: usize = 56;
const ZIP64_LOCATOR_LEN: usize = 20;
const END_LEN: usize = 22;

/// The largest value a 2-byte field holds; itself the marker "see the ZIP64 record".
const U16_MARKER: u64 = 0xFFFF;
/// The largest value a 4-byte field holds; itself the marker "see the ZIP64 record".
const U32_MARKER: u64 = 0xFFFF_FFFF;

/// What went wrong while writing an archive. An error from [`ZipStream::start_entry`],
/// [`ZipStream::entry_data`] or [`ZipStream::end_entry`] leaves the writer as it was, so the
/// caller may skip the offending file and go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("no entry is open: start_entry must come first")]
    NoOpenEntry,
    #[error("an entry is still open: end_entry must come first")]
    EntryStillOpen,
    #[error("entry name {name:?} refused: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error(
        "entry name {0:?} is already taken (names are compared as Windows and macOS do: \
         ignoring case and Unicode normalisation)"
    )]
    DuplicateName(String),
    #[error("entry name {0:?} uses a file's name as a folder, or a folder's name as a file")]
    FileFolderClash(String),
    #[error("the archive would exceed the ZIP64 limits")]
    TooLarge,
}

/// Writes a ZIP archive as a stream of byte pieces; see the module documentation for the order
/// of calls and the format.
#[derive(Debug)]
pub struct ZipStream {
    /// Bytes handed out or passed through so far: where the next record starts.
    offset: u64,
    entries: Vec<CentralEntry>,
    open: Option<OpenEntry>,
    /// Collision keys of the names of files, and of every folder those names imply.
    files: HashSet<String>,
    folders: HashSet<String>,
    /// Sizes and offsets at or above this are written in ZIP64 form. Always [`U32_MARKER`],
    /// except in tests, which lower it to reach the ZIP64 records without writing 4 GiB.
    zip64_threshold: u64,
}

struct OpenEntry {
    name: String,
    time: u16,
    date: u16,
    header_offset: u64,
    crc: crc32fast::Hasher,
    size: u64,
}

impl std::fmt::Debug for OpenEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenEntry")
            .field("name", &self.name)
            .field("header_offset", &self.header_offset)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct CentralEntry {
    name: String,
    time: u16,
    date: u16,
    header_offset: u64,
    crc: u32,
    size: u64,
}

impl Default for ZipStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipStream {
    pub fn new() -> Self {
        Self {
            offset: 0,
            entries: Vec::new(),
            open: None,
            files: HashSet::new(),
            folders: HashSet::new(),
            zip64_threshold: U32_MARKER,
        }
    }

    /// A writer that treats every size, offset or count at or above `threshold` (capped at the
    /// real limits) as too large for the classic fields, so tests reach every ZIP64 record.
    #[cfg(test)]
    fn with_zip64_threshold(threshold: u64) -> Self {
        Self {
            zip64_threshold: threshold.min(U32_MARKER),
            ..Self::new()
        }
    }

    /// Opens an entry and returns its local file header, to be written before its data.
    ///
    /// `name` is a relative path with `/` between folders, written as UTF-8; folders need no
    /// entries of their own. It is refused if it is empty, absolute (leading `/` or a drive
    /// letter), has a backslash, a control character (NUL included), a bidirectional override,
    /// an empty, `.` or `..` component, or a trailing `/`, or if another entry would land on the
    /// same path once extracted on a case-insensitive file system. Making names portable
    /// (Windows' reserved characters and names, length limits) is left to the caller. `modified` fills the DOS date and time,
    /// clamped to the years 1980 to 2107 they can hold, at two-second precision.
    pub fn start_entry(
        &mut self,
        name: &str,
        modified: NaiveDateTime,
    ) -> Result<Vec<u8>, ZipError> {
        if self.open.is_some() {
            return Err(ZipError::EntryStillOpen);
        }
        validate_name(name)?;
        let name_len = u16::try_from(name.len()).map_err(|_| ZipError::InvalidName {
            name: name.to_owned(),
            reason: "longer than 65,535 bytes",
        })?;
        let key = collision_key(name);
        if self.files.contains(&key) {
            return Err(ZipError::DuplicateName(name.to_owned()));
        }
        let parents: Vec<&str> = key.match_indices('/').map(|(i, _)| &key[..i]).collect();
        if self.folders.contains(&key) || parents.iter().any(|p| self.files.contains(*p)) {
            return Err(ZipError::FileFolderClash(name.to_owned()));
        }
        let (time, date) = dos_date_time(modified);

        let mut header =
            Vec::with_capacity(LOCAL_HEADER_LEN + name.len() + LOCAL_ZIP64_EXTRA_LEN as usize);
        put_u32(&mut header, LOCAL_HEADER_SIGNATURE);
        put_u16(&mut header, VERSION_NEEDED);
        put_u16(&mut header, FLAGS);
        put_u16(&mut header, METHOD_STORED);
        put_u16(&mut header, time);
        put_u16(&mut header, date);
        put_u32(&mut header, 0); // CRC-32: in the data descriptor
        put_u32(&mut header, U32_MARKER as u32); // compressed size: in the ZIP64 field
        put_u32(&mut header, U32_MARKER as u32); // uncompressed size: in the ZIP64 field
        put_u16(&mut header, name_len);
        put_u16(&mut header, LOCAL_ZIP64_EXTRA_LEN);
        header.extend_from_slice(name.as_bytes());
        put_u16(&mut header, ZIP64_EXTRA_ID);
        put_u16(&mut header, LOCAL_ZIP64_EXTRA_LEN - 4);
        put_u64(&mut header, 0); // uncompressed size: in the data descriptor
        put_u64(&mut header, 0); // compressed size: in the data descriptor

        let header_offset = self.offset;
        let offset = self.advance(header.len() as u64)?;
        for parent in parents {
            self.folders.insert(parent.to_owned());
        }
        self.files.insert(key);
        self.offset = offset;
        self.open = Some(OpenEntry {
            name: name.to_owned(),
            time,
            date,
            header_offset,
            crc: crc32fast::Hasher::new(),
            size: 0,
        });
        Ok(header)
    }

    /// Accounts for a piece of the open entry's content. The caller writes `data` itself, right
    /// after what came before it; it is not copied here.
    pub fn entry_data(&mut self, data: &[u8]) -> Result<(), ZipError> {
        let entry = self.open.as_mut().ok_or(ZipError::NoOpenEntry)?;
        let len = data.len() as u64;
        let offset = self.offset.checked_add(len).ok_or(ZipError::TooLarge)?;
        entry.size = entry.size.checked_add(len).ok_or(ZipError::TooLarge)?;
        entry.crc.update(data);
        self.offset = offset;
        Ok(())
    }

    /// Closes the open entry and returns its data descriptor, to be written right after its data.
    pub fn end_entry(&mut self) -> Result<Vec<u8>, ZipError> {
        if self.open.is_none() {
            return Err(ZipError::NoOpenEntry);
        }
        let offset = self.advance(DATA_DESCRIPTOR_LEN as u64)?;
        let entry = self.open.take().ok_or(ZipError::NoOpenEntry)?;
        let crc = entry.crc.finalize();

        let mut descriptor = Vec::with_capacity(DATA_DESCRIPTOR_LEN);
        put_u32(&mut descriptor, DATA_DESCRIPTOR_SIGNATURE);
        put_u32(&mut descriptor, crc);
        put_u64(&mut descriptor, entry.size); // compressed size: STORED, so the same
        put_u64(&mut descriptor, entry.size);

        self.offset = offset;
        self.entries.push(CentralEntry {
            name: entry.name,
            time: entry.time,
            date: entry.date,
            header_offset: entry.header_offset,
            crc,
            size: entry.size,
        });
        Ok(descriptor)
    }

    /// Ends the archive: returns the central directory, the ZIP64 end records when needed and
    /// the end of central directory record, to be written last.
    pub fn finish(self) -> Result<Vec<u8>, ZipError> {
        if self.open.is_some() {
            return Err(ZipError::EntryStillOpen);
        }
        let mut out = Vec::with_capacity(
            self.entries
                .iter()
                .map(|e| CENTRAL_HEADER_LEN + e.name.len() + 4 + 24)
                .sum::<usize>()
                + ZIP64_END_LEN
                + ZIP64_LOCATOR_LEN
                + END_LEN,
        );
        for entry in &self.entries {
            self.put_central_header(&mut out, entry);
        }

        let count = self.entries.len() as u64;
        let directory_offset = self.offset;
        let directory_size = out.len() as u64;
        let directory_end = directory_offset
            .checked_add(directory_size)
            .ok_or(ZipError::TooLarge)?;
        let big_count = count >= self.zip64_threshold.min(U16_MARKER);
        let big_size = self.needs_zip64(directory_size);
        let big_offset = self.needs_zip64(directory_offset);

        if big_count || big_size || big_offset {
            put_u32(&mut out, ZIP64_END_SIGNATURE);
            put_u64(&mut out, (ZIP64_END_LEN - 12) as u64); // size of the rest of the record
            put_u16(&mut out, VERSION_MADE_BY);
            put_u16(&mut out, VERSION_NEEDED);
            put_u32(&mut out, 0); // this disk
            put_u32(&mut out, 0); // disk where the central directory starts
            put_u64(&mut out, count); // entries on this disk
            put_u64(&mut out, count);
            put_u64(&mut out, directory_size);
            put_u64(&mut out, directory_offset);

            put_u32(&mut out, ZIP64_LOCATOR_SIGNATURE);
            put_u32(&mut out, 0); // disk holding the ZIP64 end record
            put_u64(&mut out, directory_end);
            put_u32(&mut out, 1); // total number of disks
        }

        let count16 = if big_count { U16_MARKER } else { count };
        let size32 = if big_size { U32_MARKER } else { directory_size };
        let offset32 = if big_offset {
            U32_MARKER
        } else {
            directory_offset
        };
        put_u32(&mut out, END_SIGNATURE);
        put_u16(&mut out, 0); // this disk
        put_u16(&mut out, 0); // disk where the central directory starts
        put_u16(&mut out, count16 as u16); // entries on this disk
        put_u16(&mut out, count16 as u16);
        put_u32(&mut out, size32 as u32);
        put_u32(&mut out, offset32 as u32);
        put_u16(&mut out, 0); // comment length
        Ok(out)
    }

    fn put_central_header(&self, out: &mut Vec<u8>, entry: &CentralEntry) {
        let big_size = self.needs_zip64(entry.size);
        let big_offset = self.needs_zip64(entry.header_offset);
        let mut extra = Vec::new();
        if big_size || big_offset {
            // 4.5.3: only the values whose classic field holds the marker, in this order.
            let values = 2 * u16::from(big_size) + u16::from(big_offset);
            put_u16(&mut extra, ZIP64_EXTRA_ID);
            put_u16(&mut extra, 8 * values);
            if big_size {
                put_u64(&mut extra, entry.size);
                put_u64(&mut extra, entry.size);
            }
            if big_offset {
                put_u64(&mut extra, entry.header_offset);
            }
        }
        let size32 = if big_size { U32_MARKER } else { entry.size };
        let offset32 = if big_offset {
            U32_MARKER
        } else {
            entry.header_offset
        };

        put_u32(out, CENTRAL_HEADER_SIGNATURE);
        put_u16(out, VERSION_MADE_BY);
        put_u16(out, VERSION_NEEDED);
        put_u16(out, FLAGS);
        put_u16(out, METHOD_STORED);
        put_u16(out, entry.time);
        put_u16(out, entry.date);
        put_u32(out, entry.crc);
        put_u32(out, size32 as u32); // compressed size
        put_u32(out, size32 as u32); // uncompressed size
        // Checked against u16 when the entry was started.
        put_u16(out, entry.name.len() as u16);
        put_u16(out, extra.len() as u16);
        put_u16(out, 0); // comment length
        put_u16(out, 0); // disk where the entry starts
        put_u16(out, 0); // internal attributes
        put_u32(out, EXTERNAL_ATTRIBUTES);
        put_u32(out, offset32 as u32);
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&extra);
    }

    fn needs_zip64(&self, value: u64) -> bool {
        value >= self.zip64_threshold
    }

    /// The offset after `len` more bytes, if the archive can still address it.
    fn advance(&self, len: u64) -> Result<u64, ZipError> {
        self.offset.checked_add(len).ok_or(ZipError::TooLarge)
    }
}

fn validate_name(name: &str) -> Result<(), ZipError> {
    let refuse = |reason| {
        Err(ZipError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.starts_with('/') {
        return refuse("absolute path");
    }
    if name.ends_with('/') {
        return refuse("ends with '/' (folders come from the files' paths)");
    }
    if name.contains('\\') {
        // Windows tools take it for a separator, so it could hide a `..` or an absolute path.
        return refuse("contains a backslash");
    }
    if name.chars().any(char::is_control) {
        return refuse("contains a control character");
    }
    if name.contains(['\u{202D}', '\u{202E}']) {
        // A right-to-left override shows "avis\u{202E}fdp.exe" as "avisexe.pdf".
        return refuse("contains a bidirectional override");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        // "C:x" is relative to the current folder of drive C: on Windows, not to the target.
        return refuse("starts with a drive letter");
    }
    for component in name.split('/') {
        match component {
            "" => return refuse("empty path component"),
            "." | ".." => return refuse("'.' or '..' path component"),
            _ => {}
        }
    }
    Ok(())
}

/// Two names with the same key land on the same file when extracted on Windows (case-insensitive)
/// or macOS (case-insensitive, and it may normalise), so the second would overwrite the first.
fn collision_key(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// MS-DOS time and date (APPNOTE 4.4.6): two-second steps, years 1980 to 2107.
fn dos_date_time(at: NaiveDateTime) -> (u16, u16) {
    let earliest = NaiveDate::from_ymd_opt(1980, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date");
    let latest = NaiveDate::from_ymd_opt(2107, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 58))
        .expect("a valid date");
    let at = at.clamp(earliest, latest);
    // The clamp keeps every part within its bit field.
    let time = (at.hour() << 11) | (at.minute() << 5) | (at.second() / 2);
    let date = (((at.year() - 1980) as u32) << 9) | (at.month() << 5) | at.day();
    (time as u16, date as u16)
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::{Cursor, ErrorKind, Read, Seek, SeekFrom, Write};
    use std::path::Path;
    use std::process::{Command, Output, Stdio};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s))
            .unwrap()
    }

    /// Deterministic noise (xorshift64*), so that a failure reproduces.
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed >> 12;
                seed ^= seed << 25;
                seed ^= seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    /// Writes the entries the way the export does: header, content in pieces, descriptor, end.
    fn write_zip(mut zip: ZipStream, entries: &[(String, Vec<u8>)], piece: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend(zip.start_entry(name, at(2026, 3, 14, 15, 9, 27)).unwrap());
            for chunk in data.chunks(piece) {
                zip.entry_data(chunk).unwrap();
                out.extend_from_slice(chunk);
            }
            out.extend(zip.end_entry().unwrap());
        }
        out.extend(zip.finish().unwrap());
        out
    }

    /// Reads an archive back with the `zip` crate, which checks every CRC-32 as it reads.
    fn read_back(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("the zip crate opens it");
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                assert_eq!(file.compression(), zip::CompressionMethod::Stored);
                let name = file.name().unwrap().into_owned();
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                assert_eq!(file.size(), data.len() as u64, "{name}");
                assert_eq!(file.compressed_size(), data.len() as u64, "{name}");
                assert_eq!(file.crc32(), crc32fast::hash(&data), "{name}");
                assert_eq!(file.unix_mode(), Some(0o100_644), "{name}");
                (name, data)
            })
            .collect()
    }

    fn sample_entries() -> Vec<(String, Vec<u8>)> {
        vec![
            ("vide.txt".to_owned(), Vec::new()),
            ("petit.txt".to_owned(), b"Bonjour".to_vec()),
            ("scan.jpg".to_owned(), noise(200 * 1024, 1)),
            ("pièce d'identité.pdf".to_owned(), noise(5_000, 2)),
            ("2026/avis.pdf".to_owned(), noise(3_000, 3)),
        ]
    }

    /// Runs `program` if it is installed; a missing reader is reported and skipped.
    fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Option<Output> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                println!("note: {program} is not installed, that check is skipped");
                return None;
            }
            Err(e) => panic!("{program}: {e}"),
        };
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            let input = input.to_vec();
            std::thread::spawn(move || pipe.write_all(&input));
        }
        Some(child.wait_with_output().unwrap())
    }

    fn text(output: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }

    const PYTHON_CHECK: &str = "import json, sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        assert z.testzip() is None\n\
        print(json.dumps([[i.filename, i.file_size, i.CRC] for i in z.infolist()]))";

    /// Has every independent reader that is installed read and verify the archive at `path`.
    fn check_with_other_readers(path: &Path, expected: &[(String, Vec<u8>)]) {
        let path_str = path.to_str().unwrap();

        if let Some(out) = run("python3", &["-c", PYTHON_CHECK, path_str], None) {
            assert!(out.status.success(), "python3 zipfile: {}", text(&out));
            let listed: Vec<(String, u64, u32)> = serde_json::from_slice(&out.stdout).unwrap();
            let wanted: Vec<(String, u64, u32)> = expected
                .iter()
                .map(|(n, d)| (n.clone(), d.len() as u64, crc32fast::hash(d)))
                .collect();
            assert_eq!(listed, wanted, "python3 zipfile listing");
        }

        if let Some(out) = run("unzip", &["-t", path_str], None) {
            let said = text(&out);
            if expected.is_empty() {
                // unzip's only complaint about an archive without entries, whoever wrote it.
                assert!(said.contains("zipfile is empty"), "unzip -t: {said}");
                return;
            }
            assert!(out.status.success(), "unzip -t: {said}");
            assert!(said.contains("No errors detected"), "unzip -t: {said}");
            assert!(!said.to_lowercase().contains("warning"), "unzip -t: {said}");
        }

        let seven =
            run("7zz", &["t", path_str], None).or_else(|| run("7z", &["t", path_str], None));
        if let Some(out) = seven {
            let said = text(&out);
            assert!(out.status.success(), "7-Zip: {said}");
            assert!(said.contains("Everything is Ok"), "7-Zip: {said}");
            assert!(
                !said.contains("Warning") && !said.contains("Error"),
                "7-Zip: {said}"
            );
        }

        // libarchive reads a file through the central directory, and a pipe sequentially,
        // finding where STORED data ends by its data descriptor: both must give every byte back.
        let all: Vec<u8> = expected
            .iter()
            .flat_map(|(_, d)| d.iter().copied())
            .collect();
        if let Some(out) = run("bsdtar", &["-xOf", path_str], None) {
            assert!(out.status.success(), "bsdtar: {}", text(&out));
            assert!(out.stdout == all, "bsdtar (seekable) gave other content");
        }
        let bytes = std::fs::read(path).unwrap();
        if let Some(out) = run("bsdtar", &["-xOf", "-"], Some(&bytes)) {
            assert!(out.status.success(), "bsdtar from a pipe: {}", text(&out));
            assert!(out.stdout == all, "bsdtar (sequential) gave other content");
        }
    }

    fn check_everywhere(bytes: &[u8], expected: &[(String, Vec<u8>)]) {
        assert_eq!(read_back(bytes), expected);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.zip");
        std::fs::write(&path, bytes).unwrap();
        check_with_other_readers(&path, expected);
    }

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u64_at(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    /// The extra field lengths of the central directory's records, walked from the end record
    /// (classic values only: for archives without ZIP64 end records).
    fn central_extra_lengths(bytes: &[u8]) -> Vec<u16> {
        let end = bytes.len() - END_LEN;
        assert_eq!(u32_at(bytes, end), END_SIGNATURE);
        let count = u16_at(bytes, end + 10);
        let mut at = u32_at(bytes, end + 16) as usize;
        (0..count)
            .map(|_| {
                assert_eq!(u32_at(bytes, at), CENTRAL_HEADER_SIGNATURE);
                let (name, extra) = (u16_at(bytes, at + 28), u16_at(bytes, at + 30));
                at += CENTRAL_HEADER_LEN + usize::from(name) + usize::from(extra);
                extra
            })
            .collect()
    }

    #[test]
    fn a_wallet_reads_back_in_every_reader() {
        let entries = sample_entries();
        let bytes = write_zip(ZipStream::new(), &entries, 7_919);
        check_everywhere(&bytes, &entries);

        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let modified = archive.by_index(0).unwrap().last_modified().unwrap();
        let parts = (
            modified.year(),
            modified.month(),
            modified.day(),
            modified.hour(),
            modified.minute(),
            modified.second(),
        );
        assert_eq!(parts, (2026, 3, 14, 15, 9, 26), "two-second precision");

        // A small archive looks like any other in its central directory.
        assert_eq!(central_extra_lengths(&bytes), vec![0; entries.len()]);
        assert!(
            !bytes
                .windows(4)
                .any(|w| w == ZIP64_LOCATOR_SIGNATURE.to_le_bytes())
        );
    }

    #[test]
    fn an_empty_wallet_is_an_empty_archive() {
        let bytes = ZipStream::new().finish().unwrap();
        assert_eq!(bytes.len(), END_LEN);
        check_everywhere(&bytes, &[]);
    }

    #[test]
    fn headers_announce_zip64_and_descriptors_carry_8_byte_sizes() {
        let mut zip = ZipStream::new();
        let header = zip.start_entry("a.pdf", at(2026, 1, 2, 3, 4, 5)).unwrap();
        assert_eq!(header.len(), LOCAL_HEADER_LEN + 5 + 20);
        assert_eq!(u32_at(&header, 0), LOCAL_HEADER_SIGNATURE);
        assert_eq!(u16_at(&header, 4), 45, "version needed: ZIP64");
        assert_eq!(u16_at(&header, 6), 0x0808, "data descriptor and UTF-8");
        assert_eq!(u16_at(&header, 8), 0, "stored");
        assert_eq!(u32_at(&header, 14), 0, "CRC-32 comes later");
        assert_eq!(u32_at(&header, 18), 0xFFFF_FFFF);
        assert_eq!(u32_at(&header, 22), 0xFFFF_FFFF);
        assert_eq!(u16_at(&header, 28), 20);
        assert_eq!(&header[30..35], b"a.pdf");
        assert_eq!(u16_at(&header, 35), 0x0001);
        assert_eq!(u16_at(&header, 37), 16);
        assert_eq!(&header[39..55], &[0; 16]);

        zip.entry_data(b"hello ").unwrap();
        zip.entry_data(b"world").unwrap();
        let descriptor = zip.end_entry().unwrap();
        assert_eq!(descriptor.len(), 24);
        assert_eq!(u32_at(&descriptor, 0), DATA_DESCRIPTOR_SIGNATURE);
        assert_eq!(u32_at(&descriptor, 4), crc32fast::hash(b"hello world"));
        assert_eq!(u64_at(&descriptor, 8), 11);
        assert_eq!(u64_at(&descriptor, 16), 11);
    }

    #[test]
    fn zip64_records_when_the_limits_are_reached() {
        let entries: Vec<(String, Vec<u8>)> = (0..20u64)
            .map(|i| {
                let name = if i % 3 == 0 {
                    format!("dossier/pièce {i}.pdf")
                } else {
                    format!("pièce {i}.pdf")
                };
                (name, noise((i * 7) as usize % 40, i + 10))
            })
            .collect();

        // Every size from 16 bytes, every offset but the first, the count and the directory.
        let bytes = write_zip(ZipStream::with_zip64_threshold(16), &entries, 5);
        let end = bytes.len() - END_LEN;
        assert_eq!(u32_at(&bytes, end), END_SIGNATURE);
        assert_eq!(u16_at(&bytes, end + 8), 0xFFFF);
        assert_eq!(u16_at(&bytes, end + 10), 0xFFFF);
        assert_eq!(u32_at(&bytes, end + 12), 0xFFFF_FFFF);
        assert_eq!(u32_at(&bytes, end + 16), 0xFFFF_FFFF);
        let locator = end - ZIP64_LOCATOR_LEN;
        assert_eq!(u32_at(&bytes, locator), ZIP64_LOCATOR_SIGNATURE);
        let record = u64_at(&bytes, locator + 8) as usize;
        assert_eq!(record, locator - ZIP64_END_LEN);
        assert_eq!(u32_at(&bytes, record), ZIP64_END_SIGNATURE);
        assert_eq!(u64_at(&bytes, record + 32), 20);
        check_everywhere(&bytes, &entries);

        // Offsets past the threshold but small sizes: the ZIP64 field holds the offset alone.
        let entries: Vec<(String, Vec<u8>)> = (0..4u64)
            .map(|i| (format!("f{i}.pdf"), noise(100, i)))
            .collect();
        let bytes = write_zip(ZipStream::with_zip64_threshold(300), &entries, 64);
        let end = bytes.len() - END_LEN;
        assert_eq!(u16_at(&bytes, end + 10), 4, "the count still fits");
        assert_eq!(u32_at(&bytes, end + 16), 0xFFFF_FFFF, "the offset does not");
        let record = u64_at(&bytes, end - ZIP64_LOCATOR_LEN + 8) as usize;
        let directory = u64_at(&bytes, record + 48) as usize;
        let mut at = directory;
        let mut extras = Vec::new();
        for _ in 0..4 {
            let (name, extra) = (u16_at(&bytes, at + 28), u16_at(&bytes, at + 30));
            extras.push((u32_at(&bytes, at + 42), extra));
            at += CENTRAL_HEADER_LEN + usize::from(name) + usize::from(extra);
        }
        assert_eq!(extras[0], (0, 0));
        assert_eq!(extras[1].1, 0, "offset {} is below 300", extras[1].0);
        assert_eq!(extras[2], (0xFFFF_FFFF, 12));
        assert_eq!(extras[3], (0xFFFF_FFFF, 12));
        check_everywhere(&bytes, &entries);
    }

    #[test]
    fn unsafe_names_are_refused() {
        let long = "a".repeat(70_000);
        for name in [
            "",
            "/etc/passwd",
            "../evil.pdf",
            "a/../../evil.pdf",
            "a/./b.pdf",
            "./b.pdf",
            "a//b.pdf",
            "dossier/",
            "a\\..\\evil.pdf",
            "a\0b.pdf",
            "a\nb.pdf",
            "avis\u{202E}fdp.exe",
            "C:evil.pdf",
            "c:/windows/evil.pdf",
            long.as_str(),
        ] {
            let mut zip = ZipStream::new();
            let err = zip.start_entry(name, at(2026, 1, 1, 0, 0, 0)).unwrap_err();
            assert!(
                matches!(err, ZipError::InvalidName { .. }),
                "{name:?}: {err}"
            );
            assert_eq!(zip.entry_data(b"x"), Err(ZipError::NoOpenEntry));
        }
    }

    #[test]
    fn names_that_would_collide_on_extraction_are_refused() {
        let when = at(2026, 1, 1, 0, 0, 0);
        let mut zip = ZipStream::new();
        let mut out = Vec::new();
        for name in ["2026/avis.pdf", "pièce.pdf", "doc"] {
            out.extend(zip.start_entry(name, when).unwrap());
            out.extend(zip.end_entry().unwrap());
        }
        let refused = [
            (
                "2026/avis.pdf",
                ZipError::DuplicateName("2026/avis.pdf".into()),
            ),
            (
                "2026/AVIS.PDF",
                ZipError::DuplicateName("2026/AVIS.PDF".into()),
            ),
            // Decomposed "è", as macOS writes it.
            (
                "pie\u{300}ce.pdf",
                ZipError::DuplicateName("pie\u{300}ce.pdf".into()),
            ),
            ("2026", ZipError::FileFolderClash("2026".into())),
            ("doc/x.pdf", ZipError::FileFolderClash("doc/x.pdf".into())),
            (
                "DOC/y/z.pdf",
                ZipError::FileFolderClash("DOC/y/z.pdf".into()),
            ),
        ];
        for (name, error) in refused {
            assert_eq!(zip.start_entry(name, when), Err(error));
        }
        // Refusals leave the writer as it was.
        out.extend(zip.start_entry("2026/autre.pdf", when).unwrap());
        out.extend(zip.end_entry().unwrap());
        out.extend(zip.finish().unwrap());
        let names: Vec<String> = read_back(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["2026/avis.pdf", "pièce.pdf", "doc", "2026/autre.pdf"]
        );
    }

    #[test]
    fn calls_out_of_order_are_refused() {
        let when = at(2026, 1, 1, 0, 0, 0);
        let mut zip = ZipStream::new();
        assert_eq!(zip.entry_data(b"x"), Err(ZipError::NoOpenEntry));
        assert_eq!(zip.end_entry(), Err(ZipError::NoOpenEntry));
        let mut out = zip.start_entry("a.pdf", when).unwrap();
        assert_eq!(
            zip.start_entry("b.pdf", when),
            Err(ZipError::EntryStillOpen)
        );
        zip.entry_data(b"contenu").unwrap();
        out.extend_from_slice(b"contenu");
        out.extend(zip.end_entry().unwrap());
        assert_eq!(zip.end_entry(), Err(ZipError::NoOpenEntry));
        // The refused "b.pdf" took no name.
        out.extend(zip.start_entry("b.pdf", when).unwrap());
        out.extend(zip.end_entry().unwrap());
        out.extend(zip.finish().unwrap());
        let names: Vec<String> = read_back(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a.pdf", "b.pdf"]);

        let mut unfinished = ZipStream::new();
        unfinished.start_entry("a.pdf", when).unwrap();
        assert_eq!(unfinished.finish(), Err(ZipError::EntryStillOpen));
    }

    #[test]
    fn dos_times_are_clamped_to_what_the_fields_hold() {
        assert_eq!(dos_date_time(at(1970, 1, 1, 0, 0, 0)), (0, (1 << 5) | 1));
        assert_eq!(
            dos_date_time(at(2200, 6, 1, 12, 0, 0)),
            ((23 << 11) | (59 << 5) | 29, (127 << 9) | (12 << 5) | 31)
        );
        assert_eq!(
            dos_date_time(at(2026, 3, 14, 15, 9, 27)),
            ((15 << 11) | (9 << 5) | 13, (46 << 9) | (3 << 5) | 14)
        );
    }

    /// A real archive past 4 GiB: one entry larger than 4 GiB, one that starts past 4 GiB. The
    /// big entry is zeros left as a hole in a sparse file, so it takes little disk space, but
    /// every reader still reads all of it.
    #[test]
    #[ignore = "reads more than 4 GiB several times; run with --ignored"]
    fn a_real_archive_past_4_gib() {
        const BIG: u64 = (1 << 32) + 1_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.zip");
        let mut file = std::fs::File::create(&path).unwrap();
        let when = at(2026, 1, 1, 0, 0, 0);
        let mut zip = ZipStream::new();

        file.write_all(&zip.start_entry("petit.txt", when).unwrap())
            .unwrap();
        zip.entry_data(b"avant").unwrap();
        file.write_all(b"avant").unwrap();
        file.write_all(&zip.end_entry().unwrap()).unwrap();

        file.write_all(&zip.start_entry("gros.bin", when).unwrap())
            .unwrap();
        let zeros = vec![0u8; 1 << 20];
        let mut left = BIG;
        while left > 0 {
            let n = left.min(zeros.len() as u64);
            zip.entry_data(&zeros[..n as usize]).unwrap();
            file.seek(SeekFrom::Current(n as i64)).unwrap();
            left -= n;
        }
        file.write_all(&zip.end_entry().unwrap()).unwrap();

        file.write_all(&zip.start_entry("après.txt", when).unwrap())
            .unwrap();
        zip.entry_data(b"apres").unwrap();
        file.write_all(b"apres").unwrap();
        file.write_all(&zip.end_entry().unwrap()).unwrap();
        file.write_all(&zip.finish().unwrap()).unwrap();
        drop(file);

        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(archive.len(), 3);
        let mut big = archive.by_name("gros.bin").unwrap();
        assert_eq!(big.size(), BIG);
        assert_eq!(std::io::copy(&mut big, &mut std::io::sink()).unwrap(), BIG);
        drop(big);
        let mut after = String::new();
        archive
            .by_name("après.txt")
            .unwrap()
            .read_to_string(&mut after)
            .unwrap();
        assert_eq!(after, "apres");

        let path_str = path.to_str().unwrap();
        if let Some(out) = run("python3", &["-c", PYTHON_CHECK, path_str], None) {
            assert!(out.status.success(), "python3 zipfile: {}", text(&out));
            println!("python3: {}", String::from_utf8_lossy(&out.stdout));
        }
        if let Some(out) = run("unzip", &["-t", path_str], None) {
            assert!(out.status.success(), "unzip -t: {}", text(&out));
            assert!(
                !text(&out).to_lowercase().contains("warning"),
                "{}",
                text(&out)
            );
        }
        if let Some(out) = run("7zz", &["t", path_str], None) {
            assert!(out.status.success(), "7-Zip: {}", text(&out));
            assert!(!text(&out).contains("Warning"), "7-Zip: {}", text(&out));
        }
        if let Some(out) = run("bsdtar", &["-tvf", path_str], None) {
            assert!(out.status.success(), "bsdtar: {}", text(&out));
            println!("bsdtar: {}", text(&out));
            // Sequentially, libarchive learns the sizes from the 24-byte descriptors alone.
            let script = "cat \"$0\" | bsdtar -xOf - | wc -c";
            let out = run("sh", &["-c", script, path_str], None).unwrap();
            assert!(out.status.success(), "bsdtar from a pipe: {}", text(&out));
            let total = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u64>()
                .unwrap();
            assert_eq!(total, BIG + 10, "bsdtar from a pipe: {}", text(&out));
        }
    }

    /// A name segment that is never "." nor "..", from letters that change with case or carry
    /// accents, so that collisions happen often enough.
    const SEGMENT: &str = "[a-cA-Cé0-9 _-][a-cA-Cé0-9 ._-]{0,5}";

    fn clamp_model(t: NaiveDateTime) -> (u16, u8, u8, u8, u8, u8) {
        let t = t.clamp(at(1980, 1, 1, 0, 0, 0), at(2107, 12, 31, 23, 59, 59));
        (
            t.year() as u16,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            (t.second() / 2 * 2) as u8,
        )
    }

    proptest! {
        #[test]
        fn random_wallets_round_trip(
            entries in prop::collection::vec(
                (
                    prop::collection::vec(SEGMENT, 1..4),
                    prop::collection::vec(any::<u8>(), 0..2_000),
                    0i64..7_300_000_000,
                ),
                0..10,
            ),
            piece in 1usize..700,
            threshold in prop_oneof![Just(None), (0u64..400).prop_map(Some)],
        ) {
            let mut zip = threshold.map_or_else(ZipStream::new, ZipStream::with_zip64_threshold);
            let mut out = Vec::new();
            let mut accepted: Vec<(String, Vec<u8>, NaiveDateTime)> = Vec::new();
            for (segments, data, seconds) in entries {
                let name = segments.join("/");
                let modified = chrono::DateTime::from_timestamp(seconds, 0).unwrap().naive_utc();
                let lower = name.to_lowercase();
                let taken = accepted.iter().any(|(a, _, _)| a.to_lowercase() == lower);
                let clash = accepted.iter().any(|(a, _, _)| {
                    let a = a.to_lowercase();
                    a.starts_with(&format!("{lower}/")) || lower.starts_with(&format!("{a}/"))
                });
                match zip.start_entry(&name, modified) {
                    Ok(header) => {
                        prop_assert!(!taken && !clash, "{} was accepted", name);
                        out.extend(header);
                    }
                    Err(ZipError::DuplicateName(_)) => { prop_assert!(taken); continue; }
                    Err(ZipError::FileFolderClash(_)) => { prop_assert!(clash); continue; }
                    Err(e) => { prop_assert!(false, "{} refused: {}", name, e); }
                }
                for chunk in data.chunks(piece) {
                    zip.entry_data(chunk).unwrap();
                    out.extend_from_slice(chunk);
                }
                out.extend(zip.end_entry().unwrap());
                accepted.push((name, data, modified));
            }
            out.extend(zip.finish().unwrap());

            let expected: Vec<(String, Vec<u8>)> =
                accepted.iter().map(|(n, d, _)| (n.clone(), d.clone())).collect();
            prop_assert_eq!(read_back(&out), expected);
            let mut archive = zip::ZipArchive::new(Cursor::new(&out)).unwrap();
            for (i, (_, _, modified)) in accepted.iter().enumerate() {
                let t = archive.by_index(i).unwrap().last_modified().unwrap();
                let parts = (t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second());
                prop_assert_eq!(parts, clamp_model(*modified));
            }
        }
    }
}
