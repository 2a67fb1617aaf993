//! `capabilities`: the connector's `c1.connector.v2.ConnectorCapabilities`, printed as baton
//! connectors print it (protojson in a `google.protobuf.Any`, fields in field-number order,
//! enums as names, defaults omitted, 2-space indent).
//!
//! What is declared, per resource type: SYNC for every type; PROVISION for the types whose
//! entitlements can be granted and revoked (group, role, source, warehouse, function, space);
//! ACCOUNT_PROVISIONING (invitations, no password) and RESOURCE_DELETE on `user`;
//! RESOURCE_DELETE on `invite`.

use baton_model::pb::{self, Capability, CapabilityDetailCredentialOption};
use baton_model::{annotations, pb::resource_type::Trait};
use segment_scheme::{self as scheme, mapping};

use crate::output;

/// The capabilities of one resource type, in baton-sdk's order.
fn capabilities_of(resource_type: &str) -> Vec<Capability> {
    let mut caps = vec![Capability::Sync];
    match resource_type {
        scheme::GROUP
        | scheme::ROLE
        | scheme::SOURCE
        | scheme::WAREHOUSE
        | scheme::FUNCTION
        | scheme::SPACE => caps.push(Capability::Provision),
        scheme::USER => {
            caps.push(Capability::AccountProvisioning);
            caps.push(Capability::ResourceDelete);
        }
        scheme::INVITE => caps.push(Capability::ResourceDelete),
        _ => {}
    }
    caps
}

/// The connector's capabilities.
pub(crate) fn connector_capabilities() -> pb::ConnectorCapabilities {
    let mut ids: Vec<&str> = scheme::ALL_RESOURCE_TYPES.to_vec();
    ids.sort_unstable();
    let mut all: Vec<i32> = Vec::new();
    let mut per_type = Vec::new();
    for id in ids {
        let Some(rt) = mapping::resource_type(id) else {
            continue;
        };
        let caps: Vec<i32> = capabilities_of(id).into_iter().map(|c| c as i32).collect();
        all.extend(&caps);
        per_type.push(pb::ResourceTypeCapability {
            skip_sync_anomaly_detection: annotations::contains::<pb::SkipSyncAnomalyDetection>(
                &rt.annotations,
            ),
            opt_in_required: annotations::contains::<pb::OptInRequired>(&rt.annotations),
            resource_type: Some(rt),
            capabilities: caps,
            permissions: Some(pb::CapabilityPermissions::default()),
            ..pb::ResourceTypeCapability::default()
        });
    }
    all.sort_unstable();
    all.dedup();
    let no_password = CapabilityDetailCredentialOption::NoPassword as i32;
    pb::ConnectorCapabilities {
        resource_type_capabilities: per_type,
        connector_capabilities: all,
        credential_details: Some(pb::CredentialDetails {
            capability_account_provisioning: Some(pb::CredentialDetailsAccountProvisioning {
                supported_credential_options: vec![no_password],
                preferred_credential_option: no_password,
            }),
            capability_credential_rotation: None,
        }),
    }
}

/// A JSON value whose object keys keep their insertion order.
#[derive(Debug)]
enum J {
    Obj(Vec<(&'static str, J)>),
    Arr(Vec<J>),
    Str(String),
    Bool(bool),
}

impl J {
    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            J::Str(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Arr(items) if items.is_empty() => out.push_str("[]"),
            J::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            J::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            J::Obj(fields) => {
                out.push_str("{\n");
                for (i, (key, value)) in fields.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    out.push_str(&format!("\"{key}\": "));
                    value.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

fn capability_names(caps: &[i32]) -> J {
    J::Arr(
        caps.iter()
            .map(|c| {
                J::Str(
                    Capability::try_from(*c)
                        .map_or("CAPABILITY_UNSPECIFIED", |c| c.as_str_name())
                        .to_owned(),
                )
            })
            .collect(),
    )
}

fn resource_type_json(rt: &pb::ResourceType) -> J {
    let mut fields = vec![
        ("id", J::Str(rt.id.clone())),
        ("displayName", J::Str(rt.display_name.clone())),
    ];
    if !rt.traits.is_empty() {
        fields.push((
            "traits",
            J::Arr(
                rt.traits
                    .iter()
                    .map(|t| {
                        J::Str(
                            Trait::try_from(*t)
                                .map_or("TRAIT_UNSPECIFIED", |t| t.as_str_name())
                                .to_owned(),
                        )
                    })
                    .collect(),
            ),
        ));
    }
    if !rt.annotations.is_empty() {
        // The resource types carry only field-less marker annotations.
        fields.push((
            "annotations",
            J::Arr(
                rt.annotations
                    .iter()
                    .map(|a| J::Obj(vec![("@type", J::Str(a.type_url.clone()))]))
                    .collect(),
            ),
        ));
    }
    if !rt.description.is_empty() {
        fields.push(("description", J::Str(rt.description.clone())));
    }
    if rt.sourced_externally {
        fields.push(("sourcedExternally", J::Bool(true)));
    }
    J::Obj(fields)
}

/// The capabilities as protojson text.
pub(crate) fn render(caps: &pb::ConnectorCapabilities) -> String {
    let per_type = caps
        .resource_type_capabilities
        .iter()
        .map(|c| {
            let mut fields = Vec::new();
            if let Some(rt) = &c.resource_type {
                fields.push(("resourceType", resource_type_json(rt)));
            }
            fields.push(("capabilities", capability_names(&c.capabilities)));
            fields.push(("permissions", J::Obj(Vec::new())));
            if c.opt_in_required {
                fields.push(("optInRequired", J::Bool(true)));
            }
            if c.skip_sync_anomaly_detection {
                fields.push(("skipSyncAnomalyDetection", J::Bool(true)));
            }
            J::Obj(fields)
        })
        .collect();
    let option_name = |o: i32| {
        J::Str(
            CapabilityDetailCredentialOption::try_from(o)
                .map_or("CAPABILITY_DETAIL_CREDENTIAL_OPTION_UNSPECIFIED", |o| {
                    o.as_str_name()
                })
                .to_owned(),
        )
    };
    let mut fields = vec![
        (
            "@type",
            J::Str("type.googleapis.com/c1.connector.v2.ConnectorCapabilities".to_owned()),
        ),
        ("resourceTypeCapabilities", J::Arr(per_type)),
        (
            "connectorCapabilities",
            capability_names(&caps.connector_capabilities),
        ),
    ];
    if let Some(details) = &caps.credential_details
        && let Some(ap) = &details.capability_account_provisioning
    {
        fields.push((
            "credentialDetails",
            J::Obj(vec![(
                "capabilityAccountProvisioning",
                J::Obj(vec![
                    (
                        "supportedCredentialOptions",
                        J::Arr(
                            ap.supported_credential_options
                                .iter()
                                .map(|o| option_name(*o))
                                .collect(),
                        ),
                    ),
                    (
                        "preferredCredentialOption",
                        option_name(ap.preferred_credential_option),
                    ),
                ]),
            )]),
        ));
    }
    let mut out = String::new();
    J::Obj(fields).write(&mut out, 0);
    out
}

/// Prints the capabilities on stdout.
pub(crate) fn print() {
    output::out(&render(&connector_capabilities()));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn capabilities_are_valid_json_in_baton_shape() {
        let text = render(&connector_capabilities());
        assert!(text.starts_with(
            "{\n  \"@type\": \"type.googleapis.com/c1.connector.v2.ConnectorCapabilities\",\n  \"resourceTypeCapabilities\": ["
        ));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let per_type = v["resourceTypeCapabilities"].as_array().unwrap();
        let ids: Vec<&str> = per_type
            .iter()
            .map(|c| c["resourceType"]["id"].as_str().unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
        assert_eq!(ids.len(), 9);
        assert_eq!(
            v["connectorCapabilities"],
            serde_json::json!([
                "CAPABILITY_PROVISION",
                "CAPABILITY_SYNC",
                "CAPABILITY_ACCOUNT_PROVISIONING",
                "CAPABILITY_RESOURCE_DELETE"
            ])
        );
        let user = per_type
            .iter()
            .find(|c| c["resourceType"]["id"] == "user")
            .unwrap();
        assert_eq!(user["resourceType"]["traits"][0], "TRAIT_USER");
        assert_eq!(user["permissions"], serde_json::json!({}));
        let invite = per_type
            .iter()
            .find(|c| c["resourceType"]["id"] == "invite")
            .unwrap();
        assert_eq!(invite["skipSyncAnomalyDetection"], true);
    }
}
