//! TypeScript: `types.d.ts` (every shape, the op and session tables, the error
//! classes) and `errors.js` (the error classes at run time).

use crate::banner;
use crate::model::{Decl, Obj, Ty};
use crate::surface::Surface;
use std::fmt::Write as _;

pub fn declarations(surface: &Surface) -> String {
    let mut out = banner("//");
    out.push_str(
        "//\n// Data follows the core's JSON contract: snake_case field names, enums as lowercase\n\
         // strings, absent values as `null`, durations as integer microseconds, no floats.\n\n",
    );
    out.push_str(ERROR_BASE_DECL);
    for class in &surface.error_classes {
        let _ = writeln!(
            out,
            "/** {} (`{}`) */\nexport class {} extends TmbridgeError {{}}",
            class.doc,
            areas(&class.areas),
            class.name
        );
    }
    out.push_str(
        "\n/** The error class used for a code (by the part before the first dot). */\n\
         export function errorClassFor(code: string): typeof TmbridgeError;\n",
    );
    for decl in &surface.decls {
        out.push('\n');
        out.push_str(&declaration(decl));
    }
    out.push_str("\n/** Every op's input, by op name. */\nexport interface OpInputs {\n");
    for op in &surface.ops {
        let _ = writeln!(
            out,
            "  /** {} */\n  '{}': {};",
            op.summary,
            op.name,
            ts(&op.input)
        );
    }
    out.push_str("}\n\n/** Every op's output, by op name. */\nexport interface OpOutputs {\n");
    for op in &surface.ops {
        let _ = writeln!(out, "  '{}': {};", op.name, ts(&op.output));
    }
    out.push_str("}\n\nexport type OpName = keyof OpInputs;\n");
    out.push_str("\n/** Every session kind's input (the `input` of its start request), by kind. */\nexport interface SessionInputs {\n");
    for (kind, input) in &surface.sessions {
        let _ = writeln!(out, "  '{kind}': {};", ts(input));
    }
    out.push_str("}\n\nexport type SessionKindName = keyof SessionInputs;\n");
    out
}

const ERROR_BASE_DECL: &str = r#"/** Base class of every error the core reports. `message` is the core's own text. */
export class TmbridgeError extends Error {
  /** Stable code, e.g. `junit.malformed_xml`: safe to match on. */
  readonly code: string;
  /** The core's message without position, code or hint. */
  readonly detail: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly offset: number | null;
  readonly hint: string | null;
  constructor(text: string, error: CoreError, options?: ErrorOptions);
}
"#;

fn areas(areas: &[String]) -> String {
    areas
        .iter()
        .map(|a| format!("{a}.*"))
        .collect::<Vec<_>>()
        .join("`, `")
}

fn declaration(decl: &Decl) -> String {
    let mut out = String::new();
    if let Some(doc) = &decl.doc {
        out.push_str(&jsdoc(doc, ""));
    }
    if decl.name == "DocumentInput" {
        out.push_str("export type DocumentInput = string | Uint8Array | { base64: string };\n");
        return out;
    }
    match &decl.ty {
        Ty::Object(obj) if !obj.fields.is_empty() => {
            let _ = writeln!(out, "export interface {} {{", decl.name);
            out.push_str(&fields(obj, "  "));
            out.push_str("}\n");
        }
        Ty::Union(items) if items.len() > 2 => {
            let _ = writeln!(out, "export type {} =", decl.name);
            for item in items {
                let _ = writeln!(out, "  | {}", member(item));
            }
            out.pop();
            out.push_str(";\n");
        }
        other => {
            let _ = writeln!(out, "export type {} = {};", decl.name, ts(other));
        }
    }
    out
}

fn fields(obj: &Obj, indent: &str) -> String {
    let mut out = String::new();
    for field in &obj.fields {
        if let Some(doc) = &field.doc {
            out.push_str(&jsdoc(doc, indent));
        }
        let optional = if field.optional { "?" } else { "" };
        let _ = writeln!(
            out,
            "{indent}{}{optional}: {};",
            key(&field.name),
            ts(&field.ty)
        );
    }
    out
}

fn jsdoc(doc: &str, indent: &str) -> String {
    let doc = doc.replace("*/", "*\\/");
    if !doc.contains('\n') {
        return format!("{indent}/** {doc} */\n");
    }
    let mut out = format!("{indent}/**\n");
    for line in doc.lines() {
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {line}");
        }
    }
    let _ = writeln!(out, "{indent} */");
    out
}

fn key(name: &str) -> String {
    let plain = name.chars().enumerate().all(|(i, c)| {
        c == '_' || c == '$' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
    });
    if plain && !name.is_empty() {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A union member: intersections and functions in parentheses.
fn member(ty: &Ty) -> String {
    match ty {
        Ty::Extend(..) => format!("({})", ts(ty)),
        _ => ts(ty),
    }
}

pub fn ts(ty: &Ty) -> String {
    match ty {
        Ty::Any => "unknown".into(),
        Ty::Str => "string".into(),
        Ty::Int => "number".into(),
        Ty::Bool => "boolean".into(),
        Ty::Null => "null".into(),
        Ty::Lit(value) => match value.as_str() {
            Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            None => value.to_string(),
        },
        Ty::Ref(name) => name.clone(),
        Ty::Array(item) => match **item {
            Ty::Union(_) | Ty::Extend(..) => format!("({})[]", ts(item)),
            _ => format!("{}[]", ts(item)),
        },
        Ty::Tuple(items) => format!("[{}]", items.iter().map(ts).collect::<Vec<_>>().join(", ")),
        Ty::Map(value) => format!("{{ [key: string]: {} }}", ts(value)),
        Ty::Object(obj) if obj.fields.is_empty() => "Record<string, never>".into(),
        Ty::Object(obj) => inline(obj),
        Ty::Extend(name, obj) => format!("{} & {name}", inline(obj)),
        Ty::Union(items) => items.iter().map(member).collect::<Vec<_>>().join(" | "),
    }
}

fn inline(obj: &Obj) -> String {
    let parts: Vec<String> = obj
        .fields
        .iter()
        .map(|f| {
            let optional = if f.optional { "?" } else { "" };
            format!("{}{optional}: {}", key(&f.name), ts(&f.ty))
        })
        .collect();
    format!("{{ {} }}", parts.join("; "))
}

/// `errors.js`: the classes and the area table at run time.
pub fn error_classes(surface: &Surface) -> String {
    let mut out = banner("//");
    out.push_str(ERROR_BASE_JS);
    for class in &surface.error_classes {
        let _ = writeln!(
            out,
            "/** {} (`{}`) */\nexport class {} extends TmbridgeError {{}}",
            class.doc,
            areas(&class.areas),
            class.name
        );
    }
    out.push_str("\nconst ERROR_CLASSES = {\n");
    for class in &surface.error_classes {
        for area in &class.areas {
            let _ = writeln!(out, "  {area}: {},", class.name);
        }
    }
    out.push_str(
        "};\n\n/** The error class for a code: by its area, the part before the first dot. */\n\
         export function errorClassFor(code) {\n  const area = String(code).split('.', 1)[0];\n  \
         return Object.hasOwn(ERROR_CLASSES, area) ? ERROR_CLASSES[area] : TmbridgeError;\n}\n",
    );
    out
}

const ERROR_BASE_JS: &str = r#"
/** Base class of every error the core reports. */
export class TmbridgeError extends Error {
  constructor(text, error, options) {
    super(text, options);
    this.name = new.target.name;
    /** Stable code, e.g. `junit.malformed_xml`: safe to match on. */
    this.code = error.code;
    /** The core's message without position, code or hint. */
    this.detail = error.message;
    const at = error.location;
    this.line = at ? at.line : null;
    this.column = at ? at.column : null;
    this.offset = at ? at.offset : null;
    this.hint = error.hint ?? null;
  }
}
"#;
