//! Small `{name}` templates used for build names, test set names, cycle names and
//! custom field values. `{{` and `}}` stand for literal braces.

use crate::error::{Error, Result};

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits a template into text and placeholders, or says where it is malformed.
pub fn parse(template: &str) -> Result<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut consumed = 0usize;
    while !rest.is_empty() {
        let Some(pos) = rest.find(['{', '}']) else {
            pieces.push(Piece::Text(rest));
            break;
        };
        if pos > 0 {
            pieces.push(Piece::Text(&rest[..pos]));
        }
        let after = &rest[pos + 1..];
        let brace = &rest[pos..pos + 1];
        if brace == "}" {
            if let Some(tail) = after.strip_prefix('}') {
                pieces.push(Piece::Text("}"));
                consumed += pos + 2;
                rest = tail;
                continue;
            }
            return Err(syntax(
                template,
                consumed + pos,
                "a lone `}`; write `}}` for a brace",
            ));
        }
        if let Some(tail) = after.strip_prefix('{') {
            pieces.push(Piece::Text("{"));
            consumed += pos + 2;
            rest = tail;
            continue;
        }
        let Some(end) = after.find('}') else {
            return Err(syntax(
                template,
                consumed + pos,
                "a `{` that is never closed",
            ));
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(is_name_char) {
            return Err(syntax(
                template,
                consumed + pos,
                "a placeholder name may use letters, digits, `_`, `-` and `.` only",
            ));
        }
        pieces.push(Piece::Var(name));
        consumed += pos + 1 + end + 1;
        rest = &after[end + 1..];
    }
    Ok(pieces)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn syntax(template: &str, offset: usize, what: &str) -> Error {
    Error::new(
        "template.syntax",
        format!(
            "the template {template:?} has {what} (at character {})",
            offset + 1
        ),
    )
}

/// The placeholder names a template uses, in order.
pub fn placeholders(template: &str) -> Result<Vec<&str>> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(v) => Some(v),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Checks that a configured template parses and only uses known placeholders.
/// `key` is the configuration key, used in the message.
pub fn check(key: &str, template: &str, names: &[&str], prefixes: &[&str]) -> Result<()> {
    let used = placeholders(template)
        .map_err(|e| Error::new("config.invalid_template", format!("`{key}`: {}", e.message)))?;
    for name in used {
        let known = names.contains(&name)
            || prefixes
                .iter()
                .any(|p| name.len() > p.len() && name.starts_with(p));
        if !known {
            let mut allowed: Vec<String> = names.iter().map(|n| format!("{{{n}}}")).collect();
            allowed.extend(prefixes.iter().map(|p| format!("{{{p}NAME}}")));
            return Err(Error::new(
                "config.invalid_template",
                format!("`{key}`: unknown placeholder {{{name}}} in {template:?}"),
            )
            .with_hint(format!("allowed: {}", allowed.join(", "))));
        }
    }
    Ok(())
}

/// Fills a template. A placeholder with no value is an error that names it.
pub fn render(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    for piece in parse(template)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(name) => match lookup(name) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(Error::new(
                        "template.missing_value",
                        format!("the template {template:?} needs {{{name}}}, which has no value"),
                    )
                    .with_hint(hint_for(name)));
                }
            },
        }
    }
    Ok(out)
}

fn hint_for(name: &str) -> String {
    if let Some(var) = name.strip_prefix("var.") {
        format!("give it as a run variable `{var}` (CLI: --var {var}=VALUE)")
    } else {
        format!(
            "give it in the run context (CLI: --var {name}=VALUE, or run inside GitLab CI, which sets it)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "pipeline_id" => Some("42".into()),
            "sprint" => Some("7".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_placeholders_and_escapes() {
        assert_eq!(render("GitLab-{pipeline_id}", &vars).unwrap(), "GitLab-42");
        assert_eq!(render("{{x}} {sprint}}}", &vars).unwrap(), "{x} 7}");
        assert_eq!(render("plain", &vars).unwrap(), "plain");
        assert_eq!(render("", &vars).unwrap(), "");
    }

    #[test]
    fn missing_value_names_the_placeholder() {
        let e = render("Build {job_id}", &vars).unwrap_err();
        assert_eq!(e.code, "template.missing_value");
        assert!(e.message.contains("{job_id}"), "{}", e.message);
        assert!(e.hint.unwrap().contains("--var job_id="));
    }

    #[test]
    fn syntax_errors_are_refused() {
        for bad in ["{open", "close}", "{}", "{a b}"] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, "template.syntax", "{bad}");
        }
    }

    #[test]
    fn check_lists_allowed_names() {
        assert!(check("k", "{a}-{var.x}", &["a"], &["var."]).is_ok());
        let e = check("rally.build", "{nope}", &["a", "b"], &["var."]).unwrap_err();
        assert!(e.message.contains("`rally.build`") && e.message.contains("{nope}"));
        assert_eq!(e.hint.as_deref(), Some("allowed: {a}, {b}, {var.NAME}"));
        // A bare prefix is not a name.
        assert!(check("k", "{var.}", &[], &["var."]).is_err());
    }

    #[test]
    fn never_panics_on_odd_text() {
        for t in ["{é}", "}}{{", "{{{a}}}", "€{", "a}b{c"] {
            let _ = render(t, &vars);
        }
        assert_eq!(render("{{{sprint}}}", &vars).unwrap(), "{7}");
    }
}
