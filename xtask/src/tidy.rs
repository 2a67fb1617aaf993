//! `cargo xtask tidy`: repository-wide hygiene checks (also run by `cargo test --workspace`).
//!
//! 1. Every `.rs` file under `crates/`, `xtask/` and `tests/` starts (after optional blank
//!    lines) with a `//!` line.
//! 2. No crate reaches a forbidden dependency through its normal (non-dev) dependency graph;
//!    the rules live in [`DEP_RULES`], the single place to edit them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Directories (relative to the workspace root) whose `.rs` files need a `//!` header.
const DOC_HEADER_ROOTS: &[&str] = &["crates", "xtask", "tests"];

/// A dependency rule: `krate` must not reach any crate matching `forbidden` through normal
/// (non-dev) dependencies, directly or transitively. A pattern ending in `*` is a prefix; a
/// pattern starting with `=` forbids only a direct dependency (e.g. `=tokio`: the crate itself
/// does no async I/O, although a crate it uses for its models may).
#[derive(Debug)]
pub(crate) struct DepRule {
    pub(crate) krate: &'static str,
    pub(crate) forbidden: &'static [&'static str],
}

/// The dependency rules of the workspace (mirrored in docs/ARCHITECTURE.md).
/// Dev-dependencies are not checked (e.g. segment-connector may dev-depend on segment-mock).
pub(crate) const DEP_RULES: &[DepRule] = &[
    DepRule {
        krate: "baton-model",
        forbidden: &[
            "reqwest",
            "hyper",
            "tokio",
            "axum",
            "rusqlite",
            "zstd",
            "segment-*",
        ],
    },
    DepRule {
        krate: "baton-c1z",
        forbidden: &["reqwest", "hyper", "tokio", "axum", "segment-*"],
    },
    DepRule {
        krate: "baton-access",
        forbidden: &["reqwest", "hyper", "tokio", "axum", "segment-*"],
    },
    DepRule {
        krate: "segment-api",
        forbidden: &[
            "baton-model",
            "baton-c1z",
            "segment-mock",
            "segment-cache",
            "segment-connector",
            "segment-provision",
            "segment-scheme",
            "rusqlite",
        ],
    },
    DepRule {
        krate: "segment-scheme",
        forbidden: &[
            "baton-c1z",
            "segment-cache",
            "segment-connector",
            "segment-provision",
            "segment-mock",
            "segment-cli",
            "axum",
            "rusqlite",
            "=reqwest",
            "=hyper",
            "=tokio",
        ],
    },
    DepRule {
        krate: "segment-mock",
        forbidden: &[
            "segment-api",
            "baton-*",
            "segment-cache",
            "segment-connector",
            "segment-provision",
        ],
    },
    DepRule {
        krate: "segment-cache",
        forbidden: &["baton-*"],
    },
    DepRule {
        krate: "segment-connector",
        forbidden: &["segment-provision", "segment-cli", "segment-mock", "axum"],
    },
    DepRule {
        krate: "segment-provision",
        forbidden: &["segment-connector", "segment-cli", "segment-mock", "axum"],
    },
    DepRule {
        krate: "c1-proto",
        forbidden: &[
            "segment-*",
            "baton-c1z",
            "baton-service",
            "c1-mock",
            "reqwest",
            "rusqlite",
        ],
    },
    DepRule {
        krate: "baton-service",
        forbidden: &["segment-*", "baton-c1z", "c1-mock", "rusqlite"],
    },
    DepRule {
        krate: "c1-mock",
        forbidden: &["segment-*", "baton-service", "reqwest"],
    },
];

pub(crate) fn run() -> anyhow::Result<()> {
    let root = crate::project_root();
    let mut failed = false;

    let missing = files_without_doc_header(&root)?;
    if missing.is_empty() {
        println!("tidy: every .rs file starts with //!");
    } else {
        failed = true;
        eprintln!("tidy: these .rs files do not start with a //! line:");
        for f in &missing {
            eprintln!("  {}", f.display());
        }
    }

    let graph = DepGraph::from_cargo_metadata(&root)?;
    let violations = check_dep_rules(&graph, DEP_RULES);
    if violations.is_empty() {
        println!("tidy: dependency rules hold");
    } else {
        failed = true;
        eprintln!("tidy: forbidden dependencies:");
        for v in &violations {
            eprintln!("  {v}");
        }
    }

    if failed {
        bail!("tidy failed");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// //! headers

/// `.rs` files (relative to `root`) under [`DOC_HEADER_ROOTS`] lacking a leading `//!` line.
pub(crate) fn files_without_doc_header(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in DOC_HEADER_ROOTS {
        let dir = root.join(dir);
        if dir.is_dir() {
            collect_rs_files(&dir, &mut files)?;
        }
    }
    files.sort();
    let mut missing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        if !starts_with_doc_header(&text) {
            missing.push(file.strip_prefix(root).unwrap_or(&file).to_path_buf());
        }
    }
    Ok(missing)
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if !name.starts_with("target") && !name.starts_with('.') {
                collect_rs_files(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether the first non-blank line starts with `//!`.
fn starts_with_doc_header(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with("//!"))
}

// ---------------------------------------------------------------------------------------
// dependency rules

/// The normal-dependency graph of the workspace, by crate name.
#[derive(Debug, Default)]
pub(crate) struct DepGraph {
    /// Package id -> crate name.
    names: BTreeMap<String, String>,
    /// Package id -> package ids of its normal (non-dev, non-build) dependencies.
    deps: BTreeMap<String, BTreeSet<String>>,
    /// Package ids of the workspace members.
    members: BTreeSet<String>,
}

impl DepGraph {
    /// Runs `cargo metadata --format-version 1` in `root` and reads its resolve graph.
    pub(crate) fn from_cargo_metadata(root: &Path) -> anyhow::Result<Self> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(root)
            .args(["metadata", "--format-version", "1"])
            .output()
            .context("running cargo metadata")?;
        if !output.status.success() {
            bail!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        Self::from_metadata_json(&json)
    }

    fn from_metadata_json(json: &serde_json::Value) -> anyhow::Result<Self> {
        let mut graph = Self::default();
        for pkg in json["packages"].as_array().context("metadata: packages")? {
            let id = pkg["id"].as_str().context("metadata: package id")?;
            let name = pkg["name"].as_str().context("metadata: package name")?;
            graph.names.insert(id.to_owned(), name.to_owned());
        }
        for id in json["workspace_members"]
            .as_array()
            .context("metadata: workspace_members")?
        {
            graph
                .members
                .insert(id.as_str().context("metadata: member id")?.to_owned());
        }
        let nodes = json["resolve"]["nodes"]
            .as_array()
            .context("metadata: resolve.nodes")?;
        for node in nodes {
            let id = node["id"].as_str().context("metadata: node id")?;
            let mut normal = BTreeSet::new();
            for dep in node["deps"].as_array().into_iter().flatten() {
                let is_normal = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null());
                if is_normal {
                    let pkg = dep["pkg"].as_str().context("metadata: dep pkg")?;
                    normal.insert(pkg.to_owned());
                }
            }
            graph.deps.insert(id.to_owned(), normal);
        }
        Ok(graph)
    }

    /// Adds a crate (for hand-made graphs in tests); the name doubles as the id.
    #[cfg(test)]
    fn add(&mut self, name: &str, deps: &[&str], member: bool) {
        self.names.insert(name.to_owned(), name.to_owned());
        self.deps.insert(
            name.to_owned(),
            deps.iter().map(|d| (*d).to_owned()).collect(),
        );
        if member {
            self.members.insert(name.to_owned());
        }
        for d in deps {
            self.names
                .entry((*d).to_owned())
                .or_insert_with(|| (*d).to_owned());
        }
    }

    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    /// Breadth-first: for every crate reachable from `start`, the shortest path to it.
    fn reachable(&self, start: &str) -> BTreeMap<String, Vec<String>> {
        let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut queue = VecDeque::from([start.to_owned()]);
        paths.insert(start.to_owned(), vec![start.to_owned()]);
        while let Some(id) = queue.pop_front() {
            let path = paths.get(&id).cloned().unwrap_or_default();
            for dep in self.deps.get(&id).into_iter().flatten() {
                if !paths.contains_key(dep) {
                    let mut p = path.clone();
                    p.push(dep.clone());
                    paths.insert(dep.clone(), p);
                    queue.push_back(dep.clone());
                }
            }
        }
        paths.remove(start);
        paths
    }
}

/// Whether `name` (reached directly when `direct`) is forbidden by `pattern`.
fn matches(pattern: &str, name: &str, direct: bool) -> bool {
    let pattern = match pattern.strip_prefix('=') {
        Some(_) if !direct => return false,
        Some(rest) => rest,
        None => pattern,
    };
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// Violations of `rules` in `graph`, one line each:
/// `<crate> must not depend on <dep>: <crate> -> ... -> <dep>`.
pub(crate) fn check_dep_rules(graph: &DepGraph, rules: &[DepRule]) -> Vec<String> {
    let mut out = Vec::new();
    for rule in rules {
        let Some(start) = graph.members.iter().find(|id| graph.name(id) == rule.krate) else {
            continue; // crate not in the workspace (yet)
        };
        for (id, path) in graph.reachable(start) {
            let name = graph.name(&id);
            let direct = path.len() == 2;
            if rule.forbidden.iter().any(|p| matches(p, name, direct)) {
                let path: Vec<&str> = path.iter().map(|p| graph.name(p)).collect();
                out.push(format!(
                    "{} must not depend on {}: {}",
                    rule.krate,
                    name,
                    path.join(" -> ")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `cargo xtask tidy` as a test. While teammates are still writing their crates this
    /// names their files; that is the point.
    #[test]
    fn tidy() {
        let root = crate::project_root();
        let missing = files_without_doc_header(&root).unwrap();
        assert!(
            missing.is_empty(),
            "these .rs files do not start with a //! line: {missing:#?}"
        );
        let graph = DepGraph::from_cargo_metadata(&root).unwrap();
        // The real graph is read: a rule forbidding a known dependency does fire.
        let canary = [DepRule {
            krate: "baton-model",
            forbidden: &["prost"],
        }];
        assert_eq!(
            check_dep_rules(&graph, &canary),
            ["baton-model must not depend on prost: baton-model -> prost"]
        );
        let violations = check_dep_rules(&graph, DEP_RULES);
        assert!(
            violations.is_empty(),
            "forbidden dependencies:\n{}",
            violations.join("\n")
        );
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("xtask-tidy-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn doc_header_check_names_offending_files() {
        let tmp = TempDir::new("headers");
        tmp.write("crates/a/src/lib.rs", "//! Crate a.\npub fn f() {}\n");
        tmp.write(
            "crates/a/src/blank_first.rs",
            "\n\n//! Leading blank lines are fine.\n",
        );
        tmp.write("crates/a/src/no_doc.rs", "// plain comment\n//! too late\n");
        tmp.write("crates/a/src/empty.rs", "");
        tmp.write("crates/a/src/outer_doc.rs", "/// outer doc\nfn f() {}\n");
        tmp.write("xtask/src/main.rs", "fn main() {}\n");
        tmp.write("tests/e2e/main.rs", "//! e2e\n");
        tmp.write("crates/a/target/debug/build/gen.rs", "fn skipped() {}\n");
        tmp.write("target-other/x.rs", "fn not_scanned() {}\n");
        tmp.write("crates/a/README.md", "not rust\n");
        let missing = files_without_doc_header(&tmp.0).unwrap();
        let want: Vec<PathBuf> = [
            "crates/a/src/empty.rs",
            "crates/a/src/no_doc.rs",
            "crates/a/src/outer_doc.rs",
            "xtask/src/main.rs",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(missing, want);
    }

    #[test]
    fn dep_rule_reports_the_path() {
        let mut g = DepGraph::default();
        g.add("baton-model", &["prost", "helper"], true);
        g.add("helper", &["tokio"], false);
        g.add("tokio", &["mio"], false);
        g.add("segment-api", &["reqwest"], true);
        g.add("segment-mock", &["axum", "baton-c1z"], true);
        g.add("baton-c1z", &["baton-model"], true);
        let rules = [
            DepRule {
                krate: "baton-model",
                forbidden: &["tokio", "segment-*"],
            },
            DepRule {
                krate: "segment-api",
                forbidden: &["baton-model"],
            },
            DepRule {
                krate: "segment-mock",
                forbidden: &["baton-*"],
            },
            DepRule {
                krate: "not-in-workspace",
                forbidden: &["tokio"],
            },
        ];
        assert_eq!(
            check_dep_rules(&g, &rules),
            [
                "baton-model must not depend on tokio: baton-model -> helper -> tokio",
                "segment-mock must not depend on baton-c1z: segment-mock -> baton-c1z",
                "segment-mock must not depend on baton-model: segment-mock -> baton-c1z -> baton-model",
            ]
        );
    }

    #[test]
    fn equals_patterns_forbid_only_direct_dependencies() {
        let mut g = DepGraph::default();
        g.add("segment-scheme", &["segment-api"], true);
        g.add("segment-api", &["tokio"], true);
        g.add("segment-provision", &["segment-connector"], true);
        g.add("segment-connector", &[], true);
        let ok = check_dep_rules(&g, DEP_RULES);
        assert_eq!(
            ok,
            [
                "segment-provision must not depend on segment-connector: segment-provision -> segment-connector"
            ]
        );
        g.add("segment-scheme", &["segment-api", "tokio"], true);
        assert!(check_dep_rules(&g, DEP_RULES).contains(
            &"segment-scheme must not depend on tokio: segment-scheme -> tokio".to_owned()
        ));
    }

    #[test]
    fn dev_dependencies_are_not_followed() {
        let json = serde_json::json!({
            "packages": [
                {"id": "conn 0.1", "name": "segment-connector"},
                {"id": "mock 0.1", "name": "segment-mock"},
                {"id": "prov 0.1", "name": "segment-provision"},
            ],
            "workspace_members": ["conn 0.1", "mock 0.1", "prov 0.1"],
            "resolve": {"nodes": [
                {"id": "conn 0.1", "deps": [
                    {"pkg": "mock 0.1", "dep_kinds": [{"kind": "dev", "target": null}]},
                    {"pkg": "prov 0.1", "dep_kinds": [{"kind": null, "target": null}]},
                ]},
                {"id": "mock 0.1", "deps": []},
                {"id": "prov 0.1", "deps": []},
            ]},
        });
        let g = DepGraph::from_metadata_json(&json).unwrap();
        assert_eq!(
            check_dep_rules(&g, DEP_RULES),
            [
                "segment-connector must not depend on segment-provision: segment-connector -> segment-provision"
            ]
        );
    }

    #[test]
    fn every_rule_names_a_workspace_crate() {
        let root = crate::project_root();
        for rule in DEP_RULES {
            assert!(
                root.join("crates").join(rule.krate).is_dir(),
                "{} is not under crates/",
                rule.krate
            );
        }
    }
}
