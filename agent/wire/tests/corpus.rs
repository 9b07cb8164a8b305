//! Replays the fuzz seed corpus (fuzz/corpus/<target>/*, bytes captured from the lab's
//! real daemons plus what fuzzing found) through the property of each target. A file
//! that once crashed a decoder stays here and keeps it fixed.

use std::path::Path;

use kenshin_wire::fuzzing::TARGETS;

#[test]
fn every_corpus_file_keeps_its_targets_property() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut replayed = 0;
    for (name, property) in TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("fuzz/corpus/{name} is missing: {e}"));
        let mut files = 0;
        for entry in entries {
            let path = entry.expect("dir entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            property(&data);
            files += 1;
        }
        assert!(files > 0, "fuzz/corpus/{name} has no seed");
        replayed += files;
    }
    assert!(replayed >= TARGETS.len());
}

#[test]
fn every_fuzz_target_has_a_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for (name, _) in TARGETS {
        assert!(
            root.join(format!("{name}.rs")).exists(),
            "fuzz/fuzz_targets/{name}.rs"
        );
    }
}
