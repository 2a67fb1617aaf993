//! Cursor pagination that cannot end (cursor cycles, endless empty pages) ends the stream
//! with a `Decode` error instead of looping forever.

use futures::StreamExt;
use segment_api::{Client, Error, Role, Token};

use crate::canned::{Canned, Reply};

fn roles_page(ids: &[&str], next: Option<&str>) -> Reply {
    let roles: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id":"{id}","name":"Role {id}","description":""}}"#))
        .collect();
    let next = next.map_or("null".to_owned(), |n| format!("\"{n}\""));
    Reply::json(
        200,
        format!(
            r#"{{"data":{{"roles":[{}],"pagination":{{"current":"x","next":{next}}}}}}}"#,
            roles.join(",")
        ),
    )
}

fn client(canned: &Canned) -> Client {
    Client::builder(Token::new("t"))
        .base_url(canned.base_url())
        .build()
        .unwrap()
}

/// At most `limit` stream items, so that a regression fails instead of hanging.
async fn first(client: &Client, limit: usize) -> Vec<Result<Role, Error>> {
    client.list_roles().take(limit).collect().await
}

fn cursors_sent(canned: &Canned) -> Vec<Option<String>> {
    canned
        .requests()
        .iter()
        .map(|r| {
            r.target
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("pagination.cursor="))
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn a_cursor_cycle_ends_with_a_decode_error() {
    // first page -> A -> B -> A: `next` never equals the cursor just sent.
    let canned = Canned::start(vec![
        roles_page(&["r1"], Some("QQ")),
        roles_page(&["r2"], Some("Qg")),
        roles_page(&["r3"], Some("QQ")),
        roles_page(&["r4"], Some("Qg")),
    ])
    .await;
    let results = first(&client(&canned), 50).await;
    assert_eq!(results.len(), 4, "{results:?}");
    let ids: Vec<&str> = results[..3]
        .iter()
        .map(|r| r.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(ids, ["r1", "r2", "r3"]);
    match &results[3] {
        Err(Error::Decode { operation, reason }) => {
            assert_eq!(*operation, "listRoles");
            assert!(reason.contains("already sent"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cursors_sent(&canned),
        [None, Some("QQ".to_owned()), Some("Qg".to_owned())]
    );
}

#[tokio::test]
async fn endless_empty_pages_with_fresh_cursors_end_after_three() {
    let mut script = vec![roles_page(&["r1"], Some("c1"))];
    script.extend((2..20).map(|i| roles_page(&[], Some(&format!("c{i}")))));
    let canned = Canned::start(script).await;
    let results = first(&client(&canned), 50).await;
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].as_ref().unwrap().id, "r1");
    match &results[1] {
        Err(Error::Decode { reason, .. }) => {
            assert!(reason.contains("3 consecutive empty pages"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        canned.requests().len(),
        4,
        "the first page and 3 empty ones"
    );
}

#[tokio::test]
async fn a_few_empty_pages_in_between_are_tolerated() {
    let canned = Canned::start(vec![
        roles_page(&["r1"], Some("c1")),
        roles_page(&[], Some("c2")),
        roles_page(&[], Some("c3")),
        roles_page(&["r2"], Some("c4")),
        roles_page(&[], Some("c5")),
        roles_page(&[], Some("c6")),
        roles_page(&["r3"], None),
    ])
    .await;
    let results = first(&client(&canned), 50).await;
    let ids: Vec<String> = results.into_iter().map(|r| r.unwrap().id).collect();
    assert_eq!(ids, ["r1", "r2", "r3"]);
    assert_eq!(canned.requests().len(), 7);
}
