//! Synthetic workspace for the scale example and the benchmark: users, groups and roles with
//! trait-like annotations, one `member` entitlement per group/role, and `grants` grants
//! (users distributed over the entitlements), streamed in the order a sync lists them
//! (entitlement by entitlement).

use baton_c1z::{C1zWriter, Result};
use baton_model::pb;
use std::fmt::Write as _;

/// Sizes of the synthetic workspace.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) users: usize,
    pub(crate) groups: usize,
    pub(crate) roles: usize,
    pub(crate) grants: usize,
}

impl Shape {
    /// 10 000 users, 1 000 groups, 100 roles.
    pub(crate) fn with_grants(grants: usize) -> Self {
        Self {
            users: 10_000,
            groups: 1_000,
            roles: 100,
            grants,
        }
    }
}

fn rid(rt: &str, id: String) -> pb::ResourceId {
    pb::ResourceId {
        resource_type: rt.into(),
        resource: id,
        ..Default::default()
    }
}

fn annotation(name: &str, value: Vec<u8>) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/c1.connector.v2.{name}"),
        value,
    }
}

fn resource(
    rt: &str,
    id: String,
    name: String,
    trait_name: &str,
    trait_bytes: Vec<u8>,
) -> pb::Resource {
    pb::Resource {
        id: Some(rid(rt, id)),
        parent_resource_id: Some(rid("workspace", "ws-0123456789".into())),
        display_name: name,
        annotations: vec![annotation(trait_name, trait_bytes)],
        ..Default::default()
    }
}

/// Writes the whole workspace into `w`; returns the number of grants written.
pub(crate) fn write_workspace(w: &mut C1zWriter, shape: Shape) -> Result<usize> {
    for (id, traits) in [
        ("workspace", vec![]),
        ("user", vec![1]),
        ("group", vec![2]),
        ("role", vec![3]),
    ] {
        w.put_resource_type(&pb::ResourceType {
            id: id.into(),
            display_name: id.to_uppercase(),
            traits,
            ..Default::default()
        })?;
    }
    w.put_resource(&pb::Resource {
        id: Some(rid("workspace", "ws-0123456789".into())),
        display_name: "Acme".into(),
        ..Default::default()
    })?;
    for u in 0..shape.users {
        let email = format!("user{u}@example.com");
        // UserTrait{emails: [{address, is_primary}]}-shaped bytes.
        let mut t = vec![0x0a, (email.len() + 4) as u8, 0x0a, email.len() as u8];
        t.extend(email.as_bytes());
        t.extend([0x10, 0x01]);
        w.put_resource(&resource(
            "user",
            format!("usr_{u:08}"),
            format!("User {u}"),
            "UserTrait",
            t,
        ))?;
    }
    let mut entitlements = Vec::with_capacity(shape.groups + shape.roles);
    for (rt, n, trait_name) in [
        ("group", shape.groups, "GroupTrait"),
        ("role", shape.roles, "RoleTrait"),
    ] {
        for i in 0..n {
            let r = resource(
                rt,
                format!("{rt}_{i:06}"),
                format!("{rt} number {i}"),
                trait_name,
                vec![0x1a, 0x04, b'o', b'k', b't', b'a'],
            );
            w.put_resource(&r)?;
            let id =
                r.id.as_ref()
                    .map(|x| format!("{}:{}:member", x.resource_type, x.resource))
                    .unwrap_or_default();
            let e = pb::Entitlement {
                id,
                display_name: format!("{} member", r.display_name),
                description: format!("Member of {}", r.display_name),
                slug: "member".into(),
                purpose: 1,
                grantable_to: vec![pb::ResourceType {
                    id: "user".into(),
                    display_name: "USER".into(),
                    traits: vec![1],
                    ..Default::default()
                }],
                resource: Some(r),
                ..Default::default()
            };
            w.put_entitlement(&e)?;
            entitlements.push(e);
        }
    }
    let n_ents = entitlements.len().max(1);
    let per_ent = shape.grants.div_ceil(n_ents);
    let mut written = 0;
    'outer: for (ei, e) in entitlements.iter().enumerate() {
        // Stub entitlement (id + resource), principal = id only, like the SDK's NewGrant.
        // One message per entitlement, only the id and principal change per grant.
        let mut g = pb::Grant {
            entitlement: Some(pb::Entitlement {
                id: e.id.clone(),
                resource: e.resource.clone(),
                ..Default::default()
            }),
            principal: Some(pb::Resource {
                id: Some(rid("user", String::new())),
                ..Default::default()
            }),
            ..Default::default()
        };
        for k in 0..per_ent {
            if written == shape.grants {
                break 'outer;
            }
            let u = (ei * 7919 + k) % shape.users;
            if let Some(p) = g.principal.as_mut().and_then(|p| p.id.as_mut()) {
                p.resource.clear();
                let _ = write!(p.resource, "usr_{u:08}");
                g.id.clear();
                let _ = write!(g.id, "{}:user:{}", e.id, p.resource);
            }
            w.put_grant(&g)?;
            written += 1;
        }
    }
    Ok(written)
}
