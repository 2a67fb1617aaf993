//! The hand-written small workspace (`fixtures/small-workspace.json`): every resource,
//! entitlement and grant of its sync is compared with `fixtures/small-workspace.expected.txt`.
//! Run with `UPDATE_EXPECT=1` to rewrite the expected file after an intended change.

use crate::c1z;
use crate::common::{self, fixture_path, small_workspace, with_conn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_workspace_matches_the_snapshot() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &["--output", "json"])).await;
    out.expect_code(0);
    let summary = out.json();
    let file = dir.path().join("sync.c1z");

    let mut lines = c1z::render(&file);
    let actual = format!("{}\n", lines.join("\n"));
    let expected_path = fixture_path("small-workspace.expected.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if actual != expected {
        let exp: Vec<&str> = expected.lines().collect();
        let missing: Vec<&&str> = exp
            .iter()
            .filter(|l| !lines.iter().any(|a| a == **l))
            .collect();
        let extra: Vec<&String> = lines
            .iter()
            .filter(|l| !exp.contains(&l.as_str()))
            .collect();
        panic!(
            "the sync of small-workspace.json differs from small-workspace.expected.txt \
             (UPDATE_EXPECT=1 rewrites it)\n--- expected, missing:\n{}\n--- actual, unexpected:\n{}",
            missing
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            extra
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }

    // Beyond the snapshot: the key cases are present, secrets of sources/warehouses are not.
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has(
        "grant source:srcIos0001:source_admin:group:grpEng0001 entitlement=source:srcIos0001:source_admin principal=group:grpEng0001 annotations=[GrantExpandable{entitlements=[group:grpEng0001:member], shallow=true, types=[user]}]"
    ));
    assert!(has(
        "grant role:roleSrcAdm1:member@environment=prod:user:usrBob0001 "
    ));
    assert!(has("entitlement group:grpEmpty01:member "));
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("grant group:grpEmpty01:member:"))
    );
    assert!(has(
        "grant group:grpEng0001:member:invite:erin@small.example "
    ));
    assert!(has("resource user:usrCarol01 \"carol@small.example\" "));
    assert!(has("space:spcProd001:unify__engage_read_only_beta"));
    for secret in ["SECRET", "WRITEKEY", "password"] {
        assert!(!has(secret), "{secret} reached the c1z");
    }
    let db = common::decompressed(&file);
    assert!(!common::contains_bytes(&db, b"SECRET"));

    // The summary agrees with the file.
    lines.retain(|l| l.starts_with("grant "));
    assert_eq!(summary["grants"].as_u64().unwrap(), lines.len() as u64);
    assert_eq!(summary["requests"], summary["min_requests"]);
    assert_eq!(summary["resources"]["user"], 4);
    assert_eq!(summary["resources"]["invite"], 2);
    c1z::check_integrity(&file);
}
