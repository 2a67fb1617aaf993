//! Pages and cursor-following item streams.

use std::collections::HashSet;
use std::future::Future;

use futures::stream::{self, Stream, StreamExt};

use crate::Error;

/// One page of a list operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Cursor of the next page; `None` on the last page (Segment's `next` null, absent or `""`).
    pub next: Option<String>,
    /// `totalEntries`, when Segment computed it.
    pub total_entries: Option<u64>,
}

/// Consecutive pages without items that still carry a `next` cursor after which a stream
/// gives up with a `Decode` error (a server handing out endless fresh cursors).
pub(crate) const MAX_EMPTY_PAGES_WITH_NEXT: u32 = 3;

/// Where a stream stands between pages.
struct State<F> {
    fetch: F,
    /// The cursor to send next; `None` when done.
    next: Option<Option<String>>,
    /// Every cursor sent so far.
    seen: HashSet<String>,
    /// Consecutive empty pages that still had a `next`.
    empty_with_next: u32,
}

/// Streams the items of every page, starting without a cursor and feeding each `next`
/// back. Ends after the last page or after the first error (which is yielded).
///
/// Pagination that cannot end is reported as a `Decode` error after the items of the page
/// that revealed it: a `next` cursor that was already sent (a page pointing to itself or a
/// cycle such as A -> B -> A), or [`MAX_EMPTY_PAGES_WITH_NEXT`] (3) consecutive pages
/// without items that still carry a `next`.
pub(crate) fn paginate<T, F, Fut>(
    operation: &'static str,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send
where
    T: Send,
    F: FnMut(Option<String>) -> Fut + Send,
    Fut: Future<Output = Result<Page<T>, Error>> + Send,
{
    let state = State {
        fetch,
        next: Some(None),
        seen: HashSet::new(),
        empty_with_next: 0,
    };
    stream::unfold(state, move |mut state| async move {
        let sent = state.next.take()?;
        if let Some(cursor) = &sent {
            state.seen.insert(cursor.clone());
        }
        let page = match (state.fetch)(sent).await {
            Ok(page) => page,
            Err(error) => return Some((stream::iter(vec![Err(error)]), state)),
        };
        let empty = page.items.is_empty();
        let mut chunk: Vec<Result<T, Error>> = page.items.into_iter().map(Ok).collect();
        if let Some(next) = page.next {
            state.empty_with_next = if empty { state.empty_with_next + 1 } else { 0 };
            let stuck = if state.seen.contains(&next) {
                Some("pagination did not advance (`next` is a cursor already sent)".to_owned())
            } else if state.empty_with_next >= MAX_EMPTY_PAGES_WITH_NEXT {
                Some(format!(
                    "pagination did not advance ({MAX_EMPTY_PAGES_WITH_NEXT} consecutive empty \
                     pages with a `next` cursor)"
                ))
            } else {
                None
            };
            match stuck {
                Some(reason) => chunk.push(Err(Error::Decode { operation, reason })),
                None => state.next = Some(Some(next)),
            }
        }
        Some((stream::iter(chunk), state))
    })
    .flatten()
}
