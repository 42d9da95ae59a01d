//! The user's form settings, applied on top of the metadata: which fields the
//! form hides, their order, fields added by hand, reloaded allowed values, and the
//! rules, defaults and value maps that fill the form.

use super::problem::Problem;
use super::schema::{AllowedValue, FieldDef, FieldKind, FieldOrigin, Schema};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the user chose. Every part is optional in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillSettings")
)]
pub struct Settings {
    /// Fields hidden from the form (ElementNames). They stay in Rally.
    pub hidden: Vec<String>,
    /// Form order: these fields first, in this order; the others follow in metadata order.
    pub order: Vec<String>,
    /// Fields the metadata did not provide, added by hand.
    pub added_fields: Vec<ManualField>,
    /// Allowed values reloaded for one field, replacing what the metadata said.
    pub allowed_values: BTreeMap<String, Vec<AllowedValue>>,
    /// Rules, tried in order: for a field, the first rule that yields a value wins.
    pub rules: Vec<Rule>,
    /// A default value per field, used when no rule yields one.
    pub defaults: BTreeMap<String, String>,
    /// Value maps between the source system's values and Rally's, used by rules.
    pub value_maps: Vec<ValueMap>,
    /// Appended to text cut at the field's length; default `… [truncated]`.
    pub truncation_marker: Option<String>,
}

/// Fill `field` from the run: through `template`, or by joining the non-empty
/// `sources` (each a source path, filters allowed) with `separator` (default a line
/// break). A dropdown, reference, number, date or boolean field needs `map`: the
/// rendered text is looked up in that value map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillRule")
)]
pub struct Rule {
    pub field: String,
    pub template: Option<String>,
    pub sources: Vec<String>,
    pub separator: Option<String>,
    pub map: Option<String>,
}

/// Pairs of values between the source system (e.g. qTest Severity) and Rally.
/// `source_values`, when given, lists every value the source side can hold, so
/// the round-trip check can report the ones without a pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ValueMap {
    pub name: String,
    pub pairs: Vec<ValuePair>,
    pub source_values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ValuePair {
    pub source: String,
    pub target: String,
}

/// A field added by hand (a custom field created after the metadata was fetched).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ManualField {
    /// ElementName, e.g. `c_QTestRun`.
    pub name: String,
    pub label: Option<String>,
    /// Rally AttributeType; `STRING` when left out.
    pub attribute_type: Option<String>,
    pub required: bool,
    pub max_length: Option<u64>,
    pub allowed_values: Vec<String>,
}

impl ManualField {
    fn to_field(&self) -> FieldDef {
        let attribute_type = self
            .attribute_type
            .clone()
            .unwrap_or_else(|| "STRING".to_string());
        FieldDef {
            name: self.name.clone(),
            label: self.label.clone().unwrap_or_else(|| self.name.clone()),
            kind: FieldKind::from_attribute_type(&attribute_type),
            attribute_type,
            schema_type: None,
            required: self.required,
            read_only: false,
            hidden: false,
            custom: true,
            max_length: self.max_length.filter(|n| *n > 0),
            allowed_values: self
                .allowed_values
                .iter()
                .map(|v| AllowedValue::text(v))
                .collect(),
            allowed_values_loaded: true,
            allowed_values_ref: None,
            origin: FieldOrigin::Manual,
        }
    }
}

/// The form: the fields it shows, in order, with the user's changes applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillForm")
)]
pub struct Form {
    pub type_name: String,
    pub fields: Vec<FieldDef>,
    pub problems: Vec<Problem>,
}

/// Fields of the schema a defect form can fill: writable, shown by Rally, not a
/// collection.
pub fn on_form_by_default(field: &FieldDef) -> bool {
    !field.read_only
        && !field.hidden
        && !matches!(
            field.kind,
            FieldKind::Collection | FieldKind::Raw | FieldKind::BinaryData
        )
}

/// Every field definition with the user's layer applied (added fields, reloaded
/// values), visible or not, metadata first.
pub fn effective_fields(
    schema: &Schema,
    settings: &Settings,
    problems: &mut Vec<Problem>,
) -> Vec<FieldDef> {
    let mut fields = schema.fields.clone();
    for manual in &settings.added_fields {
        if manual.name.trim().is_empty() {
            problems.push(Problem::warning(
                "autofill.bad_added_field",
                None,
                "a field added by hand has no name; it is ignored",
            ));
        } else if fields.iter().any(|f| f.name == manual.name) {
            problems.push(
                Problem::info(
                    "autofill.added_field_in_metadata",
                    Some(&manual.name),
                    format!(
                        "{} was added by hand but the metadata has it now; the metadata wins",
                        manual.name
                    ),
                )
                .with_hint("remove it from added_fields"),
            );
        } else {
            fields.push(manual.to_field());
        }
    }
    for (name, values) in &settings.allowed_values {
        match fields.iter_mut().find(|f| &f.name == name) {
            Some(field) => {
                field.allowed_values = values.clone();
                field.allowed_values_loaded = true;
            }
            None => problems.push(Problem::warning(
                "autofill.unknown_field",
                Some(name),
                format!("allowed values were reloaded for {name}, which the schema does not have"),
            )),
        }
    }
    fields
}

/// The form the user sees.
pub fn resolve_form(schema: &Schema, settings: &Settings) -> Form {
    let mut problems = Vec::new();
    let fields = effective_fields(schema, settings, &mut problems);
    for name in &settings.hidden {
        if !fields.iter().any(|f| &f.name == name) {
            problems.push(Problem::info(
                "autofill.unknown_field",
                Some(name),
                format!("{name} is hidden in the settings but the schema does not have it"),
            ));
        }
    }
    let visible: Vec<&FieldDef> = fields
        .iter()
        .filter(|f| {
            (f.origin == FieldOrigin::Manual || on_form_by_default(f))
                && !settings.hidden.contains(&f.name)
        })
        .collect();
    let mut ordered: Vec<FieldDef> = Vec::new();
    for name in &settings.order {
        if let Some(f) = visible.iter().find(|f| &f.name == name)
            && !ordered.iter().any(|o| &o.name == name)
        {
            ordered.push((*f).clone());
        }
    }
    for f in visible {
        if !ordered.iter().any(|o| o.name == f.name) {
            ordered.push(f.clone());
        }
    }
    Form {
        type_name: schema.type_name.clone(),
        fields: ordered,
        problems,
    }
}

/// One change the user makes to the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillFormEdit")
)]
pub enum FormEdit {
    /// Hide a field from the form (it stays in Rally).
    Hide {
        field: String,
    },
    /// Show a field hidden before.
    Show {
        field: String,
    },
    MoveUp {
        field: String,
    },
    MoveDown {
        field: String,
    },
    /// Add a field the metadata did not provide.
    AddField {
        field: ManualField,
    },
    /// Remove a field added by hand.
    RemoveField {
        field: String,
    },
    /// Replace one field's allowed values (the host fetched them again).
    ReloadAllowedValues {
        field: String,
        values: Vec<AllowedValue>,
    },
    /// Back to the metadata: no hidden, moved, added fields or reloaded values.
    /// Rules, defaults and value maps are kept.
    Reset,
}

/// The settings after an edit, and a sentence saying what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillEdited")
)]
pub struct Edited {
    pub settings: Settings,
    pub note: String,
}

/// Apply one edit. Fails (code `autofill.bad_edit`) when the edit makes no sense
/// for this form, e.g. hiding a field that is not on it.
pub fn edit_form(schema: &Schema, settings: &Settings, edit: &FormEdit) -> Result<Edited> {
    let mut next = settings.clone();
    let form = resolve_form(schema, settings);
    let on_form = |name: &str| form.fields.iter().any(|f| f.name == name);
    let bad = |msg: String| Error::new("autofill.bad_edit", msg);
    let note = match edit {
        FormEdit::Hide { field } => {
            if !on_form(field) {
                return Err(bad(format!("{field} is not on the form")));
            }
            next.hidden.push(field.clone());
            next.order.retain(|n| n != field);
            format!("{field} is hidden from the form; it stays in Rally")
        }
        FormEdit::Show { field } => {
            if !next.hidden.contains(field) {
                return Err(bad(format!("{field} is not hidden")));
            }
            next.hidden.retain(|n| n != field);
            format!("{field} is back on the form")
        }
        FormEdit::MoveUp { field } | FormEdit::MoveDown { field } => {
            let mut names: Vec<String> = form.fields.iter().map(|f| f.name.clone()).collect();
            let Some(i) = names.iter().position(|n| n == field) else {
                return Err(bad(format!("{field} is not on the form")));
            };
            let up = matches!(edit, FormEdit::MoveUp { .. });
            let j = if up {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|j| *j < names.len())
            };
            match j {
                None => format!("{field} is already {}", if up { "first" } else { "last" }),
                Some(j) => {
                    names.swap(i, j);
                    let other = names.get(i).cloned().unwrap_or_default();
                    next.order = names;
                    format!(
                        "{field} moved {} {other}",
                        if up { "above" } else { "below" }
                    )
                }
            }
        }
        FormEdit::AddField { field } => {
            let name = field.name.trim();
            if name.is_empty() {
                return Err(bad(
                    "a field needs a name (its Rally ElementName)".to_string()
                ));
            }
            if schema.field(name).is_some() {
                return Err(bad(format!("{name} is already in the metadata"))
                    .with_hint(format!("to show it, remove {name} from the hidden fields")));
            }
            if next.added_fields.iter().any(|f| f.name == name) {
                return Err(bad(format!("{name} was already added")));
            }
            let mut field = field.clone();
            field.name = name.to_string();
            next.added_fields.push(field);
            format!("{name} added to the form")
        }
        FormEdit::RemoveField { field } => {
            if !next.added_fields.iter().any(|f| &f.name == field) {
                return Err(bad(format!("{field} was not added by hand")));
            }
            next.added_fields.retain(|f| &f.name != field);
            next.order.retain(|n| n != field);
            next.hidden.retain(|n| n != field);
            next.allowed_values.remove(field);
            format!("{field} removed from the form")
        }
        FormEdit::ReloadAllowedValues { field, values } => {
            let mut ignored = Vec::new();
            let fields = effective_fields(schema, settings, &mut ignored);
            let Some(def) = fields.iter().find(|f| &f.name == field) else {
                return Err(bad(format!("{field} is not in the schema")));
            };
            let before: Vec<&str> = def
                .allowed_values
                .iter()
                .map(|a| a.value.as_str())
                .collect();
            let after: Vec<&str> = values.iter().map(|a| a.value.as_str()).collect();
            let added: Vec<&str> = after
                .iter()
                .copied()
                .filter(|v| !before.contains(v))
                .collect();
            let removed: Vec<&str> = before
                .iter()
                .copied()
                .filter(|v| !after.contains(v))
                .collect();
            next.allowed_values.insert(field.clone(), values.clone());
            format!(
                "{field}: {} allowed values; added: {}; removed: {}",
                values.len(),
                list_or_none(&added),
                list_or_none(&removed)
            )
        }
        FormEdit::Reset => {
            next.hidden.clear();
            next.order.clear();
            next.added_fields.clear();
            next.allowed_values.clear();
            "form reset to the metadata; rules, defaults and value maps kept".to_string()
        }
    };
    Ok(Edited {
        settings: next,
        note,
    })
}

fn list_or_none(values: &[&str]) -> String {
    if values.is_empty() {
        "none".to_string()
    } else {
        values
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autofill::schema::schema_from_metadata;

    fn schema() -> Schema {
        let attrs = serde_json::json!([
            {"ElementName": "FormattedID", "Name": "Formatted ID", "AttributeType": "STRING", "ReadOnly": true},
            {"ElementName": "Name", "Name": "Name", "AttributeType": "STRING", "Required": true, "MaxLength": 256},
            {"ElementName": "Description", "Name": "Description", "AttributeType": "TEXT", "MaxLength": 32768},
            {"ElementName": "Severity", "Name": "Severity", "AttributeType": "RATING",
             "AllowedValues": [{"StringValue": ""}, {"StringValue": "Major Problem"}]},
            {"ElementName": "Tags", "Name": "Tags", "AttributeType": "COLLECTION"},
            {"ElementName": "AffectsDoc", "Name": "Affects Doc", "AttributeType": "BOOLEAN", "Hidden": true},
            {"ElementName": "Notes", "Name": "Notes", "AttributeType": "TEXT"}
        ]);
        schema_from_metadata(attrs.to_string().as_bytes()).unwrap()
    }

    fn names(form: &Form) -> Vec<&str> {
        form.fields.iter().map(|f| f.name.as_str()).collect()
    }

    fn edit(settings: &Settings, e: FormEdit) -> Settings {
        edit_form(&schema(), settings, &e).unwrap().settings
    }

    #[test]
    fn default_form_leaves_out_read_only_hidden_and_collections() {
        let form = resolve_form(&schema(), &Settings::default());
        assert_eq!(names(&form), ["Name", "Description", "Severity", "Notes"]);
    }

    #[test]
    fn hide_show_and_move() {
        let s = edit(
            &Settings::default(),
            FormEdit::Hide {
                field: "Description".into(),
            },
        );
        assert_eq!(
            names(&resolve_form(&schema(), &s)),
            ["Name", "Severity", "Notes"]
        );
        let s = edit(
            &s,
            FormEdit::MoveUp {
                field: "Notes".into(),
            },
        );
        assert_eq!(
            names(&resolve_form(&schema(), &s)),
            ["Name", "Notes", "Severity"]
        );
        let s = edit(
            &s,
            FormEdit::MoveDown {
                field: "Name".into(),
            },
        );
        assert_eq!(
            names(&resolve_form(&schema(), &s)),
            ["Notes", "Name", "Severity"]
        );
        let s = edit(
            &s,
            FormEdit::Show {
                field: "Description".into(),
            },
        );
        assert_eq!(
            names(&resolve_form(&schema(), &s)),
            ["Notes", "Name", "Severity", "Description"],
            "a field shown again goes after the ordered ones"
        );
        let first = edit_form(
            &schema(),
            &s,
            &FormEdit::MoveUp {
                field: "Notes".into(),
            },
        )
        .unwrap();
        assert_eq!(first.note, "Notes is already first");
        assert_eq!(first.settings, s);
    }

    #[test]
    fn add_reload_and_reset() {
        let s = edit(
            &Settings::default(),
            FormEdit::AddField {
                field: ManualField {
                    name: "c_QTestRun".into(),
                    label: Some("qTest run".into()),
                    max_length: Some(32),
                    ..ManualField::default()
                },
            },
        );
        let form = resolve_form(&schema(), &s);
        let added = form.fields.last().unwrap();
        assert_eq!(
            (added.name.as_str(), added.kind, added.origin),
            ("c_QTestRun", FieldKind::String, FieldOrigin::Manual)
        );
        let reloaded = edit_form(
            &schema(),
            &s,
            &FormEdit::ReloadAllowedValues {
                field: "Severity".into(),
                values: vec![AllowedValue::text(""), AllowedValue::text("Cosmetic")],
            },
        )
        .unwrap();
        assert_eq!(
            reloaded.note,
            "Severity: 2 allowed values; added: \"Cosmetic\"; removed: \"Major Problem\""
        );
        let form = resolve_form(&schema(), &reloaded.settings);
        let severity = form.fields.iter().find(|f| f.name == "Severity").unwrap();
        assert_eq!(severity.allowed_values[1].value, "Cosmetic");
        let mut with_rules = reloaded.settings.clone();
        with_rules
            .defaults
            .insert("Severity".into(), "Cosmetic".into());
        with_rules.hidden.push("Notes".into());
        let reset = edit(&with_rules, FormEdit::Reset);
        assert_eq!(
            names(&resolve_form(&schema(), &reset)),
            ["Name", "Description", "Severity", "Notes"]
        );
        assert!(reset.allowed_values.is_empty() && reset.added_fields.is_empty());
        assert_eq!(
            reset.defaults.get("Severity").map(String::as_str),
            Some("Cosmetic"),
            "defaults kept"
        );
    }

    #[test]
    fn edits_that_make_no_sense_are_refused() {
        let s = Settings::default();
        let refuse = |e: FormEdit| edit_form(&schema(), &s, &e).unwrap_err();
        assert_eq!(
            refuse(FormEdit::Hide {
                field: "FormattedID".into()
            })
            .code,
            "autofill.bad_edit"
        );
        assert!(
            refuse(FormEdit::Show {
                field: "Name".into()
            })
            .message
            .contains("not hidden")
        );
        assert!(
            refuse(FormEdit::MoveUp {
                field: "Tags".into()
            })
            .message
            .contains("not on the form")
        );
        let e = refuse(FormEdit::AddField {
            field: ManualField {
                name: "AffectsDoc".into(),
                ..ManualField::default()
            },
        });
        assert!(e.message.contains("already in the metadata"));
        assert!(
            refuse(FormEdit::RemoveField {
                field: "Name".into()
            })
            .message
            .contains("not added by hand")
        );
        assert!(
            refuse(FormEdit::ReloadAllowedValues {
                field: "Nope".into(),
                values: vec![]
            })
            .message
            .contains("not in the schema")
        );
    }

    #[test]
    fn settings_problems_and_json_shape() {
        let s: Settings = crate::json::from_str(
            r#"{"hidden": ["Ghost"], "added_fields": [{"name": "Name"}], "allowed_values": {"Ghost": []},
                "rules": [{"field": "Name", "template": "{test_run.name}"}]}"#,
        )
        .unwrap();
        let form = resolve_form(&schema(), &s);
        let codes: Vec<&str> = form.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "autofill.added_field_in_metadata",
                "autofill.unknown_field",
                "autofill.unknown_field"
            ]
        );
        let typo = crate::json::from_str::<Settings>(r#"{"hiden": []}"#).unwrap_err();
        assert!(typo.to_string().contains("unknown field `hiden`"));
        let edit: FormEdit =
            crate::json::from_str(r#"{"op": "move_up", "field": "Notes"}"#).unwrap();
        assert_eq!(
            edit,
            FormEdit::MoveUp {
                field: "Notes".into()
            }
        );
    }
}
