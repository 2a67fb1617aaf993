//! The access-review commands: open the c1z read-only, run a `baton-access` query, print rows
//! as a table, JSON lines or CSV (`--output`). The file is never written.

pub(crate) mod args;

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use baton_access::{
    DIFF_COLUMNS, HOLDING_COLUMNS, Holding, OutputFormat as Rows, SyncDiff, TableWriter, listing,
};
use baton_c1z::{C1zReader, GrantFilter, ReaderOptions, SyncView};

use crate::cli::{DEFAULT_FILE, GlobalArgs, OutputFormat};
use crate::output;
pub(crate) use args::ReviewCommand;
use args::{DiffArgs, ExportFormatArg, SyncSelect};

/// Runs one review command; the exit code is 0 (a failure is an error).
pub(crate) fn run(global: &GlobalArgs, command: &ReviewCommand) -> anyhow::Result<u8> {
    let format = rows_format(global.output);
    match command {
        ReviewCommand::Diff(args) => return diff(global, args, format),
        ReviewCommand::Syncs => {
            let reader = open(global, &global.file_or(DEFAULT_FILE))?;
            let mut out = table(format, listing::SYNC_COLUMNS)?;
            listing::syncs(&reader, &mut out)?;
            out.finish()?;
            return Ok(0);
        }
        _ => {}
    }
    let reader = open(global, &global.file_or(DEFAULT_FILE))?;
    match command {
        ReviewCommand::Resources(a) => {
            let view = view(&reader, &a.sync)?;
            let mut out = table(format, listing::RESOURCE_COLUMNS)?;
            listing::resources(&view, a.resource_type.as_deref(), &mut out)?;
            out.finish()?;
        }
        ReviewCommand::Entitlements(a) => {
            let view = view(&reader, &a.sync)?;
            let resource = a.resource.as_deref().map(resource_id).transpose()?;
            let mut out = table(format, listing::ENTITLEMENT_COLUMNS)?;
            listing::entitlements(&view, resource.as_ref(), &mut out)?;
            out.finish()?;
        }
        ReviewCommand::Grants(a) => {
            let view = view(&reader, &a.sync)?;
            let principal = match &a.principal {
                Some(p) => baton_access::resolve_principal(&view, p)?.id,
                None => None,
            };
            let filter = GrantFilter {
                entitlement_id: a.entitlement.clone(),
                principal,
                ..GrantFilter::default()
            };
            let mut out = table(format, listing::GRANT_COLUMNS)?;
            listing::grants(&view, &filter, &mut out)?;
            out.finish()?;
        }
        ReviewCommand::Stats(sync) => {
            let view = view(&reader, sync)?;
            let mut out = table(format, listing::STATS_COLUMNS)?;
            listing::stats(&view, &mut out)?;
            out.finish()?;
        }
        ReviewCommand::WhoHas(a) => {
            let view = view(&reader, &a.sync)?;
            let holdings = baton_access::who_has(&view, &a.target)?;
            holdings_out(format, &holdings, &WHO_HAS_TABLE)?;
        }
        ReviewCommand::Access(a) => {
            let view = view(&reader, &a.sync)?;
            let principal = baton_access::resolve_principal(&view, &a.principal)?;
            let id = principal
                .id
                .clone()
                .context("the principal's resource has no id; the file is damaged")?;
            let holdings = baton_access::access(&view, &id)?;
            if format == Rows::Table {
                let name = if principal.display_name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", principal.display_name)
                };
                output::out(&format!(
                    "{}:{}{name} holds {} entitlement(s) in sync {}:",
                    id.resource_type,
                    id.resource,
                    holdings.len(),
                    view.sync_id()
                ));
            }
            holdings_out(format, &holdings, &ACCESS_TABLE)?;
        }
        ReviewCommand::Export(a) => {
            let view = view(&reader, &a.sync)?;
            let export_format = match a.format {
                ExportFormatArg::Csv => baton_access::ExportFormat::Csv,
                ExportFormatArg::Json => baton_access::ExportFormat::Json,
            };
            let files = baton_access::export(&view, export_format, &a.out)?;
            for f in files {
                output::out(&format!("wrote {} ({} rows)", f.path.display(), f.rows));
            }
        }
        ReviewCommand::Diff(_) | ReviewCommand::Syncs => {}
    }
    Ok(0)
}

/// Columns of the narrow text table of holdings: (header, column of `HOLDING_COLUMNS`).
type Narrow = [(&'static str, &'static str)];

const WHO_HAS_TABLE: [(&str, &str); 5] = [
    ("principal", "principal_id"),
    ("type", "principal_type"),
    ("name", "principal_name"),
    ("entitlement", "entitlement_id"),
    ("path", "path"),
];

const ACCESS_TABLE: [(&str, &str); 4] = [
    ("entitlement", "entitlement_id"),
    ("entitlement_name", "entitlement_name"),
    ("resource_name", "resource_name"),
    ("path", "path"),
];

/// Holdings as the narrow table (text) or every column (JSON lines, CSV).
fn holdings_out(format: Rows, holdings: &[Holding], narrow: &Narrow) -> anyhow::Result<()> {
    if format == Rows::Table {
        let columns: Vec<&str> = narrow.iter().map(|(h, _)| *h).collect();
        let mut out = table(format, &columns)?;
        for h in holdings {
            let values = h.values();
            let picked: Vec<&str> = narrow
                .iter()
                .map(|(_, c)| {
                    HOLDING_COLUMNS
                        .iter()
                        .position(|x| x == c)
                        .and_then(|i| values.get(i))
                        .map_or("", String::as_str)
                })
                .collect();
            out.row(&picked)?;
        }
        out.finish()?;
    } else {
        let mut out = table(format, HOLDING_COLUMNS)?;
        for h in holdings {
            out.row(&h.values())?;
        }
        out.finish()?;
    }
    Ok(())
}

/// `diff`.
fn diff(global: &GlobalArgs, args: &DiffArgs, format: Rows) -> anyhow::Result<u8> {
    let result = match args.files.as_slice() {
        [] => {
            let path = global.file_or(DEFAULT_FILE);
            let reader = open(global, &path)?;
            let (older, newer) = baton_access::default_pair(&reader)?;
            let from = reader.sync(args.from.as_deref().unwrap_or(&older))?;
            let to = reader.sync(args.to.as_deref().unwrap_or(&newer))?;
            baton_access::diff(&from, &to)?
        }
        [old, new] => {
            let old_reader = open(global, old)?;
            let new_reader = open(global, new)?;
            let from = old_reader.view(args.from.as_deref())?;
            let to = new_reader.view(args.to.as_deref())?;
            baton_access::diff(&from, &to)?
        }
        _ => anyhow::bail!(
            "diff takes two files (older first), or none to compare two syncs of --file"
        ),
    };
    diff_out(format, &result)?;
    Ok(0)
}

fn diff_out(format: Rows, d: &SyncDiff) -> anyhow::Result<()> {
    if format == Rows::Table && d.changes.is_empty() {
        output::out(&d.summary.line());
    } else if format == Rows::Table {
        const COLUMNS: &[&str] = &["change", "object", "principal", "name", "id"];
        let mut out = table(format, COLUMNS)?;
        for c in &d.changes {
            let (principal, name) = match (&c.principal, &c.resource) {
                (Some(p), _) => (p.key(), p.name.clone()),
                (None, Some(r)) => (r.key(), r.name.clone()),
                (None, None) => (String::new(), String::new()),
            };
            let id = if c.entitlement_name.is_empty() || c.entitlement_id == c.id {
                c.id.clone()
            } else {
                c.entitlement_id.clone()
            };
            out.row(&[
                c.kind.as_str(),
                &c.object.to_string(),
                &principal,
                &name,
                &id,
            ])?;
        }
        out.finish()?;
        output::out(&d.summary.line());
    } else {
        let mut out = table(format, DIFF_COLUMNS)?;
        for c in &d.changes {
            out.row(&c.values())?;
        }
        out.finish()?;
        tracing::info!(summary = %d.summary.line(), "diff");
    }
    Ok(())
}

fn rows_format(output: OutputFormat) -> Rows {
    match output {
        OutputFormat::Text => Rows::Table,
        OutputFormat::Json => Rows::JsonLines,
        OutputFormat::Csv => Rows::Csv,
    }
}

fn table(format: Rows, columns: &[&str]) -> anyhow::Result<TableWriter<impl Write>> {
    Ok(TableWriter::new(std::io::stdout().lock(), format, columns)?)
}

/// Opens `path` read-only. Filtered listings scan instead of building a lookup index: a review
/// command runs a few listings, and on a large file one scan costs a fraction of an index build.
fn open(global: &GlobalArgs, path: &Path) -> anyhow::Result<C1zReader> {
    let mut options = ReaderOptions::default().with_lookup_indexes(false);
    if let Some(dir) = &global.c1z_temp_dir {
        options = options.with_temp_dir(dir);
    }
    Ok(C1zReader::open(path, options)?)
}

fn view<'r>(reader: &'r C1zReader, sync: &SyncSelect) -> anyhow::Result<SyncView<'r>> {
    Ok(reader.view(sync.sync_id.as_deref())?)
}

fn resource_id(text: &str) -> anyhow::Result<baton_model::pb::ResourceId> {
    let (t, id) = text
        .split_once(':')
        .with_context(|| format!("{text:?} is not a resource id of the form TYPE:ID"))?;
    Ok(baton_model::pb::ResourceId {
        resource_type: t.to_owned(),
        resource: id.to_owned(),
        ..Default::default()
    })
}
