//! One test (or more) per item of the mock-server fidelity checklist, segment-api.md §11.

mod protocol;
mod routes;

use crate::common::Harness;

/// Every GET the mock serves, for sweeps.
fn read_paths(h: &Harness) -> Vec<String> {
    let user = &h.ws.users[0].id;
    let group = &h.ws.groups[0].id;
    vec![
        "/".into(),
        "/users".into(),
        format!("/users/{user}"),
        format!("/users/{user}/groups"),
        "/groups".into(),
        format!("/groups/{group}"),
        format!("/groups/{group}/users"),
        format!("/groups/{group}/invites"),
        "/roles".into(),
        "/invites".into(),
        "/sources".into(),
        "/warehouses".into(),
        "/functions?resourceType=SOURCE".into(),
        "/spaces".into(),
        "/labels".into(),
    ]
}
