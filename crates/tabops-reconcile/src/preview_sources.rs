//! Previewed workbooks read the previewed copies of the data sources the pull request also changes.
//!
//! A workbook names a published data source by its content URL (a `sqlproxy` connection's `dbname`), and the copy
//! of a data source in the preview project has a content URL of its own, given by the site when it is first
//! published. So the data sources of a preview are published first when a copy is not on the site yet; then every
//! previewed workbook is published from a copy of its file (in a temporary directory, never the work tree) in
//! which each production data source that has a preview copy is replaced by that copy
//! ([`tabops_content::repoint`]). The copy's digest is the item's checksum marker: the same file and the same
//! copies always give the same bytes, so a second run with nothing new makes no writes.

use std::collections::BTreeMap;
use std::path::Path;

use tabops_content::repoint::{self, RepointError};
use tabops_manifest::model::{Address, ContentKind, ContentSpec, Desired};
use tabops_plan::Inventory;
use tabops_plan::preview::{self, PreviewState};

use crate::{Error, ErrorKind};

/// Production content URL → preview content URL, for every previewed data source both have on the site.
pub(crate) fn mapping(state: &PreviewState, live: &Inventory) -> BTreeMap<String, String> {
    let paths = preview::project_paths(live);
    let url = |address: &Address| {
        live.content(ContentKind::Datasource)
            .iter()
            .find(|c| {
                paths
                    .get(&c.project_id)
                    .is_some_and(|p| Address::content(ContentKind::Datasource, p, &c.name) == *address)
            })
            .and_then(|c| c.content_url.clone())
            .filter(|u| !u.is_empty())
    };
    state
        .items
        .iter()
        .filter(|i| i.kind == ContentKind::Datasource && !i.added)
        .filter_map(|i| Some((url(&i.source)?, url(&i.preview)?)))
        .filter(|(production, copy)| production != copy)
        .collect()
}

/// Whether the preview holds workbooks and a changed data source whose preview copy the site does not have yet:
/// then the data sources are published first, so the workbooks can be pointed at the copies.
pub(crate) fn datasources_first(state: &PreviewState, live: &Inventory) -> bool {
    let has_workbooks = state.items.iter().any(|i| i.kind == ContentKind::Workbook);
    let paths = preview::project_paths(live);
    let on_site = |address: &Address| {
        live.content(ContentKind::Datasource).iter().any(|c| {
            paths.get(&c.project_id).is_some_and(|p| Address::content(ContentKind::Datasource, p, &c.name) == *address)
        })
    };
    has_workbooks && state.items.iter().any(|i| i.kind == ContentKind::Datasource && !i.added && !on_site(&i.preview))
}

/// The preview's desired state with its data sources only: nothing is removed from the preview project (its
/// workbooks follow in the second plan).
pub(crate) fn datasources_only(desired: &Desired) -> Desired {
    let mut only = Desired { workbooks: Vec::new(), ..desired.clone() };
    for project in &mut only.projects {
        project.prune = false;
    }
    only
}

/// Points the preview's workbooks at the preview copies in `map`: a workbook whose file names one is published
/// from a copy written into `dir`, with the copy's digests. Blocking (file I/O).
pub(crate) fn repoint_workbooks(
    workbooks: &mut [ContentSpec],
    map: &BTreeMap<String, String>,
    dir: &Path,
) -> Result<(), RepointError> {
    if map.is_empty() {
        return Ok(());
    }
    for (n, spec) in workbooks.iter_mut().enumerate() {
        let name = spec.file.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        // One directory per workbook: two workbooks may have files of the same name.
        let dest_dir = dir.join(n.to_string());
        let dest = dest_dir.join(&name);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| RepointError::Io { path, source }
        };
        std::fs::create_dir_all(&dest_dir).map_err(io(&dest_dir))?;
        if repoint::repoint(&spec.file.path, &dest, map)? == 0 {
            continue;
        }
        let package = spec.file.file_type.is_package();
        let digests = tabops_manifest::hash::content_digests(&dest, package).map_err(io(&dest))?;
        spec.file.path = dest;
        spec.file.set_digests(digests);
    }
    Ok(())
}

/// [`repoint_workbooks`] for a preview's desired state, off the async threads; the copies live in `dir`.
pub(crate) async fn repoint(state: &mut PreviewState, live: &Inventory, dir: &Path) -> Result<(), Error> {
    let map = mapping(state, live);
    let mut workbooks = std::mem::take(&mut state.desired.workbooks);
    let dir = dir.to_owned();
    let workbooks =
        tokio::task::spawn_blocking(move || repoint_workbooks(&mut workbooks, &map, &dir).map(|()| workbooks))
            .await
            .map_err(ErrorKind::from)?
            .map_err(ErrorKind::from)?;
    state.desired.workbooks = workbooks;
    Ok(())
}
