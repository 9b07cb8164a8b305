//! The examples and counterexamples every rule of a data family carries: one loop that
//! checks them against the rule, so each family only says what "holds" means and how a
//! failure reads.

/// How one rule's examples are judged and reported.
pub struct ExampleCheck<'a, T, H, E, C>
where
    H: Fn(&T) -> bool,
    E: Fn(usize, &T) -> String,
    C: Fn(usize, &T) -> String,
{
    pub examples: &'a [T],
    pub counterexamples: &'a [T],
    /// True when the rule matches the sample.
    pub holds: H,
    /// The message for example number `i` (from 1) that the rule does not match.
    pub missed: E,
    /// The message for counterexample number `i` (from 1) that the rule matches.
    pub matched: C,
    /// Whether a rule without a counterexample is a problem.
    pub counterexample_required: bool,
}

impl<T, H, E, C> std::fmt::Debug for ExampleCheck<'_, T, H, E, C>
where
    H: Fn(&T) -> bool,
    E: Fn(usize, &T) -> String,
    C: Fn(usize, &T) -> String,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExampleCheck")
            .field("examples", &self.examples.len())
            .field("counterexamples", &self.counterexamples.len())
            .field("counterexample_required", &self.counterexample_required)
            .finish_non_exhaustive()
    }
}

impl<T, H, E, C> ExampleCheck<'_, T, H, E, C>
where
    H: Fn(&T) -> bool,
    E: Fn(usize, &T) -> String,
    C: Fn(usize, &T) -> String,
{
    /// Checks every sample, telling `at` each problem; returns how many were checked.
    pub fn run(&self, mut at: impl FnMut(String)) -> usize {
        if self.examples.is_empty() {
            at("example: needs an example".into());
        }
        if self.counterexample_required && self.counterexamples.is_empty() {
            at("counterexample: needs a counterexample".into());
        }
        for (i, e) in self.examples.iter().enumerate() {
            if !(self.holds)(e) {
                at((self.missed)(i + 1, e));
            }
        }
        for (i, c) in self.counterexamples.iter().enumerate() {
            if (self.holds)(c) {
                at((self.matched)(i + 1, c));
            }
        }
        self.examples.len() + self.counterexamples.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_example_and_a_matched_counterexample_are_both_named() {
        let mut said = Vec::new();
        let n = ExampleCheck {
            examples: &[2, 3],
            counterexamples: &[4, 5],
            holds: |n: &i32| n % 2 == 0,
            missed: |i, n: &i32| format!("example {i} ({n}) missed"),
            matched: |i, n: &i32| format!("counterexample {i} ({n}) matched"),
            counterexample_required: true,
        }
        .run(|m| said.push(m));
        assert_eq!(n, 4);
        assert_eq!(
            said,
            ["example 2 (3) missed", "counterexample 1 (4) matched"]
        );
    }

    #[test]
    fn a_rule_without_samples_is_told_what_it_needs() {
        let mut said = Vec::new();
        let none: &[i32] = &[];
        ExampleCheck {
            examples: none,
            counterexamples: none,
            holds: |_: &i32| true,
            missed: |_, _: &i32| String::new(),
            matched: |_, _: &i32| String::new(),
            counterexample_required: true,
        }
        .run(|m| said.push(m));
        assert_eq!(
            said,
            [
                "example: needs an example",
                "counterexample: needs a counterexample"
            ]
        );
    }
}
