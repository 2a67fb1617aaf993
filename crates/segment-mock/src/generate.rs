//! Deterministic generation of realistic workspaces from a seed ([`GenSpec`], [`generate`]).

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::ids::{base62, hash_strs, id22, ksuid_from_hash};
use crate::model::{
    Function, FunctionKind, Group, Invite, Label, Logos, Permission, PermissionResource,
    ResourceType, Role, Source, SourceMetadata, Space, User, Warehouse, WarehouseMetadata,
    Workspace,
};

/// Id of the "Workspace Owner" role as shown in Segment's spec examples.
pub const WORKSPACE_OWNER_ROLE_ID: &str = "1WDUuRLxv84rrfCNUwvkrRtkxnS";
/// Id of the "Minimal Workspace Access" role as shown in Segment's spec examples.
pub const MINIMAL_WORKSPACE_ACCESS_ROLE_ID: &str = "1aEWAcU0fArxScocwH9xxLgW7r3";

mod catalogue;

use catalogue::{
    EXTRA_LABELS, FIRST_NAMES, GROUP_NAMES, LAST_NAMES, ROLE_CATALOGUE, SOURCE_CATALOGUE,
    SOURCE_NAMES, SPACE_NAMES, Scope, WAREHOUSE_CATALOGUE, WORKSPACE_NAMES,
};

/// Sizes and seed of a generated workspace.
///
/// Construct with [`GenSpec::default`] (demo size), [`GenSpec::sized`], or struct-update syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSpec {
    /// Seed of the deterministic generator (same seed and sizes -> identical workspace).
    pub seed: u64,
    /// Number of workspace users.
    pub users: usize,
    /// Number of user groups.
    pub groups: usize,
    /// Typical number of members of a non-empty group (every fourth group is empty).
    pub memberships_per_group: usize,
    /// Number of roles taken from the catalogue of real Segment role names (clamped to 2..=catalogue size).
    pub roles: usize,
    /// Number of sources.
    pub sources: usize,
    /// Number of warehouses.
    pub warehouses: usize,
    /// Number of functions of each of the five kinds.
    pub functions_per_kind: usize,
    /// Number of spaces.
    pub spaces: usize,
    /// Number of pending workspace invites.
    pub invites: usize,
    /// Number of labels (at least the two built-in `environment` labels).
    pub labels: usize,
}

impl Default for GenSpec {
    /// A demo-sized workspace: 25 users, 4 groups, all roles, 6 sources, 2 warehouses,
    /// 2 functions per kind, 2 spaces, 3 invites, 4 labels.
    fn default() -> Self {
        Self {
            seed: 42,
            users: 25,
            groups: 4,
            memberships_per_group: 6,
            roles: ROLE_CATALOGUE.len(),
            sources: 6,
            warehouses: 2,
            functions_per_kind: 2,
            spaces: 2,
            invites: 3,
            labels: 4,
        }
    }
}

impl GenSpec {
    /// A spec with the given sizes (seed 42, all roles, 4 labels, and memberships per group
    /// derived from users/groups).
    pub fn sized(
        users: usize,
        groups: usize,
        sources: usize,
        functions_per_kind: usize,
        warehouses: usize,
        spaces: usize,
        invites: usize,
    ) -> Self {
        Self {
            users,
            groups,
            memberships_per_group: (users / groups.max(1)).clamp(1, 200).min(users),
            sources,
            functions_per_kind,
            warehouses,
            spaces,
            invites,
            ..Self::default()
        }
    }

    /// The same spec with another seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Number of roles in the built-in catalogue of real Segment role names.
    pub fn role_catalogue_len() -> usize {
        ROLE_CATALOGUE.len()
    }
}

struct Gen<'a> {
    rng: StdRng,
    ws: Workspace,
    role_scopes: Vec<Scope>,
    spec: &'a GenSpec,
}

/// Generates a workspace deterministically from `spec` (same spec -> byte-identical JSON).
pub fn generate(spec: &GenSpec) -> Workspace {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let ws_name = WORKSPACE_NAMES.choose(&mut rng).copied().unwrap_or("Acme");
    let ws = Workspace::new(id22(&mut rng), ws_name, kebab(ws_name));
    let mut g = Gen {
        rng,
        ws,
        role_scopes: Vec::new(),
        spec,
    };
    g.roles();
    g.labels();
    g.sources();
    g.warehouses();
    g.spaces();
    g.functions();
    g.users();
    g.function_creators();
    g.invites();
    g.groups();
    g.ws
}

impl Gen<'_> {
    fn roles(&mut self) {
        let n = self.spec.roles.clamp(2, ROLE_CATALOGUE.len());
        for &(name, description, scope) in &ROLE_CATALOGUE[..n] {
            let id = match name {
                "Workspace Owner" => WORKSPACE_OWNER_ROLE_ID.to_owned(),
                "Minimal Workspace Access" => MINIMAL_WORKSPACE_ACCESS_ROLE_ID.to_owned(),
                // Role ids are global in Segment, so they do not depend on the seed.
                _ => ksuid_from_hash(hash_strs(["segment-mock-role", name])),
            };
            self.ws.roles.push(Role {
                id,
                name: name.to_owned(),
                description: description.to_owned(),
            });
            self.role_scopes.push(scope);
        }
    }

    fn labels(&mut self) {
        self.ws
            .labels
            .push(label("environment", "dev", Some("Development environment")));
        self.ws
            .labels
            .push(label("environment", "prod", Some("Production environment")));
        let extra = self.spec.labels.saturating_sub(2).min(EXTRA_LABELS.len());
        for &(k, v, d) in &EXTRA_LABELS[..extra] {
            self.ws.labels.push(label(k, v, Some(d)));
        }
    }

    fn sources(&mut self) {
        let mut slugs = HashSet::new();
        for i in 0..self.spec.sources {
            let &(cat_slug, cat_name, category, cloud) = SOURCE_CATALOGUE
                .choose(&mut self.rng)
                .unwrap_or(&SOURCE_CATALOGUE[0]);
            let name = if self.rng.random_bool(0.2) {
                String::new()
            } else {
                let base = SOURCE_NAMES[i % SOURCE_NAMES.len()];
                let env = if self.rng.random_bool(0.6) {
                    "Prod"
                } else {
                    "Dev"
                };
                let round = i / SOURCE_NAMES.len();
                if round == 0 {
                    format!("{base} {env}")
                } else {
                    format!("{base} {env} {}", round + 1)
                }
            };
            let base_slug = if name.is_empty() {
                cat_slug.replace('-', "_")
            } else {
                kebab(&name).replace('-', "_")
            };
            let slug = unique(&mut slugs, base_slug);
            let mut labels = Vec::new();
            if self.rng.random_bool(0.75) {
                let v = if self.rng.random_bool(0.6) {
                    "prod"
                } else {
                    "dev"
                };
                labels.push(label("environment", v, None));
            }
            if self.ws.labels.len() > 2 && self.rng.random_bool(0.3) {
                let l = &self.ws.labels[self.rng.random_range(2..self.ws.labels.len())];
                labels.push(label(&l.key, &l.value, None));
            }
            let source = Source {
                id: id22(&mut self.rng),
                slug,
                name,
                enabled: self.rng.random_bool(0.85),
                labels,
                metadata: SourceMetadata {
                    id: base62(&mut self.rng, 10),
                    name: cat_name.to_owned(),
                    slug: cat_slug.to_owned(),
                    description: format!("Collect events from {cat_name}."),
                    categories: vec![category.to_owned()],
                    is_cloud_event_source: cloud,
                    logos: Logos {
                        default: format!("https://cdn.example.com/catalog/{cat_slug}/default.svg"),
                        mark: Some(format!(
                            "https://cdn.example.com/catalog/{cat_slug}/mark.svg"
                        )),
                        alt: None,
                    },
                },
                write_keys: vec![base62(&mut self.rng, 32)],
                settings: serde_json::Map::new(),
            };
            self.ws.sources.push(source);
        }
    }

    fn warehouses(&mut self) {
        for i in 0..self.spec.warehouses {
            let &(slug, name) = WAREHOUSE_CATALOGUE
                .get(i % WAREHOUSE_CATALOGUE.len())
                .unwrap_or(&WAREHOUSE_CATALOGUE[0]);
            let mut settings = serde_json::Map::new();
            if self.rng.random_bool(0.7) {
                let prefix = ["Prod", "Analytics", "Finance", "Sandbox"][i % 4];
                settings.insert("name".to_owned(), format!("{prefix} {name}").into());
            }
            self.ws.warehouses.push(Warehouse {
                id: id22(&mut self.rng),
                enabled: self.rng.random_bool(0.9),
                settings,
                metadata: WarehouseMetadata {
                    id: base62(&mut self.rng, 11),
                    name: name.to_owned(),
                    slug: slug.to_owned(),
                    description: format!("{name} data warehouse."),
                    logos: Logos {
                        default: format!("https://cdn.example.com/catalog/{slug}/default.svg"),
                        mark: None,
                        alt: None,
                    },
                },
            });
        }
    }

    fn spaces(&mut self) {
        let mut slugs = HashSet::new();
        for i in 0..self.spec.spaces {
            let base = SPACE_NAMES[i % SPACE_NAMES.len()];
            let round = i / SPACE_NAMES.len();
            let name = if round == 0 {
                base.to_owned()
            } else {
                format!("{base} {}", round + 1)
            };
            let slug = unique(&mut slugs, kebab(&name));
            self.ws.spaces.push(Space {
                id: format!("spa_{}", id22(&mut self.rng)),
                slug,
                name,
            });
        }
    }

    fn users(&mut self) {
        let mut emails = HashSet::new();
        for i in 0..self.spec.users {
            let first = *FIRST_NAMES.choose(&mut self.rng).unwrap_or(&"Ada");
            let last = *LAST_NAMES.choose(&mut self.rng).unwrap_or(&"Lovelace");
            let local = format!(
                "{}.{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            );
            let email = unique_email(&mut emails, &local, "example.com");
            let name = if i % 9 == 4 {
                String::new()
            } else {
                format!("{first} {last}")
            };
            let id = id22(&mut self.rng);
            let permissions = self.user_permissions(i);
            self.ws.users.push(User {
                id,
                name,
                email,
                permissions,
            });
        }
    }

    fn user_permissions(&mut self, i: usize) -> Vec<Permission> {
        let mut perms = Vec::new();
        if i == 0 {
            perms.extend(self.workspace_wide(Some(WORKSPACE_OWNER_ROLE_ID)));
            return perms;
        }
        if i > 6 && self.rng.random_bool(0.07) {
            perms.extend(self.workspace_wide(Some(WORKSPACE_OWNER_ROLE_ID)));
            return perms;
        }
        if i <= 6 || self.rng.random_bool(0.95) {
            perms.extend(self.workspace_wide(Some(MINIMAL_WORKSPACE_ACCESS_ROLE_ID)));
        }
        if i <= 6 {
            perms.extend(self.pattern(i - 1));
        } else {
            let extra = self.rng.random_range(0..=2);
            for _ in 0..extra {
                let p = self.rng.random_range(0..6);
                if let Some(perm) = self.pattern(p)
                    && !perms.contains(&perm)
                {
                    perms.push(perm);
                }
            }
        }
        perms
    }

    /// One permission of a given pattern: 0 source, 1 warehouse, 2 function, 3 space,
    /// 4 label-scoped (WORKSPACE + labels), 5 other workspace-wide role.
    fn pattern(&mut self, p: usize) -> Option<Permission> {
        match p {
            0 => self.scoped(Scope::Source),
            1 => self.scoped(Scope::Warehouse),
            2 => self.scoped(Scope::Function),
            3 => self.scoped(Scope::Space),
            4 => self.label_scoped(),
            _ => self.workspace_wide(None),
        }
    }

    fn pick_role(&mut self, scope: Scope, exclude_basic: bool) -> Option<String> {
        let candidates: Vec<usize> = (0..self.ws.roles.len())
            .filter(|&k| self.role_scopes[k] == scope)
            .filter(|&k| {
                !exclude_basic
                    || (self.ws.roles[k].id != WORKSPACE_OWNER_ROLE_ID
                        && self.ws.roles[k].id != MINIMAL_WORKSPACE_ACCESS_ROLE_ID)
            })
            .collect();
        let k = *candidates.choose(&mut self.rng)?;
        Some(self.ws.roles[k].id.clone())
    }

    fn workspace_wide(&mut self, role: Option<&str>) -> Option<Permission> {
        let role_id = match role {
            Some(r) => self.ws.roles.iter().find(|x| x.id == r)?.id.clone(),
            None => self.pick_role(Scope::Workspace, true)?,
        };
        Some(Permission {
            role_id,
            resources: vec![PermissionResource {
                id: self.ws.id.clone(),
                kind: ResourceType::Workspace,
                labels: Vec::new(),
            }],
            labels: Vec::new(),
        })
    }

    fn scoped(&mut self, scope: Scope) -> Option<Permission> {
        let role_id = self.pick_role(scope, false)?;
        let (kind, ids): (ResourceType, Vec<String>) = match scope {
            Scope::Source => (
                ResourceType::Source,
                self.ws.sources.iter().map(|s| s.id.clone()).collect(),
            ),
            Scope::Warehouse => (
                ResourceType::Warehouse,
                self.ws.warehouses.iter().map(|w| w.id.clone()).collect(),
            ),
            Scope::Function => (
                ResourceType::Function,
                self.ws.functions.iter().map(|f| f.id.clone()).collect(),
            ),
            Scope::Space => (
                ResourceType::Space,
                self.ws.spaces.iter().map(|s| s.id.clone()).collect(),
            ),
            Scope::Workspace => return self.workspace_wide(Some(&role_id)),
        };
        if ids.is_empty() {
            return None;
        }
        let n = self.rng.random_range(1..=ids.len().min(3));
        let mut picked: Vec<usize> =
            rand::seq::index::sample(&mut self.rng, ids.len(), n).into_vec();
        picked.sort_unstable();
        Some(Permission {
            role_id,
            resources: picked
                .into_iter()
                .map(|k| PermissionResource {
                    id: ids[k].clone(),
                    kind: kind.clone(),
                    labels: Vec::new(),
                })
                .collect(),
            labels: Vec::new(),
        })
    }

    fn label_scoped(&mut self) -> Option<Permission> {
        let role_id = self.pick_role(Scope::Source, false)?;
        let l = self.ws.labels.choose(&mut self.rng)?;
        let labels = vec![label(&l.key, &l.value, None)];
        Some(Permission {
            role_id,
            resources: vec![PermissionResource {
                id: self.ws.id.clone(),
                kind: ResourceType::Workspace,
                labels,
            }],
            labels: Vec::new(),
        })
    }

    fn functions(&mut self) {
        const WORDS: &[&str] = &[
            "Webhook",
            "Enrich",
            "Scrub PII",
            "Normalize",
            "Slack Notify",
            "Geo Lookup",
            "Dedupe",
            "Currency",
            "Consent",
            "Score Lead",
        ];
        for kind in FunctionKind::ALL {
            let kind_word = match kind {
                FunctionKind::Destination => "Destination",
                FunctionKind::InsertDestination => "Insert Destination",
                FunctionKind::InsertSource => "Insert Source",
                FunctionKind::InsertTransformation => "Insert Transformation",
                FunctionKind::Source => "Source",
            };
            for i in 0..self.spec.functions_per_kind {
                let catalog = id22(&mut self.rng);
                let word = WORDS.choose(&mut self.rng).copied().unwrap_or("Webhook");
                let display_name = format!("{word} {kind_word} {}", i + 1);
                let created_at = iso_time(
                    self.rng.random_range(0..1500),
                    self.rng.random_range(0..86_400),
                );
                let logo_url = self
                    .rng
                    .random_bool(0.5)
                    .then(|| format!("https://cdn.example.com/functions/{}.svg", kebab(word)));
                self.ws.functions.push(Function {
                    id: format!("sfnc_{catalog}"),
                    resource_type: kind,
                    display_name,
                    description: format!("{word} ({} function)", kind_word.to_ascii_lowercase()),
                    created_at,
                    created_by: String::new(),
                    logo_url,
                    catalog_id: catalog,
                });
            }
        }
    }

    fn function_creators(&mut self) {
        if self.ws.users.is_empty() {
            return;
        }
        for k in 0..self.ws.functions.len() {
            let u = self.rng.random_range(0..self.ws.users.len());
            self.ws.functions[k].created_by = self.ws.users[u].id.clone();
        }
    }

    fn invites(&mut self) {
        let mut emails: HashSet<String> = self.ws.users.iter().map(|u| u.email.clone()).collect();
        for i in 0..self.spec.invites {
            let first = *FIRST_NAMES.choose(&mut self.rng).unwrap_or(&"Ada");
            let last = *LAST_NAMES.choose(&mut self.rng).unwrap_or(&"Lovelace");
            let local = format!(
                "{}.{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            );
            let email = unique_email(&mut emails, &local, "partner.example.org");
            let mut permissions: Vec<Permission> = self
                .workspace_wide(Some(MINIMAL_WORKSPACE_ACCESS_ROLE_ID))
                .into_iter()
                .collect();
            if i % 2 == 1
                && let Some(mut p) = self.scoped(Scope::Source)
            {
                p.resources.truncate(1);
                permissions.push(p);
            }
            self.ws.invites.push(Invite { email, permissions });
        }
    }

    fn groups(&mut self) {
        let users = self.ws.users.len();
        for g in 0..self.spec.groups {
            let base = GROUP_NAMES[g % GROUP_NAMES.len()];
            let round = g / GROUP_NAMES.len();
            let name = if round == 0 {
                base.to_owned()
            } else {
                format!("{base} {}", round + 1)
            };
            let id = id22(&mut self.rng);
            let members = if g % 4 == 3 || users == 0 {
                Vec::new()
            } else {
                let typical = self.spec.memberships_per_group.max(1);
                let jitter = typical / 4;
                let n = self
                    .rng
                    .random_range(typical.saturating_sub(jitter)..=typical + jitter)
                    .clamp(1, users);
                let mut idx = rand::seq::index::sample(&mut self.rng, users, n).into_vec();
                idx.sort_unstable();
                idx.into_iter()
                    .map(|k| self.ws.users[k].email.clone())
                    .collect()
            };
            let invites = if g % 3 == 1 && !self.ws.invites.is_empty() {
                let n = self.rng.random_range(1..=self.ws.invites.len().min(2));
                let mut idx =
                    rand::seq::index::sample(&mut self.rng, self.ws.invites.len(), n).into_vec();
                idx.sort_unstable();
                idx.into_iter()
                    .map(|k| self.ws.invites[k].email.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let mut permissions = Vec::new();
            if g % 5 != 4 {
                let first = if g == 0 {
                    4
                } else {
                    self.rng.random_range(0..6)
                };
                permissions.extend(self.pattern(first));
                if self.rng.random_bool(0.5) {
                    let p = self.rng.random_range(0..6);
                    if let Some(perm) = self.pattern(p)
                        && !permissions.contains(&perm)
                    {
                        permissions.push(perm);
                    }
                }
            }
            self.ws.groups.push(Group {
                id,
                name,
                members,
                invites,
                permissions,
            });
        }
    }
}

fn label(key: &str, value: &str, description: Option<&str>) -> Label {
    Label {
        key: key.to_owned(),
        value: value.to_owned(),
        description: description.map(str::to_owned),
    }
}

fn kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn unique(seen: &mut HashSet<String>, base: String) -> String {
    first_unseen(seen, base.clone(), |n| format!("{base}_{n}"))
}

fn unique_email(seen: &mut HashSet<String>, local: &str, domain: &str) -> String {
    let local = local.replace(
        |c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'),
        "",
    );
    first_unseen(seen, format!("{local}@{domain}"), |n| {
        format!("{local}{n}@{domain}")
    })
}

/// The first of `first`, `numbered(2)`, `numbered(3)`, ... not yet in `seen`, added to it.
fn first_unseen(
    seen: &mut HashSet<String>,
    first: String,
    numbered: impl Fn(u32) -> String,
) -> String {
    if seen.insert(first.clone()) {
        return first;
    }
    let mut n = 2;
    loop {
        let candidate = numbered(n);
        if seen.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// `2021-01-01T00:00:00.000Z` plus `days` and `secs`, formatted like Segment's timestamps.
fn iso_time(days: u32, secs: u32) -> String {
    // Days since 1970-01-01 of 2021-01-01.
    let z = i64::from(days) + 18_628 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_time_epoch_of_generator() {
        assert_eq!(iso_time(0, 0), "2021-01-01T00:00:00.000Z");
        assert_eq!(iso_time(59, 3661), "2021-03-01T01:01:01.000Z");
        assert_eq!(iso_time(365, 0), "2022-01-01T00:00:00.000Z");
    }

    #[test]
    fn kebab_slugs() {
        assert_eq!(kebab("EU Customers"), "eu-customers");
        assert_eq!(kebab("Scrub PII"), "scrub-pii");
    }
}
