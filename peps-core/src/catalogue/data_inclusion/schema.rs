//! Validation of incoming records against the data·inclusion v1 JSON Schemas (vendored
//! verbatim), with one stable reason code per invalid field.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::ports::RecordKind;

const STRUCTURE_SCHEMA: &str =
    include_str!("../../../data/catalogue/data-inclusion-v1/schema/structure.json");
const SERVICE_SCHEMA: &str =
    include_str!("../../../data/catalogue/data-inclusion-v1/schema/service.json");

/// One reason a record cannot be taken as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The v1 field name (`nom`, `thematiques`), or `*` for the record as a whole.
    pub field: String,
    /// A stable code: `v1.required`, `v1.enum`, …, or a PEPS rule (`offer.…`, `import.…`).
    pub code: String,
    /// The offending value, shortened, when there is one.
    pub value: Option<String>,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            value: None,
        }
    }

    pub fn with_value(mut self, value: &Value) -> Self {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.value = Some(shorten(&text, 200));
        self
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max).collect();
        short.push('…');
        short
    }
}

/// The compiled v1 schemas.
pub struct V1Schemas {
    structure: jsonschema::Validator,
    service: jsonschema::Validator,
}

impl Default for V1Schemas {
    fn default() -> Self {
        Self::new()
    }
}

impl V1Schemas {
    pub fn new() -> Self {
        Self {
            structure: compile(STRUCTURE_SCHEMA),
            service: compile(SERVICE_SCHEMA),
        }
    }

    /// Every field of `record` that breaks the schema of `kind`, once per field.
    pub fn check(&self, kind: RecordKind, record: &Value) -> Vec<FieldProblem> {
        let validator = match kind {
            RecordKind::Structure => &self.structure,
            RecordKind::Service => &self.service,
        };
        let mut problems: Vec<FieldProblem> = Vec::new();
        for error in validator.iter_errors(record) {
            let (instance, kind, path, _) = error.into_parts();
            let segments: Vec<String> = path
                .to_string()
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let (field, code) = match &kind {
                ValidationErrorKind::Required { property } => (
                    property.as_str().unwrap_or("*").to_owned(),
                    "v1.required".to_owned(),
                ),
                _ => (
                    segments.first().cloned().unwrap_or_else(|| "*".to_owned()),
                    format!("v1.{}", keyword_code(&kind)),
                ),
            };
            if problems.iter().any(|p| p.field == field) {
                continue;
            }
            let problem = FieldProblem::new(field, code);
            problems.push(if matches!(kind, ValidationErrorKind::Required { .. }) {
                problem
            } else {
                problem.with_value(&instance)
            });
        }
        problems
    }
}

fn compile(schema: &str) -> jsonschema::Validator {
    // The schemas are compiled into the binary and covered by tests: failing here is a build
    // defect, not an input problem.
    let schema: Value = serde_json::from_str(schema).expect("vendored v1 schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("vendored v1 schema compiles")
}

/// The most specific keyword behind an error. Nullable fields are `anyOf [constraint, null]`:
/// the constraint branch says what is wrong.
fn keyword_code(kind: &ValidationErrorKind) -> &'static str {
    match kind {
        ValidationErrorKind::AnyOf { context } => context
            .iter()
            .flatten()
            .find(|e| !matches!(e.kind(), ValidationErrorKind::Type { .. }))
            .or_else(|| context.iter().flatten().next())
            .map_or("any_of", |e| keyword_code(e.kind())),
        ValidationErrorKind::Type { .. } => "type",
        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => "enum",
        ValidationErrorKind::MinLength { .. } => "min_length",
        ValidationErrorKind::MaxLength { .. } => "max_length",
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::BacktrackLimitExceeded { .. } => "pattern",
        ValidationErrorKind::Format { .. } => "format",
        ValidationErrorKind::MinItems { .. } => "min_items",
        ValidationErrorKind::MaxItems { .. } => "max_items",
        ValidationErrorKind::UniqueItems => "unique_items",
        ValidationErrorKind::Minimum { .. } | ValidationErrorKind::ExclusiveMinimum { .. } => {
            "minimum"
        }
        ValidationErrorKind::Maximum { .. } | ValidationErrorKind::ExclusiveMaximum { .. } => {
            "maximum"
        }
        _ => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(kind: RecordKind, record: Value) -> Vec<(String, String)> {
        V1Schemas::new()
            .check(kind, &record)
            .into_iter()
            .map(|p| (p.field, p.code))
            .collect()
    }

    #[test]
    fn names_the_field_and_the_rule() {
        let found = codes(
            RecordKind::Service,
            json!({
                "source": "dora", "id": "s1", "structure_id": "x",
                "nom": "ab", "description": "Une description",
                "date_maj": "2026-13-45",
                "thematiques": ["famille--garde-denfants", "pas-une-thematique"],
                "frais": "hors-de-prix",
                "code_postal": "8900",
                "courriel": "pas un courriel",
                "latitude": "47,8",
            }),
        );
        for expected in [
            ("nom", "v1.min_length"),
            ("date_maj", "v1.format"),
            ("thematiques", "v1.enum"),
            ("frais", "v1.enum"),
            ("code_postal", "v1.min_length"),
            ("courriel", "v1.format"),
            ("latitude", "v1.type"),
        ] {
            assert!(
                found.contains(&(expected.0.into(), expected.1.into())),
                "{expected:?} not in {found:?}"
            );
        }
    }

    #[test]
    fn missing_required_fields_are_named() {
        let found = codes(RecordKind::Structure, json!({"source": "dora"}));
        assert!(found.contains(&("id".into(), "v1.required".into())));
        assert!(found.contains(&("nom".into(), "v1.required".into())));
        assert!(found.contains(&("date_maj".into(), "v1.required".into())));
    }

    #[test]
    fn a_valid_record_has_no_problem() {
        let found = codes(
            RecordKind::Structure,
            json!({"source": "dora", "id": "a", "nom": "Mairie d'Auxerre", "date_maj": "2026-01-02"}),
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
