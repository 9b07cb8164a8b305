//! The checks themselves, on small in-memory crates and workspaces: each finds what
//! it must find, so a clean result on the real sources means something.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cycles::{self, Cycle};
use crate::layers::{self, Package};
use crate::modules::{self, Crate};

/// Reads a crate rooted at `src/lib.rs` from `(path, text)` pairs.
fn fixture(files: &[(&str, &str)]) -> Crate {
    let files: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
        .collect();
    modules::load(Path::new("src/lib.rs"), &|p| files.get(p).cloned())
        .unwrap_or_else(|e| panic!("fixture does not load: {e}"))
}

fn members(cycles: &[Cycle]) -> Vec<(String, Vec<String>)> {
    cycles
        .iter()
        .map(|c| (modules::show(&c.parent), c.members.clone()))
        .collect()
}

#[test]
fn two_modules_importing_each_other_are_a_cycle_named_with_file_and_line() {
    let krate = fixture(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b::X;\npub struct Y;\n"),
        (
            "src/b.rs",
            "pub struct X;\n\nfn f() -> crate::a::Y {\n    crate::a::Y\n}\n",
        ),
    ]);
    let found = cycles::find(&krate);
    assert_eq!(
        members(&found),
        [("crate".into(), vec!["a".into(), "b".into()])]
    );
    let text = found[0].to_string();
    assert!(text.contains("src/a.rs:1: use crate::b::X;"), "{text}");
    assert!(
        text.contains("src/b.rs:3: fn f() -> crate::a::Y {"),
        "{text}"
    );
    assert!(text.contains("src/b.rs:4: crate::a::Y"), "{text}");
}

#[test]
fn a_tree_of_imports_is_clean_and_parents_may_use_their_children_and_back() {
    let krate = fixture(&[
        ("src/lib.rs", "mod a;\nmod b;\nmod c;\npub use a::Z;\n"),
        (
            "src/a/mod.rs",
            "mod inner;\npub use self::inner::Z;\nuse crate::b::B;\npub struct W;\n",
        ),
        (
            "src/a/inner.rs",
            "use super::W;\nuse crate::c::C;\npub struct Z;\n",
        ),
        ("src/b.rs", "use crate::c::C;\npub struct B;\n"),
        ("src/c.rs", "pub struct C;\nfn f() { let _ = crate::Z; }\n"),
    ]);
    assert_eq!(krate.modules.len(), 5);
    assert!(
        krate.references.len() >= 5,
        "references missed: {:?}",
        krate.references
    );
    let found = cycles::find(&krate);
    assert!(found.is_empty(), "{}", found[0]);
}

#[test]
fn a_reexport_is_an_edge_of_the_module_that_reexports() {
    // a → b (b re-exports c's item) → c → a
    let krate = fixture(&[
        ("src/lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("src/a.rs", "use crate::b::X;\npub struct Y;\n"),
        ("src/b.rs", "pub use crate::c::X;\n"),
        ("src/c.rs", "pub struct X(crate::a::Y);\n"),
    ]);
    assert_eq!(
        members(&cycles::find(&krate)),
        [("crate".into(), vec!["a".into(), "b".into(), "c".into()])]
    );
}

#[test]
fn a_deep_file_is_an_edge_of_its_top_module_and_siblings_inside_a_module_are_checked() {
    let krate = fixture(&[
        ("src/lib.rs", "mod config;\nmod cli;\n"),
        ("src/config/mod.rs", "mod notify;\nmod parse;\n"),
        ("src/config/notify/mod.rs", "mod syslog;\n"),
        (
            "src/config/notify/syslog.rs",
            "use crate::cli::{\n    Args,\n};\nuse super::super::parse::P;\n",
        ),
        (
            "src/config/parse.rs",
            "use super::notify::N;\npub struct P;\n",
        ),
        (
            "src/cli.rs",
            "pub struct Args;\nfn f() { format!(\"{}\", crate::config::X); }\n",
        ),
    ]);
    let found = cycles::find(&krate);
    assert_eq!(
        members(&found),
        [
            ("crate".into(), vec!["cli".into(), "config".into()]),
            ("config".into(), vec!["notify".into(), "parse".into()]),
        ]
    );
    let text = found[0].to_string();
    assert!(
        text.contains("src/config/notify/syslog.rs:2: Args,"),
        "{text}"
    );
    assert!(
        text.contains("src/cli.rs:2:"),
        "a path inside a macro: {text}"
    );
}

#[test]
fn a_path_in_an_attribute_argument_is_a_reference() {
    let krate = fixture(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        (
            "src/a.rs",
            "#[derive(clap::Args)]\npub struct A {\n    #[arg(default_value = crate::b::D)]\n    x: String,\n}\n",
        ),
        ("src/b.rs", "pub const D: &str = \"d\";\nfn f(_: crate::a::A) {}\n"),
    ]);
    let found = cycles::find(&krate);
    assert_eq!(
        members(&found),
        [("crate".into(), vec!["a".into(), "b".into()])]
    );
    assert!(found[0].to_string().contains("src/a.rs:3:"), "{}", found[0]);
}

#[test]
fn test_code_is_left_out() {
    let krate = fixture(&[
        ("src/lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
        (
            "src/a.rs",
            "pub struct A;\n#[cfg(test)]\nmod tests {\n    use crate::b::B;\n}\n\
             #[cfg(all(test, unix))]\nuse crate::b::B;\n#[cfg(test)]\nfn helper() { crate::b::f(); }\n\
             mod more;\n",
        ),
        ("src/a/more.rs", "#[cfg(test)]\nmod tests;\n"),
        ("src/b.rs", "pub struct B;\nuse crate::a::A;\n"),
    ]);
    let found = cycles::find(&krate);
    assert!(found.is_empty(), "{}", found[0]);
    assert_eq!(krate.references.len(), 1, "{:?}", krate.references);
}

#[test]
fn a_missing_module_file_is_an_error_naming_what_was_tried() {
    let files: HashMap<PathBuf, String> =
        [(PathBuf::from("src/lib.rs"), "mod gone;\n".to_owned())].into();
    let err = modules::load(Path::new("src/lib.rs"), &|p| files.get(p).cloned())
        .expect_err("a missing file must not load");
    let text = err.to_string();
    assert!(
        text.contains("gone") && text.contains("src/gone.rs") && text.contains("src/gone/mod.rs"),
        "{text}"
    );
}

#[test]
fn paths_resolve_against_the_module_they_are_written_in() {
    let modules: std::collections::BTreeSet<Vec<String>> = [
        vec![],
        vec!["a".to_owned()],
        vec!["a".to_owned(), "x".to_owned()],
        vec!["b".to_owned()],
    ]
    .into();
    let at = ["a".to_owned(), "x".to_owned()];
    let seg = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        modules::resolve(&at, &seg("super::super::b::T"), &modules),
        Some(seg("b"))
    );
    assert_eq!(
        modules::resolve(&at, &seg("crate::a::x::T"), &modules),
        Some(seg("a::x"))
    );
    assert_eq!(modules::resolve(&at, &seg("std::fs::read"), &modules), None);
    assert_eq!(
        modules::resolve(&[], &seg("b::T"), &modules),
        Some(seg("b"))
    );
    assert_eq!(
        modules::resolve(&at, &seg("super::super::super::b"), &modules),
        None
    );
}

#[test]
fn tarjan_finds_each_component_once() {
    let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let nodes = names(&["a", "b", "c", "d", "e"]);
    let edges: Vec<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")]
        .iter()
        .map(|(x, y)| ((*x).to_owned(), (*y).to_owned()))
        .collect();
    let mut found = cycles::strongly_connected(&nodes, &edges);
    found.sort();
    assert_eq!(
        found,
        [names(&["a", "b", "c"]), names(&["d"]), names(&["e"])]
    );
}

fn package(name: &str, deps: &[(&str, &str)]) -> Package {
    Package {
        name: name.to_owned(),
        dependencies: deps
            .iter()
            .map(|(d, k)| ((*d).to_owned(), (*k).to_owned()))
            .collect(),
        roots: Vec::new(),
    }
}

#[test]
fn the_layering_allows_skipping_down_and_refuses_any_step_up_or_aside() {
    let good = [
        package(
            "kenshin",
            &[("kenshin-report", "normal"), ("serde", "normal")],
        ),
        package("kenshin-report", &[("kenshin-wire", "normal")]),
        package("kenshin-wire", &[("thiserror", "normal")]),
        package("kenshin-lab", &[("kenshin-report", "dev")]),
    ];
    assert!(
        layers::violations(&good).is_empty(),
        "{:?}",
        layers::violations(&good)
    );
    let bad = [
        package("kenshin-probe", &[("kenshin-assess", "dev")]),
        package("kenshin-assess", &[("kenshin-assess-helpers", "normal")]),
        package("kenshin-assess-helpers", &[]),
        package("kenshin-wire", &[("kenshin-lab", "normal")]),
        package("kenshin-lab", &[]),
    ];
    let found = layers::violations(&bad);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].contains("kenshin-probe depends on kenshin-assess (dev)"));
    assert!(found[1].contains("outside the stack"));
    assert!(found[2].contains("kenshin-assess-helpers is a workspace crate outside the stack"));
    assert!(found[3].contains("kenshin-wire depends on kenshin-lab"));
}
