//! Pages and cursor-following item streams.

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

enum Cursor {
    First,
    Next(String),
    Done,
}

/// Streams the items of every page, starting without a cursor and feeding each `next`
/// back. Ends after the last page or after the first error (which is yielded). A page
/// whose `next` equals the cursor just sent is reported as a `Decode` error instead of
/// looping forever.
pub(crate) fn paginate<T, F, Fut>(
    operation: &'static str,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send
where
    T: Send,
    F: FnMut(Option<String>) -> Fut + Send,
    Fut: Future<Output = Result<Page<T>, Error>> + Send,
{
    stream::unfold(
        (fetch, Cursor::First),
        move |(mut fetch, cursor)| async move {
            let sent = match cursor {
                Cursor::Done => return None,
                Cursor::First => None,
                Cursor::Next(c) => Some(c),
            };
            match fetch(sent.clone()).await {
                Ok(page) => {
                    let mut chunk: Vec<Result<T, Error>> = page.items.into_iter().map(Ok).collect();
                    let cursor = match page.next {
                        None => Cursor::Done,
                        Some(next) if sent.as_deref() == Some(next.as_str()) => {
                            chunk.push(Err(Error::Decode {
                                operation,
                                reason:
                                    "pagination did not advance (`next` equals the cursor sent)"
                                        .to_owned(),
                            }));
                            Cursor::Done
                        }
                        Some(next) => Cursor::Next(next),
                    };
                    Some((stream::iter(chunk), (fetch, cursor)))
                }
                Err(error) => Some((stream::iter(vec![Err(error)]), (fetch, Cursor::Done))),
            }
        },
    )
    .flatten()
}
