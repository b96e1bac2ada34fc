#![no_main]

//! Arbitrary bytes through the data·inclusion import: the streaming reader (JSON array, JSON
//! Lines, CSV), the v1 schema check, the typed records, and the mapping to PEPS's organisations
//! and offers. Nothing may panic, and the reader must stop after a fatal error.

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use peps_core::catalogue::ReferenceData;
use peps_core::catalogue::data_inclusion::read::RecordReader;
use peps_core::catalogue::data_inclusion::schema::V1Schemas;
use peps_core::catalogue::data_inclusion::{V1Service, V1Structure, import};
use peps_core::ports::RecordKind;
use serde_json::Value;

static SCHEMAS: LazyLock<V1Schemas> = LazyLock::new(V1Schemas::new);
static REFERENCE: LazyLock<ReferenceData> = LazyLock::new(ReferenceData::builtin);

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = RecordReader::new(data) else {
        return;
    };
    while let Some(item) = reader.next() {
        let record = match item {
            Ok(record) => record,
            Err(error) => {
                if error.fatal {
                    assert!(reader.next().is_none(), "records after a fatal {error}");
                    break;
                }
                continue;
            }
        };
        let value = Value::Object(record.fields);
        let _ = SCHEMAS.check(RecordKind::Structure, &value);
        let _ = SCHEMAS.check(RecordKind::Service, &value);
        if let Ok(structure) = serde_json::from_value::<V1Structure>(value.clone()) {
            let _ = import::structure(&structure, &REFERENCE);
        }
        if let Ok(service) = serde_json::from_value::<V1Service>(value) {
            let _ = import::service(&service, None, &REFERENCE, "ville-du-quotidien");
        }
    }
});
