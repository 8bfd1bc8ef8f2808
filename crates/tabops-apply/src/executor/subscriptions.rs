//! Creating, updating and deleting subscriptions. A subscription to a view names the view by its id, which a
//! workbook published in the same apply only has once it is published: the view is found by name among the
//! workbook's views when the subscription is created. Tableau has no uniqueness rule for subscriptions (no 409 to
//! resolve a race with), so after a create whose outcome is unknown the site's subscriptions are read back and an
//! equal one (content, user, schedule) is adopted instead of creating a second.

use tabops_manifest::model::{Schedule, SubscriptionFields};
use tabops_tableau as api;

use crate::error::ActionError;
use crate::wire;

/// The request body of a subscription's fields.
pub fn body(fields: &SubscriptionFields) -> api::SubscriptionBody {
    api::SubscriptionBody {
        subject: fields.subject.clone(),
        message: fields.message.clone().unwrap_or_default(),
        attach_image: fields.attach_image,
        attach_pdf: fields.attach_pdf,
        page_orientation: fields.page_orientation.map(|o| o.as_wire().to_owned()),
        page_size: fields.page_size.clone(),
        send_if_view_empty: fields.send_if_empty,
        suspended: fields.suspended,
    }
}

/// Creates the subscription; returns its id.
pub async fn create(
    client: &api::Client,
    workbook: &str,
    view: Option<&str>,
    user: &str,
    schedule: &Schedule,
    fields: &SubscriptionFields,
) -> Result<String, ActionError> {
    let target = match view {
        None => api::SubscriptionTarget::Workbook(workbook.to_owned()),
        Some(name) => {
            let views = client.workbook_views(workbook).await?;
            let found = views.into_iter().find(|v| v.name.eq_ignore_ascii_case(name));
            let view = found
                .ok_or_else(|| ActionError::MissingView { workbook: workbook.to_owned(), view: name.to_owned() })?;
            api::SubscriptionTarget::View(view.id)
        }
    };
    let new = api::NewSubscription {
        body: body(fields),
        target: target.clone(),
        user_id: user.to_owned(),
        schedule: wire::to_wire_schedule(schedule),
    };
    match client.create_subscription(&new).await {
        Ok(created) => Ok(created.id),
        Err(err) if err.is_ambiguous() => {
            let listed = client.subscriptions().await?;
            listed
                .into_iter()
                .find(|s| {
                    s.target.as_ref() == Some(&target)
                        && s.user_id.as_deref() == Some(user)
                        && s.schedule.as_ref().and_then(wire::normalize_schedule).as_ref() == Some(schedule)
                })
                .map(|s| s.id)
                .ok_or(err.into())
        }
        Err(err) => Err(err.into()),
    }
}
