//! Fixtures from containers: every container whose children hold a test (directly,
//! or through containers nested in it) adds its set-up fixtures before the test's
//! steps and its tear-down fixtures after them, outer containers' set-ups first and
//! their tear-downs last.

use super::json::{Container, StepResult};
use std::collections::{BTreeMap, BTreeSet};

/// The fixtures around one test, in the order they ran.
#[derive(Default)]
pub(crate) struct Fixtures<'a> {
    pub befores: Vec<&'a StepResult>,
    pub afters: Vec<&'a StepResult>,
}

/// Which containers list each uuid (a test's or a nested container's) as a child.
pub(crate) struct ContainerIndex<'a> {
    parents: BTreeMap<&'a str, Vec<usize>>,
    containers: &'a [(String, Container)],
}

impl<'a> ContainerIndex<'a> {
    pub fn new(containers: &'a [(String, Container)]) -> ContainerIndex<'a> {
        let mut parents: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, (_, c)) in containers.iter().enumerate() {
            for child in &c.children {
                let list = parents.entry(child.as_str()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        ContainerIndex {
            parents,
            containers,
        }
    }

    pub fn fixtures_of(&self, test_uuid: Option<&str>) -> Fixtures<'a> {
        let Some(uuid) = test_uuid else {
            return Fixtures::default();
        };
        // Containers around the test with their distance from it (1 = its own);
        // each container once (at its nearest), however the files nest or loop.
        let mut found: Vec<(usize, usize)> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut frontier = vec![uuid];
        let mut depth = 0usize;
        while !frontier.is_empty() && depth < self.containers.len() + 1 {
            depth += 1;
            let mut next = Vec::new();
            for child in frontier {
                for &i in self.parents.get(child).map(Vec::as_slice).unwrap_or(&[]) {
                    if seen.insert(i) {
                        found.push((depth, i));
                        if let Some(id) = self.containers[i].1.uuid.as_deref() {
                            next.push(id);
                        }
                    }
                }
            }
            frontier = next;
        }
        let key = |&(depth, i): &(usize, usize)| {
            let (file, c) = &self.containers[i];
            (depth, c.start, c.uuid.as_deref(), file.as_str())
        };
        // Outer containers first for set-ups.
        found.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            kb.0.cmp(&ka.0)
                .then_with(|| (ka.1, ka.2, ka.3).cmp(&(kb.1, kb.2, kb.3)))
        });
        let mut fixtures = Fixtures::default();
        for &(_, i) in &found {
            fixtures.befores.extend(self.containers[i].1.befores.iter());
        }
        // Inner containers first for tear-downs.
        for &(_, i) in found.iter().rev() {
            fixtures.afters.extend(self.containers[i].1.afters.iter());
        }
        fixtures
    }
}
