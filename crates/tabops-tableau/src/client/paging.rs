//! Paged list reads: page 1 at pageSize=1000, then the remaining pages in a sliding window of as many requests
//! as the client has slots (queued ahead of the calls not yet admitted: see `slots`), concatenated in page order.
//!
//! A server's pagination is a claim, not a fact: `totalAvailable=1000000000000 pageSize=1` once made tabops build
//! a future per page up front (3.5 GB, then an allocation abort before page 2 was requested). Now the pages are
//! requested as they are needed (at most a window's worth of requests exist at once), a list may claim at most
//! [`MAX_LIST_ITEMS`] items in at most [`MAX_LIST_PAGES`] pages, and a list that delivers fewer items than it
//! claims (an empty page before the last) or more stops with an [`Error::Limit`] naming what it claimed.

use futures::{StreamExt, TryStreamExt};
use reqwest::Method;

use super::Client;
use super::slots::Priority;
use super::transport::Call;
use crate::config::MAX_CONCURRENCY;
use crate::error::{Error, Result};
use crate::models::Pagination;
use crate::xml::Element;

/// Largest page Tableau serves.
pub(crate) const MAX_PAGE_SIZE: u64 = 1000;

/// Most items one list may claim: 500,000, fifty times the largest list of the benchmark's 10,000-workbook site
/// (BENCHMARKS.md), and more than a Tableau Cloud site's users or content in practice. A list beyond it is refused
/// before its second page is requested.
pub const MAX_LIST_ITEMS: u64 = 500_000;

/// Most pages one list may take: 5,000, so [`MAX_LIST_ITEMS`] can still be read from a server that serves pages
/// of 100 instead of the 1,000 asked for. `totalAvailable=10^12 pageSize=1` is refused at page 1.
pub const MAX_LIST_PAGES: u64 = 5_000;

/// What to list and how to read one item.
pub(crate) struct ListSpec<'a, T> {
    pub(crate) path: String,
    pub(crate) route: &'static str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) list_element: &'a str,
    pub(crate) item_element: &'a str,
    pub(crate) parse: fn(&Element) -> Option<T>,
    pub(crate) operation: String,
}

/// One page's items and how many item elements it held (some may not parse into a `T`).
struct Page<T> {
    items: Vec<T>,
    delivered: u64,
}

impl Client {
    pub(crate) async fn list_all<T>(&self, spec: ListSpec<'_, T>) -> Result<Vec<T>> {
        let page_call = |page: u64, size: u64| {
            let mut call =
                Call::new(Method::GET, spec.path.clone(), spec.route, format!("{} (page {page})", spec.operation));
            call.query = spec.query.clone();
            call.query.push(("pageSize".to_owned(), size.to_string()));
            call.query.push(("pageNumber".to_owned(), page.to_string()));
            if page > 1 {
                call.priority = Priority::Continuation;
            }
            call
        };
        let read_items = |call: &Call, root: &Element| -> Result<Page<T>> {
            let list = root.child(spec.list_element).ok_or_else(|| Error::Xml {
                operation: call.operation.clone(),
                message: format!("response has no <{}> element", spec.list_element),
            })?;
            let delivered = list.children_named(spec.item_element).count() as u64;
            Ok(Page { items: list.children_named(spec.item_element).filter_map(spec.parse).collect(), delivered })
        };
        let limit = |message: String| Error::Limit { operation: spec.operation.clone(), message };

        let first_call = page_call(1, MAX_PAGE_SIZE);
        let first = self.call_xml(&first_call).await?;
        let Page { mut items, delivered: mut total_delivered } = read_items(&first_call, &first)?;
        let Some(pagination) = Pagination::from_root(&first) else {
            return Ok(items);
        };
        drop(first);
        let claimed = pagination.total_available;
        let page_size = pagination.page_size.max(1);
        if total_delivered > page_size {
            return Err(limit(format!("page 1 holds {total_delivered} items, more than its page size of {page_size}")));
        }
        let pages = claimed.div_ceil(page_size);
        if claimed > MAX_LIST_ITEMS {
            return Err(limit(format!(
                "the server claims {claimed} items (totalAvailable), more than the {MAX_LIST_ITEMS} tabops reads \
                 from one list; refusing to read a list that large"
            )));
        }
        if pages > MAX_LIST_PAGES {
            return Err(limit(format!(
                "the server claims {claimed} items in pages of {page_size}, which is {pages} pages, more than the \
                 {MAX_LIST_PAGES} tabops requests for one list"
            )));
        }
        if pages <= 1 {
            return Ok(items);
        }
        tracing::debug!(operation = %spec.operation, pages, total = claimed, "fetching remaining pages");
        // A sliding window: at most MAX_CONCURRENCY page requests exist at once (the client's slots bound what is
        // actually in flight), in page order. For the lists of an honest site (a few pages) this is the same as
        // requesting them all at once.
        let mut rest = futures::stream::iter((2..=pages).map(|page| {
            let call = page_call(page, page_size);
            async move {
                let root = self.call_xml(&call).await?;
                let page_items = read_items(&call, &root)?;
                Ok::<_, Error>((page, page_items))
            }
        }))
        .buffered(MAX_CONCURRENCY);
        while let Some((page, Page { items: page_items, delivered })) = rest.try_next().await? {
            if delivered == 0 {
                return Err(limit(format!(
                    "page {page} of {pages} is empty, but the server claims {claimed} items (totalAvailable) and \
                     delivered {total_delivered} before it"
                )));
            }
            if delivered > page_size {
                return Err(limit(format!(
                    "page {page} holds {delivered} items, more than its page size of {page_size}"
                )));
            }
            total_delivered += delivered;
            items.extend(page_items);
        }
        Ok(items)
    }
}
