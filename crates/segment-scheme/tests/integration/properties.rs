//! Property tests of the identifier scheme: entitlement ids and label sets round-trip exactly.
#![allow(clippy::unwrap_used)]

use baton_model::ids::EntitlementId;
use proptest::prelude::*;
use segment_scheme::{LabelSet, PrincipalType, ScopeType, SegmentEntitlement, role_slug};

fn id_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.@+-]{1,24}"
}

fn labels_strategy() -> impl Strategy<Value = LabelSet> {
    prop::collection::vec((any::<String>(), any::<String>()), 0..5).prop_map(LabelSet::from_pairs)
}

fn scope_strategy() -> impl Strategy<Value = ScopeType> {
    prop::sample::select(ScopeType::ALL.to_vec())
}

fn entitlement_strategy() -> impl Strategy<Value = SegmentEntitlement> {
    prop_oneof![
        id_strategy().prop_map(|workspace_id| SegmentEntitlement::WorkspaceMember { workspace_id }),
        id_strategy().prop_map(|group_id| SegmentEntitlement::GroupMember { group_id }),
        (id_strategy(), labels_strategy())
            .prop_map(|(role_id, labels)| SegmentEntitlement::RoleMember { role_id, labels }),
        (
            scope_strategy(),
            id_strategy(),
            any::<String>(),
            "[A-Za-z0-9]{1,27}",
            labels_strategy()
        )
            .prop_map(|(scope, resource_id, name, role_id, labels)| {
                SegmentEntitlement::Scoped {
                    scope,
                    resource_id,
                    role_slug: role_slug(&name, &role_id),
                    labels,
                }
            }),
    ]
}

proptest! {
    #[test]
    fn entitlement_format_then_parse_is_identity(ent in entitlement_strategy()) {
        let id = ent.entitlement_id().unwrap();
        prop_assert_eq!(id.to_string(), ent.to_string());
        let reparsed_id: EntitlementId = id.to_string().parse().unwrap();
        prop_assert_eq!(&reparsed_id, &id);
        prop_assert_eq!(SegmentEntitlement::parse(&id).unwrap(), ent.clone());
        prop_assert_eq!(id.to_string().parse::<SegmentEntitlement>().unwrap(), ent);
    }

    #[test]
    fn label_set_encode_then_parse_is_identity(set in labels_strategy()) {
        let encoded = set.encode();
        prop_assert!(!encoded.contains(':') && !encoded.contains('@'));
        prop_assert!(encoded.chars().all(|c| (' '..='~').contains(&c)));
        prop_assert_eq!(LabelSet::parse(&encoded).unwrap(), set);
    }

    #[test]
    fn label_set_parse_then_encode_is_identity(s in "[a-z%=,0-9A-F]{0,16}") {
        if let Ok(set) = LabelSet::parse(&s) {
            prop_assert_eq!(set.encode(), s);
        }
    }

    #[test]
    fn slugs_are_id_safe(name in any::<String>(), id in "[A-Za-z0-9]{1,27}") {
        let slug = role_slug(&name, &id);
        prop_assert!(!slug.is_empty());
        prop_assert!(!slug.contains(':') && !slug.contains('@') && !slug.contains(','));
    }
}

#[test]
fn incumbent_slug_examples() {
    assert_eq!(role_slug("Source Admin", "r"), "source_admin");
    assert_eq!(role_slug("Workspace Owner", "r"), "workspace_owner");
    assert_eq!(role_slug("Read-only (Engage)", "r"), "read_only_engage");
    assert_eq!(role_slug("Engage Read-only", "r"), "engage_read_only");
    assert_eq!(role_slug("Tracking Plan Admin", "r"), "tracking_plan_admin");
}

#[test]
fn principal_types() {
    for p in [
        PrincipalType::User,
        PrincipalType::Group,
        PrincipalType::Invite,
    ] {
        assert_eq!(p.as_str().parse::<PrincipalType>().unwrap(), p);
    }
    assert!("role".parse::<PrincipalType>().is_err());
}
