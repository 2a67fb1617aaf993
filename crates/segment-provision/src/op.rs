//! Plan conversion: the typed operations ([`Op`]) a plan or a method call becomes, their
//! queue keys and run phases, and the refusal of plans whose order one run cannot keep.

use std::collections::{BTreeMap, HashMap};

use baton_model::ids::{EntitlementId, GrantId, ResourceRef, ResourceTypeId};
use segment_scheme::{self as scheme};

use crate::ProvisionError;
use crate::account::AccountRequest;
use crate::plan::PlanOperation;

/// A typed operation.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Grant {
        entitlement: EntitlementId,
        principal: ResourceRef,
    },
    Revoke {
        entitlement: EntitlementId,
        principal: ResourceRef,
        /// Whether the caller stated the principal's type (a `ResourceRef`, a grant id, a
        /// `<type>:<id>` principal) rather than having it inferred: only then does a principal
        /// that does not exist count as "already revoked".
        stated: bool,
    },
    CreateAccount(AccountRequest),
    Delete(ResourceRef),
}

/// The queue key of a principal or account (`invite` ids compare case-insensitively).
pub(crate) fn queue_key(resource_type: &str, id: &str) -> String {
    if resource_type == scheme::INVITE {
        format!("{resource_type}:{}", id.to_lowercase())
    } else {
        format!("{resource_type}:{id}")
    }
}

impl Op {
    /// The plan name of the operation.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Grant { .. } => "grant",
            Self::Revoke { .. } => "revoke",
            Self::CreateAccount(_) => "create_account",
            Self::Delete(_) => "delete",
        }
    }

    /// When the operation runs within a run: accounts, then grants and revokes, then deletes.
    pub(crate) fn phase(&self) -> u8 {
        match self {
            Self::CreateAccount(_) => 0,
            Self::Grant { .. } | Self::Revoke { .. } => 1,
            Self::Delete(_) => 2,
        }
    }

    pub(crate) fn queue_key(&self) -> String {
        match self {
            Self::Grant { principal, .. }
            | Self::Revoke { principal, .. }
            | Self::Delete(principal) => {
                queue_key(principal.resource_type().as_str(), principal.resource())
            }
            Self::CreateAccount(request) => queue_key(scheme::INVITE, request.email.trim()),
        }
    }
}

/// A grant or revoke to run (from the plan, or following an account operation).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) index: usize,
    pub(crate) entitlement: EntitlementId,
    pub(crate) principal: ResourceRef,
    pub(crate) grant: bool,
    pub(crate) stated: bool,
}

impl PlanOperation {
    /// The typed operation, or why it is malformed.
    pub(crate) fn to_op(&self) -> Result<Op, ProvisionError> {
        fn entitlement(s: &str) -> Result<EntitlementId, ProvisionError> {
            s.parse().map_err(
                |e: baton_model::IdError| ProvisionError::InvalidEntitlement {
                    entitlement: s.to_owned(),
                    reason: e.to_string(),
                },
            )
        }
        fn resource(kind: Option<&str>, id: &str) -> Result<ResourceRef, ProvisionError> {
            let invalid = |reason: String| ProvisionError::InvalidPrincipal {
                principal: match kind {
                    Some(k) => format!("{k}:{id}"),
                    None => id.to_owned(),
                },
                reason,
            };
            match kind {
                Some(kind) => ResourceTypeId::new(kind)
                    .and_then(|t| ResourceRef::new(t, id))
                    .map_err(|e| invalid(e.to_string())),
                None => id.parse().map_err(|e: baton_model::IdError| {
                    invalid(format!("{e} (expected <type>:<id>)"))
                }),
            }
        }
        match self {
            Self::Grant {
                entitlement: e,
                principal,
                principal_type,
            } => Ok(Op::Grant {
                entitlement: entitlement(e)?,
                principal: resource(principal_type.as_deref(), principal)?,
            }),
            Self::Revoke {
                grant,
                entitlement: e,
                principal,
                principal_type,
            } => match (grant, e, principal) {
                (Some(grant), None, None) => {
                    let id: GrantId = grant.parse().map_err(|err: baton_model::IdError| {
                        ProvisionError::InvalidPlan {
                            reason: format!("invalid grant id {grant:?}: {err}"),
                        }
                    })?;
                    Ok(Op::Revoke {
                        entitlement: id.entitlement().clone(),
                        principal: resource(Some(id.principal_type().as_str()), id.principal_id())?,
                        stated: true,
                    })
                }
                (None, Some(e), Some(principal)) => Ok(Op::Revoke {
                    entitlement: entitlement(e)?,
                    principal: resource(principal_type.as_deref(), principal)?,
                    stated: true,
                }),
                _ => Err(ProvisionError::InvalidPlan {
                    reason:
                        "a revoke needs either \"grant\" or both \"entitlement\" and \"principal\""
                            .to_owned(),
                }),
            },
            Self::CreateAccount {
                email,
                entitlements,
            } => Ok(Op::CreateAccount(AccountRequest {
                email: email.clone(),
                entitlements: entitlements
                    .iter()
                    .map(|e| entitlement(e))
                    .collect::<Result<_, _>>()?,
            })),
            Self::Delete {
                resource_type,
                resource: id,
            } => Ok(Op::Delete(resource(resource_type.as_deref(), id)?)),
        }
    }
}

/// Fails, up front, every operation on a principal (or address) whose operations are not in
/// run order (accounts, then grants and revokes, then deletes): running them would not keep
/// the plan's order. The other operations are returned unchanged.
pub(crate) fn reject_reordered(
    ops: Vec<(usize, Result<Op, ProvisionError>)>,
) -> Vec<(usize, Result<Op, ProvisionError>)> {
    let mut by_key: BTreeMap<String, Vec<(usize, u8, &'static str)>> = BTreeMap::new();
    for (index, op) in &ops {
        if let Ok(op) = op {
            by_key
                .entry(op.queue_key())
                .or_default()
                .push((*index, op.phase(), op.name()));
        }
    }
    let mut conflicts: HashMap<String, String> = HashMap::new();
    for (key, mut list) in by_key {
        list.sort_by_key(|(index, _, _)| *index);
        let ordered = list.windows(2).all(|w| w[0].1 <= w[1].1);
        if ordered {
            continue;
        }
        let names: Vec<String> = list
            .iter()
            .map(|(index, _, name)| format!("#{index} ({name})"))
            .collect();
        conflicts.insert(
            key.clone(),
            format!(
                "operations {} all touch {key} in an order that one plan cannot keep (a plan \
                 creates accounts first, then grants and revokes, then deletes); nothing was \
                 done for them: put them in separate plans, in the order wanted",
                names.join(", ")
            ),
        );
    }
    if conflicts.is_empty() {
        return ops;
    }
    ops.into_iter()
        .map(|(index, op)| {
            let conflict = op
                .as_ref()
                .ok()
                .and_then(|op| conflicts.get(&op.queue_key()));
            match conflict {
                Some(reason) => (
                    index,
                    Err(ProvisionError::InvalidPlan {
                        reason: reason.clone(),
                    }),
                ),
                None => (index, op),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn plans_out_of_run_order_on_one_principal_are_rejected() {
        let invite: ResourceRef = "invite:E@x.example".parse().unwrap();
        let ops = vec![
            (0, Ok(Op::Delete(invite))),
            (1, Ok(Op::CreateAccount(AccountRequest::new("e@x.example")))),
            (2, Ok(Op::CreateAccount(AccountRequest::new("f@x.example")))),
        ];
        let out = reject_reordered(ops);
        assert!(
            matches!(&out[0].1, Err(ProvisionError::InvalidPlan { reason }) if reason.contains("#0 (delete), #1 (create_account)"))
        );
        assert!(matches!(&out[1].1, Err(ProvisionError::InvalidPlan { .. })));
        assert!(out[2].1.is_ok());
    }
}
