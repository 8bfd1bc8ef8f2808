//! Errors of reading a site and applying a plan.

use crate::audit::AuditError;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A read of the live site failed (the inventory could not be built).
    #[error("cannot read the site: {what} failed")]
    Fetch { what: String, source: tabops_tableau::Error },
    /// The audit log could not be written: nothing is sent without a durable record.
    #[error("cannot record the apply in the audit log")]
    Audit(#[from] AuditError),
    /// A plan with errors (refusals) cannot be applied.
    #[error("the plan cannot be applied: {0}")]
    NotApplyable(String),
}

/// Why one action failed (reported per action, never aborting independent actions).
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Api(#[from] tabops_tableau::Error),
    /// An object created earlier in the plan has no id (its creation failed or was skipped).
    #[error("{0} was not created, so this action has nothing to refer to")]
    MissingReference(String),
    /// A connection password's environment variable is not set at apply time.
    #[error("connection password {reference} is not set in the environment")]
    MissingSecret { reference: String },
    /// A connection needs a server and a user name to embed credentials.
    #[error("connection {index} has no {field}; credentials can only be embedded for a named server and user")]
    IncompleteConnection { index: usize, field: &'static str },
    /// A publish accepted as a job did not name the item it published.
    #[error("the publish job {job} finished but the published item could not be found")]
    PublishLost { job: String },
    /// A subscription names a view its workbook does not have on the site.
    #[error("workbook {workbook} has no view named '{view}' to subscribe to")]
    MissingView { workbook: String, view: String },
    /// A retry could not be recorded, so it was not sent (nothing is sent without a durable record).
    #[error("cannot record a retry in the audit log")]
    Audit(#[from] AuditError),
}
