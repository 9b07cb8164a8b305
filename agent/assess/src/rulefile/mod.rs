//! What every rule loader shares: rule files as [`Source`]s named by their path inside
//! the rules tree, reading a folder of them, parsing each with its problems named by
//! file and line, refusing an ID used twice, and placing a problem on the line of the
//! rule it names ([`place`]).

mod examples;
mod problem;

use std::collections::BTreeSet;
use std::path::Path;

use serde::de::DeserializeOwned;

pub use examples::ExampleCheck;
pub use problem::{Problem, Problems};

/// One rule file: its path inside the rules tree (`checks/tls.toml`) and its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// The message of a second use of an ID.
pub const USED_TWICE: &str = "the ID is used twice";

/// `folder/name`, or `name` for a file at the top of the tree.
pub fn tree_path(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{folder}/{name}")
    }
}

/// Built-in rule files given as (file name, text) of `folder`, as sources.
pub fn owned(folder: &str, builtin: &[(&str, &str)]) -> Vec<Source> {
    builtin
        .iter()
        .map(|(n, t)| Source {
            path: tree_path(folder, n),
            text: (*t).to_owned(),
        })
        .collect()
}

/// Every `*.toml` file in `dir`, named `folder/name`, sorted by name.
pub fn read_toml_dir(dir: &Path, folder: &str) -> Result<Vec<Source>, Problems> {
    let cannot = |e: std::io::Error| {
        Problems::from(Problem::in_file(
            tree_path(folder, ""),
            format!("cannot read the folder {}: {e}", dir.display()),
        ))
    };
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot)?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") {
            let name = tree_path(folder, &entry.file_name().to_string_lossy());
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Problem::in_file(name.clone(), format!("cannot read: {e}")))?;
            sources.push(Source { path: name, text });
        }
    }
    sources.sort();
    Ok(sources)
}

/// The file `path` (inside the rules tree rooted at `root`).
pub fn read_file(root: &Path, path: &str) -> Result<Source, Problems> {
    let text = std::fs::read_to_string(root.join(path)).map_err(|e| {
        Problem::in_file(
            path,
            format!("cannot read {}: {e}", root.join(path).display()),
        )
    })?;
    Ok(Source {
        path: path.to_owned(),
        text,
    })
}

/// The line (from 1) that holds byte `offset` of `text`.
pub fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// The line of the `n`th (from 0) table header `header` (`[[sample]]`) in `text`.
pub fn table_line(text: &str, header: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(n)
        .map(|(i, _)| i + 1)
}

/// Parses one file, a parse error becoming a problem on its line.
pub fn parse<F: DeserializeOwned>(source: &Source) -> Result<F, Problem> {
    toml::from_str::<F>(&source.text).map_err(|e| {
        let p = Problem::in_file(source.path.clone(), e.message().trim_end().to_owned());
        match e.span() {
            Some(span) => p.at_line(line_at(&source.text, span.start)),
            None => p,
        }
    })
}

/// Parses every source in path order and hands each parsed file to `each`, which adds
/// what it builds and any problems; a file that does not parse is a problem on its line.
pub fn parse_each<F: DeserializeOwned>(
    sources: &[Source],
    mut each: impl FnMut(&Source, F, &mut Vec<Problem>),
) -> Vec<Problem> {
    let mut sorted: Vec<&Source> = sources.iter().collect();
    sorted.sort();
    let mut problems = Vec::new();
    for source in sorted {
        match parse::<F>(source) {
            Ok(file) => each(source, file, &mut problems),
            Err(p) => problems.push(p),
        }
    }
    problems
}

/// A problem for every (file, ID) whose ID an earlier entry already used.
pub fn duplicate_ids<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Problem> {
    let mut seen = BTreeSet::new();
    entries
        .into_iter()
        .filter(|(_, id)| !seen.insert(*id))
        .map(|(file, id)| Problem::in_rule(file, id, USED_TWICE))
        .collect()
}

/// True for IDs of lower-case letters, digits, '-' and '.' (framework and advisory
/// IDs).
pub fn valid_slug(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// Puts every problem that has a rule but no line on a line of its file, within the
/// rule's table (from its `id = "…"`, the second one for an ID used twice): the line
/// of the key the message starts with (`example 2 …` on `example = …`, `match: …` on
/// `match = …`), then the first line from there holding a value the message quotes
/// (an unknown field, an unresolved requirement …).
pub fn place(problems: &mut [Problem], sources: &[Source]) {
    for p in problems.iter_mut().filter(|p| p.line.is_none()) {
        let Some(rule) = &p.rule else { continue };
        let Some(source) = sources.iter().find(|s| s.path == p.file) else {
            continue;
        };
        let nth = usize::from(p.message == USED_TWICE);
        let key = p.message.split([' ', ':']).next().filter(|k| !k.is_empty());
        p.line = locate(&source.text, rule, nth, key, &quoted(&p.message));
    }
}

/// The `"…"` values of a message, quotes kept.
fn quoted(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find('"') {
        let Some(len) = rest[start + 1..].find('"') else {
            break;
        };
        let q = &rest[start..start + len + 2];
        if q.len() > 2 {
            out.push(q);
        }
        rest = &rest[start + len + 2..];
    }
    out
}

/// The line of the `nth` (from 0) `id = "rule"` in `text`, or, within that rule's
/// table, of the line setting `key`, or of the first line from there holding one of
/// `values`.
fn locate(text: &str, rule: &str, nth: usize, key: Option<&str>, values: &[&str]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let id_line = format!("id = {}", toml_string(rule));
    let at = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(&id_line))
        .map(|(i, _)| i)
        .nth(nth)?;
    let end = lines
        .iter()
        .enumerate()
        .skip(at + 1)
        .find(|(_, l)| l.trim_start().starts_with('['))
        .map_or(lines.len(), |(i, _)| i);
    let sets = |l: &str, k: &str| {
        l.trim_start()
            .strip_prefix(k)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let from = key
        .and_then(|k| (at + 1..end).find(|&i| sets(lines[i], k)))
        .unwrap_or(at);
    let holds = |l: &str| {
        values
            .iter()
            .any(|v| l.contains(v) || sets(l, v.trim_matches('"')))
    };
    let found = (from..end).find(|&i| holds(lines[i]));
    Some(found.unwrap_or(from) + 1)
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The built-in files of `folder` with `name` replaced by `text` (tests of broken rule
/// files).
#[cfg(test)]
pub(crate) fn replacing(
    folder: &str,
    builtin: &[(&str, &str)],
    name: &str,
    text: &str,
) -> Vec<Source> {
    let mut sources = owned(folder, builtin);
    let path = tree_path(folder, name);
    sources.retain(|s| s.path != path);
    sources.push(Source {
        path,
        text: text.to_owned(),
    });
    sources
}

/// The text of the built-in file `name`.
#[cfg(test)]
pub(crate) fn shipped_text(builtin: &[(&str, &'static str)], name: &str) -> &'static str {
    builtin
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("{name} is not a built-in rule file"))
}

/// For the loaders' tests: the shipped list of (name, text) names exactly the files in
/// the rules folder `sub`, in order.
#[cfg(test)]
pub(crate) fn assert_lists_folder(builtin: &[(&str, &str)], sub: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules")
        .join(sub);
    let names: Vec<String> = read_toml_dir(&dir, "")
        .expect("rules folder")
        .into_iter()
        .map(|s| s.path)
        .collect();
    let listed: Vec<&str> = builtin.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, listed,
        "{sub}: the built-in list and the folder differ"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, text: &str) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_second_use_of_an_id_is_named_with_its_file() {
        let dups = duplicate_ids([("a.toml", "x"), ("b.toml", "y"), ("c.toml", "x")]);
        assert_eq!(dups, [Problem::in_rule("c.toml", "x", USED_TWICE)]);
    }

    #[test]
    fn a_file_that_does_not_parse_is_named_with_its_line() {
        #[derive(serde::Deserialize)]
        struct F {
            #[allow(dead_code)]
            n: u8,
        }
        let mut seen = Vec::new();
        let problems = parse_each::<F>(
            &[source("b.toml", "n = 1"), source("a.toml", "# c\nn = 'x'")],
            |s, _, _| seen.push(s.path.clone()),
        );
        assert_eq!(seen, ["b.toml"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].file, "a.toml");
        assert_eq!(problems[0].line, Some(2), "{problems:?}");
    }

    #[test]
    fn a_problem_is_placed_on_its_rule_or_on_the_value_it_quotes() {
        let text = "[[check]]\nid = \"a.b\"\nmatch = [{ field = \"smb.smbv1\" }]\n\
                    example = [{ fields = { \"smb.smbv1\" = true } }]\n\
                    [[check]]\nid = \"c.d\"\nx = 1\n[[check]]\nid = \"a.b\"\n";
        let sources = [source("checks/x.toml", text)];
        let mut problems = vec![
            Problem::in_rule("checks/x.toml", "a.b", "match: unknown field \"smb.smbv1\""),
            Problem::in_rule("checks/x.toml", "a.b", "example 1: unknown \"smb.smbv1\""),
            Problem::in_rule("checks/x.toml", "c.d", "example 1 does not fire"),
            Problem::in_rule("checks/x.toml", "a.b", USED_TWICE),
            Problem::in_rule("checks/x.toml", "c.d", "names \"nowhere\""),
        ];
        place(&mut problems, &sources);
        let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(6), Some(9), Some(6)]);
    }
}
