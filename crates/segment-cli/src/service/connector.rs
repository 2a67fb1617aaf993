//! The Segment connector as a `baton_service::Connector`: syncs through segment-connector,
//! provisions through segment-provision, and answers with the response messages
//! docs/c1-service-mode.md §8 lists. An id ConductorOne sends that the Segment scheme cannot
//! parse, or an entitlement that no longer exists, fails the task (the runner reports it as
//! non-retryable) before anything is written to Segment.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use baton_model::ids::{EntitlementId, ResourceRef, ResourceTypeId};
use baton_model::{annotations, pb};
use baton_service::{Connector, SyncRequest, TaskFailure};
use segment_cache::Session;
use segment_connector::SyncOptions;
use segment_provision::{AccountRequest, Outcome, OutcomeKind, ProvisionError, Provisioner};
use tonic::Code;

/// Segment behind the service runner.
#[derive(Debug)]
pub(crate) struct SegmentService {
    session: Session,
    provisioner: Provisioner,
    concurrency: Option<usize>,
    temp_dir: Option<PathBuf>,
}

impl SegmentService {
    pub(crate) fn new(
        session: Session,
        provisioner: Provisioner,
        concurrency: Option<usize>,
        temp_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            session,
            provisioner,
            concurrency,
            temp_dir,
        }
    }
}

/// The gRPC code reported for a provisioning error.
fn provision_failure(err: ProvisionError) -> TaskFailure {
    let code = match &err {
        ProvisionError::InvalidEntitlement { .. }
        | ProvisionError::InvalidPrincipal { .. }
        | ProvisionError::UnsupportedPrincipal { .. }
        | ProvisionError::RoleOnInvite { .. }
        | ProvisionError::WorkspaceMembershipGrant { .. }
        | ProvisionError::WorkspaceMembershipRevoke { .. }
        | ProvisionError::InvalidEmail { .. }
        | ProvisionError::UnsupportedDelete { .. }
        | ProvisionError::InvalidPlan { .. } => Code::InvalidArgument,
        ProvisionError::RoleNotFound { .. }
        | ProvisionError::UnknownRole { .. }
        | ProvisionError::PrincipalNotFound { .. }
        | ProvisionError::UnknownPrincipal { .. }
        | ProvisionError::GroupNotFound { .. } => Code::NotFound,
        ProvisionError::AmbiguousRole { .. } | ProvisionError::RoleMismatch { .. } => {
            Code::FailedPrecondition
        }
        ProvisionError::ConflictRetriesExhausted { .. } | ProvisionError::VerifyFailed { .. } => {
            Code::Aborted
        }
        _ => Code::Unavailable,
    };
    TaskFailure::new(code, err.to_string()).non_retryable()
}

fn invalid(what: &str, detail: impl std::fmt::Display) -> TaskFailure {
    TaskFailure::new(
        Code::InvalidArgument,
        format!("{what} is not a Segment connector id: {detail}"),
    )
    .non_retryable()
}

/// A `ResourceRef` from a wire resource id.
fn resource_ref(id: Option<&pb::ResourceId>, what: &str) -> Result<ResourceRef, TaskFailure> {
    let id = id.ok_or_else(|| invalid(what, "missing"))?;
    let resource_type =
        ResourceTypeId::new(id.resource_type.clone()).map_err(|e| invalid(what, e))?;
    ResourceRef::new(resource_type, id.resource.clone()).map_err(|e| invalid(what, e))
}

fn entitlement_id(entitlement: &pb::Entitlement) -> Result<EntitlementId, TaskFailure> {
    EntitlementId::from_str(&entitlement.id).map_err(|e| invalid("the entitlement", e))
}

fn wire_resource(r: &ResourceRef) -> pb::Resource {
    pb::Resource {
        id: Some(pb::ResourceId {
            resource_type: r.resource_type().to_string(),
            resource: r.resource().to_owned(),
            ..Default::default()
        }),
        display_name: r.resource().to_owned(),
        ..Default::default()
    }
}

/// The primary (else first) email of an account request, else its login.
fn account_email(info: &pb::AccountInfo) -> Option<String> {
    info.emails
        .iter()
        .find(|e| e.is_primary)
        .or_else(|| info.emails.first())
        .map(|e| e.address.clone())
        .or_else(|| (!info.login.is_empty()).then(|| info.login.clone()))
        .filter(|e| !e.trim().is_empty())
}

impl Connector for SegmentService {
    fn metadata(&self) -> pb::ConnectorMetadata {
        let email_field = pb::connector_account_creation_schema::Field {
            display_name: "Email".into(),
            required: true,
            description: "The address the Segment invitation is sent to.".into(),
            placeholder: "name@example.com".into(),
            order: 1,
            field: Some(
                pb::connector_account_creation_schema::field::Field::StringField(
                    pb::connector_account_creation_schema::StringField::default(),
                ),
            ),
            ..Default::default()
        };
        pb::ConnectorMetadata {
            display_name: "Twilio Segment".into(),
            description: "Users, groups, invitations, workspace and resource roles of a Twilio \
                          Segment workspace."
                .into(),
            capabilities: Some(crate::capabilities::connector_capabilities()),
            account_creation_schema: Some(pb::ConnectorAccountCreationSchema {
                field_map: [("email".to_owned(), email_field)].into_iter().collect(),
            }),
            ..Default::default()
        }
    }

    async fn validate(&self) -> Result<(), TaskFailure> {
        self.provisioner
            .workspace()
            .await
            .map(|_| ())
            .map_err(|e| TaskFailure::new(Code::Unavailable, e.to_string()))
    }

    async fn sync(&self, request: SyncRequest, output: &Path) -> Result<(), TaskFailure> {
        if request.empty {
            // --skip-full-sync: one finished sync with nothing in it.
            let path = output.to_path_buf();
            let temp = self.temp_dir.clone();
            return tokio::task::spawn_blocking(move || {
                let mut options = baton_c1z::WriterOptions::default();
                options.temp_dir = temp;
                baton_c1z::C1zWriter::create(&path, options)?.finish()
            })
            .await
            .map_err(|e| TaskFailure::new(Code::Internal, e.to_string()))?
            .map(|_| ())
            .map_err(|e| TaskFailure::new(Code::Internal, e.to_string()));
        }
        let mut options = SyncOptions::default().with_keep_syncs(1);
        if let Some(n) = self.concurrency {
            options = options.with_concurrency(n);
        }
        if let Some(dir) = &self.temp_dir {
            options = options.with_temp_dir(dir.clone());
        }
        if !request.resource_type_ids.is_empty() {
            options = options.with_resource_types(request.resource_type_ids.iter().cloned());
        }
        if request.skip_entitlements_and_grants {
            options = options.with_skip_entitlements_and_grants();
        } else if request.skip_grants {
            options = options.with_skip_grants();
        }
        segment_connector::sync(&self.session, output, &options)
            .await
            .map(|report| {
                tracing::info!(sync_id = %report.sync_id, requests = report.requests, "sync written");
            })
            .map_err(|e| TaskFailure::new(Code::Unavailable, e.to_string()))
    }

    async fn grant(
        &self,
        principal: pb::Resource,
        entitlement: pb::Entitlement,
    ) -> Result<pb::GrantManagerServiceGrantResponse, TaskFailure> {
        let ent = entitlement_id(&entitlement)?;
        let who = resource_ref(principal.id.as_ref(), "the principal")?;
        let outcome = self
            .provisioner
            .grant(&ent, &who)
            .await
            .map_err(provision_failure)?;
        let mut response = pb::GrantManagerServiceGrantResponse {
            grants: vec![pb::Grant {
                id: format!("{ent}:{who}"),
                entitlement: Some(entitlement),
                principal: Some(principal),
                ..Default::default()
            }],
            ..Default::default()
        };
        if outcome.kind == OutcomeKind::AlreadyGranted {
            response
                .annotations
                .push(annotations::pack(&pb::GrantAlreadyExists {}));
        }
        Ok(response)
    }

    async fn revoke(
        &self,
        grant: pb::Grant,
    ) -> Result<pb::GrantManagerServiceRevokeResponse, TaskFailure> {
        let entitlement = grant
            .entitlement
            .as_ref()
            .ok_or_else(|| invalid("the grant's entitlement", "missing"))?;
        let ent = entitlement_id(entitlement)?;
        let principal = grant
            .principal
            .as_ref()
            .ok_or_else(|| invalid("the grant's principal", "missing"))?;
        let who = resource_ref(principal.id.as_ref(), "the grant's principal")?;
        let outcome = self
            .provisioner
            .revoke_from(&ent, &who)
            .await
            .map_err(provision_failure)?;
        let mut response = pb::GrantManagerServiceRevokeResponse::default();
        if outcome.kind == OutcomeKind::AlreadyRevoked {
            response
                .annotations
                .push(annotations::pack(&pb::GrantAlreadyRevoked {}));
        }
        Ok(response)
    }

    async fn create_account(
        &self,
        request: pb::CreateAccountRequest,
    ) -> Result<pb::CreateAccountResponse, TaskFailure> {
        use pb::create_account_response::{AlreadyExistsResult, Result as R, SuccessResult};
        let info = request.account_info.unwrap_or_default();
        let email = account_email(&info)
            .ok_or_else(|| invalid("the account", "it has no email address or login"))?;
        let outcome: Outcome = self
            .provisioner
            .create_account(&AccountRequest::new(email))
            .await
            .map_err(provision_failure)?;
        let resource = outcome
            .principal
            .as_ref()
            .or(outcome.resource.as_ref())
            .map(wire_resource);
        let result = match outcome.kind {
            OutcomeKind::AlreadyInvited | OutcomeKind::AlreadyAMember => {
                R::AlreadyExists(AlreadyExistsResult {
                    resource,
                    is_create_account_result: true,
                })
            }
            _ => R::Success(SuccessResult {
                resource,
                is_create_account_result: true,
                invitation_expires_at: None,
            }),
        };
        Ok(pb::CreateAccountResponse {
            result: Some(result),
            ..Default::default()
        })
    }

    async fn delete_resource(
        &self,
        request: pb::DeleteResourceRequest,
    ) -> Result<pb::DeleteResourceResponse, TaskFailure> {
        let target = resource_ref(request.resource_id.as_ref(), "the resource")?;
        self.provisioner
            .delete_resource(&target)
            .await
            .map_err(provision_failure)?;
        Ok(pb::DeleteResourceResponse::default())
    }
}
