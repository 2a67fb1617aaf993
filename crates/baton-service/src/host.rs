//! What the Hello says about the host and the build (docs/c1-service-mode.md §5.1): every
//! field non-empty, with the Go SDK's substitutions when something is unknown.

use c1_proto::baton::baton_service_hello_request::{BuildInfo, OsInfo};

/// The build of the connector binary, reported in Hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The connector's package, e.g. `github.com/conductorone/baton-segment` or a crate name.
    pub package: String,
    /// Its version.
    pub version: String,
}

impl Build {
    pub(crate) fn to_proto(&self) -> BuildInfo {
        BuildInfo {
            // The SDK sends the Go runtime version here; we name the language (rustc's version
            // is not known at run time without a build script).
            lang_version: "rust".to_owned(),
            package: non_empty(&self.package, "/dummy/path"),
            package_version: non_empty(&self.version, "0.0.0"),
        }
    }
}

/// The variable naming this process to ConductorOne (`host_id` of every call).
pub const HOST_ID_ENV: &str = "BATON_HOST_ID";

/// `BATON_HOST_ID`, else the hostname, else `baton-sdk` (like the Go SDK).
pub fn default_host_id() -> String {
    std::env::var(HOST_ID_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(hostname)
        .unwrap_or_else(|| "baton-sdk".to_owned())
}

/// The OS hostname (Linux: `/proc/sys/kernel/hostname`; elsewhere `HOSTNAME`).
fn hostname() -> Option<String> {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.trim().is_empty())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A field of `/etc/os-release`, unquoted.
fn os_release(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k == key)
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|v| !v.is_empty())
    })
}

fn non_empty(value: &str, fallback: &str) -> String {
    if value.trim().is_empty() {
        fallback.to_owned()
    } else {
        value.to_owned()
    }
}

/// The host description; every field non-empty.
pub(crate) fn os_info() -> OsInfo {
    let os = std::env::consts::OS.to_owned();
    let hostname = hostname().unwrap_or_else(|| "unknown".to_owned());
    let platform = os_release("ID").unwrap_or_else(|| os.clone());
    let kernel_version =
        read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".to_owned());
    let platform_version = os_release("VERSION_ID").unwrap_or_else(|| kernel_version.clone());
    let platform_family = os_release("ID_LIKE")
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| platform.clone());
    let virtualization_system = if std::path::Path::new("/.dockerenv").exists()
        || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
    {
        "container".to_owned()
    } else {
        "none".to_owned()
    };
    OsInfo {
        hostname,
        os,
        platform,
        platform_version,
        platform_family,
        kernel_version,
        kernel_arch: std::env::consts::ARCH.to_owned(),
        virtualization_system,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_os_field_is_filled() {
        let info = os_info();
        for (name, value) in [
            ("hostname", &info.hostname),
            ("os", &info.os),
            ("platform", &info.platform),
            ("platform_version", &info.platform_version),
            ("platform_family", &info.platform_family),
            ("kernel_version", &info.kernel_version),
            ("kernel_arch", &info.kernel_arch),
            ("virtualization_system", &info.virtualization_system),
        ] {
            assert!(!value.is_empty(), "{name} is empty");
        }
    }

    #[test]
    fn build_info_never_empty() {
        let b = Build {
            package: String::new(),
            version: String::new(),
        }
        .to_proto();
        assert_eq!(b.package, "/dummy/path");
        assert_eq!(b.package_version, "0.0.0");
        assert!(!b.lang_version.is_empty());
    }
}
