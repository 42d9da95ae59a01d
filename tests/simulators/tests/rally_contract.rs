//! The Rally simulator answers as Rally does where real clients (pyral and the other
//! official toolkits) depend on it: the user's profile, the subscription's workspaces,
//! the schema service, full type and attribute definitions, `/users`, strict dates,
//! validated updates, strict test set membership, one project-scoping rule, allowed
//! values, whole collection items, FormattedID order and length limits.

use serde_json::{Value, json};
use tmbridge_simulators::rally::RallySim;
use tmbridge_simulators::url::encode_component;
use tmbridge_simulators::{HttpResponse, request};

fn get_url(sim: &RallySim, url: &str) -> HttpResponse {
    request("GET", url, &[("ZSESSIONID", sim.api_key())], None).unwrap()
}

fn get(sim: &RallySim, path_and_query: &str) -> Value {
    get_url(sim, &format!("{}{path_and_query}", sim.wsapi_url()))
        .json()
        .unwrap()
}

fn send(sim: &RallySim, path_and_query: &str, body: &Value) -> Value {
    let url = format!("{}{path_and_query}", sim.wsapi_url());
    request(
        "POST",
        &url,
        &[("ZSESSIONID", sim.api_key())],
        Some(&serde_json::to_vec(body).unwrap()),
    )
    .unwrap()
    .json()
    .unwrap()
}

fn q(text: &str) -> String {
    encode_component(text)
}

/// `https://host/slm/webservice/v2.0/testcase/12` → `/testcase/12`
fn short(reference: &Value) -> String {
    let r = reference.as_str().unwrap();
    let mut parts = r.rsplit('/');
    let oid = parts.next().unwrap();
    let ty = parts.next().unwrap();
    format!("/{ty}/{oid}")
}

fn errors_of(v: &Value, kind: &str) -> Vec<String> {
    v[kind]["Errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} envelope: {v}"))
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

fn result_body(test_case: &str, date: &str) -> Value {
    json!({"TestCaseResult": {"TestCase": test_case, "Build": "GitLab-7", "Date": date, "Verdict": "Pass"}})
}

#[test]
fn the_user_has_a_profile_with_default_workspace_and_project() {
    let sim = RallySim::start();
    let s = sim.seeded().clone();
    let me = get(&sim, "/user?fetch=UserName,UserProfile,Disabled");
    assert_eq!(me["User"]["Disabled"], false);
    let profile = short(&me["User"]["UserProfile"]["_ref"]);
    let p = get(&sim, &profile);
    assert_eq!(p["UserProfile"]["Errors"], json!([]), "{p}");
    assert_eq!(
        short(&p["UserProfile"]["DefaultWorkspace"]["_ref"]),
        s.workspace
    );
    assert_eq!(
        short(&p["UserProfile"]["DefaultProject"]["_ref"]),
        s.project
    );
    assert_eq!(
        p["UserProfile"]["DefaultWorkspace"]["_refObjectName"],
        "Acme Workspace"
    );
}

#[test]
fn the_subscription_lists_the_workspaces_the_user_may_use() {
    let sim = RallySim::start();
    let sub = get(&sim, "/subscription?fetch=true");
    let workspaces = sub["Subscription"]["Workspaces"]["_ref"].as_str().unwrap();
    let query = q("(State = Open)");
    let listed = get_url(&sim, &format!("{workspaces}?fetch=true&query={query}"))
        .json()
        .unwrap();
    let names: Vec<&str> = listed["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Acme Workspace"], "{listed}");
}

#[test]
fn the_schema_service_answers_for_a_workspace_and_a_project() {
    let sim = RallySim::start();
    let s = sim.seeded().clone();
    let oid = |r: &str| r.rsplit('/').next().unwrap().to_string();
    let schema_base = sim.wsapi_url().replace("/slm/webservice/", "/slm/schema/");
    for path in [
        format!("/workspace/{}", oid(&s.workspace)),
        format!("/workspace/{}/1a2b3c4d", oid(&s.workspace)),
        format!("/project/{}", oid(&s.project)),
    ] {
        let r = get_url(&sim, &format!("{schema_base}{path}"));
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let v = r.json().unwrap();
        let types = v["QueryResult"]["Results"].as_array().unwrap();
        let tc = types
            .iter()
            .find(|t| t["ElementName"] == "TestCase")
            .expect("TestCase in the schema");
        assert_eq!(tc["IDPrefix"], "TC");
        assert_eq!(tc["Abstract"], false);
        assert_eq!(tc["Parent"]["_refObjectName"], "Artifact");
        assert!(tc["Ordinal"].is_i64());
        for f in [
            "ReadOnly",
            "Deletable",
            "Restorable",
            "Creatable",
            "Queryable",
        ] {
            assert!(tc[f].is_boolean(), "TestCase.{f}: {}", tc[f]);
        }
        assert!(tc.as_object().unwrap().contains_key("RevisionHistory"));
        let attrs = tc["Attributes"].as_array().expect("attributes inline");
        let name = attrs.iter().find(|a| a["ElementName"] == "Name").unwrap();
        assert_eq!(name["MaxLength"], 256);
        assert_eq!(name["SchemaType"], "xsd:string");
        assert_eq!(name["Constrained"], false);
        assert_eq!(name["AllowedValues"], json!([]));
        assert_eq!(name["AllowedValueType"], Value::Null);
        let method = attrs.iter().find(|a| a["ElementName"] == "Method").unwrap();
        assert_eq!(method["Constrained"], true);
        assert_eq!(
            method["AllowedValueType"]["_refObjectName"],
            "Allowed Attribute Value"
        );
        let values: Vec<&str> = method["AllowedValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["StringValue"].as_str().unwrap())
            .collect();
        assert_eq!(values, vec!["Automated", "Manual"]);
        let artifact = types
            .iter()
            .find(|t| t["ElementName"] == "Artifact")
            .unwrap();
        assert_eq!(artifact["Abstract"], true);
        assert!(
            types
                .iter()
                .any(|t| t["ElementName"] == "HierarchicalRequirement")
        );
    }
    let other = get_url(
        &sim,
        &format!("{schema_base}/workspace/{}", oid(&s.other_workspace)),
    );
    assert_eq!(other.status, 403);
}

#[test]
fn type_and_attribute_definitions_carry_what_schema_driven_clients_read() {
    let sim = RallySim::start();
    let td = get(
        &sim,
        &format!(
            "/typedefinition?fetch=true&query={}",
            q("(ElementName = TestCaseResult)")
        ),
    );
    let td = &td["QueryResult"]["Results"][0];
    for f in [
        "IDPrefix",
        "Abstract",
        "Parent",
        "Ordinal",
        "ReadOnly",
        "Deletable",
    ] {
        assert!(td.get(f).is_some(), "TypeDefinition.{f} missing: {td}");
    }
    let attrs = get_url(
        &sim,
        &format!(
            "{}?fetch=true&pagesize=200",
            td["Attributes"]["_ref"].as_str().unwrap()
        ),
    )
    .json()
    .unwrap();
    let verdict = attrs["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ElementName"] == "Verdict")
        .unwrap()
        .clone();
    for f in [
        "SchemaType",
        "Constrained",
        "AllowedValueType",
        "MaxLength",
        "MaxFractionalDigits",
        "Required",
        "Custom",
    ] {
        assert!(
            verdict.get(f).is_some(),
            "AttributeDefinition.{f}: {verdict}"
        );
    }
    assert_eq!(verdict["Constrained"], true);
    // Allowed values without fetch still carry their text, as Rally's do.
    let values = get_url(&sim, verdict["AllowedValues"]["_ref"].as_str().unwrap())
        .json()
        .unwrap();
    let texts: Vec<&str> = values["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["StringValue"].as_str().unwrap())
        .collect();
    assert_eq!(texts, tmbridge_simulators::rally::VERDICTS);
}

#[test]
fn every_constrained_attribute_has_allowed_values_and_they_are_enforced() {
    let sim = RallySim::start();
    let attrs = get(
        &sim,
        &format!(
            "/attributedefinition?fetch=ElementName,Constrained,AllowedValues&pagesize=2000&query={}",
            q("(Constrained = true)")
        ),
    );
    let constrained = attrs["QueryResult"]["Results"].as_array().unwrap();
    assert!(constrained.len() >= 10, "{}", constrained.len());
    for a in constrained {
        assert!(
            a["AllowedValues"]["Count"].as_u64().unwrap() > 0,
            "{} has no allowed values",
            a["ElementName"]
        );
    }
    for (ty, body) in [
        (
            "testcase",
            json!({"TestCase": {"Name": "x", "Method": "Robot"}}),
        ),
        (
            "defect",
            json!({"Defect": {"Name": "x", "Severity": "Huge"}}),
        ),
        ("defect", json!({"Defect": {"Name": "x", "State": "Bogus"}})),
    ] {
        let r = send(&sim, &format!("/{ty}/create"), &body);
        let errs = errors_of(&r, "CreateResult");
        assert!(
            errs.iter().any(|e| e.contains("is not a valid value")),
            "{errs:?}"
        );
    }
    assert!(sim.ledger().is_empty());
}

#[test]
fn users_are_listed_under_users() {
    let sim = RallySim::start();
    let v = get(
        &sim,
        &format!(
            "/users?fetch=UserName,Disabled,UserProfile&query={}",
            q("((Disabled = true) OR (Disabled = false))")
        ),
    );
    assert_eq!(v["QueryResult"]["TotalResultCount"], 1, "{v}");
    assert_eq!(
        v["QueryResult"]["Results"][0]["UserName"],
        "tester@example.com"
    );
}

#[test]
fn date_times_without_a_time_zone_are_refused() {
    let sim = RallySim::start();
    let tc = sim.add_test_case("TC1", "One", None);
    for zoneless in [
        "2026-12-03T07:23:44",
        "2026-12-03T07:23:44.123456",
        "2026-12-03 07:23:44",
    ] {
        let r = send(&sim, "/testcaseresult/create", &result_body(&tc, zoneless));
        let errs = errors_of(&r, "CreateResult");
        assert!(
            errs.iter()
                .any(|e| e.contains("Cannot parse date") && e.contains("Date")),
            "{zoneless}: {errs:?}"
        );
    }
    assert!(sim.created("TestCaseResult").is_empty());
    for ok in [
        "2026-12-03T07:23:44Z",
        "2026-12-03T07:23:44.123+02:00",
        "2026-12-03",
    ] {
        let r = send(&sim, "/testcaseresult/create", &result_body(&tc, ok));
        assert_eq!(errors_of(&r, "CreateResult"), Vec::<String>::new(), "{ok}");
    }
    let stored: Vec<String> = sim.results().into_iter().map(|r| r.date).collect();
    assert!(
        stored.contains(&"2026-12-03T05:23:44.123Z".to_string()),
        "{stored:?}"
    );
}

#[test]
fn updates_are_validated_like_creates() {
    let sim = RallySim::start();
    let tc = sim.add_test_case("TC1", "One", None);
    let made = send(
        &sim,
        "/testcaseresult/create",
        &result_body(&tc, "2026-12-03T07:23:44Z"),
    );
    let result = short(&made["CreateResult"]["Object"]["_ref"]);
    for (body, word) in [
        (json!({"TestCaseResult": {"Verdict": "Bogus"}}), "Verdict"),
        (json!({"TestCaseResult": {"Build": null}}), "Build"),
        (
            json!({"TestCaseResult": {"Date": "2026-12-03T07:23:44"}}),
            "Date",
        ),
        (
            json!({"TestCaseResult": {"Build": "b".repeat(257)}}),
            "Build",
        ),
    ] {
        let r = send(&sim, &result, &body);
        let errs = errors_of(&r, "OperationResult");
        assert!(errs.iter().any(|e| e.contains(word)), "{body}: {errs:?}");
    }
    let r = send(&sim, &tc, &json!({"TestCase": {"Method": "Bogus"}}));
    assert!(!errors_of(&r, "OperationResult").is_empty());
    let now = sim.object(&result).unwrap();
    assert_eq!(now["Verdict"], "Pass");
    assert_eq!(now["Build"], "GitLab-7");
    assert_eq!(sim.object(&tc).unwrap()["Method"], "Automated");
}

#[test]
fn a_result_outside_its_test_set_is_refused_by_default() {
    let sim = RallySim::start();
    let member = sim.add_test_case("TC1", "In", None);
    let outsider = sim.add_test_case("TC2", "Out", None);
    let set = send(
        &sim,
        "/testset/create",
        &json!({"TestSet": {"Name": "Sprint-14"}}),
    );
    let set = short(&set["CreateResult"]["Object"]["_ref"]);
    send(
        &sim,
        &format!("{set}/TestCases/add"),
        &json!({"CollectionItems": [{"_ref": member}]}),
    );
    let mut body = result_body(&outsider, "2026-12-03T07:23:44Z");
    body["TestCaseResult"]["TestSet"] = json!(set);
    let errs = errors_of(&send(&sim, "/testcaseresult/create", &body), "CreateResult");
    assert!(
        errs.iter().any(|e| e.contains("is not in TestSet")),
        "{errs:?}"
    );
    body["TestCaseResult"]["TestCase"] = json!(member);
    let ok = send(&sim, "/testcaseresult/create", &body);
    assert_eq!(errors_of(&ok, "CreateResult"), Vec::<String>::new());
    // Moving the result to a test case outside the set is refused too.
    let result = short(&ok["CreateResult"]["Object"]["_ref"]);
    let moved = send(
        &sim,
        &result,
        &json!({"TestCaseResult": {"TestCase": outsider}}),
    );
    assert!(!errors_of(&moved, "OperationResult").is_empty());
    assert_eq!(sim.results().len(), 1);
}

#[test]
fn one_project_scoping_rule_for_query_create_read_and_update() {
    let sim = RallySim::start();
    let s = sim.seeded().clone();
    let hidden = sim.insert(
        "testcase",
        json!({"Name": "Ledger", "FormattedID": "TC50", "Project": s.restricted_project, "Workspace": s.workspace}),
    );
    let visible = sim.add_test_case("TC51", "Checkout", None);
    let read = get_url(&sim, &format!("{}{hidden}", sim.wsapi_url()));
    assert_eq!(read.status, 403, "{}", read.text());
    let project = get_url(
        &sim,
        &format!("{}{}", sim.wsapi_url(), s.restricted_project),
    );
    assert_eq!(project.status, 403);
    let listed = get(&sim, "/testcase?fetch=FormattedID");
    let ids: Vec<&str> = listed["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["FormattedID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["TC51"]);
    let projects = get(&sim, "/project?fetch=Name&pagesize=200");
    let names: Vec<&str> = projects["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"Finance"), "{names:?}");
    assert!(names.contains(&"Web Team"), "{names:?}");
    let ws_projects = get(&sim, &format!("{}/Projects?fetch=Name", s.workspace));
    assert!(!ws_projects.to_string().contains("Finance"));
    let update = request(
        "POST",
        &format!("{}{hidden}", sim.wsapi_url()),
        &[("ZSESSIONID", sim.api_key())],
        Some(br#"{"TestCase": {"Name": "Renamed"}}"#),
    )
    .unwrap();
    assert_eq!(update.status, 403);
    let moved = request(
        "POST",
        &format!("{}{visible}", sim.wsapi_url()),
        &[("ZSESSIONID", sim.api_key())],
        Some(
            serde_json::to_vec(&json!({"TestCase": {"Project": s.restricted_project}}))
                .unwrap()
                .as_slice(),
        ),
    )
    .unwrap();
    assert_eq!(moved.status, 403);
    let created = request(
        "POST",
        &format!("{}/testcase/create", sim.wsapi_url()),
        &[("ZSESSIONID", sim.api_key())],
        Some(
            serde_json::to_vec(
                &json!({"TestCase": {"Name": "x", "Project": s.restricted_project}}),
            )
            .unwrap()
            .as_slice(),
        ),
    )
    .unwrap();
    assert_eq!(created.status, 403);
    assert_eq!(sim.object(&hidden).unwrap()["Name"], "Ledger");
}

#[test]
fn queries_without_fetch_give_reference_stubs_and_collections_whole_items() {
    let sim = RallySim::start();
    let tc = sim.add_test_case("TC1", "Pays by card", None);
    let stub = get(&sim, "/testcase");
    let stub = &stub["QueryResult"]["Results"][0];
    for f in [
        "_ref",
        "_refObjectName",
        "_refObjectUUID",
        "_objectVersion",
        "_type",
    ] {
        assert!(!stub[f].is_null(), "stub.{f}: {stub}");
    }
    assert!(stub.get("Name").is_none());
    let set = send(&sim, "/testset/create", &json!({"TestSet": {"Name": "S"}}));
    let set = short(&set["CreateResult"]["Object"]["_ref"]);
    send(
        &sim,
        &format!("{set}/TestCases/add"),
        &json!({"CollectionItems": [{"_ref": tc}]}),
    );
    let members = get(&sim, &format!("{set}/TestCases"));
    let item = &members["QueryResult"]["Results"][0];
    assert_eq!(item["FormattedID"], "TC1", "{item}");
    assert_eq!(item["Name"], "Pays by card");
    assert!(!item["_refObjectUUID"].is_null());
}

#[test]
fn formatted_ids_compare_and_sort_by_number() {
    let sim = RallySim::start();
    for id in ["TC10", "TC2", "TC9", "TC100"] {
        sim.add_test_case(id, id, None);
    }
    let ids = |v: Value| -> Vec<String> {
        v["QueryResult"]["Results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["FormattedID"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(get(&sim, "/testcase?fetch=FormattedID&order=FormattedID")),
        vec!["TC2", "TC9", "TC10", "TC100"]
    );
    assert_eq!(
        ids(get(
            &sim,
            "/testcase?fetch=FormattedID&order=FormattedID%20desc"
        )),
        vec!["TC100", "TC10", "TC9", "TC2"]
    );
    assert_eq!(
        ids(get(
            &sim,
            &format!(
                "/testcase?fetch=FormattedID&order=FormattedID&query={}",
                q("(FormattedID > TC9)")
            )
        )),
        vec!["TC10", "TC100"]
    );
    assert_eq!(
        ids(get(
            &sim,
            &format!(
                "/testcase?fetch=FormattedID&query={}",
                q("(FormattedID <= TC9)")
            )
        )),
        vec!["TC2", "TC9"]
    );
}

#[test]
fn strings_longer_than_rally_allows_are_refused() {
    let sim = RallySim::start();
    let too_long = send(
        &sim,
        "/testcase/create",
        &json!({"TestCase": {"Name": "n".repeat(257)}}),
    );
    let errs = errors_of(&too_long, "CreateResult");
    assert!(
        errs.iter()
            .any(|e| e.contains("TestCase.Name") && e.contains("256")),
        "{errs:?}"
    );
    let fits = send(
        &sim,
        "/testcase/create",
        &json!({"TestCase": {"Name": "n".repeat(256), "Description": "d".repeat(32_768)}}),
    );
    assert_eq!(errors_of(&fits, "CreateResult"), Vec::<String>::new());
    let build = send(
        &sim,
        "/defect/create",
        &json!({"Defect": {"Name": "x", "FoundInBuild": "b".repeat(129)}}),
    );
    assert!(!errors_of(&build, "CreateResult").is_empty());
    assert_eq!(sim.created("TestCase").len(), 1);
    assert!(sim.created("Defect").is_empty());
}

#[test]
fn references_carry_the_scheme_and_host_the_client_used() {
    let sim = RallySim::start();
    sim.add_test_case("TC1", "One", None);
    let r = request(
        "GET",
        &format!("{}/testcase", sim.wsapi_url()),
        &[
            ("ZSESSIONID", sim.api_key()),
            ("X-Forwarded-Host", "localhost:8443"),
            ("X-Forwarded-Proto", "https"),
        ],
        None,
    )
    .unwrap()
    .json()
    .unwrap();
    let reference = r["QueryResult"]["Results"][0]["_ref"].as_str().unwrap();
    assert!(
        reference.starts_with("https://localhost:8443/slm/webservice/v2.0/testcase/"),
        "{reference}"
    );
}
