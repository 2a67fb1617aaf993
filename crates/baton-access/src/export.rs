//! Files for auditors, one per table, in CSV or JSON lines: `principals`, `entitlements` and
//! `grants` (every direct grant, then every inherited holding with its expansion path). The
//! columns are the `*_COLUMNS` constants, documented in the README; each file is written under
//! a temporary name and renamed into place when complete.

use crate::error::{AccessError, Result};
use crate::expansion;
use crate::holdings::{HOLDING_COLUMNS, Holding, Named, who_has_all};
use crate::listing::{ENTITLEMENT_COLUMNS, entitlements};
use crate::names::Names;
use crate::table::{OutputFormat, TableWriter};
use baton_c1z::{GrantFilter, ResourceFilter, SyncView};
use baton_model::{annotations, pb};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Format of the exported files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportFormat {
    /// `<table>.csv`, with a header row.
    Csv,
    /// `<table>.jsonl`, one JSON object per line.
    Json,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "jsonl",
        }
    }

    fn output(self) -> OutputFormat {
        match self {
            ExportFormat::Csv => OutputFormat::Csv,
            ExportFormat::Json => OutputFormat::JsonLines,
        }
    }
}

/// One file written by [`export`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportFile {
    /// Where it is.
    pub path: PathBuf,
    /// Rows written (the header not counted).
    pub rows: u64,
}

/// Columns of `principals`.
pub const PRINCIPAL_COLUMNS: &[&str] = &[
    "principal_type",
    "principal_id",
    "display_name",
    "email",
    "login",
    "status",
];

/// Writes `principals`, `entitlements` and `grants` of the sync into `dir` (created if
/// missing; files of the same names are replaced).
pub fn export(view: &SyncView<'_>, format: ExportFormat, dir: &Path) -> Result<Vec<ExportFile>> {
    std::fs::create_dir_all(dir).map_err(|e| AccessError::io("create the directory", dir, e))?;
    let mut files = Vec::new();
    files.push(write_file(
        dir,
        "principals",
        format,
        PRINCIPAL_COLUMNS,
        |w| principals(view, w),
    )?);
    files.push(write_file(
        dir,
        "entitlements",
        format,
        ENTITLEMENT_COLUMNS,
        |w| entitlements(view, None, w),
    )?);
    files.push(write_file(dir, "grants", format, HOLDING_COLUMNS, |w| {
        grants(view, w)
    })?);
    Ok(files)
}

type FileTable = TableWriter<BufWriter<File>>;

/// Writes `<dir>/.<name>.<ext>.tmp` with `fill`, then renames it to `<dir>/<name>.<ext>`.
fn write_file(
    dir: &Path,
    name: &str,
    format: ExportFormat,
    columns: &[&str],
    fill: impl FnOnce(&mut FileTable) -> Result<()>,
) -> Result<ExportFile> {
    let path = dir.join(format!("{name}.{}", format.extension()));
    let tmp = dir.join(format!(".{name}.{}.tmp", format.extension()));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| AccessError::io("create", &tmp, e))?;
        let mut table =
            TableWriter::writing_to(BufWriter::new(file), &tmp, format.output(), columns)?;
        fill(&mut table)?;
        let rows = table.finish()?;
        std::fs::rename(&tmp, &path).map_err(|e| AccessError::io("rename into", &path, e))?;
        Ok(rows)
    })();
    match result {
        Ok(rows) => Ok(ExportFile { path, rows }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Resources whose type has the user or group trait (users, groups, invitations...).
fn principals<W: Write>(view: &SyncView<'_>, out: &mut TableWriter<W>) -> Result<()> {
    let principal_traits = [
        pb::resource_type::Trait::User as i32,
        pb::resource_type::Trait::Group as i32,
    ];
    let types: Vec<pb::ResourceType> = view.resource_types().collect::<Result<_, _>>()?;
    for t in types
        .iter()
        .filter(|t| t.traits.iter().any(|x| principal_traits.contains(x)))
    {
        let filter = ResourceFilter {
            resource_type_id: Some(t.id.clone()),
            ..ResourceFilter::default()
        };
        for r in view.resources(&filter) {
            let r = r?;
            let id = r.id.as_ref().map_or("", |id| id.resource.as_str());
            let user = annotations::pick::<pb::UserTrait>(&r.annotations)
                .ok()
                .flatten();
            let (email, login, status) = user.map_or_else(Default::default, |u| {
                let email = u
                    .emails
                    .iter()
                    .find(|e| e.is_primary)
                    .or(u.emails.first())
                    .map(|e| e.address.clone())
                    .unwrap_or_default();
                let status = u
                    .status
                    .map(|s| {
                        pb::user_trait::status::Status::try_from(s.status)
                            .map_or_else(|_| s.status.to_string(), |v| v.as_str_name().to_owned())
                    })
                    .unwrap_or_default();
                (email, u.login, status)
            });
            out.row(&[t.id.as_str(), id, &r.display_name, &email, &login, &status])?;
        }
    }
    Ok(())
}

/// Every grant as a direct holding, then every inherited holding of the entitlements that
/// have expandable grants.
fn grants<W: Write>(view: &SyncView<'_>, out: &mut TableWriter<W>) -> Result<()> {
    let mut names = Names::new(view);
    let mut expandable = BTreeSet::new();
    for g in view.grants(&GrantFilter::default()) {
        let g = g?;
        let Some(e) = &g.entitlement else { continue };
        if expansion::of(&g).is_some() {
            expandable.insert(e.id.clone());
        }
        let principal = match g.principal.as_ref().and_then(|p| p.id.as_ref()) {
            Some(p) => Named {
                resource_type: p.resource_type.clone(),
                id: p.resource.clone(),
                name: names.resource(p)?,
            },
            None => continue,
        };
        let resource = match e.resource.as_ref().and_then(|r| r.id.as_ref()) {
            Some(r) => Named {
                resource_type: r.resource_type.clone(),
                id: r.resource.clone(),
                name: names.resource(r)?,
            },
            None => Named {
                resource_type: String::new(),
                id: String::new(),
                name: String::new(),
            },
        };
        let holding = Holding {
            principal,
            entitlement_name: names.entitlement_name(&e.id)?,
            entitlement_id: e.id.clone(),
            resource,
            via: Vec::new(),
            grant_id: g.id.clone(),
        };
        out.row(&holding.values())?;
    }
    let expandable: Vec<String> = expandable.into_iter().collect();
    for h in who_has_all(view, &expandable)? {
        if !h.via.is_empty() {
            out.row(&h.values())?;
        }
    }
    Ok(())
}
