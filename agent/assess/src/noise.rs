//! The noise corpus (`rules/noise.toml`): services that say a bit of everything and
//! are nothing in particular. No check and no advisory may fire on any sample.

use std::collections::BTreeMap;

use kenshin_probe::observation::Facts;
use serde::Deserialize;

use crate::matcher::example_fields;
use crate::rulefile::{parse, Problem, Problems, Source};

/// The corpus's path in the rules tree.
pub const FILE: &str = "noise.toml";

/// The shipped corpus.
pub const BUILTIN: &str = include_str!("../../../rules/noise.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoiseFile {
    sample: Vec<NoiseSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoiseSample {
    description: String,
    fields: BTreeMap<String, toml::Value>,
}

/// The shipped corpus, as field maps.
pub fn builtin() -> Result<Vec<Facts>, Problems> {
    load(&Source {
        path: FILE.to_owned(),
        text: BUILTIN.to_owned(),
    })
}

/// Parses a corpus into field maps; a bad sample is named by its number, description
/// and line.
pub fn load(source: &Source) -> Result<Vec<Facts>, Problems> {
    let file: NoiseFile = parse(source)?;
    let mut samples = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in file.sample.iter().enumerate() {
        match example_fields(&s.fields) {
            Ok(f) => samples.push(f),
            Err(e) => {
                let p = Problem::in_file(
                    source.path.clone(),
                    format!("sample {} ({}): {e}", i + 1, s.description),
                );
                problems.push(
                    match crate::rulefile::table_line(&source.text, "[[sample]]", i) {
                        Some(line) => p.at_line(line),
                        None => p,
                    },
                );
            }
        }
    }
    Problems::or_ok(problems, samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_corpus_loads_and_a_bad_sample_is_named_on_its_line() {
        assert!(builtin().expect("corpus").len() >= 5);
        let bad = Source {
            path: FILE.into(),
            text: "[[sample]]\ndescription = \"a\"\nfields = { port = 1 }\n\n\
                   [[sample]]\ndescription = \"b\"\nfields = { \"smb.smbv1\" = true }\n"
                .into(),
        };
        let problems = load(&bad).expect_err("unregistered fact");
        assert_eq!(problems.len(), 1, "{problems}");
        assert_eq!(problems[0].line, Some(5), "{problems}");
        assert!(problems.mention("sample 2 (b)"), "{problems}");
    }
}
