//! xUnit.net v2 result files (`<assemblies>`, or a bare `<assembly>`).
//!
//! Each `<assembly>` is a suite (named by its file name; the full path is its `file`),
//! each `<collection>` (xUnit.net v1: `<class>`) a suite inside it, each `<test>` a case: classname = `type`,
//! name = the display name without the `type.` prefix (so `classname.name` is the
//! display name). Traits become properties, `<output>` the case's output, `<reason>`
//! the skip reason, `<failure>` (message, stack trace, exception type) the outcome.
//! Statuses: `Pass` passed, `Fail` failed, `Skip` and `NotRun` skipped. Assembly-level
//! `<errors>` (fixture or cleanup failures) are not tests: each is a warning.

use super::text::{finish_text, first_line_of, message_of, new_capture, seconds};
use super::tree::{Tree, new_case, push_property};
use super::{Element, Sink, XmlFormat};
use crate::error::{Location, Result};
use crate::junit::{Capture, Event, ReportStart};
use crate::model::{
    CapturedText, DeclaredCounts, Outcome, OutcomeKind, RootKind, Status, TestCase,
};

pub(crate) struct Xunit {
    tree: Tree,
    stack: Vec<Frame>,
}

struct CaseFrame {
    case: TestCase,
    result: String,
    exception_type: Option<String>,
    failure_message: Option<String>,
    stack_trace: Option<CapturedText>,
    reason: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Message,
    StackTrace,
    Reason,
    Output,
    ErrorMessage,
}

enum Frame {
    Root,
    Assembly,
    Collection,
    Case(Box<CaseFrame>),
    Traits,
    Failure,
    Errors,
    Error {
        name: String,
        message: Option<String>,
    },
    Text {
        target: Target,
        capture: Capture,
    },
    Skip,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Assembly,
    Collection,
    Case,
    Traits,
    Failure,
    Errors,
    Error,
    Other,
}

impl Kind {
    fn of(frame: &Frame) -> Kind {
        match frame {
            Frame::Root => Kind::Root,
            Frame::Assembly => Kind::Assembly,
            Frame::Collection => Kind::Collection,
            Frame::Case(_) => Kind::Case,
            Frame::Traits => Kind::Traits,
            Frame::Failure => Kind::Failure,
            Frame::Errors => Kind::Errors,
            Frame::Error { .. } => Kind::Error,
            Frame::Text { .. } | Frame::Skip => Kind::Other,
        }
    }
}

impl Xunit {
    pub fn new() -> Xunit {
        Xunit {
            tree: Tree::default(),
            stack: Vec::new(),
        }
    }

    fn report_start(sink: &mut Sink, el: &Element) {
        let a = el.attrs;
        let count = |name: &str| a.get(name).and_then(|v| v.trim().parse::<u64>().ok());
        sink.queue.push_back(Event::ReportStart(ReportStart {
            root: RootKind::Xunit2,
            name: None,
            declared: DeclaredCounts {
                tests: count("total"),
                failures: count("failed"),
                errors: None,
                skipped: count("skipped"),
            },
            duration_us: seconds(a.get("time")),
            timestamp: a.owned("timestamp").or_else(|| {
                match (a.get("run-date"), a.get("run-time")) {
                    (Some(d), Some(t)) => Some(format!("{d}T{t}")),
                    _ => None,
                }
            }),
            location: el.location,
        }));
    }

    fn assembly(&mut self, sink: &mut Sink, el: &Element) -> Frame {
        let a = el.attrs;
        let full = a.owned("name").unwrap_or_default();
        let short = full
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_string();
        self.tree.announce(sink);
        let suite = self.tree.open(short, el.location);
        suite.info.file = Some(full).filter(|f| !f.is_empty());
        suite.info.duration_us = seconds(a.get("time"));
        suite.info.time_text = a.owned("time");
        suite.info.timestamp = match (a.get("run-date"), a.get("run-time")) {
            (Some(d), Some(t)) => Some(format!("{d}T{t}")),
            _ => None,
        };
        suite.info.declared.tests = a.get("total").and_then(|v| v.trim().parse().ok());
        for key in ["test-framework", "environment", "config-file"] {
            if let Some(value) = a.owned(key) {
                suite.add_property(crate::model::Property {
                    name: key.to_string(),
                    value,
                });
            }
        }
        Frame::Assembly
    }

    fn collection(&mut self, sink: &mut Sink, el: &Element) -> Frame {
        let a = el.attrs;
        self.tree.announce(sink);
        let suite = self
            .tree
            .open(a.owned("name").unwrap_or_default(), el.location);
        suite.info.duration_us = seconds(a.get("time"));
        suite.info.time_text = a.owned("time");
        suite.info.declared.tests = a.get("total").and_then(|v| v.trim().parse().ok());
        Frame::Collection
    }

    fn case(&mut self, el: &Element) -> Frame {
        let a = el.attrs;
        let display = a.owned("name").unwrap_or_default();
        let class = a.owned("type").filter(|t| !t.is_empty());
        let name = match &class {
            Some(c) => display
                .strip_prefix(c.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|rest| !rest.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| display.clone()),
            None => display.clone(),
        };
        let mut case = new_case(self.tree.path(), name, el.location);
        case.classname = class;
        case.duration_us = seconds(a.get("time"));
        case.time_text = a.owned("time");
        case.file = a.owned("source-file");
        case.line = a.get("source-line").and_then(|l| l.trim().parse().ok());
        if let Some(method) = a.owned("method") {
            push_property(&mut case, "method", method);
        }
        Frame::Case(Box::new(CaseFrame {
            case,
            result: a.get("result").unwrap_or_default().trim().to_string(),
            exception_type: None,
            failure_message: None,
            stack_trace: None,
            reason: None,
        }))
    }

    fn case_mut(&mut self) -> Option<&mut CaseFrame> {
        self.stack.iter_mut().rev().find_map(|f| match f {
            Frame::Case(c) => Some(c.as_mut()),
            _ => None,
        })
    }

    fn finish_text(&mut self, target: Target, capture: Capture) {
        let text = finish_text(capture);
        if target == Target::ErrorMessage {
            if let Some(Frame::Error { message, .. }) = self.stack.last_mut() {
                *message = text.and_then(|t| message_of(&t.text));
            }
            return;
        }
        let Some(case) = self.case_mut() else {
            return;
        };
        match target {
            Target::Message => {
                case.failure_message = text.as_ref().and_then(|t| message_of(&t.text))
            }
            Target::StackTrace => case.stack_trace = text,
            Target::Reason => case.reason = text.as_ref().and_then(|t| message_of(&t.text)),
            Target::Output => case.case.system_out = text,
            Target::ErrorMessage => {}
        }
    }

    fn finish_case(&mut self, sink: &mut Sink, frame: CaseFrame) {
        let CaseFrame {
            mut case,
            result,
            exception_type,
            failure_message,
            stack_trace,
            reason,
        } = frame;
        case.status = match result.as_str() {
            "Fail" => Status::Failed,
            "Skip" | "NotRun" => Status::Skipped,
            _ => Status::Passed,
        };
        let outcome = match case.status {
            Status::Failed => Some(Outcome {
                kind: OutcomeKind::Failure,
                message: failure_message,
                kind_name: exception_type,
                details: stack_trace,
            }),
            Status::Skipped => Some(Outcome {
                kind: OutcomeKind::Skipped,
                message: reason,
                kind_name: Some(result),
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
        }
        self.tree.case(sink, case);
    }
}

impl XmlFormat for Xunit {
    fn start(&mut self, sink: &mut Sink, el: &Element) -> Result<()> {
        let limit = sink.capture_limit();
        let parent = self.stack.last().map(Kind::of);
        let frame = match (parent, el.name) {
            (None, "assembly") => {
                Self::report_start(sink, el);
                self.assembly(sink, el)
            }
            (None, _) => {
                Self::report_start(sink, el);
                Frame::Root
            }
            (Some(Kind::Root), "assembly") => self.assembly(sink, el),
            // xUnit.net v1 groups tests by `<class>`, v2 by `<collection>`.
            (Some(Kind::Assembly), "collection" | "class") => self.collection(sink, el),
            (Some(Kind::Assembly), "errors") => Frame::Errors,
            (Some(Kind::Errors), "error") => Frame::Error {
                name: el
                    .attrs
                    .owned("name")
                    .or_else(|| el.attrs.owned("type"))
                    .unwrap_or_default(),
                message: None,
            },
            (Some(Kind::Error), "failure") => Frame::Failure,
            (Some(Kind::Collection | Kind::Assembly), "test") => self.case(el),
            (Some(Kind::Case), "traits") => Frame::Traits,
            (Some(Kind::Traits), "trait") => {
                let name = el.attrs.owned("name").unwrap_or_default();
                let value = el.attrs.owned("value").unwrap_or_default();
                if let Some(case) = self.case_mut() {
                    push_property(&mut case.case, &name, value);
                }
                Frame::Skip
            }
            (Some(Kind::Case), "failure") => {
                let kind = el.attrs.owned("exception-type");
                if let Some(case) = self.case_mut() {
                    case.exception_type = kind;
                }
                Frame::Failure
            }
            (Some(Kind::Failure), "message") => {
                let in_error = self
                    .stack
                    .iter()
                    .rev()
                    .nth(1)
                    .is_some_and(|f| matches!(f, Frame::Error { .. }));
                Frame::Text {
                    target: if in_error {
                        Target::ErrorMessage
                    } else {
                        Target::Message
                    },
                    capture: new_capture(limit),
                }
            }
            (Some(Kind::Failure), "stack-trace") => Frame::Text {
                target: Target::StackTrace,
                capture: new_capture(limit),
            },
            (Some(Kind::Case), "reason") => Frame::Text {
                target: Target::Reason,
                capture: new_capture(limit),
            },
            (Some(Kind::Case), "output") => Frame::Text {
                target: Target::Output,
                capture: Capture::new(limit, true),
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

    fn end(&mut self, sink: &mut Sink, at: Location) -> Result<()> {
        match self.stack.pop() {
            Some(Frame::Assembly | Frame::Collection) => self.tree.close(sink),
            Some(Frame::Case(case)) => self.finish_case(sink, *case),
            Some(Frame::Text { target, capture }) => {
                // The text of an error's message belongs to the <error>, two frames up.
                if target == Target::ErrorMessage {
                    let text = finish_text(capture).and_then(|t| message_of(&t.text));
                    if let Some(Frame::Error { message, .. }) = self
                        .stack
                        .iter_mut()
                        .rev()
                        .find(|f| matches!(f, Frame::Error { .. }))
                    {
                        *message = text;
                    }
                } else {
                    self.finish_text(target, capture);
                }
            }
            Some(Frame::Error { name, message }) => sink.warn(
                "xunit.assembly_error",
                format!(
                    "the run reports an error outside any test ({name}): {}",
                    message.unwrap_or_else(|| "no message".to_string())
                ),
                Some(at),
            ),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, _at: Location) -> Result<()> {
        self.tree.close_all(sink);
        Ok(())
    }
}
