//! Subscriptions to the manifest's workbooks and their views.
//!
//! A subscription's identity is (content, user, schedule): desired and live subscriptions are matched on it, with
//! names compared case-insensitively and schedules normalised. A match whose other fields differ is updated in
//! place; a desired one without a match is created; a live one without a match is deleted when the manifest prunes
//! subscriptions (`settings.prune_subscriptions`) and listed as unmanaged otherwise. Only subscriptions to workbooks
//! the manifest declares (and to their views) are considered at all: the manifest owns those workbooks, nothing else.
//! Nothing is read or planned when the manifest neither declares nor prunes subscriptions.

use std::collections::HashMap;

use tabops_manifest::model::{
    Address, ContentKind, Desired, PageOrientation, ProjectPath, Schedule, SubscriptionContent, SubscriptionFields,
    SubscriptionSpec, identity_key, schedule_slug, subscription_address,
};

use crate::inventory::LiveSubscription;
use crate::origin::subscriptions_digest;
use crate::plan::{Action, Aspect, FieldChange, ObjectKind, Operation, Origin, PlannedAction};

use super::content::Contents;
use super::{Ctx, Draft, Pair, Principals, deps_of, val};

/// Whether the manifest manages subscriptions at all (and the inventory must list them).
pub fn wanted(desired: &Desired) -> bool {
    !desired.subscriptions.is_empty() || desired.settings.prune_subscriptions
}

type Key = (Vec<String>, String, Option<String>, String, Schedule);

/// One subscription's pair, with its plan address and the address of its workbook.
type Planned<'s, 'a> = (String, Address, Pair<&'s SubscriptionSpec, (&'a LiveSubscription, String)>);

/// Plans the subscriptions of the manifest's workbooks.
pub(super) fn plan_subscriptions<'a>(
    cx: &Ctx<'a>,
    principals: &Principals,
    contents: &Contents<'a>,
    draft: &mut Draft,
) {
    if !wanted(cx.desired) {
        return;
    }
    // The manifest's workbooks: by live id (what live subscriptions name) and by identity (what desired ones name).
    let workbooks: Vec<_> = contents.states.iter().filter(|s| s.spec.kind == ContentKind::Workbook).collect();
    let by_live: HashMap<&str, usize> =
        workbooks.iter().enumerate().filter_map(|(i, s)| s.live.map(|l| (l.id.as_str(), i))).collect();
    let by_name: HashMap<(Vec<String>, String), usize> =
        workbooks.iter().enumerate().map(|(i, s)| ((s.spec.project.key(), s.spec.name.to_lowercase()), i)).collect();

    let mut live: HashMap<Key, Vec<(&LiveSubscription, SubscriptionContent, String)>> = HashMap::new();
    let mut unreadable = Vec::new();
    for sub in cx.live.subscriptions.iter().flatten() {
        let Some(&i) = sub.workbook_id.as_deref().and_then(|id| by_live.get(id)) else { continue };
        let spec = workbooks[i].spec;
        draft.record_row(&sub.id, sub);
        let content =
            SubscriptionContent { project: spec.project.clone(), workbook: spec.name.clone(), view: sub.view.clone() };
        let user = sub.user_id.as_deref().map(|id| super::user_display(&cx.idx, id)).unwrap_or_default();
        match &sub.schedule {
            Some(schedule) => {
                live.entry(identity_key(&content, &user, schedule)).or_default().push((sub, content, user))
            }
            None => unreadable.push((sub, content, user)),
        }
    }

    let mut pairs: Vec<Planned<'_, '_>> = Vec::new();
    for spec in &cx.desired.subscriptions {
        let found = live.get_mut(&spec.key()).and_then(|list| (!list.is_empty()).then(|| list.remove(0)));
        let address = workbook_address(&spec.content.project, &spec.content.workbook);
        pairs.push((spec.address(), address, Pair::of(spec, found.map(|(sub, _, user)| (sub, user)))));
    }
    let mut rest: Vec<_> = live.into_values().flatten().collect();
    rest.extend(unreadable);
    rest.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    for (sub, content, user) in rest {
        let slug = sub.schedule.as_ref().map(schedule_slug).unwrap_or_else(|| format!("subscription-{}", sub.id));
        let address = workbook_address(&content.project, &content.workbook);
        pairs.push((subscription_address(&content, &user, &slug), address, Pair::Live((sub, user))));
    }

    for (id, workbook, pair) in pairs {
        let key = (workbook.project_path().map(|p| p.key()).unwrap_or_default(), workbook.name().to_lowercase());
        let state = by_name.get(&key);
        let state = state.map(|&i| workbooks[i]);
        let origin = Origin {
            address: workbook.clone(),
            aspect: Aspect::Subscriptions,
            digest: Some(subscriptions_digest(cx.desired, &workbook)),
        };
        match pair {
            Pair::Desired(spec) => {
                let Some(state) = state else { continue };
                let user = principals.user(&cx.idx, &spec.user).map(|(r, _)| r);
                let Some(user) = user else {
                    draft.error(
                        crate::plan::PlanErrorKind::MissingUser,
                        &id,
                        format!("subscriber '{}' is neither in the manifest nor on the site", spec.user),
                        None,
                    );
                    continue;
                };
                let mut depends_on = deps_of([Some(&state.object), Some(&user)]);
                if state.changed && !depends_on.contains(&state.address.to_string()) {
                    depends_on.push(state.address.to_string());
                }
                draft.push(PlannedAction {
                    id,
                    kind: ObjectKind::Subscription,
                    action: Action::Create,
                    reason: "subscription in the manifest".into(),
                    changes: created(spec),
                    depends_on,
                    live_id: None,
                    origin,
                    operation: Operation::CreateSubscription {
                        workbook: state.object.clone(),
                        view: spec.content.view.clone(),
                        user,
                        schedule: spec.schedule.clone(),
                        fields: spec.fields.clone(),
                    },
                });
            }
            Pair::Both(spec, (sub, _)) => {
                let changes = changed(&spec.fields, sub);
                if changes.is_empty() {
                    continue;
                }
                let names: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                draft.push(PlannedAction {
                    id,
                    kind: ObjectKind::Subscription,
                    action: Action::Update,
                    reason: format!("{} changed", names.join(", ")),
                    changes,
                    depends_on: vec![],
                    live_id: Some(sub.id.clone()),
                    origin,
                    operation: Operation::UpdateSubscription {
                        subscription: sub.id.clone(),
                        fields: spec.fields.clone(),
                    },
                });
            }
            Pair::Live((sub, _)) => {
                if !cx.desired.settings.prune_subscriptions {
                    draft.unmanaged(ObjectKind::Subscription, &id, &sub.id);
                    continue;
                }
                draft.push(PlannedAction {
                    id,
                    kind: ObjectKind::Subscription,
                    action: Action::Delete,
                    reason: "not in the manifest and settings.prune_subscriptions is on".into(),
                    changes: vec![
                        FieldChange::new("subject", val(&sub.subject), None),
                        FieldChange::new(
                            "schedule",
                            val(sub.schedule.as_ref().map_or_else(|| sub.schedule_text.clone(), ToString::to_string)),
                            None,
                        ),
                    ],
                    depends_on: vec![],
                    live_id: Some(sub.id.clone()),
                    origin,
                    operation: Operation::DeleteSubscription { subscription: sub.id.clone() },
                });
            }
        }
    }
}

fn workbook_address(project: &ProjectPath, name: &str) -> Address {
    Address::content(ContentKind::Workbook, project, name)
}

fn attachments(image: bool, pdf: bool) -> String {
    match (image, pdf) {
        (true, true) => "image, pdf",
        (true, false) => "image",
        (false, true) => "pdf",
        (false, false) => "none",
    }
    .to_owned()
}

fn created(spec: &SubscriptionSpec) -> Vec<FieldChange> {
    let f = &spec.fields;
    let mut out = vec![
        FieldChange::new("subject", None, val(&f.subject)),
        FieldChange::new("user", None, val(&spec.user)),
        FieldChange::new("schedule", None, val(spec.schedule.to_string())),
        FieldChange::new("attach", None, val(attachments(f.attach_image, f.attach_pdf))),
    ];
    if let Some(message) = &f.message {
        out.push(FieldChange::new("message", None, val(message)));
    }
    if let Some(o) = f.page_orientation {
        out.push(FieldChange::new("page_orientation", None, val(o.as_wire())));
    }
    if let Some(size) = &f.page_size {
        out.push(FieldChange::new("page_size", None, val(size)));
    }
    if !f.send_if_empty {
        out.push(FieldChange::new("send_if_empty", None, val(false)));
    }
    if f.suspended {
        out.push(FieldChange::new("suspended", None, val(true)));
    }
    out
}

/// The fields of a live subscription that differ from the manifest's. Page options are compared only where the
/// manifest sets them (without them Tableau keeps its default), and only with a PDF attached.
fn changed(want: &SubscriptionFields, have: &LiveSubscription) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if want.subject != have.subject {
        out.push(FieldChange::new("subject", val(&have.subject), val(&want.subject)));
    }
    if want.message.as_deref().unwrap_or("") != have.message.as_deref().unwrap_or("") {
        out.push(FieldChange::new("message", val(&have.message), val(&want.message)));
    }
    if (want.attach_image, want.attach_pdf) != (have.attach_image, have.attach_pdf) {
        out.push(FieldChange::new(
            "attach",
            val(attachments(have.attach_image, have.attach_pdf)),
            val(attachments(want.attach_image, want.attach_pdf)),
        ));
    }
    if want.attach_pdf {
        let live_orientation = have.page_orientation.as_deref().and_then(PageOrientation::parse);
        if let Some(o) = want.page_orientation.filter(|o| Some(*o) != live_orientation) {
            out.push(FieldChange::new("page_orientation", val(&have.page_orientation), val(o.as_wire())));
        }
        if let Some(size) =
            want.page_size.as_ref().filter(|s| !have.page_size.as_ref().is_some_and(|h| h.eq_ignore_ascii_case(s)))
        {
            out.push(FieldChange::new("page_size", val(&have.page_size), val(size)));
        }
    }
    if want.send_if_empty != have.send_if_empty {
        out.push(FieldChange::new("send_if_empty", val(have.send_if_empty), val(want.send_if_empty)));
    }
    if want.suspended != have.suspended {
        out.push(FieldChange::new("suspended", val(have.suspended), val(want.suspended)));
    }
    out
}
