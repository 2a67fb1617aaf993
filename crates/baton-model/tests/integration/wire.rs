//! Wire-level checks: field numbers, enum values and type URLs of the generated types.

use baton_model::pb;
use prost::{Message, Name};

#[test]
fn field_numbers_match_the_spec() {
    // Resource.creation_source = 8 (varint): tag 0x40.
    let r = pb::Resource {
        creation_source: pb::resource::CreationSource::ConnectorListResources as i32,
        ..Default::default()
    };
    assert_eq!(r.encode_to_vec(), [0x40, 0x01]);
    // Resource.status = 11 (message): tag 0x5a; Status.status = 1.
    let r = pb::Resource {
        status: Some(pb::Status {
            status: pb::status::ResourceStatus::Disabled as i32,
            details: String::new(),
        }),
        ..Default::default()
    };
    assert_eq!(r.encode_to_vec(), [0x5a, 0x02, 0x08, 0x02]);
    // UserTrait.account_type = 5, login = 6.
    let u = pb::UserTrait {
        account_type: pb::user_trait::AccountType::Human as i32,
        login: "a".into(),
        ..Default::default()
    };
    assert_eq!(u.encode_to_vec(), [0x28, 0x01, 0x32, 0x01, b'a']);
    // Grant.sources = 5, Entitlement.slug = 8, purpose = 7.
    let e = pb::Entitlement {
        purpose: pb::entitlement::PurposeValue::Permission as i32,
        slug: "x".into(),
        ..Default::default()
    };
    assert_eq!(e.encode_to_vec(), [0x38, 0x02, 0x42, 0x01, b'x']);
    // CreateAccountResponse.in_progress = 103 (tag (103<<3)|2 = 826 = 0xba 0x06).
    let resp = pb::CreateAccountResponse {
        result: Some(pb::create_account_response::Result::InProgress(
            pb::create_account_response::InProgressResult::default(),
        )),
        ..Default::default()
    };
    assert_eq!(resp.encode_to_vec(), [0xba, 0x06, 0x00]);
}

#[test]
fn enum_values_match_the_spec() {
    use pb::resource_type::Trait;
    assert_eq!(Trait::App as i32, 4);
    assert_eq!(Trait::ManagedDevice as i32, 12);
    assert_eq!(pb::Capability::CredentialIssue as i32, 14);
    assert_eq!(pb::Capability::AccountProvisioning as i32, 5);
    assert_eq!(pb::CapabilityDetailCredentialOption::ClientSecret as i32, 8);
    assert_eq!(pb::entitlement::PurposeValue::Ownership as i32, 3);
    assert_eq!(pb::user_trait::status::Status::Deleted as i32, 3);
    assert_eq!(pb::app_trait::AppFlag::Bookmark as i32, 5);
    assert_eq!(Trait::User.as_str_name(), "TRAIT_USER");
}

#[test]
fn type_urls() {
    assert_eq!(
        pb::GrantExpandable::type_url(),
        "type.googleapis.com/c1.connector.v2.GrantExpandable"
    );
    assert_eq!(
        pb::ConnectorCapabilities::type_url(),
        "type.googleapis.com/c1.connector.v2.ConnectorCapabilities"
    );
    assert_eq!(
        pb::c1z_v1::SyncDetails::type_url(),
        "type.googleapis.com/c1.c1z.v1.SyncDetails"
    );
    let any = prost_types::Any::from_msg(&pb::ExternalLink {
        url: "https://x".into(),
    })
    .unwrap();
    assert_eq!(
        any.type_url,
        "type.googleapis.com/c1.connector.v2.ExternalLink"
    );
    let back: pb::ExternalLink = any.to_msg().unwrap();
    assert_eq!(back.url, "https://x");
}

#[test]
fn grant_sources_encode_deterministically() {
    let mut sources = pb::GrantSources::default();
    for id in ["z:1:m", "a:1:m", "m:1:m"] {
        sources.sources.insert(
            id.into(),
            pb::grant_sources::GrantSource { is_direct: true },
        );
    }
    let bytes = sources.encode_to_vec();
    let decoded = pb::GrantSources::decode(bytes.as_slice()).unwrap();
    assert_eq!(
        decoded.sources.keys().collect::<Vec<_>>(),
        ["a:1:m", "m:1:m", "z:1:m"]
    );
    assert_eq!(decoded.encode_to_vec(), bytes);
}
