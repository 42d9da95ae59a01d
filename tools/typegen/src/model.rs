//! The schemas read into a small type model that both printers share.

use serde_json::{Map, Value};

/// A type as the bindings see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Any,
    Str,
    Int,
    Bool,
    Null,
    /// A JSON literal (a string or a number).
    Lit(Value),
    Ref(String),
    Array(Box<Ty>),
    /// A fixed-length array (Rust tuples).
    Tuple(Vec<Ty>),
    /// `{ [key: string]: T }`
    Map(Box<Ty>),
    Object(Obj),
    /// A named object plus fields (serde's internally tagged enums).
    Extend(String, Obj),
    Union(Vec<Ty>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj {
    pub fields: Vec<Field>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub optional: bool,
    pub doc: Option<String>,
}

/// A named type to declare.
#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    pub doc: Option<String>,
    pub ty: Ty,
}

pub fn doc_of(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
}

/// Reads one schema. Unknown keywords are ignored: the bindings only need shapes.
pub fn ty_of(schema: &Value) -> Ty {
    let Some(map) = schema.as_object() else {
        return Ty::Any;
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let name = ref_name(reference);
        return match object_of(map) {
            Some(obj) => Ty::Extend(name, obj),
            None => Ty::Ref(name),
        };
    }
    if let Some(value) = map.get("const") {
        return Ty::Lit(value.clone());
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        return union(values.iter().map(|v| literal(v.clone())).collect());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = map.get(key).and_then(Value::as_array) {
            return union(variants.iter().map(ty_of).collect());
        }
    }
    match map.get("type") {
        Some(Value::Array(types)) => union(
            types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| of_type(t, map))
                .collect(),
        ),
        Some(Value::String(t)) => of_type(t, map),
        _ => Ty::Any,
    }
}

fn literal(value: Value) -> Ty {
    if value.is_null() {
        Ty::Null
    } else {
        Ty::Lit(value)
    }
}

fn of_type(t: &str, map: &Map<String, Value>) -> Ty {
    match t {
        "string" => Ty::Str,
        "integer" | "number" => Ty::Int,
        "boolean" => Ty::Bool,
        "null" => Ty::Null,
        "array" => match map.get("prefixItems").and_then(Value::as_array) {
            Some(items) => Ty::Tuple(items.iter().map(ty_of).collect()),
            None => Ty::Array(Box::new(map.get("items").map_or(Ty::Any, ty_of))),
        },
        "object" => {
            if let Some(obj) = object_of(map) {
                Ty::Object(obj)
            } else {
                match map.get("additionalProperties") {
                    Some(Value::Bool(false)) => Ty::Object(Obj::default()),
                    Some(Value::Object(_)) => {
                        Ty::Map(Box::new(ty_of(&map["additionalProperties"])))
                    }
                    _ => Ty::Map(Box::new(Ty::Any)),
                }
            }
        }
        _ => Ty::Any,
    }
}

fn object_of(map: &Map<String, Value>) -> Option<Obj> {
    let properties = map.get("properties")?.as_object()?;
    let required: Vec<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = properties
        .iter()
        .map(|(name, schema)| Field {
            name: name.clone(),
            ty: ty_of(schema),
            optional: !required.contains(&name.as_str()),
            doc: doc_of(schema),
        })
        .collect();
    Some(Obj { fields, doc: None })
}

/// A union without repeats, nested unions flattened, `null` last.
pub fn union(items: Vec<Ty>) -> Ty {
    let mut flat: Vec<Ty> = Vec::new();
    for item in items {
        let parts = match item {
            Ty::Union(parts) => parts,
            other => vec![other],
        };
        for part in parts {
            if !flat.contains(&part) {
                flat.push(part);
            }
        }
    }
    if flat.contains(&Ty::Any) {
        return Ty::Any;
    }
    if let Some(i) = flat.iter().position(|t| *t == Ty::Null) {
        let null = flat.remove(i);
        flat.push(null);
    }
    if flat.len() == 1 {
        flat.pop().unwrap_or(Ty::Any)
    } else {
        Ty::Union(flat)
    }
}

pub fn ref_name(reference: &str) -> String {
    reference
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .to_string()
}

/// Names a type refers to, for reachability.
pub fn refs(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Ref(n) => out.push(n.clone()),
        Ty::Extend(n, obj) => {
            out.push(n.clone());
            obj.fields.iter().for_each(|f| refs(&f.ty, out));
        }
        Ty::Array(t) | Ty::Map(t) => refs(t, out),
        Ty::Object(obj) => obj.fields.iter().for_each(|f| refs(&f.ty, out)),
        Ty::Union(items) | Ty::Tuple(items) => items.iter().for_each(|t| refs(t, out)),
        _ => {}
    }
}
