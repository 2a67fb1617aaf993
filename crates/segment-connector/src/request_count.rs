//! Request counting: the fewest requests a full (or restricted) sync must make, which the
//! report compares the requests actually made against.

use std::collections::BTreeSet;

use crate::SyncDepth;
use segment_scheme::{FUNCTION, GROUP, INVITE, ROLE, SOURCE, SPACE, USER, WAREHOUSE};

/// Number of function kinds listed (`segment_api::FunctionKind::ALL`).
pub const FUNCTION_KINDS: usize = 5;

/// Collection sizes of a workspace as seen by a sync (inputs of [`min_requests`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceSizes {
    /// Roles.
    pub roles: u64,
    /// Users.
    pub users: u64,
    /// Groups.
    pub groups: u64,
    /// Members of each group (one entry per group whose members are listed).
    pub group_members: Vec<u64>,
    /// Invitees of each group (one entry per group whose invitees are listed).
    pub group_invites: Vec<u64>,
    /// Pending invites.
    pub invites: u64,
    /// Sources.
    pub sources: u64,
    /// Warehouses.
    pub warehouses: u64,
    /// Spaces.
    pub spaces: u64,
    /// Functions of each kind, in `FunctionKind::ALL` order.
    pub functions: [u64; FUNCTION_KINDS],
}

/// Requests needed for one listing of `n` items: `max(1, ceil(n / page_size))`.
pub fn pages(n: u64, page_size: u32) -> u64 {
    let page = u64::from(page_size.max(1));
    n.div_ceil(page).max(1)
}

/// Which requests a sync of `types` makes (`None` = every type; the workspace is always
/// synced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FetchPlan {
    pub(crate) users: bool,
    pub(crate) groups: bool,
    pub(crate) roles: bool,
    pub(crate) invites: bool,
    pub(crate) sources: bool,
    pub(crate) warehouses: bool,
    pub(crate) functions: bool,
    pub(crate) spaces: bool,
    /// The role list is needed (roles or any scoped type synced).
    pub(crate) list_roles: bool,
    /// Permissions are needed (`getUser` / `getUserGroup`).
    pub(crate) permissions: bool,
    /// Entitlements are written.
    pub(crate) entitlements: bool,
    /// Grants are written.
    pub(crate) grants: bool,
}

impl FetchPlan {
    pub(crate) fn new(types: Option<&BTreeSet<String>>, depth: SyncDepth) -> Self {
        let has = |t: &str| types.is_none_or(|s| s.contains(t));
        let scoped = has(SOURCE) || has(WAREHOUSE) || has(FUNCTION) || has(SPACE);
        let entitlements = depth.entitlements();
        Self {
            users: has(USER),
            groups: has(GROUP),
            roles: has(ROLE),
            invites: has(INVITE),
            sources: has(SOURCE),
            warehouses: has(WAREHOUSE),
            functions: has(FUNCTION),
            spaces: has(SPACE),
            list_roles: has(ROLE) || (scoped && entitlements),
            permissions: entitlements && (has(ROLE) || scoped),
            entitlements,
            grants: depth.grants(),
        }
    }

    pub(crate) fn get_users(&self) -> bool {
        self.users && self.permissions
    }

    pub(crate) fn get_groups(&self) -> bool {
        self.groups && self.permissions
    }

    pub(crate) fn group_members(&self) -> bool {
        self.groups && self.users && self.grants
    }

    pub(crate) fn group_invites(&self) -> bool {
        self.groups && self.invites && self.grants
    }
}

/// The fewest requests a sync of `types` (`None` = all) at `depth` can make on a workspace of these
/// sizes with `page_size` items per page:
///
/// 1 workspace + role pages + user pages + U (`getUser`) + group pages + G (`getUserGroup`) +
/// Σ member pages + Σ group-invite pages + invite pages + source pages + warehouse pages +
/// space pages + Σ over the 5 kinds of function pages, where each listing costs
/// [`pages`]`(n)`; terms that the restriction makes unnecessary are left out (e.g. no
/// `getUser` when neither roles nor scoped types are synced, no member listing without grants).
pub fn min_requests(
    sizes: &WorkspaceSizes,
    page_size: u32,
    types: Option<&BTreeSet<String>>,
    depth: SyncDepth,
) -> u64 {
    let plan = FetchPlan::new(types, depth);
    let p = |n: u64| pages(n, page_size);
    let mut total = 1;
    if plan.list_roles {
        total += p(sizes.roles);
    }
    if plan.users {
        total += p(sizes.users);
    }
    if plan.get_users() {
        total += sizes.users;
    }
    if plan.groups {
        total += p(sizes.groups);
    }
    if plan.get_groups() {
        total += sizes.groups;
    }
    if plan.group_members() {
        total += group_pages(&sizes.group_members, sizes.groups, page_size);
    }
    if plan.group_invites() {
        total += group_pages(&sizes.group_invites, sizes.groups, page_size);
    }
    if plan.invites {
        total += p(sizes.invites);
    }
    if plan.sources {
        total += p(sizes.sources);
    }
    if plan.warehouses {
        total += p(sizes.warehouses);
    }
    if plan.spaces {
        total += p(sizes.spaces);
    }
    if plan.functions {
        total += sizes.functions.iter().map(|&n| p(n)).sum::<u64>();
    }
    total
}

/// Σ pages over the groups' lists; groups without an entry count one page.
fn group_pages(per_group: &[u64], groups: u64, page_size: u32) -> u64 {
    let listed: u64 = per_group.iter().map(|&n| pages(n, page_size)).sum();
    let missing = groups.saturating_sub(per_group.len() as u64);
    listed + missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_counts() {
        assert_eq!(pages(0, 1000), 1);
        assert_eq!(pages(1000, 1000), 1);
        assert_eq!(pages(1001, 1000), 2);
    }

    #[test]
    fn full_and_restricted_budgets() {
        let sizes = WorkspaceSizes {
            roles: 16,
            users: 2000,
            groups: 2,
            group_members: vec![1500, 0],
            group_invites: vec![1, 0],
            invites: 3,
            sources: 10,
            warehouses: 1,
            spaces: 0,
            functions: [1, 0, 0, 0, 2],
        };
        // 1 + 1 + 2 + 2000 + 1 + 2 + (2 + 1) + (1 + 1) + 1 + 1 + 1 + 1 + 5 = 2021
        assert_eq!(min_requests(&sizes, 1000, None, SyncDepth::Full), 2021);
        let only: BTreeSet<String> = ["user", "group"].into_iter().map(String::from).collect();
        // 1 + 2 + 1 + (2 + 1)
        assert_eq!(min_requests(&sizes, 1000, Some(&only), SyncDepth::Full), 7);
        // Without grants: no member or group-invite listing (2021 - 3 - 2).
        assert_eq!(
            min_requests(&sizes, 1000, None, SyncDepth::SkipGrants),
            2016
        );
        // Resources only: no getUser / getUserGroup either (2016 - 2000 - 2 = 14).
        assert_eq!(
            min_requests(&sizes, 1000, None, SyncDepth::SkipEntitlementsAndGrants),
            14
        );
    }
}
