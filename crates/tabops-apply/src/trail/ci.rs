//! Who ran an apply and why: the CI pipeline run and the pull or merge request, read from the variables the CI
//! system sets, so an auditor can go from a change on the site to the review that approved it.
//!
//! Sources (the providers' own documentation of their predefined variables):
//! - GitHub Actions, "Variables reference" → default environment variables: `GITHUB_ACTIONS` (`true` on Actions),
//!   `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT` (the run's page is
//!   `{server}/{repository}/actions/runs/{id}/attempts/{attempt}`), `GITHUB_ACTOR`, `GITHUB_EVENT_NAME`, `GITHUB_SHA`,
//!   `GITHUB_REF` (`refs/pull/<number>/merge` on `pull_request` events).
//! - GitLab CI/CD, "Predefined CI/CD variables reference": `GITLAB_CI` (`true` on GitLab), `CI_PIPELINE_URL`,
//!   `CI_JOB_URL`, `CI_MERGE_REQUEST_IID` (merge request pipelines), `GITLAB_USER_LOGIN`, `CI_PROJECT_URL`,
//!   `CI_PROJECT_PATH`, `CI_COMMIT_SHA`, `CI_COMMIT_MESSAGE` (the full commit message).
//!
//! The review behind an apply on merge: the pipeline that applies runs on the push to the default branch, which
//! names no pull or merge request. So, when the event does not name one:
//! - GitLab: the merge commit's message, whose default template ("Commit message templates" in GitLab's docs) ends
//!   with `See merge request %{reference}`, `%{reference}` being `group/project!<iid>`; only a reference to this
//!   project (`CI_PROJECT_PATH`) counts.
//! - Either: `TABOPS_PULL_REQUEST`, a number the pipeline looked up itself (the GitHub apply recipe asks
//!   GitHub's "list pull requests associated with a commit" API, which knows every merge method).
//!
//! `review_from` says which of these named the review, so an auditor can weigh it.
//!
//! None of these is a secret (job tokens are separate variables and never read here).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The CI context of this run, or `None` outside GitHub Actions and GitLab CI.
pub fn context(env: &BTreeMap<String, String>) -> Option<Value> {
    let get = |name: &str| env.get(name).map(String::as_str).filter(|value| !value.is_empty());
    let mut fields = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            fields.insert(key.to_owned(), Value::String(value));
        }
    };
    if get("GITHUB_ACTIONS") == Some("true") {
        put("provider", Some("github-actions".to_owned()));
        let run_url = match (get("GITHUB_SERVER_URL"), get("GITHUB_REPOSITORY"), get("GITHUB_RUN_ID")) {
            (Some(server), Some(repository), Some(run)) => {
                let mut url = format!("{}/{repository}/actions/runs/{run}", server.trim_end_matches('/'));
                if let Some(attempt) = get("GITHUB_RUN_ATTEMPT") {
                    url.push_str(&format!("/attempts/{attempt}"));
                }
                Some(url)
            }
            _ => None,
        };
        put("run_url", run_url);
        put("repository", get("GITHUB_REPOSITORY").map(str::to_owned));
        put("actor", get("GITHUB_ACTOR").map(str::to_owned));
        put("event", get("GITHUB_EVENT_NAME").map(str::to_owned));
        put("commit", get("GITHUB_SHA").map(str::to_owned));
        let event = get("GITHUB_REF")
            .and_then(|r| r.strip_prefix("refs/pull/"))
            .and_then(|r| r.strip_suffix("/merge").or_else(|| r.strip_suffix("/head")))
            .filter(|n| is_number(n))
            .map(|n| (n.to_owned(), "event"));
        let pull = event.or_else(|| declared(get("TABOPS_PULL_REQUEST")));
        if let Some((number, from)) = pull {
            let url = match (get("GITHUB_SERVER_URL"), get("GITHUB_REPOSITORY")) {
                (Some(server), Some(repository)) => {
                    Some(format!("{}/{repository}/pull/{number}", server.trim_end_matches('/')))
                }
                _ => None,
            };
            put("pull_request", Some(number));
            put("review_url", url);
            put("review_from", Some(from.to_owned()));
        }
    } else if get("GITLAB_CI") == Some("true") {
        put("provider", Some("gitlab-ci".to_owned()));
        put("run_url", get("CI_PIPELINE_URL").map(str::to_owned));
        put("job_url", get("CI_JOB_URL").map(str::to_owned));
        put("repository", get("CI_PROJECT_URL").map(str::to_owned));
        put("actor", get("GITLAB_USER_LOGIN").map(str::to_owned));
        put("commit", get("CI_COMMIT_SHA").map(str::to_owned));
        let merge_request = get("CI_MERGE_REQUEST_IID")
            .filter(|n| is_number(n))
            .map(|n| (n.to_owned(), "event"))
            .or_else(|| {
                let project = get("CI_PROJECT_PATH")?;
                merge_request_of(get("CI_COMMIT_MESSAGE")?, project).map(|n| (n, "commit message"))
            })
            .or_else(|| declared(get("TABOPS_PULL_REQUEST")));
        if let Some((iid, from)) = merge_request {
            let url = get("CI_PROJECT_URL").map(|p| format!("{}/-/merge_requests/{iid}", p.trim_end_matches('/')));
            put("merge_request", Some(iid));
            put("review_url", url);
            put("review_from", Some(from.to_owned()));
        }
    } else {
        return None;
    }
    Some(Value::Object(fields))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `TABOPS_PULL_REQUEST`, when it is a number (`#42` accepted).
fn declared(value: Option<&str>) -> Option<(String, &'static str)> {
    let number = value?.trim().trim_start_matches('#');
    is_number(number).then(|| (number.to_owned(), "TABOPS_PULL_REQUEST"))
}

/// The merge request iid in a merge commit's `See merge request <project>!<iid>` line, when `<project>` is this
/// project (GitLab's default merge commit template).
fn merge_request_of(message: &str, project: &str) -> Option<String> {
    message.lines().rev().find_map(|line| {
        let reference = line.trim().strip_prefix("See merge request ")?;
        let (path, iid) = reference.rsplit_once('!')?;
        (path.eq_ignore_ascii_case(project) && is_number(iid)).then(|| iid.to_owned())
    })
}

/// The commit-message trailers that name a run's origin, from its `apply_start` record's data (`git`, `ci`).
pub(crate) fn trailers(start: &Value) -> Vec<(&'static str, String)> {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let mut out = Vec::new();
    let mut add = |key: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            // A trailer is one line: a value cannot forge another trailer or end the message.
            out.push((key, value.replace(['\n', '\r'], " ")));
        }
    };
    add("Tabops-Site", start.get("site").and_then(text));
    let git = start.get("git").cloned().unwrap_or(json!(null));
    add("Tabops-Manifest-Commit", git.get("commit").and_then(text));
    add("Tabops-Manifest-Author", git.get("author").and_then(text));
    let ci = start.get("ci").cloned().unwrap_or(json!(null));
    add("Tabops-CI-Run", ci.get("run_url").and_then(text));
    add("Tabops-CI-Job", ci.get("job_url").and_then(text));
    add("Tabops-CI-Actor", ci.get("actor").and_then(text));
    add("Tabops-CI-Event", ci.get("event").and_then(text));
    add("Tabops-Pull-Request", ci.get("pull_request").and_then(text));
    add("Tabops-Merge-Request", ci.get("merge_request").and_then(text));
    add("Tabops-Review", ci.get("review_url").and_then(text));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn github_actions_names_the_run_attempt_and_the_pull_request() {
        let ctx = context(&env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/analytics"),
            ("GITHUB_RUN_ID", "123"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_REF", "refs/pull/42/merge"),
        ]))
        .unwrap();
        assert_eq!(ctx["run_url"], "https://github.com/acme/analytics/actions/runs/123/attempts/2");
        assert_eq!((ctx["actor"].as_str(), ctx["pull_request"].as_str()), (Some("octocat"), Some("42")));
        assert_eq!(
            (ctx["review_url"].as_str(), ctx["review_from"].as_str()),
            (Some("https://github.com/acme/analytics/pull/42"), Some("event"))
        );
        let push = context(&env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_REF", "refs/heads/main")])).unwrap();
        assert!(push.get("pull_request").is_none(), "a push to a branch names no pull request");
    }

    /// The apply on merge runs on the push to main: the pull request is the one the pipeline looked up.
    #[test]
    fn github_push_names_the_pull_request_the_pipeline_looked_up() {
        let base = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/analytics"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_REF", "refs/heads/main"),
        ];
        let with = |value: &str| {
            let mut pairs = base.to_vec();
            pairs.push(("TABOPS_PULL_REQUEST", value));
            context(&env(&pairs)).unwrap()
        };
        let ctx = with("#17");
        assert_eq!(ctx["pull_request"], "17");
        assert_eq!(
            (ctx["review_url"].as_str(), ctx["review_from"].as_str()),
            (Some("https://github.com/acme/analytics/pull/17"), Some("TABOPS_PULL_REQUEST"))
        );
        for junk in ["", "none", "17; rm -rf /", "-1"] {
            assert!(with(junk).get("pull_request").is_none(), "{junk:?} is not a pull request number");
        }
    }

    #[test]
    fn gitlab_ci_names_the_pipeline_job_and_merge_request() {
        let ctx = context(&env(&[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_URL", "https://gitlab.com/acme/analytics/-/pipelines/9"),
            ("CI_JOB_URL", "https://gitlab.com/acme/analytics/-/jobs/77"),
            ("CI_MERGE_REQUEST_IID", "5"),
            ("GITLAB_USER_LOGIN", "alice"),
            ("CI_JOB_TOKEN", "never-read"),
        ]))
        .unwrap();
        assert_eq!(ctx["run_url"], "https://gitlab.com/acme/analytics/-/pipelines/9");
        assert_eq!((ctx["merge_request"].as_str(), ctx["actor"].as_str()), (Some("5"), Some("alice")));
        assert!(!ctx.to_string().contains("never-read"));
        assert!(context(&env(&[("CI", "true")])).is_none(), "other CI systems: no context");
    }

    /// A push pipeline on the default branch after a merge: the merge request is read from the merge commit's
    /// message in GitLab's default template, and only when it references this project.
    #[test]
    fn gitlab_push_after_a_merge_names_the_merge_request_of_the_merge_commit() {
        let message = "Merge branch 'stage-descriptions' into 'main'\n\nDescribe the stages\n\nCloses #3\n\nSee merge request acme/analytics!72\n";
        let push = |message: &str| {
            context(&env(&[
                ("GITLAB_CI", "true"),
                ("CI_PROJECT_URL", "https://gitlab.com/acme/analytics"),
                ("CI_PROJECT_PATH", "acme/analytics"),
                ("CI_COMMIT_MESSAGE", message),
            ]))
            .unwrap()
        };
        let ctx = push(message);
        assert_eq!(ctx["merge_request"], "72");
        assert_eq!(
            (ctx["review_url"].as_str(), ctx["review_from"].as_str()),
            (Some("https://gitlab.com/acme/analytics/-/merge_requests/72"), Some("commit message"))
        );
        assert!(
            push(&message.replace("acme/analytics!72", "other/project!72")).get("merge_request").is_none(),
            "another project's merge request"
        );
        assert!(push("Fix a typo\n").get("merge_request").is_none(), "a direct push names none");
    }

    #[test]
    fn trailers_stay_on_one_line() {
        let start = json!({"site": "acme", "git": {"commit": "abc", "author": "Eve <e@x>\nTabops-Site: forged"}});
        let trailers = trailers(&start);
        assert!(trailers.iter().all(|(_, v)| !v.contains('\n')), "{trailers:?}");
    }
}
