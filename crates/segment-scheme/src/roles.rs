//! Role slugs: the name-derived part of scoped entitlement ids, and their resolution back to
//! one role (fail closed on none or several).

use segment_api::Role;

use crate::SchemeError;

/// The slug of a role name, as used in scoped entitlement ids.
///
/// Lowercase; space and `-` become `_`; `[a-z0-9_]` and any other Unicode alphanumeric
/// character (lowercased) are kept; everything else is dropped. For ASCII names this is the
/// incumbent's rule ("Source Admin" -> `source_admin`, "Read-only (Engage)" ->
/// `read_only_engage`). An empty result becomes `role-<role_id>` (the `-` cannot occur in a
/// name-derived slug, so the fallback never collides with one).
pub fn role_slug(role_name: &str, role_id: &str) -> String {
    let mut slug = String::with_capacity(role_name.len());
    for c in role_name.chars() {
        if c == ' ' || c == '-' || c == '_' {
            slug.push('_');
        } else if c.is_alphanumeric() {
            // Lowercasing may yield marks (e.g. 'İ' -> "i\u{307}"): keep alphanumerics only.
            slug.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        }
    }
    if slug.is_empty() {
        format!("role-{role_id}")
    } else {
        slug
    }
}

/// Every role whose [`role_slug`] is `slug`, in the given order.
pub fn roles_with_slug<'a>(roles: &'a [Role], slug: &str) -> Vec<&'a Role> {
    roles
        .iter()
        .filter(|r| role_slug(&r.name, &r.id) == slug)
        .collect()
}

/// The one role whose slug is `slug`: none -> [`SchemeError::UnknownRoleSlug`], several ->
/// [`SchemeError::AmbiguousRoleSlug`] naming every candidate. Never a silent first match.
pub fn resolve_role_slug<'a>(roles: &'a [Role], slug: &str) -> Result<&'a Role, SchemeError> {
    let mut found = roles_with_slug(roles, slug);
    match found.len() {
        0 => Err(SchemeError::UnknownRoleSlug {
            slug: slug.to_owned(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(SchemeError::AmbiguousRoleSlug {
            slug: slug.to_owned(),
            candidates: found
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect(),
        }),
    }
}
