//! [`LabelSet`]: the canonical, percent-encoded label set carried by role entitlement slugs.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use segment_api::{Label, Permission, PermissionResource};

use crate::SchemeError;

/// Characters escaped inside label keys and values: controls, non-ASCII (always escaped by
/// `utf8_percent_encode`) and the separators of the scheme.
const LABEL_ESCAPES: &AsciiSet = &CONTROLS.add(b'%').add(b':').add(b',').add(b'=').add(b'@');

fn escape(part: &str) -> String {
    utf8_percent_encode(part, LABEL_ESCAPES).to_string()
}

/// Decodes one escaped key or value, accepting only the canonical escaping.
fn unescape(part: &str, encoded: &str) -> Result<String, SchemeError> {
    let bad = |reason| SchemeError::InvalidLabels {
        encoded: encoded.to_owned(),
        reason,
    };
    let decoded = percent_decode_str(part)
        .decode_utf8()
        .map_err(|_| bad("an escape sequence does not decode as UTF-8"))?
        .into_owned();
    if escape(&decoded) != part {
        return Err(bad(
            "not in canonical encoding (escape exactly % : , = @, controls and non-ASCII, with uppercase hex)",
        ));
    }
    Ok(decoded)
}

/// A set of `(key, value)` labels, sorted by (key, value) and deduplicated; descriptions are
/// not part of it. Its encoding `k=v,k2=v2` percent-encodes `%`, `:`, `,`, `=`, `@` and every
/// character that is not printable ASCII inside keys and values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSet(BTreeSet<(String, String)>);

impl LabelSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set of the labels' `(key, value)` pairs.
    pub fn from_labels<'a, I>(labels: I) -> Self
    where
        I: IntoIterator<Item = &'a Label>,
    {
        Self(
            labels
                .into_iter()
                .map(|l| (l.key.clone(), l.value.clone()))
                .collect(),
        )
    }

    /// The set of the given `(key, value)` pairs.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The label set of one resource of a permission: the resource's labels united with the
    /// permission-level labels.
    pub fn of_permission_resource(permission: &Permission, resource: &PermissionResource) -> Self {
        let mut set = Self::from_labels(&resource.labels);
        set.0.extend(
            permission
                .labels
                .iter()
                .map(|l| (l.key.clone(), l.value.clone())),
        );
        set
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The labels as API models (without descriptions), in order.
    pub fn to_labels(&self) -> Vec<Label> {
        self.0
            .iter()
            .map(|(k, v)| Label {
                key: k.clone(),
                value: v.clone(),
                description: None,
            })
            .collect()
    }

    /// The canonical encoding (`""` for the empty set).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&escape(k));
            out.push('=');
            out.push_str(&escape(v));
        }
        out
    }

    /// Human-readable `k=v, k2=v2` (unescaped; for display names only).
    pub fn display(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses a canonical encoding; `""` is the empty set. Unsorted, duplicated or
    /// non-canonically escaped input is refused, so `parse` and [`encode`](Self::encode) are
    /// exact inverses.
    pub fn parse(encoded: &str) -> Result<Self, SchemeError> {
        let mut set = BTreeSet::new();
        if encoded.is_empty() {
            return Ok(Self(set));
        }
        let mut last: Option<(String, String)> = None;
        for item in encoded.split(',') {
            let (k, v) = item.split_once('=').ok_or(SchemeError::InvalidLabels {
                encoded: encoded.to_owned(),
                reason: "a label lacks '='",
            })?;
            let pair = (unescape(k, encoded)?, unescape(v, encoded)?);
            if last.as_ref().is_some_and(|prev| prev >= &pair) {
                return Err(SchemeError::InvalidLabels {
                    encoded: encoded.to_owned(),
                    reason: "labels must be sorted by (key, value) without duplicates",
                });
            }
            last = Some(pair.clone());
            set.insert(pair);
        }
        Ok(Self(set))
    }
}

impl fmt::Display for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for LabelSet {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::parse(s)
    }
}
