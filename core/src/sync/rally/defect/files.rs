//! The defect's files: once the defect is there, list its attachments (a resumed
//! or repeated submit may have sent some), then for each file not there yet create
//! the AttachmentContent and the Attachment on the defect (`Artifact`). A lost
//! answer to an Attachment create lists again before sending it twice; a file Rally
//! refuses is reported and the others still go.

use super::{Awaiting, Defect, DefectInput};
use crate::error::Error;
use crate::rally::attachments::RALLY_MAX_ATTACHMENT_BYTES;
use crate::rally::query::Value as QValue;
use crate::sync::details::rally::DefectAttachment;
use crate::sync::rally::driver::{Action, Logic};
use crate::sync::rally::link::Call;
use crate::sync::rally::wsapi::{Page, Query, eq, ref_of, text_of};
use crate::sync::report::{Entry, RecordKind};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Tries of one file before it is given up.
const MAX_TRIES: u32 = 3;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Status {
    #[default]
    Todo,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Upload {
    index: usize,
    name: String,
    status: Status,
    /// The AttachmentContent made for it, reused after a lost Attachment answer.
    content: Option<String>,
    tries: u32,
}

pub(super) fn plan(files: &[DefectAttachment]) -> Vec<Upload> {
    files
        .iter()
        .enumerate()
        .map(|(index, f)| Upload {
            index,
            name: f.name.clone(),
            status: Status::Todo,
            content: None,
            tries: 0,
        })
        .collect()
}

pub(super) fn is_upload(a: Awaiting) -> bool {
    matches!(
        a,
        Awaiting::AttachList | Awaiting::AttachContent | Awaiting::AttachCreate
    )
}

fn decode(file: &DefectAttachment) -> Result<Vec<u8>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(file.content_base64.trim())
        .map_err(|_| "its content_base64 is not base64".to_string())?;
    if bytes.len() as u64 > RALLY_MAX_ATTACHMENT_BYTES {
        return Err("it is over Rally's 50 MB limit".into());
    }
    Ok(bytes)
}

impl Defect {
    fn current(&self) -> Option<usize> {
        self.uploads.iter().position(|u| u.status == Status::Todo)
    }

    fn fail_upload(&mut self, at: usize, why: String) {
        if let Some(u) = self.uploads.get_mut(at) {
            u.status = Status::Failed;
            self.ledger.failed.push(Entry::new(
                RecordKind::Attachment,
                u.name.clone(),
                format!("not attached to the defect: {why}"),
            ));
        }
    }

    pub(super) fn next_upload(&mut self, input: &DefectInput) -> Option<Action> {
        let defect = self.result.as_ref()?.reference.clone()?;
        let at = self.current()?;
        let ws = input.workspace.as_deref();
        if self.check_uploads {
            let q = Query::new("/attachment", "ObjectID,Name")
                .filter(&eq("Artifact", QValue::bare(&defect)))
                .scoped(ws, None);
            self.awaiting = Awaiting::AttachList;
            return Some(Action::Call(Call::get(
                format!("{}&project=null", q.to_path()),
                "list the defect's attachments",
            )));
        }
        let upload = self.uploads.get(at)?.clone();
        let file = input.request.attachments.get(upload.index)?;
        if upload.tries >= MAX_TRIES {
            self.fail_upload(at, format!("gave up after {} tries", upload.tries));
            return self.next_upload(input);
        }
        let bytes = match decode(file) {
            Ok(b) => b,
            Err(why) => {
                self.fail_upload(at, why);
                return self.next_upload(input);
            }
        };
        if let Some(u) = self.uploads.get_mut(at) {
            u.tries += 1;
        }
        let Some(content) = upload.content else {
            let mut fields = json!({ "Content": file.content_base64.trim() });
            if let Some(w) = ws {
                fields["Workspace"] = Value::from(w);
            }
            self.awaiting = Awaiting::AttachContent;
            return Some(Action::Call(Call::post(
                "/attachmentcontent/create?fetch=ObjectID".into(),
                json!({ "AttachmentContent": fields }).to_string(),
                format!("upload {}", file.name),
            )));
        };
        let mut fields = json!({
            "Artifact": defect,
            "Content": content,
            "Name": file.name,
            "ContentType": file.content_type,
            "Size": bytes.len(),
        });
        if let Some(w) = ws {
            fields["Workspace"] = Value::from(w);
        }
        self.awaiting = Awaiting::AttachCreate;
        Some(Action::Call(Call::post(
            "/attachment/create?fetch=ObjectID,Name".into(),
            json!({ "Attachment": fields }).to_string(),
            format!("attach {} to the defect", file.name),
        )))
    }

    pub(super) fn on_upload(&mut self, _input: &DefectInput, awaiting: Awaiting, v: &Value) {
        match awaiting {
            Awaiting::AttachList => {
                let page = match Page::read(v, "list the defect's attachments") {
                    Ok(page) => page,
                    Err(e) => return self.stop(e, true),
                };
                self.check_uploads = false;
                let there: Vec<String> = page
                    .results
                    .iter()
                    .filter_map(|a| text_of(a, "Name"))
                    .collect();
                for u in &mut self.uploads {
                    if u.status == Status::Todo && there.contains(&u.name) {
                        u.status = Status::Done;
                    }
                }
            }
            Awaiting::AttachContent => {
                let Some(at) = self.current() else { return };
                match crate::sync::rally::wsapi::created_object(v).and_then(ref_of) {
                    Some(r) => {
                        if let Some(u) = self.uploads.get_mut(at) {
                            u.content = Some(r);
                        }
                    }
                    None => {
                        self.fail_upload(at, "Rally's answer named no AttachmentContent".into())
                    }
                }
            }
            Awaiting::AttachCreate => {
                let Some(at) = self.current() else { return };
                let reference = crate::sync::rally::wsapi::created_object(v).and_then(ref_of);
                if let Some(u) = self.uploads.get_mut(at) {
                    u.status = Status::Done;
                    self.ledger.created.push(
                        Entry::new(
                            RecordKind::Attachment,
                            u.name.clone(),
                            "attached to the defect",
                        )
                        .with_ref(reference),
                    );
                }
            }
            _ => {}
        }
    }

    /// A lost answer: an Attachment may be there, so list first; a lost
    /// AttachmentContent is made again.
    pub(super) fn upload_unknown(&mut self, awaiting: Awaiting) {
        if awaiting == Awaiting::AttachCreate {
            self.check_uploads = true;
        }
    }

    pub(super) fn upload_refused(&mut self, awaiting: Awaiting, e: Error) {
        if awaiting == Awaiting::AttachList {
            return self.stop(e, true);
        }
        if let Some(at) = self.current() {
            self.fail_upload(at, e.message);
        }
    }

    /// Names of the files on the defect.
    pub(super) fn attached(&self) -> Vec<String> {
        self.uploads
            .iter()
            .filter(|u| u.status == Status::Done)
            .map(|u| u.name.clone())
            .collect()
    }
}
