//! The one error type of every rule loader and self-test: a [`Problem`] names the
//! file (as a path inside the rules tree), the line when it is known, the rule or
//! entry, and what is wrong; [`Problems`] is the non-empty list a loader refuses with.

use std::fmt;

/// One thing wrong with the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as a path inside the rules tree (`checks/tls.toml`).
    pub file: String,
    /// The line (from 1) the problem is on, when it is known.
    pub line: Option<usize>,
    /// The rule or entry it concerns (`tls.legacy-protocol`, `2-⑥`, `tcp/80`).
    pub rule: Option<String>,
    pub message: String,
}

impl Problem {
    /// A problem with a whole file.
    pub fn in_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            rule: None,
            message: message.into(),
        }
    }

    /// A problem with one rule of a file.
    pub fn in_rule(
        file: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule: Some(rule.into()),
            ..Self::in_file(file, message)
        }
    }

    /// The same problem, placed on `line`.
    #[must_use]
    pub fn at_line(self, line: usize) -> Self {
        Self {
            line: Some(line),
            ..self
        }
    }
}

/// `checks/tls.toml:42: rule tls.legacy-protocol: example 1 does not fire`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(rule) = &self.rule {
            write!(f, "rule {rule}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

/// Every problem a loader or a self-test found; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// `Ok(value)` if nothing is wrong, else every problem.
    pub fn or_ok<T>(problems: Vec<Problem>, value: T) -> Result<T, Problems> {
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(Problems(problems))
        }
    }

    /// True if any problem's text contains `needle` (for tests and callers that look
    /// for one kind of problem).
    pub fn mention(&self, needle: &str) -> bool {
        self.0.iter().any(|p| p.to_string().contains(needle))
    }
}

impl std::ops::Deref for Problems {
    type Target = [Problem];

    fn deref(&self) -> &[Problem] {
        &self.0
    }
}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Problem> for Problems {
    fn from(p: Problem) -> Self {
        Self(vec![p])
    }
}

/// One problem per line.
impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_file_line_rule_and_message() {
        let p = Problem::in_rule(
            "checks/tls.toml",
            "tls.legacy-protocol",
            "example 1 does not fire",
        )
        .at_line(42);
        assert_eq!(
            p.to_string(),
            "checks/tls.toml:42: rule tls.legacy-protocol: example 1 does not fire"
        );
        assert_eq!(
            Problem::in_file("ports.toml", "cannot read").to_string(),
            "ports.toml: cannot read"
        );
    }
}
