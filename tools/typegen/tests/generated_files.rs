//! The committed binding types are what the core's schemas generate today: a
//! change to a type of the core without `cargo run -p tmbridge-typegen` fails here.

use std::path::Path;

#[test]
fn generated_files_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stale = Vec::new();
    for file in tmbridge_typegen::generate() {
        let committed = std::fs::read_to_string(root.join(file.path)).unwrap_or_default();
        if committed != file.text {
            stale.push(file.path);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {}; run `cargo run -p tmbridge-typegen` and commit the result",
        stale.join(", ")
    );
}

#[test]
fn every_session_kind_has_a_generated_input() {
    let surface = tmbridge_typegen::Surface::read();
    let kinds: Vec<String> = tmbridge_core::session::kind_list()
        .into_iter()
        .map(|k| k.name)
        .collect();
    let generated: Vec<String> = surface.sessions.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        generated, kinds,
        "each target folder lists its kinds' input types in `input_schemas`"
    );
}

#[test]
fn every_op_has_generated_shapes() {
    let surface = tmbridge_typegen::Surface::read();
    let ops: Vec<String> = tmbridge_core::ops::list_ops()
        .into_iter()
        .map(|o| o.name)
        .collect();
    let generated: Vec<String> = surface.ops.iter().map(|o| o.name.clone()).collect();
    assert_eq!(generated, ops);
    assert!(surface.decls.len() > 100, "the shapes were read");
}
