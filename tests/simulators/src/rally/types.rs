//! The Rally types the simulator knows, with their attributes. Names follow WSAPI
//! v2.0 (`ElementName`s); the path segment is the lower-case type name.

/// How an attribute is stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Decimal,
    Bool,
    /// ISO 8601, stored as `YYYY-MM-DDTHH:MM:SS.sssZ`.
    Date,
    /// A reference to one object of one of these types (lower-case path names).
    Ref(&'static [&'static str]),
    /// A collection of objects of a type. `Stored` collections keep their members on
    /// the owner (TestSet.TestCases); the others are the objects whose `inverse`
    /// attribute points at the owner.
    Collection {
        member: &'static str,
        inverse: Inverse,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inverse {
    Stored,
    /// Members whose attribute of this name refers to the owner.
    Field(&'static str),
    /// Members whose stored collection of this name holds the owner.
    InCollection(&'static str),
}

#[derive(Debug)]
pub struct TypeDef {
    /// Path segment: `testcaseresult`.
    pub key: &'static str,
    /// `_type`: `TestCaseResult`.
    pub name: &'static str,
    /// FormattedID prefix of artifacts.
    pub prefix: Option<&'static str>,
    pub fields: &'static [(&'static str, Kind)],
    pub required: &'static [&'static str],
    /// Clients may create it.
    pub creatable: bool,
    /// The abstract type it derives from (`TypeDefinition.Parent`).
    pub parent: &'static str,
}

const ARTIFACTS: &[&str] = &["hierarchicalrequirement", "defect", "testcase", "testset"];
const WORK_PRODUCTS: &[&str] = &["hierarchicalrequirement", "defect"];

/// Attributes every object has.
pub const COMMON: &[(&str, Kind)] = &[
    ("ObjectID", Kind::Int),
    ("ObjectUUID", Kind::Text),
    ("CreationDate", Kind::Date),
    ("LastUpdateDate", Kind::Date),
    ("VersionId", Kind::Text),
    ("Workspace", Kind::Ref(&["workspace"])),
];

const ATTACHMENTS: (&str, Kind) = (
    "Attachments",
    Kind::Collection {
        member: "attachment",
        inverse: Inverse::Field("Artifact"),
    },
);

pub static TYPES: &[TypeDef] = &[
    TypeDef {
        key: "subscription",
        name: "Subscription",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("SubscriptionID", Kind::Int),
            ("State", Kind::Text),
            (
                "Workspaces",
                Kind::Collection {
                    member: "workspace",
                    inverse: Inverse::Field("Subscription"),
                },
            ),
        ],
        required: &[],
        parent: "DomainObject",
        creatable: false,
    },
    TypeDef {
        key: "workspace",
        name: "Workspace",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("State", Kind::Text),
            ("Subscription", Kind::Ref(&["subscription"])),
            (
                "Projects",
                Kind::Collection {
                    member: "project",
                    inverse: Inverse::Field("Workspace"),
                },
            ),
        ],
        required: &["Name"],
        parent: "DomainObject",
        creatable: false,
    },
    TypeDef {
        key: "project",
        name: "Project",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("State", Kind::Text),
            ("Parent", Kind::Ref(&["project"])),
            (
                "Iterations",
                Kind::Collection {
                    member: "iteration",
                    inverse: Inverse::Field("Project"),
                },
            ),
            (
                "Releases",
                Kind::Collection {
                    member: "release",
                    inverse: Inverse::Field("Project"),
                },
            ),
        ],
        required: &["Name"],
        parent: "WorkspaceDomainObject",
        creatable: false,
    },
    TypeDef {
        key: "user",
        name: "User",
        prefix: None,
        fields: &[
            ("UserName", Kind::Text),
            ("EmailAddress", Kind::Text),
            ("DisplayName", Kind::Text),
            ("FirstName", Kind::Text),
            ("LastName", Kind::Text),
            ("Disabled", Kind::Bool),
            ("SubscriptionAdmin", Kind::Bool),
            ("UserProfile", Kind::Ref(&["userprofile"])),
        ],
        required: &["UserName"],
        parent: "DomainObject",
        creatable: false,
    },
    TypeDef {
        key: "userprofile",
        name: "UserProfile",
        prefix: None,
        fields: &[
            ("DefaultWorkspace", Kind::Ref(&["workspace"])),
            ("DefaultProject", Kind::Ref(&["project"])),
            ("TimeZone", Kind::Text),
            ("DateFormat", Kind::Text),
            ("DateTimeFormat", Kind::Text),
            ("EmailNotificationEnabled", Kind::Bool),
            ("SessionTimeoutSeconds", Kind::Int),
        ],
        required: &[],
        parent: "DomainObject",
        creatable: false,
    },
    TypeDef {
        key: "iteration",
        name: "Iteration",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("StartDate", Kind::Date),
            ("EndDate", Kind::Date),
            ("State", Kind::Text),
            ("Theme", Kind::Text),
            ("Project", Kind::Ref(&["project"])),
        ],
        required: &["Name", "StartDate", "EndDate"],
        parent: "WorkspaceDomainObject",
        creatable: true,
    },
    TypeDef {
        key: "release",
        name: "Release",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("ReleaseStartDate", Kind::Date),
            ("ReleaseDate", Kind::Date),
            ("State", Kind::Text),
            ("Project", Kind::Ref(&["project"])),
        ],
        required: &["Name", "ReleaseStartDate", "ReleaseDate"],
        parent: "WorkspaceDomainObject",
        creatable: true,
    },
    TypeDef {
        key: "hierarchicalrequirement",
        name: "HierarchicalRequirement",
        prefix: Some("US"),
        fields: &[
            ("FormattedID", Kind::Text),
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("Notes", Kind::Text),
            ("Owner", Kind::Ref(&["user"])),
            ("Project", Kind::Ref(&["project"])),
            ("Iteration", Kind::Ref(&["iteration"])),
            ("Release", Kind::Ref(&["release"])),
            ("ScheduleState", Kind::Text),
            ("PlanEstimate", Kind::Decimal),
            ("Parent", Kind::Ref(&["hierarchicalrequirement"])),
            (
                "TestCases",
                Kind::Collection {
                    member: "testcase",
                    inverse: Inverse::Field("WorkProduct"),
                },
            ),
            (
                "Defects",
                Kind::Collection {
                    member: "defect",
                    inverse: Inverse::Field("Requirement"),
                },
            ),
            ATTACHMENTS,
        ],
        required: &["Name"],
        parent: "Artifact",
        creatable: true,
    },
    TypeDef {
        key: "defect",
        name: "Defect",
        prefix: Some("DE"),
        fields: &[
            ("FormattedID", Kind::Text),
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("Notes", Kind::Text),
            ("Owner", Kind::Ref(&["user"])),
            ("Project", Kind::Ref(&["project"])),
            ("State", Kind::Text),
            ("Severity", Kind::Text),
            ("Priority", Kind::Text),
            ("Environment", Kind::Text),
            ("FoundInBuild", Kind::Text),
            ("SubmittedBy", Kind::Ref(&["user"])),
            ("TestCase", Kind::Ref(&["testcase"])),
            ("TestCaseResult", Kind::Ref(&["testcaseresult"])),
            ("Requirement", Kind::Ref(&["hierarchicalrequirement"])),
            ("Iteration", Kind::Ref(&["iteration"])),
            ("Release", Kind::Ref(&["release"])),
            ("ScheduleState", Kind::Text),
            (
                "TestCases",
                Kind::Collection {
                    member: "testcase",
                    inverse: Inverse::Field("WorkProduct"),
                },
            ),
            ATTACHMENTS,
        ],
        required: &["Name"],
        parent: "Artifact",
        creatable: true,
    },
    TypeDef {
        key: "testcase",
        name: "TestCase",
        prefix: Some("TC"),
        fields: &[
            ("FormattedID", Kind::Text),
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("Notes", Kind::Text),
            ("Owner", Kind::Ref(&["user"])),
            ("Project", Kind::Ref(&["project"])),
            ("Type", Kind::Text),
            ("Method", Kind::Text),
            ("Priority", Kind::Text),
            ("Objective", Kind::Text),
            ("PreConditions", Kind::Text),
            ("ValidationInput", Kind::Text),
            ("ValidationExpectedResult", Kind::Text),
            ("WorkProduct", Kind::Ref(WORK_PRODUCTS)),
            ("LastVerdict", Kind::Text),
            ("LastBuild", Kind::Text),
            ("LastRun", Kind::Date),
            (
                "Results",
                Kind::Collection {
                    member: "testcaseresult",
                    inverse: Inverse::Field("TestCase"),
                },
            ),
            (
                "TestSets",
                Kind::Collection {
                    member: "testset",
                    inverse: Inverse::InCollection("TestCases"),
                },
            ),
            ATTACHMENTS,
        ],
        required: &["Name"],
        parent: "Artifact",
        creatable: true,
    },
    TypeDef {
        key: "testset",
        name: "TestSet",
        prefix: Some("TS"),
        fields: &[
            ("FormattedID", Kind::Text),
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("Notes", Kind::Text),
            ("Owner", Kind::Ref(&["user"])),
            ("Project", Kind::Ref(&["project"])),
            ("Iteration", Kind::Ref(&["iteration"])),
            ("Release", Kind::Ref(&["release"])),
            ("ScheduleState", Kind::Text),
            (
                "TestCases",
                Kind::Collection {
                    member: "testcase",
                    inverse: Inverse::Stored,
                },
            ),
            ATTACHMENTS,
        ],
        required: &["Name"],
        parent: "Artifact",
        creatable: true,
    },
    TypeDef {
        key: "testcaseresult",
        name: "TestCaseResult",
        prefix: None,
        fields: &[
            ("TestCase", Kind::Ref(&["testcase"])),
            ("Build", Kind::Text),
            ("Date", Kind::Date),
            ("Verdict", Kind::Text),
            ("Duration", Kind::Decimal),
            ("Notes", Kind::Text),
            ("Tester", Kind::Ref(&["user"])),
            ("TestSet", Kind::Ref(&["testset"])),
            (
                "Attachments",
                Kind::Collection {
                    member: "attachment",
                    inverse: Inverse::Field("TestCaseResult"),
                },
            ),
        ],
        required: &["TestCase", "Build", "Date", "Verdict"],
        parent: "WorkspaceDomainObject",
        creatable: true,
    },
    TypeDef {
        key: "attachmentcontent",
        name: "AttachmentContent",
        prefix: None,
        fields: &[
            ("Content", Kind::Text),
            ("Attachment", Kind::Ref(&["attachment"])),
        ],
        required: &["Content"],
        parent: "WorkspaceDomainObject",
        creatable: true,
    },
    TypeDef {
        key: "attachment",
        name: "Attachment",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("Description", Kind::Text),
            ("Content", Kind::Ref(&["attachmentcontent"])),
            ("ContentType", Kind::Text),
            ("Size", Kind::Int),
            ("Artifact", Kind::Ref(ARTIFACTS)),
            ("TestCaseResult", Kind::Ref(&["testcaseresult"])),
            ("User", Kind::Ref(&["user"])),
        ],
        required: &["Name", "Content", "ContentType", "Size"],
        parent: "WorkspaceDomainObject",
        creatable: true,
    },
    TypeDef {
        key: "typedefinition",
        name: "TypeDefinition",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("ElementName", Kind::Text),
            ("DisplayName", Kind::Text),
            ("TypePath", Kind::Text),
            ("IDPrefix", Kind::Text),
            ("Abstract", Kind::Bool),
            ("Parent", Kind::Ref(&["typedefinition"])),
            ("Ordinal", Kind::Int),
            ("Creatable", Kind::Bool),
            ("Queryable", Kind::Bool),
            ("ReadOnly", Kind::Bool),
            ("Deletable", Kind::Bool),
            ("Restorable", Kind::Bool),
            // A ref to the type's revision history in Rally; not simulated (null).
            ("RevisionHistory", Kind::Text),
            (
                "Attributes",
                Kind::Collection {
                    member: "attributedefinition",
                    inverse: Inverse::Field("TypeDefinition"),
                },
            ),
        ],
        required: &["Name"],
        parent: "WorkspaceDomainObject",
        creatable: false,
    },
    TypeDef {
        key: "attributedefinition",
        name: "AttributeDefinition",
        prefix: None,
        fields: &[
            ("Name", Kind::Text),
            ("ElementName", Kind::Text),
            ("AttributeType", Kind::Text),
            ("Custom", Kind::Bool),
            ("Required", Kind::Bool),
            ("ReadOnly", Kind::Bool),
            ("Hidden", Kind::Bool),
            ("Filterable", Kind::Bool),
            ("Sortable", Kind::Bool),
            ("SystemRequired", Kind::Bool),
            ("VisibleOnlyToAdmins", Kind::Bool),
            ("Note", Kind::Text),
            ("SchemaType", Kind::Text),
            ("RealAttributeType", Kind::Text),
            ("Constrained", Kind::Bool),
            ("AllowedValueType", Kind::Ref(&["typedefinition"])),
            ("MaxLength", Kind::Int),
            ("MaxFractionalDigits", Kind::Int),
            ("TypeDefinition", Kind::Ref(&["typedefinition"])),
            (
                "AllowedValues",
                Kind::Collection {
                    member: "allowedattributevalue",
                    inverse: Inverse::Field("AttributeDefinition"),
                },
            ),
        ],
        required: &["Name"],
        parent: "WorkspaceDomainObject",
        creatable: false,
    },
    TypeDef {
        key: "allowedattributevalue",
        name: "AllowedAttributeValue",
        prefix: None,
        fields: &[
            ("StringValue", Kind::Text),
            ("LocalizedStringValue", Kind::Text),
            ("ValueIndex", Kind::Int),
            ("AttributeDefinition", Kind::Ref(&["attributedefinition"])),
        ],
        required: &[],
        parent: "WorkspaceDomainObject",
        creatable: false,
    },
];

/// The type of a path segment, case-insensitively (`TestCaseResult`, `testcaseresult`).
pub fn type_def(segment: &str) -> Option<&'static TypeDef> {
    let s = segment.to_ascii_lowercase();
    let s = s.strip_suffix(".js").unwrap_or(&s);
    TYPES.iter().find(|t| t.key == s)
}

impl TypeDef {
    /// The attribute of this name (exact or case-insensitive ElementName).
    pub fn field(&self, name: &str) -> Option<(&'static str, Kind)> {
        COMMON
            .iter()
            .chain(self.fields.iter())
            .find(|(n, _)| *n == name)
            .or_else(|| {
                COMMON
                    .iter()
                    .chain(self.fields.iter())
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .copied()
    }

    pub fn all_fields(&self) -> impl Iterator<Item = &'static (&'static str, Kind)> {
        COMMON.iter().chain(self.fields.iter())
    }

    /// Artifacts live in a project.
    pub fn has_project(&self) -> bool {
        self.fields.iter().any(|(n, _)| *n == "Project")
    }
}

/// Verdicts a TestCaseResult may have (the AllowedValues of a default workspace).
pub const VERDICTS: &[&str] = &["Blocked", "Error", "Fail", "Inconclusive", "Pass"];

const SCHEDULE_STATES: &[&str] = &["Defined", "In-Progress", "Completed", "Accepted"];
const OPEN_CLOSED: &[&str] = &["Open", "Closed"];

/// The values a constrained attribute takes in a new workspace (its `AllowedValues`);
/// `None` for an unconstrained attribute. An empty string is Rally's "None" entry,
/// offered where the attribute is not required.
pub fn allowed_values(type_key: &str, field: &str) -> Option<&'static [&'static str]> {
    Some(match (type_key, field) {
        ("testcaseresult", "Verdict") => VERDICTS,
        ("testcase", "LastVerdict") => VERDICTS,
        ("testcase", "Type") => &[
            "Acceptance",
            "Functional",
            "Non-Functional",
            "Performance",
            "Regression",
            "Usability",
            "User Interface",
        ],
        ("testcase", "Method") => &["Automated", "Manual"],
        ("testcase", "Priority") => &["None", "Useful", "Important", "Critical"],
        ("defect", "State") => &["Submitted", "Open", "Fixed", "Closed"],
        ("defect", "Severity") => &[
            "None",
            "Crash/Data Loss",
            "Major Problem",
            "Minor Problem",
            "Cosmetic",
        ],
        ("defect", "Priority") => &[
            "None",
            "Resolve Immediately",
            "High Attention",
            "Normal",
            "Low",
        ],
        ("defect", "Environment") => &["None", "Development", "Test", "Production"],
        ("hierarchicalrequirement" | "defect" | "testset", "ScheduleState") => SCHEDULE_STATES,
        ("iteration", "State") => &["Planning", "Committed", "Accepted"],
        ("release", "State") => &["Planning", "Active", "Accepted"],
        ("workspace" | "project" | "subscription", "State") => OPEN_CLOSED,
        _ => return None,
    })
}

/// Rally's `MaxLength` of a text attribute (as its schema reports it): rich text
/// holds 32 KB, names and other strings 256 characters, short constrained strings
/// and builds 128 (Defect.FoundInBuild in Rally's schema). `None` for no limit.
pub fn max_length(type_key: &str, field: &str, kind: Kind) -> Option<usize> {
    if kind != Kind::Text {
        return None;
    }
    match (type_key, field) {
        ("attachmentcontent", "Content") => None,
        (_, "Description" | "Notes" | "Objective" | "PreConditions" | "ValidationInput")
        | (_, "ValidationExpectedResult" | "Note") => Some(32_768),
        (_, "FoundInBuild" | "FixedInBuild" | "TargetBuild" | "VerifiedInBuild") => Some(128),
        _ if allowed_values(type_key, field).is_some() => Some(128),
        ("attachment", "ContentType") => Some(128),
        ("user" | "userprofile", _) | ("typedefinition" | "attributedefinition", _) => None,
        _ => Some(256),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_names_a_known_type() {
        for t in TYPES {
            for (name, kind) in t.all_fields() {
                match kind {
                    Kind::Ref(targets) => {
                        for target in *targets {
                            assert!(type_def(target).is_some(), "{}.{name}", t.name);
                        }
                    }
                    Kind::Collection { member, inverse } => {
                        let m = type_def(member).unwrap();
                        if let Inverse::Field(f) = inverse {
                            assert!(m.field(f).is_some(), "{}.{name} → {}.{f}", t.name, m.name);
                        }
                    }
                    _ => {}
                }
            }
            for r in t.required {
                assert!(t.field(r).is_some(), "{}.{r}", t.name);
            }
        }
        assert_eq!(type_def("TestCaseResult").unwrap().name, "TestCaseResult");
        assert_eq!(type_def("testcase.js").unwrap().key, "testcase");
    }
}
