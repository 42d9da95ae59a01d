//! The attachment plan for a Rally TestCaseResult: small artifacts are uploaded
//! (`AttachmentContent` with the base64 bytes, then an `Attachment` on the result),
//! larger ones are linked from the result's Notes. Rally refuses attachments over 50 MB.

use crate::config::{RunContext, template};
use crate::error::{Error, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};

pub use crate::config::rally::{DEFAULT_INLINE_MAX_BYTES, RALLY_MAX_ATTACHMENT_BYTES};

/// An artifact to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlannedUpload {
    /// The path as the report names it: the host reads the bytes from it.
    pub path: String,
    /// The file name shown in Rally.
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// An artifact linked from Notes instead of uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactLink {
    pub path: String,
    pub name: String,
    pub size: Option<u64>,
    pub url: Option<String>,
    /// Why it is not uploaded; `None` when the host did not look for the file
    /// (`map` reads no files), so nothing is claimed about it.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AttachmentPlan {
    pub uploads: Vec<PlannedUpload>,
    pub links: Vec<ArtifactLink>,
}

/// Decides, for each attachment path, upload or link. `inline_max` is capped at
/// Rally's 50 MB. `url_template` may use run placeholders plus `{path}` and `{name}`;
/// a link whose template lacks a value has no URL.
pub fn plan_attachments(
    paths: &[String],
    ctx: &RunContext,
    inline_max: u64,
    url_template: Option<&str>,
) -> AttachmentPlan {
    let limit = inline_max.min(RALLY_MAX_ATTACHMENT_BYTES);
    let mut plan = AttachmentPlan::default();
    for path in paths {
        let info = ctx.artifact(path);
        let name = file_name(path);
        let size = info.and_then(|i| i.size);
        let url = info.and_then(|i| i.url.clone()).or_else(|| {
            url_template.and_then(|t| {
                template::render(t, &|n| match n {
                    "path" => Some(path.clone()),
                    "name" => Some(name.clone()),
                    _ => ctx.lookup(n),
                })
                .ok()
            })
        });
        let reason = match size {
            Some(s) if s <= limit => {
                let content_type = info
                    .and_then(|i| i.content_type.clone())
                    .unwrap_or_else(|| content_type_for(&name).to_string());
                plan.uploads.push(PlannedUpload {
                    path: path.clone(),
                    name,
                    content_type,
                    size: s,
                });
                continue;
            }
            Some(s) if s > RALLY_MAX_ATTACHMENT_BYTES => {
                format!("{} is over Rally's 50 MB limit", human_size(s))
            }
            Some(s) => format!(
                "{} is over the {} upload threshold",
                human_size(s),
                human_size(limit)
            ),
            None if info.is_some() => "the host could not find or read the file".to_string(),
            None => {
                plan.links.push(ArtifactLink {
                    path: path.clone(),
                    name,
                    size,
                    url,
                    reason: None,
                });
                continue;
            }
        };
        plan.links.push(ArtifactLink {
            path: path.clone(),
            name,
            size,
            url,
            reason: Some(reason),
        });
    }
    plan
}

/// `{"AttachmentContent": {"Content": "<base64>"}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentContentCreate {
    #[serde(rename = "AttachmentContent")]
    pub attachment_content: AttachmentContentFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachmentContentFields {
    pub content: String,
    /// Left out when not configured: Rally then uses the default workspace of the
    /// key's user (`null` would name no workspace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// `{"Attachment": {"TestCaseResult": ..., "Content": ..., "Name": ..., "ContentType": ..., "Size": ...}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentCreate {
    #[serde(rename = "Attachment")]
    pub attachment: AttachmentFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachmentFields {
    /// The result the file belongs to (TestCaseResult is not an Artifact in WSAPI).
    pub test_case_result: String,
    /// The `AttachmentContent` ref.
    pub content: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Left out when not configured: Rally then uses the default workspace of the
    /// key's user (`null` would name no workspace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// The body that creates an `AttachmentContent` from the file's bytes.
pub fn attachment_content_body(
    bytes: &[u8],
    workspace: Option<&str>,
) -> Result<AttachmentContentCreate> {
    let size = bytes.len() as u64;
    if size > RALLY_MAX_ATTACHMENT_BYTES {
        return Err(Error::new(
            "rally.attachment_too_large",
            format!(
                "{} is over Rally's 50 MB attachment limit",
                human_size(size)
            ),
        )
        .with_hint("link the file from the result's Notes instead"));
    }
    Ok(AttachmentContentCreate {
        attachment_content: AttachmentContentFields {
            content: base64::engine::general_purpose::STANDARD.encode(bytes),
            workspace: workspace.map(str::to_string),
        },
    })
}

/// The body that attaches uploaded content to a TestCaseResult.
pub fn attachment_body(
    result_ref: &str,
    content_ref: &str,
    upload: &PlannedUpload,
    workspace: Option<&str>,
) -> AttachmentCreate {
    AttachmentCreate {
        attachment: AttachmentFields {
            test_case_result: result_ref.to_string(),
            content: content_ref.to_string(),
            name: upload.name.clone(),
            content_type: upload.content_type.clone(),
            size: upload.size,
            workspace: workspace.map(str::to_string),
        },
    }
}

/// The last component of a path, `/` or `\` separated.
pub fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or(path)
        .to_string()
}

/// A MIME type from the file extension; `application/octet-stream` when unknown.
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("txt" | "log") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("pdf") => "application/pdf",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        _ => "application/octet-stream",
    }
}

/// `512 B`, `4.5 KB`, `12.3 MB`: sizes for people, in integer arithmetic.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scale: u64 = 1024;
    while unit + 1 < UNITS.len() && bytes / scale >= 1024 {
        scale *= 1024;
        unit += 1;
    }
    let tenths = (bytes as u128 * 10 + scale as u128 / 2) / scale as u128;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ArtifactInfo;

    fn ctx() -> RunContext {
        RunContext {
            now: "2024-05-01T10:00:00Z".into(),
            job_url: Some("https://gitlab.example.com/g/p/-/jobs/9".into()),
            artifacts: vec![
                ArtifactInfo {
                    path: "shots/a.png".into(),
                    size: Some(1000),
                    ..Default::default()
                },
                ArtifactInfo {
                    path: "video.mp4".into(),
                    size: Some(20 * 1024 * 1024),
                    ..Default::default()
                },
                ArtifactInfo {
                    path: "dump.bin".into(),
                    size: Some(60 * 1024 * 1024),
                    ..Default::default()
                },
                // Looked for, not readable.
                ArtifactInfo {
                    path: "gone.txt".into(),
                    size: None,
                    ..Default::default()
                },
                ArtifactInfo {
                    path: "exact.log".into(),
                    size: Some(DEFAULT_INLINE_MAX_BYTES),
                    url: Some("https://x/exact.log".into()),
                    ..Default::default()
                },
            ],
            ..RunContext::default()
        }
    }

    #[test]
    fn small_files_upload_large_ones_link() {
        let paths: Vec<String> = [
            "shots/a.png",
            "video.mp4",
            "dump.bin",
            "exact.log",
            "gone.txt",
            "never-looked.txt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let plan = plan_attachments(
            &paths,
            &ctx(),
            DEFAULT_INLINE_MAX_BYTES,
            Some("{job_url}/artifacts/file/{path}"),
        );
        let up: Vec<_> = plan
            .uploads
            .iter()
            .map(|u| (u.name.as_str(), u.content_type.as_str()))
            .collect();
        assert_eq!(up, [("a.png", "image/png"), ("exact.log", "text/plain")]);
        let links: Vec<_> = plan.links.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(
            links,
            ["video.mp4", "dump.bin", "gone.txt", "never-looked.txt"]
        );
        assert_eq!(
            plan.links[0].url.as_deref(),
            Some("https://gitlab.example.com/g/p/-/jobs/9/artifacts/file/video.mp4")
        );
        let reason = |i: usize| plan.links[i].reason.clone().unwrap_or_default();
        assert!(
            reason(0).contains("20.0 MB is over the 5.0 MB"),
            "{}",
            reason(0)
        );
        assert!(reason(1).contains("50 MB limit"));
        assert!(reason(2).contains("could not find or read"));
        assert_eq!(plan.links[3].reason, None, "nothing looked for it");
    }

    #[test]
    fn threshold_never_exceeds_rallys_limit() {
        let paths = vec!["video.mp4".to_string(), "dump.bin".to_string()];
        let plan = plan_attachments(&paths, &ctx(), u64::MAX, None);
        assert_eq!(plan.uploads.len(), 1);
        assert_eq!(plan.links[0].path, "dump.bin");
        assert_eq!(plan.links[0].url, None);
    }

    #[test]
    fn bodies_have_rallys_shape() {
        let body = attachment_content_body(b"hello world", None).unwrap();
        let json = serde_json::to_string(&body).unwrap();
        // The Broadcom knowledge-base example encodes "hello world" as aGVsbG8gd29ybGQ=.
        assert_eq!(
            json,
            r#"{"AttachmentContent":{"Content":"aGVsbG8gd29ybGQ="}}"#
        );
        let up = PlannedUpload {
            path: "a/b.txt".into(),
            name: "b.txt".into(),
            content_type: "text/plain".into(),
            size: 11,
        };
        let a = attachment_body(
            "/testcaseresult/1",
            "/attachmentcontent/2",
            &up,
            Some("/workspace/3"),
        );
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"Attachment":{"TestCaseResult":"/testcaseresult/1","Content":"/attachmentcontent/2","Name":"b.txt","ContentType":"text/plain","Size":11,"Workspace":"/workspace/3"}}"#
        );
    }

    #[test]
    fn oversized_content_is_refused() {
        let big = vec![0u8; (RALLY_MAX_ATTACHMENT_BYTES + 1) as usize];
        let e = attachment_content_body(&big, None).unwrap_err();
        assert_eq!(e.code, "rally.attachment_too_large");
        assert!(attachment_content_body(&big[..RALLY_MAX_ATTACHMENT_BYTES as usize], None).is_ok());
    }

    #[test]
    fn names_types_and_sizes() {
        assert_eq!(file_name("C:\\out\\shot.PNG"), "shot.PNG");
        assert_eq!(content_type_for("shot.PNG"), "image/png");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
        // 2^64 bytes is 2^24 TB.
        assert_eq!(human_size(u64::MAX), "16777216.0 TB");
    }
}
