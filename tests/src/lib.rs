//! The `segment-e2e` package: end-to-end tests of the `segment-cli` program against
//! `segment-mock`. The tests live in `e2e/` (one test binary), their fixtures in `fixtures/`,
//! and the program under test is built from `src/bin/segment-cli-e2e.rs`. This library is
//! intentionally empty.
