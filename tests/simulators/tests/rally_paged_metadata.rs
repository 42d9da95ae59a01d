//! WSAPI v2.0 metadata as the browser extension's `rally.schema` reads it: a Defect
//! TypeDefinition whose `Attributes` is a collection stub (`_ref`, `Count`) paged with
//! `start`/`pagesize`, and each constrained attribute's `AllowedValues` a collection of
//! its own, paged the same way. Reading every page gives each item once.

use serde_json::Value;
use tmbridge_simulators::rally::RallySim;
use tmbridge_simulators::url::encode_component;
use tmbridge_simulators::{HttpResponse, request};

fn get_url(sim: &RallySim, url: &str) -> HttpResponse {
    request("GET", url, &[("ZSESSIONID", sim.api_key())], None).unwrap()
}

/// Every item of a collection, read `size` at a time; the pages it took.
fn read_all(sim: &RallySim, collection: &str, size: usize) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let sep = if collection.contains('?') { '&' } else { '?' };
        let url = format!(
            "{collection}{sep}fetch=true&pagesize={size}&start={}",
            items.len() + 1
        );
        let page = get_url(sim, &url).json().unwrap();
        let result = &page["QueryResult"];
        let got = result["Results"].as_array().unwrap().clone();
        assert!(
            got.len() <= size,
            "a page of {} items for pagesize {size}",
            got.len()
        );
        pages += 1;
        let total = result["TotalResultCount"].as_u64().unwrap() as usize;
        let done = got.is_empty();
        items.extend(got);
        if done || items.len() >= total {
            assert_eq!(items.len(), total, "{collection}");
            return (items, pages);
        }
    }
}

#[test]
fn defect_attributes_and_allowed_values_come_in_pages() {
    let sim = RallySim::start();
    let query = encode_component("(ElementName = Defect)");
    let td = get_url(
        &sim,
        &format!(
            "{}/typedefinition?fetch=Attributes,ElementName&query={query}",
            sim.wsapi_url()
        ),
    )
    .json()
    .unwrap();
    let td = &td["QueryResult"]["Results"][0];
    // v2.0 gives the collection as a stub, not inline.
    let stub = &td["Attributes"];
    let count = stub["Count"].as_u64().unwrap() as usize;
    assert!(stub.get("_ref").is_some() && count > 20, "{stub}");
    let (attributes, pages) = read_all(&sim, stub["_ref"].as_str().unwrap(), 7);
    assert_eq!(attributes.len(), count);
    assert!(pages > 2, "{pages} pages");
    let mut names: Vec<&str> = attributes
        .iter()
        .map(|a| a["ElementName"].as_str().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "each attribute once");
    for wanted in [
        "Name",
        "Severity",
        "Priority",
        "State",
        "Requirement",
        "TestCase",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing: {names:?}");
    }

    let severity = attributes
        .iter()
        .find(|a| a["ElementName"] == "Severity")
        .unwrap();
    let values = &severity["AllowedValues"];
    assert!(
        values.get("_ref").is_some(),
        "AllowedValues is a collection: {values}"
    );
    let (listed, pages) = read_all(&sim, values["_ref"].as_str().unwrap(), 2);
    assert_eq!(listed.len() as u64, values["Count"].as_u64().unwrap());
    assert!(pages >= 2, "{pages} pages");
    assert!(
        listed.iter().all(|v| v["StringValue"].is_string()),
        "{listed:?}"
    );
}
