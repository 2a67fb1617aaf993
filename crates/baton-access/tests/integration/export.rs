//! Export: one file per table, stable columns, inherited grants with their paths.

use crate::common::{workspace, write};
use baton_access::{ExportFormat, HOLDING_COLUMNS, PRINCIPAL_COLUMNS, export};
use baton_c1z::{C1zReader, ReaderOptions};

#[test]
fn csv_and_json_files_per_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.c1z");
    write(&path, &workspace());
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let view = reader.latest().unwrap();

    let out = dir.path().join("audit");
    let files = export(&view, ExportFormat::Csv, &out).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["principals.csv", "entitlements.csv", "grants.csv"]);
    let principals = std::fs::read_to_string(out.join("principals.csv")).unwrap();
    assert_eq!(
        principals.lines().next().unwrap(),
        PRINCIPAL_COLUMNS.join(",")
    );
    assert!(principals.contains("user,u1,Alice,alice@example.com,alice@example.com,"));
    assert_eq!(files[0].rows, 8); // 3 users, 1 invitation, 4 groups
    let grants = std::fs::read_to_string(out.join("grants.csv")).unwrap();
    assert_eq!(grants.lines().next().unwrap(), HOLDING_COLUMNS.join(","));
    assert!(grants.contains(
        "user,u2,Bob,app:a1:admin,Billing admin,app,a1,Billing,via group Engineering > group Platform,group:g1 > group:g2,app:a1:admin:group:g1"
    ));
    // 9 direct grants, then the inherited holdings.
    assert_eq!(grants.lines().filter(|l| l.contains(",direct,")).count(), 9);
    assert!(grants.lines().count() > 10);
    // Only the three files are left (no temporary file).
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["entitlements.csv", "grants.csv", "principals.csv"]);

    let files = export(&view, ExportFormat::Json, &out).unwrap();
    assert_eq!(files[2].path, out.join("grants.jsonl"));
    let text = std::fs::read_to_string(out.join("grants.jsonl")).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v.as_object().unwrap().len(), HOLDING_COLUMNS.len());
    }
}
