//! Field names: Rally's attribute metadata as the host downloaded it, the standard
//! fields that work without it, and the resolver that turns what a person wrote
//! (`Creation Date`, `creationdate`, `Kanban`) into the system name Rally wants
//! (`CreationDate`, `c_Kanban`).

use super::ast::Operator;
use crate::error::{Error, Location, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

/// Rally's attribute types (`AttributeType` in the metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FieldType {
    Date,
    Integer,
    Quantity,
    Decimal,
    Boolean,
    String,
    Text,
    Rating,
    State,
    Object,
    Collection,
    WebLink,
    Other,
}

impl FieldType {
    pub fn from_rally(attribute_type: &str) -> FieldType {
        match attribute_type.to_ascii_uppercase().as_str() {
            "DATE" => FieldType::Date,
            "INTEGER" => FieldType::Integer,
            "QUANTITY" => FieldType::Quantity,
            "DECIMAL" => FieldType::Decimal,
            "BOOLEAN" => FieldType::Boolean,
            "STRING" => FieldType::String,
            "TEXT" => FieldType::Text,
            "RATING" => FieldType::Rating,
            "STATE" => FieldType::State,
            "OBJECT" => FieldType::Object,
            "COLLECTION" => FieldType::Collection,
            "WEB_LINK" => FieldType::WebLink,
            _ => FieldType::Other,
        }
    }

    pub fn is_number(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Quantity | FieldType::Decimal
        )
    }

    /// Operators Rally takes on this type, following the `AllowedQueryOperators` its
    /// metadata lists per type. `in`/`!in` and `between`/`!between` came with WSAPI
    /// v2.0 and are missing from older metadata: they are refused only where the
    /// type takes no list or range at all (long text, booleans, collections, objects'
    /// ranges), so that tmbridge never refuses what Rally might accept.
    pub fn allows(self, op: Operator) -> bool {
        use Operator::*;
        match self {
            FieldType::Date | FieldType::Integer | FieldType::Quantity | FieldType::Decimal => {
                !matches!(op, Contains | NotContains)
            }
            FieldType::Boolean => matches!(op, Eq | Ne),
            FieldType::Text => matches!(op, Contains | NotContains),
            FieldType::Object => matches!(op, Eq | Ne | In | NotIn),
            FieldType::Collection => matches!(op, Contains | NotContains),
            FieldType::String
            | FieldType::Rating
            | FieldType::State
            | FieldType::WebLink
            | FieldType::Other => true,
        }
    }

    /// The operators of [`FieldType::allows`], as Rally spells them.
    pub fn allowed_list(self) -> String {
        Operator::ALL
            .into_iter()
            .filter(|op| self.allows(*op))
            .map(Operator::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One attribute of a Rally type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyFieldDef")
)]
pub struct FieldDef {
    /// Display name, e.g. `Creation Date`.
    pub name: String,
    /// `ElementName`, e.g. `CreationDate`; custom fields may lack the `c_` prefix in
    /// metadata older than WSAPI v2.0.
    pub element_name: String,
    pub attribute_type: FieldType,
    pub custom: bool,
    /// `AllowedQueryOperators`, when the metadata lists them inline.
    pub allowed_operators: Vec<String>,
}

impl FieldDef {
    /// The name WSAPI v2.0 queries use: custom fields carry `c_`.
    pub fn system_name(&self) -> String {
        if self.custom && !self.element_name.starts_with("c_") {
            format!("c_{}", self.element_name)
        } else {
            self.element_name.clone()
        }
    }
}

/// The attributes of one Rally type, as the host supplied them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldList {
    pub fields: Vec<FieldDef>,
}

/// Written as an array of [`FieldDef`]; read from that or from Rally's metadata JSON.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for FieldList {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldList".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let fields = g.subschema_for::<Vec<FieldDef>>();
        schemars::json_schema!({
            "description": "Attribute definitions, or the JSON Rally returns for a type's attributes.",
            "anyOf": [fields, {"type": "object"}]
        })
    }
}

impl Serialize for FieldList {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.fields.serialize(s)
    }
}

/// Accepts Rally's shapes (a `QueryResult` envelope, its `Results`, a
/// `TypeDefinition` with inline `Attributes`, a bare array of attribute definitions)
/// and this crate's own serialised form (an array of [`FieldDef`]).
impl<'de> Deserialize<'de> for FieldList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let json = Json::deserialize(d)?;
        FieldList::from_json(&json).map_err(serde::de::Error::custom)
    }
}

impl FieldList {
    /// Reads attribute metadata from JSON bytes (see the `Deserialize` impl for the
    /// shapes accepted).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<FieldList> {
        let json: Json = crate::json::from_slice(bytes).map_err(|e| {
            let loc = location_of(bytes, e.line(), e.column());
            Error::new(
                "rally_query.invalid_fields",
                format!("the field list is not valid JSON: {e}"),
            )
            .at(loc)
            .with_hint("pass the JSON Rally returns for /typedefinition?query=(Name = \"Defect\")&fetch=Attributes, or for a type's Attributes collection")
        })?;
        FieldList::from_json(&json)
    }

    pub fn from_json(json: &Json) -> Result<FieldList> {
        let mut fields = Vec::new();
        collect(json, &mut fields, 0)?;
        if fields.is_empty() {
            return Err(Error::new(
                "rally_query.invalid_fields",
                "the field list holds no attribute definitions",
            )
            .with_hint("fetch the type definition with fetch=Attributes (or its Attributes collection) and pass that JSON"));
        }
        Ok(FieldList { fields })
    }
}

/// Byte offset of serde_json's (line, column) position.
fn location_of(bytes: &[u8], line: usize, column: usize) -> Location {
    let mut offset = 0;
    let mut current = 1;
    for (i, b) in bytes.iter().enumerate() {
        if current == line {
            offset = i;
            break;
        }
        if *b == b'\n' {
            current += 1;
            offset = i + 1;
        }
    }
    Location::in_text(bytes, offset.saturating_add(column.saturating_sub(1)))
}

fn field_of<'a>(
    obj: &'a serde_json::Map<String, Json>,
    rally: &str,
    ours: &str,
) -> Option<&'a Json> {
    obj.get(rally).or_else(|| obj.get(ours))
}

fn collect(json: &Json, out: &mut Vec<FieldDef>, depth: usize) -> Result<()> {
    if depth > 8 {
        return Ok(());
    }
    match json {
        Json::Array(items) => {
            for item in items {
                collect(item, out, depth + 1)?;
            }
            Ok(())
        }
        Json::Object(obj) => {
            if let Some(inner) = obj.get("QueryResult").or_else(|| obj.get("TypeDefinition")) {
                if let Some(Json::Array(errors)) = inner.get("Errors") {
                    let messages: Vec<&str> = errors.iter().filter_map(Json::as_str).collect();
                    if !messages.is_empty() {
                        return Err(Error::new(
                            "rally_query.invalid_fields",
                            format!(
                                "the field list is a Rally error response: {}",
                                messages.join("; ")
                            ),
                        ));
                    }
                }
                return collect(inner, out, depth + 1);
            }
            if let Some(results) = obj.get("Results") {
                return collect(results, out, depth + 1);
            }
            match obj.get("Attributes") {
                Some(Json::Array(attrs)) => {
                    return collect(&Json::Array(attrs.clone()), out, depth + 1);
                }
                Some(Json::Object(stub)) => {
                    let href = stub
                        .get("_ref")
                        .and_then(Json::as_str)
                        .unwrap_or("the Attributes collection");
                    return Err(Error::new(
                        "rally_query.invalid_fields",
                        "the type definition lists its attributes only as a reference",
                    )
                    .with_hint(format!(
                        "fetch {href} (with pagesize=200) and pass that JSON"
                    )));
                }
                _ => {}
            }
            if let Some(def) = attribute(obj) {
                out.push(def);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// One attribute definition, in Rally's spelling or ours.
fn attribute(obj: &serde_json::Map<String, Json>) -> Option<FieldDef> {
    let element = field_of(obj, "ElementName", "element_name")?
        .as_str()?
        .to_string();
    let name = field_of(obj, "Name", "name")
        .and_then(Json::as_str)
        .unwrap_or(&element)
        .to_string();
    let attribute_type = match field_of(obj, "AttributeType", "attribute_type") {
        Some(Json::String(s)) => {
            // Ours is snake_case (`web_link`), Rally's upper case (`WEB_LINK`).
            FieldType::from_rally(s)
        }
        _ => FieldType::Other,
    };
    let custom = field_of(obj, "Custom", "custom")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let allowed_operators = match field_of(obj, "AllowedQueryOperators", "allowed_operators") {
        Some(Json::Array(ops)) => ops
            .iter()
            .filter_map(|op| match op {
                Json::String(s) => Some(s.clone()),
                Json::Object(o) => o
                    .get("OperatorName")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(FieldDef {
        name,
        element_name: element,
        attribute_type,
        custom,
        allowed_operators,
    })
}

/// Fields every Rally workspace has (artifacts, their parents and children), with
/// their types. Enough to normalise display names and dates without metadata.
const STANDARD: &[(&str, FieldType)] = &[
    ("AcceptedDate", FieldType::Date),
    ("ActualEndDate", FieldType::Date),
    ("ActualStartDate", FieldType::Date),
    ("Actuals", FieldType::Quantity),
    ("AffectsDoc", FieldType::Boolean),
    ("Attachments", FieldType::Collection),
    ("Blocked", FieldType::Boolean),
    ("BlockedReason", FieldType::String),
    ("Build", FieldType::String),
    ("Changesets", FieldType::Collection),
    ("Children", FieldType::Collection),
    ("ClosedDate", FieldType::Date),
    ("CreationDate", FieldType::Date),
    ("Date", FieldType::Date),
    ("Defects", FieldType::Collection),
    ("Description", FieldType::Text),
    ("DirectChildrenCount", FieldType::Integer),
    ("DisplayColor", FieldType::String),
    ("DisplayName", FieldType::String),
    ("Duplicates", FieldType::Collection),
    ("Duration", FieldType::Quantity),
    ("EmailAddress", FieldType::String),
    ("EndDate", FieldType::Date),
    ("Environment", FieldType::Rating),
    ("Estimate", FieldType::Quantity),
    ("Expedite", FieldType::Boolean),
    ("Feature", FieldType::Object),
    ("FirstName", FieldType::String),
    ("FixedInBuild", FieldType::String),
    ("FormattedID", FieldType::String),
    ("FoundInBuild", FieldType::String),
    ("InProgressDate", FieldType::Date),
    ("Iteration", FieldType::Object),
    ("LastName", FieldType::String),
    ("LastRun", FieldType::Date),
    ("LastUpdateDate", FieldType::Date),
    ("LastVerdict", FieldType::String),
    ("Method", FieldType::String),
    ("Milestones", FieldType::Collection),
    ("Name", FieldType::String),
    ("Notes", FieldType::Text),
    ("ObjectID", FieldType::Integer),
    ("Objective", FieldType::Text),
    ("OpenedDate", FieldType::Date),
    ("Owner", FieldType::Object),
    ("Package", FieldType::String),
    ("Parent", FieldType::Object),
    ("PlanEstimate", FieldType::Quantity),
    ("PlannedEndDate", FieldType::Date),
    ("PlannedStartDate", FieldType::Date),
    ("PortfolioItem", FieldType::Object),
    ("PostConditions", FieldType::Text),
    ("PreConditions", FieldType::Text),
    ("Predecessors", FieldType::Collection),
    ("Priority", FieldType::Rating),
    ("Project", FieldType::Object),
    ("Ready", FieldType::Boolean),
    ("Recycled", FieldType::Boolean),
    ("Release", FieldType::Object),
    ("ReleaseDate", FieldType::Date),
    ("ReleaseNote", FieldType::Boolean),
    ("ReleaseStartDate", FieldType::Date),
    ("Requirement", FieldType::Object),
    ("Resolution", FieldType::Rating),
    ("Results", FieldType::Collection),
    ("ScheduleState", FieldType::State),
    ("Severity", FieldType::Rating),
    ("StartDate", FieldType::Date),
    ("State", FieldType::Other),
    ("Steps", FieldType::Collection),
    ("SubmittedBy", FieldType::Object),
    ("Successors", FieldType::Collection),
    ("Tags", FieldType::Collection),
    ("TargetBuild", FieldType::String),
    ("TargetDate", FieldType::Date),
    ("TaskActualTotal", FieldType::Quantity),
    ("TaskEstimateTotal", FieldType::Quantity),
    ("TaskRemainingTotal", FieldType::Quantity),
    ("TaskStatus", FieldType::String),
    ("Tasks", FieldType::Collection),
    ("TestCase", FieldType::Object),
    ("TestCaseResult", FieldType::Object),
    ("TestCaseStatus", FieldType::String),
    ("TestCases", FieldType::Collection),
    ("TestFolder", FieldType::Object),
    ("TestSet", FieldType::Object),
    ("TestSets", FieldType::Collection),
    ("Tester", FieldType::Object),
    ("ToDo", FieldType::Quantity),
    ("Type", FieldType::String),
    ("UserName", FieldType::String),
    ("Verdict", FieldType::String),
    ("VerifiedInBuild", FieldType::String),
    ("WorkProduct", FieldType::Object),
    ("Workspace", FieldType::Object),
];

/// Display names that do not follow the "drop the spaces" rule.
const ALIASES: &[(&str, &str)] = &[("id", "FormattedID"), ("oid", "ObjectID")];

/// Lower-case letters and digits only: how names are compared when spelling is off.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The standard field `name` (exact spelling), with its type.
pub fn standard(name: &str) -> Option<FieldType> {
    STANDARD.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn standard_by_key(key: &str) -> Option<&'static str> {
    STANDARD
        .iter()
        .map(|(n, _)| *n)
        .find(|n| name_key(n) == key)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == key).map(|(_, n)| *n))
}

/// How a name was turned into Rally's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Exact,
    DisplayName,
    Case,
    CustomPrefix,
    /// No field list: spaces and punctuation dropped, as Rally builds ElementNames.
    Guessed,
}

/// A resolved field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `CreationDate`, `Release.Name`, `c_Kanban`.
    pub path: String,
    /// How the first segment was resolved; `None` if unknown.
    pub how: Option<How>,
    /// Type of what the path points at, when known.
    pub field_type: Option<FieldType>,
    /// `AllowedQueryOperators` of the field from the metadata (single segment only).
    pub allowed_operators: Vec<String>,
    /// For an unknown field: the closest known name.
    pub suggestion: Option<String>,
}

/// Resolves field names against the host's field list, or the standard fields.
pub struct Resolver<'a> {
    list: Option<&'a FieldList>,
}

impl<'a> Resolver<'a> {
    pub fn new(list: Option<&'a FieldList>) -> Resolver<'a> {
        Resolver { list }
    }

    /// Resolves `Creation Date`, `release.name`, `Kanban`, `c_Kanban`, `Iteration.Start Date`.
    pub fn resolve(&self, field: &str) -> Resolved {
        let segments: Vec<&str> = field.split('.').map(str::trim).collect();
        let first = segments.first().copied().unwrap_or_default();
        let (head, how, def_type, allowed, suggestion) = match self.list {
            Some(list) => match find_in_list(list, first) {
                Some((def, how)) => (
                    def.system_name(),
                    Some(how),
                    Some(def.attribute_type),
                    def.allowed_operators.clone(),
                    None,
                ),
                None => (
                    first.to_string(),
                    None,
                    None,
                    Vec::new(),
                    suggest(list, first),
                ),
            },
            None => {
                let (name, how) = resolve_standard(first);
                let field_type = standard(&name);
                (name, Some(how), field_type, Vec::new(), None)
            }
        };
        let mut path = head;
        for seg in segments.iter().skip(1) {
            path.push('.');
            path.push_str(&child_name(seg));
        }
        let field_type = if segments.len() > 1 {
            segments
                .last()
                .and_then(|last| standard(&child_name(last)))
                .filter(|t| *t != FieldType::Other)
        } else {
            def_type.filter(|t| *t != FieldType::Other)
        };
        Resolved {
            path,
            how,
            field_type,
            allowed_operators: if segments.len() > 1 {
                Vec::new()
            } else {
                allowed
            },
            suggestion,
        }
    }

    /// A system name of this list (or of the standard fields) with the type given,
    /// written exactly: used to spot a value that names another field.
    pub fn field_type_of_name(&self, name: &str) -> Option<FieldType> {
        match self.list {
            Some(list) => list
                .fields
                .iter()
                .find(|d| d.system_name() == name || d.element_name == name)
                .map(|d| d.attribute_type)
                .or_else(|| standard(name)),
            None => standard(name),
        }
    }
}

/// A later path segment (`Name`, `UserName`, `Start Date`): spelling fixed against
/// the standard fields, otherwise spaces dropped.
fn child_name(seg: &str) -> String {
    if standard(seg).is_some() {
        return seg.to_string();
    }
    standard_by_key(&name_key(seg))
        .map(str::to_string)
        .unwrap_or_else(|| strip_to_element_name(seg))
}

/// What Rally does to a display name to make an ElementName: keep letters, digits
/// and underscores.
fn strip_to_element_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn resolve_standard(first: &str) -> (String, How) {
    if standard(first).is_some() || first.starts_with("c_") {
        return (first.to_string(), How::Exact);
    }
    if let Some(name) = standard_by_key(&name_key(first)) {
        let how =
            if first.contains(|c: char| !c.is_alphanumeric()) || first.eq_ignore_ascii_case("id") {
                How::DisplayName
            } else {
                How::Case
            };
        return (name.to_string(), how);
    }
    let stripped = strip_to_element_name(first);
    if stripped != first {
        (stripped, How::Guessed)
    } else {
        (first.to_string(), How::Exact)
    }
}

fn find_in_list<'l>(list: &'l FieldList, first: &str) -> Option<(&'l FieldDef, How)> {
    let fields = &list.fields;
    if let Some(d) = fields.iter().find(|d| d.system_name() == first) {
        return Some((d, How::Exact));
    }
    if let Some(d) = fields.iter().find(|d| d.name == first) {
        return Some((d, How::DisplayName));
    }
    if let Some(d) = fields
        .iter()
        .find(|d| d.custom && d.element_name == first && !first.starts_with("c_"))
    {
        return Some((d, How::CustomPrefix));
    }
    let key = name_key(first.strip_prefix("c_").unwrap_or(first));
    if key.is_empty() {
        return None;
    }
    // Spaces or punctuation mean a display name; otherwise only the case was off.
    let loose = if first.chars().all(|c| c.is_alphanumeric() || c == '_') {
        How::Case
    } else {
        How::DisplayName
    };
    fields
        .iter()
        .find(|d| name_key(d.element_name.strip_prefix("c_").unwrap_or(&d.element_name)) == key)
        .map(|d| (d, loose))
        .or_else(|| {
            fields
                .iter()
                .find(|d| name_key(&d.name) == key)
                .map(|d| (d, How::DisplayName))
        })
}

/// The known name closest to `first` (edit distance on [`name_key`]), if close enough.
fn suggest(list: &FieldList, first: &str) -> Option<String> {
    let key: Vec<char> = name_key(first).chars().take(64).collect();
    if key.is_empty() {
        return None;
    }
    let limit = (key.len() / 3).max(1);
    list.fields
        .iter()
        .flat_map(|d| {
            let system = d.system_name();
            [
                (name_key(&d.element_name), system.clone()),
                (name_key(&d.name), system),
            ]
        })
        .map(|(k, name)| {
            let other: Vec<char> = k.chars().take(64).collect();
            (edit_distance(&key, &other), name)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        .map(|(_, name)| name)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let best = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur[j + 1] = best;
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFECT: &str = include_str!(
        "../../../../tests/fixtures/rally_query/defect-attributes-wsapi1.43-shape.json"
    );
    const STORY_V2: &str =
        include_str!("../../../../tests/fixtures/rally_query/story-attributes-v2.0-shape.json");

    #[test]
    fn reads_the_typedefinition_envelope_with_inline_attributes() {
        let list = FieldList::from_json_bytes(DEFECT.as_bytes()).unwrap();
        let created = list
            .fields
            .iter()
            .find(|d| d.element_name == "CreationDate")
            .unwrap();
        assert_eq!(created.name, "Creation Date");
        assert_eq!(created.attribute_type, FieldType::Date);
        assert_eq!(
            created.allowed_operators,
            vec!["=", "!=", ">", "<", ">=", "<="]
        );
        let custom = list.fields.iter().find(|d| d.name == "Code Area").unwrap();
        assert!(custom.custom);
        assert_eq!(custom.system_name(), "c_CodeArea");
    }

    #[test]
    fn reads_an_attributes_collection_page() {
        let list = FieldList::from_json_bytes(STORY_V2.as_bytes()).unwrap();
        let kanban = list
            .fields
            .iter()
            .find(|d| d.name == "Kanban State")
            .unwrap();
        assert_eq!(kanban.element_name, "c_KanbanState");
        assert_eq!(kanban.system_name(), "c_KanbanState");
    }

    #[test]
    fn own_serialised_form_reads_back() {
        let list = FieldList::from_json_bytes(DEFECT.as_bytes()).unwrap();
        let json = serde_json::to_string(&list).unwrap();
        let back: FieldList = crate::json::from_str(&json).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn bad_json_and_empty_lists_are_errors_with_positions() {
        let err = FieldList::from_json_bytes(b"{\n  \"QueryResult\": [,]}").unwrap_err();
        assert_eq!(err.code, "rally_query.invalid_fields");
        assert_eq!(err.location.unwrap().line, 2);
        let err = FieldList::from_json_bytes(b"{\"QueryResult\": {\"Results\": []}}").unwrap_err();
        assert_eq!(err.code, "rally_query.invalid_fields");
        let err = FieldList::from_json_bytes(
            br#"{"QueryResult": {"Errors": ["Could not parse: bad query"], "Results": []}}"#,
        )
        .unwrap_err();
        assert!(err.message.contains("Could not parse"), "{}", err.message);
        let err = FieldList::from_json_bytes(
            br#"{"TypeDefinition": {"Attributes": {"_ref": "https://x/slm/webservice/v2.0/TypeDefinition/1/Attributes", "Count": 80}}}"#,
        )
        .unwrap_err();
        assert!(err.hint.unwrap().contains("/TypeDefinition/1/Attributes"));
    }

    #[test]
    fn resolves_display_names_case_and_custom_prefix_with_a_list() {
        let list = FieldList::from_json_bytes(DEFECT.as_bytes()).unwrap();
        let r = Resolver::new(Some(&list));
        let got = r.resolve("Creation Date");
        assert_eq!(
            (got.path.as_str(), got.how),
            ("CreationDate", Some(How::DisplayName))
        );
        assert_eq!(got.field_type, Some(FieldType::Date));
        assert_eq!(r.resolve("creationdate").how, Some(How::Case));
        assert_eq!(r.resolve("creationdate").path, "CreationDate");
        let got = r.resolve("CodeArea");
        assert_eq!(
            (got.path.as_str(), got.how),
            ("c_CodeArea", Some(How::CustomPrefix))
        );
        assert_eq!(r.resolve("Code Area").path, "c_CodeArea");
        assert_eq!(r.resolve("c_CodeArea").how, Some(How::Exact));
        // Dotted paths: the first segment from the list, the rest from the standard names.
        let got = r.resolve("Release.release date");
        assert_eq!(got.path, "Release.ReleaseDate");
        assert_eq!(got.field_type, Some(FieldType::Date));
    }

    #[test]
    fn unknown_fields_get_a_suggestion() {
        let list = FieldList::from_json_bytes(DEFECT.as_bytes()).unwrap();
        let r = Resolver::new(Some(&list));
        let got = r.resolve("Severty");
        assert_eq!(got.how, None);
        assert_eq!(got.suggestion.as_deref(), Some("Severity"));
        assert_eq!(r.resolve("Zebra").suggestion, None);
    }

    #[test]
    fn standard_fields_work_without_a_list() {
        let r = Resolver::new(None);
        let got = r.resolve("Creation Date");
        assert_eq!(
            (got.path.as_str(), got.how),
            ("CreationDate", Some(How::DisplayName))
        );
        assert_eq!(got.field_type, Some(FieldType::Date));
        assert_eq!(r.resolve("ID").path, "FormattedID");
        assert_eq!(r.resolve("scheduleState").path, "ScheduleState");
        assert_eq!(
            r.resolve("Iteration.Start Date").path,
            "Iteration.StartDate"
        );
        assert_eq!(
            r.resolve("Iteration.StartDate").field_type,
            Some(FieldType::Date)
        );
        let got = r.resolve("Story Type");
        assert_eq!(
            (got.path.as_str(), got.how),
            ("StoryType", Some(How::Guessed))
        );
        assert_eq!(r.resolve("c_Anything").how, Some(How::Exact));
        assert_eq!(
            r.resolve("Owner.UserName").field_type,
            Some(FieldType::String)
        );
    }

    #[test]
    fn operator_table_follows_rally_metadata() {
        assert!(!FieldType::Date.allows(Operator::Contains));
        assert!(FieldType::Date.allows(Operator::Between));
        assert!(!FieldType::Text.allows(Operator::Eq));
        assert!(FieldType::Collection.allows(Operator::Contains));
        assert_eq!(FieldType::Boolean.allowed_list(), "=, !=");
        assert!(!FieldType::Object.allows(Operator::Between));
    }
}
