//! Unit tests of role name matching.
#![allow(clippy::unwrap_used)]

use segment_api::Role;

use super::{by_name, same_name};
use crate::Error;

fn role(id: &str, name: &str) -> Role {
    Role {
        id: id.into(),
        name: name.into(),
        description: Default::default(),
    }
}

#[test]
fn names_compare_ignoring_case_only() {
    assert!(same_name("Source Admin", "source admin"));
    assert!(same_name("ÄRGER", "ärger"));
    assert!(!same_name("Source Admin", "Source  Admin"));
    assert!(!same_name("Source Admin", "Source Admin "));
    assert!(!same_name("Source", "Source Admin"));
}

#[test]
fn by_name_finds_one_or_reports_why_not() {
    let roles = [
        role("a", "Workspace Owner"),
        role("b", "Source Admin"),
        role("c", "source admin"),
    ];
    assert_eq!(by_name(&roles, "WORKSPACE owner").unwrap().id, "a");
    match by_name(&roles, "Source Admin") {
        Err(Error::AmbiguousRole { name, candidates }) => {
            assert_eq!(name, "Source Admin");
            assert_eq!(candidates, [roles[1].clone(), roles[2].clone()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        by_name(&roles, "Owner"),
        Err(Error::RoleNotFound { name }) if name == "Owner"
    ));
    assert!(matches!(by_name(&[], "x"), Err(Error::RoleNotFound { .. })));
}
