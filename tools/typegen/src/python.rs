//! Python: `types.py` (TypedDicts and aliases), `_errors.py` (the exception
//! classes and their area table) and `ops.py` (one typed function per op).

use crate::banner;
use crate::model::{Decl, Field, Obj, Ty};
use crate::surface::Surface;
use std::collections::BTreeSet;
use std::fmt::Write as _;

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Declarations in print order, with the inline objects Python cannot write
/// inline hoisted into named TypedDicts.
struct Printer {
    taken: BTreeSet<String>,
    out: String,
}

pub fn types(surface: &Surface) -> String {
    let mut printer = Printer {
        taken: surface.decls.iter().map(|d| d.name.clone()).collect(),
        out: String::new(),
    };
    for decl in in_base_order(&surface.decls) {
        printer.decl(decl);
    }
    let mut head = banner("#");
    head.push_str(
        "\"\"\"Shapes of the values tmbridge takes and returns: the core's JSON contract as\n\
         TypedDicts. Field names are the core's (snake_case), enums are lowercase strings,\n\
         absent values are None, durations are integer microseconds. At run time they are\n\
         plain dicts.\n\"\"\"\n\nfrom __future__ import annotations\n\n\
         from typing import Any, Dict, List, Literal, Tuple, TypedDict, Union\n\n\
         __all__ = [\n",
    );
    let mut names: Vec<&String> = printer
        .taken
        .iter()
        .filter(|n| !n.starts_with('_'))
        .collect();
    names.sort();
    for name in names {
        let _ = writeln!(head, "    \"{name}\",");
    }
    head.push_str("]\n");
    head + &printer.out
}

impl Printer {
    fn decl(&mut self, decl: &Decl) {
        self.out.push('\n');
        if decl.name == "DocumentInput" {
            self.out.push_str(
                "\nclass DocumentBase64(TypedDict):\n    base64: str\n\n\n\
                 # A document: text, bytes, or base64 in plain JSON.\n\
                 DocumentInput = Union[str, bytes, DocumentBase64]\n",
            );
            self.taken.insert("DocumentBase64".into());
            return;
        }
        match &decl.ty {
            Ty::Object(obj) => self.typed_dict(&decl.name, None, obj, decl.doc.as_deref()),
            Ty::Extend(base, obj) => {
                self.typed_dict(&decl.name, Some(base), obj, decl.doc.as_deref())
            }
            other => {
                let text = self.expr(other, &decl.name);
                if let Some(doc) = &decl.doc {
                    self.out.push_str(&comment(doc));
                }
                let _ = writeln!(self.out, "{} = {text}", decl.name);
            }
        }
    }

    /// A TypedDict; required and optional fields in two private parts when both exist.
    fn typed_dict(&mut self, name: &str, base: Option<&str>, obj: &Obj, doc: Option<&str>) {
        let required: Vec<&Field> = obj.fields.iter().filter(|f| !f.optional).collect();
        let optional: Vec<&Field> = obj.fields.iter().filter(|f| f.optional).collect();
        let mut bases: Vec<String> = base.map(|b| vec![b.to_string()]).unwrap_or_default();
        let mut parts: Vec<String> = Vec::new();
        for (fields, total, suffix) in [
            (&required, true, "Required"),
            (&optional, false, "Optional"),
        ] {
            if fields.is_empty() {
                continue;
            }
            let part = format!("_{name}{suffix}");
            let body = self.field_dict(fields, name);
            let total = if total { "" } else { ", total=False" };
            parts.push(format!("{part} = TypedDict(\"{part}\", {body}{total})\n"));
            bases.push(part);
        }
        if bases.is_empty() {
            // `{}`: a TypedDict with no keys.
            bases.push("TypedDict".into());
        }
        for part in parts {
            self.out.push('\n');
            self.out.push_str(&part);
        }
        let _ = writeln!(self.out, "\n\nclass {name}({}):", bases.join(", "));
        match doc {
            Some(doc) => {
                let doc = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
                let _ = writeln!(self.out, "    \"\"\"{doc}\"\"\"");
            }
            None => self.out.push_str("    pass\n"),
        }
    }

    fn field_dict(&mut self, fields: &[&Field], owner: &str) -> String {
        let mut body = String::from("{\n");
        for field in fields {
            let context = format!("{owner}{}", pascal(&field.name));
            let text = self.expr(&field.ty, &context);
            let _ = writeln!(body, "    {}: {text},", quote(&field.name));
        }
        body.push('}');
        body
    }

    /// A type expression; named references quoted (forward references are fine).
    fn expr(&mut self, ty: &Ty, context: &str) -> String {
        match ty {
            Ty::Any => "Any".into(),
            Ty::Str => "str".into(),
            Ty::Int => "int".into(),
            Ty::Bool => "bool".into(),
            Ty::Null => "None".into(),
            Ty::Lit(value) => match value.as_str() {
                Some(s) => format!("Literal[{}]", quote(s)),
                None => format!("Literal[{value}]"),
            },
            Ty::Ref(name) => quote(name),
            Ty::Array(item) => format!("List[{}]", self.expr(item, &format!("{context}Item"))),
            Ty::Map(value) => format!(
                "Dict[str, {}]",
                self.expr(value, &format!("{context}Value"))
            ),
            Ty::Tuple(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|item| self.expr(item, &format!("{context}Item")))
                    .collect();
                format!("Tuple[{}]", parts.join(", "))
            }
            Ty::Object(obj) => {
                let name = self.fresh(context);
                self.typed_dict(&name, None, obj, None);
                quote(&name)
            }
            Ty::Extend(base, obj) => {
                let name = self.fresh(context);
                self.typed_dict(&name, Some(base), obj, None);
                quote(&name)
            }
            Ty::Union(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let variant = variant_name(item).unwrap_or_else(|| (i + 1).to_string());
                        self.expr(item, &format!("{context}{}", pascal(&variant)))
                    })
                    .collect();
                format!("Union[{}]", parts.join(", "))
            }
        }
    }

    fn fresh(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{wanted}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// The declarations with every base class before the classes built on it (Python
/// evaluates base classes when it defines a class), otherwise by name.
fn in_base_order(decls: &[Decl]) -> Vec<&Decl> {
    fn bases(ty: &Ty, out: &mut Vec<String>) {
        match ty {
            Ty::Extend(base, obj) => {
                out.push(base.clone());
                obj.fields.iter().for_each(|f| bases(&f.ty, out));
            }
            Ty::Object(obj) => obj.fields.iter().for_each(|f| bases(&f.ty, out)),
            Ty::Array(t) | Ty::Map(t) => bases(t, out),
            Ty::Union(items) | Ty::Tuple(items) => items.iter().for_each(|t| bases(t, out)),
            _ => {}
        }
    }
    fn visit<'a>(
        decl: &'a Decl,
        all: &'a [Decl],
        done: &mut BTreeSet<String>,
        out: &mut Vec<&'a Decl>,
    ) {
        if !done.insert(decl.name.clone()) {
            return;
        }
        let mut needed = Vec::new();
        bases(&decl.ty, &mut needed);
        for name in needed {
            if let Some(base) = all.iter().find(|d| d.name == name) {
                visit(base, all, done, out);
            }
        }
        out.push(decl);
    }
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for decl in decls {
        visit(decl, decls, &mut done, &mut out);
    }
    out
}

/// The tag of a union variant (`{"step": "send", ...}` gives `send`).
fn variant_name(ty: &Ty) -> Option<String> {
    let obj = match ty {
        Ty::Object(obj) | Ty::Extend(_, obj) => obj,
        _ => return None,
    };
    obj.fields.iter().find_map(|f| match &f.ty {
        Ty::Lit(v) if !f.optional => v.as_str().map(str::to_string),
        _ => None,
    })
}

fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn comment(doc: &str) -> String {
    doc.lines()
        .map(|l| format!("# {l}").trim_end().to_string() + "\n")
        .collect()
}

fn snake(op: &str) -> String {
    let name = op.replace('.', "_");
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// `ops.py`: one function per op, typed with the generated shapes.
pub fn op_functions(surface: &Surface) -> String {
    let mut printer = Printer {
        taken: surface.decls.iter().map(|d| d.name.clone()).collect(),
        out: String::new(),
    };
    let mut functions = String::new();
    let mut all = Vec::new();
    for op in &surface.ops {
        let context = pascal(&op.name);
        let input = printer.expr(&op.input, &format!("{context}Input"));
        let output = printer.expr(&op.output, &format!("{context}Output"));
        let name = snake(&op.name);
        let _ = write!(
            functions,
            "\n\ndef {name}(input: {input}) -> {output}:\n    \"\"\"{} (op `{}`)\"\"\"\n    return cast({output}, call({}, input))\n",
            op.summary.replace('\\', "\\\\"),
            op.name,
            quote(&op.name)
        );
        all.push(name);
    }
    let mut out = banner("#");
    out.push_str(
        "\"\"\"Every op of the core as a typed function: `ops.junit_parse({\"xml\": text})` is\n\
         `tmbridge.call(\"junit.parse\", {\"xml\": text})` with its input and output types.\n\"\"\"\n\n\
         from __future__ import annotations\n\n\
         from typing import Any, Dict, List, Literal, Tuple, TypedDict, Union, cast\n\n\
         from ._call import call\nfrom .types import *  # noqa: F403\n",
    );
    out.push_str("from .types import (\n");
    let mut used = BTreeSet::new();
    for decl in &surface.decls {
        if functions.contains(&quote(&decl.name)) || printer.out.contains(&quote(&decl.name)) {
            used.insert(decl.name.clone());
        }
    }
    for name in &used {
        let _ = writeln!(out, "    {name},");
    }
    out.push_str(")\n\n__all__ = [\n");
    for name in &all {
        let _ = writeln!(out, "    \"{name}\",");
    }
    out.push_str("]\n");
    out.push_str(&printer.out);
    out.push_str(&functions);
    out
}

/// `_errors.py`: the base exception, one class per error class of the core, and
/// the area table.
pub fn error_classes(surface: &Surface) -> String {
    let mut out = banner("#");
    out.push_str(ERROR_BASE_PY);
    for class in &surface.error_classes {
        let areas: Vec<String> = class.areas.iter().map(|a| format!("``{a}.*``")).collect();
        let _ = write!(
            out,
            "\n\nclass {}(Error):\n    \"\"\"{} ({})\"\"\"\n",
            class.name,
            class.doc,
            areas.join(", ")
        );
    }
    out.push_str("\n\n_CLASSES: Dict[str, Type[Error]] = {\n");
    for class in &surface.error_classes {
        for area in &class.areas {
            let _ = writeln!(out, "    \"{area}\": {},", class.name);
        }
    }
    out.push_str(
        "}\n\n\ndef error_class_for(code: str) -> Type[Error]:\n    \
         \"\"\"The exception class for an error code, by its area (the part before the first dot).\"\"\"\n    \
         return _CLASSES.get(code.split(\".\", 1)[0], Error)\n",
    );
    out
}

const ERROR_BASE_PY: &str = r#""""Exceptions raised for errors of the core. The text is the core's own."""

from __future__ import annotations

from typing import Any, Dict, Optional, Type


class Error(Exception):
    """Base class of every error the core reports.

    ``str(error)`` is the core's text (position, message, code, hint). The parts are
    attributes: ``code`` (stable, e.g. ``junit.malformed_xml``: match on this),
    ``detail`` (the message alone), ``line`` and ``column`` (from 1, column in
    characters), ``offset`` (bytes from 0) and ``hint``; the position ones are None
    when the error has no position.
    """

    code: str
    detail: str
    line: Optional[int]
    column: Optional[int]
    offset: Optional[int]
    hint: Optional[str]

    def __init__(self, text: str, error: Dict[str, Any]) -> None:
        super().__init__(text)
        self.code = str(error.get("code", ""))
        self.detail = str(error.get("message", ""))
        location = error.get("location") or {}
        self.line = location.get("line")
        self.column = location.get("column")
        self.offset = location.get("offset")
        self.hint = error.get("hint")
"#;
