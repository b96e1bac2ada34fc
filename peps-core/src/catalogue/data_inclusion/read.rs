//! Streaming reader for data·inclusion extracts: JSON arrays, JSON Lines and CSV.
//!
//! Extracts run to hundreds of megabytes, so the reader holds one record at a time, and a
//! record over the size limit is skipped as it streams past rather than buffered. A problem
//! with one record never stops the reading; only broken framing, after which the start of
//! the next record can no longer be trusted, ends it.

use std::io::{self, BufRead};

use serde_json::{Map, Number, Value};

/// Large enough for any genuine record (they are a few kilobytes), small enough that a
/// runaway line cannot exhaust memory.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Fields whose CSV cells hold lists.
const ARRAY_FIELDS: &[&str] = &[
    "thematiques",
    "publics",
    "modes_accueil",
    "modes_mobilisation",
    "mobilisable_par",
    "zone_eligibilite",
    "reseaux_porteurs",
];
const FLOAT_FIELDS: &[&str] = &["latitude", "longitude", "volume_horaire_hebdomadaire"];
const INTEGER_FIELDS: &[&str] = &["nombre_semaines"];

const RECORD_MALFORMED_JSON: &str = "record.malformed_json";
const RECORD_NOT_AN_OBJECT: &str = "record.not_an_object";
const RECORD_TOO_LARGE: &str = "record.too_large";
const RECORD_INVALID_UTF8: &str = "record.invalid_utf8";
const RECORD_CSV_WIDTH: &str = "record.csv_width";
const FILE_MALFORMED_JSON: &str = "file.malformed_json";
const FILE_MALFORMED_CSV: &str = "file.malformed_csv";
const FILE_IO: &str = "file.io";

/// The layout of an extract, as sniffed from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonArray,
    JsonLines,
    Csv,
}

impl Format {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JsonArray => "json",
            Self::JsonLines => "jsonl",
            Self::Csv => "csv",
        }
    }
}

/// One record as found in the file, before any schema validation.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// 1-based number of the record in the file, counting records that failed to read.
    pub position: u64,
    /// 1-based line on which the record starts.
    pub line: u64,
    pub fields: Map<String, Value>,
}

/// A record that could not be read, or (when `fatal`) a file that cannot be read further.
///
/// For a fatal error met between records, `position` is the last record attempted (0 when
/// none was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, record {position}: {message} ({code})")]
pub struct RecordError {
    pub position: u64,
    pub line: u64,
    pub code: &'static str,
    pub message: String,
    pub fatal: bool,
}

/// Reads the records of a data·inclusion extract one at a time, in constant memory.
///
/// Yields `Err` for each record that could not be read and carries on with the next one,
/// except after an error with `fatal` set, which is the last item.
pub struct RecordReader<R: BufRead> {
    src: Source<R>,
    format: Format,
    limit: usize,
    /// Line of the next unread byte.
    line: u64,
    /// Records attempted so far.
    position: u64,
    /// The record being read; never grows much past `limit`.
    buf: Vec<u8>,
    phase: ArrayPhase,
    csv: CsvLayout,
    finished: bool,
}

/// Where a JSON array reader stands between elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayPhase {
    Open,
    AfterElement,
    AfterComma,
    Closed,
}

struct CsvLayout {
    delimiter: u8,
    headers: Vec<String>,
    /// Parses the framed rows. Kept for the whole file because building a csv reader costs
    /// more than parsing a typical row.
    rows: Option<csv::Reader<RowFeed>>,
    row: csv::StringRecord,
    /// How often the framing and csv-core disagreed; tests expect never.
    #[cfg(test)]
    restarts: u32,
}

enum Step {
    Record(RawRecord),
    Skip(RecordError),
    End,
}

/// Where a CSV row ends, and whether it was kept.
struct RowFrame {
    start_line: u64,
    bytes: u64,
    too_large: bool,
}

impl<R: BufRead> RecordReader<R> {
    /// Sniffs the format: after an optional UTF-8 BOM and whitespace, `[` is a JSON array,
    /// `{` JSON Lines, anything else CSV with a header line. An empty input has no records.
    pub fn new(reader: R) -> Result<Self, RecordError> {
        Self::with_limit(reader, DEFAULT_MAX_RECORD_BYTES)
    }

    /// As [`RecordReader::new`], skipping records longer than `max_record_bytes` with
    /// `record.too_large`.
    pub fn with_limit(reader: R, max_record_bytes: usize) -> Result<Self, RecordError> {
        let mut this = Self {
            src: Source {
                inner: reader,
                peeked: Vec::new(),
                consumed: 0,
            },
            format: Format::JsonLines,
            limit: max_record_bytes,
            line: 1,
            position: 0,
            buf: Vec::new(),
            phase: ArrayPhase::Open,
            csv: CsvLayout {
                delimiter: b',',
                headers: Vec::new(),
                rows: None,
                row: csv::StringRecord::new(),
                #[cfg(test)]
                restarts: 0,
            },
            finished: false,
        };
        this.sniff()?;
        Ok(this)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes consumed from the input so far, BOM included.
    pub fn bytes_read(&self) -> u64 {
        self.src.consumed
    }

    fn sniff(&mut self) -> Result<(), RecordError> {
        // The BOM can arrive split across reads, so it is peeked rather than matched in
        // whatever the first buffer happens to hold.
        let head = match self.src.peek(BOM.len()) {
            Ok(head) => head,
            Err(e) => return Err(self.io_error(&e)),
        };
        if head.starts_with(BOM) {
            self.src.consume(BOM.len());
        }
        let Some(first) = self.skip_whitespace()? else {
            self.finished = true;
            return Ok(());
        };
        match first {
            b'[' => {
                self.src.consume(1);
                self.format = Format::JsonArray;
            }
            b'{' => self.format = Format::JsonLines,
            _ => {
                self.format = Format::Csv;
                self.read_csv_header()?;
            }
        }
        Ok(())
    }

    /// Consumes JSON whitespace and returns the next byte, left unconsumed, or `None` at the
    /// end of the input.
    fn skip_whitespace(&mut self) -> Result<Option<u8>, RecordError> {
        loop {
            let buf = match self.src.fill() {
                Ok(buf) => buf,
                Err(e) => return Err(self.io_error(&e)),
            };
            if buf.is_empty() {
                return Ok(None);
            }
            let skip = buf.iter().take_while(|b| is_json_whitespace(**b)).count();
            let next = buf.get(skip).copied();
            self.line += count_newlines(&buf[..skip]);
            self.src.consume(skip);
            if next.is_some() {
                return Ok(next);
            }
        }
    }

    fn next_array_element(&mut self) -> Result<Step, RecordError> {
        let first = loop {
            let Some(byte) = self.skip_whitespace()? else {
                return match self.phase {
                    ArrayPhase::Closed => Ok(Step::End),
                    _ => Err(self.fatal(
                        FILE_MALFORMED_JSON,
                        "unexpected end of file: the array is never closed with `]`".into(),
                    )),
                };
            };
            match (self.phase, byte) {
                (ArrayPhase::Closed, _) => {
                    return Err(self.fatal(
                        FILE_MALFORMED_JSON,
                        "unexpected data after the closing `]`".into(),
                    ));
                }
                (ArrayPhase::AfterElement, b',') => {
                    self.src.consume(1);
                    self.phase = ArrayPhase::AfterComma;
                }
                (ArrayPhase::Open | ArrayPhase::AfterElement, b']') => {
                    self.src.consume(1);
                    self.phase = ArrayPhase::Closed;
                }
                (ArrayPhase::AfterElement, _) => {
                    return Err(self.fatal(
                        FILE_MALFORMED_JSON,
                        format!(
                            "expected `,` or `]` after record {}, found {}",
                            self.position,
                            describe_byte(byte)
                        ),
                    ));
                }
                (ArrayPhase::AfterComma, b']') => {
                    return Err(self.fatal(
                        FILE_MALFORMED_JSON,
                        "trailing comma before the closing `]`".into(),
                    ));
                }
                (ArrayPhase::Open | ArrayPhase::AfterComma, b',') => {
                    return Err(self.fatal(FILE_MALFORMED_JSON, "missing record before `,`".into()));
                }
                (ArrayPhase::Open | ArrayPhase::AfterComma, _) => break byte,
            }
        };

        self.position += 1;
        let start_line = self.line;
        self.buf.clear();
        let mut scan = ElementScan::new(first);
        let mut bytes = 0u64;
        let mut too_large = false;
        loop {
            let buf = match self.src.fill() {
                Ok(buf) => buf,
                Err(e) => return Err(self.io_error(&e)),
            };
            if buf.is_empty() {
                let what = if scan.in_string {
                    "unterminated string"
                } else {
                    "unexpected end of file"
                };
                return Err(RecordError {
                    position: self.position,
                    line: self.line,
                    code: FILE_MALFORMED_JSON,
                    message: format!("{what} in the record starting on line {start_line}"),
                    fatal: true,
                });
            }
            let (taken, done) = scan.feed(buf);
            let chunk = &buf[..taken];
            self.line += count_newlines(chunk);
            bytes += taken as u64;
            keep_within(&mut self.buf, chunk, self.limit, &mut too_large);
            self.src.consume(taken);
            if done {
                break;
            }
        }
        self.phase = ArrayPhase::AfterElement;
        if too_large {
            return Ok(Step::Skip(self.too_large(start_line, bytes)));
        }
        Ok(self.parse_json(start_line))
    }

    fn next_json_line(&mut self) -> Result<Step, RecordError> {
        // Leading whitespace is never buffered, so blank lines of any length cost nothing.
        if self.skip_whitespace()?.is_none() {
            return Ok(Step::End);
        }
        self.position += 1;
        let start_line = self.line;
        self.buf.clear();
        let mut bytes = 0u64;
        let mut too_large = false;
        loop {
            let buf = match self.src.fill() {
                Ok(buf) => buf,
                Err(e) => return Err(self.io_error(&e)),
            };
            if buf.is_empty() {
                break;
            }
            let (taken, content, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(end) => (end + 1, end, true),
                None => (buf.len(), buf.len(), false),
            };
            bytes += content as u64;
            keep_within(&mut self.buf, &buf[..content], self.limit, &mut too_large);
            self.src.consume(taken);
            if done {
                self.line += 1;
                break;
            }
        }
        if too_large {
            return Ok(Step::Skip(self.too_large(start_line, bytes)));
        }
        Ok(self.parse_json(start_line))
    }

    fn parse_json(&self, start_line: u64) -> Step {
        let text = match std::str::from_utf8(&self.buf) {
            Ok(text) => text,
            Err(e) => return Step::Skip(self.invalid_utf8(start_line, &e)),
        };
        let error = |code, message| {
            Step::Skip(RecordError {
                position: self.position,
                line: start_line,
                code,
                message,
                fatal: false,
            })
        };
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(fields)) => Step::Record(RawRecord {
                position: self.position,
                line: start_line,
                fields,
            }),
            Ok(other) => error(
                RECORD_NOT_AN_OBJECT,
                format!("expected a JSON object, found {}", json_kind(&other)),
            ),
            Err(e) => {
                // serde_json counts lines from the start of the record; report file lines.
                let text = e.to_string();
                let what = text.split(" at line ").next().unwrap_or(&text);
                let line = start_line + (e.line() as u64).saturating_sub(1);
                error(
                    RECORD_MALFORMED_JSON,
                    format!("invalid JSON on line {line}: {what}"),
                )
            }
        }
    }

    fn read_csv_header(&mut self) -> Result<(), RecordError> {
        // The delimiter is not known yet: both candidates end a field while framing.
        let Some(frame) = self.frame_csv_row(None)? else {
            return Ok(());
        };
        let header_error = |message: String| RecordError {
            position: 0,
            line: frame.start_line,
            code: FILE_MALFORMED_CSV,
            message,
            fatal: true,
        };
        if frame.too_large {
            return Err(header_error(format!(
                "the CSV header line is longer than the limit of {} bytes",
                self.limit
            )));
        }
        let semicolons = self.buf.iter().filter(|&&b| b == b';').count();
        let commas = self.buf.iter().filter(|&&b| b == b',').count();
        self.csv.delimiter = if semicolons > commas { b';' } else { b',' };
        if std::str::from_utf8(&self.buf).is_err() {
            return Err(header_error(
                "the CSV header line is not valid UTF-8".into(),
            ));
        }
        if let Err(e) = self.csv.parse(&self.buf) {
            return Err(header_error(format!("unreadable CSV header: {e}")));
        }
        // Spreadsheets pad names; a stray BOM can survive a re-encoding.
        self.csv.headers = self
            .csv
            .row
            .iter()
            .map(|name| name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'))
            .map(str::to_owned)
            .collect();
        Ok(())
    }

    fn next_csv_row(&mut self) -> Result<Step, RecordError> {
        loop {
            let Some(frame) = self.frame_csv_row(Some(self.csv.delimiter))? else {
                return Ok(Step::End);
            };
            if !frame.too_large && self.buf.is_empty() {
                continue;
            }
            self.position += 1;
            if frame.too_large {
                return Ok(Step::Skip(self.too_large(frame.start_line, frame.bytes)));
            }
            return self.parse_csv_row(frame.start_line);
        }
    }

    /// Reads one CSV row into `buf`, without its line ending. The row is framed here rather
    /// than by the csv crate so that an oversized row is skipped without being buffered and
    /// rows keep the line they start on; the state machine mirrors csv-core's, so both agree
    /// on where rows end.
    fn frame_csv_row(&mut self, delimiter: Option<u8>) -> Result<Option<RowFrame>, RecordError> {
        self.buf.clear();
        let start_line = self.line;
        let mut scan = RowScan {
            delimiter,
            state: CsvState::FieldStart,
            trailing_cr: false,
        };
        let mut bytes = 0u64;
        let mut too_large = false;
        let mut started = false;
        loop {
            let buf = match self.src.fill() {
                Ok(buf) => buf,
                Err(e) => return Err(self.io_error(&e)),
            };
            if buf.is_empty() {
                if !started {
                    return Ok(None);
                }
                if scan.state == CsvState::Quoted {
                    return Err(RecordError {
                        position: self.position + 1,
                        line: self.line,
                        code: FILE_MALFORMED_CSV,
                        message: format!(
                            "unterminated quoted field in the row starting on line {start_line}"
                        ),
                        fatal: true,
                    });
                }
                break;
            }
            started = true;
            let (taken, done) = scan.feed(buf);
            let content = if done { taken - 1 } else { taken };
            self.line += count_newlines(&buf[..taken]);
            bytes += content as u64;
            keep_within(&mut self.buf, &buf[..content], self.limit, &mut too_large);
            self.src.consume(taken);
            if done {
                break;
            }
        }
        // Only a `\r` outside quotes belongs to a CRLF line ending; inside quotes it is data.
        if scan.trailing_cr && !too_large {
            self.buf.pop();
        }
        Ok(Some(RowFrame {
            start_line,
            bytes,
            too_large,
        }))
    }

    fn parse_csv_row(&mut self, start_line: u64) -> Result<Step, RecordError> {
        if let Err(e) = std::str::from_utf8(&self.buf) {
            return Ok(Step::Skip(self.invalid_utf8(start_line, &e)));
        }
        if let Err(e) = self.csv.parse(&self.buf) {
            return Err(RecordError {
                position: self.position,
                line: start_line,
                code: FILE_MALFORMED_CSV,
                message: format!("unreadable CSV row: {e}"),
                fatal: true,
            });
        }
        let (headers, row) = (&self.csv.headers, &self.csv.row);
        if row.len() != headers.len() {
            return Ok(Step::Skip(RecordError {
                position: self.position,
                line: start_line,
                code: RECORD_CSV_WIDTH,
                message: format!(
                    "the row has {} cells but the header has {} columns",
                    row.len(),
                    headers.len()
                ),
                fatal: false,
            }));
        }
        let mut fields = Map::new();
        for (name, cell) in headers.iter().zip(row.iter()) {
            // An unnamed column is what a trailing delimiter in the header produces.
            if name.is_empty() || cell.is_empty() {
                continue;
            }
            if let Some(value) = cell_value(name, cell) {
                fields.insert(name.clone(), value);
            }
        }
        Ok(Step::Record(RawRecord {
            position: self.position,
            line: start_line,
            fields,
        }))
    }

    fn fatal(&self, code: &'static str, message: String) -> RecordError {
        RecordError {
            position: self.position,
            line: self.line,
            code,
            message,
            fatal: true,
        }
    }

    fn io_error(&self, e: &io::Error) -> RecordError {
        self.fatal(FILE_IO, format!("read error: {e}"))
    }

    fn too_large(&self, start_line: u64, bytes: u64) -> RecordError {
        RecordError {
            position: self.position,
            line: start_line,
            code: RECORD_TOO_LARGE,
            message: format!(
                "the record is {bytes} bytes long, over the limit of {} bytes",
                self.limit
            ),
            fatal: false,
        }
    }

    fn invalid_utf8(&self, start_line: u64, e: &std::str::Utf8Error) -> RecordError {
        RecordError {
            position: self.position,
            line: start_line,
            code: RECORD_INVALID_UTF8,
            message: format!(
                "invalid UTF-8 at byte {} of the record",
                e.valid_up_to() + 1
            ),
            fatal: false,
        }
    }
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Result<RawRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let step = match self.format {
            Format::JsonArray => self.next_array_element(),
            Format::JsonLines => self.next_json_line(),
            Format::Csv => self.next_csv_row(),
        };
        match step {
            Ok(Step::Record(record)) => Some(Ok(record)),
            Ok(Step::Skip(error)) => Some(Err(error)),
            Ok(Step::End) => {
                self.finished = true;
                None
            }
            Err(fatal) => {
                self.finished = true;
                Some(Err(fatal))
            }
        }
    }
}

impl<R: BufRead> std::iter::FusedIterator for RecordReader<R> {}

/// The input, with room to peek a few bytes ahead (the BOM) even when the underlying reader
/// hands them over one at a time.
struct Source<R> {
    inner: R,
    peeked: Vec<u8>,
    consumed: u64,
}

impl<R: BufRead> Source<R> {
    fn fill(&mut self) -> io::Result<&[u8]> {
        if !self.peeked.is_empty() {
            return Ok(&self.peeked);
        }
        fill_retrying(&mut self.inner)
    }

    /// `n` must not exceed the length of the slice the last `fill` returned.
    fn consume(&mut self, n: usize) {
        if self.peeked.is_empty() {
            self.inner.consume(n);
        } else {
            self.peeked.drain(..n.min(self.peeked.len()));
        }
        self.consumed += n as u64;
    }

    /// Up to `n` bytes ahead, fewer only at the end of the input.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.peeked.len() < n {
            let buf = fill_retrying(&mut self.inner)?;
            if buf.is_empty() {
                break;
            }
            let take = (n - self.peeked.len()).min(buf.len());
            self.peeked.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
        }
        Ok(&self.peeked)
    }
}

fn fill_retrying<R: BufRead>(reader: &mut R) -> io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    reader.fill_buf()
}

/// Appends `chunk` unless the record has outgrown `limit`; from then on the record is only
/// measured, so memory stays bounded whatever its length.
fn keep_within(buf: &mut Vec<u8>, chunk: &[u8], limit: usize, too_large: &mut bool) {
    if *too_large {
        return;
    }
    if buf.len().saturating_add(chunk.len()) > limit {
        *too_large = true;
        buf.clear();
    } else {
        buf.extend_from_slice(chunk);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementKind {
    /// An object or array: ends when its brackets balance.
    Container,
    /// A string: ends at its closing quote.
    Text,
    /// A number, literal or garbage: ends before whitespace, `,` or `]`.
    Bare,
}

/// Finds the end of one array element. Only a depth counter is kept, not a bracket stack,
/// so that skipping an oversized element needs constant memory; mismatched brackets then
/// surface as a parse error of the element or as broken framing.
struct ElementScan {
    kind: ElementKind,
    depth: u64,
    in_string: bool,
    escaped: bool,
}

impl ElementScan {
    fn new(first: u8) -> Self {
        let kind = match first {
            b'{' | b'[' => ElementKind::Container,
            b'"' => ElementKind::Text,
            _ => ElementKind::Bare,
        };
        Self {
            kind,
            depth: 0,
            in_string: false,
            escaped: false,
        }
    }

    /// Returns how many bytes belong to the element and whether it ends within them.
    fn feed(&mut self, bytes: &[u8]) -> (usize, bool) {
        if self.kind == ElementKind::Bare {
            return match bytes
                .iter()
                .position(|&b| is_json_whitespace(b) || b == b',' || b == b']')
            {
                Some(end) => (end, true),
                None => (bytes.len(), false),
            };
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return (i, true);
                    }
                } else {
                    // Strings are most of a record: jump to the next byte that matters.
                    i += bytes[i..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\')
                        .unwrap_or(bytes.len() - i);
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return (i, true);
                    }
                }
                _ => {}
            }
        }
        (bytes.len(), false)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: either the first of a doubled quote or the closing one.
    QuoteInQuoted,
}

/// Finds the end of one CSV row, following csv-core's state machine (double quotes, no
/// escape character, `\n` terminator).
struct RowScan {
    /// `None` while reading the header, when either candidate delimiter may be the one.
    delimiter: Option<u8>,
    state: CsvState,
    /// Whether the last byte seen was a `\r` outside quotes.
    trailing_cr: bool,
}

impl RowScan {
    fn is_delimiter(&self, b: u8) -> bool {
        match self.delimiter {
            Some(d) => b == d,
            None => b == b',' || b == b';',
        }
    }

    /// Returns how many bytes belong to the row, its `\n` included, and whether it ends
    /// within them.
    fn feed(&mut self, bytes: &[u8]) -> (usize, bool) {
        for (i, &b) in bytes.iter().enumerate() {
            let quoted = self.state == CsvState::Quoted;
            if !quoted && b == b'\n' {
                return (i + 1, true);
            }
            self.trailing_cr = !quoted && b == b'\r';
            self.state = match self.state {
                CsvState::Quoted if b == b'"' => CsvState::QuoteInQuoted,
                CsvState::Quoted => CsvState::Quoted,
                CsvState::FieldStart | CsvState::QuoteInQuoted if b == b'"' => CsvState::Quoted,
                _ if self.is_delimiter(b) => CsvState::FieldStart,
                _ => CsvState::Unquoted,
            };
        }
        (bytes.len(), false)
    }
}

impl CsvLayout {
    /// Splits one framed row into the cells of `self.row`.
    fn parse(&mut self, row: &[u8]) -> csv::Result<()> {
        let delimiter = self.delimiter;
        let reader = self.rows.get_or_insert_with(|| {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_reader(RowFeed::default())
        });
        reader.get_mut().load(row);
        let result = reader.read_record(&mut self.row);
        // The row must have been read to its end and no further, or the next row would
        // start out of step; should the framing ever disagree with csv-core, start afresh.
        if result.is_err() || reader.position().byte() != reader.get_ref().fed {
            self.rows = None;
            #[cfg(test)]
            {
                self.restarts += 1;
            }
        }
        result.map(drop)
    }
}

/// Hands the csv reader one framed row at a time, each ended by the `\n` the framing took
/// off.
#[derive(Default)]
struct RowFeed {
    data: Vec<u8>,
    pos: usize,
    /// Bytes handed out since the feed was created.
    fed: u64,
}

impl RowFeed {
    fn load(&mut self, row: &[u8]) {
        self.data.clear();
        self.data.extend_from_slice(row);
        self.data.push(b'\n');
        self.pos = 0;
    }
}

impl io::Read for RowFeed {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        self.fed += n as u64;
        Ok(n)
    }
}

/// The JSON value of a non-empty CSV cell, or `None` when it holds nothing (an empty list).
fn cell_value(name: &str, cell: &str) -> Option<Value> {
    if ARRAY_FIELDS.contains(&name) {
        let items = parse_list(cell);
        return (!items.is_empty())
            .then(|| Value::Array(items.into_iter().map(Value::String).collect()));
    }
    let number = if FLOAT_FIELDS.contains(&name) {
        parse_float(cell)
    } else if INTEGER_FIELDS.contains(&name) {
        parse_integer(cell)
    } else {
        None
    };
    // An unparseable number stays text, for schema validation to report with context.
    Some(number.map_or_else(|| Value::String(cell.to_owned()), Value::Number))
}

/// A list cell in any of the spellings exports use: a JSON array, a PostgreSQL array
/// literal, or plain comma-separated items.
fn parse_list(cell: &str) -> Vec<String> {
    let text = cell.trim();
    if text.starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<Value>>(text) {
            return items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Null => None,
                    Value::String(s) => Some(s.trim().to_owned()),
                    other => Some(other.to_string()),
                })
                .filter(|item| !item.is_empty())
                .collect();
        }
        let inner = text.strip_prefix('[').unwrap_or(text);
        return split_items(inner.strip_suffix(']').unwrap_or(inner), false);
    }
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        return split_items(inner, true);
    }
    split_items(text, false)
}

/// Splits on commas outside double quotes; quoted items take `\` escapes, as PostgreSQL
/// writes them.
fn split_items(text: &str, postgres: bool) -> Vec<String> {
    fn push(items: &mut Vec<String>, raw: &str, quoted: bool, postgres: bool) {
        let item = raw.trim();
        // An unquoted NULL is PostgreSQL's null element, not the word.
        if item.is_empty() || (postgres && !quoted && item.eq_ignore_ascii_case("null")) {
            return;
        }
        items.push(item.to_owned());
    }
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' => in_quotes = false,
                '\\' => current.extend(chars.next()),
                _ => current.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                push(&mut items, &current, quoted, postgres);
                current.clear();
                quoted = false;
            }
            '"' if current.trim().is_empty() => {
                current.clear();
                in_quotes = true;
                quoted = true;
            }
            _ => current.push(c),
        }
    }
    push(&mut items, &current, quoted, postgres);
    items
}

/// Parses with serde_json first, so a value reads the same from CSV as from JSON, then
/// falls back to Rust's laxer syntax (`+1`, `.5`). French spreadsheets write `47,79`.
fn parse_float(cell: &str) -> Option<Number> {
    let text = cell.trim();
    let normalised;
    let text = if !text.contains('.') && text.matches(',').count() == 1 {
        normalised = text.replace(',', ".");
        normalised.as_str()
    } else {
        text
    };
    serde_json::from_str::<f64>(text)
        .ok()
        .or_else(|| text.parse::<f64>().ok())
        .filter(|f| f.is_finite())
        .and_then(Number::from_f64)
}

fn parse_integer(cell: &str) -> Option<Number> {
    let text = cell.trim();
    text.parse::<i64>()
        .map(Number::from)
        .or_else(|_| text.parse::<u64>().map(Number::from))
        .ok()
}

fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// What one item of the iterator should be.
    #[derive(Debug, PartialEq)]
    enum Item {
        /// position, line, fields
        Ok(u64, u64, Value),
        /// code, position, line, fatal
        Err(&'static str, u64, u64, bool),
    }

    fn items<R: BufRead>(reader: RecordReader<R>) -> Vec<Item> {
        reader
            .map(|item| match item {
                Ok(r) => Item::Ok(r.position, r.line, Value::Object(r.fields)),
                Err(e) => Item::Err(e.code, e.position, e.line, e.fatal),
            })
            .collect()
    }

    fn read(input: &[u8]) -> (Format, Vec<Item>) {
        read_with_limit(input, DEFAULT_MAX_RECORD_BYTES)
    }

    fn read_with_limit(input: &[u8], limit: usize) -> (Format, Vec<Item>) {
        let reader = RecordReader::with_limit(input, limit).expect("the file opens");
        let format = reader.format();
        (format, items(reader))
    }

    fn ok(position: u64, line: u64, fields: Value) -> Item {
        Item::Ok(position, line, fields)
    }

    fn skipped(code: &'static str, position: u64, line: u64) -> Item {
        Item::Err(code, position, line, false)
    }

    fn fatal(code: &'static str, position: u64, line: u64) -> Item {
        Item::Err(code, position, line, true)
    }

    #[test]
    fn sniffs_the_format() {
        let cases: Vec<(&str, &[u8], Format, Vec<Item>)> = vec![
            ("empty file", b"", Format::JsonLines, vec![]),
            ("BOM only", b"\xEF\xBB\xBF", Format::JsonLines, vec![]),
            ("whitespace only", b" \r\n\t\n", Format::JsonLines, vec![]),
            (
                "JSON array",
                b"[{\"a\":\"1\"},{\"b\":2}]",
                Format::JsonArray,
                vec![ok(1, 1, json!({"a": "1"})), ok(2, 1, json!({"b": 2}))],
            ),
            (
                "JSON array after BOM and blank lines",
                b"\xEF\xBB\xBF \n\n  [\n {\"a\": \"x\"}\n]\n",
                Format::JsonArray,
                vec![ok(1, 4, json!({"a": "x"}))],
            ),
            ("empty JSON array", b"[ ]", Format::JsonArray, vec![]),
            (
                "JSON Lines after BOM",
                b"\xEF\xBB\xBF{\"a\":1}\n\n  {\"a\":2}\r\n{\"a\":3}",
                Format::JsonLines,
                vec![
                    ok(1, 1, json!({"a": 1})),
                    ok(2, 3, json!({"a": 2})),
                    ok(3, 4, json!({"a": 3})),
                ],
            ),
            (
                "CSV with commas",
                b"id,nom\n1,Alpha\n2,Beta\n",
                Format::Csv,
                vec![
                    ok(1, 2, json!({"id": "1", "nom": "Alpha"})),
                    ok(2, 3, json!({"id": "2", "nom": "Beta"})),
                ],
            ),
            (
                "CSV with semicolons, BOM and CRLF",
                b"\xEF\xBB\xBFid;nom;adresse\r\n1;Alpha;3, rue X\r\n",
                Format::Csv,
                vec![ok(
                    1,
                    2,
                    json!({"id": "1", "nom": "Alpha", "adresse": "3, rue X"}),
                )],
            ),
            (
                "CSV with a quoted newline",
                b"id,description\n1,\"one\ntwo\"\n2,\"x\"\"y\"\r\n\n3,last",
                Format::Csv,
                vec![
                    ok(1, 2, json!({"id": "1", "description": "one\ntwo"})),
                    ok(2, 4, json!({"id": "2", "description": "x\"y"})),
                    ok(3, 6, json!({"id": "3", "description": "last"})),
                ],
            ),
        ];
        for (name, input, format, expected) in cases {
            let (found, got) = read(input);
            assert_eq!(found, format, "{name}");
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn converts_csv_cells() {
        let cases: Vec<(&str, &str, Value)> = vec![
            ("empty cell", "nom,commune\nA,\n", json!({"nom": "A"})),
            (
                "text kept as is",
                "nom\n  spaced \t\n",
                json!({"nom": "  spaced \t"}),
            ),
            (
                "quoted CR is data",
                "nom\n\"a\r\"\r\n",
                json!({"nom": "a\r"}),
            ),
            (
                "plain list",
                "thematiques\n\"a, b,,c \"\n",
                json!({"thematiques": ["a", "b", "c"]}),
            ),
            (
                "JSON array literal",
                "publics;thematiques\n[\"x\", \"y\"];[]\n",
                json!({"publics": ["x", "y"]}),
            ),
            (
                "PostgreSQL array literal",
                "modes_accueil\n\"{a,\"\"b c\"\",NULL,\"\"d\\\"\"e\"\"}\"\n",
                json!({"modes_accueil": ["a", "b c", "d\"e"]}),
            ),
            (
                "decimal comma",
                "latitude;longitude\n47,79;-1,5\n",
                json!({"latitude": 47.79, "longitude": -1.5}),
            ),
            (
                "decimal point and integer",
                "latitude,nombre_semaines,volume_horaire_hebdomadaire\n 47.5 ,12,35\n",
                json!({"latitude": 47.5, "nombre_semaines": 12, "volume_horaire_hebdomadaire": 35.0}),
            ),
            (
                "bad numbers stay text",
                "latitude,nombre_semaines,longitude\nnord,12.5,inf\n",
                json!({"latitude": "nord", "nombre_semaines": "12.5", "longitude": "inf"}),
            ),
            (
                "unnamed trailing column ignored",
                "id;nom;\n1;A;\n",
                json!({"id": "1", "nom": "A"}),
            ),
            (
                "header names trimmed",
                " id , nom\n1,A\n",
                json!({"id": "1", "nom": "A"}),
            ),
        ];
        for (name, input, expected) in cases {
            let (format, got) = read(input.as_bytes());
            assert_eq!(format, Format::Csv, "{name}");
            assert_eq!(got, vec![ok(1, 2, expected)], "{name}");
        }
    }

    #[test]
    fn reports_each_error_code() {
        let limit = 32;
        let cases: Vec<(&str, &[u8], Vec<Item>)> = vec![
            (
                "array: malformed element",
                b"[{\"a\": tru}, {\"a\": 1}]",
                vec![skipped(RECORD_MALFORMED_JSON, 1, 1), ok(2, 1, json!({"a": 1}))],
            ),
            (
                "array: not objects",
                b"[1, \"s\", [1], null, {}]",
                vec![
                    skipped(RECORD_NOT_AN_OBJECT, 1, 1),
                    skipped(RECORD_NOT_AN_OBJECT, 2, 1),
                    skipped(RECORD_NOT_AN_OBJECT, 3, 1),
                    skipped(RECORD_NOT_AN_OBJECT, 4, 1),
                    ok(5, 1, json!({})),
                ],
            ),
            (
                "array: too large",
                b"[\n{\"a\": \"0123456789012345678901234567890123456789\"},\n{\"b\": 1}]",
                vec![skipped(RECORD_TOO_LARGE, 1, 2), ok(2, 3, json!({"b": 1}))],
            ),
            (
                "array: invalid UTF-8",
                b"[{\"a\": \"\xff\"}, {\"b\": 1}]",
                vec![skipped(RECORD_INVALID_UTF8, 1, 1), ok(2, 1, json!({"b": 1}))],
            ),
            (
                "array: unterminated string",
                b"[{\"a\": 1},\n{\"a\": \"open}]\n",
                vec![ok(1, 1, json!({"a": 1})), fatal(FILE_MALFORMED_JSON, 2, 3)],
            ),
            (
                "array: missing ]",
                b"[{\"a\": 1},\n{\"a\": 2}\n",
                vec![
                    ok(1, 1, json!({"a": 1})),
                    ok(2, 2, json!({"a": 2})),
                    fatal(FILE_MALFORMED_JSON, 2, 3),
                ],
            ),
            (
                "array: garbage after ]",
                b"[{\"a\": 1}] x",
                vec![ok(1, 1, json!({"a": 1})), fatal(FILE_MALFORMED_JSON, 1, 1)],
            ),
            (
                "array: missing comma",
                b"[{\"a\": 1}\n{\"a\": 2}]",
                vec![ok(1, 1, json!({"a": 1})), fatal(FILE_MALFORMED_JSON, 1, 2)],
            ),
            (
                "array: trailing comma",
                b"[{\"a\": 1},]",
                vec![ok(1, 1, json!({"a": 1})), fatal(FILE_MALFORMED_JSON, 1, 1)],
            ),
            (
                "array: empty element",
                b"[,{\"a\": 1}]",
                vec![fatal(FILE_MALFORMED_JSON, 0, 1)],
            ),
            (
                "lines: malformed, not an object, invalid UTF-8, too large",
                b"{\"a\": 1}\n{\"a\": }\n[1]\n{\"a\": \"\xc3\"}\n{\"a\": \"0123456789012345678901234567890\"}\n{\"a\": 2}",
                vec![
                    ok(1, 1, json!({"a": 1})),
                    skipped(RECORD_MALFORMED_JSON, 2, 2),
                    skipped(RECORD_NOT_AN_OBJECT, 3, 3),
                    skipped(RECORD_INVALID_UTF8, 4, 4),
                    skipped(RECORD_TOO_LARGE, 5, 5),
                    ok(6, 6, json!({"a": 2})),
                ],
            ),
            (
                "csv: width, invalid UTF-8, too large",
                b"id,nom\n1\n2,\xff\n3,0123456789012345678901234567890\n4,\"a\nb\",c\n5,E",
                vec![
                    skipped(RECORD_CSV_WIDTH, 1, 2),
                    skipped(RECORD_INVALID_UTF8, 2, 3),
                    skipped(RECORD_TOO_LARGE, 3, 4),
                    skipped(RECORD_CSV_WIDTH, 4, 5),
                    ok(5, 7, json!({"id": "5", "nom": "E"})),
                ],
            ),
            (
                "csv: unterminated quote",
                b"id,nom\n1,A\n2,\"open\n\n",
                vec![
                    ok(1, 2, json!({"id": "1", "nom": "A"})),
                    fatal(FILE_MALFORMED_CSV, 2, 5),
                ],
            ),
        ];
        for (name, input, expected) in cases {
            let (_, got) = read_with_limit(input, limit);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn unreadable_csv_headers_are_fatal() {
        let cases: Vec<(&str, &[u8], usize)> = vec![
            (
                "invalid UTF-8",
                b"id,n\xffom\n1,A\n",
                DEFAULT_MAX_RECORD_BYTES,
            ),
            ("too large", b"id,nom,description,adresse\n1,A,B,C\n", 8),
        ];
        for (name, input, limit) in cases {
            let Err(e) = RecordReader::with_limit(input, limit) else {
                panic!("{name}: the file should not open");
            };
            assert_eq!(
                (e.code, e.fatal, e.position, e.line),
                (FILE_MALFORMED_CSV, true, 0, 1),
                "{name}"
            );
        }
    }

    #[test]
    fn errors_describe_themselves() {
        let mut reader = RecordReader::new(&b"[{\"a\": tru}]"[..]).unwrap();
        let error = reader.next().unwrap().unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 1, record 1: invalid JSON on line 1: expected ident (record.malformed_json)"
        );
        assert_eq!(Format::JsonArray.as_str(), "json");
        assert_eq!(Format::JsonLines.as_str(), "jsonl");
        assert_eq!(Format::Csv.as_str(), "csv");
    }

    #[test]
    fn ends_after_a_fatal_error() {
        let mut reader = RecordReader::new(&b"[{\"a\": 1} {\"b\": 2}, {\"c\": 3}]"[..]).unwrap();
        assert!(reader.next().unwrap().is_ok());
        assert!(reader.next().unwrap().unwrap_err().fatal);
        for _ in 0..3 {
            assert!(reader.next().is_none());
        }
    }

    struct FailingReader;

    impl Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }

    /// Hands out its bytes, then fails.
    struct FailsAfter(&'static [u8]);

    impl Read for FailsAfter {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("cable cut"));
            }
            let n = out.len().min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_errors_are_fatal() {
        let Err(e) = RecordReader::new(BufReader::new(FailingReader)) else {
            panic!("the file should not open");
        };
        assert_eq!((e.code, e.fatal), (FILE_IO, true));

        for input in [&b"{\"a\": 1}\n"[..], b"[{\"a\": 1},", b"id\n1\n"] {
            let reader = RecordReader::new(BufReader::new(FailsAfter(input))).unwrap();
            let got = items(reader);
            assert!(
                matches!(got.last(), Some(Item::Err(FILE_IO, _, _, true))),
                "{got:?}"
            );
        }
    }

    #[test]
    fn bytes_read_reaches_the_file_size() {
        let input = b"\xEF\xBB\xBF[{\"a\": 1}, {\"b\": 2}]  \n";
        let mut reader = RecordReader::new(BufReader::with_capacity(3, &input[..])).unwrap();
        assert_eq!(reader.bytes_read(), 4);
        assert_eq!(reader.by_ref().count(), 2);
        assert_eq!(reader.bytes_read(), input.len() as u64);
    }

    #[test]
    fn non_fatal_errors_do_not_stop_the_file() {
        let mut input = String::from("[\n");
        for i in 1..=100 {
            if i > 1 {
                input.push_str(",\n");
            }
            match i {
                13 => input.push_str("{\"id\": }"),
                50 => input.push_str("42"),
                _ => input.push_str(&format!("{{\"id\": \"{i}\"}}")),
            }
        }
        input.push_str("\n]\n");
        let (_, got) = read(input.as_bytes());
        assert_eq!(got.len(), 100);
        for (i, item) in (1..).zip(&got) {
            let line = i + 1;
            let expected = match i {
                13 => skipped(RECORD_MALFORMED_JSON, 13, line),
                50 => skipped(RECORD_NOT_AN_OBJECT, 50, line),
                _ => ok(i, line, json!({"id": i.to_string()})),
            };
            assert_eq!(item, &expected);
        }
    }

    /// `[{"huge":"xxx…"},{"next":"ok"}]`, made on the fly so the test itself stays small.
    struct HugeElement {
        filler: u64,
        pos: u64,
    }

    const HUGE_HEAD: &[u8] = b"[{\"huge\":\"";
    const HUGE_TAIL: &[u8] = b"\"},\n{\"next\":\"ok\"}]";

    impl Read for HugeElement {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let head = HUGE_HEAD.len() as u64;
            let total = head + self.filler + HUGE_TAIL.len() as u64;
            let mut n = 0;
            while n < out.len() && self.pos < total {
                out[n] = if self.pos < head {
                    HUGE_HEAD[self.pos as usize]
                } else if self.pos < head + self.filler {
                    b'x'
                } else {
                    HUGE_TAIL[(self.pos - head - self.filler) as usize]
                };
                n += 1;
                self.pos += 1;
            }
            Ok(n)
        }
    }

    #[test]
    fn skips_a_huge_record_in_bounded_memory() {
        let limit = 1024 * 1024;
        let source = HugeElement {
            filler: 50 * 1024 * 1024,
            pos: 0,
        };
        let mut reader =
            RecordReader::with_limit(BufReader::with_capacity(64 * 1024, source), limit).unwrap();
        let first = reader.next().unwrap().unwrap_err();
        assert_eq!(
            (first.code, first.position, first.fatal),
            (RECORD_TOO_LARGE, 1, false)
        );
        assert!(
            reader.buf.capacity() <= 2 * limit,
            "{}",
            reader.buf.capacity()
        );
        let second = reader.next().unwrap().unwrap();
        assert_eq!((second.position, second.line), (2, 2));
        assert_eq!(Value::Object(second.fields), json!({"next": "ok"}));
        assert!(reader.next().is_none());
        assert!(reader.buf.capacity() <= 2 * limit);
    }

    #[test]
    fn skips_huge_lines_and_rows_in_bounded_memory() {
        let limit = 1024;
        let huge = "y".repeat(1024 * 1024);
        for input in [
            format!("{{\"a\": \"{huge}\"}}\n{{\"a\": 1}}\n"),
            format!("a\n\"{huge}\n{huge}\"\n1\n"),
        ] {
            let mut reader = RecordReader::with_limit(input.as_bytes(), limit).unwrap();
            let first = reader.next().unwrap().unwrap_err();
            assert_eq!(first.code, RECORD_TOO_LARGE);
            assert!(reader.buf.capacity() <= 2 * limit);
            let second = reader.next().unwrap().unwrap();
            assert_eq!(second.position, 2);
            assert!(reader.next().is_none());
        }
    }

    fn read_everything(input: &[u8], limit: usize, capacity: usize) -> Vec<Item> {
        match RecordReader::with_limit(BufReader::with_capacity(capacity, input), limit) {
            Ok(reader) => items(reader),
            Err(e) => vec![Item::Err(e.code, e.position, e.line, e.fatal)],
        }
    }

    /// Bytes drawn from JSON and CSV punctuation, to reach the framers' corners more often
    /// than uniform bytes do.
    fn punctuation() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop::sample::select(b"[]{}\",:;\\ \n\r\tab1.-\xff\xc3".to_vec()),
            0..512,
        )
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..4096),
            prefix in prop::sample::select(vec![
                &b""[..], b"[", b"{", b"\xEF\xBB\xBF[", b"id,nom,latitude,thematiques\n",
                b"id;publics;nombre_semaines\r\n",
            ]),
            limit in prop::sample::select(vec![16, 256, DEFAULT_MAX_RECORD_BYTES]),
        ) {
            let input = [prefix, &body[..]].concat();
            let _ = read_everything(&input, limit, 8 * 1024);
        }

        /// The row framing agrees with csv-core on where every row ends.
        #[test]
        fn csv_framing_matches_csv_core(
            body in punctuation(),
            header in prop::sample::select(vec![&b"a,b\n"[..], b"a;b;c\r\n", b"\"a\nb\",c\n"]),
        ) {
            let input = [header, &body[..]].concat();
            let mut reader = RecordReader::with_limit(&input[..], 64).unwrap();
            reader.by_ref().for_each(drop);
            prop_assert_eq!(reader.csv.restarts, 0);
        }

        /// Where the input's buffers end must not change what is read.
        #[test]
        fn buffer_boundaries_do_not_matter(
            body in punctuation(),
            prefix in prop::sample::select(vec![
                &b"[{\"a\":"[..], b"{\"a\":", b"\xEF\xBB\xBF", b"a,b\n", b"a;b\n\"",
            ]),
            capacity in 1usize..8,
        ) {
            let input = [prefix, &body[..]].concat();
            let whole = read_everything(&input, 64, input.len().max(1));
            let pieces = read_everything(&input, 64, capacity);
            prop_assert_eq!(whole, pieces);
        }
    }
}
