//! What every rule loader shares: reading a folder of TOML files, parsing each with
//! its problems named by file, and refusing an ID used twice.

use std::collections::BTreeSet;
use std::path::Path;

use serde::de::DeserializeOwned;

/// Every `*.toml` file in `dir` as (file name, text), sorted by name.
pub fn read_toml_dir(dir: &Path) -> Result<Vec<(String, String)>, Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| vec![format!("{}: cannot read the folder: {e}", dir.display())])?;
    let mut sources = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| vec![format!("{name}: cannot read: {e}")])?;
            sources.push((name, text));
        }
    }
    sources.sort();
    Ok(sources)
}

/// Parses every (name, text) in name order and hands each parsed file to `each`,
/// which adds what it builds and any problems; a file that does not parse is a
/// problem named by file.
pub fn parse_each<F: DeserializeOwned>(
    mut sources: Vec<(String, String)>,
    mut each: impl FnMut(&str, F, &mut Vec<String>),
) -> Vec<String> {
    sources.sort();
    let mut problems = Vec::new();
    for (name, text) in &sources {
        match toml::from_str::<F>(text) {
            Ok(file) => each(name, file, &mut problems),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    problems
}

/// A problem for every (file, ID) whose ID an earlier entry already used.
pub fn duplicate_ids<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    entries
        .into_iter()
        .filter(|(_, id)| !seen.insert(*id))
        .map(|(file, id)| format!("{file}: {id}: the ID is used twice"))
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

/// For the loaders' tests: the shipped list of (name, text) names exactly the files in
/// the rules folder `sub`, in order.
/// Built-in rule files (name, text), as the owned sources the loaders take.
pub fn owned(builtin: &[(&str, &str)]) -> Vec<(String, String)> {
    builtin
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect()
}

/// The built-in files with `name` replaced by `text` (tests of broken rule files).
#[cfg(test)]
pub(crate) fn replacing(builtin: &[(&str, &str)], name: &str, text: &str) -> Vec<(String, String)> {
    let mut sources = owned(builtin);
    sources.retain(|(n, _)| n != name);
    sources.push((name.to_owned(), text.to_owned()));
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

#[cfg(test)]
pub(crate) fn assert_lists_folder(builtin: &[(&str, &str)], sub: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules")
        .join(sub);
    let names: Vec<String> = read_toml_dir(&dir)
        .expect("rules folder")
        .into_iter()
        .map(|(n, _)| n)
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

    #[test]
    fn a_second_use_of_an_id_is_named_with_its_file() {
        let dups = duplicate_ids([("a.toml", "x"), ("b.toml", "y"), ("c.toml", "x")]);
        assert_eq!(dups, ["c.toml: x: the ID is used twice"]);
    }

    #[test]
    fn a_file_that_does_not_parse_is_named() {
        #[derive(serde::Deserialize)]
        struct F {
            #[allow(dead_code)]
            n: u8,
        }
        let mut seen = Vec::new();
        let problems = parse_each::<F>(
            vec![
                ("b.toml".into(), "n = 1".into()),
                ("a.toml".into(), "n = 'x'".into()),
            ],
            |name, _, _| seen.push(name.to_owned()),
        );
        assert_eq!(seen, ["b.toml"]);
        assert!(
            problems.len() == 1 && problems[0].starts_with("a.toml: "),
            "{problems:?}"
        );
    }
}
