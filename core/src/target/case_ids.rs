//! Case ids written in test names and property values.
//!
//! TestRail ids follow trcli's reading of a name, in its order: bracket groups
//! (`[C123] x`, `x [C123]`, `[C123, C456] x`), then several underscore-separated ids
//! (`C1_C2_x`), then one id as a space- or underscore-separated word (`C123 x`,
//! `x C123`, `C123_x`, `x_C123()`). Rally ids are `TC123` words; qTest ids are
//! bracketed PIDs (`[TC-123]`).

use super::Target;

/// Largest id accepted: ids must stay exact in every runtime's JSON numbers.
const MAX_ID: u64 = (1 << 53) - 1;

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().filter(|n| (1..=MAX_ID).contains(n))
}

/// `x_C123()`: JUnit 5 method names end with their parameter list.
fn strip_call_suffix(s: &str) -> &str {
    if s.ends_with(')')
        && let Some(i) = s.find('(')
    {
        return &s[..i];
    }
    s
}

/// `C123`, `c123`, `C123()` as one word.
fn c_word(part: &str) -> Option<u64> {
    let rest = part.strip_prefix(['c', 'C'])?;
    digits(strip_call_suffix(rest))
}

/// `C123` or `123`, spaces around allowed: a TestRail case id as a value.
pub fn parse_testrail_case(text: &str) -> Option<u64> {
    let t = text.trim();
    digits(t.strip_prefix(['c', 'C']).unwrap_or(t))
}

/// `TC123` (any case) → `TC123`.
pub fn parse_rally_test_case(text: &str) -> Option<String> {
    let t = text.trim();
    let rest = t.strip_prefix("TC").or_else(|| t.strip_prefix("tc"))?;
    digits(rest).map(|n| format!("TC{n}"))
}

/// `TC-123` (any case) → `TC-123`.
pub fn parse_qtest_pid(text: &str) -> Option<String> {
    let t = text.trim();
    let rest = t.strip_prefix("TC-").or_else(|| t.strip_prefix("tc-"))?;
    digits(rest).map(|n| format!("TC-{n}"))
}

/// The contents of `[...]` groups, left to right (non-greedy, like `\[(.*?)\]`).
fn bracket_groups(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// TestRail case ids in a test name, in trcli's order of preference.
pub fn testrail_ids_in_name(name: &str) -> Vec<u64> {
    for group in bracket_groups(name) {
        if group.contains(',') {
            let mut ids = Vec::new();
            for part in group.split(',') {
                if let Some(id) = parse_testrail_case(part) {
                    push_unique(&mut ids, id);
                }
            }
            if !ids.is_empty() {
                return ids;
            }
        } else if let Some(id) = group.strip_prefix(['c', 'C']).and_then(digits) {
            return vec![id];
        }
    }
    let mut ids = Vec::new();
    for part in name.split('_') {
        if let Some(id) = c_word(part) {
            push_unique(&mut ids, id);
        }
    }
    if ids.len() >= 2 {
        return ids;
    }
    for sep in [' ', '_'] {
        for part in name.split(sep) {
            if part.len() > 1
                && let Some(id) = c_word(part)
            {
                return vec![id];
            }
        }
    }
    Vec::new()
}

/// Rally test case FormattedIDs (`TC123`) written as words in a name.
pub fn rally_ids_in_name(name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        if let Some(id) = parse_rally_test_case(word) {
            push_unique(&mut ids, id);
        }
    }
    ids
}

/// qTest test case PIDs in brackets: `[TC-123]`, `[TC-1, TC-2]`.
pub fn qtest_ids_in_name(name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for group in bracket_groups(name) {
        for part in group.split(',') {
            if let Some(id) = parse_qtest_pid(part) {
                push_unique(&mut ids, id);
            }
        }
    }
    ids
}

/// Case keys in a test name for a target, canonical (`C123`, `TC123`, `TC-123`).
pub fn keys_in_name(target: Target, name: &str) -> Vec<String> {
    match target {
        Target::Testrail => testrail_ids_in_name(name)
            .into_iter()
            .map(|n| format!("C{n}"))
            .collect(),
        Target::Rally => rally_ids_in_name(name),
        Target::Qtest => qtest_ids_in_name(name),
    }
}

/// Case keys in a property or mapping-table value: comma-separated ids for TestRail
/// and Rally, one key (a PID or an automation content) for qTest. The error says what
/// a valid value looks like.
pub fn keys_in_value(target: Target, value: &str) -> Result<Vec<String>, String> {
    if value.trim().is_empty() {
        return Err("the value is empty".into());
    }
    if target == Target::Qtest {
        let v = value.trim();
        return Ok(vec![parse_qtest_pid(v).unwrap_or_else(|| v.to_string())]);
    }
    let mut keys = Vec::new();
    for part in value.split(',') {
        let key = match target {
            Target::Testrail => parse_testrail_case(part).map(|n| format!("C{n}")),
            _ => parse_rally_test_case(part),
        };
        match key {
            Some(k) => push_unique(&mut keys, k),
            None => {
                let want = match target {
                    Target::Testrail => "a TestRail case id like 123 or C123",
                    _ => "a Rally test case FormattedID like TC123",
                };
                return Err(format!("{:?} is not {want}", part.trim()));
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_trcli_form() {
        let cases: &[(&str, &[u64])] = &[
            ("C123 my test case", &[123]),
            ("my test case C123", &[123]),
            ("C123_my_test_case", &[123]),
            ("my_test_case_C123", &[123]),
            ("module_1_C123_my_test_case", &[123]),
            ("[C123] my test case", &[123]),
            ("my test case [C123]", &[123]),
            ("module 1 [C123] my test case", &[123]),
            ("my_test_case_C123()", &[123]),
            ("[C123, C456, C789] my test case", &[123, 456, 789]),
            ("my test case [C123, C456, C789]", &[123, 456, 789]),
            ("C123_C456_C789_my_test_case", &[123, 456, 789]),
            ("C1_C2_x", &[1, 2]),
            ("[123, C456] numbers in a list", &[123, 456]),
            ("c42 lower case", &[42]),
            ("numbers but no test id 1234", &[]),
            ("Cancel order", &[]),
            ("C", &[]),
            ("[C12x] x", &[]),
            ("C0 zero is no id", &[]),
        ];
        for (name, want) in cases {
            assert_eq!(testrail_ids_in_name(name), *want, "{name}");
        }
    }

    #[test]
    fn brackets_win_over_words_and_duplicates_collapse() {
        assert_eq!(testrail_ids_in_name("C1 [C2] x"), vec![2]);
        assert_eq!(testrail_ids_in_name("[C5, C5]"), vec![5]);
        assert_eq!(testrail_ids_in_name("C7_C7_x"), vec![7]);
    }

    #[test]
    fn rally_and_qtest_forms() {
        assert_eq!(rally_ids_in_name("TC123 login works"), vec!["TC123"]);
        assert_eq!(rally_ids_in_name("login_TC45_TC46"), vec!["TC45", "TC46"]);
        assert_eq!(rally_ids_in_name("[TC7] x"), vec!["TC7"]);
        assert!(rally_ids_in_name("ETC123 TCx TC-1").is_empty());
        assert_eq!(qtest_ids_in_name("[TC-123] x"), vec!["TC-123"]);
        assert_eq!(qtest_ids_in_name("x [TC-1, tc-2]"), vec!["TC-1", "TC-2"]);
        assert!(qtest_ids_in_name("TC-123 without brackets").is_empty());
    }

    #[test]
    fn values_parse_per_target() {
        assert_eq!(
            keys_in_value(Target::Testrail, "C1, 2").unwrap(),
            ["C1", "C2"]
        );
        assert_eq!(keys_in_value(Target::Rally, "tc9").unwrap(), ["TC9"]);
        assert_eq!(keys_in_value(Target::Qtest, " tc-3 ").unwrap(), ["TC-3"]);
        assert_eq!(
            keys_in_value(Target::Qtest, "com.acme.LoginTest.ok").unwrap(),
            ["com.acme.LoginTest.ok"]
        );
        let e = keys_in_value(Target::Testrail, "C1, abc").unwrap_err();
        assert!(e.contains("\"abc\"") && e.contains("C123"), "{e}");
        assert!(
            keys_in_value(Target::Rally, "US12")
                .unwrap_err()
                .contains("TC123")
        );
        assert!(keys_in_value(Target::Qtest, "  ").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_ids_are_in_range(name in "\\PC{0,40}") {
            for id in testrail_ids_in_name(&name) {
                prop_assert!((1..=MAX_ID).contains(&id));
            }
            let _ = rally_ids_in_name(&name);
            let _ = qtest_ids_in_name(&name);
            let _ = keys_in_value(Target::Testrail, &name);
        }

        #[test]
        fn an_id_put_in_a_name_is_found(id in 1u64..1_000_000, words in "[a-z]{1,8}( [a-z]{1,8}){0,3}") {
            for name in [
                format!("C{id} {words}"),
                format!("{words} C{id}"),
                format!("[C{id}] {words}"),
                format!("{}_C{id}()", words.replace(' ', "_")),
            ] {
                prop_assert_eq!(testrail_ids_in_name(&name), vec![id], "{}", name);
            }
        }
    }
}
