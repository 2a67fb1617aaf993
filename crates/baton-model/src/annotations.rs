//! `google.protobuf.Any` annotations (c1z-format.md §3.1).
//!
//! Type URLs are `type.googleapis.com/<full message name>`; readers match on the part after
//! the last `/`. "Pick" = first match; "update" = replace the first Any of the same type or
//! append.

use prost::Name;
use prost_types::Any;

use crate::Error;

/// Packs `msg` into an `Any` with type URL `type.googleapis.com/<full name>`.
pub fn pack<M: Name>(msg: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: msg.encode_to_vec(),
    }
}

/// The full message name an `Any` carries: the part of its type URL after the last `/`.
pub fn type_name(any: &Any) -> &str {
    any.type_url
        .rsplit_once('/')
        .map_or(any.type_url.as_str(), |(_, name)| name)
}

/// Whether `any` carries an `M`.
pub fn is<M: Name>(any: &Any) -> bool {
    type_name(any) == M::full_name()
}

/// Decodes `any` as an `M`; `Ok(None)` when it carries another type.
pub fn unpack<M: Name + Default>(any: &Any) -> Result<Option<M>, Error> {
    if !is::<M>(any) {
        return Ok(None);
    }
    M::decode(any.value.as_slice())
        .map(Some)
        .map_err(|source| Error::Decode {
            type_name: M::full_name(),
            source,
        })
}

/// The first `M` among `annotations` ("pick").
pub fn pick<M: Name + Default>(annotations: &[Any]) -> Result<Option<M>, Error> {
    match annotations.iter().find(|a| is::<M>(a)) {
        Some(any) => unpack(any),
        None => Ok(None),
    }
}

/// Whether `annotations` contain an `M`.
pub fn contains<M: Name>(annotations: &[Any]) -> bool {
    annotations.iter().any(is::<M>)
}

/// Replaces the first `M` among `annotations` with `msg`, or appends `msg` ("update").
pub fn update<M: Name>(annotations: &mut Vec<Any>, msg: &M) {
    let packed = pack(msg);
    match annotations.iter_mut().find(|a| is::<M>(a)) {
        Some(slot) => *slot = packed,
        None => annotations.push(packed),
    }
}

/// Appends `msg` without looking for an existing one.
pub fn append<M: Name>(annotations: &mut Vec<Any>, msg: &M) {
    annotations.push(pack(msg));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pb;

    #[test]
    fn type_url_and_name() {
        let any = pack(&pb::UserTrait::default());
        assert_eq!(
            any.type_url,
            "type.googleapis.com/c1.connector.v2.UserTrait"
        );
        assert_eq!(type_name(&any), "c1.connector.v2.UserTrait");
        let any = pack(&pb::c1z_v1::SyncDetails { id: "x".into() });
        assert_eq!(any.type_url, "type.googleapis.com/c1.c1z.v1.SyncDetails");
        let from_msg = Any::from_msg(&pb::GroupTrait::default()).unwrap();
        assert_eq!(
            from_msg.type_url,
            "type.googleapis.com/c1.connector.v2.GroupTrait"
        );
    }

    #[test]
    fn readers_match_after_last_slash() {
        let mut any = pack(&pb::ChildResourceType {
            resource_type_id: "group".into(),
        });
        any.type_url = "example.com/x/c1.connector.v2.ChildResourceType".into();
        let child: pb::ChildResourceType = unpack(&any).unwrap().unwrap();
        assert_eq!(child.resource_type_id, "group");
        any.type_url = "c1.connector.v2.ChildResourceType".into();
        assert!(is::<pb::ChildResourceType>(&any));
    }

    #[test]
    fn pick_update_append() {
        let mut annos = vec![pack(&pb::SkipGrants {})];
        assert_eq!(pick::<pb::GrantExpandable>(&annos).unwrap(), None);
        let a = pb::ChildResourceType {
            resource_type_id: "a".into(),
        };
        let b = pb::ChildResourceType {
            resource_type_id: "b".into(),
        };
        update(&mut annos, &a);
        append(&mut annos, &b);
        assert_eq!(annos.len(), 3);
        assert_eq!(pick::<pb::ChildResourceType>(&annos).unwrap(), Some(a));
        let c = pb::ChildResourceType {
            resource_type_id: "c".into(),
        };
        update(&mut annos, &c);
        assert_eq!(annos.len(), 3);
        assert_eq!(pick::<pb::ChildResourceType>(&annos).unwrap(), Some(c));
        assert!(is::<pb::SkipGrants>(&annos[0]));
        assert!(contains::<pb::SkipGrants>(&annos));
        assert!(!contains::<pb::SkipEntitlements>(&annos));
    }

    #[test]
    fn undecodable_bytes_are_an_error() {
        let any = Any {
            type_url: "type.googleapis.com/c1.connector.v2.ChildResourceType".into(),
            value: vec![0xff, 0xff, 0xff],
        };
        assert!(matches!(
            unpack::<pb::ChildResourceType>(&any),
            Err(Error::Decode { .. })
        ));
    }
}
