use super::*;

#[test]
fn the_builtin_pack_loads_and_verifies_every_family() {
    let pack = RulePack::builtin().unwrap_or_else(|p| panic!("{p}"));
    let v = pack.verify();
    let problems: Vec<String> = v.problems().map(ToString::to_string).collect();
    assert!(v.is_ok(), "{problems:#?}");
    assert_eq!(v.families.len(), 13);
    assert!(matches!(
        v.of(Family::KindRules),
        Some(Ok(Counts::KindRules { rules, .. })) if *rules >= 10
    ));
    assert!(matches!(
        v.of(Family::SafetyBudgets),
        Some(Ok(Counts::SafetyBudgets { classes: 7, .. }))
    ));
    assert!(matches!(
        v.of(Family::Requirements),
        Some(Ok(Counts::Requirements(r))) if r.frameworks == 10
    ));
}

#[test]
fn the_rules_folder_loads_as_the_builtin_pack_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let from_dir = RulePack::load_dir(&dir).unwrap_or_else(|p| panic!("{p}"));
    let builtin = RulePack::builtin().unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(from_dir.verify(), builtin.verify());
    assert_eq!(from_dir.sources, builtin.sources);
}
