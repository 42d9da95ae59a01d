//! The Allure 2 result files as they are written (allure-java, allure-python,
//! allure-js): only the fields tmbridge reads. Unknown fields are ignored; fields that
//! adapters write as `null` or leave out read as empty; labels and parameters whose
//! values are numbers or booleans (hand-written files) read as text.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// `*-result.json`: one run of one test.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct TestResult {
    #[serde(deserialize_with = "loose")]
    pub uuid: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub history_id: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub status: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub status_details: StatusDetails,
    /// Markdown or plain text (`descriptionHtml`, its rendering, is not read).
    #[serde(deserialize_with = "loose")]
    pub description: Option<String>,
    #[serde(deserialize_with = "list")]
    pub steps: Vec<StepResult>,
    #[serde(deserialize_with = "list")]
    pub attachments: Vec<Attachment>,
    #[serde(deserialize_with = "list")]
    pub parameters: Vec<Parameter>,
    #[serde(deserialize_with = "list")]
    pub labels: Vec<Label>,
    #[serde(deserialize_with = "list")]
    pub links: Vec<Link>,
    #[serde(deserialize_with = "millis")]
    pub start: Option<i64>,
    #[serde(deserialize_with = "millis")]
    pub stop: Option<i64>,
}

/// `*-container.json`: the fixtures (set-up and tear-down) around its children, which
/// are test results or, for some adapters, other containers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Container {
    #[serde(deserialize_with = "loose")]
    pub uuid: Option<String>,
    #[serde(deserialize_with = "loose_list")]
    pub children: Vec<String>,
    #[serde(deserialize_with = "list")]
    pub befores: Vec<StepResult>,
    #[serde(deserialize_with = "list")]
    pub afters: Vec<StepResult>,
    #[serde(deserialize_with = "millis")]
    pub start: Option<i64>,
}

/// A step, or a fixture (same shape).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct StepResult {
    #[serde(deserialize_with = "loose")]
    pub name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub status: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub status_details: StatusDetails,
    #[serde(deserialize_with = "list")]
    pub steps: Vec<StepResult>,
    #[serde(deserialize_with = "list")]
    pub attachments: Vec<Attachment>,
    #[serde(deserialize_with = "millis")]
    pub start: Option<i64>,
    #[serde(deserialize_with = "millis")]
    pub stop: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StatusDetails {
    #[serde(deserialize_with = "loose")]
    pub message: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub trace: Option<String>,
    #[serde(deserialize_with = "flag")]
    pub flaky: bool,
    #[serde(deserialize_with = "flag")]
    pub known: bool,
    #[serde(deserialize_with = "flag")]
    pub muted: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Attachment {
    #[serde(deserialize_with = "loose")]
    pub source: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Parameter {
    #[serde(deserialize_with = "loose")]
    pub name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub value: Option<String>,
    /// `default`, `masked` (value shown as stars) or `hidden` (not shown at all).
    #[serde(deserialize_with = "loose")]
    pub mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Label {
    #[serde(deserialize_with = "loose")]
    pub name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Link {
    #[serde(deserialize_with = "loose")]
    pub name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub url: Option<String>,
    #[serde(rename = "type", deserialize_with = "loose")]
    pub kind: Option<String>,
}

/// `executor.json`: what ran the tests (a CI build).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Executor {
    #[serde(deserialize_with = "loose")]
    pub name: Option<String>,
    #[serde(rename = "type", deserialize_with = "loose")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub build_name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub build_order: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub report_name: Option<String>,
}

/// A list that a writer may also give as `null`, or with `null` items (left out).
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    let items = Option::<Vec<Option<T>>>::deserialize(d)?.unwrap_or_default();
    Ok(items.into_iter().flatten().collect())
}

/// An object that a writer may also give as `null`.
fn or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Text given as a string, a number or a boolean; `null` is none.
fn loose<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(LooseText)
}

fn loose_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Item(#[serde(deserialize_with = "loose")] Option<String>);
    let items: Vec<Item> = Option::<Vec<Item>>::deserialize(d)?.unwrap_or_default();
    Ok(items.into_iter().filter_map(|i| i.0).collect())
}

struct LooseText;

impl Visitor<'_> for LooseText {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a number, a boolean or null")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Read as text the way JavaScript prints it, for integral values at least.
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(Some(format!("{}", v as i64)))
        } else {
            Ok(Some(v.to_string()))
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A boolean; `null` is false.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// Milliseconds since 1970 as an integer (a float is cut to its integer part, a value
/// outside the range of dates reads as none).
fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Millis;
    impl Visitor<'_> for Millis {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("milliseconds since 1970 as a number, or null")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok((v.is_finite() && v.abs() < 9.0e15).then_some(v.trunc() as i64))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Millis)
}

/// `*-globals.json` (allure-js 3): errors and attachments of the run that belong to
/// no test, such as a failed `beforeAll` hook.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Globals {
    #[serde(deserialize_with = "list")]
    pub errors: Vec<StatusDetails>,
}
