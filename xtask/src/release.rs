//! `cargo xtask release [--dry-run]`: build and package a release of the binaries.
//!
//! Steps: refuse a dirty work tree (unless `--dry-run`), check that CHANGELOG.md has a
//! section for the version (or, for a dry run, an `[Unreleased]` section), run the codegen
//! check and tidy, build `segment-cli` and `segment-mock` in release mode with `--locked`,
//! and write `dist/segment-connector-<version>-<host triple>.tar.gz` (binaries, README,
//! LICENSE, CHANGELOG) plus a `SHA256SUMS` file. Tagging and publishing stay manual.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::bench::{cargo, run_cmd};

const BINARIES: &[&str] = &["segment-cli", "segment-mock"];
const DOCS: &[&str] = &["README.md", "LICENSE", "CHANGELOG.md"];

pub(crate) fn run(dry_run: bool) -> anyhow::Result<()> {
    let root = crate::project_root();
    let version = workspace_version(&root)?;
    let changelog =
        std::fs::read_to_string(root.join("CHANGELOG.md")).context("reading CHANGELOG.md")?;
    check_changelog(&changelog, &version, dry_run)?;

    if !dry_run {
        let out = Command::new("git")
            .current_dir(&root)
            .args(["status", "--porcelain"])
            .output()
            .context("running git status")?;
        if !out.stdout.is_empty() {
            bail!("the work tree has uncommitted changes; commit them or use --dry-run");
        }
    }

    crate::codegen::run(crate::codegen::Mode::Check)?;
    crate::tidy::run()?;

    let mut build = Command::new(cargo());
    build
        .current_dir(&root)
        .args(["build", "--release", "--locked"]);
    for bin in BINARIES {
        build.args(["-p", bin]);
    }
    run_cmd(&mut build)?;

    let triple = host_triple()?;
    let name = format!("segment-connector-{version}-{triple}");
    let dist = root.join("dist");
    let stage = dist.join(&name);
    if stage.exists() {
        std::fs::remove_dir_all(&stage).with_context(|| format!("clearing {}", stage.display()))?;
    }
    std::fs::create_dir_all(&stage).with_context(|| format!("creating {}", stage.display()))?;
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    for bin in BINARIES {
        let from = target_dir.join("release").join(bin);
        std::fs::copy(&from, stage.join(bin))
            .with_context(|| format!("copying {}", from.display()))?;
    }
    for doc in DOCS {
        std::fs::copy(root.join(doc), stage.join(doc)).with_context(|| format!("copying {doc}"))?;
    }
    let archive = format!("{name}.tar.gz");
    run_cmd(
        Command::new("tar")
            .current_dir(&dist)
            .args(["-czf", &archive, &name]),
    )?;
    let sums = Command::new("sha256sum")
        .current_dir(&dist)
        .arg(&archive)
        .output()
        .context("running sha256sum")?;
    if !sums.status.success() {
        bail!("sha256sum failed");
    }
    std::fs::write(dist.join("SHA256SUMS"), &sums.stdout).context("writing SHA256SUMS")?;
    println!("wrote {}", dist.join(&archive).display());
    print!("{}", String::from_utf8_lossy(&sums.stdout));
    Ok(())
}

/// `version = "..."` of `[workspace.package]` in the root Cargo.toml.
fn workspace_version(root: &Path) -> anyhow::Result<String> {
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if let Some(rest) = line.strip_prefix("version").filter(|_| in_package) {
            let value = rest.trim_start().trim_start_matches('=').trim();
            return Ok(value.trim_matches('"').to_owned());
        }
    }
    bail!("no version in [workspace.package] of Cargo.toml")
}

/// A release needs a `## [<version>]` section; a dry run accepts `## [Unreleased]`.
fn check_changelog(changelog: &str, version: &str, dry_run: bool) -> anyhow::Result<()> {
    let has = |heading: &str| changelog.lines().any(|l| l.starts_with(heading));
    if has(&format!("## [{version}]")) {
        return Ok(());
    }
    if dry_run && has("## [Unreleased]") {
        return Ok(());
    }
    bail!("CHANGELOG.md has no `## [{version}]` section; move the Unreleased notes under it")
}

fn host_triple() -> anyhow::Result<String> {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("rustc -vV printed no host line")
}

#[cfg(test)]
mod tests {
    use super::check_changelog;

    #[test]
    fn changelog_needs_a_section_for_the_version() {
        let text = "# Changelog\n\n## [Unreleased]\n\n- x\n";
        assert!(check_changelog(text, "0.1.0", true).is_ok());
        assert!(check_changelog(text, "0.1.0", false).is_err());
        let released = "# Changelog\n\n## [0.1.0] - 2026-11-29\n";
        assert!(check_changelog(released, "0.1.0", false).is_ok());
    }

    #[test]
    fn reads_the_workspace_version() {
        let v = super::workspace_version(&crate::project_root()).unwrap_or_default();
        assert!(!v.is_empty());
    }
}
