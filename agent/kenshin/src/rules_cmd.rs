//! `kenshin rules verify`: the self-test of the rule data, as users and rule
//! authors run it. It loads through the rule pack (every family that loads is
//! verified; the others report why they did not load) and prints one line per
//! family that holds and one per problem. The test suite runs the same checks on the
//! shipped rules.

use kenshin_assess::pack::{RulePack, Tree, Verification};

use crate::cli::VerifyArgs;

/// Verifies the built-in rules or the tree at `--dir`; returns exit code 0 or 1.
pub(crate) fn verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    let (tree, source) = match &args.dir {
        None => (Tree::Builtin, "built-in rules".to_owned()),
        Some(dir) => (Tree::Dir(dir), dir.display().to_string()),
    };
    let verification = RulePack::verify_tree(tree);
    print_outcome(&verification);
    if verification.is_ok() {
        println!("all rules in {source} verified");
        Ok(0)
    } else {
        eprintln!("kenshin: the rules in {source} have problems (listed above)");
        Ok(1)
    }
}

/// `ok   FAMILY: summary` for a family that holds, `FAIL problem` for each problem.
fn print_outcome(v: &Verification) {
    for f in &v.families {
        match &f.outcome {
            Ok(counts) => println!("ok   {}: {counts}", f.family.path()),
            Err(problems) => {
                for p in problems {
                    println!("FAIL {p}");
                }
            }
        }
    }
}
