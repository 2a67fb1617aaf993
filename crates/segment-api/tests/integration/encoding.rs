//! Property tests: any id, email or cursor reaches the fake server unchanged, in exactly the
//! intended route (percent-encoding of path segments and of query values).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use segment_api::{Client, Error};
use segment_mock::MockServer;

use crate::support::{client, mock};

/// Arbitrary unicode plus strings dense in URL metacharacters and dot segments.
fn tricky() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9/?#%. +&=@;:,\\\\\\[\\]~-]{1,16}",
        prop::sample::select(vec![
            "..",
            ".",
            "...",
            "%2e%2e",
            "%2E",
            ".%2e",
            "../users",
            "a/../b",
            "./x",
            " ",
            "#",
            "?",
            "%",
            "%%",
            "%2F",
            "é/ü",
            "😀?x=1#f",
            "a\u{0}b",
            "line\nbreak",
            "+",
        ])
        .prop_map(String::from),
    ]
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    })
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    server: MockServer,
    api: Client,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(mock());
    let api = client(&server);
    Fixture { rt, server, api }
}

fn unaddressable(id: &str) -> bool {
    matches!(id, "" | "." | "..")
}

#[test]
fn any_user_id_reaches_get_user_verbatim() {
    let f = fixture();
    runner()
        .run(&tricky(), |id| {
            f.server.reset_counters();
            let result = f.rt.block_on(f.api.get_user(&id));
            let log = f.server.request_log();
            if unaddressable(&id) {
                prop_assert!(
                    matches!(result, Err(Error::InvalidArgument { .. })),
                    "{:?}",
                    result
                );
                prop_assert!(log.is_empty());
            } else {
                prop_assert_eq!(log.len(), 1);
                prop_assert_eq!(&log[0].method, "GET");
                prop_assert_eq!(&log[0].operation, "getUser");
                prop_assert_eq!(&log[0].path_params, &vec![id.clone()]);
                prop_assert_eq!(&log[0].raw_query, "");
                prop_assert!(
                    matches!(result, Err(Error::NotFound { .. })),
                    "{:?}",
                    result
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_group_id_and_email_reach_remove_users_verbatim() {
    let f = fixture();
    runner()
        .run(&(tricky(), tricky()), |(group_id, email)| {
            f.server.reset_counters();
            let result =
                f.rt.block_on(f.api.remove_users_from_user_group(&group_id, &[&email]));
            let log = f.server.request_log();
            if unaddressable(&group_id) || email.is_empty() {
                prop_assert!(
                    matches!(result, Err(Error::InvalidArgument { .. })),
                    "{:?}",
                    result
                );
                prop_assert!(log.is_empty());
            } else {
                prop_assert_eq!(log.len(), 1);
                prop_assert_eq!(&log[0].method, "DELETE");
                prop_assert_eq!(&log[0].operation, "removeUsersFromUserGroup");
                prop_assert_eq!(&log[0].path_params, &vec![group_id.clone()]);
                prop_assert_eq!(log[0].query.len(), 1, "{}", log[0].raw_query);
                prop_assert_eq!(log[0].query_param("emails.0"), Some(email.as_str()));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_emails_reach_delete_invites_in_order() {
    let f = fixture();
    let emails = prop::collection::vec(tricky().prop_filter("non-empty", |e| !e.is_empty()), 1..4);
    runner()
        .run(&emails, |emails| {
            f.server.reset_counters();
            let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
            let result = f.rt.block_on(f.api.delete_invites(&refs));
            prop_assert!(result.is_ok(), "{:?}", result);
            let log = f.server.request_log();
            prop_assert_eq!(log.len(), 1);
            prop_assert_eq!(&log[0].operation, "deleteInvites");
            let expected: Vec<(String, String)> = emails
                .iter()
                .enumerate()
                .map(|(i, e)| (format!("emails.{i}"), e.clone()))
                .collect();
            prop_assert_eq!(&log[0].query, &expected);
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_cursor_and_member_list_path_reach_the_server_verbatim() {
    let f = fixture();
    runner()
        .run(&(tricky(), tricky()), |(group_id, cursor)| {
            f.server.reset_counters();
            let result = f.rt.block_on(
                f.api
                    .list_users_from_user_group_page(&group_id, Some(&cursor)),
            );
            let log = f.server.request_log();
            if unaddressable(&group_id) {
                prop_assert!(
                    matches!(result, Err(Error::InvalidArgument { .. })),
                    "{:?}",
                    result
                );
                prop_assert!(log.is_empty());
            } else {
                prop_assert_eq!(log.len(), 1);
                prop_assert_eq!(&log[0].operation, "listUsersFromUserGroup");
                prop_assert_eq!(&log[0].path_params, &vec![group_id.clone()]);
                let expected = vec![
                    ("pagination.count".to_owned(), "7".to_owned()),
                    ("pagination.cursor".to_owned(), cursor.clone()),
                ];
                prop_assert_eq!(&log[0].query, &expected);
            }
            Ok(())
        })
        .unwrap();
}
