//! NUnit 3 (`<test-run>`) and NUnit 2 (`<test-results>`) result files.
//!
//! Every `<test-suite>` (Assembly, Namespace, TestSuite, TestFixture,
//! ParameterizedFixture, ParameterizedMethod, GenericFixture, SetUpFixture, Theory)
//! is a suite; every `<test-case>` a case. Statuses:
//!
//! | NUnit 3 `result` (`label`)                       | NUnit 2 `result`         | tmbridge |
//! |---------------------------------------------------|--------------------------|----------|
//! | Passed                                            | Success                  | passed   |
//! | Warning (passed with warnings)                    | -                        | passed   |
//! | Failed                                            | Failure                  | failed   |
//! | Failed (Error, Cancelled, Invalid)                | Error, Cancelled, NotRunnable | error |
//! | Skipped (Ignored, Explicit, ...), Inconclusive    | Ignored, Skipped, Inconclusive, not executed | skipped |
//!
//! Properties (`Category`, `Description`, custom) and NUnit 2 categories become case
//! properties; `<attachments>` file paths become attachments; `<output>` is the
//! case's (or suite's) output; the failure message and stack trace become the
//! outcome. A parameterised case keeps its arguments in its name.

use super::detect::Format;
use super::text::{finish_text, first_line_of, message_of, new_capture, seconds};
use super::tree::{Tree, new_case, push_property};
use super::{Element, Sink, XmlFormat};
use crate::error::{Location, Result};
use crate::junit::{Capture, Event, ReportStart};
use crate::model::{
    CapturedText, DeclaredCounts, Outcome, OutcomeKind, Property, RootKind, Status, TestCase,
};

pub(crate) struct Nunit {
    format: Format,
    tree: Tree,
    stack: Vec<Frame>,
}

struct CaseFrame {
    case: TestCase,
    result: String,
    label: String,
    executed: Option<bool>,
    success: Option<bool>,
    failure_message: Option<String>,
    stack_trace: Option<CapturedText>,
    reason: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    FailureMessage,
    StackTrace,
    ReasonMessage,
    Output,
    AttachmentPath,
}

enum Frame {
    Root,
    Suite,
    /// Elements whose children are read as if they were the parent's (`<results>`,
    /// `<properties>`, `<categories>`, `<attachments>`, `<attachment>`).
    Transparent,
    Case(Box<CaseFrame>),
    Failure,
    Reason,
    Text {
        target: Target,
        capture: Capture,
    },
    Skip,
}

/// What kind of frame encloses a new element.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Suite,
    Transparent,
    Case,
    Failure,
    Reason,
    Text,
    Skip,
}

impl Kind {
    fn of(frame: &Frame) -> Kind {
        match frame {
            Frame::Root => Kind::Root,
            Frame::Suite => Kind::Suite,
            Frame::Transparent => Kind::Transparent,
            Frame::Case(_) => Kind::Case,
            Frame::Failure => Kind::Failure,
            Frame::Reason => Kind::Reason,
            Frame::Text { .. } => Kind::Text,
            Frame::Skip => Kind::Skip,
        }
    }
}

impl Nunit {
    pub fn new(format: Format) -> Nunit {
        Nunit {
            format,
            tree: Tree::default(),
            stack: Vec::new(),
        }
    }

    fn root(&mut self, sink: &mut Sink, el: &Element) -> Frame {
        let a = el.attrs;
        let count = |name: &str| a.get(name).and_then(|v| v.trim().parse::<u64>().ok());
        let start = match self.format {
            Format::Nunit2 => ReportStart {
                root: RootKind::Nunit2,
                name: a.owned("name"),
                declared: DeclaredCounts {
                    tests: count("total"),
                    failures: count("failures"),
                    errors: count("errors"),
                    skipped: count("not-run"),
                },
                duration_us: None,
                timestamp: match (a.get("date"), a.get("time")) {
                    (Some(d), Some(t)) => Some(format!("{d}T{t}")),
                    (d, _) => d.map(str::to_string),
                },
                location: el.location,
            },
            _ => ReportStart {
                root: RootKind::Nunit3,
                name: a.owned("name"),
                declared: DeclaredCounts {
                    tests: count("total"),
                    failures: count("failed"),
                    errors: None,
                    skipped: count("skipped"),
                },
                duration_us: seconds(a.get("duration")),
                timestamp: a.owned("start-time"),
                location: el.location,
            },
        };
        sink.queue.push_back(Event::ReportStart(start));
        Frame::Root
    }

    fn suite(&mut self, sink: &mut Sink, el: &Element) -> Frame {
        let a = el.attrs;
        self.tree.announce(sink);
        let suite = self
            .tree
            .open(a.owned("name").unwrap_or_default(), el.location);
        suite.info.id = a.owned("id");
        suite.info.duration_us = seconds(a.get("duration").or_else(|| a.get("time")));
        suite.info.time_text = a.owned("duration").or_else(|| a.owned("time"));
        suite.info.timestamp = a.owned("start-time");
        suite.info.declared.tests = a.get("total").and_then(|v| v.trim().parse().ok());
        if let Some(kind) = a.get("type") {
            suite.add_property(Property {
                name: "type".into(),
                value: kind.to_string(),
            });
            if kind == "Assembly" {
                suite.info.file = a.owned("fullname").or_else(|| a.owned("name"));
            }
        }
        Frame::Suite
    }

    fn case(&mut self, el: &Element) -> Frame {
        let a = el.attrs;
        let raw_name = a.owned("name").unwrap_or_default();
        let mut case = new_case(self.tree.path(), raw_name.clone(), el.location);
        match self.format {
            Format::Nunit2 => {
                // NUnit 2 names a case by its full name: `Namespace.Class.Method(args)`.
                let (class, name) = split_full_name(&raw_name);
                case.classname = class;
                case.name = name;
                if let Some(d) = a.owned("description") {
                    push_property(&mut case, "Description", d);
                }
                case.duration_us = seconds(a.get("time"));
                case.time_text = a.owned("time");
            }
            _ => {
                case.classname = a.owned("classname").or_else(|| {
                    a.get("fullname")
                        .and_then(|f| split_full_name(f).0)
                        .filter(|c| !c.is_empty())
                });
                case.duration_us = seconds(a.get("duration"));
                case.time_text = a.owned("duration");
                case.timestamp = a.owned("start-time");
                if let Some(seed) = a.owned("seed") {
                    push_property(&mut case, "seed", seed);
                }
            }
        }
        Frame::Case(Box::new(CaseFrame {
            case,
            result: a.get("result").unwrap_or_default().trim().to_string(),
            label: a.get("label").unwrap_or_default().trim().to_string(),
            executed: a.get("executed").map(|e| e.eq_ignore_ascii_case("true")),
            success: a.get("success").map(|e| e.eq_ignore_ascii_case("true")),
            failure_message: None,
            stack_trace: None,
            reason: None,
        }))
    }

    fn owner_case(&mut self) -> Option<&mut CaseFrame> {
        for frame in self.stack.iter_mut().rev() {
            match frame {
                Frame::Case(c) => return Some(c),
                Frame::Suite | Frame::Root => return None,
                _ => {}
            }
        }
        None
    }

    fn property(&mut self, name: &str, value: String) {
        if let Some(case) = self.owner_case() {
            push_property(&mut case.case, name, value);
        } else if let Some(suite) = self.tree.current() {
            suite.add_property(Property {
                name: name.to_string(),
                value,
            });
        }
    }

    fn finish_text(&mut self, target: Target, capture: Capture) {
        let text = finish_text(capture);
        let in_failure = self
            .stack
            .iter()
            .rev()
            .take_while(|f| !matches!(f, Frame::Case(_) | Frame::Suite))
            .any(|f| matches!(f, Frame::Failure));
        match self.owner_case() {
            Some(case) => match target {
                Target::FailureMessage => {
                    case.failure_message = text.as_ref().and_then(|t| message_of(&t.text))
                }
                Target::ReasonMessage => {
                    case.reason = text.as_ref().and_then(|t| message_of(&t.text))
                }
                Target::StackTrace if in_failure => case.stack_trace = text,
                Target::Output => case.case.system_out = text,
                Target::AttachmentPath => {
                    if let Some(path) = text.and_then(|t| message_of(&t.text)) {
                        case.case.attachments.push(path);
                    }
                }
                Target::StackTrace => {}
            },
            None => {
                if let (Target::Output, Some(suite)) = (target, self.tree.current()) {
                    suite.system_out = text;
                }
            }
        }
    }

    fn finish_case(&mut self, sink: &mut Sink, frame: CaseFrame) {
        let CaseFrame {
            mut case,
            result,
            label,
            executed,
            success,
            failure_message,
            stack_trace,
            reason,
        } = frame;
        let status = match self.format {
            Format::Nunit2 => nunit2_status(&result, executed, success),
            _ => nunit3_status(&result, &label),
        };
        case.status = status;
        let kind_name = if label.is_empty() { result } else { label };
        let outcome = match status {
            Status::Failed | Status::Error => Some(Outcome {
                kind: if status == Status::Error {
                    OutcomeKind::Error
                } else {
                    OutcomeKind::Failure
                },
                message: failure_message.clone(),
                kind_name: Some(kind_name),
                details: stack_trace,
            }),
            Status::Skipped => Some(Outcome {
                kind: OutcomeKind::Skipped,
                message: reason.clone(),
                kind_name: Some(kind_name),
                details: None,
            }),
            _ => None,
        };
        if let Some(outcome) = outcome {
            case.message = outcome
                .message
                .clone()
                .or_else(|| first_line_of(&outcome.details));
            case.outcomes.push(outcome);
        } else {
            // A warning (NUnit 3 `Warning`) keeps its message.
            case.message = failure_message.or(reason);
        }
        self.tree.case(sink, case);
    }
}

impl XmlFormat for Nunit {
    fn start(&mut self, sink: &mut Sink, el: &Element) -> Result<()> {
        let limit = sink.capture_limit();
        let parent = self.stack.last().map(Kind::of);
        let in_case = matches!(parent, Some(Kind::Case));
        let frame = match (parent, el.name) {
            // The NUnit 3 adapter can write one assembly's `<test-suite>` on its own.
            (None, "test-suite") => {
                self.root(sink, el);
                self.suite(sink, el)
            }
            (None, _) => self.root(sink, el),
            (Some(Kind::Skip | Kind::Text), _) => Frame::Skip,
            (Some(Kind::Root | Kind::Suite | Kind::Transparent), "test-suite") => {
                self.suite(sink, el)
            }
            (Some(Kind::Root | Kind::Suite | Kind::Transparent), "test-case") => self.case(el),
            (Some(Kind::Suite | Kind::Transparent), "results") => Frame::Transparent,
            (Some(Kind::Suite | Kind::Case), "properties" | "categories" | "attachments") => {
                Frame::Transparent
            }
            (Some(Kind::Transparent), "property") => {
                if let Some(name) = el.attrs.owned("name") {
                    let value = el.attrs.owned("value").unwrap_or_default();
                    self.property(&name, value);
                }
                Frame::Skip
            }
            (Some(Kind::Transparent), "category") => {
                if let Some(name) = el.attrs.owned("name") {
                    self.property("Category", name);
                }
                Frame::Skip
            }
            (Some(Kind::Transparent), "attachment") if self.owner_case().is_some() => {
                Frame::Transparent
            }
            (Some(Kind::Transparent), "filePath") => Frame::Text {
                target: Target::AttachmentPath,
                capture: new_capture(limit),
            },
            (Some(Kind::Suite | Kind::Case), "failure") => Frame::Failure,
            (Some(Kind::Suite | Kind::Case), "reason") => Frame::Reason,
            (Some(Kind::Failure), "message") => Frame::Text {
                target: Target::FailureMessage,
                capture: new_capture(limit),
            },
            (Some(Kind::Reason), "message") => Frame::Text {
                target: Target::ReasonMessage,
                capture: new_capture(limit),
            },
            (Some(Kind::Failure), "stack-trace") => Frame::Text {
                target: Target::StackTrace,
                capture: new_capture(limit),
            },
            (Some(Kind::Suite | Kind::Case), "output") => Frame::Text {
                target: Target::Output,
                capture: Capture::new(limit, in_case),
            },
            _ => Frame::Skip,
        };
        self.stack.push(frame);
        Ok(())
    }

    fn wants_text(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Text { .. }))
    }

    fn text(&mut self, text: &str) {
        if let Some(Frame::Text { capture, .. }) = self.stack.last_mut() {
            capture.push(text);
        }
    }

    fn end(&mut self, sink: &mut Sink, _at: Location) -> Result<()> {
        match self.stack.pop() {
            Some(Frame::Suite) => self.tree.close(sink),
            Some(Frame::Case(case)) => self.finish_case(sink, *case),
            Some(Frame::Text { target, capture }) => self.finish_text(target, capture),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, _at: Location) -> Result<()> {
        self.tree.close_all(sink);
        Ok(())
    }
}

/// NUnit 3: `result` and `label` attributes.
fn nunit3_status(result: &str, label: &str) -> Status {
    // Older NUnit 3 engines wrote `result="Failed:Error"`.
    let (result, label) = match result.split_once(':') {
        Some((r, l)) => (r, l),
        None => (result, label),
    };
    match result {
        "Passed" | "Warning" => Status::Passed,
        "Failed" => match label {
            "Error" | "Cancelled" | "Invalid" => Status::Error,
            _ => Status::Failed,
        },
        "Skipped" | "Inconclusive" => Status::Skipped,
        _ => Status::Skipped,
    }
}

/// NUnit 2: `result` and `executed` attributes.
fn nunit2_status(result: &str, executed: Option<bool>, success: Option<bool>) -> Status {
    match result {
        "Success" => Status::Passed,
        "Failure" => Status::Failed,
        "Error" | "Cancelled" | "NotRunnable" => Status::Error,
        "Ignored" | "Skipped" | "Inconclusive" | "NotRun" => Status::Skipped,
        // NUnit 2.2 wrote only `executed` and `success`.
        _ if executed == Some(false) => Status::Skipped,
        _ if success == Some(false) => Status::Failed,
        _ => Status::Passed,
    }
}

/// Splits `Namespace.Class.Method(args)` into the class and the method with its
/// arguments, ignoring dots inside the arguments.
fn split_full_name(full: &str) -> (Option<String>, String) {
    let head_end = full.find('(').unwrap_or(full.len());
    match full[..head_end].rfind('.') {
        Some(dot) => (Some(full[..dot].to_string()), full[dot + 1..].to_string()),
        None => (None, full.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_split_before_the_arguments() {
        assert_eq!(
            split_full_name("A.B.C.M(1,\"x.y\")"),
            (Some("A.B.C".into()), "M(1,\"x.y\")".into())
        );
        assert_eq!(split_full_name("M"), (None, "M".into()));
    }

    #[test]
    fn statuses_follow_nunit() {
        assert_eq!(nunit3_status("Failed", "Error"), Status::Error);
        assert_eq!(nunit3_status("Failed:Error", ""), Status::Error);
        assert_eq!(nunit3_status("Failed", ""), Status::Failed);
        assert_eq!(nunit3_status("Inconclusive", ""), Status::Skipped);
        assert_eq!(nunit3_status("Warning", ""), Status::Passed);
        assert_eq!(nunit3_status("Skipped", "Explicit"), Status::Skipped);
        assert_eq!(
            nunit2_status("NotRunnable", Some(false), None),
            Status::Error
        );
        assert_eq!(nunit2_status("", Some(false), None), Status::Skipped);
        assert_eq!(nunit2_status("", Some(true), Some(false)), Status::Failed);
    }
}
