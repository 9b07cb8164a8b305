//! `kenshin rules verify`: the self-test of the rule data, as users and rule
//! authors run it (and the KEV mapping table `kev-products.toml` with it). It loads through the rule pack (every family that loads is
//! verified; the others report why they did not load) and prints one line per
//! family that holds and one per problem. The test suite runs the same checks on the
//! shipped rules.

use kenshin_assess::pack::{RulePack, Tree, Verification};

use kenshin_assess::kev::ProductMap;
use kenshin_engine::rules_home;

use crate::cli::VerifyArgs;
use crate::say::say;

/// Verifies the built-in rules or the tree at `--dir`; returns exit code 0 or 1.
pub(super) fn verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    let (tree, source) = match &args.dir {
        None => (Tree::Builtin, "built-in rules".to_owned()),
        Some(dir) => (Tree::Dir(dir), dir.display().to_string()),
    };
    let verification = RulePack::verify_tree(tree);
    print_outcome(&verification);
    let products = match &args.dir {
        None => ProductMap::builtin().map_err(|e| anyhow::anyhow!(e)),
        Some(dir) => rules_home::products_of(dir),
    };
    let registry = RulePack::builtin().ok().map(|p| p.registry);
    let mapped = match (products, &args.dir) {
        (Err(e), _) => Err(format!("{e:#}")),
        (Ok(map), None) => registry
            .as_ref()
            .map_or(Ok(map.products.len()), |r| map.verify(r)),
        (Ok(map), Some(dir)) => match kenshin_assess::requirements::Registry::load_dir(
            &dir.join(kenshin_assess::requirements::FOLDER),
        ) {
            Ok(r) => map.verify(&r),
            Err(_) => Ok(map.products.len()),
        },
    };
    let products_ok = match &mapped {
        Ok(n) => {
            say!("ok   {}: {n} products mapped to KEV names", kev_file());
            true
        }
        Err(e) => {
            say!("FAIL {e}");
            false
        }
    };
    if verification.is_ok() && products_ok {
        println!("all rules in {source} verified");
        Ok(0)
    } else {
        eprintln!("kenshin: the rules in {source} have problems (listed above)");
        Ok(1)
    }
}

fn kev_file() -> &'static str {
    kenshin_assess::kev::PRODUCTS_FILE
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
