//! Robot Framework `output.xml` (RF 3 to 7 schemas).
//!
//! Suites nest as in the file; each `<test>` is a case with classname = the suite path
//! joined by `.` (Robot's own long name) and name = the test name. Keywords and control
//! structures (`kw`, `for`, `iter`, `if`, `branch`, `try`, `while`, `group`, `variable`,
//! `return`, `break`, `continue`, `error`) become steps, nested ones flattened with their
//! depth. Tags become `tag` properties, the documentation a `documentation` property,
//! `<msg>` lines the case's output. Statuses: `PASS` passed, `FAIL` failed, `SKIP`
//! and `NOT RUN` skipped.
//!
//! Times: RF 7 writes `start` and `elapsed` (seconds); RF 3 to 6 `starttime` and
//! `endtime` (`20240101 12:00:00.000`).
//!
//! Suite setup failures are already in the tests' own statuses. A failed (or skipped)
//! suite teardown is not: like Robot (and its statistics), the tests of that suite and
//! below become failed (or skipped) with Robot's message. To do that the cases of a
//! top-level suite are held until it ends, at most [`MAX_HELD_CASES`]; past that they
//! are released with a warning and a later teardown failure no longer changes them.

use super::text::{MAX_MESSAGE_BYTES, message_of, new_capture, seconds};
use super::tree::{MAX_STEPS, Tree, new_case, push_property};
use super::{Element, Sink, XmlFormat};
use crate::error::{Location, Result};
use crate::junit::{Capture, Event, ReportStart, floor_char_boundary};
use crate::model::{Outcome, OutcomeKind, Property, RootKind, Status, Step, TestCase};
use std::collections::VecDeque;

/// Cases held for suite-teardown failures before they are released unchanged.
pub const MAX_HELD_CASES: usize = 100_000;
/// Longest step name kept (keyword name and arguments), in bytes.
const MAX_STEP_NAME_BYTES: usize = 1024;

pub(crate) struct Robot {
    tree: Tree,
    stack: Vec<Frame>,
    /// Events of the open top-level suite, held for teardown failures.
    held: VecDeque<Event>,
    held_cases: usize,
    released_early: bool,
}

struct TestFrame {
    case: TestCase,
    output: Capture,
    steps_dropped: u64,
}

struct StepFrame {
    /// Index in the case's steps; `None` outside a test or past the bound.
    index: Option<usize>,
    /// SETUP / TEARDOWN of a suite (a keyword outside any test).
    suite_kind: Option<String>,
    name: String,
    args: Vec<String>,
    fail_message: Option<String>,
}

struct StatusFrame {
    status: Status,
    duration_us: Option<u64>,
    timestamp: Option<String>,
    capture: Capture,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Doc,
    Tag,
    Meta,
    Arg,
    Msg,
}

enum Frame {
    Root,
    Suite {
        teardown: Option<(Status, String)>,
    },
    Test(Box<TestFrame>),
    Step(Box<StepFrame>),
    Status(Box<StatusFrame>),
    Text {
        target: Target,
        label: String,
        capture: Capture,
    },
    Transparent,
    Skip,
}

impl Robot {
    pub fn new() -> Robot {
        Robot {
            tree: Tree::default(),
            stack: Vec::new(),
            held: VecDeque::new(),
            held_cases: 0,
            released_early: false,
        }
    }

    fn test_mut(&mut self) -> Option<&mut TestFrame> {
        self.stack.iter_mut().rev().find_map(|f| match f {
            Frame::Test(t) => Some(t.as_mut()),
            _ => None,
        })
    }

    /// Nesting depth of the step about to start inside the current test.
    fn step_depth(&self) -> u32 {
        let steps = self
            .stack
            .iter()
            .rev()
            .take_while(|f| !matches!(f, Frame::Test(_) | Frame::Suite { .. }))
            .filter(|f| matches!(f, Frame::Step(_)))
            .count();
        u32::try_from(steps).unwrap_or(u32::MAX)
    }

    fn in_test(&self) -> bool {
        self.stack.iter().any(|f| matches!(f, Frame::Test(_)))
    }

    /// Runs `f` with a sink whose queue is the held events.
    fn held_sink<T>(&mut self, sink: &mut Sink, f: impl FnOnce(&mut Tree, &mut Sink) -> T) -> T {
        let mut held = Sink {
            queue: &mut self.held,
            warnings: sink.warnings,
            warnings_dropped: sink.warnings_dropped,
            totals: sink.totals,
            suites: sink.suites,
            opts: sink.opts,
        };
        f(&mut self.tree, &mut held)
    }

    fn release(&mut self, sink: &mut Sink) {
        sink.queue.extend(self.held.drain(..));
        self.held_cases = 0;
    }

    fn suite(&mut self, sink: &mut Sink, el: &Element) -> Frame {
        let a = el.attrs;
        let name = a.owned("name").unwrap_or_default();
        self.held_sink(sink, |tree, held| {
            tree.announce(held);
            let suite = tree.open(name, el.location);
            suite.info.id = a.owned("id");
            suite.info.file = a.owned("source");
        });
        Frame::Suite { teardown: None }
    }

    fn test(&mut self, sink: &Sink, el: &Element) -> Frame {
        let a = el.attrs;
        let path = self.tree.path();
        let mut case = new_case(
            path.clone(),
            a.owned("name").unwrap_or_default(),
            el.location,
        );
        case.classname = Some(path.join(".")).filter(|c| !c.is_empty());
        case.line = a.get("line").and_then(|l| l.trim().parse().ok());
        case.file = self.tree.current().and_then(|s| s.info.file.clone());
        if let Some(id) = a.owned("id") {
            push_property(&mut case, "id", id);
        }
        Frame::Test(Box::new(TestFrame {
            case,
            output: new_capture(sink.capture_limit()),
            steps_dropped: 0,
        }))
    }

    fn step(&mut self, el: &Element) -> Frame {
        let a = el.attrs;
        let kind = match el.name {
            "kw" => a
                .get("type")
                .map(|t| t.trim().to_ascii_uppercase())
                .filter(|t| !matches!(t.as_str(), "" | "KW" | "KEYWORD")),
            "branch" => a.owned("type"),
            "variable" => Some("VAR".to_string()),
            "iter" => Some("ITERATION".to_string()),
            other => Some(other.to_ascii_uppercase()),
        };
        let name = match el.name {
            "kw" | "variable" | "group" => a.owned("name").unwrap_or_default(),
            "for" => a.owned("flavor").unwrap_or_default(),
            _ => a
                .owned("condition")
                .or_else(|| a.owned("patterns"))
                .unwrap_or_default(),
        };
        if !self.in_test() {
            // Only a suite's own setup and teardown; a keyword's `[Teardown]` nested in
            // them is not the suite's.
            let own = matches!(self.stack.last(), Some(Frame::Suite { .. }));
            let suite_kind = kind.filter(|k| own && (k == "SETUP" || k == "TEARDOWN"));
            return Frame::Step(Box::new(StepFrame {
                index: None,
                suite_kind,
                name,
                args: Vec::new(),
                fail_message: None,
            }));
        }
        let depth = self.step_depth();
        let Some(test) = self.test_mut() else {
            return Frame::Skip;
        };
        let index = if test.case.steps.len() < MAX_STEPS {
            test.case.steps.push(Step {
                keyword: kind,
                name: String::new(),
                status: Status::Passed,
                duration_us: None,
                message: None,
                depth,
            });
            Some(test.case.steps.len() - 1)
        } else {
            test.steps_dropped += 1;
            None
        };
        Frame::Step(Box::new(StepFrame {
            index,
            suite_kind: None,
            name,
            args: Vec::new(),
            fail_message: None,
        }))
    }

    fn status(el: &Element, limit: usize) -> Frame {
        let a = el.attrs;
        let duration_us = match a.get("elapsed") {
            Some(elapsed) => seconds(Some(elapsed)),
            None => match (a.get("starttime"), a.get("endtime")) {
                (Some(s), Some(e)) => match (rf_time_us(s), rf_time_us(e)) {
                    (Some(s), Some(e)) => e.checked_sub(s),
                    _ => None,
                },
                _ => None,
            },
        };
        Frame::Status(Box::new(StatusFrame {
            status: robot_status(a.get("status").unwrap_or_default()),
            duration_us,
            timestamp: a.owned("start").or_else(|| a.owned("starttime")),
            capture: new_capture(limit),
        }))
    }

    fn end_status(&mut self, frame: StatusFrame) {
        let message = frame.capture.finish().0.and_then(|t| message_of(&t.text));
        match self.stack.last_mut() {
            Some(Frame::Test(test)) => {
                let case = &mut test.case;
                case.status = frame.status;
                case.duration_us = frame.duration_us;
                case.timestamp = frame.timestamp;
                case.message = message.clone();
                let kind = match frame.status {
                    Status::Failed => Some(OutcomeKind::Failure),
                    Status::Skipped => Some(OutcomeKind::Skipped),
                    _ => None,
                };
                if let Some(kind) = kind {
                    case.outcomes.push(Outcome {
                        kind,
                        message,
                        kind_name: None,
                        details: None,
                    });
                }
            }
            Some(Frame::Step(step)) => {
                let message = message.or_else(|| step.fail_message.clone());
                if let Some(kind) = step.suite_kind.clone() {
                    if kind == "TEARDOWN"
                        && matches!(frame.status, Status::Failed | Status::Skipped)
                    {
                        let text = message.unwrap_or_default();
                        if let Some(Frame::Suite { teardown }) = self
                            .stack
                            .iter_mut()
                            .rev()
                            .find(|f| matches!(f, Frame::Suite { .. }))
                        {
                            *teardown = Some((frame.status, text));
                        }
                    }
                    return;
                }
                let Some(index) = step.index else {
                    return;
                };
                if let Some(slot) = self.test_mut().and_then(|t| t.case.steps.get_mut(index)) {
                    slot.status = frame.status;
                    slot.duration_us = frame.duration_us;
                    if matches!(frame.status, Status::Failed | Status::Skipped) {
                        slot.message = message;
                    }
                }
            }
            _ => {}
        }
    }

    fn end_step(&mut self, step: StepFrame) {
        let Some(index) = step.index else {
            return;
        };
        let mut name = step.name;
        for arg in &step.args {
            if !name.is_empty() {
                name.push_str("    ");
            }
            name.push_str(arg);
        }
        name.truncate(floor_char_boundary(&name, MAX_STEP_NAME_BYTES));
        if let Some(slot) = self.test_mut().and_then(|t| t.case.steps.get_mut(index)) {
            slot.name = name;
        }
    }

    fn end_text(&mut self, target: Target, label: String, capture: Capture) {
        let text = capture.finish().0.map(|t| t.text).unwrap_or_default();
        match target {
            Target::Arg => {
                if let Some(Frame::Step(step)) = self.stack.last_mut() {
                    let mut arg = text;
                    arg.truncate(floor_char_boundary(&arg, MAX_STEP_NAME_BYTES));
                    step.args.push(arg);
                }
            }
            Target::Msg => {
                if label == "FAIL"
                    && let Some(Frame::Step(step)) = self.stack.last_mut()
                    && step.fail_message.is_none()
                {
                    step.fail_message = message_of(&text);
                }
                if let Some(test) = self.test_mut() {
                    test.output.push(&format!("[{label}] {text}\n"));
                }
            }
            Target::Doc | Target::Tag | Target::Meta => {
                let (name, value) = match target {
                    Target::Doc => ("documentation".to_string(), text.trim().to_string()),
                    Target::Tag => ("tag".to_string(), text.trim().to_string()),
                    _ => (label, text.trim().to_string()),
                };
                match self.stack.last_mut() {
                    Some(Frame::Test(test)) => push_property(&mut test.case, &name, value),
                    Some(Frame::Suite { .. }) => {
                        if let Some(suite) = self.tree.current() {
                            suite.add_property(Property { name, value });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn end_test(&mut self, sink: &mut Sink, test: TestFrame, at: Location) {
        let TestFrame {
            mut case,
            output,
            steps_dropped,
        } = test;
        case.system_out = output.finish().0;
        if steps_dropped > 0 {
            sink.warn(
                "robot.steps_dropped",
                format!(
                    "test `{}` has more than {MAX_STEPS} keywords; {steps_dropped} were not kept as steps",
                    case.name
                ),
                Some(at),
            );
        }
        self.held_sink(sink, |tree, held| tree.case(held, case));
        self.held_cases += 1;
        if self.held_cases > MAX_HELD_CASES {
            if !self.released_early {
                self.released_early = true;
                sink.warn(
                    "robot.too_many_held_cases",
                    format!(
                        "more than {MAX_HELD_CASES} tests in one top-level suite: they are released before the suite ends, so a failing suite teardown no longer marks them failed"
                    ),
                    Some(at),
                );
            }
            self.release(sink);
        }
    }

    fn end_suite(&mut self, sink: &mut Sink, teardown: Option<(Status, String)>) {
        if let Some((status, message)) = teardown {
            let path = self.tree.path();
            self.teardown_failed(&path, status, &message);
        }
        self.held_sink(sink, |tree, held| tree.close(held));
        if self.tree.depth() == 0 {
            self.release(sink);
        }
    }

    /// What Robot does when a suite teardown fails (or skips): every test below it
    /// fails (or is skipped), with Robot's message.
    fn teardown_failed(&mut self, path: &[String], status: Status, message: &str) {
        let mut changes: Vec<(Vec<String>, Status, Status)> = Vec::new();
        for event in self.held.iter_mut() {
            let Event::Case(case) = event else { continue };
            if !case.suite.starts_with(path) {
                continue;
            }
            let old = case.status;
            let had = case.message.clone().unwrap_or_default();
            let (new, text) = if status == Status::Skipped {
                let text = if had.is_empty() {
                    format!("Skipped in parent suite teardown:\n{message}")
                } else {
                    format!(
                        "Skipped in parent suite teardown:\n{message}\n\nEarlier message:\n{had}"
                    )
                };
                (Status::Skipped, text)
            } else {
                let new = if old == Status::Skipped {
                    old
                } else {
                    Status::Failed
                };
                let text = if had.is_empty() {
                    format!("Parent suite teardown failed:\n{message}")
                } else {
                    format!("{had}\n\nAlso parent suite teardown failed:\n{message}")
                };
                (new, text)
            };
            let mut text = text;
            text.truncate(floor_char_boundary(&text, MAX_MESSAGE_BYTES));
            case.status = new;
            case.message = Some(text.clone());
            if new != old {
                case.outcomes.retain(|o| o.kind != OutcomeKind::Skipped);
                case.outcomes.push(Outcome {
                    kind: if new == Status::Skipped {
                        OutcomeKind::Skipped
                    } else {
                        OutcomeKind::Failure
                    },
                    message: Some(text),
                    kind_name: None,
                    details: None,
                });
                changes.push((case.suite.clone(), old, new));
            }
        }
        for (suite, old, new) in changes {
            for event in self.held.iter_mut() {
                if let Event::SuiteEnd(end) = event
                    && suite.starts_with(&end.path)
                {
                    end.counts.retally(old, new);
                }
            }
            self.tree.retally(&suite, old, new);
        }
    }
}

impl XmlFormat for Robot {
    fn start(&mut self, sink: &mut Sink, el: &Element) -> Result<()> {
        let limit = sink.capture_limit();
        let text = |target, label: String| Frame::Text {
            target,
            label,
            capture: new_capture(limit),
        };
        let frame = match (self.stack.last(), el.name) {
            (None, _) => {
                sink.queue.push_back(Event::ReportStart(ReportStart {
                    root: RootKind::Robot,
                    name: None,
                    declared: Default::default(),
                    duration_us: None,
                    timestamp: el.attrs.owned("generated"),
                    location: el.location,
                }));
                Frame::Root
            }
            (Some(Frame::Skip | Frame::Text { .. } | Frame::Status(_)), _) => Frame::Skip,
            (Some(Frame::Root | Frame::Suite { .. }), "suite") => self.suite(sink, el),
            (Some(Frame::Suite { .. }), "test") => self.test(sink, el),
            (
                Some(Frame::Suite { .. } | Frame::Test(_) | Frame::Step(_)),
                "kw" | "for" | "iter" | "if" | "branch" | "try" | "while" | "group" | "variable"
                | "return" | "break" | "continue" | "error",
            ) => self.step(el),
            (Some(Frame::Suite { .. } | Frame::Test(_) | Frame::Step(_)), "status") => {
                Self::status(el, limit)
            }
            (Some(Frame::Test(_) | Frame::Suite { .. }), "doc") => text(Target::Doc, String::new()),
            (Some(Frame::Test(_)), "tags") => Frame::Transparent,
            (Some(Frame::Test(_) | Frame::Transparent), "tag") => text(Target::Tag, String::new()),
            (Some(Frame::Suite { .. }), "meta") => {
                text(Target::Meta, el.attrs.owned("name").unwrap_or_default())
            }
            (Some(Frame::Step(_)), "arg") => text(Target::Arg, String::new()),
            (Some(Frame::Step(_)), "msg") => {
                let level = el.attrs.owned("level").unwrap_or_else(|| "INFO".into());
                text(Target::Msg, level)
            }
            _ => Frame::Skip,
        };
        self.stack.push(frame);
        Ok(())
    }

    fn wants_text(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Text { .. } | Frame::Status(_))
        )
    }

    fn text(&mut self, text: &str) {
        match self.stack.last_mut() {
            Some(Frame::Text { capture, .. }) => capture.push(text),
            Some(Frame::Status(status)) => status.capture.push(text),
            _ => {}
        }
    }

    fn end(&mut self, sink: &mut Sink, at: Location) -> Result<()> {
        match self.stack.pop() {
            Some(Frame::Suite { teardown }) => self.end_suite(sink, teardown),
            Some(Frame::Test(test)) => self.end_test(sink, *test, at),
            Some(Frame::Step(step)) => self.end_step(*step),
            Some(Frame::Status(status)) => self.end_status(*status),
            Some(Frame::Text {
                target,
                label,
                capture,
            }) => self.end_text(target, label, capture),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, _at: Location) -> Result<()> {
        self.held_sink(sink, |tree, held| tree.close_all(held));
        self.release(sink);
        Ok(())
    }
}

fn robot_status(text: &str) -> Status {
    match text.trim() {
        "PASS" => Status::Passed,
        "FAIL" => Status::Failed,
        // SKIP, NOT RUN (and RF 3's NOT_RUN): the test or keyword did not run.
        _ => Status::Skipped,
    }
}

/// Microseconds since 0000-03-01 of an RF 3-6 timestamp, `20240101 12:00:00.000`;
/// only differences are used.
fn rf_time_us(text: &str) -> Option<u64> {
    let (date, time) = text.trim().split_once(' ')?;
    if date.len() != 8 || !date.is_ascii() {
        return None;
    }
    let year: i64 = date[..4].parse().ok()?;
    let month: i64 = date[4..6].parse().ok()?;
    let day: i64 = date[6..].parse().ok()?;
    let mut parts = time.splitn(3, ':');
    let hours: u64 = parts.next()?.parse().ok()?;
    let minutes: u64 = parts.next()?.parse().ok()?;
    let secs_us = seconds(Some(parts.next()?))?;
    // Days from civil (Howard Hinnant's algorithm), shifted to stay non-negative.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe).ok()?;
    days.checked_mul(86_400_000_000)?
        .checked_add(hours.checked_mul(3_600_000_000)?)?
        .checked_add(minutes.checked_mul(60_000_000)?)?
        .checked_add(secs_us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;

    #[test]
    fn rf6_times_give_durations_across_midnight() {
        let start = rf_time_us("20231231 23:59:59.500");
        let end = rf_time_us("20240101 00:00:00.250");
        assert_eq!(end.zip(start).map(|(e, s)| e - s), Some(750_000));
        assert_eq!(rf_time_us("garbage"), None);
        assert_eq!(rf_time_us("2023123 23:59:59"), None);
    }

    #[test]
    fn retally_moves_one_case() {
        let mut c = Counts::default();
        c.add_status(Status::Passed);
        c.retally(Status::Passed, Status::Failed);
        assert_eq!((c.passed, c.failed, c.tests), (0, 1, 1));
    }
}
