//! Attachments of created results: read the file (the host does), create the
//! AttachmentContent, then the Attachment on the TestCaseResult. Where one may
//! already be there (a result found in Rally, a lost answer, a resumed run), list
//! the result's attachments first and skip those with the same name.
//!
//! An AttachmentContent is reused after a lost answer or a restart (its ref is part
//! of the saved progress). One that no Attachment will use (the Attachment was
//! refused, or another upload of the same file is already attached) is deleted.
//! Rally has no query for AttachmentContent, so one whose create answer never came
//! back cannot be found again; it holds the file's bytes and nothing links to it.

use super::{Phase, PublishInput, PublishLogic, UnitStatus, UploadStatus};
use crate::error::Warning;
use crate::rally::attachments::{
    PlannedUpload, RALLY_MAX_ATTACHMENT_BYTES, attachment_body, attachment_content_body, human_size,
};
use crate::rally::query::Value as QValue;
use crate::sync::rally::driver::{Action, Logic};
use crate::sync::rally::link::{Call, Outcome};
use crate::sync::rally::wsapi::{self, Page, Query, eq, ref_of, text_of};
use crate::sync::report::{Entry, RecordKind};

impl PublishLogic {
    pub(super) fn next_attachment(&mut self, input: &PublishInput) -> Option<Action> {
        if let Some(a) = self.next_discard() {
            return Some(a);
        }
        let max = self.max_tries;
        let workspace = input.config.rally.workspace.clone();
        for i in 0..self.units().len() as u64 {
            // Looked at in place first: this runs before every request, over every result,
            // and only a result with uploads left is worth a copy.
            let waiting = self.units().get(i as usize).is_some_and(|u| {
                u.status == UnitStatus::Done
                    && u.reference.is_some()
                    && u.attachments.iter().any(|a| a.status == UploadStatus::Todo)
            });
            if !waiting {
                continue;
            }
            let Some(unit) = self.units().get(i as usize).cloned() else {
                continue;
            };
            let (UnitStatus::Done, Some(result_ref)) = (&unit.status, &unit.reference) else {
                continue;
            };
            if unit
                .attachments
                .iter()
                .all(|a| a.status != UploadStatus::Todo)
            {
                continue;
            }
            if unit.check_attachments {
                return Some(self.list_call(input, i, result_ref, 1));
            }
            for (j, up) in unit.attachments.iter().enumerate() {
                let j = j as u64;
                if up.status != UploadStatus::Todo {
                    continue;
                }
                let planned = self.planned(input, i, j)?;
                if up.tries >= max {
                    self.fail_upload(input, i, j, format!("gave up after {} tries", up.tries));
                    continue;
                }
                let Some(content) = &up.content else {
                    let bytes = match &self.loaded {
                        Some((u, k, b)) if *u == i && *k == j => b,
                        _ => {
                            self.phase = Phase::AttachRead { unit: i, upload: j };
                            return Some(Action::Read(planned.path));
                        }
                    };
                    let body = match attachment_content_body(bytes, workspace.as_deref()) {
                        Ok(b) => b,
                        Err(e) => {
                            self.loaded = None;
                            self.fail_upload(input, i, j, e.message);
                            continue;
                        }
                    };
                    let body = serde_json::to_string(&body).ok()?;
                    self.bump_upload(i, j);
                    self.phase = Phase::AttachContent { unit: i, upload: j };
                    return Some(Action::Call(Call::post(
                        "/attachmentcontent/create?fetch=ObjectID".into(),
                        body,
                        format!("upload {}", planned.name),
                    )));
                };
                let mut sized = planned.clone();
                if let Some(s) = up.size {
                    sized.size = s;
                }
                let body = attachment_body(result_ref, content, &sized, workspace.as_deref());
                let body = serde_json::to_string(&body).ok()?;
                self.bump_upload(i, j);
                self.phase = Phase::AttachCreate { unit: i, upload: j };
                return Some(Action::Call(Call::post(
                    "/attachment/create?fetch=ObjectID,Name".into(),
                    body,
                    format!("attach {} to its result", planned.name),
                )));
            }
        }
        None
    }

    fn list_call(
        &mut self,
        input: &PublishInput,
        unit: u64,
        result_ref: &str,
        start: u64,
    ) -> Action {
        let q = Query::new("/attachment", "ObjectID,Name,Size,Content")
            .filter(&eq("TestCaseResult", QValue::bare(result_ref)))
            .scoped(input.config.rally.workspace.as_deref(), None)
            .at(start);
        self.phase = Phase::AttachList { unit, start };
        Action::Call(Call::get(
            format!("{}&project=null", q.to_path()),
            "list the result's attachments",
        ))
    }

    pub(super) fn on_read(&mut self, input: &PublishInput, file: Result<Vec<u8>, String>) {
        let Phase::AttachRead { unit, upload } = std::mem::take(&mut self.phase) else {
            return;
        };
        match file {
            Ok(bytes) if bytes.len() as u64 > RALLY_MAX_ATTACHMENT_BYTES => {
                let size = human_size(bytes.len() as u64);
                self.fail_upload(
                    input,
                    unit,
                    upload,
                    format!("{size} is over Rally's 50 MB limit"),
                );
            }
            Ok(bytes) => {
                if let Some(up) = self
                    .unit_mut(unit)
                    .and_then(|u| u.attachments.get_mut(upload as usize))
                {
                    up.size = Some(bytes.len() as u64);
                }
                self.loaded = Some((unit, upload, bytes));
            }
            Err(why) => self.fail_upload(
                input,
                unit,
                upload,
                format!("the file could not be read: {why}"),
            ),
        }
    }

    pub(super) fn on_attachment(&mut self, input: &PublishInput, phase: Phase, outcome: Outcome) {
        let Some(answer) = self.common(outcome) else {
            return;
        };
        match phase {
            Phase::AttachList { unit, .. } => {
                let page =
                    match answer.and_then(|v| Page::read(&v, "list the result's attachments")) {
                        Ok(page) => page,
                        // Without knowing what is attached, uploading could duplicate: stop.
                        Err(e) => {
                            let retry = e.code == wsapi::BAD_ANSWER;
                            return self.stop(e, retry);
                        }
                    };
                for a in &page.results {
                    let Some(name) = text_of(a, "Name") else {
                        continue;
                    };
                    let count = self
                        .units()
                        .get(unit as usize)
                        .map_or(0, |u| u.attachments.len());
                    for j in 0..count as u64 {
                        let todo = self
                            .units()
                            .get(unit as usize)
                            .and_then(|u| u.attachments.get(j as usize))
                            .is_some_and(|up| up.status == UploadStatus::Todo);
                        let same = self.planned(input, unit, j).is_some_and(|p| p.name == name);
                        if todo && same {
                            self.set_upload(unit, j, UploadStatus::Done);
                            // Attached with other bytes than the ones this run uploaded:
                            // ours are not needed.
                            let attached = text_of(a, "Content");
                            if let Some(up) = self
                                .unit_mut(unit)
                                .and_then(|u| u.attachments.get_mut(j as usize))
                                && up.content.is_some()
                                && up.content != attached
                                && let Some(c) = up.content.take()
                            {
                                self.discard.push(c);
                            }
                            let key = self.upload_key(input, unit, j);
                            self.ledger.skipped.push(
                                Entry::new(
                                    RecordKind::Attachment,
                                    key,
                                    "already attached to the result",
                                )
                                .with_ref(ref_of(a)),
                            );
                            break;
                        }
                    }
                }
                if let Some(next) = page.next_start() {
                    let result_ref = self
                        .units()
                        .get(unit as usize)
                        .and_then(|u| u.reference.clone())
                        .unwrap_or_default();
                    if let Action::Call(c) = self.list_call(input, unit, &result_ref, next) {
                        self.queued = Some(c);
                    }
                    return;
                }
                if let Some(u) = self.unit_mut(unit) {
                    u.check_attachments = false;
                }
            }
            Phase::AttachContent { unit, upload } => match answer {
                Ok(v) => {
                    // Without the new content's ref it is as good as lost: an orphaned
                    // AttachmentContent is invisible, so it is sent again.
                    if let Some(r) = wsapi::created_object(&v).and_then(ref_of) {
                        if let Some(up) = self
                            .unit_mut(unit)
                            .and_then(|u| u.attachments.get_mut(upload as usize))
                        {
                            up.content = Some(r);
                        }
                        self.loaded = None;
                    }
                }
                // An orphaned AttachmentContent is invisible: just send it again.
                Err(e) if super::prepare::is_lost(&e) => {}
                Err(e) => {
                    self.loaded = None;
                    self.fail_upload(input, unit, upload, e.message)
                }
            },
            Phase::AttachCreate { unit, upload } => match answer {
                // An answer without the new attachment: it may be there; list first.
                Ok(v) if wsapi::created_object(&v).is_none() => {
                    if let Some(u) = self.unit_mut(unit) {
                        u.check_attachments = true;
                    }
                }
                Ok(v) => {
                    self.set_upload(unit, upload, UploadStatus::Done);
                    let key = self.upload_key(input, unit, upload);
                    let size = self
                        .units()
                        .get(unit as usize)
                        .and_then(|u| u.attachments.get(upload as usize))
                        .and_then(|u| u.size)
                        .map_or_else(String::new, |s| format!(" ({})", human_size(s)));
                    self.ledger.created.push(
                        Entry::new(RecordKind::Attachment, key, format!("uploaded{size}"))
                            .with_ref(wsapi::created_object(&v).and_then(ref_of)),
                    );
                }
                // It may be there: list the result's attachments before trying again.
                Err(e) if super::prepare::is_lost(&e) => {
                    if let Some(u) = self.unit_mut(unit) {
                        u.check_attachments = true;
                    }
                }
                Err(e) => self.fail_upload(input, unit, upload, e.message),
            },
            _ => {}
        }
    }

    fn planned(&mut self, input: &PublishInput, unit: u64, upload: u64) -> Option<PlannedUpload> {
        self.plan(input)?
            .results
            .get(unit as usize)?
            .attachments
            .uploads
            .get(upload as usize)
            .cloned()
    }

    fn upload_key(&mut self, input: &PublishInput, unit: u64, upload: u64) -> String {
        let (id, _) = self.result_names(input, unit);
        let name = self
            .planned(input, unit, upload)
            .map(|p| p.name)
            .unwrap_or_default();
        format!("{id} {name}")
    }

    fn set_upload(&mut self, unit: u64, upload: u64, status: UploadStatus) {
        if let Some(up) = self
            .unit_mut(unit)
            .and_then(|u| u.attachments.get_mut(upload as usize))
        {
            up.status = status;
        }
    }

    fn bump_upload(&mut self, unit: u64, upload: u64) {
        if let Some(up) = self
            .unit_mut(unit)
            .and_then(|u| u.attachments.get_mut(upload as usize))
        {
            up.tries += 1;
        }
    }

    /// Deletes the next AttachmentContent no Attachment uses.
    fn next_discard(&mut self) -> Option<Action> {
        let content = self.discard.first()?.clone();
        let oid = content.rsplit('/').next().unwrap_or_default().to_string();
        self.phase = Phase::Discard { content };
        Some(Action::Call(Call::delete(
            format!("/attachmentcontent/{oid}"),
            "delete an upload no attachment uses",
        )))
    }

    pub(super) fn on_discard(&mut self, content: String, outcome: Outcome) {
        match outcome {
            Outcome::Ok(_) => {}
            // Deleted by an earlier try whose answer was lost.
            Outcome::Refused(e) if e.code == "rally.not_found" => {}
            Outcome::Unknown(_) if self.discard_tries + 1 < self.max_tries => {
                self.discard_tries += 1;
                return;
            }
            Outcome::GaveUp(e) => return self.stop(e, true),
            Outcome::Refused(e) | Outcome::Unknown(e) => self.ledger.warn(Warning::new(
                "rally.unused_upload",
                format!(
                    "AttachmentContent {content} is not used by any attachment and could not be deleted: {}",
                    e.message
                ),
                None,
            )),
        }
        self.discard.retain(|c| *c != content);
        self.discard_tries = 0;
    }

    fn fail_upload(&mut self, input: &PublishInput, unit: u64, upload: u64, why: String) {
        self.set_upload(unit, upload, UploadStatus::Failed);
        if let Some(c) = self
            .unit_mut(unit)
            .and_then(|u| u.attachments.get_mut(upload as usize))
            .and_then(|up| up.content.take())
        {
            self.discard.push(c);
        }
        let key = self.upload_key(input, unit, upload);
        let path = self
            .planned(input, unit, upload)
            .map(|p| p.path)
            .unwrap_or_default();
        self.fail(Entry::new(
            RecordKind::Attachment,
            key,
            format!("{path}: {why}"),
        ));
    }
}
