//! Where each certificate file goes inside a certificate directory.

/// The manifest's file name at the directory's root.
pub(crate) const MANIFEST: &str = "MANIFEST.json";

/// The SMT file of (`kind`, `group`): `smt/<kind>/<group>.smt2`, or
/// `smt/<kind>/<group>.<logic>.smt2` when the group's claims are split by
/// logic.
pub(crate) fn smt_path(kind: &str, group: &str, split_logic: Option<&str>) -> String {
    match split_logic {
        Some(logic) => format!("smt/{kind}/{group}.{logic}.smt2"),
        None => format!("smt/{kind}/{group}.smt2"),
    }
}

/// The explanation file of (`kind`, `group`): `egg/<kind>/<group>.txt`.
pub(crate) fn egg_path(kind: &str, group: &str) -> String {
    format!("egg/{kind}/{group}.txt")
}
