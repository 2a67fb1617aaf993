//! Unit tests of the client: loopback pinning, content types, builder rules.

#![allow(clippy::unwrap_used)]

use super::*;

use crate::rate_limit_headers::tests::headers;

#[test]
fn localhost_is_pinned_to_ipv4_loopback() {
    let pinned = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
    assert_eq!(
        pinned_localhost("http://localhost:3000"),
        Some(("localhost".to_owned(), pinned))
    );
    assert_eq!(
        pinned_localhost("http://localhost.:3000"),
        Some(("localhost.".to_owned(), pinned))
    );
    assert_eq!(
        pinned_localhost("https://localhost"),
        Some(("localhost".to_owned(), pinned))
    );
    for other in [
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
        "https://api.segmentapis.com",
        "https://localhost.evil.example",
    ] {
        assert_eq!(pinned_localhost(other), None, "{other}");
    }
}

#[test]
fn content_types() {
    for ok in [
        "application/json",
        "application/json; charset=utf-8",
        "application/vnd.segment.v1+json",
        "application/vnd.segment.v1alpha+json",
        "Application/VND.Segment.v1beta+JSON",
    ] {
        assert!(
            check_content_type("op", &headers(&[("content-type", ok)])).is_ok(),
            "{ok}"
        );
    }
    for bad in ["text/html", "text/plain; charset=utf-8", "application/xml"] {
        assert!(
            check_content_type("op", &headers(&[("content-type", bad)])).is_err(),
            "{bad}"
        );
    }
    assert!(check_content_type("op", &HeaderMap::new()).is_ok());
}

#[test]
fn builder_rules() {
    let token = || Token::new("t0k3n-value");
    assert!(Client::builder(token()).build().is_ok());
    assert_eq!(
        Client::builder(token())
            .region(Region::Eu)
            .build()
            .unwrap()
            .base_url(),
        "https://eu1.api.segmentapis.com"
    );
    assert_eq!(Client::builder(token()).build().unwrap().page_size(), 1000);
    for size in [0, 1001, u16::MAX] {
        assert!(matches!(
            Client::builder(token()).page_size(size).build(),
            Err(Error::InvalidConfig { .. })
        ));
    }
    assert_eq!(
        Client::builder(token())
            .page_size(1)
            .build()
            .unwrap()
            .page_size(),
        1
    );
    assert!(matches!(
        Client::builder(Token::new("  ")).build(),
        Err(Error::InvalidConfig { .. })
    ));
    let err = Client::builder(Token::new("bad\u{7f}token"))
        .build()
        .unwrap_err();
    assert!(!err.to_string().contains("token\u{7f}") && !err.to_string().contains("bad"));
    assert!(
        Client::builder(token())
            .base_url("http://example.com")
            .build()
            .is_err()
    );
    let client = Client::builder(token())
        .base_url("http://127.0.0.1:1/")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:1");
    assert!(!format!("{client:?}").contains("t0k3n"));
    assert!(!format!("{:?}", Client::builder(token())).contains("t0k3n"));
}
