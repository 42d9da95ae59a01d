//! The core's surface, read into declarations: which named types the bindings
//! declare, in which form (as read or as written), and the op and kind tables.

use crate::model::{Decl, Field, Obj, Ty, doc_of, refs, ty_of};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub struct Op {
    pub name: String,
    pub summary: String,
    pub input: Ty,
    pub output: Ty,
}

pub struct ErrorClass {
    pub name: String,
    pub areas: Vec<String>,
    pub doc: String,
}

pub struct Surface {
    /// Every named type, by name.
    pub decls: Vec<Decl>,
    pub ops: Vec<Op>,
    /// Session kind → its input type.
    pub sessions: Vec<(String, Ty)>,
    pub error_classes: Vec<ErrorClass>,
}

impl Surface {
    pub fn read() -> Surface {
        let json = serde_json::to_value(tmbridge_core::schema::surface()).unwrap_or_default();
        Surface::from_json(&json)
    }

    pub fn from_json(json: &Value) -> Surface {
        let defs = |key: &str| -> BTreeMap<String, Value> {
            json[key]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (read, written) = (defs("read"), defs("written"));
        let list = |key: &str| json[key].as_array().cloned().unwrap_or_default();
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();

        let ops: Vec<Op> = list("ops")
            .iter()
            .map(|op| Op {
                name: text(&op["name"]),
                summary: text(&op["summary"]),
                input: ty_of(&op["input"]),
                output: ty_of(&op["output"]),
            })
            .collect();
        let sessions: Vec<(String, Ty)> = list("sessions")
            .iter()
            .map(|k| (text(&k["name"]), ty_of(&k["input"])))
            .collect();
        let named =
            |key: &str| -> Vec<Ty> { list(key).iter().map(|pair| ty_of(&pair[1])).collect() };

        // Written forms under the type's name. A type the core also reads, in a
        // form where fields may be left out (defaults), gets a second declaration
        // `<Name>Input` that every input position refers to.
        let mut written_roots: Vec<Ty> = ops.iter().map(|o| o.output.clone()).collect();
        written_roots.extend(named("protocol_written"));
        let from_written = reachable(&written_roots, &written);
        let mut read_roots: Vec<Ty> = ops.iter().map(|o| o.input.clone()).collect();
        read_roots.extend(sessions.iter().map(|(_, t)| t.clone()));
        read_roots.extend(named("protocol_read"));
        read_roots.push(Ty::Ref("SessionStart".into()));
        let from_read = reachable(&read_roots, &read);

        let read_ty: BTreeMap<&String, Ty> = from_read
            .iter()
            .filter_map(|n| Some((n, ty_of(read.get(n)?))))
            .collect();
        // Both forms, and they differ (directly, or through a type they refer to).
        let mut input_names: BTreeSet<String> = from_read
            .iter()
            .filter(|n| from_written.contains(*n))
            .filter(|n| written.get(*n).map(ty_of) != read_ty.get(n).cloned())
            .cloned()
            .collect();
        loop {
            let before = input_names.len();
            for (name, ty) in &read_ty {
                if from_written.contains(*name) && !input_names.contains(*name) {
                    let mut used = Vec::new();
                    refs(ty, &mut used);
                    if used.iter().any(|u| input_names.contains(u)) {
                        input_names.insert((*name).clone());
                    }
                }
            }
            if input_names.len() == before {
                break;
            }
        }
        let as_input = |ty: &Ty| rename(ty, &input_names);

        let mut decls: Vec<Decl> = Vec::new();
        for name in &from_written {
            if let Some(schema) = written.get(name) {
                decls.push(Decl {
                    name: name.clone(),
                    doc: doc_of(schema),
                    ty: ty_of(schema),
                });
            }
        }
        for name in &from_read {
            let Some(schema) = read.get(name) else {
                continue;
            };
            let declared = if input_names.contains(name) {
                format!("{name}Input")
            } else if from_written.contains(name) {
                continue;
            } else {
                name.clone()
            };
            decls.push(Decl {
                name: declared,
                doc: doc_of(schema),
                ty: as_input(&ty_of(schema)),
            });
        }
        decls.sort_by(|a, b| a.name.cmp(&b.name));
        let ops = ops
            .into_iter()
            .map(|op| Op {
                input: as_input(&op.input),
                ..op
            })
            .collect();
        let sessions = sessions
            .into_iter()
            .map(|(k, t)| (k, as_input(&t)))
            .collect();

        let error_classes = list("error_classes")
            .iter()
            .map(|c| ErrorClass {
                name: text(&c["name"]),
                areas: c["areas"]
                    .as_array()
                    .map(|a| a.iter().map(text).collect())
                    .unwrap_or_default(),
                doc: text(&c["doc"]),
            })
            .collect();
        Surface {
            decls,
            ops,
            sessions,
            error_classes,
        }
    }
}

/// `Name` → `NameInput` for the names given.
fn rename(ty: &Ty, names: &BTreeSet<String>) -> Ty {
    let name = |n: &String| {
        if names.contains(n) {
            format!("{n}Input")
        } else {
            n.clone()
        }
    };
    let obj = |o: &Obj| Obj {
        fields: o
            .fields
            .iter()
            .map(|f| Field {
                ty: rename(&f.ty, names),
                ..f.clone()
            })
            .collect(),
        doc: o.doc.clone(),
    };
    match ty {
        Ty::Ref(n) => Ty::Ref(name(n)),
        Ty::Extend(n, o) => Ty::Extend(name(n), obj(o)),
        Ty::Array(t) => Ty::Array(Box::new(rename(t, names))),
        Ty::Map(t) => Ty::Map(Box::new(rename(t, names))),
        Ty::Object(o) => Ty::Object(obj(o)),
        Ty::Union(items) => Ty::Union(items.iter().map(|t| rename(t, names)).collect()),
        Ty::Tuple(items) => Ty::Tuple(items.iter().map(|t| rename(t, names)).collect()),
        other => other.clone(),
    }
}

/// Names reachable from `roots` through `defs`.
fn reachable(roots: &[Ty], defs: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let mut pending = Vec::new();
    roots.iter().for_each(|t| refs(t, &mut pending));
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = defs.get(&name) {
            refs(&ty_of(schema), &mut pending);
        }
    }
    seen
}
