//! Streaming writer for data·inclusion extracts, in the formats [`super::read`] reads.
//!
//! Records are written through as they come, so an export of any size needs the memory of
//! one record; wrap the output in a `BufWriter` for speed.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::read::Format;

/// The v1 `structure` fields, in schema order.
pub const STRUCTURE_COLUMNS: &[&str] = &[
    "source",
    "id",
    "nom",
    "date_maj",
    "siret",
    "description",
    "adresse",
    "complement_adresse",
    "code_postal",
    "commune",
    "code_insee",
    "latitude",
    "longitude",
    "courriel",
    "telephone",
    "site_web",
    "horaires_accueil",
    "accessibilite_lieu",
    "reseaux_porteurs",
    "lien_source",
];

/// The v1 `service` fields, in schema order.
pub const SERVICE_COLUMNS: &[&str] = &[
    "source",
    "id",
    "structure_id",
    "nom",
    "description",
    "date_maj",
    "thematiques",
    "type",
    "publics",
    "publics_precisions",
    "frais",
    "frais_precisions",
    "conditions_acces",
    "modes_accueil",
    "modes_mobilisation",
    "mobilisable_par",
    "lien_mobilisation",
    "mobilisation_precisions",
    "nombre_semaines",
    "volume_horaire_hebdomadaire",
    "adresse",
    "complement_adresse",
    "code_postal",
    "commune",
    "code_insee",
    "latitude",
    "longitude",
    "zone_eligibilite",
    "horaires_accueil",
    "courriel",
    "telephone",
    "contact_nom_prenom",
    "lien_source",
];

/// Writes records one at a time. Call [`RecordWriter::finish`]: a JSON array left without
/// it is not closed.
pub struct RecordWriter<W: Write> {
    sink: Sink<W>,
}

enum Sink<W: Write> {
    Json {
        out: W,
        array: bool,
        written: u64,
    },
    Csv {
        /// Boxed: the csv writer is large, and one writer is made per export.
        out: Box<csv::Writer<W>>,
        columns: &'static [&'static str],
        cells: Vec<String>,
    },
}

impl<W: Write> RecordWriter<W> {
    /// `columns` is the CSV header (and column order); ignored for JSON formats.
    pub fn new(out: W, format: Format, columns: &'static [&'static str]) -> io::Result<Self> {
        let sink = match format {
            Format::JsonArray | Format::JsonLines => {
                let mut out = out;
                let array = format == Format::JsonArray;
                if array {
                    out.write_all(b"[\n")?;
                }
                Sink::Json {
                    out,
                    array,
                    written: 0,
                }
            }
            Format::Csv => {
                let mut out = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_writer(out);
                out.write_record(columns)?;
                Sink::Csv {
                    out: Box::new(out),
                    columns,
                    cells: Vec::with_capacity(columns.len()),
                }
            }
        };
        Ok(Self { sink })
    }

    /// Writes one record, which must serialise to a JSON object.
    pub fn write(&mut self, record: &impl Serialize) -> io::Result<()> {
        let Value::Object(fields) = serde_json::to_value(record)? else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a data·inclusion record must serialise to a JSON object",
            ));
        };
        match &mut self.sink {
            Sink::Json {
                out,
                array,
                written,
            } => {
                if *array && *written > 0 {
                    out.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut *out, &fields)?;
                if !*array {
                    out.write_all(b"\n")?;
                }
                *written += 1;
            }
            Sink::Csv {
                out,
                columns,
                cells,
            } => {
                cells.clear();
                cells.extend(columns.iter().map(|c| cell_text(fields.get(*c))));
                out.write_record(cells.iter())?;
            }
        }
        Ok(())
    }

    /// Closes the JSON array, flushes, and hands the output back.
    pub fn finish(self) -> io::Result<W> {
        match self.sink {
            Sink::Json {
                mut out,
                array,
                written,
            } => {
                if array {
                    out.write_all(if written > 0 { b"\n]\n" } else { b"]\n" })?;
                }
                out.flush()?;
                Ok(out)
            }
            Sink::Csv { out, .. } => out.into_inner().map_err(|e| e.into_error()),
        }
    }
}

/// A value as a CSV cell. Lists are comma-joined, the plain spelling the reader accepts;
/// that is lossless only for items without commas, which holds for the schema's slugs.
fn cell_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, json};

    use super::super::read::RecordReader;
    use super::*;

    fn export(format: Format, columns: &'static [&'static str], records: &[Value]) -> String {
        let mut writer = RecordWriter::new(Vec::new(), format, columns).unwrap();
        for record in records {
            writer.write(record).unwrap();
        }
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn writes_each_format() {
        const COLUMNS: &[&str] = &["id", "nom", "thematiques", "latitude", "commune"];
        let records = [
            json!({"id": "1", "nom": "A, \"B\"", "thematiques": ["x", "y"], "latitude": 47.5, "extra": "ignored"}),
            json!({"id": "2", "nom": "line\nbreak", "commune": null}),
        ];
        let cases: Vec<(Format, &[Value], &str)> = vec![
            (Format::JsonArray, &[], "[\n]\n"),
            (
                Format::JsonArray,
                &records,
                "[\n{\"extra\":\"ignored\",\"id\":\"1\",\"latitude\":47.5,\"nom\":\"A, \\\"B\\\"\",\"thematiques\":[\"x\",\"y\"]},\n{\"commune\":null,\"id\":\"2\",\"nom\":\"line\\nbreak\"}\n]\n",
            ),
            (Format::JsonLines, &[], ""),
            (
                Format::JsonLines,
                &records[1..],
                "{\"commune\":null,\"id\":\"2\",\"nom\":\"line\\nbreak\"}\n",
            ),
            (Format::Csv, &[], "id,nom,thematiques,latitude,commune\n"),
            (
                Format::Csv,
                &records,
                "id,nom,thematiques,latitude,commune\n1,\"A, \"\"B\"\"\",\"x,y\",47.5,\n2,\"line\nbreak\",,,\n",
            ),
        ];
        for (format, records, expected) in cases {
            assert_eq!(export(format, COLUMNS, records), expected, "{format:?}");
        }
    }

    #[test]
    fn refuses_records_that_are_not_objects() {
        let mut writer = RecordWriter::new(Vec::new(), Format::JsonLines, &[]).unwrap();
        let error = writer.write(&json!([1, 2])).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn columns_follow_the_schema() {
        assert_eq!(STRUCTURE_COLUMNS.len(), 20);
        assert_eq!(SERVICE_COLUMNS.len(), 33);
        assert_eq!(STRUCTURE_COLUMNS[..2], ["source", "id"]);
        assert_eq!(SERVICE_COLUMNS.last(), Some(&"lien_source"));
    }

    const ARRAY_COLUMNS: &[&str] = &[
        "thematiques",
        "publics",
        "modes_accueil",
        "modes_mobilisation",
        "mobilisable_par",
        "zone_eligibilite",
        "reseaux_porteurs",
    ];

    /// Text that exercises CSV quoting and JSON escaping.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 ,;\"'\\\\\n\r\t{}\\[\\]éàç€ü😀]{1,24}",
            any::<String>().prop_filter("not empty", |s| !s.is_empty()),
        ]
    }

    fn value_for(column: &'static str) -> BoxedStrategy<Option<Value>> {
        let value = if ARRAY_COLUMNS.contains(&column) {
            proptest::collection::vec("[a-z0-9-]{1,20}", 1..4)
                .prop_map(|items| json!(items))
                .boxed()
        } else if matches!(
            column,
            "latitude" | "longitude" | "volume_horaire_hebdomadaire"
        ) {
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f))
                .boxed()
        } else if column == "nombre_semaines" {
            any::<u32>().prop_map(|n| json!(n)).boxed()
        } else {
            text().prop_map(Value::String).boxed()
        };
        proptest::option::of(value).boxed()
    }

    fn record(columns: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
        columns
            .iter()
            .map(|column| value_for(column))
            .collect::<Vec<_>>()
            .prop_map(move |values| {
                columns
                    .iter()
                    .zip(values)
                    .filter_map(|(column, value)| Some(((*column).to_owned(), value?)))
                    .collect()
            })
    }

    fn records() -> impl Strategy<Value = (&'static [&'static str], Vec<Map<String, Value>>)> {
        prop_oneof![Just(SERVICE_COLUMNS), Just(STRUCTURE_COLUMNS)].prop_flat_map(|columns| {
            (
                Just(columns),
                proptest::collection::vec(record(columns), 0..6),
            )
        })
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back(
            (columns, records) in records(),
            format in prop::sample::select(vec![Format::JsonArray, Format::JsonLines, Format::Csv]),
        ) {
            let mut writer = RecordWriter::new(Vec::new(), format, columns).unwrap();
            for record in &records {
                writer.write(record).unwrap();
            }
            let bytes = writer.finish().unwrap();
            let reader = RecordReader::new(&bytes[..]).unwrap();
            // An export with no records is indistinguishable from an empty file.
            if !(records.is_empty() && format == Format::JsonLines) {
                prop_assert_eq!(reader.format(), format);
            }
            let read: Vec<Map<String, Value>> = reader
                .map(|record| record.map(|r| r.fields))
                .collect::<Result<_, _>>()
                .unwrap();
            // Floats are compared as JSON carries them.
            let expected: Vec<Map<String, Value>> =
                serde_json::from_str(&serde_json::to_string(&records).unwrap()).unwrap();
            prop_assert_eq!(read, expected);
        }
    }
}
