//! Naming what is wrong in a malformed request. The JSON decoder only says that a body did not
//! fit; here the body is read again against the operation's schema in the OpenAPI document to
//! find the field at fault (`steps[0].title`): a field with a name the operation does not know,
//! a required one that is missing, or one of the wrong type. An invalid parameter is named by
//! the decoder (path parameters by their documented name, not the router's `param0`). The code
//! stays `request.malformed` / `request.invalid_parameter`; the
//! problem's `field` and its localised message name the culprit.

use poem::http::StatusCode;
use poem::{Endpoint, Middleware, Request};
use serde_json::{Map, Value};
use std::sync::Arc;

/// A malformed request whose fault is known: rendered by the `Problems` middleware.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} at {field}")]
pub struct FieldFault {
    pub code: &'static str,
    pub field: String,
    /// The message key (under `errors.`), with `%{field}` and `%{expected}`.
    pub message: &'static str,
    pub expected: String,
}

impl FieldFault {
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    /// An invalid query, path or header parameter, named by the decoder.
    pub fn parameter(name: &str) -> Self {
        Self {
            code: "request.invalid_parameter",
            field: name.to_owned(),
            message: "request.invalid_parameter.named",
            expected: String::new(),
        }
    }

    fn body(fault: Fault) -> Self {
        let (message, field, expected) = match fault {
            Fault::Unknown(field) => ("request.malformed.field_unknown", field, String::new()),
            Fault::Missing(field) => ("request.malformed.field_missing", field, String::new()),
            Fault::Type(field, expected) => ("request.malformed.field_type", field, expected),
        };
        Self {
            code: "request.malformed",
            field,
            message,
            expected,
        }
    }
}

impl poem::error::ResponseError for FieldFault {
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// Keeps a copy of each JSON body (already read whole by `BodyLimit`) and, when the operation
/// refuses it as malformed, names the field at fault.
pub struct NameTheField {
    document: Arc<Value>,
}

impl NameTheField {
    /// `document`: the OpenAPI document the operations were built from.
    pub fn new(document: &str) -> Self {
        Self {
            document: Arc::new(serde_json::from_str(document).unwrap_or(Value::Null)),
        }
    }
}

impl<E: Endpoint> Middleware<E> for NameTheField {
    type Output = NameTheFieldEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        NameTheFieldEndpoint {
            inner,
            document: self.document.clone(),
        }
    }
}

pub struct NameTheFieldEndpoint<E> {
    inner: E,
    document: Arc<Value>,
}

impl<E: Endpoint> Endpoint for NameTheFieldEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<E::Output> {
        let is_json = req
            .content_type()
            .is_some_and(|t| t.starts_with("application/json"));
        let method = req.method().as_str().to_lowercase();
        let path = req.uri().path().to_owned();
        let body = if is_json {
            let body = req.take_body().into_bytes().await?;
            req.set_body(body.clone());
            body
        } else {
            Default::default()
        };
        let result = self.inner.call(req).await;
        match result {
            Err(err) if err.is::<poem_openapi::error::ParseParamError>() => {
                let name = err
                    .downcast_ref::<poem_openapi::error::ParseParamError>()
                    .map_or("", |e| e.name);
                Err(FieldFault::parameter(name).into())
            }
            Err(err) if err.is::<poem_openapi::error::ParsePathError>() => {
                let routed = err
                    .downcast_ref::<poem_openapi::error::ParsePathError>()
                    .map_or("", |e| e.name);
                let name = path_parameter(&self.document, &method, &path, routed)
                    .unwrap_or_else(|| routed.to_owned());
                Err(FieldFault::parameter(&name).into())
            }
            Err(err) if err.is::<poem_openapi::error::ParseRequestPayloadError>() => {
                let fault = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|value| {
                        let schema = request_schema(&self.document, &method, &path)?;
                        Walker {
                            document: &self.document,
                        }
                        .fault(&value, schema, "")
                    });
                match fault {
                    Some(fault) => Err(FieldFault::body(fault).into()),
                    None => Err(err),
                }
            }
            other => other,
        }
    }
}

/// The operation `method path` answers, found among the document's path templates, with its
/// template.
fn operation<'a>(document: &'a Value, method: &str, path: &str) -> Option<(&'a str, &'a Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    let (_, template, item) = document["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let fits = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
            // A literal segment beats a parameter (`/plans/{id}/order` over `/plans/{id}/{x}`).
            let literals = parts.iter().filter(|p| !p.starts_with('{')).count();
            fits.then_some((literals, template.as_str(), item))
        })
        .max_by_key(|(literals, _, _)| *literals)?;
    Some((template, item.get(method)?))
}

/// The JSON schema of the body of `method path`.
fn request_schema<'a>(document: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let (_, operation) = operation(document, method, path)?;
    operation["requestBody"]["content"]
        .as_object()?
        .iter()
        .find(|(media_type, _)| media_type.starts_with("application/json"))?
        .1
        .get("schema")
}

/// The documented name of a path parameter the router calls `param0`, `param1`…
fn path_parameter(document: &Value, method: &str, path: &str, routed: &str) -> Option<String> {
    let index: usize = routed.strip_prefix("param")?.parse().ok()?;
    let (template, _) = operation(document, method, path)?;
    template
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .nth(index)
        .map(str::to_owned)
}

enum Fault {
    Unknown(String),
    Missing(String),
    Type(String, String),
}

struct Walker<'a> {
    document: &'a Value,
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

impl<'a> Walker<'a> {
    /// Follows `$ref`, and the `allOf: [ref, {description}]` poem-openapi writes for a
    /// described field.
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..8 {
            if let Some(name) = schema["$ref"].as_str() {
                let name = name.rsplit('/').next().unwrap_or_default();
                schema = &self.document["components"]["schemas"][name];
            } else if let Some([first, ..]) = schema["allOf"].as_array().map(Vec::as_slice) {
                schema = first;
            } else {
                break;
            }
        }
        schema
    }

    fn fault(&self, value: &Value, schema: &'a Value, at: &str) -> Option<Fault> {
        let schema = self.resolve(schema);
        if value.is_null() {
            return None;
        }
        for union in ["oneOf", "anyOf"] {
            if let Some(choices) = schema[union].as_array() {
                let faults: Vec<_> = choices
                    .iter()
                    .map(|choice| self.fault(value, choice, at))
                    .collect();
                if faults.iter().any(Option::is_none) {
                    return None;
                }
                return faults.into_iter().flatten().next();
            }
        }
        let wrong_type = || Some(Fault::Type(at.to_owned(), expected(schema)));
        match schema["type"].as_str() {
            Some("object") => match value {
                Value::Object(fields) => self.object_fault(fields, schema, at),
                _ => wrong_type(),
            },
            Some("array") => match value {
                Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                    self.fault(item, &schema["items"], &format!("{at}[{i}]"))
                }),
                _ => wrong_type(),
            },
            Some("string") => match value.as_str() {
                Some(text) if string_fits(text, schema) => None,
                _ => wrong_type(),
            },
            Some("integer") => match value.as_i64() {
                Some(n) if number_fits(n as f64, schema) => None,
                _ => wrong_type(),
            },
            Some("number") => match value.as_f64() {
                Some(n) if number_fits(n, schema) => None,
                _ => wrong_type(),
            },
            Some("boolean") => value.as_bool().map_or_else(wrong_type, |_| None),
            _ => None,
        }
    }

    fn object_fault(
        &self,
        fields: &Map<String, Value>,
        schema: &'a Value,
        at: &str,
    ) -> Option<Fault> {
        let empty = Map::new();
        let properties = schema["properties"].as_object().unwrap_or(&empty);
        for (name, value) in fields {
            if let Some(property) = properties.get(name)
                && let Some(fault) = self.fault(value, property, &join(at, name))
            {
                return Some(fault);
            }
        }
        let missing = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|name| fields.get(*name).is_none_or(Value::is_null))?;
        // A required field is missing and an unknown one was sent: most likely a misspelling.
        let unknown = (!properties.is_empty() && !schema["additionalProperties"].is_object())
            .then(|| fields.keys().find(|name| !properties.contains_key(*name)))
            .flatten();
        Some(match unknown {
            Some(name) => Fault::Unknown(join(at, name)),
            None => Fault::Missing(join(at, missing)),
        })
    }
}

fn string_fits(text: &str, schema: &Value) -> bool {
    let chars = text.chars().count() as u64;
    let in_enum = schema["enum"]
        .as_array()
        .is_none_or(|values| values.iter().any(|v| v == text));
    let format_ok = match schema["format"].as_str() {
        Some("uuid") => uuid::Uuid::parse_str(text).is_ok(),
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        _ => true,
    };
    in_enum
        && format_ok
        && schema["maxLength"].as_u64().is_none_or(|max| chars <= max)
        && schema["minLength"].as_u64().is_none_or(|min| chars >= min)
}

fn number_fits(n: f64, schema: &Value) -> bool {
    schema["maximum"].as_f64().is_none_or(|max| n <= max)
        && schema["minimum"].as_f64().is_none_or(|min| n >= min)
}

/// What the field should hold, in the document's own terms (`uuid`, `integer ≤ 100`,
/// `worker | member`): the same in every language.
fn expected(schema: &Value) -> String {
    if let Some(values) = schema["enum"].as_array() {
        return values
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    let mut text = schema["format"]
        .as_str()
        .filter(|f| matches!(*f, "uuid" | "date-time" | "date"))
        .or(schema["type"].as_str())
        .unwrap_or("value")
        .to_owned();
    if let Some(min) = schema["minimum"].as_f64() {
        text.push_str(&format!(" ≥ {min}"));
    }
    if let Some(max) = schema["maximum"].as_f64() {
        text.push_str(&format!(" ≤ {max}"));
    }
    if let Some(max) = schema["maxLength"].as_u64() {
        text.push_str(&format!(" (≤ {max})"));
    }
    text
}
