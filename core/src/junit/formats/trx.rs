//! Visual Studio / `dotnet test --logger trx` result files (`<TestRun>`, namespace
//! `http://microsoft.com/schemas/VisualStudio/TeamTest/2010`).
//!
//! A `<UnitTestResult>` is joined to its `<UnitTest>` by `testId`: classname = the
//! `<TestMethod>`'s `className` (without an assembly qualification), name = the
//! result's `testName`. A result with `<InnerResults>` (data-driven rows) yields one
//! case per inner result, not one for the parent. `<ResultFiles>` become attachments,
//! `<StdOut>`/`<StdErr>` the output, `<ErrorInfo>` the outcome; test categories,
//! owners, description and properties of the definition become properties. All cases
//! are in one suite named after the run.
//!
//! Memory: TRX writers put `<Results>` before `<TestDefinitions>`. Definitions read
//! first are kept (a few strings per test) and results then stream. Results read
//! first are held, each with its bounded output, until the definitions are read;
//! at most [`MAX_HELD_RESULTS`] are held (`trx.too_many_held_results` beyond).
//!
//! Outcomes: `Passed`, `PassedButRunAborted`, `Warning`, `Completed` are passed;
//! `Failed` and `Timeout` failed; `Error`, `Aborted`, `Disconnected` and `NotRunnable`
//! error; `NotExecuted`, `Inconclusive`, `Pending`, `InProgress` skipped.

use super::text::{finish_text, first_line_of, message_of, new_capture, timespan_us};
use super::tree::{MAX_PROPERTIES, Tree, new_case, push_property};
use super::{Element, Sink, XmlFormat};
use crate::error::{Error, Location, Result};
use crate::junit::{Capture, Event, ReportStart};
use crate::model::{
    CapturedText, DeclaredCounts, Outcome, OutcomeKind, Property, RootKind, Status, TestCase,
};
use std::collections::BTreeMap;

/// Results held while their definitions are not read yet.
pub const MAX_HELD_RESULTS: usize = 200_000;

pub(crate) struct Trx {
    tree: Tree,
    stack: Vec<Frame>,
    run_name: String,
    /// Definitions by test id, once `<TestDefinitions>` was read.
    definitions: BTreeMap<String, Definition>,
    definitions_read: bool,
    held: Vec<Held>,
}

#[derive(Default)]
struct Definition {
    class: Option<String>,
    storage: Option<String>,
    properties: Vec<Property>,
}

struct Held {
    test_id: String,
    case: TestCase,
}

struct ResultFrame {
    test_id: String,
    case: TestCase,
    outcome: String,
    message: Option<String>,
    stack_trace: Option<CapturedText>,
    has_inner: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    StdOut,
    StdErr,
    Message,
    StackTrace,
    Description,
    PropertyKey,
    PropertyValue,
}

enum Frame {
    Root,
    Results,
    Result(Box<ResultFrame>),
    /// `<Output>`, `<ErrorInfo>`, `<ResultFiles>`, `<InnerResults>` of a result.
    ResultPart,
    Definitions,
    Definition {
        id: String,
        def: Definition,
    },
    DefinitionPart,
    Property {
        key: Option<String>,
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
    Results,
    Result,
    ResultPart,
    Definitions,
    Definition,
    DefinitionPart,
    Property,
    Other,
}

impl Kind {
    fn of(frame: &Frame) -> Kind {
        match frame {
            Frame::Root => Kind::Root,
            Frame::Results => Kind::Results,
            Frame::Result(_) => Kind::Result,
            Frame::ResultPart => Kind::ResultPart,
            Frame::Definitions => Kind::Definitions,
            Frame::Definition { .. } => Kind::Definition,
            Frame::DefinitionPart => Kind::DefinitionPart,
            Frame::Property { .. } => Kind::Property,
            Frame::Text { .. } | Frame::Skip => Kind::Other,
        }
    }
}

impl Trx {
    pub fn new() -> Trx {
        Trx {
            tree: Tree::default(),
            stack: Vec::new(),
            run_name: String::new(),
            definitions: BTreeMap::new(),
            definitions_read: false,
            held: Vec::new(),
        }
    }

    fn result(&mut self, el: &Element) -> Frame {
        let a = el.attrs;
        let mut case = new_case(
            Vec::new(),
            a.owned("testName").unwrap_or_default(),
            el.location,
        );
        case.time_text = a.owned("duration");
        case.duration_us = a.get("duration").and_then(timespan_us);
        case.timestamp = a.owned("startTime");
        if let Some(host) = a.owned("computerName") {
            push_property(&mut case, "computerName", host);
        }
        Frame::Result(Box::new(ResultFrame {
            test_id: a.owned("testId").unwrap_or_default(),
            case,
            outcome: a.get("outcome").unwrap_or_default().trim().to_string(),
            message: None,
            stack_trace: None,
            has_inner: false,
        }))
    }

    fn result_mut(&mut self) -> Option<&mut ResultFrame> {
        self.stack.iter_mut().rev().find_map(|f| match f {
            Frame::Result(r) => Some(r.as_mut()),
            _ => None,
        })
    }

    fn definition_mut(&mut self) -> Option<&mut Definition> {
        self.stack.iter_mut().rev().find_map(|f| match f {
            Frame::Definition { def, .. } => Some(def),
            _ => None,
        })
    }

    fn finish_text(&mut self, target: Target, capture: Capture) {
        let text = finish_text(capture);
        match target {
            Target::StdOut | Target::StdErr | Target::Message | Target::StackTrace => {
                let Some(result) = self.result_mut() else {
                    return;
                };
                match target {
                    Target::StdOut => result.case.system_out = text,
                    Target::StdErr => result.case.system_err = text,
                    Target::Message => result.message = text.and_then(|t| message_of(&t.text)),
                    _ => result.stack_trace = text,
                }
            }
            Target::Description => {
                if let (Some(def), Some(t)) = (self.definition_mut(), text) {
                    push(
                        &mut def.properties,
                        "Description",
                        t.text.trim().to_string(),
                    );
                }
            }
            Target::PropertyKey => {
                if let Some(Frame::Property { key }) = self.stack.last_mut() {
                    *key = text.map(|t| t.text.trim().to_string());
                }
            }
            Target::PropertyValue => {
                let key = match self.stack.last() {
                    Some(Frame::Property { key: Some(k) }) => k.clone(),
                    _ => return,
                };
                let value = text.map(|t| t.text.trim().to_string()).unwrap_or_default();
                if let Some(def) = self.definition_mut() {
                    push(&mut def.properties, &key, value);
                }
            }
        }
    }

    fn finish_result(&mut self, sink: &mut Sink, frame: ResultFrame, at: Location) -> Result<()> {
        let ResultFrame {
            test_id,
            mut case,
            outcome,
            message,
            stack_trace,
            has_inner,
        } = frame;
        // Data-driven: the rows are the cases, the parent only sums them up.
        if has_inner {
            return Ok(());
        }
        case.status = trx_status(&outcome);
        let kind = match case.status {
            Status::Failed => Some(OutcomeKind::Failure),
            Status::Error => Some(OutcomeKind::Error),
            Status::Skipped => Some(OutcomeKind::Skipped),
            _ => None,
        };
        if let Some(kind) = kind {
            case.message = message.clone().or_else(|| first_line_of(&stack_trace));
            case.outcomes.push(Outcome {
                kind,
                message,
                kind_name: Some(outcome),
                details: stack_trace,
            });
        } else {
            case.message = message;
        }
        if self.definitions_read {
            self.emit(sink, &test_id, case);
            return Ok(());
        }
        if self.held.len() >= MAX_HELD_RESULTS {
            return Err(Error::new(
                "trx.too_many_held_results",
                format!(
                    "more than {MAX_HELD_RESULTS} results come before the test definitions; they are held in memory until the definitions are read"
                ),
            )
            .at(at)
            .with_hint("split the run into several TRX files (e.g. one per test project)"));
        }
        self.held.push(Held { test_id, case });
        Ok(())
    }

    /// Joins a result to its definition and yields it.
    fn emit(&mut self, sink: &mut Sink, test_id: &str, mut case: TestCase) {
        if self.tree.depth() == 0 {
            self.tree.open(self.run_name.clone(), case.location);
        }
        case.suite = self.tree.path();
        match self.definitions.get(test_id) {
            Some(def) => {
                case.classname = def.class.clone();
                case.file = def.storage.clone();
                for p in &def.properties {
                    push_property(&mut case, &p.name, p.value.clone());
                }
            }
            None => sink.warn(
                "trx.unknown_test_id",
                format!(
                    "result `{}` names testId `{test_id}`, which no <UnitTest> defines; read without a class name",
                    case.name
                ),
                Some(case.location),
            ),
        }
        self.tree.case(sink, case);
    }

    fn release_held(&mut self, sink: &mut Sink) {
        for held in std::mem::take(&mut self.held) {
            self.emit(sink, &held.test_id, held.case);
        }
    }
}

fn push(list: &mut Vec<Property>, name: &str, value: String) {
    if list.len() < MAX_PROPERTIES {
        list.push(Property {
            name: name.to_string(),
            value,
        });
    }
}

impl XmlFormat for Trx {
    fn start(&mut self, sink: &mut Sink, el: &Element) -> Result<()> {
        let limit = sink.capture_limit();
        let parent = self.stack.last().map(Kind::of);
        let text = |target| Frame::Text {
            target,
            capture: new_capture(limit),
        };
        let frame = match (parent, el.name) {
            (None, _) => {
                self.run_name = el.attrs.owned("name").unwrap_or_default();
                sink.queue.push_back(Event::ReportStart(ReportStart {
                    root: RootKind::Trx,
                    name: el.attrs.owned("name"),
                    declared: DeclaredCounts::default(),
                    duration_us: None,
                    timestamp: None,
                    location: el.location,
                }));
                Frame::Root
            }
            (Some(Kind::Root), "Results") => Frame::Results,
            // UnitTestResult, and the rarer TestResultAggregation (ordered tests),
            // GenericTestResult, ManualTestResult, WebTestResult.
            (Some(Kind::Results), name) if is_result(name) => self.result(el),
            (Some(Kind::ResultPart), name) if is_result(name) => {
                if let Some(parent) = self.result_mut() {
                    parent.has_inner = true;
                }
                self.result(el)
            }
            (Some(Kind::Result), "Output" | "ResultFiles" | "InnerResults") => Frame::ResultPart,
            (Some(Kind::ResultPart), "ErrorInfo") => Frame::ResultPart,
            (Some(Kind::ResultPart), "StdOut") => Frame::Text {
                target: Target::StdOut,
                capture: Capture::new(limit, true),
            },
            (Some(Kind::ResultPart), "StdErr") => text(Target::StdErr),
            (Some(Kind::ResultPart), "Message") => text(Target::Message),
            (Some(Kind::ResultPart), "StackTrace") => text(Target::StackTrace),
            (Some(Kind::ResultPart), "ResultFile") => {
                if let (Some(path), Some(result)) = (el.attrs.owned("path"), self.result_mut()) {
                    result.case.attachments.push(path);
                }
                Frame::Skip
            }
            (Some(Kind::Root), "TestDefinitions") => Frame::Definitions,
            (Some(Kind::Definitions), _) => Frame::Definition {
                id: el.attrs.owned("id").unwrap_or_default(),
                def: Definition {
                    storage: el.attrs.owned("storage"),
                    ..Definition::default()
                },
            },
            (Some(Kind::Definition), "TestMethod") => {
                let class = el
                    .attrs
                    .get("className")
                    .map(|c| c.split(',').next().unwrap_or_default().trim().to_string());
                if let Some(def) = self.definition_mut() {
                    def.class = class.filter(|c| !c.is_empty());
                }
                Frame::Skip
            }
            (Some(Kind::Definition), "Description") => text(Target::Description),
            (
                Some(Kind::Definition | Kind::DefinitionPart),
                "TestCategory" | "Owners" | "Properties",
            ) => Frame::DefinitionPart,
            (Some(Kind::DefinitionPart), "TestCategoryItem") => {
                if let (Some(c), Some(def)) =
                    (el.attrs.owned("TestCategory"), self.definition_mut())
                {
                    push(&mut def.properties, "Category", c);
                }
                Frame::Skip
            }
            (Some(Kind::DefinitionPart), "Owner") => {
                if let (Some(o), Some(def)) = (el.attrs.owned("name"), self.definition_mut()) {
                    push(&mut def.properties, "Owner", o);
                }
                Frame::Skip
            }
            (Some(Kind::DefinitionPart), "Property") => Frame::Property { key: None },
            (Some(Kind::Property), "Key") => text(Target::PropertyKey),
            (Some(Kind::Property), "Value") => text(Target::PropertyValue),
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
            Some(Frame::Result(result)) => self.finish_result(sink, *result, at)?,
            Some(Frame::Text { target, capture }) => self.finish_text(target, capture),
            Some(Frame::Definition { id, def }) => {
                self.definitions.insert(id, def);
            }
            Some(Frame::Definitions) => {
                self.definitions_read = true;
                self.release_held(sink);
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, at: Location) -> Result<()> {
        if !self.held.is_empty() {
            sink.warn(
                "trx.no_definitions",
                "the TRX file has results but no <TestDefinitions>; cases are read without class names".to_string(),
                Some(at),
            );
            self.definitions_read = true;
            self.release_held(sink);
        }
        self.tree.close_all(sink);
        Ok(())
    }
}

fn is_result(name: &str) -> bool {
    name.ends_with("Result") || name == "TestResultAggregation"
}

/// A TRX outcome (`TestOutcome` of vstest) as a tmbridge status.
fn trx_status(outcome: &str) -> Status {
    match outcome {
        "Passed" | "PassedButRunAborted" | "Warning" | "Completed" => Status::Passed,
        "Failed" | "Timeout" => Status::Failed,
        "Error" | "Aborted" | "Disconnected" | "NotRunnable" => Status::Error,
        "NotExecuted" | "Inconclusive" | "Pending" | "InProgress" => Status::Skipped,
        // vstest writes no other outcome; an unknown one is not claimed to pass.
        _ => Status::Skipped,
    }
}
