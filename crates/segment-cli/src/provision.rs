//! The provisioning commands (`grant`, `revoke`, `create-account`, `delete-resource`,
//! `apply`) and the standard baton flags that map onto them. Grant ids and principal types are
//! resolved through the c1z given by `--file` when it exists, else parsed or looked up in
//! Segment (see `Provisioner::resolve_principal`); principal types are never guessed.

use std::path::Path;
use std::str::FromStr as _;

use anyhow::{Context as _, anyhow, bail};
use baton_c1z::{C1zReader, ReaderOptions};
use baton_model::ids::{EntitlementId, GrantId, ResourceRef, ResourceTypeId};
use segment_provision::{
    AccountRequest, Outcome, Plan, PrincipalDirectory, ProvisionError, ProvisionOptions,
    Provisioner,
};
use segment_scheme::{self as scheme, PrincipalType, SegmentPrincipal};
use serde_json::json;

use crate::cli::{DeleteTypeArg, GlobalArgs, OutputFormat, PrincipalTypeArg};
use crate::connect::{self, Target};
use crate::output;

/// Exit code of a change made (or planned).
pub(crate) const EXIT_CHANGED: u8 = 0;
/// Exit code of a failure.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit code of a no-op (already granted, revoked, invited, a member, gone).
pub(crate) const EXIT_NOOP: u8 = 3;

/// One provisioning request, from a subcommand or from the baton flags.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Grant {
        entitlement: String,
        principal: String,
        principal_type: Option<PrincipalTypeArg>,
    },
    RevokeGrant {
        grant: String,
    },
    Revoke {
        entitlement: String,
        principal: String,
        principal_type: Option<PrincipalTypeArg>,
    },
    CreateAccount {
        email: String,
        entitlements: Vec<String>,
    },
    Delete {
        resource_type: DeleteTypeArg,
        resource: String,
    },
    Apply {
        plan: std::path::PathBuf,
        concurrency: Option<u16>,
    },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Grant { .. } => "grant",
            Action::RevokeGrant { .. } | Action::Revoke { .. } => "revoke",
            Action::CreateAccount { .. } => "create-account",
            Action::Delete { .. } => "delete-resource",
            Action::Apply { .. } => "apply",
        }
    }
}

/// The c1z of `--file`, when it exists and opens.
struct Catalog {
    reader: Option<C1zReader>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("open", &self.reader.is_some())
            .finish()
    }
}

impl Catalog {
    fn open(path: &Path, temp_dir: Option<&Path>) -> Catalog {
        if !path.exists() {
            tracing::debug!(file = %path.display(), "no c1z file: ids are parsed and looked up through the API");
            return Catalog { reader: None };
        }
        let mut options = ReaderOptions::default();
        if let Some(dir) = temp_dir {
            options = options.with_temp_dir(dir);
        }
        match C1zReader::open(path, options) {
            Ok(reader) => {
                tracing::debug!(file = %path.display(), "resolving ids through the c1z file");
                Catalog {
                    reader: Some(reader),
                }
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read the c1z file; ids are parsed and looked up through the API instead");
                Catalog { reader: None }
            }
        }
    }

    /// The principals of the latest sync (none without a file).
    fn directory(&self) -> Option<PrincipalDirectory> {
        let reader = self.reader.as_ref()?;
        match PrincipalDirectory::from_c1z(reader, None) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the principals of the c1z file");
                None
            }
        }
    }

    /// The grant with this id in the latest sync: (entitlement id, principal).
    fn grant(&self, id: &str) -> Option<(EntitlementId, ResourceRef)> {
        let reader = self.reader.as_ref()?;
        let view = reader.latest().ok()?;
        let grant = view.get_grant(id).ok()??;
        let entitlement = EntitlementId::from_str(&grant.entitlement?.id).ok()?;
        let principal = ResourceRef::try_from(&grant.principal?.id?).ok()?;
        Some((entitlement, principal))
    }
}

/// The principal of `id` when its type is stated: `--principal-type`, else a `<type>:<id>`
/// prefix of a known type. `None` when the type has to be looked up.
fn stated_principal(
    id: &str,
    explicit: Option<PrincipalTypeArg>,
) -> Option<anyhow::Result<ResourceRef>> {
    let (kind, id) = match explicit {
        Some(t) => (t.to_scheme(), id),
        None => {
            let (prefix, rest) = id.split_once(':')?;
            (PrincipalType::from_str(prefix).ok()?, rest)
        }
    };
    Some(
        SegmentPrincipal::new(kind, id)
            .and_then(|p| p.resource_ref())
            .map_err(|e| anyhow!("invalid principal {:?}: {e}", format!("{kind}:{id}"))),
    )
}

/// The principal of `id` and whether its type was stated (see [`stated_principal`]); else
/// looked up, never guessed: the c1z, an email address (invite), a Segment user, a group.
async fn resolve_principal(
    provisioner: &Provisioner,
    id: &str,
    explicit: Option<PrincipalTypeArg>,
) -> anyhow::Result<(ResourceRef, bool)> {
    if let Some(stated) = stated_principal(id, explicit) {
        return stated.map(|r| (r, true));
    }
    let found = provisioner.resolve_principal(id).await?;
    tracing::debug!(principal = id, principal_type = %found.resource_type(), "principal type looked up");
    Ok((found, false))
}

/// `<rt>:<id>` checked.
fn resource_ref(rt: &str, id: &str) -> anyhow::Result<ResourceRef> {
    let invalid =
        |e: baton_model::IdError| anyhow!("invalid resource {:?}: {e}", format!("{rt}:{id}"));
    ResourceRef::new(ResourceTypeId::new(rt).map_err(invalid)?, id).map_err(invalid)
}

fn parse_entitlement(id: &str) -> anyhow::Result<EntitlementId> {
    EntitlementId::from_str(id).map_err(|e| anyhow!("invalid entitlement id {id:?}: {e}"))
}

/// Runs one provisioning action; returns the exit code.
pub(crate) async fn run(global: &GlobalArgs, action: Action, dry_run: bool) -> anyhow::Result<u8> {
    let target = Target::from_flags(global)?;
    let session = connect::session(global, &target, None)?;
    let catalog = Catalog::open(
        &global.file_or(crate::cli::DEFAULT_FILE),
        global.c1z_temp_dir.as_deref(),
    );
    let mut options = ProvisionOptions::default().with_dry_run(dry_run);
    if let Action::Apply {
        concurrency: Some(n),
        ..
    } = &action
    {
        options = options.with_concurrency(usize::from(*n));
    }
    let mut provisioner = Provisioner::new(session, options);
    if let Some(directory) = catalog.directory() {
        provisioner = provisioner.with_directory(directory);
    }
    let name = action.name();

    let result: Result<Outcome, ProvisionError> = match action {
        Action::Grant {
            entitlement,
            principal,
            principal_type,
        } => {
            let entitlement = parse_entitlement(&entitlement)?;
            drop(catalog);
            let (principal, _) =
                resolve_principal(&provisioner, &principal, principal_type).await?;
            provisioner.grant(&entitlement, &principal).await
        }
        Action::Revoke {
            entitlement,
            principal,
            principal_type,
        } => {
            let entitlement = parse_entitlement(&entitlement)?;
            drop(catalog);
            let (principal, stated) =
                resolve_principal(&provisioner, &principal, principal_type).await?;
            if stated {
                provisioner.revoke_from(&entitlement, &principal).await
            } else {
                provisioner
                    .revoke_from_inferred(&entitlement, &principal)
                    .await
            }
        }
        Action::RevokeGrant { grant } => {
            let (entitlement, principal) = match catalog.grant(&grant) {
                Some(found) => found,
                None => {
                    let parsed = GrantId::from_str(&grant)
                        .map_err(|e| anyhow!("invalid grant id {grant:?}: {e}"))?;
                    let principal =
                        ResourceRef::new(parsed.principal_type().clone(), parsed.principal_id())
                            .map_err(|e| anyhow!("invalid grant id {grant:?}: {e}"))?;
                    (parsed.entitlement().clone(), principal)
                }
            };
            drop(catalog);
            provisioner.revoke_from(&entitlement, &principal).await
        }
        Action::CreateAccount {
            email,
            entitlements,
        } => {
            drop(catalog);
            let mut request = AccountRequest::new(email);
            for e in &entitlements {
                request = request.with_entitlement(parse_entitlement(e)?);
            }
            provisioner.create_account(&request).await
        }
        Action::Delete {
            resource_type,
            resource,
        } => {
            drop(catalog);
            let rt = match resource_type {
                DeleteTypeArg::User => scheme::USER,
                DeleteTypeArg::Invite => scheme::INVITE,
            };
            let resource = resource_ref(rt, &resource)?;
            provisioner.delete_resource(&resource).await
        }
        Action::Apply { plan, .. } => {
            drop(catalog);
            return apply(global, &provisioner, &plan).await;
        }
    };

    match result {
        Ok(outcome) => {
            match global.output {
                OutputFormat::Json => {
                    let mut value = serde_json::to_value(&outcome)
                        .context("cannot render the outcome as JSON")?;
                    value["status"] = json!("ok");
                    value["noop"] = json!(outcome.is_noop());
                    output::out_json(&value);
                }
                OutputFormat::Text | OutputFormat::Csv => {
                    output::out(&outcome.to_string());
                    if outcome.dry_run {
                        for write in &outcome.writes {
                            output::out(&format!("  {write}"));
                        }
                    }
                }
            }
            Ok(if outcome.is_noop() {
                EXIT_NOOP
            } else {
                EXIT_CHANGED
            })
        }
        Err(e) => {
            if global.output == OutputFormat::Json {
                output::out_json(&json!({
                    "status": "error",
                    "error": {
                        "kind": e.kind(),
                        "message": e.to_string(),
                        "retryable": e.is_retryable(),
                    }
                }));
            }
            Err(anyhow::Error::new(e).context(format!("{name} failed")))
        }
    }
}

/// `apply PLAN.json`.
async fn apply(global: &GlobalArgs, provisioner: &Provisioner, path: &Path) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    let plan =
        Plan::from_json(&text).with_context(|| format!("invalid plan {}", path.display()))?;
    let report = provisioner.apply(&plan).await;
    match global.output {
        OutputFormat::Json => {
            let mut value =
                serde_json::to_value(&report).context("cannot render the report as JSON")?;
            value["success"] = json!(report.is_success());
            output::out_json(&value);
        }
        OutputFormat::Text | OutputFormat::Csv => {
            for op in &report.results {
                output::out(&op.to_string());
            }
            if report.dry_run {
                for write in &report.writes {
                    output::out(&format!("  {write}"));
                }
            }
            output::out(&report.to_string());
        }
    }
    if report.is_success() {
        Ok(EXIT_CHANGED)
    } else {
        for failed in report.failed() {
            if let Err(e) = &failed.result {
                tracing::error!(index = failed.index, op = failed.operation.name(), error = %e, "operation failed");
            }
        }
        Ok(EXIT_FAILED)
    }
}

/// The action of the baton flags given on the root command, if any.
pub(crate) fn from_baton_flags(
    flags: &crate::cli::BatonProvisioningArgs,
) -> anyhow::Result<Option<Action>> {
    if let (Some(entitlement), Some(principal)) = (&flags.grant_entitlement, &flags.grant_principal)
    {
        return Ok(Some(Action::Grant {
            entitlement: entitlement.clone(),
            principal: principal.clone(),
            principal_type: flags.grant_principal_type,
        }));
    }
    if let Some(grant) = &flags.revoke_grant {
        return Ok(Some(Action::RevokeGrant {
            grant: grant.clone(),
        }));
    }
    if flags.create_account_email.is_some()
        || flags.create_account_login.is_some()
        || flags.create_account_profile.is_some()
    {
        return account_from_flags(flags).map(Some);
    }
    if let (Some(resource), Some(resource_type)) =
        (&flags.delete_resource, flags.delete_resource_type)
    {
        return Ok(Some(Action::Delete {
            resource_type,
            resource: resource.clone(),
        }));
    }
    Ok(None)
}

/// `--create-account-*`: the email from `--create-account-email`, else the profile's `email`,
/// else the login when it is an address; entitlements from the profile's `role` (a role id),
/// `groups` (group ids) and `entitlements` (entitlement ids).
fn account_from_flags(flags: &crate::cli::BatonProvisioningArgs) -> anyhow::Result<Action> {
    if let Some(rt) = &flags.create_account_resource_type
        && rt != scheme::USER
        && rt != scheme::INVITE
    {
        bail!(
            "--create-account-resource-type {rt:?}: accounts are `user` resources (created as invitations)"
        );
    }
    let profile = match &flags.create_account_profile {
        Some(text) => {
            let value: serde_json::Value =
                serde_json::from_str(text).context("--create-account-profile is not valid JSON")?;
            match value {
                serde_json::Value::Object(map) => map,
                _ => bail!("--create-account-profile must be a JSON object"),
            }
        }
        None => serde_json::Map::new(),
    };
    let text = |key: &str| profile.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let list = |key: &str| -> Vec<String> {
        match profile.get(key) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    let email = flags
        .create_account_email
        .clone()
        .or_else(|| text("email"))
        .or_else(|| flags.create_account_login.clone().filter(|l| l.contains('@')))
        .or_else(|| text("login").filter(|l| l.contains('@')))
        .ok_or_else(|| {
            anyhow!(
                "no email for the account: pass --create-account-email or an \"email\" in --create-account-profile"
            )
        })?;
    let mut entitlements = Vec::new();
    if let Some(role) = text("role") {
        entitlements.push(role_entitlement(&role));
    }
    for group in list("groups") {
        entitlements.push(group_entitlement(&group));
    }
    entitlements.extend(list("entitlements"));
    Ok(Action::CreateAccount {
        email,
        entitlements,
    })
}

/// `role:<id>:member` for a role id (a full entitlement id is kept as is).
pub(crate) fn role_entitlement(role: &str) -> String {
    if role.contains(':') {
        role.to_owned()
    } else {
        scheme::SegmentEntitlement::role_member(role).to_string()
    }
}

/// `group:<id>:member` for a group id (a full entitlement id is kept as is).
pub(crate) fn group_entitlement(group: &str) -> String {
    if group.contains(':') {
        group.to_owned()
    } else {
        scheme::SegmentEntitlement::group_member(group).to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::cli::BatonProvisioningArgs;

    #[test]
    fn principal_types_are_stated_or_looked_up() {
        let r = |id: &str, t| {
            stated_principal(id, t).map(|r| r.map(|r| r.to_string()).map_err(|e| e.to_string()))
        };
        assert_eq!(r("u1", None), None, "looked up, never guessed");
        assert_eq!(r("a@b.example", None), None);
        assert_eq!(r("group:g1", None), Some(Ok("group:g1".into())));
        assert_eq!(
            r("invite:a@b.example", None),
            Some(Ok("invite:a@b.example".into()))
        );
        assert_eq!(
            r("g1", Some(PrincipalTypeArg::Group)),
            Some(Ok("group:g1".into()))
        );
        assert_eq!(r("weird:x", None), None);
        assert!(matches!(r("", Some(PrincipalTypeArg::User)), Some(Err(_))));
    }

    #[test]
    fn account_flags_take_the_email_from_the_profile() {
        let flags = BatonProvisioningArgs {
            create_account_profile: Some(
                r#"{"email":"x@y.example","role":"r1","groups":["g1","g2"]}"#.into(),
            ),
            ..BatonProvisioningArgs::default()
        };
        let Some(Action::CreateAccount {
            email,
            entitlements,
        }) = from_baton_flags(&flags).unwrap()
        else {
            panic!("not an account");
        };
        assert_eq!(email, "x@y.example");
        assert_eq!(
            entitlements,
            ["role:r1:member", "group:g1:member", "group:g2:member"]
        );

        let flags = BatonProvisioningArgs {
            create_account_login: Some("login@y.example".into()),
            ..BatonProvisioningArgs::default()
        };
        let Some(Action::CreateAccount { email, .. }) = from_baton_flags(&flags).unwrap() else {
            panic!("not an account");
        };
        assert_eq!(email, "login@y.example");

        let flags = BatonProvisioningArgs {
            create_account_profile: Some("[1]".into()),
            ..BatonProvisioningArgs::default()
        };
        assert!(from_baton_flags(&flags).is_err());
        let flags = BatonProvisioningArgs {
            create_account_login: Some("no-email".into()),
            ..BatonProvisioningArgs::default()
        };
        assert!(from_baton_flags(&flags).is_err());
    }

    #[test]
    fn role_and_group_ids_become_entitlements() {
        assert_eq!(role_entitlement("r1"), "role:r1:member");
        assert_eq!(role_entitlement("role:r1:member@a=b"), "role:r1:member@a=b");
        assert_eq!(group_entitlement("g1"), "group:g1:member");
    }
}
