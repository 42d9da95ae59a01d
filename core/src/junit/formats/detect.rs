//! Which format a document is, from its content.

/// An XML result format other than JUnit that tmbridge reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Nunit3,
    Nunit2,
    Xunit2,
    Trx,
    Robot,
}

/// The format of a root element, from its local name and namespaces.
pub(crate) fn xml_format(local_name: &str, namespaces: &[String]) -> Option<Format> {
    let allure = namespaces.iter().any(|n| n.contains("allure"));
    match local_name {
        "test-run" => Some(Format::Nunit3),
        // A lone NUnit 3 `<test-suite>` (written by the NUnit 3 adapter); Allure 1's
        // files have the same root name but their own namespace.
        "test-suite" if !allure => Some(Format::Nunit3),
        // Allure 1 also uses <test-suite>-like names, but never these roots.
        "test-results" if !allure => Some(Format::Nunit2),
        "assemblies" | "assembly" => Some(Format::Xunit2),
        // TRX is the one with this namespace; a <TestRun> without it is still the
        // same shape (older tools omit it), so the name decides.
        "TestRun" => Some(Format::Trx),
        "robot" => Some(Format::Robot),
        _ => None,
    }
}

/// True when a document starting with this byte (after blanks) is JSON, so Cucumber JSON.
pub(crate) fn starts_json(first: u8) -> bool {
    first == b'[' || first == b'{'
}
