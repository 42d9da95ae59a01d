//! The form schema: Rally's type metadata (a TypeDefinition and its
//! AttributeDefinitions) as the host fetched it, read into plain field definitions.
//!
//! Accepted shapes, all as Rally returns them:
//! - a query result `{"QueryResult": {"Results": [TypeDefinition]}}` (WSAPI 1.x and
//!   v2.0 with `fetch=true` and the Attributes collection inlined by the host);
//! - a single read `{"TypeDefinition": {...}}` or the bare TypeDefinition object;
//! - the Attributes collection alone (`{"QueryResult": {"Results": [AttributeDefinition, ...]}}`
//!   or a bare array), which is what v2.0 pages separately;
//! - a schema this module produced before (`{"type_name": ..., "fields": [...]}`).
//!
//! AllowedValues may be inline arrays of AllowedAttributeValue objects (1.x) or
//! v2.0 collection stubs `{"_ref": ".../AllowedValues", "Count": n}`; a stub leaves
//! the field's `allowed_values_loaded` false until the host reloads them.

use crate::error::{Error, Location, Result, Warning};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Rally's AttributeType, as a closed set (`other` keeps anything newer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FieldKind {
    /// `STRING`: one line of plain text (a dropdown when it has allowed values).
    String,
    /// `TEXT`: rich text (HTML), e.g. Description and Notes.
    Text,
    Integer,
    Decimal,
    Quantity,
    Boolean,
    Date,
    /// `RATING`: a dropdown (Severity, Priority, State, Environment...).
    Rating,
    /// `STATE`: a dropdown of workflow states (ScheduleState).
    State,
    /// `OBJECT`: a reference to another Rally object (Project, Owner, Requirement...).
    Object,
    /// `COLLECTION`: many references (Tags, Attachments); not filled by the form.
    Collection,
    /// `WEB_LINK`: a URL with a display string.
    WebLink,
    Raw,
    BinaryData,
    Other,
}

impl FieldKind {
    pub fn from_attribute_type(text: &str) -> FieldKind {
        match text.trim().to_ascii_uppercase().as_str() {
            "STRING" => FieldKind::String,
            "TEXT" => FieldKind::Text,
            "INTEGER" => FieldKind::Integer,
            "DECIMAL" => FieldKind::Decimal,
            "QUANTITY" => FieldKind::Quantity,
            "BOOLEAN" => FieldKind::Boolean,
            "DATE" => FieldKind::Date,
            "RATING" => FieldKind::Rating,
            "STATE" => FieldKind::State,
            "OBJECT" => FieldKind::Object,
            "COLLECTION" => FieldKind::Collection,
            "WEB_LINK" => FieldKind::WebLink,
            "RAW" => FieldKind::Raw,
            "BINARY_DATA" => FieldKind::BinaryData,
            _ => FieldKind::Other,
        }
    }
}

/// Where a field definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FieldOrigin {
    Metadata,
    /// Added by hand in the user's form settings.
    Manual,
}

/// One allowed value of a dropdown or reference field. `value` is what people see
/// (Rally's `StringValue`); `reference` is the object's `_ref` for OBJECT fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillAllowedValue")
)]
pub struct AllowedValue {
    pub value: String,
    #[serde(default)]
    pub reference: Option<String>,
}

impl AllowedValue {
    pub fn text(value: &str) -> AllowedValue {
        AllowedValue {
            value: value.to_string(),
            reference: None,
        }
    }
}

/// One field of the Rally type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillField")
)]
pub struct FieldDef {
    /// Rally's ElementName, the key in payloads (`Name`, `FoundInBuild`, `c_Team`).
    pub name: String,
    /// Rally's display Name (`Found In Build`).
    pub label: String,
    pub kind: FieldKind,
    /// The AttributeType as Rally wrote it.
    pub attribute_type: String,
    pub schema_type: Option<String>,
    pub required: bool,
    pub read_only: bool,
    /// Hidden in Rally's own UI (metadata `Hidden`), not hidden by the user.
    pub hidden: bool,
    pub custom: bool,
    /// Longest value Rally accepts, in characters; `None` when Rally sets no limit.
    pub max_length: Option<u64>,
    pub allowed_values: Vec<AllowedValue>,
    /// False when the metadata held only a collection stub: the values are unknown
    /// until the host fetches them (see `FormEdit::ReloadAllowedValues`).
    pub allowed_values_loaded: bool,
    /// The `_ref` of the AllowedValues collection, for the host to fetch.
    pub allowed_values_ref: Option<String>,
    pub origin: FieldOrigin,
}

impl FieldDef {
    /// Free text the engine may fill from sources: STRING or TEXT without a list of
    /// allowed values. Everything else takes a default or a value mapping.
    pub fn is_text_like(&self) -> bool {
        matches!(self.kind, FieldKind::String | FieldKind::Text)
            && self.allowed_values.is_empty()
            && self.allowed_values_loaded
    }

    /// Rally's rich-text fields (Description, Notes and custom TEXT fields) hold HTML.
    pub fn is_rich_text(&self) -> bool {
        self.kind == FieldKind::Text
    }

    /// A field with a list of values to pick from (or one whose list is not loaded yet).
    pub fn is_dropdown(&self) -> bool {
        !self.allowed_values.is_empty() || !self.allowed_values_loaded
    }

    pub fn allowed(&self, value: &str) -> Option<&AllowedValue> {
        self.allowed_values.iter().find(|a| a.value == value)
    }
}

/// The Rally type as a list of fields, in metadata order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillSchema")
)]
pub struct Schema {
    /// The type's ElementName (`Defect`), the key of the create payload.
    pub type_name: String,
    pub fields: Vec<FieldDef>,
    /// What was odd in the metadata (duplicates, attributes without a name...).
    pub warnings: Vec<Warning>,
}

impl Schema {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Read Rally type metadata (any shape listed in the module docs) into a schema.
pub fn schema_from_metadata(bytes: &[u8]) -> Result<Schema> {
    let root = parse_json(bytes, "autofill.bad_metadata")?;
    if let Some(obj) = root.as_object()
        && obj.contains_key("type_name")
        && obj.contains_key("fields")
    {
        return serde_json::from_value::<Schema>(root.clone()).map_err(|e| {
            Error::new(
                "autofill.bad_metadata",
                format!("not a valid saved schema: {e}"),
            )
        });
    }
    let mut warnings = Vec::new();
    let (type_name, attributes) = locate_attributes(&root, &mut warnings)?;
    let mut fields: Vec<FieldDef> = Vec::new();
    for (index, attr) in attributes.iter().enumerate() {
        let Some(obj) = attr.as_object() else {
            warnings.push(Warning::new(
                "autofill.attribute_skipped",
                format!("attribute #{} is not an object; skipped", index + 1),
                None,
            ));
            continue;
        };
        let Some(field) = field_from_attribute(obj) else {
            warnings.push(Warning::new(
                "autofill.attribute_skipped",
                format!("attribute #{} has no ElementName; skipped", index + 1),
                None,
            ));
            continue;
        };
        if fields.iter().any(|f| f.name == field.name) {
            warnings.push(Warning::new(
                "autofill.duplicate_attribute",
                format!(
                    "attribute {} appears twice; the first one is kept",
                    field.name
                ),
                None,
            ));
            continue;
        }
        fields.push(field);
    }
    if fields.is_empty() {
        return Err(Error::new(
            "autofill.empty_schema",
            "the type metadata has no attributes",
        )
        .with_hint("fetch the TypeDefinition with fetch=true, or its Attributes collection"));
    }
    Ok(Schema {
        type_name,
        fields,
        warnings,
    })
}

/// Read a Rally AllowedValues response (a query result of AllowedAttributeValue
/// objects, a bare array of them or of strings, or `{"AllowedValues": [...]}`).
pub fn parse_allowed_values(bytes: &[u8]) -> Result<Vec<AllowedValue>> {
    let root = parse_json(bytes, "autofill.bad_allowed_values")?;
    let list = match &root {
        Value::Array(items) => items,
        Value::Object(obj) => {
            if let Some(Value::Array(items)) = obj.get("QueryResult").and_then(|q| q.get("Results"))
            {
                items
            } else if let Some(Value::Array(items)) = obj.get("AllowedValues") {
                items
            } else {
                return Err(Error::new(
                    "autofill.bad_allowed_values",
                    "expected a QueryResult of AllowedAttributeValue objects or an array",
                ));
            }
        }
        _ => {
            return Err(Error::new(
                "autofill.bad_allowed_values",
                "expected a QueryResult of AllowedAttributeValue objects or an array",
            ));
        }
    };
    Ok(list.iter().filter_map(allowed_value).collect())
}

fn locate_attributes<'a>(
    root: &'a Value,
    warnings: &mut Vec<Warning>,
) -> Result<(String, &'a Vec<Value>)> {
    let not_metadata = || {
        Error::new(
            "autofill.bad_metadata",
            "this is not Rally type metadata: expected a TypeDefinition with Attributes",
        )
        .with_hint("query typedefinition?query=(ElementName = Defect)&fetch=true")
    };
    match root {
        Value::Array(items) => Ok(("Defect".to_string(), items)),
        Value::Object(obj) => {
            if let Some(query) = obj.get("QueryResult") {
                let errors: Vec<String> = query
                    .get("Errors")
                    .and_then(Value::as_array)
                    .map(|e| {
                        e.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                if !errors.is_empty() {
                    return Err(Error::new(
                        "autofill.metadata_errors",
                        format!("Rally answered with errors: {}", errors.join("; ")),
                    ));
                }
                let results = query
                    .get("Results")
                    .and_then(Value::as_array)
                    .ok_or_else(not_metadata)?;
                let typedefs: Vec<&Map<String, Value>> = results
                    .iter()
                    .filter_map(Value::as_object)
                    .filter(|o| o.contains_key("Attributes"))
                    .collect();
                if let Some(first) = typedefs.first() {
                    if typedefs.len() > 1 {
                        warnings.push(Warning::new(
                            "autofill.several_types",
                            format!(
                                "the query returned {} type definitions; the first ({}) is used",
                                typedefs.len(),
                                type_name_of(first)
                            ),
                            None,
                        ));
                    }
                    return typedef_attributes(first);
                }
                if results.is_empty() {
                    return Err(Error::new(
                        "autofill.empty_schema",
                        "the query returned no type definition",
                    )
                    .with_hint("check the ElementName in the typedefinition query"));
                }
                return Ok(("Defect".to_string(), results));
            }
            if let Some(Value::Object(typedef)) = obj.get("TypeDefinition") {
                return typedef_attributes(typedef);
            }
            if obj.contains_key("Attributes") {
                return typedef_attributes(obj);
            }
            Err(not_metadata())
        }
        _ => Err(not_metadata()),
    }
}

fn type_name_of(typedef: &Map<String, Value>) -> String {
    ["ElementName", "TypePath", "Name"]
        .iter()
        .find_map(|k| typedef.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .unwrap_or("Defect")
        .to_string()
}

fn typedef_attributes(typedef: &Map<String, Value>) -> Result<(String, &Vec<Value>)> {
    match typedef.get("Attributes") {
        Some(Value::Array(items)) => Ok((type_name_of(typedef), items)),
        Some(Value::Object(stub)) => Err(Error::new(
            "autofill.attributes_not_loaded",
            format!(
                "the {} TypeDefinition holds only a reference to its Attributes collection ({} attributes)",
                type_name_of(typedef),
                stub.get("Count").map_or("?".to_string(), |c| c.to_string())
            ),
        )
        .with_hint(match stub.get("_ref").and_then(Value::as_str) {
            Some(r) => format!("fetch {r}?fetch=true&pagesize=200 and pass that QueryResult"),
            None => "fetch the Attributes collection with fetch=true and pass that QueryResult".to_string(),
        })),
        _ => Err(Error::new(
            "autofill.bad_metadata",
            "the TypeDefinition has no Attributes",
        )),
    }
}

fn field_from_attribute(obj: &Map<String, Value>) -> Option<FieldDef> {
    let name = text(obj, "ElementName").filter(|s| !s.trim().is_empty())?;
    let attribute_type = text(obj, "AttributeType").unwrap_or_else(|| "STRING".to_string());
    let (allowed_values, loaded, allowed_ref) = match obj.get("AllowedValues") {
        None | Some(Value::Null) => (Vec::new(), true, None),
        Some(Value::Array(items)) => (items.iter().filter_map(allowed_value).collect(), true, None),
        Some(Value::Object(stub)) => {
            let count = stub.get("Count").and_then(Value::as_u64);
            let reference = stub.get("_ref").and_then(Value::as_str).map(str::to_string);
            (Vec::new(), count == Some(0), reference)
        }
        Some(_) => (Vec::new(), true, None),
    };
    let max_length = obj
        .get("MaxLength")
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .filter(|n| *n > 0)
        .map(|n| n as u64);
    Some(FieldDef {
        label: text(obj, "Name")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| name.clone()),
        kind: FieldKind::from_attribute_type(&attribute_type),
        attribute_type,
        schema_type: text(obj, "SchemaType"),
        required: flag(obj, "Required"),
        read_only: flag(obj, "ReadOnly"),
        hidden: flag(obj, "Hidden"),
        custom: flag(obj, "Custom"),
        max_length,
        allowed_values,
        allowed_values_loaded: loaded,
        allowed_values_ref: allowed_ref,
        origin: FieldOrigin::Metadata,
        name,
    })
}

fn allowed_value(item: &Value) -> Option<AllowedValue> {
    match item {
        Value::String(s) => Some(AllowedValue::text(s)),
        Value::Object(obj) => {
            let value = text(obj, "StringValue")
                .or_else(|| text(obj, "_refObjectName"))
                .or_else(|| text(obj, "value"))?;
            let reference = text(obj, "_ref").filter(|r| is_real_ref(r));
            Some(AllowedValue { value, reference })
        }
        _ => None,
    }
}

/// Rally 1.x writes `"_ref": "null.js"` for values that are not objects.
fn is_real_ref(reference: &str) -> bool {
    let r = reference.trim();
    !(r.is_empty() || r == "null" || r == "null.js")
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> bool {
    match obj.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Parse JSON; on failure, an error positioned where serde_json stopped.
pub(crate) fn parse_json(bytes: &[u8], code: &str) -> Result<Value> {
    crate::json::from_slice(bytes).map_err(|e| {
        let offset = offset_of(bytes, e.line(), e.column());
        Error::new(code, format!("the JSON could not be read: {e}"))
            .at(Location::in_text(bytes, offset))
    })
}

/// Byte offset of serde_json's 1-based line and (byte) column.
pub(crate) fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0usize;
    let mut current = 1usize;
    for (i, b) in bytes.iter().enumerate() {
        if current >= line {
            break;
        }
        if *b == b'\n' {
            current += 1;
            start = i + 1;
        }
    }
    start
        .saturating_add(column.saturating_sub(1))
        .min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(name: &str, kind: &str, extra: Value) -> Value {
        let mut obj = serde_json::json!({
            "_type": "AttributeDefinition",
            "ElementName": name,
            "Name": name,
            "AttributeType": kind,
            "Required": false,
            "ReadOnly": false,
            "Hidden": false,
            "Custom": false,
            "MaxLength": -1,
            "AllowedValues": []
        });
        if let (Some(target), Some(more)) = (obj.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                target.insert(k.clone(), v.clone());
            }
        }
        obj
    }

    #[test]
    fn reads_a_query_result_typedefinition_with_inline_allowed_values() {
        let doc = serde_json::json!({"QueryResult": {"Errors": [], "Warnings": [], "Results": [{
        "_type": "TypeDefinition", "ElementName": "Defect", "Name": "Defect",
        "Attributes": [
            attribute("Name", "STRING", serde_json::json!({"Required": true, "MaxLength": 256})),
            attribute("Severity", "RATING", serde_json::json!({"MaxLength": 128, "AllowedValues": [
                {"_ref": "null.js", "StringValue": "", "_type": "AllowedAttributeValue"},
                {"_ref": "null.js", "StringValue": "Major Problem", "_type": "AllowedAttributeValue"}
            ]})),
            attribute("Project", "OBJECT", serde_json::json!({"Required": true, "AllowedValues": [
                {"_ref": "https://rally1.rallydev.com/slm/webservice/1.43/project/279050021.js", "StringValue": "A-Team"}
            ]})),
            attribute("FormattedID", "STRING", serde_json::json!({"ReadOnly": true, "MaxLength": 10}))
        ]}]}});
        let schema = schema_from_metadata(doc.to_string().as_bytes()).unwrap();
        assert_eq!(schema.type_name, "Defect");
        assert_eq!(schema.fields.len(), 4);
        let name = schema.field("Name").unwrap();
        assert!(name.required && name.is_text_like());
        assert_eq!(name.max_length, Some(256));
        let severity = schema.field("Severity").unwrap();
        assert_eq!(severity.kind, FieldKind::Rating);
        assert_eq!(severity.allowed_values.len(), 2);
        assert_eq!(
            severity.allowed_values[0].reference, None,
            "null.js is not a ref"
        );
        let project = schema.field("Project").unwrap();
        assert!(
            project.allowed_values[0]
                .reference
                .as_deref()
                .unwrap()
                .ends_with("project/279050021.js")
        );
        assert!(schema.field("FormattedID").unwrap().read_only);
        assert_eq!(schema.field("FormattedID").unwrap().max_length, Some(10));
    }

    #[test]
    fn collection_stub_leaves_allowed_values_unloaded() {
        let doc = serde_json::json!({"TypeDefinition": {"ElementName": "Defect", "Attributes": [
            attribute("Owner", "OBJECT", serde_json::json!({"AllowedValues": {
                "_ref": "https://rally1.rallydev.com/slm/webservice/v2.0/AttributeDefinition/-12522/AllowedValues",
                "_type": "AllowedAttributeValue", "Count": 270}})),
            attribute("c_Empty", "STRING", serde_json::json!({"AllowedValues": {"_ref": "x", "Count": 0}}))
        ]}});
        let schema = schema_from_metadata(doc.to_string().as_bytes()).unwrap();
        let owner = schema.field("Owner").unwrap();
        assert!(!owner.allowed_values_loaded && owner.is_dropdown());
        assert!(
            owner
                .allowed_values_ref
                .as_deref()
                .unwrap()
                .ends_with("/AllowedValues")
        );
        assert!(
            schema.field("c_Empty").unwrap().allowed_values_loaded,
            "Count 0 means no values"
        );
    }

    #[test]
    fn attributes_stub_is_an_error_with_a_hint() {
        let doc = br#"{"TypeDefinition": {"ElementName": "Defect", "Attributes": {"_ref": "https://x/typedefinition/1/Attributes", "Count": 60}}}"#;
        let err = schema_from_metadata(doc).unwrap_err();
        assert_eq!(err.code, "autofill.attributes_not_loaded");
        assert!(
            err.hint
                .unwrap()
                .contains("https://x/typedefinition/1/Attributes")
        );
    }

    #[test]
    fn bare_attribute_list_and_duplicates() {
        let doc = serde_json::json!([
            attribute("Name", "STRING", Value::Null),
            attribute("Name", "TEXT", Value::Null),
            {"Name": "no element name"}
        ]);
        let schema = schema_from_metadata(doc.to_string().as_bytes()).unwrap();
        assert_eq!(schema.fields.len(), 1);
        assert_eq!(schema.fields[0].kind, FieldKind::String, "first kept");
        let codes: Vec<&str> = schema.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(
            codes,
            ["autofill.duplicate_attribute", "autofill.attribute_skipped"]
        );
    }

    #[test]
    fn bad_json_is_positioned_and_rally_errors_are_reported() {
        let err = schema_from_metadata(b"{\n  \"QueryResult\": [,]\n}").unwrap_err();
        assert_eq!(err.code, "autofill.bad_metadata");
        assert_eq!(err.location.unwrap().line, 2);
        let err = schema_from_metadata(
            br#"{"QueryResult": {"Errors": ["Not authorized"], "Results": []}}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, "autofill.metadata_errors");
        assert!(err.message.contains("Not authorized"));
        assert_eq!(
            schema_from_metadata(b"42").unwrap_err().code,
            "autofill.bad_metadata"
        );
    }

    #[test]
    fn saved_schema_round_trips() {
        let doc = serde_json::json!([attribute(
            "Notes",
            "TEXT",
            serde_json::json!({"MaxLength": 32768})
        )]);
        let schema = schema_from_metadata(doc.to_string().as_bytes()).unwrap();
        let saved = serde_json::to_vec(&schema).unwrap();
        assert_eq!(schema_from_metadata(&saved).unwrap(), schema);
    }

    #[test]
    fn allowed_values_response_shapes() {
        let q = br#"{"QueryResult": {"Results": [{"StringValue": "Alice", "_ref": "https://r/slm/webservice/v2.0/user/1"}, {"StringValue": ""}]}}"#;
        let values = parse_allowed_values(q).unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(
            values[0].reference.as_deref(),
            Some("https://r/slm/webservice/v2.0/user/1")
        );
        assert_eq!(
            parse_allowed_values(br#"["a", "b"]"#).unwrap()[1].value,
            "b"
        );
        assert_eq!(
            parse_allowed_values(b"{}").unwrap_err().code,
            "autofill.bad_allowed_values"
        );
    }
}
