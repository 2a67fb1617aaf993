//! The standard baton on-demand provisioning flags (`--grant-entitlement`, `--revoke-grant`,
//! `--create-account-*`, `--delete-resource*`), hidden from `--help` and kept for drop-in use.

use clap::Args;

use crate::cli::{DeleteTypeArg, PrincipalTypeArg};

/// The standard baton on-demand provisioning flags (hidden; see the subcommands).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct BatonProvisioningArgs {
    /// Entitlement id to grant (baton flag; see `grant`).
    #[arg(
        long,
        env = "BATON_GRANT_ENTITLEMENT",
        hide = true,
        requires = "grant_principal"
    )]
    pub(crate) grant_entitlement: Option<String>,

    /// Principal resource id of the grant (baton flag).
    #[arg(
        long,
        env = "BATON_GRANT_PRINCIPAL",
        hide = true,
        requires = "grant_entitlement"
    )]
    pub(crate) grant_principal: Option<String>,

    /// Principal resource type of the grant (baton flag).
    #[arg(long, env = "BATON_GRANT_PRINCIPAL_TYPE", hide = true, value_enum)]
    pub(crate) grant_principal_type: Option<PrincipalTypeArg>,

    /// Grant id to revoke (baton flag; see `revoke`).
    #[arg(long, env = "BATON_REVOKE_GRANT", hide = true)]
    pub(crate) revoke_grant: Option<String>,

    /// Email of the account to create (baton flag; see `create-account`).
    #[arg(long, env = "BATON_CREATE_ACCOUNT_EMAIL", hide = true)]
    pub(crate) create_account_email: Option<String>,

    /// Login of the account to create (baton flag; used as the email when it is one).
    #[arg(long, env = "BATON_CREATE_ACCOUNT_LOGIN", hide = true)]
    pub(crate) create_account_login: Option<String>,

    /// Profile of the account to create, a JSON object (baton flag; `email`, `role`, `groups`).
    #[arg(long, env = "BATON_CREATE_ACCOUNT_PROFILE", hide = true)]
    pub(crate) create_account_profile: Option<String>,

    /// Resource type of the account to create (baton flag; only `user`/`invite`).
    #[arg(long, env = "BATON_CREATE_ACCOUNT_RESOURCE_TYPE", hide = true)]
    pub(crate) create_account_resource_type: Option<String>,

    /// Resource id to delete (baton flag; see `delete-resource`).
    #[arg(
        long,
        env = "BATON_DELETE_RESOURCE",
        hide = true,
        requires = "delete_resource_type"
    )]
    pub(crate) delete_resource: Option<String>,

    /// Resource type of the resource to delete (baton flag).
    #[arg(long, env = "BATON_DELETE_RESOURCE_TYPE", hide = true, value_enum)]
    pub(crate) delete_resource_type: Option<DeleteTypeArg>,
}

impl BatonProvisioningArgs {
    /// How many distinct provisioning actions the flags ask for.
    pub(crate) fn actions(&self) -> usize {
        [
            self.grant_entitlement.is_some() || self.grant_principal.is_some(),
            self.revoke_grant.is_some(),
            self.create_account_email.is_some()
                || self.create_account_login.is_some()
                || self.create_account_profile.is_some(),
            self.delete_resource.is_some(),
        ]
        .into_iter()
        .filter(|b| *b)
        .count()
    }
}
