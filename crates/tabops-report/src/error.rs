//! Errors of the reports: a failed read of the site, or a filter naming something the site does not have.

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A read of the site failed (boxed: the site's error is large, and the filters' errors are common).
    #[error("cannot read the site for the report")]
    Read(#[source] Box<tabops_apply::ApplyError>),
    #[error("the site has no user '{user}'")]
    UnknownUser { user: String },
    #[error("the site has no group '{group}'")]
    UnknownGroup { group: String },
    #[error("the site has no project '{project}'")]
    UnknownProject { project: String },
    #[error("the site has no item '{item}'")]
    UnknownItem { item: String },
}

impl ReportError {
    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            // The site's error is in the chain under this one, with its own hint.
            ReportError::Read(_) => None,
            ReportError::UnknownUser { .. } => {
                Some("name the user by their sign-in name, e.g. --user ana@acme.com".into())
            }
            ReportError::UnknownGroup { .. } => Some("group names are compared without regard to case".into()),
            ReportError::UnknownProject { .. } => Some(
                "give the project's path from the top, e.g. --project Sales/EMEA (`\\/` for a `/` in a name)".into(),
            ),
            ReportError::UnknownItem { .. } => Some(
                "give an address as plan prints it: project:Sales/EMEA, workbook:Sales/EMEA/Revenue, \
                 datasource:Sales/Orders"
                    .into(),
            ),
        }
    }
}
