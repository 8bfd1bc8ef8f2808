//! Subscriptions: the subscriber must be a declared user, the workbook a declared workbook, the view one of the
//! workbook file's sheets; attachments and page options must be values Tableau documents; the schedule follows
//! Tableau Cloud's rules (the refresh schedule's checks); and no two entries may share an identity
//! (content, user, schedule).

use std::collections::HashMap;

use super::projects::project_ref;
use super::schedule::{ScheduleKeys, resolve_schedule};
use super::{Context, Cx};
use crate::diag::did_you_mean;
use crate::model::{
    ContentSpec, PAGE_SIZES, PageOrientation, SubscriptionContent, SubscriptionFields, SubscriptionSpec,
};
use crate::node::Pos;
use crate::raw::{Located, RawSubscription};

/// The manifest's subscriptions, in manifest order.
pub fn subscriptions(cx: &mut Cx<'_>, input: &Context<'_>, workbooks: &[ContentSpec]) -> Vec<SubscriptionSpec> {
    let by_key: HashMap<(Vec<String>, String), &ContentSpec> =
        workbooks.iter().map(|w| ((w.project.key(), w.name.to_lowercase()), w)).collect();
    let mut sheets: HashMap<std::path::PathBuf, Result<Vec<String>, String>> = HashMap::new();
    let mut seen: HashMap<_, Pos> = HashMap::new();
    let mut out = Vec::new();
    for file in input.files {
        for raw in file.raw.subscriptions.iter().flatten() {
            let Some(spec) = subscription(cx, input, raw, workbooks, &by_key, &mut sheets) else { continue };
            if let Some(first) = seen.get(&spec.key()) {
                let first = cx.at(*first);
                cx.problems.push(raw.problem(
                    format!(
                        "duplicate subscription of `{}` to {} on schedule '{}'; first defined at {first}",
                        spec.user, spec.content, spec.schedule
                    ),
                    Some(
                        "a subscription is identified by its content, user and schedule; merge the two entries".into(),
                    ),
                ));
                continue;
            }
            seen.insert(spec.key(), raw.pos);
            out.push(spec);
        }
    }
    out
}

fn subscription(
    cx: &mut Cx<'_>,
    input: &Context<'_>,
    at: &Located<RawSubscription>,
    workbooks: &[ContentSpec],
    by_key: &HashMap<(Vec<String>, String), &ContentSpec>,
    sheets: &mut HashMap<std::path::PathBuf, Result<Vec<String>, String>>,
) -> Option<SubscriptionSpec> {
    let raw = &at.value;
    let before = cx.problems.len();
    let subject = cx.expand(&raw.subject);
    let user = cx.user(&raw.user);
    let project = project_ref(cx, &raw.project);
    let workbook_name = cx.expand(&raw.workbook);
    let workbook = match (&project, &workbook_name) {
        (Some(project), Some(name)) => match by_key.get(&(project.key(), name.to_lowercase())) {
            Some(found) => Some(*found),
            None => {
                let here: Vec<&str> =
                    workbooks.iter().filter(|w| &w.project == project).map(|w| w.name.as_str()).collect();
                let hint = did_you_mean(name, here.iter().copied()).or_else(|| {
                    Some("a subscription names a workbook listed under `workbooks:`, by its project and name".into())
                });
                cx.problems.push(
                    raw.workbook
                        .problem(format!("workbook `{name}` in project `{project}` is not in the manifest"), hint),
                );
                None
            }
        },
        _ => None,
    };
    let view = match (&raw.view, workbook) {
        (Some(view), Some(workbook)) => {
            let name = cx.expand(view)?;
            let listed = sheets
                .entry(workbook.file.path.clone())
                .or_insert_with(|| {
                    input.source.sheets(&workbook.file.path, workbook.file.file_type).map_err(|e| e.to_string())
                })
                .clone();
            match listed {
                Ok(names) => match names.iter().find(|n| n.eq_ignore_ascii_case(&name)) {
                    Some(found) => Some(found.clone()),
                    None => {
                        let hint = did_you_mean(&name, names.iter().map(String::as_str)).or_else(|| {
                            Some(format!("the sheets of `{}` are: {}", workbook.file.display, names.join(", ")))
                        });
                        cx.problems.push(
                            view.problem(format!("workbook `{}` has no sheet named `{name}`", workbook.name), hint),
                        );
                        None
                    }
                },
                Err(err) => {
                    cx.problems.push(
                        view.problem(format!("cannot read the sheets of `{}`: {err}", workbook.file.display), None),
                    );
                    None
                }
            }
        }
        (Some(view), None) => cx.expand(view),
        (None, _) => None,
    };
    let (attach_image, attach_pdf) = attachments(cx, raw);
    let page_orientation = raw.page_orientation.as_ref().and_then(|o| {
        let value = cx.expand(o)?;
        let parsed = PageOrientation::parse(&value);
        if parsed.is_none() {
            cx.problems.push(
                o.problem(
                    format!("unknown page orientation `{value}`"),
                    did_you_mean(&value, ["portrait", "landscape"])
                        .or_else(|| Some("use `portrait` or `landscape`".into())),
                ),
            );
        }
        parsed
    });
    let page_size = raw.page_size.as_ref().and_then(|o| {
        let value = cx.expand(o)?;
        let found = PAGE_SIZES.iter().find(|s| s.eq_ignore_ascii_case(&value)).map(|s| (*s).to_owned());
        if found.is_none() {
            cx.problems.push(o.problem(
                format!("unknown page size `{value}`"),
                did_you_mean(&value, PAGE_SIZES).or_else(|| Some(format!("use one of {}", PAGE_SIZES.join(", ")))),
            ));
        }
        found
    });
    if !attach_pdf {
        for (key, given) in [("page_orientation", &raw.page_orientation), ("page_size", &raw.page_size)] {
            if let Some(given) = given {
                cx.problems.push(given.problem(
                    format!("`{key}` applies to a PDF attachment, and this subscription attaches no PDF"),
                    Some("add `pdf` to `attach`, or remove the key".into()),
                ));
            }
        }
    }
    let schedule =
        resolve_schedule(&raw.schedule.map(|_| ()), ScheduleKeys::from(&raw.schedule.value), &mut cx.problems);
    let message = cx.expand_opt(&raw.message).filter(|m| !m.is_empty());
    if cx.problems.len() > before {
        return None;
    }
    let workbook = workbook?;
    Some(SubscriptionSpec {
        content: SubscriptionContent { project: workbook.project.clone(), workbook: workbook.name.clone(), view },
        user: user?,
        schedule: schedule?,
        fields: SubscriptionFields {
            subject: subject?,
            message,
            attach_image,
            attach_pdf,
            page_orientation,
            page_size,
            send_if_empty: raw.send_if_empty.as_ref().is_none_or(|b| b.value),
            suspended: raw.suspended.as_ref().is_some_and(|b| b.value),
        },
    })
}

/// `(image, pdf)` from `attach:` (default: an image, as Tableau's default `attachImage="true"`).
fn attachments(cx: &mut Cx<'_>, raw: &RawSubscription) -> (bool, bool) {
    let Some(list) = &raw.attach else { return (true, false) };
    let (mut image, mut pdf) = (false, false);
    for item in &list.value {
        let Some(value) = cx.expand(item) else { continue };
        match value.to_ascii_lowercase().as_str() {
            "image" => image = true,
            "pdf" => pdf = true,
            other => cx.problems.push(item.problem(
                format!("unknown attachment `{other}`"),
                did_you_mean(other, ["image", "pdf"]).or_else(|| Some("use `image`, `pdf`, or both".into())),
            )),
        }
    }
    if list.value.is_empty() {
        cx.problems.push(list.problem(
            "a subscription must attach something",
            Some("use `attach: [image]`, `attach: [pdf]` or `attach: [image, pdf]`".into()),
        ));
    }
    (image, pdf)
}
