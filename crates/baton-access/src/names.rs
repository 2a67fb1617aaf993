//! Display names of resources and entitlements, looked up by id (through the file's unique
//! indexes) and remembered, so that rows can show a name next to every id.

use crate::error::Result;
use baton_c1z::SyncView;
use baton_model::pb;
use std::collections::HashMap;

/// A cache of display names for one sync.
#[derive(Debug)]
pub(crate) struct Names<'v, 'r> {
    view: &'v SyncView<'r>,
    resources: HashMap<(String, String), String>,
    entitlements: HashMap<String, Option<pb::Entitlement>>,
}

impl<'v, 'r> Names<'v, 'r> {
    pub(crate) fn new(view: &'v SyncView<'r>) -> Self {
        Self {
            view,
            resources: HashMap::new(),
            entitlements: HashMap::new(),
        }
    }

    /// The display name of a resource (`""` when it is not in the sync or has none).
    pub(crate) fn resource(&mut self, id: &pb::ResourceId) -> Result<String> {
        let key = (id.resource_type.clone(), id.resource.clone());
        if let Some(name) = self.resources.get(&key) {
            return Ok(name.clone());
        }
        let name = self
            .view
            .get_resource(id)?
            .map(|r| r.display_name)
            .unwrap_or_default();
        self.resources.insert(key, name.clone());
        Ok(name)
    }

    /// The entitlement with this id (without its grants), if the sync has it.
    pub(crate) fn entitlement(&mut self, id: &str) -> Result<Option<pb::Entitlement>> {
        if let Some(e) = self.entitlements.get(id) {
            return Ok(e.clone());
        }
        let e = self.view.get_entitlement(id)?;
        self.entitlements.insert(id.to_owned(), e.clone());
        Ok(e)
    }

    /// The display name of an entitlement (`""` when unknown).
    pub(crate) fn entitlement_name(&mut self, id: &str) -> Result<String> {
        Ok(self
            .entitlement(id)?
            .map(|e| e.display_name)
            .unwrap_or_default())
    }
}
