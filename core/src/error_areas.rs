//! The areas of error codes (the part of a code before the first dot) and the
//! error class each binding raises for them. The bindings' exception tables are
//! generated from this list, so a new area is added here once.

use serde::Serialize;

/// One error class of the bindings and the areas it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorClass {
    /// The class name in Python and JavaScript, e.g. `JunitError`.
    pub name: &'static str,
    /// The code areas raised as this class, e.g. `["junit"]`.
    pub areas: &'static [&'static str],
    /// What went wrong, for the class's documentation.
    pub doc: &'static str,
}

/// Every error class, in the order the bindings declare them. Codes of an area not
/// listed here are raised as the base class.
pub const ERROR_CLASSES: &[ErrorClass] = &[
    ErrorClass {
        name: "InputError",
        areas: &["ops"],
        doc: "The input of an op was not understood: bad shape, bad JSON, unknown op.",
    },
    ErrorClass {
        name: "JunitError",
        areas: &[
            "junit", "nunit", "xunit", "trx", "robot", "cucumber", "allure",
        ],
        doc: "A test report could not be read.",
    },
    ErrorClass {
        name: "RallyQueryError",
        areas: &["rally_query"],
        doc: "A Rally query was refused.",
    },
    ErrorClass {
        name: "AutofillError",
        areas: &["autofill"],
        doc: "Defect auto-fill failed.",
    },
    ErrorClass {
        name: "ConfigError",
        areas: &[
            "config", "status", "matching", "template", "context", "scope",
        ],
        doc: "A configuration, status map, matching rule, template, scope or run context is wrong.",
    },
    ErrorClass {
        name: "RallyError",
        areas: &["rally"],
        doc: "Rally refused a request or a Rally payload could not be built.",
    },
    ErrorClass {
        name: "QtestError",
        areas: &["qtest"],
        doc: "qTest refused a request or a qTest payload could not be built.",
    },
    ErrorClass {
        name: "TestrailError",
        areas: &["testrail"],
        doc: "TestRail refused a request or a TestRail payload could not be built.",
    },
    ErrorClass {
        name: "BridgeError",
        areas: &["bridge"],
        doc: "The qTest-Rally bridge could not go on: a story it cannot import, a configured requirement field qTest does not have.",
    },
    ErrorClass {
        name: "GitlabError",
        areas: &["gitlab"],
        doc: "A GitLab webhook, pipeline or artifact could not be read.",
    },
    ErrorClass {
        name: "SessionError",
        areas: &["session", "sync"],
        doc: "A session could not start, resume or take what the host gave it: an unknown kind, no credentials, saved progress from another version, an answer to a request that was not asked.",
    },
];

/// The class for a code, by its area; `None` for the base class.
pub fn class_for(code: &str) -> Option<&'static ErrorClass> {
    let area = code.split('.').next().unwrap_or_default();
    ERROR_CLASSES.iter().find(|c| c.areas.contains(&area))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_area_belongs_to_one_class() {
        let mut seen = std::collections::BTreeSet::new();
        for class in ERROR_CLASSES {
            for area in class.areas {
                assert!(seen.insert(*area), "area {area} is listed twice");
            }
        }
        assert_eq!(
            class_for("junit.malformed_xml").map(|c| c.name),
            Some("JunitError")
        );
        assert_eq!(class_for("nothing.at_all"), None);
    }
}
