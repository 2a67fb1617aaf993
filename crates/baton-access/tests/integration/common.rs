//! A hand-built workspace with every expansion case, written with `baton-c1z`'s writer.
//!
//! Users u1 (Alice, alice@example.com), u2 (Bob), u3 (Carol); a pending invitation
//! dan@example.com; groups g1 (Engineering) ⊃ g2 (Platform, expands into g1), g4 ⇄ g5 (a loop).
//! App a1 has `admin` (group g1, expandable to users only) and `viewer` (group g1, shallow).

use baton_c1z::{C1zWriter, WriterOptions};
use baton_model::{annotations, pb};
use std::path::{Path, PathBuf};

pub(crate) fn rid(t: &str, id: &str) -> pb::ResourceId {
    pb::ResourceId {
        resource_type: t.into(),
        resource: id.into(),
        ..Default::default()
    }
}

fn user_trait(email: &str) -> prost_types::Any {
    annotations::pack(&pb::UserTrait {
        emails: vec![pb::user_trait::Email {
            address: email.into(),
            is_primary: true,
        }],
        login: email.into(),
        ..Default::default()
    })
}

fn resource(t: &str, id: &str, name: &str, email: Option<&str>) -> pb::Resource {
    pb::Resource {
        id: Some(rid(t, id)),
        display_name: name.into(),
        annotations: email.map(user_trait).into_iter().collect(),
        ..Default::default()
    }
}

fn entitlement(r: &pb::Resource, slug: &str, name: &str) -> pb::Entitlement {
    let id = r.id.as_ref().unwrap();
    pb::Entitlement {
        id: format!("{}:{}:{slug}", id.resource_type, id.resource),
        display_name: name.into(),
        slug: slug.into(),
        resource: Some(r.clone()),
        ..Default::default()
    }
}

/// One sync's objects.
#[derive(Clone)]
pub(crate) struct Data {
    pub(crate) resources: Vec<pb::Resource>,
    pub(crate) entitlements: Vec<pb::Entitlement>,
    pub(crate) grants: Vec<pb::Grant>,
}

impl Data {
    pub(crate) fn resource(&self, key: &str) -> pb::Resource {
        self.resources
            .iter()
            .find(|r| {
                let id = r.id.as_ref().unwrap();
                format!("{}:{}", id.resource_type, id.resource) == key
            })
            .unwrap()
            .clone()
    }

    pub(crate) fn entitlement(&self, id: &str) -> pb::Entitlement {
        self.entitlements
            .iter()
            .find(|e| e.id == id)
            .unwrap()
            .clone()
    }

    /// Adds a grant of `entitlement` to `principal` (`TYPE:ID`), expandable when `expand` is
    /// `Some((sources, shallow, types))`.
    pub(crate) fn grant(
        &mut self,
        entitlement: &str,
        principal: &str,
        expand: Option<(&[&str], bool, &[&str])>,
    ) {
        let e = self.entitlement(entitlement);
        let p = self.resource(principal);
        let mut annotations = Vec::new();
        if let Some((sources, shallow, types)) = expand {
            annotations.push(annotations::pack(&pb::GrantExpandable {
                entitlement_ids: sources.iter().map(|s| (*s).to_owned()).collect(),
                shallow,
                resource_type_ids: types.iter().map(|s| (*s).to_owned()).collect(),
            }));
        }
        self.grants.push(pb::Grant {
            id: format!("{entitlement}:{principal}"),
            entitlement: Some(e),
            principal: Some(p),
            annotations,
            ..Default::default()
        });
    }

    /// Removes the grant with this id.
    pub(crate) fn revoke(&mut self, grant_id: &str) {
        self.grants.retain(|g| g.id != grant_id);
    }
}

pub(crate) fn workspace() -> Data {
    let resources = vec![
        resource("user", "u1", "Alice", Some("alice@example.com")),
        resource("user", "u2", "Bob", Some("bob@example.com")),
        resource("user", "u3", "Carol", Some("carol@example.com")),
        resource(
            "invite",
            "dan@example.com",
            "(Invitation) dan",
            Some("dan@example.com"),
        ),
        resource("group", "g1", "Engineering", None),
        resource("group", "g2", "Platform", None),
        resource("group", "g4", "Loop A", None),
        resource("group", "g5", "Loop B", None),
        resource("app", "a1", "Billing", None),
    ];
    let find = |k: &str| {
        resources
            .iter()
            .find(|r| r.id.as_ref().unwrap().resource == k)
            .unwrap()
    };
    let entitlements = vec![
        entitlement(find("g1"), "member", "Engineering member"),
        entitlement(find("g2"), "member", "Platform member"),
        entitlement(find("g4"), "member", "Loop A member"),
        entitlement(find("g5"), "member", "Loop B member"),
        entitlement(find("a1"), "admin", "Billing admin"),
        entitlement(find("a1"), "viewer", "Billing viewer"),
    ];
    let mut d = Data {
        resources,
        entitlements,
        grants: Vec::new(),
    };
    d.grant("group:g1:member", "user:u1", None);
    d.grant(
        "group:g1:member",
        "group:g2",
        Some((&["group:g2:member"], false, &[])),
    );
    d.grant("group:g2:member", "user:u2", None);
    d.grant("group:g2:member", "invite:dan@example.com", None);
    d.grant(
        "app:a1:admin",
        "group:g1",
        Some((&["group:g1:member"], false, &["user"])),
    );
    d.grant(
        "app:a1:viewer",
        "group:g1",
        Some((&["group:g1:member"], true, &[])),
    );
    d.grant("group:g4:member", "user:u3", None);
    d.grant(
        "group:g4:member",
        "group:g5",
        Some((&["group:g5:member"], false, &[])),
    );
    d.grant(
        "group:g5:member",
        "group:g4",
        Some((&["group:g4:member"], false, &[])),
    );
    d
}

/// Writes `data` as one sync (appended when `path` exists); returns the sync id.
pub(crate) fn write(path: &Path, data: &Data) -> String {
    let mut w = C1zWriter::create(path, WriterOptions::default()).unwrap();
    for t in [("user", 1), ("invite", 1), ("group", 2), ("app", 4)] {
        w.put_resource_type(&pb::ResourceType {
            id: t.0.into(),
            display_name: t.0.into(),
            traits: vec![t.1],
            ..Default::default()
        })
        .unwrap();
    }
    for r in &data.resources {
        w.put_resource(r).unwrap();
    }
    for e in &data.entitlements {
        w.put_entitlement(e).unwrap();
    }
    for g in &data.grants {
        w.put_grant(g).unwrap();
    }
    w.finish().unwrap().sync_id
}

/// `<workspace root>/../shared`, or `None` after printing why; panics instead when `CI` is
/// set (CI must never pass without these tests).
pub(crate) fn shared_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("..").join("shared");
    if shared.join("fixtures").is_dir() {
        return Some(shared);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "../shared/fixtures is missing and CI is set: these tests must run in CI"
    );
    println!("skipping: ../shared/fixtures not found");
    None
}
