//! What to do with one webhook request, before and after reading its body. Kept
//! apart from the HTTP server so every rule is tested without a socket.

use serde_json::json;
use std::time::Duration;
use tmbridge_core::gitlab::{
    GitlabConfig, PipelineEvent, decide, is_pipeline_hook, parse_pipeline_event, verify_token,
};

/// The path GitLab posts to.
pub const WEBHOOK_PATH: &str = "/webhook";

/// An answer that stores nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    fn new(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Answer {
        Answer::new(
            status,
            json!({"status": "rejected", "error": code, "message": message}),
        )
    }
}

/// The request line and headers.
pub struct Head<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub token: Option<&'a [u8]>,
    pub content_length: Option<u64>,
}

/// Checks that need no body. `Err` is the answer to give at once.
pub fn check_head(head: &Head<'_>, secret: &[u8], max_body: u64) -> Result<(), Answer> {
    let path = head.path.split('?').next().unwrap_or("");
    if path == "/healthz" {
        return Err(Answer::new(200, json!({"status": "ok"})));
    }
    if path != WEBHOOK_PATH {
        return Err(Answer::error(
            404,
            "serve.not_found",
            &format!("nothing at {path}; GitLab posts to {WEBHOOK_PATH}"),
        ));
    }
    if !head.method.eq_ignore_ascii_case("POST") {
        return Err(Answer::error(405, "serve.method", "webhooks are POSTed"));
    }
    if !verify_token(secret, head.token) {
        return Err(Answer::error(
            401,
            "serve.bad_token",
            "the X-Gitlab-Token header does not match the configured secret",
        ));
    }
    if head.content_length.is_some_and(|n| n > max_body) {
        return Err(too_large(max_body));
    }
    Ok(())
}

pub fn too_large(max_body: u64) -> Answer {
    Answer::error(
        413,
        "serve.too_large",
        &format!("the body is larger than {max_body} bytes"),
    )
}

/// How long a client refused for lack of room is asked to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Every handler is busy: a 5xx, so GitLab marks the delivery failed (never a 200 for an event not kept).
pub fn busy() -> Answer {
    Answer::new(
        503,
        json!({"status": "busy", "error": "serve.busy", "message": format!(
            "every request handler is busy; try again in {RETRY_AFTER_SECS} seconds"
        )}),
    )
}

/// The request line and headers could not be read as a request.
pub fn malformed_head(message: &str) -> Answer {
    Answer::error(400, "serve.bad_request", message)
}

pub fn head_too_large(message: &str) -> Answer {
    Answer::error(431, "serve.head_too_large", message)
}

/// The request line and headers did not arrive within `--header-timeout`.
pub fn head_timeout(limit: Duration) -> Answer {
    Answer::error(
        408,
        "serve.head_timeout",
        &format!(
            "the request line and headers did not arrive within {} s (--header-timeout)",
            limit.as_secs_f64()
        ),
    )
}

/// The body did not arrive within `--body-timeout` of its headers.
pub fn body_timeout(limit: Duration) -> Answer {
    Answer::error(
        408,
        "serve.body_timeout",
        &format!(
            "the body did not arrive within {} s of its headers (--body-timeout)",
            limit.as_secs_f64()
        ),
    )
}

/// The body broke off or was not valid chunked encoding.
pub fn body_unreadable(message: &str) -> Answer {
    Answer::error(400, "serve.read_failed", message)
}

/// What the body asks for.
#[derive(Debug)]
pub enum Decision {
    /// Store it and answer 200.
    Queue {
        project_id: u64,
        event: Box<PipelineEvent>,
    },
    /// Answer without storing.
    Answer(Answer),
}

pub fn check_body(event_header: Option<&str>, body: &[u8], config: &GitlabConfig) -> Decision {
    if !is_pipeline_hook(event_header) {
        return Decision::Answer(Answer::new(
            200,
            json!({"status": "ignored", "reason": format!(
                "X-Gitlab-Event is {:?}; only Pipeline Hook events are processed",
                event_header.unwrap_or("")
            )}),
        ));
    }
    let event = match parse_pipeline_event(body) {
        Ok(e) => e,
        Err(e) => return Decision::Answer(Answer::error(400, &e.code, &e.to_string())),
    };
    let Some(project_id) = event.project.as_ref().map(|p| p.id) else {
        return Decision::Answer(Answer::error(
            400,
            "serve.no_project",
            "the event names no project, so its artifacts cannot be fetched",
        ));
    };
    let d = decide(&event, config);
    if !d.process {
        return Decision::Answer(Answer::new(
            200,
            json!({"status": "ignored", "reason": d.reason}),
        ));
    }
    Decision::Queue {
        project_id,
        event: Box::new(event),
    }
}

/// The answer once the event is stored.
pub fn queued(event_id: serde_json::Value, duplicate: bool) -> Answer {
    Answer::new(
        200,
        json!({"status": if duplicate { "duplicate" } else { "queued" }, "event_id": event_id}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOK: &str = r#"{"object_kind":"pipeline","object_attributes":{"id":31,"ref":"main","sha":"abc","status":"success","stages":["test"]},
        "project":{"id":7,"web_url":"http://gitlab.example/acme/shop","path_with_namespace":"acme/shop"},
        "builds":[{"id":5,"name":"unit","stage":"test","status":"success"}]}"#;

    fn head<'a>(
        method: &'a str,
        path: &'a str,
        token: Option<&'a [u8]>,
        len: Option<u64>,
    ) -> Head<'a> {
        Head {
            method,
            path,
            token,
            content_length: len,
        }
    }

    #[test]
    fn head_checks_in_order() {
        let s = b"s3cret".as_slice();
        assert_eq!(
            check_head(&head("GET", "/healthz", None, None), s, 10)
                .unwrap_err()
                .status,
            200
        );
        assert_eq!(
            check_head(&head("POST", "/other", Some(s), None), s, 10)
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            check_head(&head("GET", "/webhook", Some(s), None), s, 10)
                .unwrap_err()
                .status,
            405
        );
        assert_eq!(
            check_head(&head("POST", "/webhook", Some(b"nope"), None), s, 10)
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            check_head(&head("POST", "/webhook", None, None), s, 10)
                .unwrap_err()
                .status,
            401
        );
        // A bad token is refused before the size is even looked at.
        assert_eq!(
            check_head(&head("POST", "/webhook", None, Some(99)), s, 10)
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            check_head(&head("POST", "/webhook", Some(s), Some(11)), s, 10)
                .unwrap_err()
                .status,
            413
        );
        assert!(check_head(&head("POST", "/webhook?x=1", Some(s), Some(10)), s, 10).is_ok());
    }

    #[test]
    fn bodies_are_queued_ignored_or_refused() {
        let cfg = GitlabConfig::default();
        match check_body(Some("Pipeline Hook"), HOOK.as_bytes(), &cfg) {
            Decision::Queue { project_id, event } => {
                assert_eq!(project_id, 7);
                assert_eq!(event.pipeline_id, 31);
            }
            Decision::Answer(a) => panic!("{a:?}"),
        }
        let Decision::Answer(a) = check_body(Some("Job Hook"), HOOK.as_bytes(), &cfg) else {
            panic!("a job hook is not queued")
        };
        assert_eq!(a.status, 200);
        assert!(a.body.contains("ignored"));
        let Decision::Answer(a) = check_body(Some("Pipeline Hook"), b"{not json", &cfg) else {
            panic!("malformed JSON is not queued")
        };
        assert_eq!(a.status, 400);
        assert!(a.body.contains("gitlab.malformed_json"), "{}", a.body);
        let running = HOOK.replace("\"success\",\"stages\"", "\"running\",\"stages\"");
        let Decision::Answer(a) = check_body(Some("Pipeline Hook"), running.as_bytes(), &cfg)
        else {
            panic!("a running pipeline is not queued")
        };
        assert_eq!(a.status, 200);
        assert!(a.body.contains("not finished"), "{}", a.body);
        let no_project = HOOK.replace("\"project\"", "\"projekt\"");
        let Decision::Answer(a) = check_body(Some("Pipeline Hook"), no_project.as_bytes(), &cfg)
        else {
            panic!("an event without project is not queued")
        };
        assert_eq!(a.status, 400);
    }
}
