use super::*;
use proptest::prelude::*;
use serde_json::Value;

const XML: &str = r#"<testsuite name="s"><testcase classname="a.B" name="t" time="0.5"/><testcase name="u"><failure message="boom"/></testcase></testsuite>"#;

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the envelope is JSON")
}

fn error_code(bytes: &[u8]) -> String {
    let v = json(bytes);
    assert_eq!(v["ok"], Value::Null, "{v}");
    v["error"]["code"]
        .as_str()
        .expect("an error code")
        .to_string()
}

fn input(xml: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "xml": xml })).unwrap()
}

#[test]
fn parse_answers_with_the_report_in_an_ok_envelope() {
    let out = call("junit.parse", &input(XML));
    let report = crate::junit::parse(XML.as_bytes()).unwrap();
    let expected = format!(
        "{{\"ok\":{},\"error\":null}}",
        serde_json::to_string(&report).unwrap()
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn errors_of_the_core_come_back_unchanged() {
    let out = call("junit.parse", &input(""));
    let err = crate::junit::parse(b"").unwrap_err();
    let v = json(&out);
    assert_eq!(v["error"], serde_json::to_value(&err).unwrap());
    assert_eq!(
        error_text(&serde_json::to_vec(&v["error"]).unwrap()),
        err.to_string()
    );
}

#[test]
fn a_document_may_come_beside_the_json_but_not_twice() {
    let beside = call_with_document("junit.parse", b"{}", XML.as_bytes());
    assert_eq!(beside, call("junit.parse", &input(XML)));
    assert_eq!(
        error_code(&call_with_document(
            "junit.parse",
            &input(XML),
            XML.as_bytes()
        )),
        "ops.document_twice"
    );
    assert_eq!(
        error_code(&call("junit.parse", b"{}")),
        "ops.missing_document"
    );
    assert_eq!(
        error_code(&call_with_document("ops.list", b"{}", b"x")),
        "ops.unexpected_document"
    );
}

#[test]
fn base64_documents_keep_bytes_that_are_not_utf8() {
    // 0xE9 is Latin-1 "é": the reader must see the raw byte and refuse it.
    let b64 = serde_json::json!({"xml": {"base64": "PHRlc3RzdWl0ZSBuYW1lPSLpIi8+"}});
    let code = error_code(&call("junit.parse", &serde_json::to_vec(&b64).unwrap()));
    assert_eq!(code, "junit.invalid_utf8");
}

#[test]
fn bad_input_is_explained_with_its_position() {
    let v = json(&call("junit.parse", b"{\"xml\": \"<a/>\", }"));
    assert_eq!(v["error"]["code"], "ops.invalid_json");
    assert_eq!(v["error"]["location"]["line"], 1);
    let v = json(&call("junit.parse", br#"{"xml": "<a/>", "optoins": {}}"#));
    assert_eq!(v["error"]["code"], "ops.invalid_input");
    assert!(v["error"]["message"].as_str().unwrap().contains("optoins"));
    assert!(v["error"]["hint"].as_str().unwrap().contains("xml?"));
    assert_eq!(
        error_code(&call("junit.parse", b"{} x")),
        "ops.invalid_json"
    );
}

#[test]
fn unknown_ops_are_named_with_a_suggestion() {
    let v = json(&call("parse", b"{}"));
    assert_eq!(v["error"]["code"], "ops.unknown_op");
    assert!(
        v["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("`junit.parse`")
    );
}

#[test]
fn every_listed_op_is_callable_and_named_once() {
    let specs = list_ops();
    let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), specs.len());
    for spec in &specs {
        let out = call(&spec.name, b"{}");
        let v = json(&out);
        assert_ne!(v["error"]["code"], "ops.unknown_op", "{}", spec.name);
        assert!(!spec.input.is_empty() && !spec.output.is_empty() && !spec.summary.is_empty());
    }
    let listed = json(&call("ops.list", b"{}"));
    assert_eq!(listed["ok"], serde_json::to_value(&specs).unwrap());
}

#[test]
fn any_serializer_gives_the_same_envelope() {
    let input =
        serde_json::to_vec(&serde_json::json!({ "xml": XML, "options": { "max_depth": 8 } }))
            .unwrap();
    let as_value = call_into("junit.parse", &input, None, serde_json::value::Serializer).unwrap();
    assert_eq!(as_value, json(&call("junit.parse", &input)));
    let beside = call_into(
        "junit.parse",
        b"{}",
        Some(XML.as_bytes()),
        serde_json::value::Serializer,
    )
    .unwrap();
    assert_eq!(beside, as_value);
    let unknown = call_into("nope", b"{}", None, serde_json::value::Serializer).unwrap();
    assert_eq!(unknown["error"]["code"], "ops.unknown_op");
}

#[test]
fn the_event_stream_matches_the_events_op_then_stays_ended() {
    let mut stream = EventStream::new(XML.as_bytes(), None).unwrap();
    let mut steps = Vec::new();
    loop {
        let v = json(&stream.next_envelope());
        if v["ok"].is_null() {
            assert!(v["error"].is_null());
            break;
        }
        steps.push(v["ok"].clone());
    }
    assert_eq!(json(&stream.next_envelope())["ok"], Value::Null);
    let all = json(&call("junit.events", &input(XML)));
    assert_eq!(Value::Array(steps), all["ok"]);
}

#[test]
fn the_event_stream_reports_bad_options_and_bad_xml() {
    let Err(bad) = EventStream::new(XML.as_bytes(), Some(b"{\"max_depth\": \"x\"}")) else {
        panic!("bad options accepted");
    };
    assert_eq!(error_code(&bad), "ops.invalid_input");
    let mut stream =
        EventStream::new(&b"<testsuite><testcase name='a'>"[..], Some(b"null")).unwrap();
    let codes: Vec<String> = (0..4)
        .map(|_| json(&stream.next_envelope()))
        .filter(|v| !v["error"].is_null())
        .map(|v| v["error"]["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["junit.truncated"]);
}

/// Every envelope one at a time, up to and with the end or the error.
fn single_envelopes(xml: &[u8]) -> Vec<Value> {
    let mut stream = EventStream::new(xml, None).unwrap();
    let mut out = Vec::new();
    loop {
        let v = json(&stream.next_envelope());
        let last = v["ok"].is_null();
        out.push(v);
        if last {
            return out;
        }
    }
}

#[test]
fn batches_hold_the_same_envelopes_and_end_at_the_end_or_the_error() {
    let bad = b"<testsuite><testcase name='a'/><testcase name='b'>";
    for xml in [XML.as_bytes(), &bad[..]] {
        let want = single_envelopes(xml);
        for size in [0, 1, 2, 3, 1000] {
            let mut stream = EventStream::new(xml, None).unwrap();
            let mut got = Vec::new();
            while got.len() < want.len() {
                let Value::Array(batch) = json(&stream.next_envelopes(size)) else {
                    panic!("a batch is not an array");
                };
                assert!(!batch.is_empty() && batch.len() <= size.max(1));
                got.extend(batch);
            }
            assert_eq!(got, want, "batches of {size}");
        }
    }
}

proptest! {
    #[test]
    fn call_always_answers_with_an_envelope(op_index in 0usize..40, bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let names: Vec<String> = list_ops().into_iter().map(|s| s.name).collect();
        let op = names.get(op_index).map(String::as_str).unwrap_or("nope");
        let v = json(&call(op, &bytes));
        prop_assert!(v["ok"].is_null() != v["error"].is_null(), "{}", v);
        let xml_input = serde_json::to_vec(&serde_json::json!({"xml": String::from_utf8_lossy(&bytes)})).unwrap();
        let v = json(&call(op, &xml_input));
        prop_assert!(v["ok"].is_null() != v["error"].is_null(), "{}", v);
    }
}
