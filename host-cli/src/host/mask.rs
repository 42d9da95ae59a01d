//! Secrets never reach output: API keys, basic auth, cookies, the security token
//! (`key=` in URLs) and credentials inside URLs are masked wherever a request, a
//! message or a report is shown or stored. The rule itself is the core's
//! ([`tmbridge_core::sync::mask`]), so every host masks the same things.

use tmbridge_core::sync::Report;
pub use tmbridge_core::sync::mask::{mask_request as masked, mask_text, mask_url as masked_url};

/// The report with every secret in its messages masked (a server may quote the URL
/// it was asked for in an error body, a connection error may name it).
pub fn masked_report(report: Report) -> Report {
    let Ok(text) = serde_json::to_string(&report) else {
        return report;
    };
    let masked = mask_text(&text);
    if masked == text {
        return report;
    }
    serde_json::from_str(&masked).unwrap_or(report)
}
