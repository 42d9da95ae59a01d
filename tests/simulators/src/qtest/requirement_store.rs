//! What the simulator keeps of requirements: the project's requirement fields, the
//! requirements and their links to test cases (served by `requirements.rs`).

/// A requirement field of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: u64,
    pub label: String,
    pub system: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub id: u64,
    pub pid: String,
    pub name: String,
    pub parent_id: u64,
    /// (field id, value) in the order sent.
    pub properties: Vec<(u64, String)>,
    pub updates: u32,
}

/// The requirements part of the store.
#[derive(Debug, Clone)]
pub struct Requirements {
    pub fields: Vec<Field>,
    pub items: Vec<Requirement>,
    /// (requirement id, test case id), in the order linked.
    pub links: Vec<(u64, u64)>,
}

impl Default for Requirements {
    fn default() -> Self {
        // qTest's system requirement fields; the ids are the simulator's own.
        let fields = [
            (801, "Status"),
            (802, "Priority"),
            (803, "Type"),
            (804, "Description"),
        ]
        .into_iter()
        .map(|(id, label)| Field {
            id,
            label: label.into(),
            system: true,
        })
        .collect();
        Requirements {
            fields,
            items: Vec::new(),
            links: Vec::new(),
        }
    }
}

impl Requirements {
    pub fn add_field(&mut self, label: &str) -> u64 {
        if let Some(f) = self.fields.iter().find(|f| f.label == label) {
            return f.id;
        }
        let id = 900 + self.fields.len() as u64;
        self.fields.push(Field {
            id,
            label: label.into(),
            system: false,
        });
        id
    }

    /// The value of a field, by label.
    pub fn value(&self, r: &Requirement, label: &str) -> Option<String> {
        let field = self.fields.iter().find(|f| f.label == label)?;
        r.properties
            .iter()
            .find(|(id, _)| *id == field.id)
            .map(|(_, v)| v.clone())
    }
}
