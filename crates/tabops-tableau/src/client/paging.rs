//! Paged list reads: page 1 at pageSize=1000, then all remaining pages concurrently (bounded by the client's
//! request slots, ahead of the calls not yet admitted: see `slots`), concatenated in page order.

use reqwest::Method;

use super::Client;
use super::slots::Priority;
use super::transport::Call;
use crate::error::{Error, Result};
use crate::models::Pagination;
use crate::xml::Element;

/// Largest page Tableau serves.
pub(crate) const MAX_PAGE_SIZE: u64 = 1000;

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
        let read_items = |call: &Call, root: &Element| -> Result<Vec<T>> {
            let list = root.child(spec.list_element).ok_or_else(|| Error::Xml {
                operation: call.operation.clone(),
                message: format!("response has no <{}> element", spec.list_element),
            })?;
            Ok(list.children_named(spec.item_element).filter_map(spec.parse).collect())
        };

        let first_call = page_call(1, MAX_PAGE_SIZE);
        let first = self.call_xml(&first_call).await?;
        let mut items = read_items(&first_call, &first)?;
        let Some(pagination) = Pagination::from_root(&first) else {
            return Ok(items);
        };
        let page_size = pagination.page_size.max(1);
        let pages = pagination.total_available.div_ceil(page_size);
        if pages <= 1 {
            return Ok(items);
        }
        tracing::debug!(operation = %spec.operation, pages, total = pagination.total_available, "fetching remaining pages");
        let rest = futures::future::try_join_all((2..=pages).map(|page| {
            let call = page_call(page, page_size);
            async move {
                let root = self.call_xml(&call).await?;
                read_items(&call, &root)
            }
        }))
        .await?;
        for page in rest {
            items.extend(page);
        }
        Ok(items)
    }
}
